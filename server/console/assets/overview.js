// Overview: what the store holds (each contact counted once, as the audit counts), alerts (runs that failed or
// rejected rows, drift, changes waiting, the last audit's warnings), the last runs and segment sizes.
import { api, badge, el, figures, fill, latestOf, load, number, percent, table, when } from './console.js';

load(async () => {
  const [overview, segments, runs] = await Promise.all([api('/overview'), api('/segments'), api('/runs?per_page=5')]);
  const list = segments.segments.map((s) => ({ ...s, latest: latestOf(s) }));
  const recent = runs.runs;

  fill(
    'totals',
    figures([
      ['Contacts', overview.contacts],
      ['In any segment', overview.contactsInAnySegment],
      ['Events', overview.events],
      ['Segments', overview.segments],
      ['Runs', overview.runs],
      ['Erased (suppressed ids)', overview.suppressions],
    ]),
  );

  const alerts = [];
  for (const run of overview.attention) {
    const what =
      run.status === 'succeeded' || run.status === 'partial'
        ? `${run.status}${run.rejected ? ` with ${number(run.rejected)} rejected rows` : ''}`
        : run.status;
    alerts.push(
      el(
        'p',
        { class: `alert${run.status === 'cancelled' ? ' notice' : ' bad'}` },
        el('a', { href: `/console/runs?id=${run.id}` }, `Run #${run.id}`),
        ` of ${run.job} ${what} (${when(run.startedAt)})${run.error ? `: ${run.error}` : ''}.`,
      ),
    );
  }
  for (const s of list.filter((s) => s.latest?.drift)) {
    alerts.push(
      el(
        'p',
        { class: 'alert' },
        `Drift: ${s.name ?? s.key} changed by ${percent(s.latest.changedShare)} in its last evaluation.`,
      ),
    );
  }
  for (const [destination, n] of Object.entries(overview.waiting ?? {})) {
    if (n > 0)
      alerts.push(el('p', { class: 'alert' }, `${number(n)} changes waiting to be retried for ${destination}.`));
  }
  if (overview.audit && overview.audit.warnings > 0) {
    alerts.push(
      el(
        'p',
        { class: 'alert' },
        el('a', { href: '/console/audit' }, `The audit of ${when(overview.audit.builtAt)}`),
        ` has ${number(overview.audit.warnings)} warning${overview.audit.warnings === 1 ? '' : 's'}`,
        overview.audit.top.length ? `: ${overview.audit.top[0]}` : '',
        overview.audit.warnings > 1 ? ' …' : '.',
      ),
    );
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
      {
        caption: 'A contact can be in several segments: the members do not add up to the contacts.',
        empty: 'No segments evaluated yet.',
      },
    ),
  );
});
