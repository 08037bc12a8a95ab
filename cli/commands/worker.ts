/**
 * `segflow worker <config.yaml>`: claims the tasks of job runs from the store (reads per stream, the compute, pushes
 * per destination × segment) and runs them until stopped. Several workers on one PostgreSQL store share the runs.
 */
import { configSecrets } from '../../config/index.js';
import { intFlag, parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { loadCommandConfig } from '../config-store.js';
import { commandLogger } from '../log.js';
import { runWorker } from '../../sync/index.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow worker <config.yaml> [--lease-ms N] [--poll-ms N] [--until-idle]

Runs the tasks of job runs from the config's store, one at a time, until stopped: a read per stream of each source,
the compute, a push per destination and segment. A run hands its tasks to workers when it is started with
segflow run --workers, or while any worker is running on its store. Each task is leased: the worker heartbeats
it, and a worker that dies or stops heartbeating loses the task to another worker, which goes on from the task's
last commit (reads resume at their checkpoint, pushes re-send only what was not recorded as delivered); a worker
whose lease was taken over cannot commit. Requests to each tool are drawn from a budget shared by every worker
through the store, so together they stay under the tool's limit. Prints a line per task on stdout.
SIGTERM or Ctrl-C stops the worker: the task in hand ends after its current page or batch and is given back to
the other workers (a second signal exits at once).

options:
  --lease-ms N    how long a task lease holds without a heartbeat (default 60000; heartbeats every third)
  --poll-ms N     how long to wait before looking again when no task is ready (default 1000)
  --until-idle    exit as soon as no task is ready, instead of waiting for more

exit codes:
  0  stopped by a signal, or idle with --until-idle
  2  the config is invalid, or the command was used wrongly
`;

export const command: Command = {
  summary: 'claim and run job tasks (reads, compute, pushes) from the store until stopped',
  usage: 'worker <config.yaml> [--lease-ms N] [--poll-ms N] [--until-idle]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    let file: string;
    let leaseTtlMs: number | undefined;
    let pollMs: number | undefined;
    let untilIdle: boolean;
    try {
      const args = parseArgs(argv, { strings: ['lease-ms', 'poll-ms'], booleans: ['until-idle'] });
      if (args.positional.length !== 1) throw new UsageError('expected a config file');
      file = args.positional[0]!;
      leaseTtlMs = intFlag(args, 'lease-ms');
      pollMs = intFlag(args, 'poll-ms');
      if (leaseTtlMs !== undefined && leaseTtlMs < 100) throw new UsageError('--lease-ms takes at least 100');
      untilIdle = args.flags.has('until-idle');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow worker: ${error.message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const registry = builtinRegistry();
    const config = await loadCommandConfig(file, registry);
    if (!config) return EXIT.usage;
    const abort = new AbortController();
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
      process.stderr.write(`segflow worker: ${signal}: finishing or giving back the current task, then stopping\n`);
      abort.abort(new Error(`stopped by ${signal}`));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    const at = () => new Date().toISOString();
    try {
      const report = await runWorker(config, {
        registry,
        logger: commandLogger('warn', configSecrets(config)),
        signal: abort.signal,
        ...(leaseTtlMs === undefined ? {} : { leaseTtlMs }),
        ...(pollMs === undefined ? {} : { pollMs }),
        untilIdle,
        onTask: (e) => {
          const head = `${at()} task ${e.task.id} (run ${e.task.runId}, ${e.task.job}) ${e.what}`;
          if (e.type === 'claimed') process.stdout.write(`${head}: claimed\n`);
          else if (e.type === 'finished')
            process.stdout.write(`${head}: ${e.status}${e.error === undefined ? '' : ` (${e.error})`}\n`);
          else if (e.type === 'released') process.stdout.write(`${head}: given back\n`);
          else process.stdout.write(`${head}: lease lost to another worker, nothing more committed\n`);
        },
      });
      process.stdout.write(`${at()} worker ${report.holder} stopped after ${report.tasks.length} tasks\n`);
      return EXIT.ok;
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
  },
};
