import { EXIT, type Command } from '../main.js';
import { intFlag, parseArgs, UsageError } from '../args.js';
import { SANDBOXES } from '../sandboxes.js';

const USAGE = 'sandbox <tool> [--port P] [--seed S] [--people N] [--state file]';

/**
 * `segflow sandbox hubspot --port 4010 --seed 7 --contacts 5000`: starts one tool's sandbox on its own and prints its
 * base URL, credentials and the connector config pointing at it, until Ctrl-C. `--contacts` / `--members` are
 * accepted as names for `--people` (the size of the synthetic world the sandbox renders; the tool holds its share).
 */
export const command: Command = {
  summary: 'start a tool sandbox (hubspot, salesforce, mailchimp, segment) and print its URL and credentials',
  usage: USAGE,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(
        `usage: segflow ${USAGE}\n\nStarts one tool's sandbox (hubspot, salesforce, mailchimp, segment) on a synthetic world drawn from --seed\nand --people, and prints its base URL, credentials and the connector config pointing at it, until Ctrl-C.\n--state names a file where it keeps what was written to it.\n`,
      );
      return EXIT.ok;
    }
    let args;
    let people;
    let port;
    try {
      args = parseArgs(argv, { strings: ['port', 'seed', 'people', 'contacts', 'members', 'state'] });
      people = intFlag(args, 'people') ?? intFlag(args, 'contacts') ?? intFlag(args, 'members');
      port = intFlag(args, 'port', 0);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow sandbox: ${error.message}\nusage: segflow ${USAGE}\n`);
      return EXIT.usage;
    }
    const tool = args.positional[0];
    const start = tool ? SANDBOXES[tool] : undefined;
    if (!tool || !start) {
      process.stderr.write(
        `segflow sandbox: name a tool: ${Object.keys(SANDBOXES).join(', ')}\nusage: segflow ${USAGE}\n`,
      );
      return EXIT.usage;
    }
    const seed = args.flags.get('seed');
    const statePath = args.flags.get('state');
    const sandbox = await start({
      ...(port === undefined ? {} : { port }),
      ...(people === undefined ? {} : { people }),
      ...(typeof seed === 'string' ? { seed: Number.isFinite(Number(seed)) ? Number(seed) : seed } : {}),
      ...(typeof statePath === 'string' ? { statePath } : {}),
    });
    process.stdout.write(
      `${JSON.stringify({ tool: sandbox.tool, url: sandbox.url, credentials: sandbox.credentials, config: sandbox.config }, null, 2)}\n`,
    );
    process.stdout.write(`${tool} sandbox listening on ${sandbox.url} — Ctrl-C to stop\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await sandbox.close();
    return EXIT.ok;
  },
};
