// Small DOM helpers: elements from data (never HTML strings, so nothing the
// API returns can inject markup), formatting in the venue's time zone and
// the user's language, and the page's error and status messages.

import { t, lang } from './i18n.js';

/** An element: `h('button', { onclick, class: 'x' }, 'text', child)`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces `el`'s children, skipping empty ones and flattening lists as `h` does. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false)
    .map((c) => (c instanceof Node ? c : String(c))));
  return el;
}

let fieldIds = 0;

/** A labelled input: `field(label, 'input', { name, type })`, with an optional hint. */
export function field(label, tag, attrs = {}, hint, ...children) {
  const id = attrs.id ?? `f${++fieldIds}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const control = h(tag, { ...attrs, id, 'aria-describedby': hintId }, ...children);
  return h('div', { class: 'field' },
    h('label', { for: id }, label, hint ? h('span', { class: 'hint', id: hintId }, ` — ${hint}`) : null),
    control);
}

/** Replaces the page's content and moves focus to its heading. */
export function page(title, ...content) {
  const main = document.getElementById('main');
  const heading = h('h1', { tabindex: '-1' }, title);
  fill(main, heading, content);
  document.title = `${title} · ${t('brand')}`;
  heading.focus({ preventScroll: false });
  return main;
}

export function money(cents, currency = 'EUR') {
  return new Intl.NumberFormat(lang(), { style: 'currency', currency }).format(cents / 100);
}

/** An instant shown as the wall-clock time in `zone` (the venue's). */
export function when(iso, zone, withDate = true) {
  const options = { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (withDate) Object.assign(options, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
  return new Intl.DateTimeFormat(lang(), options).format(new Date(iso));
}

/** A calendar date (YYYY-MM-DD) in the user's language. */
export function day(date) {
  const [y, m, d] = date.split('-').map(Number);
  return new Intl.DateTimeFormat(lang(), { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric' })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

/** Today's date at `zone`, as YYYY-MM-DD. */
export function todayAt(zone, plusDays = 0) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(Date.now() + plusDays * 86_400_000));
  return parts;
}

export function statusBadge(status, prefix = 'status') {
  return h('span', { class: `status status-${status}` }, t(`${prefix}.${status}`));
}

/** Shows an error (an ApiError's human message) at the top of the page. */
export function showError(err) {
  const box = document.getElementById('notice');
  box.className = 'notice';
  box.textContent = err?.message || String(err);
  box.hidden = false;
  box.setAttribute('role', 'alert');
}

export function showOk(text) {
  const box = document.getElementById('notice');
  box.className = 'notice ok';
  box.textContent = text;
  box.hidden = false;
  box.setAttribute('role', 'status');
}

export function clearNotice() {
  const box = document.getElementById('notice');
  box.hidden = true;
  box.textContent = '';
}

/** Announces a change to screen readers without moving focus. */
export function announce(text) {
  document.getElementById('live').textContent = text;
}

/** Runs `action` with `button` disabled; an error is shown, never thrown. */
export async function busy(button, action) {
  button.disabled = true;
  try {
    clearNotice();
    return await action();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/**
 * A table from rows: `table([header...], [[cell...]...])`. Its wrapper
 * scrolls sideways on a narrow screen, so it takes focus (keyboard scrolling).
 */
export function table(headers, rows, attrs = {}) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': attrs['aria-label'] ?? headers.join(', ') },
    h('table', attrs,
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}

export function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}
