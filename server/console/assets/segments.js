// Segments: sizes over time (one line per segment), a profile per segment against the base, and the migration
// between the last two evaluations as a stacked bar chart (where each segment's members of the earlier run went).
import {
  ApiError,
  PALETTE,
  api,
  chart,
  el,
  fill,
  latestOf,
  load,
  number,
  percent,
  picker,
  query,
  remember,
  status,
  table,
  when,
} from './console.js';

const NONE = '(none)';

load(async () => {
  const { segments } = await api('/segments');
  const names = new Map(segments.map((s) => [s.key, s.name ?? s.key]));
  // Every evaluation any segment took part in, oldest first: the x axis.
  const runs = new Map();
  for (const s of segments) for (const t of s.trend) runs.set(t.runId, t.evaluatedAt);
  const runIds = [...runs.keys()].sort((a, b) => a - b);

  chart('sizes-chart', {
    type: 'line',
    data: {
      labels: runIds.map((id) => when(runs.get(id))),
      datasets: segments.map((s, i) => ({
        label: names.get(s.key),
        data: runIds.map((id) => s.trend.find((t) => t.runId === id)?.size ?? null),
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length],
        spanGaps: true,
      })),
    },
    options: {
      plugins: { legend: { position: 'right' } },
      scales: { y: { beginAtZero: true, title: { display: true, text: 'members' } } },
    },
  });

  fill(
    'segment-list',
    table(
      [
        { label: 'Segment', value: (s) => names.get(s.key) },
        { label: 'Key', value: (s) => el('code', {}, s.key) },
        { label: 'Members', value: (s) => s.size, numeric: true },
        { label: 'Entered', value: (s) => s.latest?.entered ?? null, numeric: true },
        { label: 'Exited', value: (s) => s.latest?.exited ?? null, numeric: true },
        { label: 'Stability', value: (s) => percent(s.latest?.stability), numeric: true },
        { label: 'Drift', value: (s) => (s.latest ? (s.latest.drift ? 'yes' : 'no') : null) },
      ],
      segments.map((s) => ({ ...s, latest: latestOf(s) })),
      { caption: 'As of the last evaluation', empty: 'No segments evaluated yet.' },
    ),
  );

  if (segments.length > 0) {
    const wanted = query('key');
    const first = segments.some((s) => s.key === wanted) ? wanted : segments[0].key;
    const options = segments.map((s) => ({ value: s.key, label: names.get(s.key) }));
    const shown = picker('segment-key', options, first, (key) => {
      remember('key', key);
      showProfile(key).catch((error) => status(error.message, 'error'));
    });
    await showProfile(shown);
  } else {
    fill('segment-profile', el('p', { class: 'empty' }, 'No segments evaluated yet.'));
  }

  await showMigration(names);
});

async function showProfile(key) {
  const segment = await api(`/segments/${encodeURIComponent(key)}`);
  const profile = segment.profile;
  const described = segment.description;
  const latest = segment.latest;
  const shown = profile.features.filter((f) => f.members !== null || f.base !== null);
  fill(
    'segment-profile',
    described ? el('p', {}, described) : null,
    el(
      'p',
      { class: 'hint' },
      `${number(profile.members)} members of ${number(profile.base)} contacts (${percent(profile.base ? profile.members / profile.base : null)}).`,
      latest
        ? ` Last evaluated ${when(latest.evaluatedAt)}: ${number(latest.entered)} entered, ${number(latest.exited)} left, stability ${percent(latest.stability)}.`
        : '',
    ),
    (latest?.driftAlerts ?? []).map((a) => el('p', { class: 'alert' }, a)),
    table(
      [
        { label: 'Feature', value: (f) => el('code', {}, f.feature) },
        { label: 'Members (mean)', value: (f) => f.members, numeric: true },
        { label: 'All contacts (mean)', value: (f) => f.base, numeric: true },
        {
          label: 'Index',
          value: (f) => (f.members !== null && f.base ? number((100 * f.members) / f.base, 0) : null),
          numeric: true,
        },
      ],
      shown,
      { caption: 'Mean of each feature; index 100 = the base', empty: 'No features computed yet.' },
    ),
    table(
      [
        { label: 'Email consent', value: (c) => c.status },
        { label: 'Members', value: (c) => c.members, numeric: true },
        { label: 'All contacts', value: (c) => c.base, numeric: true },
      ],
      profile.consent,
      { caption: 'Consent mix' },
    ),
  );
}

async function showMigration(names) {
  let migration;
  try {
    migration = await api('/segments/migration');
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    fill('migration-runs', 'Migration needs two evaluations; there is at most one so far.');
    return;
  }
  const { cells, from, to } = migration;
  const label = (key) => (key === null ? NONE : (names.get(key) ?? key));
  fill(
    'migration-runs',
    `From the evaluation of ${when(from.evaluatedAt)} to that of ${when(to.evaluatedAt)}; "${NONE}" is in none of them.`,
  );
  const befores = [...new Set(cells.map((c) => c.from))];
  const afters = [...new Set(cells.map((c) => c.to))];
  const count = (f, t) => cells.find((c) => c.from === f && c.to === t)?.contacts ?? 0;
  chart('migration-chart', {
    type: 'bar',
    data: {
      labels: befores.map(label),
      datasets: afters.map((t, i) => ({
        label: `→ ${label(t)}`,
        data: befores.map((f) => count(f, t)),
        backgroundColor: PALETTE[i % PALETTE.length],
      })),
    },
    options: {
      indexAxis: 'y',
      plugins: { legend: { position: 'right' } },
      scales: {
        x: { stacked: true, title: { display: true, text: 'contacts' } },
        y: { stacked: true, title: { display: true, text: 'segment before' } },
      },
    },
  });
  fill(
    'migration-table',
    el(
      'details',
      {},
      el('summary', {}, 'Migration as a table'),
      table(
        [
          { label: 'Before', value: (c) => label(c.from) },
          { label: 'After', value: (c) => label(c.to) },
          { label: 'Contacts', value: (c) => c.contacts, numeric: true },
        ],
        cells,
      ),
    ),
  );
}
