// An account's page, read-only: found by name or domain (or opened by id), its traits, its records in each tool, its
// features, its members (each linking to their contact page) and the account segments it is in.
import { api, el, fill, load, number, query, remember, status, table, when } from './console.js';

const form = document.getElementById('account-search');
const input = document.getElementById('account-query');

form.addEventListener('submit', (event) => {
  event.preventDefault();
  remember('search', input.value.trim());
  search(input.value.trim()).catch((error) => status(error.message, 'error'));
});

load(async () => {
  const id = query('id');
  const term = query('search');
  if (term) {
    input.value = term;
    await search(term);
  }
  if (id) await show(id);
  else if (!term) fill('account-profile', el('p', { class: 'empty' }, 'Search for an account by name or domain.'));
});

async function search(term) {
  const { accounts } = await api(`/accounts?search=${encodeURIComponent(term)}`);
  fill(
    'account-matches',
    table(
      [
        {
          label: 'Account',
          value: (a) =>
            el('a', { href: `/console/accounts?id=${a.id}`, 'data-account': a.id }, a.name ?? `Account ${a.id}`),
        },
        { label: 'Domain', value: (a) => a.domain },
        { label: 'Members', value: (a) => a.members, numeric: true },
      ],
      accounts,
      { empty: `No account's name or domain contains "${term}".` },
    ),
  );
  if (accounts.length === 1 && !query('id')) await show(String(accounts[0].id));
}

async function show(id) {
  const account = await api(`/accounts/${encodeURIComponent(id)}`);
  const traits = Object.entries(account.traits ?? {}).filter(
    ([, v]) => v !== null && v !== '' && typeof v !== 'object',
  );
  const features = Object.entries(account.features ?? {}).filter(([k]) => k !== 'computed_at');
  fill(
    'account-profile',
    el(
      'article',
      { class: 'card', 'aria-label': `Account ${account.id}` },
      el('h2', { id: 'account-name' }, account.name ?? account.domain ?? `Account ${account.id}`),
      el(
        'p',
        { class: 'hint' },
        `Account #${account.id} · ${account.domain ?? 'no domain'} · ${number(account.memberCount)} member${account.memberCount === 1 ? '' : 's'}`,
      ),
      el('h3', {}, 'Account segments'),
      table(
        [
          { label: 'Segment', value: (s) => s.name },
          { label: 'Key', value: (s) => s.key },
          { label: 'Since', value: (s) => when(s.enteredAt) },
        ],
        account.segments,
        { empty: 'In no account segment.' },
      ),
      el('h3', {}, 'Members'),
      el(
        'ul',
        { id: 'account-members', class: 'members' },
        account.members.map((m) =>
          el(
            'li',
            {},
            m.email
              ? el(
                  'a',
                  { href: `/console/contacts?email=${encodeURIComponent(m.email)}`, 'data-contact': m.id },
                  m.name ? `${m.name} <${m.email}>` : m.email,
                )
              : `${m.name ?? `Contact ${m.id}`} (no email)`,
          ),
        ),
      ),
      account.memberCount > account.members.length
        ? el('p', { class: 'hint' }, `and ${number(account.memberCount - account.members.length)} more`)
        : null,
      account.members.length === 0 ? el('p', { class: 'empty' }, 'No members.') : null,
      el('h3', {}, 'Traits'),
      table(
        [
          { label: 'Trait', value: ([k]) => k },
          { label: 'Value', value: ([, v]) => (typeof v === 'number' ? v : String(v)) },
        ],
        traits,
        { empty: 'No traits.' },
      ),
      el('h3', {}, 'Records in each tool'),
      table(
        [
          { label: 'Tool', value: (i) => i.source },
          { label: 'Id', value: (i) => i.externalId },
          { label: 'Deleted', value: (i) => (i.deleted ? 'yes' : 'no') },
        ],
        account.identities,
      ),
      el('h3', {}, 'Features'),
      account.features
        ? el('p', { class: 'hint' }, `Computed ${when(account.features.computed_at)}`)
        : el('p', { class: 'empty' }, 'Not computed yet.'),
      account.features
        ? table(
            [
              { label: 'Feature', value: ([k]) => k },
              { label: 'Value', value: ([k, v]) => (k.endsWith('_at') ? when(v) : v), numeric: true },
            ],
            features,
          )
        : null,
      account.merges.length
        ? [
            el('h3', {}, 'Merged into it'),
            table(
              [
                { label: 'Account', value: (m) => `#${m.mergedId}` },
                { label: 'Why', value: (m) => `${m.reason}${m.identifier ? ` (${m.identifier})` : ''}` },
                { label: 'When', value: (m) => when(m.mergedAt) },
              ],
              account.merges,
            ),
          ]
        : null,
    ),
  );
}
