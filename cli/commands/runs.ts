/**
 * `segflow runs <config.yaml> [job]`, `segflow runs <config.yaml> show <id>`, `segflow runs <config.yaml> cancel <id>`
 * and `segflow runs <config.yaml> unlock <job>`: the run history kept in the store, and the jobs' locks.
 */
import { hasEntry, type Config } from '../../config/index.js';
import {
  countRunErrors,
  listRuns,
  openStore,
  readRun,
  readRunErrors,
  requestCancel,
  type SyncRun,
  type Queryable,
  unlockJob,
} from '../../core/index.js';
import { intFlag, parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { loadCommandConfig } from '../config-store.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow runs <config.yaml> [job] [--limit n] [--before id] [--json]
       segflow runs <config.yaml> show <id> [--errors n] [--json]
       segflow runs <config.yaml> cancel <id>
       segflow runs <config.yaml> unlock <job> [--force]

Lists the runs recorded in the store, newest first (of one job, or all): status, start, duration, and counts of
records read, inserted and updated, members added and removed, rows rejected and retries.
  show     one run: its counts, each step with its streams, destinations and timings, and its rejected rows
  cancel   asks a running run (in any process on this store) to stop after its current page or batch
  unlock   clears a job's lock whose holder will not come back (a machine that died), and marks the job's unfinished
           runs abandoned; a holder that was killed on this machine is taken over by the next run without this

options:
  --limit n    runs to list (default 20)
  --before id  list runs older than this one (the next page)
  --errors n   rejected rows to print with show (default 20)
  --json       print JSON instead of text
  --force      unlock even when the holder is a process still running on this machine

exit codes:
  0  printed (or the cancel was requested)
  1  no such run, the run is no longer running (cancel), or the lock's holder is still running (unlock)
  2  the config is invalid, or the command was used wrongly
`;

export const command: Command = {
  summary: "list the runs of the jobs (or show one run, cancel a running one, clear a job's stuck lock)",
  usage: 'runs <config.yaml> [job] | show <id> | cancel <id> | unlock <job>',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    let args;
    let limit: number;
    let errors: number;
    let before: number | undefined;
    try {
      args = parseArgs(argv, { strings: ['limit', 'before', 'errors'], booleans: ['json', 'force'] });
      limit = intFlag(args, 'limit', 20)!;
      errors = intFlag(args, 'errors', 20)!;
      before = intFlag(args, 'before');
      const [, verb, id] = args.positional;
      if (args.positional.length < 1) throw new UsageError('expected a config file');
      if (verb === 'unlock' && args.positional.length !== 3) throw new UsageError('expected a job name after unlock');
      if ((verb === 'show' || verb === 'cancel') && args.positional.length === 3) {
        if (!/^\d+$/.test(id ?? '')) throw new UsageError(`expected a run id after ${verb}, got "${id}"`);
      } else if (args.positional.length > 2 && verb !== 'unlock')
        throw new UsageError('expected a config file and at most a job name');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow runs: ${error.message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const [file, verb, id] = args.positional as [string, string | undefined, string | undefined];
    const config = await loadCommandConfig(file, builtinRegistry());
    if (!config) return EXIT.usage;
    const json = args.flags.has('json');
    const store = await openStore(config.store.path);
    try {
      if (id !== undefined && verb === 'unlock') return await unlock(store, config, id, args.flags.has('force'), json);
      if (id !== undefined && verb === 'cancel') {
        if (!(await requestCancel(store, Number(id)))) {
          process.stderr.write(`segflow runs: run ${id} is not running\n`);
          return EXIT.failed;
        }
        process.stdout.write(`asked run ${id} to stop after its current page or batch\n`);
        return EXIT.ok;
      }
      if (id !== undefined && verb === 'show') return await show(store, Number(id), errors, json);
      const runs = await listRuns(store, {
        ...(verb === undefined ? {} : { job: verb }),
        limit,
        ...(before === undefined ? {} : { before }),
      });
      if (json)
        process.stdout.write(
          `${JSON.stringify(
            runs.map(({ report: _report, ...r }) => r),
            null,
            2,
          )}\n`,
        );
      else for (const line of describeRuns(runs)) process.stdout.write(`${line}\n`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};

async function unlock(store: Queryable, config: Config, job: string, force: boolean, json: boolean): Promise<number> {
  if (!hasEntry(config.jobs, job)) {
    process.stderr.write(`segflow runs: no job "${job}" (jobs: ${Object.keys(config.jobs).join(', ') || 'none'})\n`);
    return EXIT.usage;
  }
  const outcome = await unlockJob(store, job, { force });
  if (json) process.stdout.write(`${JSON.stringify({ job, ...outcome }, null, 2)}\n`);
  if (outcome.live) {
    if (!json)
      process.stderr.write(
        `segflow runs: job "${job}" is held by process ${outcome.live.pid} on this machine, which is still running: stop it, or pass --force\n`,
      );
    return EXIT.failed;
  }
  if (!json) {
    process.stdout.write(outcome.cleared ? `cleared the lock of job "${job}"\n` : `job "${job}" was not locked\n`);
    if (outcome.abandonedRuns.length > 0)
      process.stdout.write(`marked abandoned: run ${outcome.abandonedRuns.join(', run ')}\n`);
  }
  return EXIT.ok;
}

async function show(store: Queryable, id: number, errorLimit: number, json: boolean): Promise<number> {
  const run = await readRun(store, id);
  if (!run) {
    process.stderr.write(`segflow runs: no run ${id} in the store\n`);
    return EXIT.failed;
  }
  const rejected = await readRunErrors(store, id, errorLimit);
  const total = await countRunErrors(store, id);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...run, rejectedRows: total, rejected }, null, 2)}\n`);
    return EXIT.ok;
  }
  for (const line of describeRun(run, rejected, total)) process.stdout.write(`${line}\n`);
  return EXIT.ok;
}

const COUNTS = ['read', 'inserted', 'updated', 'added', 'removed', 'rejected', 'retried'] as const;

/** The table `segflow runs` prints. */
export function describeRuns(runs: readonly SyncRun[]): string[] {
  if (runs.length === 0) return ['no runs recorded'];
  const header = ['run', 'job', 'status', 'started', 'took', ...COUNTS];
  const rows = runs.map((r) => [
    String(r.id),
    r.job,
    r.status === 'running' && r.cancelRequestedAt ? 'stopping' : r.status,
    r.startedAt.replace('T', ' ').slice(0, 19),
    duration(r),
    ...COUNTS.map((k) => num(r.counts[k] ?? 0)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const numeric = (i: number) => i === 0 || i >= 4;
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

/** The lines `segflow runs show` prints. */
export function describeRun(
  run: SyncRun,
  rejected: readonly { connection?: string; stream?: string; recordKey?: string; reason: string }[],
  rejectedTotal: number,
): string[] {
  const lines = [
    `run ${run.id} of job ${run.job}: ${run.status}${run.status === 'running' && run.cancelRequestedAt ? ' (asked to stop)' : ''}`,
    `started  ${run.startedAt}`,
    `finished ${run.finishedAt ?? '-'}${run.finishedAt ? ` (took ${duration(run)})` : ''}`,
    `counts   ${COUNTS.map((k) => `${num(run.counts[k] ?? 0)} ${k}`).join(', ')}`,
  ];
  if (run.error) lines.push(`error    ${run.error}`);
  const steps = (run.report as { steps?: unknown[] } | null)?.steps ?? [];
  for (const [i, raw] of steps.entries()) lines.push(...stepLines(i + 1, raw as ReportStep));
  lines.push(
    `rejected rows: ${num(rejectedTotal)}${rejectedTotal > rejected.length ? ` (first ${rejected.length} shown)` : ''}`,
  );
  for (const e of rejected)
    lines.push(`  ${[e.connection, e.stream].filter(Boolean).join('/')} ${e.recordKey ?? ''}: ${e.reason}`);
  return lines;
}

type ReportStep =
  | {
      kind: 'read';
      ms?: number;
      sources: {
        source: string;
        streams: {
          stream: string;
          status: string;
          pages: number;
          counts: Record<string, number>;
          rejected: number;
          error?: string;
        }[];
      }[];
    }
  | {
      kind: 'compute';
      ms?: number;
      skipped?: boolean;
      cancelled?: boolean;
      contacts: number;
      error?: string;
      timings?: Record<string, number>;
      segments: { key: string; size: number; entered: number; exited: number }[];
    }
  | {
      kind: 'push';
      ms?: number;
      destination: string;
      outcome: {
        status: string;
        segments: {
          segment: string;
          status: string;
          added: number;
          removed: number;
          rejected: number;
          retried: number;
          pending: number;
          skipped: number;
          batches: number;
          error?: string;
        }[];
      };
    };

function stepLines(n: number, step: ReportStep): string[] {
  const took = step.ms === undefined ? '' : ` (${seconds(step.ms)})`;
  if (step.kind === 'read') {
    return [
      `${n}. read${took}`,
      ...step.sources.flatMap(({ source, streams }) =>
        streams.map(
          (s) =>
            `   ${source}/${s.stream}: ${s.status}, ${num(s.counts.read ?? 0)} read in ${num(s.pages)} pages, ${num(s.counts.inserted ?? 0)} inserted, ` +
            `${num(s.counts.updated ?? 0)} updated, ${num(s.rejected)} rejected${s.error ? ` (${s.error})` : ''}`,
        ),
      ),
    ];
  }
  if (step.kind === 'compute') {
    if (step.error !== undefined) return [`${n}. compute: ${step.cancelled ? 'cancelled' : 'failed'} (${step.error})`];
    const phases = step.timings
      ? ` (${Object.entries(step.timings)
          .map(([k, v]) => `${k} ${seconds(v)}`)
          .join(', ')})`
      : took;
    return [
      `${n}. compute: ${num(step.contacts)} contacts${phases}`,
      ...step.segments.map(
        (s) => `   ${s.key}: ${num(s.size)} members (${num(s.entered)} entered, ${num(s.exited)} exited)`,
      ),
    ];
  }
  return [
    `${n}. push to ${step.destination}: ${step.outcome.status}${took}`,
    ...step.outcome.segments.map(
      (s) =>
        `   ${s.segment}: ${s.status}, ${num(s.added)} added, ${num(s.removed)} removed, ${num(s.rejected)} rejected, ${num(s.retried)} retried` +
        `${s.pending ? `, ${num(s.pending)} left to retry` : ''}${s.skipped ? `, ${num(s.skipped)} skipped` : ''} in ${num(s.batches)} batches${s.error ? ` (${s.error})` : ''}`,
    ),
  ];
}

function duration(run: SyncRun): string {
  if (!run.finishedAt) return '-';
  return seconds(Date.parse(run.finishedAt) - Date.parse(run.startedAt));
}

const seconds = (ms: number) =>
  ms < 10_000
    ? `${(ms / 1000).toFixed(2)} s`
    : ms < 600_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${(ms / 60_000).toFixed(1)} min`;
const num = (n: number) => n.toLocaleString('en');
