// Runs: start one (run now, or a dry run that shows the plan), follow one live (server-sent events), cancel it, retry
// its rejected rows; per destination and segment what was added, removed, rejected and skipped, and why; the history.
import {
  action,
  api,
  badge,
  duration,
  el,
  figures,
  fill,
  leftOut,
  load,
  number,
  query,
  remember,
  role,
  status,
  table,
  when,
} from './console.js';

const PAGE = 20;
let page = 0;
const shownRuns = [];
let canAct = false;
let names = new Map();
/** Segments evaluated at least once: a dry run plans the others from no members, so it says so instead. */
let evaluated = new Set();
/** The live stream of the run shown, if it is running. */
let following;

const STATUS_WORDS = {
  running: 'Running.',
  succeeded: 'Succeeded: every stream, segment and destination went through.',
  partial: 'Partial: some streams, segments or destinations failed or left rows rejected; the rest went through.',
  failed: 'Failed: nothing went through.',
  cancelled: 'Cancelled on request: it stopped after its current page or batch; what it had committed stays.',
  abandoned: 'Abandoned: its process stopped without finishing.',
};

load(async () => {
  const [who, segments] = await Promise.all([role(), api('/segments')]);
  canAct = who === 'admin';
  names = new Map(segments.segments.map((s) => [s.key, s.name ?? s.key]));
  evaluated = new Set(segments.segments.filter((s) => s.evaluatedAt).map((s) => s.key));
  if (canAct) await showJobs();
  await more();
  document
    .getElementById('older')
    .addEventListener('click', () => more().catch((error) => status(error.message, 'error')));
  const id = query('id') ?? shownRuns[0]?.id;
  if (id !== undefined) await showRun(id);
});

async function showJobs() {
  const { jobs } = await api('/jobs');
  document.getElementById('start').hidden = false;
  fill(
    'job-start',
    table(
      [
        { label: 'Job', value: (j) => j.name },
        { label: 'Steps', value: (j) => j.steps.join(' → ') },
        { label: 'Last run', value: (j) => (j.lastRun ? badge(j.lastRun.status) : 'never') },
        {
          label: 'Start',
          value: (j) =>
            el(
              'span',
              { class: 'actions' },
              action('Dry run', () => dryRun(j.name), { kind: 'secondary', id: `dry-run-${j.name}` }),
              action('Run now', () => runNow(j.name), { id: `run-now-${j.name}` }),
            ),
        },
      ],
      jobs,
      { empty: 'The config has no jobs.' },
    ),
  );
}

async function dryRun(job) {
  status(`Planning ${job}…`);
  const answer = await api(`/jobs/${encodeURIComponent(job)}/run`, { method: 'POST', body: { dryRun: true } });
  status('');
  const pushes = (answer.plan ?? []).filter((s) => s.kind === 'push');
  const rows = pushes.flatMap((p) => p.outcome.segments.map((s) => ({ destination: p.destination, ...s })));
  fill(
    'dry-run-plan',
    el('h3', {}, `Plan of ${job} (dry run)`),
    table(
      [
        { label: 'Destination', value: (r) => r.destination },
        {
          label: 'Segment',
          value: (r) => (r.accounts ? `${r.segment} (accounts)` : (names.get(r.segment) ?? r.segment)),
        },
        {
          label: 'Adds',
          value: (r) =>
            r.accounts || evaluated.has(r.segment)
              ? r.added
              : 'not evaluated yet: the run computes it, then adds its members',
          numeric: true,
        },
        { label: 'Removes', value: (r) => r.removed, numeric: true },
        { label: 'Updates', value: (r) => r.updated ?? 0, numeric: true },
        { label: 'Left out', value: (r) => r.skipped, numeric: true },
        { label: 'Sample', value: (r) => sample(r.sample) },
      ],
      rows,
      { caption: 'What a run would send now', empty: 'This job pushes nothing.' },
    ),
  );
}

function sample(rows) {
  if (!rows || rows.length === 0) return null;
  return el(
    'ul',
    { class: 'sample' },
    rows
      .slice(0, 5)
      .map((r) =>
        el(
          'li',
          {},
          `${r.op} `,
          r.account
            ? (r.account.name ?? r.account.domain ?? `account ${r.contactId}`)
            : (r.email ?? `contact ${r.contactId}`),
          r.externalIds?.length ? ` (${r.externalIds[0]})` : '',
        ),
      ),
  );
}

async function runNow(job) {
  const answer = await api(`/jobs/${encodeURIComponent(job)}/run`, { method: 'POST', body: {} });
  await opened(answer.runId);
}

/** A run just started (run now, retry): show it live, and list it. */
async function opened(runId) {
  if (runId === null || runId === undefined) return;
  remember('id', runId);
  await refreshHistory();
  await showRun(runId);
}

async function refreshHistory() {
  page = 0;
  shownRuns.length = 0;
  await more();
}

async function more() {
  page += 1;
  const listing = await api(`/runs?per_page=${PAGE}&page=${page}`);
  shownRuns.push(...listing.runs);
  document.getElementById('older').hidden = page >= listing.pages;
  fill(
    'run-history',
    table(
      [
        { label: 'Run', value: (r) => el('a', { href: `/console/runs?id=${r.id}`, 'data-run': r.id }, `#${r.id}`) },
        { label: 'Job', value: (r) => r.job },
        { label: 'Status', value: (r) => badge(r.status) },
        { label: 'Started', value: (r) => when(r.startedAt) },
        { label: 'Took', value: (r) => duration(r.durationMs), numeric: true },
        { label: 'Read', value: (r) => r.counts?.read ?? null, numeric: true },
        { label: 'Added', value: (r) => r.counts?.added ?? null, numeric: true },
        { label: 'Removed', value: (r) => r.counts?.removed ?? null, numeric: true },
        { label: 'Rejected', value: (r) => r.counts?.rejected ?? null, numeric: true },
      ],
      shownRuns,
      { caption: `${shownRuns.length} of ${listing.total} runs, newest first`, empty: 'No runs yet.' },
    ),
  );
  for (const link of document.querySelectorAll('#run-history a[data-run]')) {
    link.addEventListener('click', (event) => {
      event.preventDefault();
      remember('id', link.dataset.run);
      showRun(link.dataset.run).catch((error) => status(error.message, 'error'));
    });
  }
}

async function showRun(id, errorsPage = 1) {
  following?.close();
  following = undefined;
  const run = await api(`/runs/${encodeURIComponent(id)}?errors_per_page=${PAGE}&errors_page=${errorsPage}`);
  const detail = document.getElementById('run-detail');
  detail.hidden = false;
  drawRun(run);
  drawRejected(run, errorsPage);
  // `live` while the page follows the run (and until it has redrawn it after its end)
  detail.dataset.live = String(run.status === 'running');
  if (run.status === 'running') follow(run.id);
}

/** Follows a running run by server-sent events, redrawing it on each change; at its end, its rejected rows. */
function follow(id) {
  const source = new window.EventSource(`/runs/${encodeURIComponent(id)}/events`);
  following = source;
  source.addEventListener('run', (event) => drawRun(JSON.parse(event.data)));
  // the server sends `end` and closes the stream; the browser then reports an error (it would reconnect), which is
  // where the stream is closed for good: closing on `end` itself would cut the response short
  source.addEventListener('error', () => {
    source.close();
    if (following !== source) return;
    following = undefined;
    Promise.all([refreshHistory(), showRun(id)]).catch((error) => status(error.message, 'error'));
  });
}

function drawRun(run) {
  const cancelling = run.status === 'running' && run.cancelRequestedAt;
  fill('run-title', `Run #${run.id} of ${run.job} `, badge(cancelling ? 'cancelling' : run.status));
  document.getElementById('run-detail').dataset.status = run.status;
  const progress = document.getElementById('run-progress');
  progress.hidden = run.status !== 'running';
  const steps = run.report?.steps ?? [];
  const pushes = steps.filter((s) => s.kind === 'push');
  fill(
    'run-outcome',
    el(
      'p',
      { class: run.status === 'succeeded' ? 'hint' : run.status === 'cancelled' ? 'alert notice' : 'alert bad' },
      cancelling ? 'Cancelling: it stops after its current page or batch.' : (STATUS_WORDS[run.status] ?? run.status),
      run.error && run.status !== 'running' ? ` ${run.error}` : '',
    ),
  );
  const actions = [];
  if (canAct && run.status === 'running' && !cancelling)
    actions.push(
      action(
        'Cancel run',
        async () => {
          await api(`/runs/${run.id}/cancel`, { method: 'POST' });
          drawRun({ ...run, cancelRequestedAt: new Date().toISOString() });
        },
        { kind: 'danger', id: 'cancel-run' },
      ),
    );
  const rejected = run.counts?.rejected ?? 0;
  if (canAct && run.status !== 'running' && rejected > 0)
    actions.push(
      action(
        `Retry ${number(rejected)} rejected row${rejected === 1 ? '' : 's'}`,
        async () => {
          const answer = await api(`/runs/${run.id}/retry`, { method: 'POST' });
          status(`${number(answer.requeued)} rows put back in line.`);
          await opened(answer.runId);
        },
        { id: 'retry-run' },
      ),
    );
  fill('run-actions', actions);
  fill(
    'run-counts',
    figures([
      ['Started', when(run.startedAt)],
      ['Finished', run.status === 'running' ? 'not yet' : when(run.finishedAt)],
      ['Took', duration(run.durationMs)],
      ...Object.entries(run.counts ?? {}).map(([name, value]) => [name, value]),
    ]),
  );
  const rows = pushes.flatMap((p) =>
    (p.outcome?.segments ?? []).map((s) => ({ destination: p.destination, configError: p.outcome.configError, ...s })),
  );
  fill(
    'run-pushes',
    table(
      [
        { label: 'Destination', value: (r) => r.destination },
        { label: 'Segment', value: (r) => names.get(r.segment) ?? r.segment },
        { label: 'Status', value: (r) => badge(r.status) },
        { label: 'Added', value: (r) => r.added, numeric: true },
        { label: 'Removed', value: (r) => r.removed, numeric: true },
        { label: 'Rejected', value: (r) => r.rejected, numeric: true },
        { label: 'Waiting', value: (r) => r.pending, numeric: true },
        { label: 'Left out', value: (r) => leftOut(r), numeric: false },
        { label: 'Why', value: (r) => r.error ?? r.configError ?? null },
      ],
      rows,
      { empty: run.status === 'running' ? 'No push has finished yet.' : 'This run pushed nothing.' },
    ),
  );
}

function drawRejected(run, errorsPage) {
  const rejected = run.rejected;
  const pager = el('p', { class: 'pager' });
  if (errorsPage > 1) {
    const back = el('button', { type: 'button' }, 'Previous rows');
    back.addEventListener('click', () =>
      showRun(run.id, errorsPage - 1).catch((error) => status(error.message, 'error')),
    );
    pager.append(back, ' ');
  }
  if (errorsPage < rejected.pages) {
    const next = el('button', { type: 'button' }, 'Next rows');
    next.addEventListener('click', () =>
      showRun(run.id, errorsPage + 1).catch((error) => status(error.message, 'error')),
    );
    pager.append(next);
  }
  fill(
    'run-errors',
    table(
      [
        { label: 'Connection', value: (e) => e.connection ?? null },
        { label: 'Stream or segment', value: (e) => (e.stream ? (names.get(e.stream) ?? e.stream) : null) },
        { label: 'Record', value: (e) => (e.recordKey ? el('code', {}, e.recordKey) : null) },
        { label: 'Reason', value: (e) => e.reason },
      ],
      rejected.rows,
      {
        caption: `${rejected.total} rejected rows (page ${rejected.page} of ${rejected.pages})`,
        empty: 'No rejected rows.',
      },
    ),
    pager,
  );
}
