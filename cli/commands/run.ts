/**
 * `segflow run <config.yaml> <job> [--dry-run]`: runs one job's steps in order and prints what each did.
 */
import { formatConfigErrors, loadConfig, type Config } from '../../config/index.js';
import type { Logger } from '../../plugins/index.js';
import { parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { runJob, type JobResult } from '../jobs.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow run <config.yaml> <job> [--dry-run]

Runs the steps of a job in order, under the job's lock in the store (a job never runs twice at once):
  read      loads each source's streams into the store, page by page with its checkpoint
  compute   computes features, then the job's segments (all segments when the step names none)
  push      sends each destination the membership changes since what it was last sent (mode upsert, mirror or all)
Each run is recorded in the store with its status and counts.

options:
  --dry-run   change nothing: read and compute steps are skipped, and each push prints how many adds and removes a
              real run would send per destination and segment, with a sample, from the membership already stored

exit codes:
  0  the run succeeded (or the dry run was planned)
  1  the run was partial (a stream, the compute or a destination failed) or failed, or the job is already running
  2  the config or the job is invalid, or the command was used wrongly
`;

export const command: Command = {
  summary: 'run a job: its read, compute and push steps in order',
  usage: 'run <config.yaml> <job> [--dry-run]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    let args;
    try {
      args = parseArgs(argv, { booleans: ['dry-run'] });
      if (args.positional.length !== 2) throw new UsageError('expected a config file and a job name');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow run: ${error.message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const [file, jobName] = args.positional as [string, string];
    const registry = builtinRegistry();
    let config: Config;
    try {
      config = await loadConfig(file, { registry });
    } catch (error) {
      process.stderr.write(`${formatConfigErrors(error)}\n`);
      return EXIT.usage;
    }
    if (!config.jobs[jobName]) {
      const known = Object.keys(config.jobs);
      process.stderr.write(`segflow run: no job "${jobName}" in ${file} (jobs: ${known.join(', ') || 'none'})\n`);
      return EXIT.usage;
    }
    const abort = new AbortController();
    const stop = () => abort.abort(new Error('stopped by a signal'));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    try {
      const result = await runJob(config, jobName, {
        registry,
        dryRun: args.flags.has('dry-run'),
        logger: stderrLogger(),
        signal: abort.signal,
      });
      for (const line of describeRun(result)) process.stdout.write(`${line}\n`);
      if (result.status === 'locked') process.stderr.write(`segflow run: ${result.error}\n`);
      return result.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
  },
};

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
      lines.push(`${n} read`);
      for (const { source, streams } of step.sources) {
        for (const s of streams) {
          lines.push(
            `   ${source}/${s.stream}: ${s.status}, ${num(s.counts.read)} read, ${num(s.counts.inserted)} inserted, ${num(s.counts.updated)} updated` +
              `${s.rejected ? `, ${num(s.rejected)} rejected` : ''}${s.error ? ` (${s.error})` : ''}`,
          );
        }
      }
    } else if (step.kind === 'compute') {
      if (step.skipped) {
        lines.push(`${n} compute: skipped (dry run; pushes below use the membership already stored)`);
        continue;
      }
      if (step.error !== undefined) {
        lines.push(`${n} compute: failed (${step.error})`);
        continue;
      }
      lines.push(`${n} compute: features for ${num(step.contacts)} contacts`);
      for (const s of step.segments) {
        lines.push(
          `   ${s.key}: ${num(s.size)} members (${num(s.entered)} entered, ${num(s.exited)} exited${s.control ? `, ${num(s.control)} in the control group` : ''})`,
        );
      }
    } else {
      const o = step.outcome;
      lines.push(`${n} push to ${step.destination}: ${o.dryRun ? 'would send' : o.status}`);
      for (const s of o.segments) {
        const parts = [`${num(s.added)} added`, `${num(s.removed)} removed`];
        if (s.rejected) parts.push(`${num(s.rejected)} rejected`);
        if (s.retried) parts.push(`${num(s.retried)} retried`);
        if (s.pending) parts.push(`${num(s.pending)} left to retry`);
        if (s.skipped) parts.push(`${num(s.skipped)} skipped (suppressed, no consent or no identity)`);
        lines.push(
          `   ${s.segment}: ${o.dryRun ? '' : `${s.status}, `}${parts.join(', ')}${s.error ? ` (${s.error})` : ''}`,
        );
        if (o.dryRun)
          for (const c of s.sample)
            lines.push(`     ${c.op === 'add' ? '+' : '-'} ${c.email ?? c.externalIds[0] ?? c.contactId}`);
      }
    }
  }
  lines.push(
    `status: ${result.status === 'locked' ? 'not run' : result.status}${result.error ? ` (${result.error})` : ''}`,
  );
  return lines;
}

const num = (n: number) => n.toLocaleString('en');

function stderrLogger(): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    if (message === 'rate limited, waiting') return;
    process.stderr.write(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  };
  return { debug: () => {}, info: () => {}, warn: write('warn'), error: write('error') };
}
