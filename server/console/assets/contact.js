// A contact's unified profile, found by email: identities in each tool, traits, features, model scores, segment
// history and recent events.
import { api, el, fill, load, number, query, remember, status, table, when } from './console.js';

const form = document.getElementById('contact-search');
const input = document.getElementById('contact-email');

form.addEventListener('submit', (event) => {
  event.preventDefault();
  remember('email', input.value.trim());
  find(input.value.trim()).catch((error) => status(error.message, 'error'));
});

load(async () => {
  const email = query('email');
  if (email) {
    input.value = email;
    await find(email);
  } else {
    fill('contact-profile', el('p', { class: 'empty' }, 'Search for a contact by email address.'));
  }
});

async function find(email) {
  const { contacts } = await api(`/contacts?email=${encodeURIComponent(email)}`);
  fill(
    'contact-profile',
    contacts.length ? contacts.map(profile) : el('p', { class: 'empty' }, `No contact has the email ${email}.`),
  );
}

function profile(contact) {
  const traits = Object.entries(contact.traits ?? {}).filter(
    ([, v]) => v !== null && v !== '' && typeof v !== 'object',
  );
  const features = Object.entries(contact.features ?? {}).filter(([, v]) => v !== null);
  return el(
    'article',
    { class: 'card', 'aria-label': `Contact ${contact.id}` },
    el(
      'h2',
      {},
      [contact.traits?.first_name, contact.traits?.last_name].filter(Boolean).join(' ') ||
        contact.email ||
        `Contact ${contact.id}`,
    ),
    el(
      'p',
      { class: 'hint' },
      `Contact #${contact.id} · ${contact.email ?? 'no email'} · consent ${contact.emailConsent ?? 'unknown'}`,
    ),
    el('h3', {}, 'Identities in each tool'),
    table(
      [
        { label: 'Tool', value: (i) => i.source },
        { label: 'Id', value: (i) => (i.externalId ? el('code', {}, i.externalId) : null) },
        { label: 'Email', value: (i) => i.email ?? null },
      ],
      contact.identities ?? [],
    ),
    el('h3', {}, 'Segments'),
    table(
      [
        {
          label: 'Segment',
          value: (s) => el('a', { href: `/console/segments?key=${encodeURIComponent(s.segment)}` }, s.segment),
        },
        { label: 'Entered', value: (s) => when(s.enteredAt) },
        { label: 'Exited', value: (s) => (s.current ? 'still a member' : when(s.exitedAt)) },
      ],
      contact.segments ?? [],
      { empty: 'In no segment.' },
    ),
    el('h3', {}, 'Scores'),
    table(
      [
        { label: 'Model', value: (m) => m.model },
        { label: 'Output', value: (m) => m.output },
        { label: 'Value', value: (m) => m.label ?? m.value, numeric: true },
      ],
      contact.modelOutputs ?? [],
      { empty: 'No model has scored this contact.' },
    ),
    el('h3', {}, 'Traits'),
    table(
      [
        { label: 'Trait', value: ([k]) => k },
        { label: 'Value', value: ([, v]) => String(v) },
      ],
      traits,
    ),
    el('h3', {}, 'Features'),
    table(
      [
        { label: 'Feature', value: ([k]) => el('code', {}, k) },
        { label: 'Value', value: ([, v]) => (typeof v === 'number' ? number(v) : String(v)), numeric: true },
      ],
      features,
      {
        empty: 'No features computed yet.',
      },
    ),
    el('h3', {}, 'Recent events'),
    table(
      [
        { label: 'When', value: (e) => when(e.occurredAt) },
        { label: 'Source', value: (e) => e.source },
        { label: 'Type', value: (e) => e.type },
        { label: 'Value', value: (e) => e.value, numeric: true },
      ],
      contact.recentEvents ?? [],
      { empty: 'No events.' },
    ),
  );
}
