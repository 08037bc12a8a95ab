// Overview: what the store holds, alerts (drift, failed runs, changes waiting), the last runs and segment sizes.
import { api, badge, el, figures, fill, latestOf, load, metrics, number, percent, table, when } from './console.js';

load(async () => {
  const [segments, runs, samples] = await Promise.all([api('/segments'), api('/runs?per_page=5'), metrics()]);
  const list = segments.segments.map((s) => ({ ...s, latest: latestOf(s) }));
  const recent = runs.runs;
  const waiting = [...samples].filter(([name]) => name.startsWith('segflow_changes_waiting{'));

  fill(
    'totals',
    figures([
      ['Contacts', samples.get('segflow_contacts')],
      ['Events', samples.get('segflow_events')],
      ['Segments', list.length],
      ['Members (all segments)', list.reduce((sum, s) => sum + (s.size ?? 0), 0)],
      ['Runs', runs.total],
      ['Suppressed', samples.get('segflow_suppressions')],
    ]),
  );

  const alerts = [];
  for (const s of list.filter((s) => s.latest?.drift)) {
    alerts.push(
      el(
        'p',
        { class: 'alert' },
        `Drift: ${s.name ?? s.key} changed by ${percent(s.latest.changedShare)} in its last evaluation.`,
      ),
    );
  }
  for (const run of recent.filter((r) => r.status === 'failed' || r.status === 'partial')) {
    alerts.push(
      el(
        'p',
        { class: 'alert bad' },
        `Run #${run.id} of ${run.job} ${run.status} (${when(run.startedAt)})${run.error ? `: ${run.error}` : ''}.`,
      ),
    );
  }
  for (const [name, n] of waiting) {
    const destination = /destination="([^"]*)"/.exec(name)?.[1] ?? name;
    if (n > 0)
      alerts.push(el('p', { class: 'alert' }, `${number(n)} changes waiting to be retried for ${destination}.`));
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
        {
          label: 'Segment',
          value: (s) => el('a', { href: `/console/segments?key=${encodeURIComponent(s.key)}` }, s.name ?? s.key),
        },
        { label: 'Members', value: (s) => s.size, numeric: true },
        { label: 'Stability', value: (s) => percent(s.latest?.stability), numeric: true },
        { label: 'Drift', value: (s) => (s.latest ? (s.latest.drift ? 'yes' : 'no') : null) },
      ],
      list,
      { empty: 'No segments evaluated yet.' },
    ),
  );
});
