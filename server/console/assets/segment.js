// A segment's page: its rule in words (the lines `segflow segments show` prints), where it comes from (a config file
// and line, read-only; or the console, with its version and an archive button; once archived, "empty it in the
// tools": a dry run of the removes per destination with a sample of people, then the confirmed removes and their
// outcome), its size over time with entries and exits, its members (search, paging, CSV export, links to contacts),
// and per destination the last delivery and who is left out or refused now, and why. Without a key: every segment,
// config and console alike.
import {
  action,
  api,
  badge,
  chart,
  el,
  fill,
  leftOut,
  load,
  narrow,
  number,
  query,
  role,
  status,
  table,
  when,
} from './console.js';

const PER_PAGE = 25;
const STATUS_WORDS = { rejected: 'refused by the tool', skipped: 'left out', retryable: 'to be tried again' };

load(async () => {
  const key = query('key');
  if (!key) {
    await library();
    return;
  }
  const known = (await api('/library/segments?archived=true')).segments.some((s) => s.key === key);
  if (!known) {
    document.getElementById('library').hidden = false;
    await library();
    status(`There is no segment "${key}". Choose one below.`, 'error');
    return;
  }
  await detail(key);
});

async function library() {
  document.getElementById('library').hidden = false;
  const { segments } = await api('/library/segments?archived=true');
  fill(
    'library-list',
    table(
      [
        {
          label: 'Segment',
          value: (s) => el('a', { href: `/console/segment?key=${encodeURIComponent(s.key)}` }, s.name),
        },
        { label: 'Key', value: (s) => el('code', {}, s.key) },
        {
          label: 'From',
          value: (s) => (s.origin === 'config' ? `${s.file}:${s.line}` : `console, version ${s.version}`),
        },
        { label: 'State', value: (s) => (s.archived ? badge('archived') : s.readOnly ? 'read-only' : 'editable') },
      ],
      segments,
      { empty: 'No segments yet: add some to the config, or make one in the builder.' },
    ),
  );
}

async function detail(key) {
  document.getElementById('segment-detail').hidden = false;
  const [segment, who] = await Promise.all([api(`/segments/${encodeURIComponent(key)}`), role()]);
  document.querySelector('h1').textContent = `Segment: ${segment.name}`;
  document.title = `${segment.name} · segflow`;
  drawOrigin(segment, who === 'admin');
  fill('segment-words', segment.words.join('\n'));
  drawSizes(segment.trend);
  drawDeliveries(segment);
  const form = document.getElementById('member-search');
  const input = document.getElementById('member-q');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    members(key, input.value.trim(), 1).catch((error) => status(error.message, 'error'));
  });
  await members(key, '', 1);
}

function drawOrigin(segment, canAct) {
  const o = segment.origin;
  const builder = `/console/builder?key=${encodeURIComponent(segment.key)}`;
  if (o.kind === 'config') {
    fill('segment-origin', `From the config file ${o.file}, line ${o.line}: read-only here, edit it there.`);
    fill('segment-actions', el('a', { href: builder, class: 'button secondary' }, 'Open in the builder (read-only)'));
    return;
  }
  fill(
    'segment-origin',
    `Made in the console: version ${segment.version}, saved by ${o.savedBy} on ${when(o.savedAt)}`,
    o.tags.length ? `; tags ${o.tags.join(', ')}` : '',
    '. ',
    o.archived ? badge('archived') : '',
    o.archived ? ' No job pushes it while it is archived.' : '',
  );
  const actions = [];
  if (!o.archived) actions.push(el('a', { href: builder, class: 'button secondary', id: 'edit-segment' }, 'Edit'));
  if (canAct)
    actions.push(
      action(
        o.archived ? 'Restore' : 'Archive',
        async () => {
          const saved = await api(`/library/segments/${encodeURIComponent(segment.key)}/archive`, {
            method: 'POST',
            body: { version: segment.version, archived: !o.archived },
          });
          status(
            saved.archived
              ? 'Archived: jobs stop pushing it. The tools keep their members until you empty them.'
              : 'Restored: jobs push it again.',
          );
          drawOrigin(
            { ...segment, version: saved.version, origin: { ...o, archived: saved.archived, savedAt: saved.savedAt } },
            canAct,
          );
        },
        { kind: o.archived ? undefined : 'danger', id: 'archive-segment' },
      ),
    );
  if (canAct && o.archived)
    actions.push(
      action('Empty it in the tools…', () => planEmptying(segment), {
        kind: 'secondary',
        id: 'empty-segment',
        title: 'See first what would be removed from each tool, then confirm',
      }),
    );
  fill('segment-actions', actions);
  if (!o.archived) fill('empty-panel');
}

const emptyPath = (segment) => `/segments/${encodeURIComponent(segment.key)}/empty`;
const plural = (n, word) => `${number(n)} ${word}${n === 1 ? '' : 's'}`;

/** The dry run of emptying the segment in the tools: what each destination would lose, and a confirm button. */
async function planEmptying(segment) {
  const plan = await api(emptyPath(segment), { method: 'POST', body: { dryRun: true } });
  const elsewhere = plan.notInConfig.length
    ? el(
        'p',
        { class: 'hint' },
        `Also delivered to ${plan.notInConfig.join(', ')}, which the config no longer has: left as they are.`,
      )
    : null;
  if (plan.status === 'nothing') {
    fill(
      'empty-panel',
      el('p', { class: 'empty', id: 'empty-nothing' }, 'No tool holds members of this segment: nothing to remove.'),
      elsewhere,
    );
    return;
  }
  fill(
    'empty-panel',
    el('h3', {}, 'Dry run: what emptying it in the tools would remove'),
    table(
      [
        { label: 'Destination', value: (d) => d.destination },
        { label: 'Holds', value: (d) => d.held, numeric: true },
        { label: 'Would remove', value: (d) => d.removed, numeric: true },
        { label: 'Some of them', value: (d) => people(d.sample) },
      ],
      plan.destinations,
      {
        caption: `${plural(plan.removed, 'remove')} planned; nothing has been sent yet`,
        empty: 'Nothing to remove.',
      },
    ),
    elsewhere,
    el(
      'p',
      { class: 'actions' },
      action(`Remove ${plural(plan.removed, 'member')} from the tools`, () => confirmEmptying(segment), {
        kind: 'danger',
        id: 'confirm-empty',
      }),
      action('Cancel', () => fill('empty-panel'), { kind: 'secondary', id: 'cancel-empty' }),
    ),
  );
}

/** Sends the removes, then shows how each destination took them and the run that recorded them. */
async function confirmEmptying(segment) {
  status('Removing its members from the tools…');
  const done = await api(emptyPath(segment), { method: 'POST', body: {} });
  status(
    done.status === 'nothing'
      ? 'No tool held members of this segment any more: nothing was sent.'
      : `Emptied in the tools: ${plural(done.removed, 'member')} removed${done.rejected ? `, ${number(done.rejected)} refused` : ''} (${done.status}).`,
    done.status === 'succeeded' || done.status === 'nothing' ? 'info' : 'error',
  );
  fill(
    'empty-panel',
    el(
      'h3',
      { id: 'empty-outcome' },
      done.runId ? 'Emptied in the tools: run ' : 'Emptied in the tools',
      done.runId ? el('a', { href: `/console/runs?id=${done.runId}` }, `#${done.runId}`) : null,
    ),
    table(
      [
        { label: 'Destination', value: (d) => d.destination },
        { label: 'Status', value: (d) => badge(d.status) },
        { label: 'Removed', value: (d) => d.removed, numeric: true },
        { label: 'Refused', value: (d) => d.rejected, numeric: true },
        { label: 'Left to retry', value: (d) => d.pending, numeric: true },
        { label: 'Why', value: (d) => d.error ?? null },
      ],
      done.destinations,
      { caption: 'What each tool took', empty: 'Nothing was sent: no tool held members of this segment.' },
    ),
  );
  drawDeliveries(await api(`/segments/${encodeURIComponent(segment.key)}`));
}

function people(sample) {
  if (!sample || sample.length === 0) return null;
  return el(
    'ul',
    { class: 'sample' },
    sample.map((p) => el('li', {}, p.email ?? p.externalIds[0] ?? `contact ${p.contactId}`)),
  );
}

function drawSizes(trend) {
  chart('size-chart', {
    type: 'line',
    data: {
      labels: trend.map((t) => when(t.evaluatedAt)),
      datasets: [
        { label: 'members', data: trend.map((t) => t.size), borderColor: '#1f77b4', backgroundColor: '#1f77b4' },
        { label: 'entered', data: trend.map((t) => t.entered), borderColor: '#2ca02c', backgroundColor: '#2ca02c' },
        { label: 'exited', data: trend.map((t) => t.exited), borderColor: '#d62728', backgroundColor: '#d62728' },
      ],
    },
    options: {
      plugins: { legend: { position: narrow() ? 'bottom' : 'top' } },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: narrow() ? 3 : 8 } },
        y: { beginAtZero: true, title: { display: true, text: 'contacts' } },
      },
    },
  });
  fill(
    'size-table',
    table(
      [
        { label: 'Evaluated', value: (t) => when(t.evaluatedAt) },
        { label: 'Members', value: (t) => t.size, numeric: true },
        { label: 'Entered', value: (t) => t.entered, numeric: true },
        { label: 'Exited', value: (t) => t.exited, numeric: true },
      ],
      [...trend].reverse(),
      { caption: 'Entries and exits per evaluation, the newest first', empty: 'Not evaluated yet: a job computes it.' },
    ),
  );
}

function drawDeliveries(segment) {
  fill(
    'delivery-list',
    table(
      [
        { label: 'Destination', value: (d) => d.destination },
        { label: 'Run', value: (d) => el('a', { href: `/console/runs?id=${d.runId}` }, `#${d.runId}`) },
        { label: 'When', value: (d) => when(d.at) },
        { label: 'Status', value: (d) => badge(d.status) },
        { label: 'Added', value: (d) => d.added, numeric: true },
        { label: 'Removed', value: (d) => d.removed, numeric: true },
        { label: 'Left out', value: (d) => leftOut(d) },
        { label: 'Rejected', value: (d) => d.rejected, numeric: true },
        { label: 'Why', value: (d) => d.error ?? d.configError ?? null },
      ],
      segment.deliveries,
      { caption: 'The last delivery to each destination', empty: 'No job has pushed this segment yet.' },
    ),
  );
  fill(
    'delivery-reasons',
    table(
      [
        { label: 'Destination', value: (r) => r.destination },
        { label: 'What', value: (r) => STATUS_WORDS[r.status] ?? r.status },
        { label: 'Why', value: (r) => r.reason ?? 'no reason given' },
        { label: 'Contacts', value: (r) => r.contacts, numeric: true },
      ],
      segment.reasons,
      { caption: 'Left out or refused now', empty: 'Nobody is left out or refused.' },
    ),
  );
}

async function members(key, q, page) {
  const params = new window.URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
  if (q) params.set('q', q);
  const answer = await api(`/segments/${encodeURIComponent(key)}/members?${params}`);
  document.getElementById('members-csv').href =
    `/segments/${encodeURIComponent(key)}/members.csv${q ? `?q=${encodeURIComponent(q)}` : ''}`;
  const accounts = answer.kind === 'accounts';
  const columns = accounts
    ? [
        {
          label: 'Account',
          value: (a) =>
            el(
              'a',
              { href: `/console/accounts?id=${encodeURIComponent(a.accountId)}` },
              a.name ?? `Account ${a.accountId}`,
            ),
        },
        { label: 'Domain', value: (a) => a.domain },
        { label: 'People', value: (a) => number(a.members) },
        { label: 'Member since', value: (a) => when(a.enteredAt) },
      ]
    : null;
  fill(
    'member-list',
    table(
      columns ?? [
        {
          label: 'Contact',
          value: (m) =>
            m.email
              ? el('a', { href: `/console/contacts?email=${encodeURIComponent(m.email)}` }, m.email)
              : `contact #${m.contactId}`,
        },
        { label: 'Name', value: (m) => [m.firstName, m.lastName].filter(Boolean).join(' ') || null },
        { label: 'Member since', value: (m) => when(m.enteredAt) },
      ],
      answer.members,
      {
        caption: `${number(answer.total)} ${accounts ? 'account' : 'member'}${answer.total === 1 ? '' : 's'}${q ? ` matching “${q}”` : ''}; page ${answer.page} of ${answer.pages}`,
        empty: q ? `No member matches “${q}”.` : 'No members.',
      },
    ),
  );
  const pager = [];
  if (page > 1) pager.push(pageButton('Previous page', () => members(key, q, page - 1), 'members-previous'));
  if (page < answer.pages) pager.push(pageButton('Next page', () => members(key, q, page + 1), 'members-next'));
  fill('member-pager', pager);
}

function pageButton(label, go, id) {
  const button = el('button', { type: 'button', class: 'secondary', id }, label);
  button.addEventListener('click', () => go().catch((error) => status(error.message, 'error')));
  return button;
}
