// Charts drawn as SVG from the reporting routes' figures: a bar chart per
// day and a weekday x hour heat map. Each chart also has its figures as a
// table (the heat map is one), so a screen reader gets the numbers too.

import { h } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** Bars of `points` ([{label, value, text}]), titled `title`. */
export function bars(title, points) {
  const width = 640; const height = 220; const left = 48; const bottom = 28; const top = 10;
  const max = Math.max(1, ...points.map((p) => p.value));
  const step = (width - left - 8) / Math.max(1, points.length);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  svg.append(s('line', { class: 'axis', x1: left, x2: width - 4, y1: height - bottom, y2: height - bottom }));
  svg.append(s('text', { x: 4, y: top + 10 }, points.find((p) => p.value === max)?.text ?? String(max)));
  svg.append(s('text', { x: 4, y: height - bottom }, '0'));
  points.forEach((p, i) => {
    const x = left + i * step + step * 0.15;
    const bar = s('rect', { class: 'bar', x, y: y(p.value), width: step * 0.7, height: Math.max(0, height - bottom - y(p.value)) },
      s('title', {}, `${p.label}: ${p.text}`));
    svg.append(bar);
    if (points.length <= 10 || i % Math.ceil(points.length / 8) === 0) {
      svg.append(s('text', { x, y: height - 10 }, p.label));
    }
  });
  return h('figure', { class: 'chart card' },
    h('figcaption', {}, h('h2', {}, title)), svg,
    h('details', {}, h('summary', {}, title),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': title }, h('table', {},
        h('tbody', {}, points.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.label), h('td', {}, p.text))))))));
}

/** The weekday x hour occupancy heat map; hours where nothing was offered stay blank. */
export function heatMap(title, matrix, weekdayNames, percent) {
  const used = matrix.hours.filter((hour) => matrix.occupancy.some((row) => row[hour] !== null));
  const hours = used.length ? used : matrix.hours;
  const cell = (value) => {
    if (value === null) return h('td', { class: 'none' }, '–');
    // Ten steps from pale to deep (app.css), the text readable on each.
    return h('td', { dataset: { occupancy: value.toFixed(2) }, class: `heat-${Math.min(9, Math.floor(value * 10))}` },
      percent(value));
  };
  return h('figure', { class: 'card' },
    h('figcaption', {}, h('h2', {}, title)),
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': title }, h('table', { class: 'heat' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), hours.map((hour) => h('th', { scope: 'col' }, String(hour).padStart(2, '0'))))),
      h('tbody', {}, matrix.weekdays.map((wd, i) => h('tr', {},
        h('th', { scope: 'row' }, weekdayNames[i] ?? wd), hours.map((hour) => cell(matrix.occupancy[i][hour]))))))));
}
