// Activity: every change and action made through the API or the console, newest first, with the token's role.
import { badge, el, fill, load, api, status, table } from './console.js';

const PAGE = 50;
let page = 0;
const entries = [];

const WORDS = {
  'job.run': 'started a run of job',
  'job.dry_run': 'planned a dry run of job',
  'job.unlock': 'cleared the lock of job',
  'run.cancel': 'cancelled run',
  'run.retry': 'retried the rejected rows of run',
  'connection.check': 'checked connection',
  'contact.erase': 'erased contact',
  'segment.empty': 'removed from the tools the members of segment',
  'segment.empty_dry_run': 'planned removing from the tools the members of segment',
};

load(async () => {
  await more();
  document
    .getElementById('activity-older')
    .addEventListener('click', () => more().catch((error) => status(error.message, 'error')));
});

async function more() {
  page += 1;
  const answer = await api(`/activity?per_page=${PAGE}&page=${page}`);
  entries.push(...answer.entries);
  document.getElementById('activity-older').hidden = page >= answer.pages;
  fill(
    'activity-log',
    table(
      [
        { label: 'When', value: (e) => new Date(e.at).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' },
        { label: 'Role', value: (e) => e.role ?? 'unknown' },
        { label: 'Action', value: (e) => describe(e) },
        { label: 'Outcome', value: (e) => outcome(e) },
      ],
      entries,
      { caption: `${entries.length} of ${answer.total} entries`, empty: 'Nothing has been changed or started yet.' },
    ),
  );
}

function describe(entry) {
  const words = WORDS[entry.action];
  if (!words) return el('code', {}, entry.action);
  const target =
    entry.action.startsWith('run.') && entry.target
      ? el('a', { href: `/console/runs?id=${encodeURIComponent(entry.target)}` }, `#${entry.target}`)
      : entry.action === 'contact.erase'
        ? `#${entry.target}`
        : (entry.target ?? '');
  return el('span', {}, `${words} `, target);
}

function outcome(entry) {
  const ok = entry.status < 400;
  const detail = entry.detail ?? {};
  const parts = [];
  if (entry.status === 403) parts.push('refused: the read-only token cannot act');
  else if (!ok) parts.push(`refused (${entry.status})`);
  if (detail.runId !== undefined) parts.push(`run #${detail.runId}`);
  if (detail.requeued !== undefined) parts.push(`${detail.requeued} rows requeued`);
  if (detail.removed !== undefined) parts.push(`${detail.removed} ${detail.dryRun ? 'to remove' : 'removed'}`);
  if (detail.ok !== undefined) parts.push(detail.ok ? 'works' : 'check failed');
  if (detail.destinations)
    parts.push(
      Object.entries(detail.destinations)
        .map(([d, s]) => `${d}: ${s}`)
        .join(', '),
    );
  return el('span', {}, badge(ok ? 'succeeded' : 'failed'), ' ', parts.join('; '));
}
