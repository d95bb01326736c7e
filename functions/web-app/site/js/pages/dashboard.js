// The operator's dashboard of one venue: today, the last 7 and 30 days and
// the next 7 from GET /admin/venues/{id}/dashboard, bookings and revenue per
// day from .../stats, the weekday x hour heat map, the busiest and emptiest slots.

import { api } from '../api.js';
import { t, lang } from '../i18n.js';
import { h, page, money, when, day, table } from '../ui.js';
import { bars, heatMap } from '../charts.js';
import { go } from '../nav.js';
import { currentUser } from '../user.js';

/** How many pages of venues the picker reads (100 each). */
const PICKER_PAGES = 20;

/**
 * The venues the caller operates (every one for the administrator, else
 * their companies'), for the picker, and the one chosen: `chosen` when it is
 * one of them (read directly, so it need not be among the pages read),
 * else the first.
 */
export async function operatedVenues(chosen) {
  const me = await currentUser();
  const mine = new Set((me?.companies ?? []).map((c) => c.company_id));
  const operated = (v) => me?.role === 'ADMIN' || mine.has(v.company_id);
  const venues = [];
  let cursor = null;
  for (let page = 0; page < PICKER_PAGES; page += 1) {
    const answer = await api('GET', `/venues?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { auth: false });
    venues.push(...answer.venues.filter(operated));
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  let venue = venues.find((v) => v.id === chosen);
  if (!venue && chosen) {
    const found = await api('GET', `/venues/${encodeURIComponent(chosen)}/resources?limit=1`, { auth: false }).catch(() => null);
    if (found && operated(found.venue)) { venue = found.venue; venues.unshift(venue); }
  }
  return { venues, venue: venue ?? venues[0] };
}

export function venuePicker(venues, chosen, to) {
  const select = h('select', { id: 'venue-picker', onchange: () => go(`${to}?venue=${select.value}`) },
    venues.map((v) => h('option', { value: v.id, selected: v.id === chosen }, v.name)));
  return h('div', { class: 'field' }, h('label', { for: 'venue-picker' }, t('admin.venue')), select);
}

const percent = (x) => (x === null || x === undefined ? '–'
  : new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: 0 }).format(x));

function net(figures) {
  return Object.entries(figures.revenue).map(([currency, m]) => money(m.net_cents, currency)).join(' · ') || money(0);
}

function figureCard(title, f) {
  return h('section', { class: 'figure', 'aria-label': title },
    h('h2', {}, title),
    h('p', {}, t('admin.bookings'), h('strong', { dataset: { figure: 'created' } }, f.bookings.created)),
    h('p', {}, t('admin.places'), h('strong', {}, f.places_sold)),
    h('p', {}, t('admin.occupancy'), h('strong', {}, percent(f.occupancy))),
    h('p', {}, t('admin.revenue'), h('strong', {}, net(f))));
}

function weekdayNames() {
  // 2024-01-01 was a Monday.
  return Array.from({ length: 7 }, (_, i) => new Intl.DateTimeFormat(lang(), { weekday: 'short', timeZone: 'UTC' })
    .format(new Date(Date.UTC(2024, 0, 1 + i))));
}

function slotsTable(list, zone) {
  return table([t('admin.slot'), t('admin.places'), t('admin.occupancy')],
    list.map((s) => [when(s.starts_at, zone), `${s.places_sold} / ${s.places_offered}`, percent(s.occupancy)]));
}

export async function show(_params, query) {
  const { venues, venue } = await operatedVenues(query.get('venue'));
  if (!venue) { page(t('admin.title'), h('p', {}, t('venues.empty'))); return; }
  const zone = venue.time_zone;
  // The charts cover the dashboard's own window: the last 30 days and the next 7.
  const board = await api('GET', `/admin/venues/${venue.id}/dashboard`);
  const stats = await api('GET', `/admin/venues/${venue.id}/stats?from=${board.window_from}&to=${board.window_to}&by=day`);
  const currency = Object.keys(stats.total.revenue)[0] ?? 'EUR';
  page(`${t('admin.title')} · ${venue.name}`,
    venuePicker(venues, venue.id, '/admin'),
    h('p', { class: 'hint' }, t('day.times', { zone })),
    h('div', { class: 'figures', id: 'figures' },
      figureCard(t('admin.today'), board.today_figures),
      figureCard(t('admin.last7'), board.last_7_days),
      figureCard(t('admin.last30'), board.last_30_days),
      figureCard(t('admin.next7'), board.next_7_days)),
    bars(t('admin.per_day'), stats.rows.map((r) => ({ label: day(r.start), value: r.bookings.created, text: String(r.bookings.created) }))),
    bars(t('admin.revenue_per_day'), stats.rows.map((r) => {
      const cents = r.revenue[currency]?.net_cents ?? 0;
      return { label: day(r.start), value: Math.max(0, cents), text: money(cents, currency) };
    })),
    heatMap(t('admin.heat'), board.occupancy_matrix, weekdayNames(), percent),
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', {}, t('admin.busiest')), slotsTable(board.busiest_slots, zone)),
      h('section', { class: 'card' }, h('h2', {}, t('admin.emptiest')), slotsTable(board.emptiest_slots, zone))));
}
