// The wallet (balance, ledger, top-up by card) and the notification inbox.

import { api, idempotencyKey } from '../api.js';
import { t } from '../i18n.js';
import { h, field, page, when, busy, table, formData } from '../ui.js';
import { go } from '../nav.js';

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export async function wallet() {
  const view = await api('GET', '/wallet?limit=50');
  const submit = h('button', { type: 'submit', id: 'top-up' }, t('wallet.topup'));
  // One key per form: a retry after a 503 (outcome unknown) never charges twice.
  let key = idempotencyKey();
  const form = h('form', { class: 'card', id: 'top-up-form', onsubmit: (e) => {
    e.preventDefault();
    const { points, card_token } = formData(form);
    busy(submit, async () => {
      const entry = await api('POST', '/wallet/charge', {
        body: { points: Number(points), card_token: card_token.trim() }, headers: { 'idempotency-key': key } });
      key = idempotencyKey();
      go('/wallet', t('wallet.topped', { n: entry.points }));
    });
  } },
  h('h2', {}, t('wallet.topup')),
  field(t('wallet.amount'), 'input', { name: 'points', type: 'number', min: '1', max: '1000000', step: '1', required: true }),
  field(t('pay.card_token'), 'input', { name: 'card_token', value: 'tok_visa', required: true, autocomplete: 'off' }, t('pay.card_hint')),
  submit);
  page(t('wallet.title'),
    h('p', {}, t('wallet.balance'), ': ', h('strong', { class: 'big', id: 'balance' }, t('wallet.points', { n: view.balance }))),
    form,
    h('h2', {}, t('wallet.ledger')),
    table([t('act.when'), t('act.action'), t('wallet.amount'), t('wallet.balance')],
      view.ledger.map((e) => [when(e.at, zone), t(`ledger.${e.kind}`), e.points, e.balance_after]),
      { 'aria-label': t('wallet.ledger') }));
}

export async function inbox() {
  const answer = await api('GET', '/me/notifications?limit=50');
  const items = answer.notifications.map((n) => {
    const read = h('button', { type: 'button', class: 'secondary', hidden: !!n.read_at }, t('inbox.read'));
    const badge = h('span', { class: 'status status-PENDING', hidden: !!n.read_at }, t('inbox.unread'));
    read.addEventListener('click', () => busy(read, async () => {
      await api('POST', `/me/notifications/${encodeURIComponent(n.id)}/read`);
      read.hidden = true;
      badge.hidden = true;
    }));
    return h('li', { class: 'card' },
      h('h2', {}, n.title, ' ', badge),
      h('p', { class: 'hint' }, when(n.created_at, zone), n.booking_number ? ` · ${n.booking_number}` : ''),
      h('p', {}, n.body), read);
  });
  page(t('inbox.title'), items.length ? h('ul', { role: 'list', class: 'plain' }, items) : h('p', {}, t('inbox.empty')));
}
