// The web app in a real headless Chromium (Debian's, driven by
// playwright-core), against the running test cloud: a customer signs up,
// tops up, books a tee time from the wallet, picks seats, books a room,
// cancels and sees the refund; an operator generates slots with a preview,
// saves a seat map and sees the bookings in the dashboard. Each main page
// is checked with axe (no serious or critical violation) and saved as a
// screenshot under .local/screenshots/.
//
// Run by infra/test.sh after the Rust tests: node --test tests/web/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const modules = process.env.WEB_TEST_MODULES ?? path.join(root, '.local/web-test/node_modules');
const require = createRequire(path.join(modules, 'noop.js'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const statePath = process.env.LOCAL_CLOUD_STATE ?? path.join(root, '.local/run/test-cloud.json');
const state = JSON.parse(readFileSync(statePath, 'utf8'));
const API = state.api;
const APP = `${API}/app/index.html`;
const SHOTS = path.join(root, '.local/screenshots');
const ZONE = 'Asia/Seoul';
const WAIT = 90_000;
mkdirSync(SHOTS, { recursive: true });

/** A date at the venue, `days` from today there. */
function dateAt(days) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(Date.now() + days * 86_400_000));
}

async function call(method, route, body, token, headers = {}) {
  const res = await fetch(`${API}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function person(tag) {
  const id = randomUUID().slice(0, 8);
  return { email: `web-${tag}-${id}@example.com`, password: `correct horse ${id}!`, name: `Web ${tag}`, phone: '+82 10 5555 0101' };
}

let browser;
const world = {};

before(async () => {
  browser = await chromium.launch({
    executablePath: state.chromium ?? process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  // The operator: an account promoted to ADMIN, a company, a venue in Seoul
  // with a course, a performance and a room, made through the public API.
  const admin = person('admin');
  await call('POST', '/auth/signup', admin);
  execFileSync(path.join(root, 'target/debug/platform-admin'), ['promote', admin.email, '--state-file', statePath]);
  const { access_token: token } = await call('POST', '/auth/login', { email: admin.email, password: admin.password });
  const company = await call('POST', '/admin/companies', { name: `Web Co ${randomUUID().slice(0, 6)}`, contact_email: admin.email }, token);
  const venue = await call('POST', '/admin/venues', { company_id: company.id, name: `Web Club ${randomUUID().slice(0, 6)}`,
    kind: 'GOLF_CLUB', city: 'Seoul', time_zone: ZONE }, token);
  const course = await call('POST', `/admin/venues/${venue.id}/resources`, { name: 'East course', kind: 'COURSE' }, token);
  const show = await call('POST', `/admin/venues/${venue.id}/resources`, { name: 'Evening concert', kind: 'PERFORMANCE' }, token);
  const room = await call('POST', `/admin/venues/${venue.id}/resources`, { name: 'Board room', kind: 'ROOM',
    range: { unit_minutes: 30, opens: '09:00', closes: '18:00', unit_price_cents: 2000 } }, token);
  await call('POST', `/admin/resources/${show.id}/slots/generate`, { from: dateAt(5), to: dateAt(5), start_times: ['19:30'],
    duration_minutes: 120, capacity: 10, prices: { weekday: 5000, weekend: 5000, holiday: 5000 } }, token);
  Object.assign(world, { admin, token, venue, course, show, room, day: dateAt(5) });
});

after(async () => { await browser?.close(); });

/** A fresh browser (its own storage), at a desktop or phone size. */
async function newPage({ phone = false, lang = 'en' } = {}) {
  const context = await browser.newContext({
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    locale: lang === 'ko' ? 'ko-KR' : 'en-GB',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(String(err)));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(m.text()); });
  page.problems = problems;
  return page;
}

/** Checks the page with axe and saves its screenshot. */
async function check(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`));
  assert.deepEqual(violations, [], `axe on ${name}`);
  assert.deepEqual(page.problems, [], `script errors on ${name}`);
}

/** The text of the page's notice (an error or a success), once it shows. */
async function notice(page) {
  const shown = page.locator('#notice:not([hidden])');
  await shown.waitFor();
  return shown.innerText();
}

async function logIn(page, who) {
  await page.goto(`${APP}#/login`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#logout').waitFor();
}

async function signUp(page, who) {
  await page.goto(`${APP}#/signup`);
  await page.getByLabel('Name').fill(who.name);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Phone').fill(who.phone);
  await page.getByLabel('Password').fill(who.password);
  await page.locator('#signup-form button[type=submit]').click();
  await page.locator('#logout').waitFor();
}

/** Confirms the open booking dialog with the payment `method`, then waits for CONFIRMED. */
async function payAndWatch(page, method) {
  const dialog = page.locator('#checkout');
  await dialog.waitFor();
  await dialog.locator(`input[name=method][value=${method}]`).check();
  await dialog.locator('#confirm-booking').click();
  await page.locator('#booking-status .status-CONFIRMED').waitFor({ timeout: WAIT });
}

test('an operator previews slot generation, generates the slots and saves a seat map', async () => {
  const page = await newPage();
  await logIn(page, world.admin);
  await page.goto(`${APP}#/admin/catalog?venue=${world.venue.id}`);
  const form = page.locator('#generate');
  await form.locator('select[name=resource]').selectOption(world.course.id);
  await form.locator('input[name=from]').fill(dateAt(1));
  await form.locator('input[name=to]').fill(dateAt(7));
  await form.locator('input[name=start_times]').fill('08:00, 08:10, 08:20');
  await form.locator('#preview-slots').click();
  await assert.doesNotReject(page.locator('#preview-summary').waitFor());
  assert.match(await page.locator('#preview-summary').innerText(), /21 new slots would be created, 0 exist already/);
  // The preview wrote nothing: the day still has no tee times.
  const before = await call('GET', `/resources/${world.course.id}/availability?date=${world.day}`);
  assert.equal(before.slots.length, 0);
  await check(page, 'admin-catalog');
  await form.locator('#generate-slots').click();
  assert.match(await page.locator('#generated').innerText(), /Created 21 slots \(0 existed\)/);
  const afterwards = await call('GET', `/resources/${world.course.id}/availability?date=${world.day}`);
  assert.deepEqual(afterwards.slots.map((s) => s.start), ['08:00', '08:10', '08:20']);

  // A seat map of two rows of five for the concert.
  const seats = page.locator('#seat-map');
  await seats.locator('#seat-resource').selectOption(world.show.id);
  await seats.locator('#seat-date').fill(world.day);
  await seats.locator('#seat-date').dispatchEvent('change');
  await seats.locator('#seat-slot option').first().waitFor({ state: 'attached' });
  await seats.locator('input[name=rows]').fill('A-B');
  await seats.locator('input[name=per_row]').fill('5');
  await seats.locator('#save-seats').click();
  assert.match(await notice(page), /The slot now has 10 seats/);
  await page.context().close();
});

test('a new customer signs up, tops up, and books a tee time from the wallet', async () => {
  const page = await newPage();
  const customer = person('customer');
  world.customer = customer;
  // A refused signup shows the API's message for people, not its JSON.
  await page.goto(`${APP}#/signup`);
  await page.getByLabel('Name').fill(customer.name);
  await page.getByLabel('Email').fill(customer.email);
  await page.getByLabel('Phone').fill(customer.phone);
  await page.getByLabel('Password').fill('aaaaaaaaaaaa');
  await page.locator('#signup-form button[type=submit]').click();
  const refusal = await notice(page);
  assert.ok(refusal.length > 10 && !refusal.includes('{') && !refusal.includes('WEAK_PASSWORD'), refusal);
  await check(page, 'signup');

  await signUp(page, customer);
  await page.goto(`${APP}#/wallet`);
  await page.getByLabel('Points (1 point = 1 cent)').fill('50000');
  await page.locator('#top-up').click();
  await page.locator('#balance', { hasText: '50000 points' }).waitFor();
  await check(page, 'wallet');

  // The venues come 50 a page, by name; the other tests' venues are there too.
  await page.goto(`${APP}#/`);
  const link = page.getByRole('link', { name: world.venue.name });
  await page.locator('#venue-list').waitFor();
  while (await link.count() === 0) {
    const more = page.locator('#more-venues:not([hidden])');
    assert.equal(await more.count(), 1, 'the venue is on a later page');
    const shown = await page.locator('#venue-list > li').count();
    await more.click();
    await page.waitForFunction((n) => document.querySelectorAll('#venue-list > li').length > n, shown);
  }
  await link.click();
  await check(page, 'venues');
  await page.getByRole('link', { name: 'East course' }).click();
  await page.locator('#day-date').fill(world.day);
  await page.getByRole('button', { name: 'Show' }).click();
  const slot = page.locator(`li[data-slot$="T08:10"]`);
  await slot.waitFor();
  assert.match(await slot.innerText(), /4 of 4 left/);
  await check(page, 'tee-times');
  await slot.locator('select').selectOption('2');
  await slot.getByRole('button', { name: /Book/ }).click();
  await payAndWatch(page, 'wallet');
  world.teeTime = page.url().split('#/bookings/')[1];
  await check(page, 'booking-confirmed');
  await page.goto(`${APP}#/wallet`);
  const { price_cents: price } = await call('GET', `/bookings/${world.teeTime}`, undefined, await tokenOf(customer));
  await page.locator('#balance', { hasText: `${50000 - price} points` }).waitFor();
  // An access token the API refuses is replaced silently with the refresh token.
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem('session'));
    localStorage.setItem('session', JSON.stringify({ ...session, access_token: 'expired.or.revoked' }));
  });
  await page.goto(`${APP}#/bookings`);
  await page.locator(`tr[data-booking="${world.teeTime}"]`).waitFor();
  const renewed = await page.evaluate(() => JSON.parse(localStorage.getItem('session')).access_token);
  assert.notEqual(renewed, 'expired.or.revoked');
  await check(page, 'my-bookings');
  await page.context().close();
});

async function tokenOf(who) {
  return (await call('POST', '/auth/login', { email: who.email, password: who.password })).access_token;
}

test('two seats picked on the seat map are taken for the next customer', async () => {
  const page = await newPage();
  await logIn(page, world.customer);
  const slot = `${world.show.id}@${world.day}T19:30`;
  await page.goto(`${APP}#/venues/${world.venue.id}/slots/${encodeURIComponent(slot)}/seats`);
  await page.locator('button[data-seat="A-2"]').click();
  await page.locator('button[data-seat="A-3"]').click();
  assert.match(await page.locator('#seat-summary').innerText(), /A-2, A-3/);
  await check(page, 'seat-map');
  await page.locator('#book-seats').click();
  await payAndWatch(page, 'card');
  await page.context().close();

  const next = await newPage();
  await signUp(next, person('next'));
  await next.goto(`${APP}#/venues/${world.venue.id}/slots/${encodeURIComponent(slot)}/seats`);
  await next.locator('button[data-seat="A-1"]').waitFor();
  assert.equal(await next.locator('button[data-seat="A-2"]').isDisabled(), true);
  assert.equal(await next.locator('button[data-seat="A-3"]').isDisabled(), true);
  assert.equal(await next.locator('button[data-seat="A-1"]').isDisabled(), false);
  await next.context().close();
});

test('a customer books a room from its free ranges', async () => {
  const page = await newPage();
  await logIn(page, world.customer);
  await page.goto(`${APP}#/venues/${world.venue.id}/resources/${world.room.id}?date=${world.day}`);
  await page.getByLabel('From').selectOption('10:00');
  await page.getByLabel('To').selectOption('11:30');
  assert.match(await page.getByText(/Total:/).innerText(), /60/);
  await check(page, 'room');
  await page.getByRole('button', { name: 'Book this time' }).click();
  await payAndWatch(page, 'card');
  await page.goto(`${APP}#/venues/${world.venue.id}/resources/${world.room.id}?date=${world.day}`);
  const free = await page.locator('#free-title + ul').innerText();
  assert.match(free, /09:00–10:00/);
  assert.match(free, /11:30–18:00/);
  await page.context().close();
});

test('cancelling shows the refund before asking, and the wallet gets exactly that back', async () => {
  const page = await newPage();
  await logIn(page, world.customer);
  await page.goto(`${APP}#/bookings/${world.teeTime}`);
  await page.locator('#cancel-booking').click();
  const quote = await page.locator('#refund-quote').innerText();
  const booking = await call('GET', `/bookings/${world.teeTime}`, undefined, await tokenOf(world.customer));
  const refund = booking.cancellation.refund_cents;
  assert.ok(quote.includes(`${booking.cancellation.refund_percent}%`), quote);
  await check(page, 'cancel-dialog');
  await page.locator('#confirm-cancel').click();
  await page.locator('#booking-status .status-CANCELLED').waitFor();
  // The refund is paid by the saga: the ledger shows it within seconds.
  const token = await tokenOf(world.customer);
  const deadline = Date.now() + WAIT;
  let refunded;
  while (Date.now() < deadline) {
    const wallet = await call('GET', '/wallet', undefined, token);
    refunded = wallet.ledger.find((e) => e.kind === 'REFUND' && e.booking_id === world.teeTime);
    if (refunded || refund === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(refunded?.points ?? 0, refund);
  await page.context().close();
});

test('the operator sees the bookings in the dashboard figures and heat map', async () => {
  const page = await newPage();
  await logIn(page, world.admin);
  // The figures are counted from the events, within seconds: reload until
  // the next 7 days show the three bookings made above.
  const deadline = Date.now() + WAIT;
  let created = '';
  while (Date.now() < deadline) {
    await page.goto(`${APP}#/admin?venue=${world.venue.id}`);
    await page.reload();
    await page.locator('#figures').waitFor();
    created = await page.locator('#figures section').nth(3).locator('[data-figure=created]').innerText();
    if (created === '3') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(created, '3');
  assert.ok(await page.locator('table.heat td[data-occupancy]').count() > 0, 'the heat map has offered hours');
  await check(page, 'dashboard');
  await page.goto(`${APP}#/admin/activity`);
  await page.locator('table').first().waitFor();
  assert.match(await page.locator('main').innerText(), /slots_generated/);
  await check(page, 'activity');
  await page.goto(`${APP}#/admin/dead-letters`);
  await page.locator('table').waitFor();
  await check(page, 'dead-letters');
  await page.context().close();
});

test('a customer waits in a waiting room, is admitted, and books with the pass', async () => {
  // A course of its own behind a room admitting 60 a minute.
  const { token, venue } = world;
  const course = await call('POST', `/admin/venues/${venue.id}/resources`, { name: 'Flash sale course', kind: 'COURSE' }, token);
  await call('POST', `/admin/resources/${course.id}/slots/generate`, { from: world.day, to: world.day, start_times: ['07:00'],
    duration_minutes: 10, capacity: 4, prices: { weekday: 7000, weekend: 7000, holiday: 7000 } }, token);
  const room = await call('POST', '/admin/waiting-rooms', { name: 'Flash sale', resource_ids: [course.id], rate_per_minute: 60,
    max_active: 100 }, token);
  const page = await newPage();
  await signUp(page, person('queue'));
  // Without the pass the booking is refused, with the API's message shown.
  await page.goto(`${APP}#/venues/${venue.id}/resources/${course.id}?date=${world.day}`);
  await page.locator('li[data-slot$="T07:00"]').getByRole('button', { name: /Book/ }).click();
  await page.locator('#checkout input[value=card]').check();
  await page.locator('#confirm-booking').click();
  assert.match(await notice(page), /waiting room/);

  await page.goto(`${APP}#/waiting-rooms/${room.id}?venue=${venue.id}&resource=${course.id}`);
  await page.locator('#join-queue').click();
  await page.locator('#waiting-status .status').waitFor();
  await check(page, 'waiting-room');
  // The admitter runs on its schedule; one run now, so the test need not wait for it.
  const admitter = fetch(`${state.admin}/functions/waiting-room-admitter/invoke`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events',
      account: '123456789012', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: { run_seconds: 15 } }),
  }).catch(() => {});
  await page.locator('#go-book').waitFor({ timeout: WAIT });
  assert.match(await page.locator('#waiting-status').innerText(), /It is your turn/);
  await page.locator('#go-book').click();
  await page.locator('#day-date').fill(world.day);
  await page.getByRole('button', { name: 'Show' }).click();
  await page.locator('li[data-slot$="T07:00"]').getByRole('button', { name: /Book/ }).click();
  await payAndWatch(page, 'card');
  await admitter;
  await page.context().close();
});

test('on a phone, in Korean, the day shows in the venue time zone', async () => {
  const page = await newPage({ phone: true, lang: 'ko' });
  await page.goto(`${APP}#/venues/${world.venue.id}/resources/${world.course.id}?date=${world.day}`);
  await page.locator('li[data-slot$="T08:00"]').waitFor();
  assert.match(await page.locator('main').innerText(), /시간은 장소의 현지 시간입니다 \(Asia\/Seoul\)/);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');
  // Nothing wider than the screen.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await check(page, 'phone-ko-tee-times');
  await page.context().close();
});
