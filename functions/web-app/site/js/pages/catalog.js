// Browsing and booking: venues, a venue's resources, a day of a resource
// (tee times and performances with their places and prices, a room's free
// ranges), a seat map, and the booking form (wallet, card, or a hold).

import { api, session, idempotencyKey } from '../api.js';
import { t } from '../i18n.js';
import { h, field, page, money, day as dayName, todayAt, statusBadge, busy, showError } from '../ui.js';
import { go } from '../nav.js';
import { passFor } from './waiting.js';

export async function venues() {
  const list = h('ul', { class: 'grid', role: 'list', id: 'venue-list' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, id: 'more-venues' }, t('more'));
  let cursor = null;
  const load = async () => {
    const answer = await api('GET', `/venues?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { auth: false });
    list.append(...answer.venues.map((v) => h('li', { class: 'card' },
      h('h2', {}, h('a', { href: `#/venues/${v.id}` }, v.name)),
      h('p', {}, t(`kind.${v.kind}`), ' · ', v.city, ' · ', v.time_zone),
      v.status === 'CLOSED' ? statusBadge('CLOSED', 'avail') : null)));
    cursor = answer.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', () => busy(more, load));
  await load();
  page(t('venues.title'), list.children.length ? list : h('p', {}, t('venues.empty')), more);
}

async function venueAndResources(id) {
  return api('GET', `/venues/${encodeURIComponent(id)}/resources?limit=100`, { auth: false });
}

export async function venue({ venue: id }) {
  const { venue: v, resources } = await venueAndResources(id);
  page(v.name,
    h('p', {}, t(`kind.${v.kind}`), ' · ', v.city, ' · ', v.time_zone),
    h('h2', {}, t('venue.resources')),
    h('ul', { class: 'grid', role: 'list' }, resources.map((r) => h('li', { class: 'card' },
      h('h3', {}, h('a', { href: `#/venues/${v.id}/resources/${r.id}` }, r.name)),
      h('p', {}, t(`kind.${r.kind}`), r.status === 'CLOSED' ? [' · ', statusBadge('CLOSED', 'avail')] : null)))));
}

/** The resource and its venue, for a page under `/venues/:venue/...`. */
async function resourceIn(venueId, resourceId) {
  const { venue: v, resources } = await venueAndResources(venueId);
  const r = resources.find((x) => x.id === resourceId);
  if (!r) throw Object.assign(new Error(t('err.generic', { status: 404 })), { status: 404 });
  return { v, r };
}

function datePicker(date, zone, onPick) {
  const input = h('input', { type: 'date', name: 'date', value: date, min: todayAt(zone), required: true });
  const form = h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); onPick(input.value); } },
    h('div', { class: 'field' }, h('label', { for: 'day-date' }, t('day.date')), Object.assign(input, { id: 'day-date' })),
    h('div', { class: 'field' }, h('button', { type: 'submit' }, t('day.show'))));
  return form;
}

export async function day({ venue: venueId, resource: resourceId }, query) {
  const { v, r } = await resourceIn(venueId, resourceId);
  const date = query.get('date') || todayAt(v.time_zone, 1);
  const here = `/venues/${v.id}/resources/${r.id}`;
  const picker = datePicker(date, v.time_zone, (d) => go(`${here}?date=${d}`));
  const zoneNote = h('p', { class: 'hint' }, t('day.times', { zone: v.time_zone }));
  if (r.kind === 'ROOM') {
    const free = await api('GET', `/resources/${r.id}/free-ranges?date=${date}`, { auth: false });
    page(`${r.name} · ${dayName(date)}`, picker, zoneNote, rangeForm(v, r, date, free));
    return;
  }
  const answer = await api('GET', `/resources/${r.id}/availability?date=${date}`, { auth: false });
  const slots = answer.slots.length === 0
    ? h('p', {}, t('day.none'))
    : h('ul', { class: 'slots', role: 'list', 'aria-label': dayName(date) }, answer.slots.map((s) => slotCard(v, r, s)));
  page(`${r.name} · ${dayName(date)}`, picker, zoneNote, slots);
}

function slotCard(v, r, s) {
  const open = s.availability === 'AVAILABLE';
  const label = `${s.start}–${s.end}`;
  const item = h('li', { dataset: { slot: s.slot_id } },
    h('p', {}, h('strong', { class: 'big' }, s.start), ' – ', s.end, s.premium ? [' · ', t('slot.premium')] : null),
    h('p', {}, money(s.unit_price_cents), ' · ', t('slot.left', { n: s.remaining, c: s.capacity }), ' ',
      statusBadge(s.availability, 'avail')));
  if (!open) return item;
  if (r.kind === 'PERFORMANCE') {
    item.append(h('a', { class: 'button', href: `#/venues/${v.id}/slots/${encodeURIComponent(s.slot_id)}/seats`,
      'aria-label': `${t('slot.seats')} ${label}` }, t('slot.seats')));
    return item;
  }
  const quantity = h('select', { name: 'quantity', id: `q-${s.slot_id}` },
    Array.from({ length: Math.min(10, s.remaining) }, (_, i) => h('option', { value: i + 1 }, i + 1)));
  const book = h('button', { type: 'button', 'aria-label': `${t('slot.book')} ${label}`, onclick: () =>
    checkout(v, r, { kind: 'counted', slot_id: s.slot_id, quantity: Number(quantity.value) },
      s.unit_price_cents * Number(quantity.value)) }, t('slot.book'));
  item.append(h('div', { class: 'row' },
    h('div', { class: 'field' }, h('label', { for: quantity.id }, t('slot.quantity')), quantity), book));
  return item;
}

function rangeForm(v, r, date, free) {
  if (free.free.length === 0) return h('p', {}, t('range.none'));
  const starts = [];
  const ends = [];
  const minutes = (hhmm) => { const [a, b] = hhmm.split(':').map(Number); return a * 60 + b; };
  const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  for (const f of free.free) {
    for (let m = minutes(f.start); m < minutes(f.end); m += free.unit_minutes) starts.push(hhmm(m));
    for (let m = minutes(f.start) + free.unit_minutes; m <= minutes(f.end); m += free.unit_minutes) ends.push(hhmm(m));
  }
  const start = h('select', { name: 'start', id: 'range-start' }, starts.map((s) => h('option', { value: s }, s)));
  const end = h('select', { name: 'end', id: 'range-end' }, ends.map((s) => h('option', { value: s }, s)));
  const within = () => free.free.some((f) => minutes(f.start) <= minutes(start.value) && minutes(end.value) <= minutes(f.end)
    && minutes(start.value) < minutes(end.value));
  const price = () => ((minutes(end.value) - minutes(start.value)) / free.unit_minutes) * free.unit_price_cents;
  const total = h('p', { 'aria-live': 'polite' });
  const update = () => { total.textContent = within() ? t('pay.total', { price: money(price()) }) : '—'; };
  start.addEventListener('change', () => {
    const next = ends.find((e) => minutes(e) > minutes(start.value));
    if (next && minutes(end.value) <= minutes(start.value)) end.value = next;
    update();
  });
  end.addEventListener('change', update);
  end.value = ends.find((e) => minutes(e) > minutes(starts[0])) ?? ends[0];
  update();
  const book = h('button', { type: 'button', onclick: () => {
    if (!within()) { showError(new Error(`${start.value}–${end.value}`)); return; }
    checkout(v, r, { kind: 'range', resource_id: r.id, date, start: start.value, end: end.value }, price());
  } }, t('range.book'));
  return h('section', { class: 'card', 'aria-labelledby': 'free-title' },
    h('h2', { id: 'free-title' }, t('range.free')),
    h('ul', {}, free.free.map((f) => h('li', {}, `${f.start}–${f.end}`))),
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: start.id }, t('range.start')), start),
      h('div', { class: 'field' }, h('label', { for: end.id }, t('range.end')), end)),
    total, book);
}

export async function seats({ venue: venueId, slot: slotId }) {
  const [map, { venue: v, resources }] = await Promise.all([
    api('GET', `/slots/${encodeURIComponent(slotId)}/seats`, { auth: false }),
    venueAndResources(venueId),
  ]);
  const r = resources.find((x) => slotId.startsWith(x.id)) ?? { name: '' };
  const chosen = new Map();
  const summary = h('p', { 'aria-live': 'polite', id: 'seat-summary' }, t('seats.none'));
  const book = h('button', { type: 'button', disabled: true, id: 'book-seats' }, t('seats.book', { n: 0 }));
  const refresh = () => {
    const ids = [...chosen.keys()];
    const price = money([...chosen.values()].reduce((sum, s) => sum + s.price_cents, 0));
    summary.textContent = ids.length ? t('seats.selected', { list: ids.join(', '), price }) : t('seats.none');
    book.textContent = t('seats.book', { n: ids.length });
    book.disabled = ids.length === 0;
  };
  const bySection = new Map();
  for (const seat of map.seats) {
    const key = `${seat.section} · ${seat.tier} · ${money(seat.price_cents)}`;
    if (!bySection.has(key)) bySection.set(key, []);
    bySection.get(key).push(seat);
  }
  const rows = [...bySection.entries()].map(([name, list]) => h('fieldset', { class: 'seatrow' },
    h('legend', {}, name),
    list.map((seat) => {
      const taken = seat.status !== 'AVAILABLE';
      const button = h('button', {
        type: 'button', class: 'seat', 'aria-pressed': 'false', disabled: taken, dataset: { seat: seat.seat_id },
        'aria-label': taken ? `${seat.seat_id} (${t('seats.taken')})` : `${seat.seat_id}, ${money(seat.price_cents)}`,
        onclick: () => {
          if (chosen.has(seat.seat_id)) chosen.delete(seat.seat_id);
          else if (chosen.size < 10) chosen.set(seat.seat_id, seat);
          button.setAttribute('aria-pressed', String(chosen.has(seat.seat_id)));
          refresh();
        },
      }, seat.seat_id);
      return button;
    })));
  book.addEventListener('click', () => {
    const total = [...chosen.values()].reduce((sum, s) => sum + s.price_cents, 0);
    checkout(v, r, { kind: 'seated', slot_id: slotId, seat_ids: [...chosen.keys()] }, total);
  });
  const [, date, time] = slotId.match(/@(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/) ?? [];
  page(`${t('seats.title')} · ${r.name}`,
    h('p', {}, dayName(date), ' ', time, ' · ', h('span', { class: 'hint' }, t('day.times', { zone: v.time_zone }))),
    h('p', { class: 'hint' }, t('seats.legend')),
    h('div', { class: 'seatmap', role: 'group', 'aria-label': t('seats.title') }, rows),
    summary, book);
}

/** The booking form: the way to pay, then `POST /bookings` and the booking's own page. */
function checkout(v, r, request, priceCents) {
  if (!session()) { go(`/login?next=${encodeURIComponent(location.hash.slice(1))}`); return; }
  const method = h('fieldset', {},
    h('legend', {}, t('pay.title')),
    ['wallet', 'card', 'later'].map((m, i) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'method', value: m, checked: i === 0 }), ' ', t(`pay.${m}`))));
  const card = field(t('pay.card_token'), 'input', { name: 'card_token', value: 'tok_visa', autocomplete: 'off' }, t('pay.card_hint'));
  const confirm = h('button', { type: 'submit', id: 'confirm-booking' }, t('pay.confirm'));
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, t('booking.keep'));
  const key = idempotencyKey();
  const form = h('form', { method: 'dialog', onsubmit: (e) => {
    e.preventDefault();
    const chosen = form.querySelector('input[name=method]:checked').value;
    const body = { ...request };
    if (chosen === 'wallet') body.payment = { method: 'wallet' };
    if (chosen === 'card') body.payment = { method: 'card', card_token: form.card_token.value.trim() };
    const headers = { 'idempotency-key': key };
    const pass = passFor(r.id);
    if (pass) headers['x-pass-token'] = pass;
    // An error is shown on the page under the dialog, so the dialog closes
    // either way; the same idempotency key makes a second try safe.
    busy(confirm, async () => {
      const booking = await api('POST', '/bookings', { body, headers });
      go(`/bookings/${booking.id}`);
    }).finally(() => dialog.close());
  } },
  h('h2', { id: 'checkout-title' }, `${r.name} · ${v.name}`),
  h('p', {}, t('pay.total', { price: money(priceCents) })),
  method, card, h('div', { class: 'actions' }, confirm, cancel));
  const dialog = h('dialog', { 'aria-labelledby': 'checkout-title', id: 'checkout' }, form);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

