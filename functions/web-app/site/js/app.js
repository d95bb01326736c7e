// The app's shell: the hash router (#/path?query), the navigation for a
// customer or an operator, the language switch.

import { session, onSession, logout, isOperator } from './api.js';
import { t, setLang, lang } from './i18n.js';
import { h, page, showError, showOk, clearNotice, fill } from './ui.js';
import { onNavigate, takeMessage } from './nav.js';
import { knownUser, loadMe, forgetUser } from './user.js';
import * as auth from './pages/auth.js';
import * as catalog from './pages/catalog.js';
import * as bookings from './pages/bookings.js';
import * as account from './pages/account.js';
import * as waiting from './pages/waiting.js';
import * as dashboard from './pages/dashboard.js';
import * as manage from './pages/manage.js';
import * as ops from './pages/ops.js';

const routes = [
  ['/', catalog.venues],
  ['/login', auth.login],
  ['/signup', auth.signup],
  ['/venues/:venue', catalog.venue],
  ['/venues/:venue/resources/:resource', catalog.day],
  ['/venues/:venue/slots/:slot/seats', catalog.seats],
  ['/bookings', bookings.list, true],
  ['/bookings/:booking', bookings.detail, true],
  ['/wallet', account.wallet, true],
  ['/inbox', account.inbox, true],
  ['/waiting-rooms/:room', waiting.room, true],
  ['/admin', dashboard.show, true],
  ['/admin/catalog', manage.show, true],
  ['/admin/dead-letters', ops.deadLetters, true],
  ['/admin/activity', ops.activity, true],
];

function match(path) {
  for (const [pattern, render, protectedRoute] of routes) {
    const names = [];
    const re = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, n) => { names.push(n); return '([^/]+)'; })}$`);
    const m = path.match(re);
    if (m) {
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      return { render, params, protectedRoute };
    }
  }
  return null;
}

function navLink(href, label) {
  const current = location.hash.split('?')[0] === href;
  return h('a', { href, 'aria-current': current ? 'page' : undefined }, label);
}

function renderNav() {
  const nav = document.getElementById('nav');
  const links = [navLink('#/', t('nav.venues'))];
  if (session()) {
    links.push(navLink('#/bookings', t('nav.bookings')), navLink('#/wallet', t('nav.wallet')),
      navLink('#/inbox', t('nav.inbox')));
    const me = knownUser();
    if (isOperator(me)) {
      links.push(navLink('#/admin', t('nav.admin')), navLink('#/admin/catalog', t('nav.catalog')));
      if (me?.role === 'ADMIN') {
        links.push(navLink('#/admin/dead-letters', t('nav.deadletters')), navLink('#/admin/activity', t('nav.activity')));
      }
    }
    links.push(h('button', { type: 'button', id: 'logout', onclick: async () => { await logout(); location.hash = '#/login'; } },
      t('nav.logout')));
  } else {
    links.push(navLink('#/login', t('nav.login')), navLink('#/signup', t('nav.signup')));
  }
  fill(nav, ...links);
  document.getElementById('brand').textContent = t('brand');
  document.getElementById('skip').textContent = t('skip');
  document.getElementById('lang-label').textContent = t('language');
}

let rendering = 0;

async function route() {
  const hash = location.hash || '#/';
  if (!hash.startsWith('#/')) return; // the skip link's #main
  const [path, query] = hash.slice(1).split('?');
  const found = match(path);
  clearNotice();
  renderNav();
  const mine = ++rendering;
  if (!found) {
    page('404', h('p', {}, h('a', { href: '#/' }, t('nav.venues'))));
    return;
  }
  if (found.protectedRoute && !session()) {
    location.hash = `#/login?next=${encodeURIComponent(hash.slice(1))}`;
    return;
  }
  const message = takeMessage();
  try {
    await found.render(found.params, new URLSearchParams(query ?? ''), () => mine === rendering);
    if (message && mine === rendering) showOk(message);
  } catch (err) {
    if (mine === rendering) showError(err);
  }
}

onSession(async (s) => {
  const me = knownUser();
  if (!s) forgetUser();
  else if (!me || me.id !== s.user?.id) await loadMe();
  renderNav();
});
onNavigate(route);

const picker = document.getElementById('lang');
picker.value = lang();
picker.addEventListener('change', () => { setLang(picker.value); route(); });
window.addEventListener('hashchange', route);

loadMe().then(route).catch(showError);
