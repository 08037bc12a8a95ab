import type { Store } from './store.js';

/**
 * The partitioned layout of a PostgreSQL store (docs/SCALING.md, "Testing it without Citus"): the per-contact tables
 * become hash-partitioned on the keys a distributed store would place them by — identities and events on
 * `identity_key` (what an identity is, so merges move none of them), the contact group on `contact_id` (contacts on
 * `id`) — with every primary and unique key extended by that key, as Citus and declarative partitioning both require.
 * Queries do not change: PostgreSQL routes rows and prunes partitions itself.
 */
export const PARTITIONED_TABLES: readonly { table: string; key: string }[] = [
  { table: 'contacts', key: 'id' },
  { table: 'identities', key: 'identity_key' },
  { table: 'events', key: 'identity_key' },
  { table: 'contact_events', key: 'contact_id' },
  { table: 'contact_features', key: 'contact_id' },
  { table: 'contact_voice', key: 'contact_id' },
  { table: 'model_outputs', key: 'contact_id' },
  { table: 'memberships', key: 'contact_id' },
  { table: 'membership_history', key: 'contact_id' },
  { table: 'segment_holdout_members', key: 'contact_id' },
  { table: 'segment_holdout_history', key: 'contact_id' },
  { table: 'delivered_state', key: 'contact_id' },
  { table: 'realtime_touched', key: 'contact_id' },
  { table: 'realtime_pending', key: 'contact_id' },
];

/**
 * What a table needs beyond its widened keys, keyed by table. Events: `(source, source_event_id)` stays unique across
 * partitions, as on an unpartitioned store, checked by a row trigger (an index probe per partition) before each insert;
 * it sees the rows its own statement inserted earlier, so the first of a page's duplicates is kept, as ON CONFLICT
 * does. Without it, an event re-read under another identity (first by email, then by tool id) would be stored twice.
 */
const EXTRA: Readonly<Record<string, string[]>> = {
  events: [
    `CREATE OR REPLACE FUNCTION events_source_event_unique() RETURNS trigger LANGUAGE plpgsql AS $check$
      BEGIN
        IF EXISTS (SELECT 1 FROM events e WHERE e.source = NEW.source AND e.source_event_id = NEW.source_event_id) THEN
          RETURN NULL;
        END IF;
        RETURN NEW;
      END $check$`,
    `CREATE TRIGGER events_source_event_unique BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_source_event_unique()`,
  ],
};

/** Options of {@link partitionStore}. */
export interface PartitionOptions {
  /** Hash partitions per table (default 8). */
  partitions?: number;
}

/** What {@link partitionStore} did. */
export interface PartitionReport {
  /** Tables made partitioned now, with their key and the rows they held. */
  partitioned: { table: string; key: string; rows: number }[];
  /** Tables that were partitioned already. */
  already: string[];
  /** Unique keys (primary keys, unique constraints and indexes) the partition key was added to, as `table: definition`. */
  widened: string[];
  /** Foreign keys left out because the table they reference no longer has a unique key on exactly their columns. */
  droppedForeignKeys: string[];
}

interface ForeignKey {
  table: string;
  name: string;
  definition: string;
}

/** The column list inside the first parentheses of `definition`, as written, and where it ends. */
function columnList(definition: string): { start: number; end: number; columns: string[] } {
  const start = definition.indexOf('(');
  let depth = 0;
  for (let i = start; i < definition.length; i++) {
    if (definition[i] === '(') depth++;
    else if (definition[i] === ')' && --depth === 0) {
      const columns: string[] = [];
      let part = '';
      let inner = 0;
      for (const ch of definition.slice(start + 1, i)) {
        if (ch === '(') inner++;
        if (ch === ')') inner--;
        if (ch === ',' && inner === 0) {
          columns.push(part.trim());
          part = '';
        } else part += ch;
      }
      columns.push(part.trim());
      return { start, end: i, columns };
    }
  }
  throw new Error(`no column list in "${definition}"`);
}

/** `definition` (a PRIMARY KEY / UNIQUE constraint, or a CREATE UNIQUE INDEX) with `key` added to its columns. */
function withKey(definition: string, key: string, from = 0): string {
  const head = definition.slice(0, from);
  const rest = definition.slice(from);
  const list = columnList(rest);
  if (list.columns.includes(key)) return definition;
  return `${head}${rest.slice(0, list.end)}, ${key}${rest.slice(list.end)}`;
}

/**
 * Turns a PostgreSQL store's per-contact tables ({@link PARTITIONED_TABLES}) into hash-partitioned tables, in one
 * transaction: each table is rebuilt as `PARTITION BY HASH (key)` with `partitions` partitions (`<table>_p0` …),
 * its rows, defaults, identity column, indexes, triggers and foreign keys kept, and every primary or unique key that
 * lacks the partition key given it as a last column (so lookups by the old key keep their index prefix, and the key
 * means what it meant: the partition key is a function of the other columns, or the row's own id). Tables already
 * partitioned are left alone, so it can run again after a migration adds a table. A migration that later adds a
 * unique key to a partitioned table must include the partition key (PostgreSQL refuses it otherwise).
 *
 * @example
 * const store = await openStore(process.env.SEGFLOW_DATABASE_URL!);
 * await partitionStore(store, { partitions: 16 });
 */
export async function partitionStore(store: Store, options: PartitionOptions = {}): Promise<PartitionReport> {
  if (!store.dialect.supportsPartitioning)
    throw new Error(
      `the partitioned layout needs PostgreSQL (this store is ${store.dialect.name}): copy it first with segflow store copy`,
    );
  const partitions = options.partitions ?? 8;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024)
    throw new Error(`partitions must be a whole number from 1 to 1024 (got ${partitions})`);
  const report: PartitionReport = { partitioned: [], already: [], widened: [], droppedForeignKeys: [] };
  await store.transaction(async (tx) => {
    const exists = async (table: string) =>
      (await tx.get(`SELECT to_regclass(?) IS NOT NULL AS present`, [`public.${table}`])) as { present: number };
    const targets: { table: string; key: string }[] = [];
    for (const target of PARTITIONED_TABLES) {
      if (!(await exists(target.table)).present) continue;
      const partitioned = await tx.get(
        `SELECT 1 AS yes FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = ?`,
        [target.table],
      );
      if (partitioned) report.already.push(target.table);
      else targets.push(target);
    }
    const names = targets.map((t) => t.table);
    // Foreign keys from and to the tables being rebuilt go first, and come back once every table is rebuilt.
    const foreignKeys = (await tx.all(
      `SELECT c.conrelid::regclass::text AS "table", c.conname AS name, pg_get_constraintdef(c.oid) AS definition
         FROM pg_constraint c
        WHERE c.contype = 'f' AND (c.conrelid::regclass::text = ANY (CAST(? AS TEXT[])) OR c.confrelid::regclass::text = ANY (CAST(? AS TEXT[])))
        ORDER BY c.conrelid::regclass::text, c.conname`,
      [`{${names.join(',')}}`, `{${names.join(',')}}`],
    )) as ForeignKey[];
    for (const fk of foreignKeys) await tx.run(`ALTER TABLE ${fk.table} DROP CONSTRAINT ${fk.name}`);
    // Views over the tables (the accounts' member view, say) are dropped and made again, in creation order.
    const views = (await tx.all(
      `SELECT c.relname AS name, pg_get_viewdef(c.oid) AS definition FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'v' ORDER BY c.oid`,
    )) as { name: string; definition: string }[];
    if (targets.length > 0) for (const view of [...views].reverse()) await tx.run(`DROP VIEW IF EXISTS ${view.name}`);

    for (const { table, key } of targets) {
      const constraints = (await tx.all(
        `SELECT conname AS name, contype AS kind, pg_get_constraintdef(oid) AS definition FROM pg_constraint
          WHERE conrelid = CAST(? AS regclass) AND contype IN ('p', 'u', 'c') ORDER BY contype DESC, conname`,
        [table],
      )) as { name: string; kind: string; definition: string }[];
      const indexes = (await tx.all(
        `SELECT pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS "unique" FROM pg_index i
          WHERE i.indrelid = CAST(? AS regclass)
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
          ORDER BY i.indexrelid`,
        [table],
      )) as { definition: string; unique: number }[];
      const triggers = (await tx.all(
        `SELECT pg_get_triggerdef(oid) AS definition FROM pg_trigger
          WHERE tgrelid = CAST(? AS regclass) AND NOT tgisinternal ORDER BY tgname`,
        [table],
      )) as { definition: string }[];
      const old = `${table}__unpartitioned`;
      await tx.run(`ALTER TABLE ${table} RENAME TO ${old}`);
      await tx.run(
        `CREATE TABLE ${table} (LIKE ${old} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED) PARTITION BY HASH (${key})`,
      );
      for (let i = 0; i < partitions; i++)
        await tx.run(
          `CREATE TABLE ${table}_p${i} PARTITION OF ${table} FOR VALUES WITH (MODULUS ${partitions}, REMAINDER ${i})`,
        );
      const moved = await tx.run(`INSERT INTO ${table} SELECT * FROM ${old}`);
      await tx.run(`DROP TABLE ${old}`);
      for (const c of constraints) {
        const definition = c.kind === 'c' ? c.definition : withKey(c.definition, key);
        if (definition !== c.definition) report.widened.push(`${table}: ${definition}`);
        await tx.run(`ALTER TABLE ${table} ADD CONSTRAINT ${c.name} ${definition}`);
      }
      for (const index of indexes) {
        const at = index.definition.indexOf(' USING ');
        const definition = index.unique ? withKey(index.definition, key, at) : index.definition;
        if (definition !== index.definition) report.widened.push(`${table}: ${definition}`);
        await tx.run(definition);
      }
      for (const trigger of triggers) await tx.run(trigger.definition);
      for (const statement of EXTRA[table] ?? []) await tx.run(statement);
      const reset = store.dialect.resetIdentity(table);
      const hasId = await tx.get(
        `SELECT 1 AS yes FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? AND column_name = 'id'`,
        [table],
      );
      if (reset && hasId) await tx.get(reset);
      report.partitioned.push({ table, key, rows: moved.changes });
    }

    if (targets.length > 0)
      for (const view of views) await tx.run(`CREATE VIEW ${view.name} AS ${view.definition.replace(/;\s*$/, '')}`);
    for (const fk of foreignKeys) {
      const [, referenced, columns] = /REFERENCES ([\w."]+)\(([^)]*)\)/.exec(fk.definition) ?? [];
      if (!referenced || columns === undefined) throw new Error(`cannot read foreign key ${fk.name}: ${fk.definition}`);
      const wanted = columns
        .split(',')
        .map((c) => c.trim())
        .sort()
        .join(',');
      const unique = (await tx.all(
        `SELECT array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey) AS k (n)
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY a.attname), ',') AS columns
           FROM pg_index i WHERE i.indrelid = CAST(? AS regclass) AND i.indisunique AND i.indpred IS NULL`,
        [referenced],
      )) as { columns: string }[];
      if (unique.some((u) => u.columns === wanted))
        await tx.run(`ALTER TABLE ${fk.table} ADD CONSTRAINT ${fk.name} ${fk.definition}`);
      else report.droppedForeignKeys.push(`${fk.table}: ${fk.definition}`);
    }
  });
  return report;
}

/** The partitioned tables of a PostgreSQL store, with their partition counts (empty on SQLite). */
export async function partitionedTables(store: Store): Promise<Record<string, number>> {
  if (!store.dialect.supportsPartitioning) return {};
  const rows = (await store.all(
    `SELECT c.relname AS "table", (SELECT COUNT(*) FROM pg_inherits h WHERE h.inhparent = c.oid) AS partitions
       FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY c.relname`,
  )) as { table: string; partitions: number }[];
  return Object.fromEntries(rows.map((r) => [r.table, r.partitions]));
}
