// Overview: what the store holds, alerts (drift, failed runs, changes waiting), the last runs and segment sizes.
import { api, badge, el, figures, fill, load, number, percent, table, when } from './console.js';

load(async () => {
  const [segments, runs, overview] = await Promise.all([api('/segments'), api('/runs?limit=5'), api('/overview')]);
  const list = segments.segments;
  const recent = runs.runs;

  fill(
    'totals',
    figures([
      ['Contacts', overview.contacts],
      ['Identities', overview.identities],
      ['Events', overview.events],
      ['Segments', list.length],
      ['Members (all segments)', list.reduce((sum, s) => sum + (s.size ?? 0), 0)],
      ['Suppressed', overview.suppressions],
    ]),
  );

  const alerts = [];
  for (const s of list.filter((s) => s.drift)) {
    alerts.push(el('p', { class: 'alert' }, `Drift: ${s.name ?? s.key} changed by ${percent(s.changedShare)} in its last evaluation.`));
  }
  for (const run of recent.filter((r) => r.status === 'failed' || r.status === 'partial')) {
    alerts.push(
      el('p', { class: 'alert bad' }, `Run #${run.id} of ${run.job} ${run.status} (${when(run.startedAt)})${run.error ? `: ${run.error}` : ''}.`),
    );
  }
  for (const [destination, waiting] of Object.entries(overview.waiting ?? {})) {
    if (waiting > 0) alerts.push(el('p', { class: 'alert' }, `${number(waiting)} changes waiting to be retried for ${destination}.`));
  }
  fill('alerts', alerts.length ? alerts : el('p', { class: 'empty' }, 'No alerts.'));

  fill(
    'recent-runs',
    table(
      [
        { label: 'Run', value: (r) => el('a', { href: `/console/runs?id=${r.id}` }, `#${r.id}`) },
        { label: 'Job', value: (r) => r.job },
        { label: 'Status', value: (r) => badge(r.status) },
        { label: 'Started', value: (r) => when(r.startedAt) },
        { label: 'Read', value: (r) => r.counts?.read ?? null, numeric: true },
        { label: 'Added', value: (r) => r.counts?.added ?? null, numeric: true },
        { label: 'Removed', value: (r) => r.counts?.removed ?? null, numeric: true },
        { label: 'Rejected', value: (r) => r.counts?.rejected ?? null, numeric: true },
      ],
      recent,
      { empty: 'No runs yet.' },
    ),
  );

  fill(
    'segment-sizes',
    table(
      [
        { label: 'Segment', value: (s) => el('a', { href: `/console/segments?key=${encodeURIComponent(s.key)}` }, s.name ?? s.key) },
        { label: 'Members', value: (s) => s.size, numeric: true },
        { label: 'Stability', value: (s) => percent(s.stability), numeric: true },
        { label: 'Drift', value: (s) => (s.drift ? 'yes' : 'no') },
      ],
      list,
      { empty: 'No segments evaluated yet.' },
    ),
  );
});
