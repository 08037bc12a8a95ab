// Jobs and connections: each job's schedule, next run and last outcome (start one from the Runs page); each source
// and destination with its connector, its settings (secrets left out) and its last check, and a check on demand.
import { action, api, badge, el, fill, load, role, status, table, when } from './console.js';

let canAct = false;

load(async () => {
  canAct = (await role()) === 'admin';
  await Promise.all([showJobs(), showConnections()]);
});

async function showJobs() {
  const { scheduler, jobs } = await api('/jobs');
  fill(
    'scheduler',
    scheduler === 'alive'
      ? 'The scheduler is running: jobs with a schedule start on their own.'
      : scheduler === 'stopped'
        ? 'The scheduler has stopped: scheduled jobs will not start until the server restarts.'
        : 'No scheduler runs in this server (segflow serve --no-scheduler, or another process runs the schedule).',
  );
  fill(
    'job-list',
    table(
      [
        { label: 'Job', value: (j) => el('strong', {}, j.name) },
        { label: 'What it does', value: (j) => j.description ?? j.steps.join(' → ') },
        {
          label: 'Schedule',
          value: (j) => (j.schedule ? el('code', {}, `${j.schedule} (${j.timezone})`) : 'on demand'),
        },
        { label: 'Next run', value: (j) => (j.nextRun ? when(j.nextRun) : null) },
        {
          label: 'Last outcome',
          value: (j) =>
            j.lastRun
              ? el(
                  'span',
                  {},
                  badge(j.lastRun.status),
                  ' ',
                  el('a', { href: `/console/runs?id=${j.lastRun.id}` }, `#${j.lastRun.id}`),
                  ` ${when(j.lastRun.startedAt)}`,
                )
              : 'never run',
        },
      ],
      jobs,
      { empty: 'The config has no jobs.' },
    ),
  );
}

async function showConnections() {
  const { connections } = await api('/connections');
  const columns = [
    { label: 'Connection', value: (c) => el('strong', {}, c.name) },
    { label: 'Kind', value: (c) => c.kind },
    { label: 'Connector', value: (c) => c.connector },
    {
      label: 'Settings',
      value: (c) =>
        [
          ...Object.entries(c.config).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`),
          ...c.secrets.map((k) => `${k}: (secret)`),
        ].join('; ') || null,
    },
    { label: 'Last check', value: (c) => checkOf(c.lastCheck) },
  ];
  if (canAct)
    columns.push({
      label: 'Check',
      value: (c) =>
        action(
          'Check now',
          async () => {
            const answer = await api(`/connections/${encodeURIComponent(c.name)}/check`, { method: 'POST' });
            status(
              answer.ok ? `${c.name}: the connection works.` : `${c.name}: the check failed.`,
              answer.ok ? 'info' : 'error',
            );
            await showConnections();
          },
          { kind: 'secondary', id: `check-${c.kind}-${c.name}` },
        ),
    });
  fill('connection-list', table(columns, connections, { empty: 'The config has no connections.' }));
}

function checkOf(check) {
  if (!check) return 'not checked since the server started';
  return el(
    'span',
    { class: 'check', 'data-ok': String(check.ok) },
    badge(check.ok ? 'succeeded' : 'failed'),
    ` ${when(check.checkedAt)}`,
    check.reason ? `: ${check.reason}` : '',
  );
}
