// Segments: sizes over time (one line per segment), every segment with its tags (filtered by a tag), a profile per
// segment against the base, and the migration between the last two evaluations as a stacked bar chart (where each
// segment's members of the earlier run went).
import {
  PALETTE,
  api,
  chart,
  el,
  fill,
  latestOf,
  load,
  number,
  narrow,
  percent,
  picker,
  query,
  remember,
  status,
  table,
  when,
} from './console.js';

const NONE = '(none)';
const NONE_COLOUR = '#9ca3af';
/** The segments chosen for plotting, in the order they are coloured; the migration chart plots the same ones. */
const chosen = new Set();
let migration;
let migrationNames;

/** Segments plotted when the address names none: the largest ones, few enough to read. */
const DEFAULT_PLOTTED = 6;

load(async () => {
  const data = await api('/segments');
  const { segments } = data;
  const names = new Map(segments.map((s) => [s.key, s.name ?? s.key]));
  // Every evaluation any segment took part in, oldest first: the x axis.
  const runs = new Map();
  for (const s of segments) for (const t of s.trend) runs.set(t.runId, t.evaluatedAt);
  const runIds = [...runs.keys()].sort((a, b) => a - b);

  sizesChart(segments, names, runs, runIds);

  showList(data, names);

  if (segments.length > 0) {
    const wanted = query('key');
    const known = wanted === null || segments.some((s) => s.key === wanted);
    const options = segments.map((s) => ({ value: s.key, label: names.get(s.key) }));
    if (!known) options.unshift({ value: '', label: 'Choose a segment' });
    const shown = picker('segment-key', options, known ? (wanted ?? segments[0].key) : '', (key) => {
      remember('key', key);
      showProfile(key).catch((error) => status(error.message, 'error'));
    });
    if (known) await showProfile(shown);
    else
      fill(
        'segment-profile',
        el('p', { class: 'alert bad', role: 'alert' }, `There is no segment "${wanted}". Choose one above.`),
      );
  } else {
    fill('segment-profile', el('p', { class: 'empty' }, 'No segments evaluated yet.'));
  }

  if (runIds.length < 2) {
    fill('migration-runs', 'Migration needs two evaluations; there is at most one so far.');
    return;
  }
  await showMigration(names);
});

/**
 * Every segment (people, then accounts) with its tags; the tag filter above the table keeps those with the chosen tag
 * (kept in the address as `tag=`).
 */
function showList(data, names) {
  const rows = [
    ...data.segments.map((s) => ({ ...s, latest: latestOf(s) })),
    ...(data.accountSegments ?? []).map((s) => ({ ...s, latest: undefined })),
  ];
  const tags = [...new Set(rows.flatMap((s) => s.tags ?? []))].sort();
  let chosenTag = tags.includes(query('tag')) ? query('tag') : '';
  const filter = el(
    'select',
    { id: 'tag-filter', 'aria-label': 'tag' },
    el('option', { value: '' }, 'every tag'),
    tags.map((t) => el('option', { value: t, selected: t === chosenTag }, t)),
  );
  const draw = () => {
    const shown = chosenTag === '' ? rows : rows.filter((s) => (s.tags ?? []).includes(chosenTag));
    fill(
      'segment-list',
      tags.length > 0
        ? el(
            'form',
            { class: 'inline', id: 'tag-pick' },
            el('label', { for: 'tag-filter' }, 'Segments tagged '),
            filter,
          )
        : null,
      table(
        [
          {
            label: 'Segment',
            value: (s) =>
              s.kind === 'accounts'
                ? s.origin === 'console'
                  ? el('a', { href: `/console/builder?key=${encodeURIComponent(s.key)}` }, s.name ?? s.key)
                  : (s.name ?? s.key)
                : el('a', { href: `/console/segment?key=${encodeURIComponent(s.key)}` }, names.get(s.key)),
          },
          { label: 'Key', value: (s) => el('code', {}, s.key) },
          { label: 'Of', value: (s) => (s.kind === 'accounts' ? 'accounts' : 'people') },
          { label: 'Tags', value: (s) => (s.tags ?? []).join(', ') || null },
          { label: 'Members', value: (s) => s.size, numeric: true },
          { label: 'Entered', value: (s) => s.latest?.entered ?? null, numeric: true },
          { label: 'Exited', value: (s) => s.latest?.exited ?? null, numeric: true },
          { label: 'Stability', value: (s) => percent(s.latest?.stability), numeric: true },
          { label: 'Drift', value: (s) => (s.latest ? (s.latest.drift ? 'yes' : 'no') : null) },
        ],
        shown,
        {
          caption: 'As of the last evaluation',
          empty: chosenTag ? `No segment is tagged ${chosenTag}.` : 'No segments evaluated yet.',
        },
      ),
    );
  };
  filter.addEventListener('change', () => {
    chosenTag = filter.value;
    remember('tag', chosenTag);
    draw();
  });
  draw();
}

/**
 * Sizes over time: one line per chosen segment (by default the largest few), each its own colour; the checkboxes
 * under the chart choose, at most as many as there are colours, and the choice is kept in the address (`plot=`).
 */
function sizesChart(segments, names, runs, runIds) {
  const bySize = [...segments].sort((a, b) => (b.size ?? -1) - (a.size ?? -1));
  const asked = (query('plot') ?? '').split(',').filter((k) => names.has(k));
  for (const key of (asked.length ? asked : bySize.slice(0, DEFAULT_PLOTTED).map((s) => s.key)).slice(
    0,
    PALETTE.length,
  ))
    chosen.add(key);
  const draw = () => {
    const plotted = segments.filter((s) => chosen.has(s.key));
    const colourOf = new Map(plotted.map((s, i) => [s.key, PALETTE[i]]));
    chart('sizes-chart', {
      type: 'line',
      data: {
        labels: runIds.map((id) => when(runs.get(id))),
        datasets: plotted.map((s) => ({
          label: names.get(s.key),
          data: runIds.map((id) => s.trend.find((t) => t.runId === id)?.size ?? null),
          borderColor: colourOf.get(s.key),
          backgroundColor: colourOf.get(s.key),
          spanGaps: true,
        })),
      },
      options: {
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: narrow() ? 3 : 8 } },
          y: { beginAtZero: true, title: { display: true, text: 'members' } },
        },
      },
    });
    for (const box of document.querySelectorAll('#sizes-pick input')) {
      box.disabled = !box.checked && chosen.size >= PALETTE.length;
      const swatch = box.parentElement.querySelector('.swatch');
      swatch.style.background = colourOf.get(box.value) ?? 'transparent';
      swatch.style.border = colourOf.has(box.value) ? 'none' : '1px solid #9ca3af';
    }
  };
  fill(
    'sizes-pick',
    el('legend', {}, `Segments to plot (at most ${PALETTE.length}; the legend is these boxes)`),
    bySize.map((s) =>
      el(
        'label',
        {},
        el('input', { type: 'checkbox', value: s.key, checked: chosen.has(s.key) }),
        el('span', { class: 'swatch', 'aria-hidden': 'true' }),
        names.get(s.key),
      ),
    ),
  );
  document.getElementById('sizes-pick').addEventListener('change', (event) => {
    const box = event.target;
    if (box.checked) chosen.add(box.value);
    else chosen.delete(box.value);
    remember('plot', [...chosen].join(','));
    draw();
    if (migration) drawMigration();
  });
  draw();
}

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
          // an index compares two positive means; a mean that can be negative (a trend) has none
          value: (f) =>
            f.members !== null && f.members >= 0 && f.base > 0 ? number((100 * f.members) / f.base, 0) : null,
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
  migration = await api('/segments/migration');
  migrationNames = names;
  const { from, to } = migration;
  fill(
    'migration-runs',
    `From the evaluation of ${when(from.evaluatedAt)} to that of ${when(to.evaluatedAt)}, for the segments plotted above: ` +
      `who stayed, and where those who left a segment went ("${NONE}": left every segment, or came from none).`,
  );
  drawMigration();
  const label = (key) => (key === null ? NONE : (names.get(key) ?? key));
  const { cells } = migration;
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
        { caption: 'Every segment' },
      ),
    ),
  );
}

/** The migration among the plotted segments: a bar per segment before, split by where its members are after. */
function drawMigration() {
  const names = migrationNames;
  const label = (key) => (key === null ? NONE : (names.get(key) ?? key));
  const shown = (key) => key === null || chosen.has(key);
  const cells = migration.cells.filter((c) => shown(c.from) && shown(c.to) && !(c.from === null && c.to === null));
  const order = [...chosen, null];
  const befores = order.filter((k) => cells.some((c) => c.from === k));
  const afters = order.filter((k) => cells.some((c) => c.to === k));
  const colourOf = (key) => (key === null ? NONE_COLOUR : PALETTE[[...chosen].indexOf(key)]);
  const count = (f, t) => cells.find((c) => c.from === f && c.to === t)?.contacts ?? 0;
  chart('migration-chart', {
    type: 'bar',
    data: {
      labels: befores.map(label),
      datasets: afters.map((t) => ({
        label: `→ ${label(t)}`,
        data: befores.map((f) => count(f, t)),
        backgroundColor: colourOf(t),
      })),
    },
    options: {
      indexAxis: 'y',
      plugins: { legend: { position: 'bottom' } },
      scales: {
        x: { stacked: true, title: { display: true, text: 'contacts' } },
        y: { stacked: true, title: { display: true, text: 'segment before' } },
      },
    },
  });
}
