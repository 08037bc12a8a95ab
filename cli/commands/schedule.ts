/**
 * `segflow schedule <config.yaml>`: runs the cron scheduler in the foreground, each job with a `schedule` on it.
 */
import { configSecrets } from '../../config/index.js';
import { parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { loadCommandConfig } from '../config-store.js';
import { commandLogger } from '../log.js';
import { progressLogger } from './run.js';
import { runJob, scheduledJobs, startScheduler } from '../../sync/index.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow schedule <config.yaml>

Runs the scheduler in the foreground: each job with a schedule starts on its cron expression, read in the job's
time zone. A job never runs twice at once, even with several schedulers on one store (the job lock is in the store);
a tick that comes while the job is still running is skipped. Only the scheduler runs (segflow serve runs it beside
the API). Logs one line per event on stderr.
SIGTERM or Ctrl-C stops the scheduler: running jobs finish their current page or batch, commit, and end cancelled.

exit codes:
  0  stopped by a signal
  2  the config is invalid, no job has a schedule, or the command was used wrongly
`;

export const command: Command = {
  summary: 'run the cron scheduler in the foreground',
  usage: 'schedule <config.yaml>',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    let file: string;
    try {
      const args = parseArgs(argv, {});
      if (args.positional.length !== 1) throw new UsageError('expected a config file');
      file = args.positional[0]!;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow schedule: ${error.message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const registry = builtinRegistry();
    const config = await loadCommandConfig(file, registry);
    if (!config) return EXIT.usage;
    const jobs = scheduledJobs(config);
    if (jobs.length === 0) {
      process.stderr.write(`segflow schedule: no job in ${file} has a schedule\n`);
      return EXIT.usage;
    }
    const logger = progressLogger(commandLogger('info', configSecrets(config)));
    const abort = new AbortController();
    const scheduler = startScheduler({
      jobs,
      logger,
      run: (name) =>
        runJob(config, name, {
          registry,
          logger,
          signal: abort.signal,
          onRunStarted: (runId) => logger.info('run started', { job: name, runId }),
        }),
    });
    // Listening before saying `scheduled`: whoever stops the scheduler once it says so must not find the default
    // action (an immediate exit) still in place, as a loaded machine could leave it between the two.
    const signalled = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    for (const job of scheduler.status().jobs)
      logger.info('scheduled', { job: job.name, schedule: job.schedule, timezone: job.timezone, next: job.next });
    const stopped = await signalled;
    logger.info('stopping: running jobs finish their current page or batch', { signal: stopped });
    abort.abort(new Error(`stopped by ${stopped}`));
    await scheduler.stop();
    logger.info('scheduler stopped');
    return EXIT.ok;
  },
};
