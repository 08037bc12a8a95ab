/**
 * `segflow serve <config.yaml> [--port N] [--no-scheduler]`: the admin API, the console and ingestion on one port,
 * and the cron scheduler (unless --no-scheduler).
 */
import { configSecrets, TOKEN_COMMAND, tokenProblems } from '../../config/index.js';
import type { Logger } from '../../plugins/index.js';
import { intFlag, parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { loadCommandConfig } from '../config-store.js';
import { commandLogger } from '../log.js';
import { startServing } from '../../server/index.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow serve <config.yaml> [--port N] [--host H] [--no-scheduler]

Serves the admin API (documented at /openapi.json), the web console at /, and ingestion (/v1/*, /webhooks/*) on one
port, and runs the jobs that have a schedule on their cron expressions.

The API needs a bearer token: set the variables named by server.admin_token_env (default SEGFLOW_ADMIN_TOKEN) and
server.read_token_env (default SEGFLOW_READ_TOKEN), each at least 24 characters and different from each other
(make one with: ${TOKEN_COMMAND}). /health needs none. Behind a TLS proxy, set server.public_url to the https://
address users reach, so the console's session cookie is marked Secure.

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
    const config = await loadCommandConfig(args.positional[0]!, registry);
    if (!config) return EXIT.usage;
    const weak = tokenProblems(config.server, process.env);
    if (weak.length > 0) {
      process.stderr.write(`segflow serve: ${weak.join('\nsegflow serve: ')}\nmake a token with: ${TOKEN_COMMAND}\n`);
      return EXIT.usage;
    }
    const logger: Logger = commandLogger('info', configSecrets(config));
    const host = args.flags.get('host');
    const serving = await startServing(config, {
      registry,
      logger,
      scheduler: !args.flags.has('no-scheduler'),
      ...(host === undefined ? {} : { host: String(host) }),
      ...(port === undefined ? {} : { port }),
    });
    process.stdout.write(
      `segflow serving ${serving.url} (console at ${serving.url}/, API described at ${serving.url}/openapi.json)\n`,
    );
    process.stdout.write(
      serving.scheduledJobs === undefined
        ? 'scheduler: off (--no-scheduler)\n'
        : `scheduler: ${serving.scheduledJobs} scheduled job(s)\n`,
    );

    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    process.stdout.write('stopping: finishing the current page or batch of running jobs …\n');
    await serving.stop();
    return EXIT.ok;
  },
};
