/**
 * `segflow store copy <from> <to> [--force]`: moves a store between SQLite files and PostgreSQL databases (a path or a
 * postgres:// URL each way). The copy itself is core's `copyStore`.
 */
import { existsSync } from 'node:fs';
import {
  copyStore,
  isPostgresLocation,
  openStore,
  redactLocation,
  redactPassword,
  type Store,
} from '../../core/index.js';
import { parseArgs, UsageError } from '../args.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow store copy <from> <to> [--force] [--json]

Copies every table of the store at <from> into the store at <to>, in migration order, in batches. Each is a SQLite
file path or a PostgreSQL URL (postgres://user:password@host:5432/database; the database must exist). Both are
created or migrated to this version's schema first; the target must be empty.

options:
  --force   replace what the target holds instead of refusing it
  --json    print { from, to, tables: { <table>: rows }, rows } instead (passwords left out)

exit codes:
  0  copied
  1  a store could not be opened, the target is not empty, or their migrations differ
  2  the command was used wrongly
`;

export const command: Command = {
  summary: 'copy a store between SQLite and PostgreSQL (store copy <from> <to>)',
  usage: 'store copy <from> <to> [--force]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    let from: string;
    let to: string;
    let force: boolean;
    let json: boolean;
    try {
      const args = parseArgs(argv, { booleans: ['force', 'json'] });
      const [action, a, b, ...rest] = args.positional;
      if (action !== 'copy' || !a || !b || rest.length > 0) throw new UsageError('expected: store copy <from> <to>');
      [from, to, force, json] = [a, b, args.flags.get('force') === true, args.flags.get('json') === true];
    } catch (error) {
      process.stderr.write(`segflow store: ${(error as Error).message}\n\n${HELP}`);
      return EXIT.usage;
    }
    const scrub = (text: string) => redactPassword(redactPassword(text, from), to);
    const stores: Store[] = [];
    try {
      // Opening a missing SQLite file would create an empty store and copy nothing, silently.
      if (!isPostgresLocation(from) && !existsSync(from))
        throw new Error(`no store at ${from}: give the path of an existing SQLite store (or a postgres:// URL)`);
      stores.push(await openStore(from));
      stores.push(await openStore(to));
      const [source, target] = stores as [Store, Store];
      let total = 0;
      const tables: Record<string, number> = {};
      await copyStore(source, target, {
        force,
        onTable: (table, rows) => {
          total += rows;
          tables[table] = rows;
          if (!json) process.stdout.write(`  ${table}: ${rows.toLocaleString('en')} rows\n`);
        },
      });
      const [shownFrom, shownTo] = [redactLocation(from), redactLocation(to)];
      process.stdout.write(
        json
          ? `${JSON.stringify({ from: shownFrom, to: shownTo, tables, rows: total }, null, 2)}\n`
          : `copied ${total.toLocaleString('en')} rows from ${shownFrom} to ${shownTo}\n`,
      );
      return EXIT.ok;
    } catch (error) {
      process.stderr.write(`segflow store copy: ${scrub(error instanceof Error ? error.message : String(error))}\n`);
      return EXIT.failed;
    } finally {
      for (const store of stores) await store.close();
    }
  },
};
