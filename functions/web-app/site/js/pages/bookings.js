// The customer's bookings: the list with its filter and pages, and one
// booking, watched from PENDING to CONFIRMED or FAILED without a reload,
// with its history and a cancel that shows the refund before it is asked.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, page, money, when, statusBadge, busy, table, announce, showOk, fill } from '../ui.js';
import { go } from '../nav.js';

const STATUSES = ['PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED', 'FAILED'];

export async function list(_params, query) {
  const status = query.get('status') ?? '';
  const filter = h('select', { id: 'status-filter', onchange: () => go(`/bookings${filter.value ? `?status=${filter.value}` : ''}`) },
    h('option', { value: '' }, t('bookings.all')),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, t(`status.${s}`))));
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  let cursor = null;
  const load = async () => {
    const params = new URLSearchParams({ limit: '20' });
    if (status) params.set('status', status);
    if (cursor) params.set('cursor', cursor);
    const answer = await api('GET', `/bookings?${params}`);
    for (const b of answer.bookings) {
      body.append(h('tr', { dataset: { booking: b.id } },
        h('td', {}, h('a', { href: `#/bookings/${b.id}` }, b.number)),
        h('td', {}, when(b.starts_at, b.time_zone)),
        h('td', {}, b.quantity),
        h('td', {}, money(b.price_cents, b.currency)),
        h('td', {}, statusBadge(b.status))));
    }
    cursor = answer.next_cursor;
    more.hidden = !cursor;
    return answer.bookings.length;
  };
  more.addEventListener('click', () => busy(more, load));
  const shown = await load();
  page(t('bookings.title'),
    h('div', { class: 'field' }, h('label', { for: 'status-filter' }, t('bookings.filter')), filter),
    shown === 0 && !cursor ? h('p', {}, t('bookings.empty')) : h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('bookings.title') }, h('table', {},
      h('thead', {}, h('tr', {}, ['#', t('booking.when'), t('booking.places'), t('booking.price'), t('booking.status')]
        .map((x) => h('th', { scope: 'col' }, x)))),
      body)),
    more);
}

/** The reason the saga gave for the booking's last change of status. */
function lastReason(history, status) {
  const entry = [...history].reverse().find((e) => e.to === status && e.from !== status);
  return entry?.reason;
}

export async function detail({ booking: id }, _query, current) {
  let booking = await api('GET', `/bookings/${encodeURIComponent(id)}`);
  let { history } = await api('GET', `/bookings/${encodeURIComponent(id)}/history`);
  const status = h('p', { id: 'booking-status', 'aria-live': 'polite' });
  const details = h('dl');
  const historyBox = h('div');
  const actions = h('div', { class: 'actions' });
  const render = () => {
    const z = booking.time_zone;
    const reason = ['FAILED', 'EXPIRED', 'CANCELLED'].includes(booking.status) ? lastReason(history, booking.status) : null;
    fill(status, statusBadge(booking.status),
      booking.status === 'PENDING' ? [' ', t('booking.hold', { time: when(booking.hold_expires_at, z) }),
        booking.payment ? [' · ', t('booking.watching')] : null] : null,
      reason ? h('span', { class: 'reason' }, ' ', t('booking.failed_reason', { reason })) : null);
    fill(details, 
      h('dt', {}, t('booking.when')), h('dd', {}, when(booking.starts_at, z), ' ', h('span', { class: 'hint' }, `(${z})`)),
      h('dt', {}, t('booking.places')), h('dd', {}, booking.quantity),
      booking.seats ? [h('dt', {}, t('booking.seats')), h('dd', {}, booking.seats.map((s) => s.seat_id).join(', '))] : null,
      h('dt', {}, t('booking.price')), h('dd', {}, money(booking.price_cents, booking.currency)),
      booking.payment ? [h('dt', {}, t('booking.paid_with')), h('dd', {}, t(`pay.${booking.payment.toLowerCase()}`))] : null);
    fill(historyBox, table([t('act.when'), t('booking.status'), t('act.details')],
      history.map((e) => [when(e.at, z), e.from && e.from !== e.to ? `${t(`status.${e.from}`)} → ${t(`status.${e.to}`)}` : t(`status.${e.to}`), e.reason])));
    fill(actions, booking.cancellation
      ? h('button', { type: 'button', class: 'danger', id: 'cancel-booking', onclick: () => confirmCancel() }, t('booking.cancel'))
      : '');
  };
  const confirmCancel = () => {
    const quote = booking.cancellation;
    const yes = h('button', { type: 'button', class: 'danger', id: 'confirm-cancel' }, t('booking.confirm_cancel'));
    const no = h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, t('booking.keep'));
    const dialog = h('dialog', { 'aria-labelledby': 'cancel-title', id: 'cancel-dialog' },
      h('h2', { id: 'cancel-title' }, t('booking.cancel_title')),
      h('p', { id: 'refund-quote' }, booking.payment
        ? t('booking.refund', { amount: money(quote.refund_cents, booking.currency), percent: quote.refund_percent, policy: quote.policy })
        : t('booking.no_refund_due')),
      h('div', { class: 'actions' }, yes, no));
    yes.addEventListener('click', () => busy(yes, async () => {
      booking = await api('POST', `/bookings/${booking.id}/cancel`);
      dialog.close();
      await reload();
      showOk(t('booking.cancelled'));
    }).finally(() => { if (dialog.open) dialog.close(); }));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  };
  const reload = async () => {
    booking = await api('GET', `/bookings/${encodeURIComponent(id)}`);
    ({ history } = await api('GET', `/bookings/${encodeURIComponent(id)}/history`));
    render();
  };
  render();
  page(t('booking.title', { number: booking.number }), status, details, actions,
    h('h2', {}, t('booking.history')), historyBox);
  // A paid hold is settled by the payment saga within seconds: watch it.
  const started = Date.now();
  while (booking.status === 'PENDING' && booking.payment && current() && Date.now() - started < 120_000) {
    await new Promise((r) => setTimeout(r, 1000));
    if (!current()) return;
    const was = booking.status;
    await reload();
    if (booking.status !== was) announce(t('booking.now', { status: t(`status.${booking.status}`) }));
  }
}
