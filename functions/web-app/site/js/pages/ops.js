// The platform administrator's operations: the dead-letter queues (depth,
// the messages, redrive) and the admin activity log.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, page, when, busy, table, formData, fill } from '../ui.js';
import { go } from '../nav.js';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export async function deadLetters() {
  const { queues } = await api('GET', '/admin/dead-letters');
  const detail = h('div', { id: 'dlq-messages' });
  const rows = Object.entries(queues).map(([queue, depth]) => {
    const show = h('button', { type: 'button', class: 'secondary', disabled: depth === 0 }, t('dlq.show'));
    const redrive = h('button', { type: 'button', disabled: depth === 0, dataset: { queue } }, t('dlq.redrive'));
    show.addEventListener('click', () => busy(show, async () => {
      const { messages } = await api('GET', `/admin/dead-letters/${queue}?limit=20`);
      fill(detail, h('h2', {}, queue), table(['id', 'receives', t('act.when'), 'event'],
        messages.map((m) => [m.message_id, m.receive_count ?? '', m.sent_at ? when(Number(m.sent_at), zone) : '',
          h('code', {}, m.event ? m.event.type : (m.body ?? '').slice(0, 80))])));
    }));
    redrive.addEventListener('click', () => busy(redrive, async () => {
      const answer = await api('POST', `/admin/dead-letters/${queue}/redrive?limit=100`);
      go('/admin/dead-letters', t('dlq.moved', { n: answer.moved, queue }));
    }));
    return [queue, depth, h('div', { class: 'actions' }, show, redrive)];
  });
  const empty = Object.values(queues).every((d) => d === 0);
  page(t('dlq.title'), empty ? h('p', {}, t('dlq.empty')) : null,
    table([t('dlq.queue'), t('dlq.depth'), ''], rows), detail);
}

export async function activity(_params, query) {
  const params = new URLSearchParams({ limit: '50' });
  for (const name of ['actor', 'action']) if (query.get(name)) params.set(name, query.get(name));
  const answer = await api('GET', `/admin/activity?${params}`);
  const submit = h('button', { type: 'submit' }, t('act.filter'));
  const form = h('form', { class: 'row card', onsubmit: (e) => {
    e.preventDefault();
    const d = Object.fromEntries(Object.entries(formData(form)).filter(([, v]) => v));
    go(`/admin/activity?${new URLSearchParams(d)}`);
  } },
  h('div', { class: 'field' }, h('label', { for: 'act-actor' }, t('act.actor')),
    h('input', { id: 'act-actor', name: 'actor', value: query.get('actor') ?? '' })),
  h('div', { class: 'field' }, h('label', { for: 'act-action' }, t('act.action')),
    h('input', { id: 'act-action', name: 'action', value: query.get('action') ?? '' })),
  h('div', { class: 'field' }, submit));
  const details = (entry) => {
    const rest = Object.entries(entry).filter(([k]) => !['event_id', 'occurred_at', 'actor', 'action'].includes(k));
    return h('ul', { class: 'plain' }, rest.map(([k, v]) => h('li', {}, `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)));
  };
  const entries = answer.items;
  page(t('act.title'), form, entries.length === 0 ? h('p', {}, t('act.empty')) :
    table([t('act.when'), t('act.actor'), t('act.action'), t('act.details')],
      entries.map((e) => [when(e.occurred_at, zone), e.actor, h('code', {}, e.action), details(e)])));
}
