/**
 * `segflow serve <config.yaml> [--port N] [--no-scheduler]`: the admin API, the console and ingestion on one port,
 * and the cron scheduler (unless --no-scheduler).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatConfigErrors, loadConfig, type Config } from '../../config/index.js';
import { openStore } from '../../core/index.js';
import { consoleLogger, type Logger } from '../../plugins/index.js';
import { createServer, listen, type StartJob } from '../../server/index.js';
import { startScheduler, type Scheduler } from '../../sync/schedule/index.js';
import { intFlag, parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { runJob } from '../jobs.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow serve <config.yaml> [--port N] [--host H] [--no-scheduler]

Serves the admin API (documented at /openapi.json), the web console at /, and ingestion (/v1/*, /webhooks/*) on one
port, and runs the jobs that have a schedule on their cron expressions.

The API needs a bearer token: set the variables named by server.admin_token_env (default SEGFLOW_ADMIN_TOKEN) and
server.read_token_env (default SEGFLOW_READ_TOKEN). /health needs none.

options:
  --port N         listen on port N (default server.port, 8080; 0 picks a free one)
  --host H         listen on host H (default server.host, 127.0.0.1)
  --no-scheduler   do not run scheduled jobs (another process runs them, e.g. segflow schedule)

exit codes:
  0  stopped by SIGTERM or SIGINT
  2  the config is invalid, or the command was used wrongly
`;

export const command: Command = {
  summary: 'serve the admin API, the console and ingestion, and run the scheduler',
  usage: 'serve <config.yaml> [--port N] [--no-scheduler]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    let args;
    let port: number | undefined;
    try {
      args = parseArgs(argv, { strings: ['port', 'host'], booleans: ['no-scheduler'] });
      if (args.positional.length !== 1) throw new UsageError('expected a config file');
      port = intFlag(args, 'port');
      if (port !== undefined && (port < 0 || port > 65535)) throw new UsageError('--port must be between 0 and 65535');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow serve: ${error.message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const registry = builtinRegistry();
    let config: Config;
    try {
      config = await loadConfig(args.positional[0]!, { registry });
    } catch (error) {
      process.stderr.write(`${formatConfigErrors(error)}\n`);
      return EXIT.usage;
    }
    const logger: Logger = consoleLogger('info');
    mkdirSync(dirname(config.store.path), { recursive: true });
    const store = openStore(config.store.path);
    const stopping = new AbortController();

    const startJob: StartJob = (job, options) =>
      new Promise((resolve, reject) => {
        runJob(config, job, {
          registry,
          logger,
          signal: stopping.signal,
          ...(options.dryRun ? { dryRun: true } : {}),
          onRunStarted: (runId) => resolve({ runId, status: 'running' }),
        }).then(
          (result) => resolve({ status: result.status, ...(result.runId === undefined ? {} : { runId: result.runId }), ...(result.dryRun ? { plan: result.steps } : {}) }),
          reject,
        );
      });

    let scheduler: Scheduler | undefined;
    if (!args.flags.has('no-scheduler')) {
      const jobs = Object.entries(config.jobs).flatMap(([name, job]) =>
        job.schedule === undefined ? [] : [{ name, schedule: job.schedule, timezone: job.timezone }],
      );
      scheduler = startScheduler({ jobs, logger, run: (name) => runJob(config, name, { registry, logger, signal: stopping.signal }) });
    }
    const app = createServer({
      config,
      store,
      registry,
      logger,
      env: process.env,
      startJob,
      ...(scheduler ? { scheduler: { alive: () => scheduler.status().alive } } : {}),
    });
    const server = await listen(app, { host: args.flags.get('host') === undefined ? config.server.host : String(args.flags.get('host')), port: port ?? config.server.port });
    process.stdout.write(`segflow serving ${server.url} (console at ${server.url}/, API described at ${server.url}/openapi.json)\n`);
    process.stdout.write(scheduler ? `scheduler: ${scheduler.status().jobs.length} scheduled job(s)\n` : 'scheduler: off (--no-scheduler)\n');

    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    process.stdout.write('stopping: finishing the current page or batch of running jobs …\n');
    stopping.abort(new Error('stopped by a signal'));
    await server.close();
    await scheduler?.stop();
    store.close();
    return EXIT.ok;
  },
};
