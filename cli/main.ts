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
  return `usage: segflow <command> [options]\n       segflow --version\n\n${lines.join('\n')}\n\nexit codes: 0 ok, 1 a check or run failed, 2 bad usage or invalid config\n`;
}
