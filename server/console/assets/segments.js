// Segments: sizes over time (one line per segment), a profile per segment against the base, and the migration
// between the last two evaluations as a stacked bar chart (where each segment's members of the earlier run went).
import { PALETTE, api, chart, el, fill, load, number, percent, picker, query, remember, status, table, when } from './console.js';

const NONE = '(none)';

load(async () => {
  const [{ segments }, history] = await Promise.all([api('/segments'), api('/segments/history')]);
  const names = new Map(segments.map((s) => [s.key, s.name ?? s.key]));
  const runs = history.runs;

  chart('sizes-chart', {
    type: 'line',
    data: {
      labels: runs.map((r) => when(r.evaluatedAt)),
      datasets: segments.map((s, i) => ({
        label: names.get(s.key),
        data: runs.map((r) => r.sizes[s.key] ?? null),
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length],
        spanGaps: true,
      })),
    },
    options: { plugins: { legend: { position: 'right' } }, scales: { y: { beginAtZero: true, title: { display: true, text: 'members' } } } },
  });

  fill(
    'segment-list',
    table(
      [
        { label: 'Segment', value: (s) => names.get(s.key) },
        { label: 'Key', value: (s) => el('code', {}, s.key) },
        { label: 'Members', value: (s) => s.size, numeric: true },
        { label: 'Entered', value: (s) => s.entered, numeric: true },
        { label: 'Exited', value: (s) => s.exited, numeric: true },
        { label: 'Stability', value: (s) => percent(s.stability), numeric: true },
        { label: 'Drift', value: (s) => (s.drift ? 'yes' : 'no') },
      ],
      segments,
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

  await showMigration(runs, names);
});

async function showProfile(key) {
  const segment = await api(`/segments/${encodeURIComponent(key)}`);
  const profile = segment.profile;
  const described = segment.definition?.description;
  const shown = profile.features.filter((f) => f.members !== null || f.base !== null);
  fill(
    'segment-profile',
    described ? el('p', {}, described) : null,
    el('p', { class: 'hint' }, `${number(profile.members)} members of ${number(profile.base)} contacts (${percent(profile.base ? profile.members / profile.base : null)}).`),
    table(
      [
        { label: 'Feature', value: (f) => el('code', {}, f.feature) },
        { label: 'Members (mean)', value: (f) => f.members, numeric: true },
        { label: 'All contacts (mean)', value: (f) => f.base, numeric: true },
        { label: 'Index', value: (f) => (f.members !== null && f.base ? number((100 * f.members) / f.base, 0) : null), numeric: true },
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

async function showMigration(runs, names) {
  if (runs.length < 2) {
    fill('migration-runs', 'Migration needs two evaluations; there is only one so far.');
    return;
  }
  const [from, to] = runs.slice(-2);
  const { cells } = await api(`/segments/migration?from=${from.id}&to=${to.id}`);
  const label = (key) => (key === null ? NONE : (names.get(key) ?? key));
  fill('migration-runs', `From the evaluation of ${when(from.evaluatedAt)} to that of ${when(to.evaluatedAt)}; "${NONE}" is in none of them.`);
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
      scales: { x: { stacked: true, title: { display: true, text: 'contacts' } }, y: { stacked: true, title: { display: true, text: 'segment before' } } },
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
