// The signed-in user's profile (with `companies`), read once per session.

import { api, session } from './api.js';

let me = null;
let loading = Promise.resolve(null);

/**
 * The profile, or null; right after a login it is the profile being read,
 * so a page never sees the one before.
 */
export function currentUser() { return loading; }

/** The profile as last read, without waiting (for the navigation). */
export function knownUser() { return me; }

export function loadMe() {
  loading = (async () => {
    me = session() ? await api('GET', '/me').catch(() => null) : null;
    return me;
  })();
  return loading;
}

export function forgetUser() {
  me = null;
  loading = Promise.resolve(null);
}
