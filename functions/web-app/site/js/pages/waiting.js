// The waiting room: join, then poll as the API asks (Retry-After), showing
// the place in line, the people ahead and the estimated wait; once admitted,
// the pass is kept for the protected resource and the booking page opens.
// The operator's link names the resource: #/waiting-rooms/<room>?venue=&resource=

import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, page, when, statusBadge, busy, announce, fill } from '../ui.js';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The unexpired pass this browser holds for `resourceId`, if any. */
export function passFor(resourceId) {
  try {
    const pass = JSON.parse(sessionStorage.getItem(`pass:${resourceId}`));
    return pass && new Date(pass.expires_at) > new Date() ? pass.token : null;
  } catch { return null; }
}

function keep(resourceId, status) {
  if (resourceId && status.pass_token) {
    sessionStorage.setItem(`pass:${resourceId}`, JSON.stringify({ token: status.pass_token, expires_at: status.pass_expires_at }));
  }
}

export async function room({ room: id }, query, current) {
  const venue = query.get('venue');
  const resource = query.get('resource');
  const path = `/waiting-rooms/${encodeURIComponent(id)}/ticket`;
  const box = h('section', { class: 'card', 'aria-live': 'polite', id: 'waiting-status' });
  const join = h('button', { type: 'button', id: 'join-queue' }, t('wr.enter'));
  let status = await api('GET', path).catch((err) => { if (err.status === 404) return null; throw err; });
  const render = () => {
    if (!status) { fill(box, join); return; }
    const minutes = status.estimated_wait_seconds == null ? t('wr.unknown')
      : t('wr.minutes', { n: Math.max(1, Math.ceil(status.estimated_wait_seconds / 60)) });
    const rows = [
      h('p', {}, statusBadge(status.state, 'wr.state')),
      status.state === 'WAITING' ? h('dl', {},
        h('dt', {}, t('wr.position')), h('dd', { class: 'big', id: 'position' }, status.position ?? '…'),
        h('dt', {}, t('wr.ahead')), h('dd', { id: 'ahead' }, status.ahead ?? '…'),
        h('dt', {}, t('wr.wait')), h('dd', {}, minutes)) : null,
      status.state === 'WAITING' ? h('p', { class: 'hint' }, t('wr.next', { s: status.retry_after_seconds })) : null,
    ];
    if (status.state === 'ADMITTED' && status.pass_token) {
      rows.push(h('p', {}, t('wr.admitted', { time: when(status.pass_expires_at, zone) })));
      if (venue && resource) rows.push(h('a', { class: 'button', id: 'go-book', href: `#/venues/${venue}/resources/${resource}` }, t('wr.go')));
    }
    fill(box, ...rows);
  };
  join.addEventListener('click', () => busy(join, async () => {
    status = await api('POST', path, { body: {} });
    render();
    poll();
  }));
  const poll = async () => {
    while (status && status.state === 'WAITING' && current()) {
      await new Promise((r) => setTimeout(r, Math.max(1, status.retry_after_seconds) * 1000));
      if (!current()) return;
      const was = status.state;
      status = await api('GET', path);
      render();
      if (status.state !== was) announce(t(`wr.state.${status.state}`));
    }
    if (status?.state === 'ADMITTED') keep(resource, status);
  };
  render();
  page(t('wr.title'), box);
  poll();
}
