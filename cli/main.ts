/**
 * The `segflow` command. Each subcommand is a module in cli/commands/ exporting a `command`; main loads only the
 * one asked for, so a slow import (the SDKs, the server) costs nothing to the others.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** What a file in cli/commands/ exports. */
export interface Command {
  /** One line for the command list. */
  summary: string;
  /** The usage line, e.g. `validate <config.yaml>`. */
  usage: string;
  /** Runs the command; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** Exit codes every command uses. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));
/** `.js` in the compiled package (`dist/cli/main.js`), `.ts` when a clone runs its sources through tsx. */
const moduleExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export async function main(argv: string[]): Promise<number> {
  const level = takeLogLevel(argv);
  if (level instanceof Error) {
    process.stderr.write(`segflow: ${level.message}\n`);
    return EXIT.usage;
  }
  if (level !== undefined) process.env.SEGFLOW_LOG_LEVEL = level;
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    process.stdout.write(`segflow ${await version()}\n`);
    return EXIT.ok;
  }
  const names = await commandNames();
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage(names));
    return name ? EXIT.ok : EXIT.usage;
  }
  if (!names.includes(name)) {
    process.stderr.write(`segflow: unknown command "${name}"\n\n${await usage(names)}`);
    return EXIT.usage;
  }
  const { command } = (await import(`./commands/${name}${moduleExtension}`)) as { command: Command };
  return command.run(rest);
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'];

/** Removes `--log-level <level>` (or `--log-level=<level>`) from `argv`, wherever it is; every command takes it. */
function takeLogLevel(argv: string[]): string | Error | undefined {
  const at = argv.findIndex((a) => a === '--log-level' || a.startsWith('--log-level='));
  if (at < 0) return undefined;
  const inline = argv[at]!.includes('=');
  const level = inline ? argv[at]!.slice('--log-level='.length) : argv[at + 1];
  argv.splice(at, inline ? 1 : 2);
  if (level === undefined || !LOG_LEVELS.includes(level))
    return new Error(`--log-level expects one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level ?? '')}`);
  return level;
}

/** The installed package's version: package.json sits two folders above dist/cli/, one above cli/. */
async function version(): Promise<string> {
  const manifest = new URL(moduleExtension === '.ts' ? '../package.json' : '../../package.json', import.meta.url);
  return (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
}

async function commandNames(): Promise<string[]> {
  const files = await readdir(commandsDir);
  return files
    .filter((f) => f.endsWith(moduleExtension) && !f.endsWith(`.test${moduleExtension}`) && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -moduleExtension.length))
    .sort();
}

async function usage(names: string[]): Promise<string> {
  const lines: string[] = [];
  for (const name of names) {
    const { command } = (await import(`./commands/${name}${moduleExtension}`)) as { command: Command };
    lines.push(`  segflow ${command.usage.padEnd(44)} ${command.summary}`);
  }
  return `usage: segflow <command> [options] [--log-level debug|info|warn|error|silent]\n       segflow --version\n\n${lines.join('\n')}\n\nlogs: JSON lines on stderr (time, level, message, fields), readable lines on a terminal; --log-level or\nSEGFLOW_LOG_LEVEL sets the level\nexit codes: 0 ok, 1 a check or run failed, 2 bad usage or invalid config\n`;
}
