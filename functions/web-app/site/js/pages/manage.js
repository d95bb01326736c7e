// Catalog management for operators: venues (create, close, reopen), their
// resources (create, close, reopen), slot generation with a preview of what
// will be created (the API's dry run), a seat map for a slot, and closing
// or reopening single slots.

import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, field, page, money, busy, table, formData, showOk, todayAt, fill } from '../ui.js';
import { go } from '../nav.js';
import { operatedVenues, venuePicker } from './dashboard.js';

const VENUE_KINDS = ['GOLF_CLUB', 'CONCERT_HALL', 'COWORKING', 'OTHER'];
const RESOURCE_KINDS = ['COURSE', 'PERFORMANCE', 'ROOM'];

const options = (values, label) => values.map((v) => h('option', { value: v }, label(v)));

function statusToggle(status, patch) {
  const closing = status !== 'CLOSED';
  const button = h('button', { type: 'button', class: 'secondary' }, closing ? t('cat.close') : t('cat.reopen'));
  button.addEventListener('click', () => busy(button, async () => {
    await patch(closing ? 'CLOSED' : 'OPEN');
    go(location.hash.slice(1), t('cat.changed'));
  }));
  return button;
}

async function newVenueForm() {
  const { companies } = await api('GET', '/admin/companies');
  if (companies.length === 0) return null;
  const submit = h('button', { type: 'submit' }, t('cat.create'));
  const form = h('form', { class: 'card', id: 'new-venue', onsubmit: (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const created = await api('POST', '/admin/venues', { body: formData(form) });
      go(`/admin/catalog?venue=${created.id}`, t('cat.changed'));
    });
  } },
  h('h2', {}, t('cat.new_venue')),
  field(t('cat.company'), 'select', { name: 'company_id' }, null, companies.map((c) => h('option', { value: c.id }, c.name))),
  field(t('auth.name'), 'input', { name: 'name', required: true }),
  field(t('cat.kind'), 'select', { name: 'kind' }, null, options(VENUE_KINDS, (k) => t(`kind.${k}`))),
  field(t('cat.city'), 'input', { name: 'city', required: true }),
  field(t('cat.zone'), 'input', { name: 'time_zone', required: true, value: Intl.DateTimeFormat().resolvedOptions().timeZone }),
  submit);
  return form;
}

function newResourceForm(venue) {
  const kind = h('select', { name: 'kind', id: 'new-resource-kind' }, options(RESOURCE_KINDS, (k) => t(`kind.${k}`)));
  const room = h('div', { hidden: true },
    field(t('cat.unit'), 'select', { name: 'unit_minutes' }, null, [5, 10, 15, 20, 30, 60].map((m) => h('option', { value: m, selected: m === 30 }, m))),
    field(t('cat.opens'), 'input', { name: 'opens', type: 'time', value: '08:00' }),
    field(t('cat.closes'), 'input', { name: 'closes', type: 'time', value: '20:00' }),
    field(t('cat.unit_price'), 'input', { name: 'unit_price_cents', type: 'number', min: '0', value: '1500' }));
  kind.addEventListener('change', () => { room.hidden = kind.value !== 'ROOM'; });
  const submit = h('button', { type: 'submit' }, t('cat.create'));
  const form = h('form', { class: 'card', id: 'new-resource', onsubmit: (e) => {
    e.preventDefault();
    const data = formData(form);
    const body = { name: data.name, kind: data.kind };
    if (data.kind === 'ROOM') {
      body.range = { unit_minutes: Number(data.unit_minutes), opens: data.opens, closes: data.closes,
        unit_price_cents: Number(data.unit_price_cents) };
    }
    busy(submit, async () => {
      await api('POST', `/admin/venues/${venue.id}/resources`, { body });
      go(location.hash.slice(1), t('cat.changed'));
    });
  } },
  h('h2', {}, t('cat.new_resource')),
  field(t('auth.name'), 'input', { name: 'name', required: true }),
  h('div', { class: 'field' }, h('label', { for: kind.id }, t('cat.kind')), kind),
  room, submit);
  return form;
}

function generateForm(venue, resources) {
  const zone = venue.time_zone;
  const preview = h('div', { id: 'preview', 'aria-live': 'polite' });
  const previewButton = h('button', { type: 'button', class: 'secondary', id: 'preview-slots' }, t('cat.preview'));
  const create = h('button', { type: 'submit', id: 'generate-slots', disabled: true }, t('cat.generate'));
  const form = h('form', { class: 'card', id: 'generate' },
    h('h2', {}, t('cat.generate')),
    field(t('cat.kind'), 'select', { name: 'resource' }, null,
      resources.filter((r) => r.kind !== 'ROOM').map((r) => h('option', { value: r.id }, r.name))),
    h('div', { class: 'row' },
      field(t('cat.from'), 'input', { name: 'from', type: 'date', required: true, value: todayAt(zone, 1) }),
      field(t('cat.to'), 'input', { name: 'to', type: 'date', required: true, value: todayAt(zone, 7) })),
    field(t('cat.start_times'), 'input', { name: 'start_times', required: true, value: '08:00, 08:10, 08:20' }),
    h('div', { class: 'row' },
      field(t('cat.duration'), 'input', { name: 'duration_minutes', type: 'number', min: '1', value: '10' }),
      field(t('cat.capacity'), 'input', { name: 'capacity', type: 'number', min: '1', value: '4' })),
    h('div', { class: 'row' },
      field(t('cat.weekday_price'), 'input', { name: 'weekday', type: 'number', min: '0', value: '6000' }),
      field(t('cat.weekend_price'), 'input', { name: 'weekend', type: 'number', min: '0', value: '8000' })),
    h('div', { class: 'actions' }, previewButton, create), preview);
  const request = () => {
    const d = formData(form);
    return { resource: d.resource, body: {
      from: d.from, to: d.to, start_times: d.start_times.split(',').map((x) => x.trim()).filter(Boolean),
      duration_minutes: Number(d.duration_minutes), capacity: Number(d.capacity),
      prices: { weekday: Number(d.weekday), weekend: Number(d.weekend), holiday: Number(d.weekend) },
    } };
  };
  // A change after the preview needs a new preview before creating.
  form.addEventListener('input', () => { create.disabled = true; });
  previewButton.addEventListener('click', () => busy(previewButton, async () => {
    const { resource, body } = request();
    const answer = await api('POST', `/admin/resources/${resource}/slots/generate?dry_run=true`, { body });
    fill(preview, 
      h('p', { id: 'preview-summary' }, t('cat.preview_result', answer)),
      table([t('admin.day'), t('admin.slot'), t('cat.capacity'), t('booking.price'), t('cat.status')],
        answer.slots.slice(0, 50).map((s) => [s.date, `${s.start}–${s.end}`, s.capacity, money(s.unit_price_cents),
          s.exists ? t('cat.exists') : t('cat.new')])));
    create.disabled = false;
  }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(create, async () => {
      const { resource, body } = request();
      const answer = await api('POST', `/admin/resources/${resource}/slots/generate`, { body });
      fill(preview, h('p', { id: 'generated' }, t('cat.generated', answer)));
      create.disabled = true;
    });
  });
  return form;
}

function seatMapForm(venue, resources) {
  const zone = venue.time_zone;
  const slot = h('select', { name: 'slot', id: 'seat-slot', required: true });
  const date = h('input', { type: 'date', id: 'seat-date', value: todayAt(zone, 1) });
  const resource = h('select', { id: 'seat-resource' },
    resources.filter((r) => r.kind === 'PERFORMANCE').map((r) => h('option', { value: r.id }, r.name)));
  const loadSlots = async () => {
    if (!resource.value) return;
    const slotsOfTheDay = await api('GET', `/resources/${resource.value}/availability?date=${date.value}`, { auth: false });
    fill(slot, ...slotsOfTheDay.slots.map((s) => h('option', { value: s.slot_id }, `${s.start} (${s.capacity})`)));
  };
  date.addEventListener('change', loadSlots);
  resource.addEventListener('change', loadSlots);
  const submit = h('button', { type: 'submit', id: 'save-seats' }, t('cat.save_seats'));
  const form = h('form', { class: 'card', id: 'seat-map', onsubmit: (e) => {
    e.preventDefault();
    const d = formData(form);
    const [first, last] = d.rows.toUpperCase().split('-').map((x) => x.trim().charCodeAt(0));
    const tiers = {};
    const seats = [];
    for (let c = first; c <= (last || first); c += 1) {
      const row = String.fromCharCode(c);
      tiers[row] = Number(d.price);
      for (let n = 1; n <= Number(d.per_row); n += 1) seats.push({ id: `${row}-${n}`, section: 'Stalls', tier: row });
    }
    busy(submit, async () => {
      await api('PUT', `/admin/slots/${encodeURIComponent(slot.value)}/seats`, { body: { tiers, seats } });
      showOk(t('cat.seats_saved', { n: seats.length }));
    });
  } },
  h('h2', {}, t('cat.seatmap')),
  h('div', { class: 'row' },
    h('div', { class: 'field' }, h('label', { for: resource.id }, t('kind.PERFORMANCE')), resource),
    h('div', { class: 'field' }, h('label', { for: date.id }, t('day.date')), date),
    h('div', { class: 'field' }, h('label', { for: slot.id }, t('cat.slot_id')), slot)),
  h('div', { class: 'row' },
    field(t('cat.rows'), 'input', { name: 'rows', value: 'A-C', required: true }),
    field(t('cat.per_row'), 'input', { name: 'per_row', type: 'number', min: '1', max: '60', value: '10' }),
    field(t('cat.tier_price'), 'input', { name: 'price', type: 'number', min: '0', value: '9000' })),
  submit);
  loadSlots();
  return form;
}

async function slotsOfDay(resource, zone) {
  const date = todayAt(zone, 1);
  const day = await api('GET', `/resources/${resource.id}/availability?date=${date}`, { auth: false });
  return day.slots.map((s) => [s.start, `${s.capacity - s.remaining} / ${s.capacity}`, s.availability,
    // A slot reopens as AVAILABLE, the API's name for an open slot.
    statusToggle(s.availability === 'CLOSED' ? 'CLOSED' : 'OPEN', (status) => api('PATCH',
      `/admin/slots/${encodeURIComponent(s.slot_id)}`, { body: { status: status === 'OPEN' ? 'AVAILABLE' : status } }))]);
}

export async function show(_params, query) {
  const { venues, venue } = await operatedVenues(query.get('venue'));
  const newVenue = await newVenueForm();
  if (!venue) { page(t('cat.title'), newVenue ?? h('p', {}, t('venues.empty'))); return; }
  const { resources } = await api('GET', `/venues/${venue.id}/resources?limit=100`, { auth: false });
  const resourceRows = await Promise.all(resources.map(async (r) => h('section', { class: 'card', dataset: { resource: r.id } },
    h('h3', {}, r.name, ' · ', t(`kind.${r.kind}`), ' · ', r.status),
    statusToggle(r.status, (status) => api('PATCH', `/admin/resources/${r.id}`, { body: { status } })),
    r.kind === 'ROOM' ? null : table([t('admin.slot'), t('admin.places'), t('cat.status'), ''], await slotsOfDay(r, venue.time_zone)))));
  page(`${t('cat.title')} · ${venue.name}`,
    venuePicker(venues, venue.id, '/admin/catalog'),
    h('p', {}, `${venue.city} · ${venue.time_zone} · ${venue.status} `,
      statusToggle(venue.status, (status) => api('PATCH', `/admin/venues/${venue.id}`, { body: { status } }))),
    h('h2', {}, t('venue.resources')), resourceRows,
    generateForm(venue, resources),
    resources.some((r) => r.kind === 'PERFORMANCE') ? seatMapForm(venue, resources) : null,
    newResourceForm(venue),
    newVenue);
}
