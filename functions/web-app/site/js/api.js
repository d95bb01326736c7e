// The API client: the app calls the HTTP API on its own origin. The session
// (access and refresh token) lives in localStorage; the access token is
// refreshed silently a minute before it expires and once more on a 401, and
// each refresh token is spent once (the API revokes a session whose spent
// token comes back), so concurrent refreshes share one request.

import { t, has } from './i18n.js';

const KEY = 'session';
let refreshing = null;
let timer = null;
const listeners = new Set();

/** An error the API answered, with its stable code and a message for people. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function session() {
  try { return JSON.parse(localStorage.getItem(KEY)); } catch { return null; }
}

/** Called with the session (or null) whenever it changes. */
export function onSession(listener) { listeners.add(listener); }

function save(pair, user) {
  const s = {
    access_token: pair.access_token,
    refresh_token: pair.refresh_token,
    expires_at: Date.now() + pair.expires_in * 1000,
    user: user ?? pair.user ?? session()?.user,
  };
  localStorage.setItem(KEY, JSON.stringify(s));
  schedule(s);
  listeners.forEach((l) => l(s));
  return s;
}

function clear() {
  localStorage.removeItem(KEY);
  clearTimeout(timer);
  listeners.forEach((l) => l(null));
}

function schedule(s) {
  clearTimeout(timer);
  if (!s) return;
  const wait = Math.max(5_000, s.expires_at - Date.now() - 60_000);
  timer = setTimeout(() => refresh().catch(() => {}), wait);
}

async function refresh() {
  const s = session();
  if (!s?.refresh_token) throw new ApiError(401, 'Unauthorized', t('auth.expired'));
  refreshing ??= call('POST', '/auth/refresh', { body: { refresh_token: s.refresh_token }, auth: false })
    .then((pair) => save(pair))
    .catch((err) => { if (err.status === 401) clear(); throw err; })
    .finally(() => { refreshing = null; });
  return refreshing;
}

async function call(method, path, { body, headers = {}, auth = true, raw = false } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const s = session();
  if (auth && s) init.headers.authorization = `Bearer ${s.access_token}`;
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'NETWORK', t('err.network'));
  }
  if (res.ok) {
    if (raw) return res;
    return res.status === 204 ? null : res.json();
  }
  let answer = {};
  try { answer = await res.json(); } catch { /* a gateway error without a body */ }
  // The API's errors are {code, message}; the gateway's own are {message}.
  const code = answer.code ?? answer.message ?? String(res.status);
  const key = `err.${code}`;
  const message = has(key) ? t(key) : (answer.code && answer.message) || t('err.generic', { status: res.status });
  throw new ApiError(res.status, code, message);
}

/** Calls the API; an expired access token is refreshed once and the call sent again. */
export async function api(method, path, options = {}) {
  try {
    return await call(method, path, options);
  } catch (err) {
    if (err.status === 401 && options.auth !== false && session()) {
      await refresh();
      return call(method, path, options);
    }
    throw err;
  }
}

export async function login(email, password) {
  const answer = await call('POST', '/auth/login', { body: { email, password }, auth: false });
  return save(answer, answer.user);
}

export async function signup(details) {
  await call('POST', '/auth/signup', { body: details, auth: false });
  return login(details.email, details.password);
}

export async function logout() {
  const s = session();
  clear();
  if (s?.refresh_token) {
    await call('POST', '/auth/logout', { body: { refresh_token: s.refresh_token }, auth: false }).catch(() => {});
  }
}

/** A fresh idempotency key: a retry of the same action sends the same one. */
export function idempotencyKey() { return crypto.randomUUID(); }

/** Whether the signed-in user is the platform administrator or staff. */
export function isOperator(me) {
  return me?.role === 'ADMIN' || (me?.companies ?? []).length > 0;
}

schedule(session());
