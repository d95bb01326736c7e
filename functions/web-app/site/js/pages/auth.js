// Log in and sign up.

import { login as logIn, signup as signUp } from '../api.js';
import { t, lang } from '../i18n.js';
import { h, field, page, busy, formData } from '../ui.js';
import { go } from '../nav.js';

function next(query) {
  const to = query.get('next');
  return to && to.startsWith('/') ? to : '/';
}

export function login(_params, query) {
  const submit = h('button', { type: 'submit' }, t('auth.login'));
  const form = h('form', {
    class: 'card', id: 'login-form',
    onsubmit: (e) => {
      e.preventDefault();
      const { email, password } = formData(form);
      busy(submit, async () => { await logIn(email, password); go(next(query)); });
    },
  },
  field(t('auth.email'), 'input', { name: 'email', type: 'email', autocomplete: 'username', required: true }),
  field(t('auth.password'), 'input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
  submit);
  page(t('auth.login'), form,
    h('p', {}, t('auth.no_account'), ' ', h('a', { href: '#/signup' }, t('nav.signup'))));
}

export function signup() {
  const submit = h('button', { type: 'submit' }, t('auth.signup'));
  const form = h('form', {
    class: 'card', id: 'signup-form',
    onsubmit: (e) => {
      e.preventDefault();
      const details = formData(form);
      busy(submit, async () => {
        await signUp({ ...details, language: lang() });
        go('/', t('auth.signed_up'));
      });
    },
  },
  field(t('auth.name'), 'input', { name: 'name', autocomplete: 'name', required: true }),
  field(t('auth.email'), 'input', { name: 'email', type: 'email', autocomplete: 'email', required: true }),
  field(t('auth.phone'), 'input', { name: 'phone', type: 'tel', autocomplete: 'tel', required: true }, t('auth.phone_hint')),
  field(t('auth.password'), 'input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true,
    minlength: '10' }, t('auth.password_hint')),
  submit);
  page(t('nav.signup'), form,
    h('p', {}, t('auth.have_account'), ' ', h('a', { href: '#/login' }, t('nav.login'))));
}
