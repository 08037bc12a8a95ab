// A contact's page, found by email: identities in each tool, consent per tool, segments by name, deliveries per tool,
// where each trait came from, scores, features, their recent messages with sentiment and the events timeline; and,
// for the admin role, the erasure (with a confirmation), whose record stays and is shown to a later search of the
// same email.
import { action, api, badge, el, fill, load, number, query, remember, role, status, table, when } from './console.js';
import { sentimentWords, signed } from './sentiment.js';

const form = document.getElementById('contact-search');
const input = document.getElementById('contact-email');
let names = new Map();
let canAct = false;

form.addEventListener('submit', (event) => {
  event.preventDefault();
  remember('email', input.value.trim());
  find(input.value.trim()).catch((error) => status(error.message, 'error'));
});

load(async () => {
  const [who, segments] = await Promise.all([role(), api('/segments')]);
  canAct = who === 'admin';
  names = new Map(segments.segments.map((s) => [s.key, s.name ?? s.key]));
  const email = query('email');
  if (email) {
    input.value = email;
    await find(email);
  } else {
    fill('contact-profile', el('p', { class: 'empty' }, 'Search for a contact by email address.'));
  }
});

async function find(email) {
  const { contacts, erasures } = await api(`/contacts?email=${encodeURIComponent(email)}`);
  const records = (erasures ?? []).map((e) => erasureRecord(e));
  fill(
    'contact-profile',
    contacts.length
      ? contacts.map((c) => profile(c, email))
      : el('p', { class: 'empty' }, `No contact has the email ${email}.`),
    records,
  );
  await Promise.all(contacts.map((c) => showVoice(c.id)));
}

/** The contact's latest tickets, messages and survey answers with their sentiment (GET /voice/contacts/:id). */
async function showVoice(id) {
  const answer = await api(`/voice/contacts/${id}`);
  const f = answer.features;
  fill(
    `voice-${id}`,
    f
      ? el(
          'p',
          { class: 'hint' },
          `Sentiment over 90 days ${sentimentWords(f.sentiment90d)}`,
          f.sentimentTrend === null ? '' : ` (${signed(f.sentimentTrend)} in the last 30 days against the 30 before)`,
          ` · last NPS ${f.npsLast === null ? '—' : `${f.npsLast} (${f.npsCategory})`}`,
          ` · negative tickets in 90 days: ${number(f.negativeTickets90d ?? 0)}`,
        )
      : null,
    table(
      [
        { label: 'When', value: (m) => when(m.occurredAt) },
        {
          label: 'What',
          value: (m) =>
            m.type === 'survey_response'
              ? `${(m.survey?.kind ?? 'survey').toUpperCase()} answer${m.survey?.score === null || m.survey?.score === undefined ? '' : ` ${m.survey.score}`}`
              : m.type === 'support_ticket'
                ? `ticket${m.status ? ` (${m.status})` : ''}${m.topic ? ` on ${m.topic}` : ''}`
                : `message${m.author ? ` by the ${m.author}` : ''}`,
        },
        {
          label: 'Text',
          value: (m) => [m.subject, m.text].filter(Boolean).join(': ') || null,
        },
        {
          label: 'Sentiment',
          value: (m) =>
            m.sentiment !== null
              ? sentimentWords(m.sentiment)
              : m.language && m.language !== 'en' && m.language !== 'none'
                ? `not scored (${m.language})`
                : null,
        },
      ],
      answer.messages,
      {
        caption: answer.textKept
          ? `The last ${answer.messages.length}, text redacted`
          : `The last ${answer.messages.length}; the config keeps no text, only what was derived from it`,
        empty: 'Nothing written or answered.',
      },
    ),
  );
}

function erasureRecord(record) {
  return el(
    'p',
    { class: 'alert notice erasure-record' },
    `Contact #${record.contactId} with this email was erased on ${when(record.erasedAt)} by the ${record.erasedBy} role`,
    record.destinations.length
      ? ` (${record.destinations.map((d) => `${d.destination}: ${d.status.replace('_', ' ')}`).join(', ')})`
      : '',
    '. Its identities are suppressed: no sync brings it back.',
  );
}

function profile(contact, email) {
  const traits = Object.entries(contact.traits ?? {}).filter(
    ([, v]) => v !== null && v !== '' && typeof v !== 'object',
  );
  const features = Object.entries(contact.features ?? {}).filter(([, v]) => v !== null);
  const sources = contact.traitSources ?? {};
  const current = (contact.segments ?? []).filter((s) => s.current);
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
      `Contact #${contact.id} · ${contact.email ?? 'no email'} · consent ${contact.emailConsent ?? 'unknown'} · in ${current.length} segment${current.length === 1 ? '' : 's'}`,
    ),
    canAct ? eraseBox(contact, email) : null,
    el('h3', {}, 'Identities and consent in each tool'),
    table(
      [
        { label: 'Tool', value: (i) => i.source },
        { label: 'Id', value: (i) => (i.externalId ? el('code', {}, i.externalId) : null) },
        { label: 'Email', value: (i) => i.email ?? null },
        {
          label: 'Consent',
          value: (i) =>
            (contact.consentByTool ?? []).find((c) => c.source === i.source && c.externalId === i.externalId)
              ?.consent ?? null,
        },
      ],
      contact.identities ?? [],
    ),
    el('h3', {}, 'Segments'),
    table(
      [
        {
          label: 'Segment',
          value: (s) =>
            el(
              'a',
              { href: `/console/segments?key=${encodeURIComponent(s.segment)}` },
              names.get(s.segment) ?? s.segment,
            ),
        },
        { label: 'Entered', value: (s) => when(s.enteredAt) },
        { label: 'Exited', value: (s) => (s.current ? 'still a member' : when(s.exitedAt)) },
      ],
      contact.segments ?? [],
      { empty: 'In no segment.' },
    ),
    el('h3', {}, 'Deliveries to each tool'),
    table(
      [
        { label: 'Destination', value: (d) => d.destination },
        { label: 'Segment', value: (d) => names.get(d.segmentKey) ?? d.segmentKey },
        { label: 'Status', value: (d) => badge(d.status) },
        { label: 'Delivered', value: (d) => when(d.deliveredAt) },
        { label: 'Tries', value: (d) => d.attempts, numeric: true },
        { label: 'Why', value: (d) => d.lastError ?? null },
      ],
      contact.deliveries ?? [],
      { empty: 'Nothing was delivered to a tool for this contact.' },
    ),
    el('h3', {}, 'Traits and where they came from'),
    table(
      [
        { label: 'Trait', value: ([k]) => k },
        { label: 'Value', value: ([, v]) => String(v) },
        {
          label: 'From',
          // the connection (or write key) whose value the merge kept
          value: ([k]) => sources[k] ?? null,
        },
      ],
      traits,
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
    el('h3', {}, 'Features'),
    table(
      [
        { label: 'Feature', value: ([k]) => el('code', {}, k) },
        { label: 'Value', value: ([, v]) => (typeof v === 'number' ? number(v) : String(v)), numeric: true },
      ],
      features,
      { empty: 'No features computed yet.' },
    ),
    el('h3', {}, 'What they wrote'),
    el('div', { id: `voice-${contact.id}` }),
    el('h3', {}, 'Events, newest first'),
    table(
      [
        { label: 'When', value: (e) => when(e.occurredAt) },
        { label: 'Source', value: (e) => e.source },
        { label: 'Type', value: (e) => e.type },
        { label: 'Value', value: (e) => e.value, numeric: true },
      ],
      contact.recentEvents ?? [],
      { caption: `The last ${(contact.recentEvents ?? []).length} events`, empty: 'No events.' },
    ),
  );
}

/** Erasure, in two steps: the button opens a confirmation that asks for the contact's email (or id) to be typed. */
function eraseBox(contact, email) {
  const expected = contact.email ?? String(contact.id);
  const box = el('div', { class: 'erase', hidden: true });
  const inputId = `erase-confirm-${contact.id}`;
  const confirmInput = el('input', { id: inputId, type: 'text', autocomplete: 'off' });
  const erase = action(
    'Erase permanently',
    async () => {
      if (confirmInput.value.trim().toLowerCase() !== expected.toLowerCase()) {
        status(`Type ${expected} to confirm the erasure.`, 'error');
        return;
      }
      const answer = await api(`/contacts/${contact.id}`, { method: 'DELETE' });
      status(
        answer.complete
          ? `Contact #${contact.id} was erased from the store and every tool that can erase.`
          : `Contact #${contact.id} was erased from the store; some tools failed (see below).`,
      );
      await find(email);
    },
    { kind: 'danger', id: `erase-${contact.id}` },
  );
  box.append(
    el(
      'p',
      { class: 'alert bad' },
      'Erasing removes this contact from the store and asks every destination that can to delete it; its emails and ids are suppressed so no sync brings it back. It cannot be undone.',
    ),
    el('label', { for: inputId }, `Type ${expected} to confirm`),
    ' ',
    confirmInput,
    ' ',
    erase,
  );
  const open = el('button', { type: 'button', class: 'danger', id: `erase-open-${contact.id}` }, 'Erase this contact…');
  open.addEventListener('click', () => {
    box.hidden = false;
    open.hidden = true;
    confirmInput.focus();
  });
  return el('div', { class: 'actions' }, open, box);
}
