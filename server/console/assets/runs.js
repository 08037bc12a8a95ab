// Runs: the history of job runs with their counts, and one run's detail with its rejected rows (paged).
import { api, badge, el, figures, fill, load, query, remember, status, table, when } from './console.js';

const PAGE = 20;
let page = 0;
const shownRuns = [];

load(async () => {
  await more();
  document
    .getElementById('older')
    .addEventListener('click', () => more().catch((error) => status(error.message, 'error')));
  const id = query('id') ?? shownRuns[0]?.id;
  if (id !== undefined) await showRun(id);
});

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
        { label: 'Took', value: (r) => took(r), numeric: true },
        { label: 'Read', value: (r) => r.counts?.read ?? null, numeric: true },
        { label: 'Inserted', value: (r) => r.counts?.inserted ?? null, numeric: true },
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

function took(run) {
  if (run.durationMs === null || run.durationMs === undefined) return null;
  const seconds = run.durationMs / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
}

async function showRun(id, errorsPage = 1) {
  const run = await api(`/runs/${encodeURIComponent(id)}?errors_per_page=${PAGE}&errors_page=${errorsPage}`);
  document.getElementById('run-detail').hidden = false;
  fill('run-title', `Run #${run.id} of ${run.job} `, badge(run.status));
  fill(
    'run-counts',
    figures([
      ['Started', when(run.startedAt)],
      ['Finished', when(run.finishedAt)],
      ['Took', took(run)],
      ...Object.entries(run.counts ?? {}).map(([name, value]) => [name, value]),
    ]),
  );
  const rejected = run.rejected;
  const pager = el('p', { class: 'pager' });
  if (errorsPage > 1) {
    const back = el('button', { type: 'button' }, 'Previous rows');
    back.addEventListener('click', () => showRun(id, errorsPage - 1).catch((error) => status(error.message, 'error')));
    pager.append(back, ' ');
  }
  if (errorsPage < rejected.pages) {
    const next = el('button', { type: 'button' }, 'Next rows');
    next.addEventListener('click', () => showRun(id, errorsPage + 1).catch((error) => status(error.message, 'error')));
    pager.append(next);
  }
  fill(
    'run-errors',
    run.error ? el('p', { class: 'alert bad' }, run.error) : null,
    table(
      [
        { label: 'Connection', value: (e) => e.connection ?? null },
        { label: 'Stream', value: (e) => e.stream ?? null },
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
