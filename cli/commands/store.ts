/**
 * `segflow store copy <from> <to> [--force]`: moves a store between SQLite files and PostgreSQL databases (a path or a
 * postgres:// URL each way). The copy itself is core's `copyStore`. `segflow store partition <url>` gives a
 * PostgreSQL store the partitioned layout (core's `partitionStore`, docs/SCALING.md).
 */
import { existsSync } from 'node:fs';
import {
  copyStore,
  isPostgresLocation,
  openStore,
  partitionStore,
  redactLocation,
  redactPassword,
  type Store,
} from '../../core/index.js';
import { parseArgs, UsageError } from '../args.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow store copy <from> <to> [--force] [--json]
       segflow store partition <url> [--partitions N] [--json]

Copies every table of the store at <from> into the store at <to>, in migration order, in batches. Each is a SQLite
file path or a PostgreSQL URL (postgres://user:password@host:5432/database; the database must exist). Both are
created or migrated to this version's schema first; the target must be empty.

partition: gives the PostgreSQL store at <url> the partitioned layout of docs/SCALING.md: identities and events
hash-partitioned on identity_key, the per-contact tables on contact_id, every unique key widened by its partition
key. Best run on a new store (the tables are rebuilt in one transaction, their rows moved); running it again only
partitions tables a later migration added. Every process that opens the store then uses the layout.

options:
  --force          replace what the target holds instead of refusing it (copy)
  --partitions N   hash partitions per table (partition; default 8)
  --json           print what was done as JSON instead (passwords left out)

exit codes:
  0  copied, or partitioned
  1  a store could not be opened, the target is not empty, their migrations differ, or the store is not PostgreSQL
  2  the command was used wrongly
`;

/** `segflow store partition <url> [--partitions N] [--json]`. */
async function partition(argv: readonly string[]): Promise<number> {
  let url: string;
  let partitions: number;
  let json: boolean;
  try {
    const args = parseArgs(argv, { booleans: ['json'], strings: ['partitions'] });
    const [, location, ...rest] = args.positional;
    if (!location || rest.length > 0) throw new UsageError('expected: store partition <url>');
    const given = args.flags.get('partitions');
    partitions = given === undefined ? 8 : Number(given);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024)
      throw new UsageError(`--partitions must be a whole number from 1 to 1024 (got ${String(given)})`);
    [url, json] = [location, args.flags.get('json') === true];
  } catch (error) {
    process.stderr.write(`segflow store: ${(error as Error).message}\n\n${HELP}`);
    return EXIT.usage;
  }
  if (!isPostgresLocation(url)) {
    process.stderr.write(
      `segflow store partition: ${url} is not a postgres:// URL: the partitioned layout needs PostgreSQL (copy a SQLite store there first with segflow store copy)\n`,
    );
    return EXIT.failed;
  }
  let store: Store | undefined;
  try {
    store = await openStore(url);
    const report = await partitionStore(store, { partitions });
    if (json)
      process.stdout.write(`${JSON.stringify({ store: redactLocation(url), partitions, ...report }, null, 2)}\n`);
    else {
      for (const t of report.partitioned)
        process.stdout.write(
          `  ${t.table}: ${partitions} partitions by ${t.key} (${t.rows.toLocaleString('en')} rows moved)\n`,
        );
      for (const w of report.widened) process.stdout.write(`  unique key widened: ${w}\n`);
      for (const f of report.droppedForeignKeys) process.stdout.write(`  foreign key left out: ${f}\n`);
      process.stdout.write(
        report.partitioned.length > 0
          ? `partitioned ${report.partitioned.length} tables of ${redactLocation(url)}\n`
          : `${redactLocation(url)} is partitioned already (${report.already.length} tables)\n`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    process.stderr.write(
      `segflow store partition: ${redactPassword(error instanceof Error ? error.message : String(error), url)}\n`,
    );
    return EXIT.failed;
  } finally {
    await store?.close();
  }
}

export const command: Command = {
  summary:
    'copy a store between SQLite and PostgreSQL (store copy <from> <to>), or partition one (store partition <url>)',
  usage: 'store copy <from> <to> [--force] | store partition <url> [--partitions N]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    if (argv[0] === 'partition') return partition(argv);
    let from: string;
    let to: string;
    let force: boolean;
    let json: boolean;
    try {
      const args = parseArgs(argv, { booleans: ['force', 'json'] });
      const [action, a, b, ...rest] = args.positional;
      if (action !== 'copy' || !a || !b || rest.length > 0)
        throw new UsageError('expected: store copy <from> <to>, or store partition <url>');
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
