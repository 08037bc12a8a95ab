/**
 * `segflow run <config.yaml> <job> [--dry-run]` and `segflow run <config.yaml> --all`: runs jobs' steps in order and
 * prints what each did, with a progress bar on a terminal and plain log lines otherwise.
 */
import { SingleBar } from 'cli-progress';
import { configSecrets, hasEntry } from '../../config/index.js';
import type { Logger } from '../../plugins/index.js';
import { parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { loadCommandConfig } from '../config-store.js';
import { commandLogger } from '../log.js';
import { runJob, type JobResult, type RunProgress } from '../../sync/index.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow run <config.yaml> <job> [--dry-run] [--json] [--workers] [--full]
       segflow run <config.yaml> --all [--dry-run] [--json] [--workers] [--full]

Runs the steps of a job in order, under the job's lock in the store (a job never runs twice at once):
  read      loads each source's streams into the store, page by page with its checkpoint
  compute   computes features, models, then the job's segments (all when the step names none), in a worker thread
  push      sends each destination the membership changes since what it was last sent (mode upsert, mirror or all)
Each run is recorded in the store with its status, counts and rejected rows (see segflow runs).
On a terminal a progress bar shows records read, changes sent and the ETA; otherwise progress is logged in lines.
SIGTERM or Ctrl-C stops the run after its current page or batch is committed (status cancelled); a second one exits
at once (the store stays consistent: every page and batch commits in one transaction).

options:
  --all       run every job of the config, one after another, in the order they are written
  --dry-run   change nothing: read and compute steps are skipped, and each push prints how many adds and removes a
              real run would send per destination and segment, with a sample, from the membership already stored
  --workers   hand the run's tasks (a read per stream, the compute, a push per destination and segment) to
              segflow worker processes and wait for them; the default while any worker runs on the store
  --full      compute every contact's features and memberships; by default a compute step recomputes only the
              contacts whose events, traits or identity changed, or with an event that crossed a window edge, since
              the last compute (a step can also say compute: { mode: full })
  --json      print the run's result as JSON on stdout instead of text (with --all, an array of them): job, status,
              runId, counts, and each step with its streams, segments and destinations; progress stays on stderr

exit codes:
  0  the run (every run, with --all) succeeded, or the dry run was planned
  1  a run was partial (a stream, the compute or a destination failed), failed or cancelled, or a job is already running
  2  the config or the job is invalid, or the command was used wrongly
`;

export const command: Command = {
  summary: 'run a job (or --all): its read, compute and push steps in order',
  usage: 'run <config.yaml> <job>|--all [--dry-run] [--json] [--workers] [--full]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    let args;
    try {
      args = parseArgs(argv, { booleans: ['dry-run', 'all', 'json', 'workers', 'full'] });
      const all = args.flags.has('all');
      if (all && args.positional.length !== 1) throw new UsageError('--all takes a config file and no job name');
      if (!all && args.positional.length !== 2)
        throw new UsageError('expected a config file and a job name (or --all)');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow run: ${error.message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const [file, jobName] = args.positional as [string, string | undefined];
    const registry = builtinRegistry();
    const config = await loadCommandConfig(file, registry);
    if (!config) return EXIT.usage;
    const jobs = jobName === undefined ? Object.keys(config.jobs) : [jobName];
    if (jobName !== undefined && !hasEntry(config.jobs, jobName)) {
      const known = Object.keys(config.jobs);
      process.stderr.write(`segflow run: no job "${jobName}" in ${file} (jobs: ${known.join(', ') || 'none'})\n`);
      return EXIT.usage;
    }
    if (jobs.length === 0) {
      process.stderr.write(`segflow run: ${file} has no jobs\n`);
      return EXIT.usage;
    }
    const abort = new AbortController();
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        process.stderr.write(
          `segflow run: ${signal}: finishing the current page or batch, then stopping (again to exit at once)\n`,
        );
        abort.abort(new Error(`stopped by ${signal}`));
      } else {
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    let failed = false;
    const json = args.flags.has('json');
    const results: JobResult[] = [];
    try {
      for (const name of jobs) {
        if (abort.signal.aborted) break;
        const progress = progressReporter(name);
        let result: JobResult;
        try {
          result = await runJob(config, name, {
            registry,
            dryRun: args.flags.has('dry-run'),
            ...(args.flags.has('workers') ? { workers: true } : {}),
            ...(args.flags.has('full') ? { fullCompute: true } : {}),
            logger: progressLogger(commandLogger('warn', configSecrets(config))),
            signal: abort.signal,
            onProgress: progress.update,
            planTotals: progress.bar,
          });
        } finally {
          progress.stop();
        }
        if (json) results.push(result);
        else for (const line of describeRun(result)) process.stdout.write(`${line}\n`);
        if (result.status === 'locked') process.stderr.write(`segflow run: ${result.error}\n`);
        if (result.status !== 'succeeded') failed = true;
      }
      return failed || abort.signal.aborted ? EXIT.failed : EXIT.ok;
    } finally {
      if (json) process.stdout.write(`${JSON.stringify(jobName === undefined ? results : results[0], null, 2)}\n`);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
  },
};

/**
 * Shows a run's progress: a bar on a terminal (records read and their rate; changes sent, their total and the ETA),
 * a log line per step and at most one every five seconds per stream or segment otherwise. Writes to stderr.
 */
export function progressReporter(
  job: string,
  stream: NodeJS.WriteStream = process.stderr,
): {
  bar: boolean;
  update: (p: RunProgress) => void;
  stop: () => void;
} {
  if (!stream.isTTY) {
    let last = 0;
    let lastKey = '';
    return {
      bar: false,
      update(p) {
        const key =
          p.kind === 'read' ? `${p.source}/${p.stream}` : p.kind === 'push' ? `${p.destination}/${p.segment}` : p.kind;
        const now = Date.now();
        if (p.kind !== 'step' && !(p.kind === 'compute' && p.done) && key === lastKey && now - last < 5000) return;
        last = now;
        lastKey = key;
        stream.write(`${new Date(now).toISOString()} ${job}: ${progressLine(p)}\n`);
      },
      stop() {},
    };
  }
  let bar: SingleBar | undefined;
  let barKey = '';
  const close = () => {
    bar?.stop();
    bar = undefined;
    barKey = '';
  };
  return {
    bar: true,
    update(p) {
      if (p.kind === 'step' || p.kind === 'compute') {
        close();
        stream.write(`${job}: ${progressLine(p)}\n`);
        return;
      }
      const key = p.kind === 'read' ? `read ${p.source}/${p.stream}` : `push ${p.destination}/${p.segment}`;
      if (key !== barKey) {
        close();
        barKey = key;
        const counted = p.kind === 'push' && p.total !== undefined;
        bar = new SingleBar(
          {
            stream,
            format: counted
              ? `${key} |{bar}| {value}/{total} changes sent | {speed}/s | ETA {eta_formatted}`
              : `${key}: {value} ${p.kind === 'read' ? 'records read' : 'changes sent'} | {speed}/s | {duration_formatted}`,
            hideCursor: true,
            clearOnComplete: false,
            etaBuffer: 50,
          },
          undefined,
        );
        bar.start(counted ? Math.max(1, p.total ?? 1) : 0, 0, { speed: '0' });
        startedAt.set(key, Date.now());
      }
      const value = p.kind === 'read' ? p.read : p.total === undefined ? p.sent : Math.min(p.sent, p.total);
      const seconds = Math.max(0.001, (Date.now() - (startedAt.get(key) ?? Date.now())) / 1000);
      bar?.update(value, { speed: Math.round(value / seconds).toLocaleString('en') });
    },
    stop: close,
  };
}

const startedAt = new Map<string, number>();

function progressLine(p: RunProgress): string {
  switch (p.kind) {
    case 'step':
      return `step ${p.index + 1}/${p.total}: ${p.step} ${p.name}`;
    case 'read':
      return `read ${p.source}/${p.stream}: ${num(p.read)} records in ${num(p.pages)} pages`;
    case 'compute':
      return `compute ${p.phase} ${p.done ? 'done' : 'started'}`;
    case 'push':
      return `push ${p.destination}/${p.segment}: ${num(p.sent)}${p.total === undefined ? '' : ` of ${num(p.total)}`} changes sent`;
  }
}

/** The lines `segflow run` prints for a finished run. */
export function describeRun(result: JobResult): string[] {
  const lines: string[] = [];
  const head = result.dryRun
    ? `dry run of job ${result.job}: nothing was read, computed, sent or written`
    : `job ${result.job}`;
  lines.push(result.runId === undefined ? head : `${head} (run ${result.runId})`);
  for (const [i, step] of result.steps.entries()) {
    const n = `${i + 1}.`;
    if (step.kind === 'read') {
      if (step.skipped) {
        lines.push(`${n} read ${step.sources.map((s) => s.source).join(', ')}: skipped (dry run)`);
        continue;
      }
      lines.push(`${n} read${took(step.ms)}`);
      for (const { source, streams } of step.sources) {
        for (const s of streams) {
          lines.push(
            `   ${source}/${s.stream}: ${s.status}, ${num(s.counts.read)} read, ${num(s.counts.inserted)} inserted, ${num(s.counts.updated)} updated` +
              `${s.rejected ? `, ${num(s.rejected)} rejected` : ''}${s.error ? ` (${s.error})` : ''}`,
          );
        }
      }
    } else if (step.kind === 'compute') {
      if (step.cancelled) {
        lines.push(`${n} compute: cancelled (${step.error ?? 'stopped'})`);
        continue;
      }
      if (step.skipped) {
        lines.push(`${n} compute: skipped (dry run; pushes below use the membership already stored)`);
        continue;
      }
      if (step.error !== undefined) {
        lines.push(`${n} compute: ${step.cancelled ? 'cancelled' : 'failed'} (${step.error})`);
        continue;
      }
      lines.push(
        `${n} compute: features for ${num(step.contacts)} contacts${step.models?.length ? `, models ${step.models.map((m) => m.model).join(', ')}` : ''}${took(step.ms)}`,
      );
      for (const m of step.models ?? [])
        lines.push(`   model ${m.model}: ${m.status}, ${num(m.contacts)} contacts — ${m.summary}`);
      for (const w of step.warnings ?? []) lines.push(`   warning: ${w}`);
      for (const s of step.segments) {
        lines.push(
          `   ${s.key}: ${num(s.size)} members (${num(s.entered)} entered, ${num(s.exited)} exited${s.control ? `, ${num(s.control)} in the control group` : ''})`,
        );
      }
    } else {
      const o = step.outcome;
      lines.push(`${n} push to ${step.destination}: ${o.dryRun ? 'would send' : o.status}${took(step.ms)}`);
      for (const s of o.segments) {
        const parts = [`${num(s.added)} added`, `${num(s.removed)} removed`];
        if (s.updated) parts.push(`${num(s.updated)} updated`);
        if (s.rejected) parts.push(`${num(s.rejected)} rejected`);
        if (s.retried) parts.push(`${num(s.retried)} retried`);
        if (s.pending) parts.push(`${num(s.pending)} left to retry`);
        const absent = s.skippedBy.notInDestination ?? 0;
        if (absent) parts.push(`${num(absent)} skipped (not in ${step.destination})`);
        if (s.skipped - absent)
          parts.push(
            s.accounts
              ? `${num(s.skipped - absent)} skipped (not in ${step.destination} or not taken)`
              : `${num(s.skipped - absent)} skipped (suppressed, no consent or no identity)`,
          );
        lines.push(
          `   ${s.accounts ? `${s.segment} (accounts)` : s.segment}: ${o.dryRun ? '' : `${s.status}, `}${parts.join(', ')}${s.error ? ` (${s.error})` : ''}`,
        );
        if (o.dryRun)
          for (const c of s.sample)
            lines.push(
              `     ${c.op === 'add' ? '+' : '-'} ${c.account ? (c.account.name ?? c.account.domain ?? `account ${c.contactId}`) : (c.email ?? c.externalIds[0] ?? c.contactId)}`,
            );
      }
    }
  }
  lines.push(
    `status: ${result.status === 'locked' ? 'not run' : result.status}${result.error ? ` (${result.error})` : ''}`,
  );
  return lines;
}

const num = (n: number) => n.toLocaleString('en');
const took = (ms: number | undefined) =>
  ms === undefined ? '' : ` (${ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`})`;

/** `logger` less the rate-limit waits, which the progress shows. */
export function progressLogger(logger: Logger): Logger {
  return {
    ...logger,
    info: (message, fields) => {
      if (message !== 'rate limited, waiting') logger.info(message, fields);
    },
    warn: (message, fields) => {
      if (message !== 'rate limited, waiting') logger.warn(message, fields);
    },
  };
}
