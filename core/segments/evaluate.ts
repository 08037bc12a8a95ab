import { saveSegmentDefinition } from './store/memberships.js';
import { dependencyLevels, refersTo } from './dependencies.js';
import type { Queryable } from '../store/store.js';
import {
  compileSegmentMasks,
  compileSegments,
  MASK_BITS,
  type CompileOptions,
  type CompiledSegment,
  type SegmentDefinition,
} from './compile.js';

/** Options of a segment evaluation. */
export interface EvaluateOptions extends CompileOptions {
  /** Only these contacts are re-evaluated (an incremental run); others keep their membership. */
  contacts?: readonly number[];
  /**
   * With `contacts`: these segments (and every segment referring to one of them) are still evaluated for every
   * contact, because their rules read what changes for contacts outside the set (accounts, model outputs, ...).
   */
  everyone?: readonly string[];
  /** A segment whose members move by more than this share at once raises a drift alert (default 0.4). */
  driftShare?: number;
  /** Runs inside the evaluation's transaction, after the memberships are written (an incremental compute's commit). */
  onCommit?: (tx: Queryable) => Promise<void>;
}

/** One segment's outcome in a run. */
export interface SegmentReport {
  key: string;
  version: number;
  /** Treated members (pushed to destinations). */
  size: number;
  /** Control-group members (holdout), never pushed. */
  control: number;
  entered: number;
  exited: number;
  /** Share of the previous members still members; null when it had none. */
  stability: number | null;
  /** (entered + exited) over everyone who was or is a member. */
  changedShare: number;
  drift: boolean;
}

/** Contacts that moved from one segment to another between the previous run and this one (`null` is none). */
export interface Migration {
  from: string | null;
  to: string | null;
  contacts: number;
}

/** What a run did: per segment, the migration matrix and any drift alerts. */
export interface SegmentRunReport {
  runId: number;
  evaluatedAt: string;
  incremental: boolean;
  segments: SegmentReport[];
  migrations: Migration[];
  driftAlerts: string[];
}

const UINT32 = 4294967296;

/** A small salt per segment key (FNV-1a, 20 bits) so that each segment's holdout is a different slice of contacts. */
export function holdoutSalt(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0xfffff;
}

/**
 * Whether a contact falls in a segment's control group: Knuth's multiplicative hash of (contact id + salt) modulo
 * 2^32 below `share` × 2^32. Deterministic, stable across runs, and spread evenly over consecutive ids.
 */
export function inHoldout(key: string, contactId: number, share: number): boolean {
  const h = Number((BigInt(contactId + holdoutSalt(key)) * 2654435761n) % BigInt(UINT32));
  return h < share * UINT32;
}

/**
 * Gives an evaluation an empty temp table with these columns and indexes: one an earlier evaluation left on this
 * connection with the same definition is emptied where the dialect reuses temp tables (SQLite), else it is made
 * afresh. A temp table outlives the transaction on its connection (PostgreSQL keeps it for the pooled connection's
 * life), and nothing vacuums it there: one emptied and filled again run after run kept every earlier run's rows as
 * dead tuples (and index entries) for the next to read.
 */
async function freshTempTable(
  store: Queryable,
  name: string,
  columns: string,
  indexes: readonly string[] = [],
): Promise<void> {
  const d = store.dialect;
  if (d.tempDefinitions !== undefined) {
    const wanted = [
      `CREATE TABLE ${name} (${columns})`,
      ...indexes.map((on, i) => `CREATE INDEX ${name}_${i} ON ${name} (${on})`),
    ];
    const made = (await store.all(d.tempDefinitions, [name])) as { sql: string }[];
    if (made.length === wanted.length && made.every((r, i) => r.sql === wanted[i])) {
      await store.run(`DELETE FROM ${d.temp(name)}`);
      return;
    }
  }
  await store.exec(`DROP TABLE IF EXISTS ${d.temp(name)}; CREATE TEMP TABLE ${name} (${columns})`);
  for (const [i, on] of indexes.entries()) await store.exec(d.tempIndex(`${name}_${i}`, name, on));
}

/**
 * Saves a new version of each definition that differs from its latest (as saveSegmentDefinition does, one key at a
 * time), reading the latest versions in one statement; returns every key's current version.
 */
async function saveDefinitions(
  store: Queryable,
  definitions: readonly { key: string; definition: unknown }[],
  now: string,
): Promise<Map<string, number>> {
  const latest = new Map(
    (
      (await store.all(
        `SELECT d.key, d.version, d.definition FROM segment_definitions d
          WHERE d.key IN (SELECT value FROM ${store.dialect.jsonValues('?', 'text')} AS k)
            AND d.version = (SELECT MAX(x.version) FROM segment_definitions x WHERE x.key = d.key)`,
        [JSON.stringify(definitions.map((d) => d.key))],
      )) as { key: string; version: number; definition: string }[]
    ).map((r) => [r.key, r]),
  );
  const versions = new Map<string, number>();
  for (const { key, definition } of definitions) {
    const json = JSON.stringify(definition);
    const stored = latest.get(key);
    if (stored && JSON.stringify(JSON.parse(stored.definition)) === json) versions.set(key, stored.version);
    else versions.set(key, await saveSegmentDefinition(store, key, definition, now));
  }
  return versions;
}

/**
 * Evaluates every segment of a step in one pass over the contacts (or the scope) into `temp.segment_masks`: one row
 * per contact, a bit per segment (see compileSegmentMasks).
 */
async function evaluateMasks(
  store: Queryable,
  segments: readonly SegmentDefinition[],
  keys: readonly string[],
  options: CompileOptions & { contacts?: readonly number[] },
): Promise<void> {
  const { sql, params } = compileSegmentMasks(segments, {
    ...options,
    dialect: store.dialect,
    keys,
    storedMembership: true,
  });
  const columns = Array.from({ length: Math.ceil(keys.length / MASK_BITS) }, (_, j) => `m${j}`);
  const d = store.dialect;
  await freshTempTable(
    store,
    'segment_masks',
    `contact_id ${d.types.integer} PRIMARY KEY${columns.map((c) => `, ${c} ${d.types.integer} NOT NULL`).join('')}`,
  );
  await store.run(
    `INSERT INTO ${d.temp('segment_masks')} (contact_id${columns.map((c) => `, ${c}`).join('')}) ${sql}`,
    params,
  );
}

/** A segment of an evaluation step: its bit in the step's masks, its stored version and its holdout share. */
interface StepSegment {
  key: string;
  /** Its bit in `segment_masks` (bit `index % MASK_BITS` of column `m{floor(index / MASK_BITS)}`). */
  index: number;
  version: number;
  share: number;
}

/** What a step did to one segment: members and control group after it, and the moves in and out (treated only). */
interface StepCounts {
  size: number;
  control: number;
  entered: number;
  exited: number;
  /** Treated members of the evaluated contacts before the step. */
  previous: number;
}

/**
 * Writes a step's segments from its masks: who is in each segment now (treated or control) goes into
 * `temp.segment_after`; what differs from `temp.segment_before` (taken at the start, of the evaluated contacts only)
 * into `temp.segment_changes`; then each membership and holdout table gets one statement for all the step's segments,
 * touching only the rows that changed. Every statement costs what moved and what was there, never a look-up per
 * contact per segment; a run where nothing moved writes nothing.
 */
async function applyStep(
  store: Queryable,
  step: readonly StepSegment[],
  now: string,
  everyone: boolean,
): Promise<Map<string, StepCounts>> {
  const d = store.dialect;
  const t = (name: string): string => d.temp(name);
  const { integer, text } = d.types;
  await freshTempTable(
    store,
    'segment_step',
    `segment_key ${text} PRIMARY KEY, position ${integer} NOT NULL, version ${integer} NOT NULL, mask ${integer} NOT NULL, bit ${integer} NOT NULL, salt ${integer} NOT NULL, threshold ${integer} NOT NULL`,
  );
  const types = ['text', 'integer', 'integer', 'integer', 'integer', 'integer', 'integer'] as const;
  for (let from = 0; from < step.length; from += 1024) {
    const rows = step
      .slice(from, from + 1024)
      .map((s) => [
        s.key,
        s.index,
        s.version,
        Math.floor(s.index / MASK_BITS),
        1n << BigInt(s.index % MASK_BITS),
        holdoutSalt(s.key),
        Math.ceil(s.share * UINT32),
      ]);
    const { sql, params } = d.insertRows(types, rows);
    await store.run(
      `INSERT INTO ${t('segment_step')} (segment_key, position, version, mask, bit, salt, threshold) ${sql}`,
      params,
    );
  }
  // Who is in each segment now, treated (0) or in the control group (1): one pass over the masks per mask column.
  for (let j = 0; j * MASK_BITS < step.length; j++)
    await store.run(
      `INSERT INTO ${t('segment_after')} (segment_key, contact_id, control)
         SELECT k.segment_key, s.contact_id, CASE WHEN ((s.contact_id + k.salt) * 2654435761) % ${UINT32} < k.threshold THEN 1 ELSE 0 END
           FROM ${t('segment_masks')} s JOIN ${t('segment_step')} k ON k.mask = ${j} AND (s.m${j} & k.bit) <> 0`,
    );
  await freshTempTable(
    store,
    'segment_changes',
    `segment_key ${text} NOT NULL, contact_id ${integer} NOT NULL, control ${integer} NOT NULL, entered ${integer} NOT NULL`,
  );
  await store.run(
    `INSERT INTO ${t('segment_changes')} (segment_key, contact_id, control, entered)
       SELECT p.segment_key, p.contact_id, p.control, 0 FROM ${t('segment_step')} k ${d.orderedJoin} ${t('segment_before')} p ON p.segment_key = k.segment_key
        WHERE NOT EXISTS (SELECT 1 FROM ${t('segment_after')} n WHERE n.segment_key = p.segment_key AND n.contact_id = p.contact_id AND n.control = p.control)
       UNION ALL
       SELECT n.segment_key, n.contact_id, n.control, 1 FROM ${t('segment_step')} k ${d.orderedJoin} ${t('segment_after')} n ON n.segment_key = k.segment_key
        WHERE NOT EXISTS (SELECT 1 FROM ${t('segment_before')} p WHERE p.segment_key = n.segment_key AND p.control = n.control AND p.contact_id = n.contact_id)`,
  );
  const moves = (await store.all(
    `SELECT segment_key, control, entered, COUNT(*) AS n FROM ${t('segment_changes')} GROUP BY segment_key, control, entered`,
  )) as { segment_key: string; control: number; entered: number; n: number }[];
  const moved = (control: number, entered: number): boolean =>
    moves.some((m) => m.control === control && m.entered === entered);
  const changed = (control: number, entered: number): string =>
    `SELECT x.segment_key, x.contact_id FROM ${t('segment_changes')} x WHERE x.control = ${control} AND x.entered = ${entered}`;
  const newcomers = (control: number, columns: string): string =>
    `SELECT ${columns} FROM ${t('segment_changes')} x JOIN ${t('segment_step')} k ON k.segment_key = x.segment_key
      WHERE x.control = ${control} AND x.entered = 1 ORDER BY k.position, x.contact_id`;
  const tables = [
    {
      control: 0,
      members: 'memberships',
      history: 'membership_history',
      memberColumns: 'segment_key, contact_id, entered_at',
      memberValues: 'x.segment_key, x.contact_id, ?',
    },
    {
      control: 1,
      members: 'segment_holdout_members',
      history: 'segment_holdout_history',
      memberColumns: 'segment_key, contact_id, segment_version, entered_at',
      memberValues: 'x.segment_key, x.contact_id, k.version, ?',
    },
  ];
  for (const { control, members, history, memberColumns, memberValues } of tables) {
    if (moved(control, 0)) {
      await store.run(
        `UPDATE ${history} SET exited_at = ? WHERE exited_at IS NULL AND (segment_key, contact_id) IN (${changed(control, 0)})`,
        [now],
      );
      await store.run(`DELETE FROM ${members} WHERE (segment_key, contact_id) IN (${changed(control, 0)})`);
    }
    if (moved(control, 1)) {
      await store.run(
        `INSERT INTO ${history} (segment_key, contact_id, segment_version, entered_at) ${newcomers(control, 'x.segment_key, x.contact_id, k.version, ?')}`,
        [now],
      );
      await store.run(`INSERT INTO ${members} (${memberColumns}) ${newcomers(control, memberValues)}`, [now]);
    }
  }
  const evaluated = new Map<string, { treated: number; control: number }>(
    step.map((s) => [s.key, { treated: 0, control: 0 }]),
  );
  for (const r of (await store.all(
    `SELECT n.segment_key, n.control, COUNT(*) AS n FROM ${t('segment_step')} k ${d.orderedJoin} ${t('segment_after')} n ON n.segment_key = k.segment_key GROUP BY n.segment_key, n.control`,
  )) as { segment_key: string; control: number; n: number }[]) {
    const counted = evaluated.get(r.segment_key) as { treated: number; control: number };
    if (r.control === 0) counted.treated = r.n;
    else counted.control = r.n;
  }
  // Evaluated for everyone, a segment's members and control group are now exactly its rows in segment_after; over a
  // scope, the contacts outside it keep theirs, so the sizes the member tables' triggers keep are read.
  const sizes = everyone
    ? undefined
    : new Map(
        (
          (await store.all(
            `SELECT k.segment_key, COALESCE(s.members, 0) AS size, COALESCE(s.control, 0) AS control
               FROM ${t('segment_step')} k LEFT JOIN segment_sizes s ON s.segment_key = k.segment_key`,
          )) as { segment_key: string; size: number; control: number }[]
        ).map((r) => [r.segment_key, { size: Number(r.size), control: Number(r.control) }]),
      );
  const count = (key: string, control: number, entered: number): number =>
    moves.find((m) => m.segment_key === key && m.control === control && m.entered === entered)?.n ?? 0;
  return new Map(
    step.map(({ key }) => {
      const after = evaluated.get(key) as { treated: number; control: number };
      const entered = count(key, 0, 1);
      const exited = count(key, 0, 0);
      const size = sizes?.get(key) ?? { size: after.treated, control: after.control };
      // segment_after = segment_before - exits + entries, segment by segment.
      return [
        key,
        { size: size.size, control: size.control, entered, exited, previous: after.treated - entered + exited },
      ];
    }),
  );
}

async function migrationMatrix(store: Queryable): Promise<Migration[]> {
  const before = store.dialect.temp('segment_before');
  const after = store.dialect.temp('segment_after');
  const rows =
    (await store.all(`SELECT p.segment_key AS "from", n.segment_key AS "to", COUNT(*) AS contacts FROM ${before} p JOIN ${after} n ON n.contact_id = p.contact_id GROUP BY 1, 2
       UNION ALL SELECT p.segment_key, NULL, COUNT(*) FROM ${before} p WHERE NOT EXISTS (SELECT 1 FROM ${after} n WHERE n.contact_id = p.contact_id) GROUP BY 1
       UNION ALL SELECT NULL, n.segment_key, COUNT(*) FROM ${after} n WHERE NOT EXISTS (SELECT 1 FROM ${before} p WHERE p.contact_id = n.contact_id) GROUP BY 2
       ORDER BY 1 NULLS FIRST, 2 NULLS FIRST`)) as Migration[];
  return rows;
}

/**
 * Copies the memberships and holdout members of the segments `keys` (a JSON array; of the scope's contacts, when
 * scoped) into `temp.segment_before`.
 */
async function snapshot(store: Queryable, keys: string, scoped: boolean): Promise<void> {
  // Scoped: memberships are found from each contact of the scope through their contact index (CROSS JOIN keeps that
  // order; the planner would rather scan every membership); holdout members, which have no contact index, by segment.
  const d = store.dialect;
  const keyed = (key: string): string => `${key} IN (SELECT value FROM ${d.jsonValues('?', 'text')} AS k)`;
  const memberships = scoped
    ? `FROM ${d.temp('segment_scope')} s ${d.orderedJoin} memberships m ON m.contact_id = s.contact_id WHERE ${keyed(d.unindexed('m.segment_key'))}`
    : `FROM memberships m WHERE ${keyed('m.segment_key')}`;
  const holdout = `FROM segment_holdout_members m WHERE ${keyed('m.segment_key')}${scoped ? ` AND ${d.unindexed('m.contact_id')} IN (SELECT contact_id FROM ${d.temp('segment_scope')})` : ''}`;
  await store.run(
    `INSERT INTO ${d.temp('segment_before')} (segment_key, contact_id, control)
       SELECT m.segment_key, m.contact_id, 0 ${memberships}
       UNION ALL SELECT m.segment_key, m.contact_id, 1 ${holdout}`,
    [keys, keys],
  );
}

/** The segments of `keys` and every segment that refers to one of them, directly or through others. */
function referringTo(segments: readonly SegmentDefinition[], keys: readonly string[]): Set<string> {
  const out = new Set(keys);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of segments)
      if (!out.has(s.key) && refersTo(s.rule).some((k) => out.has(k))) {
        out.add(s.key);
        grew = true;
      }
  }
  return out;
}

/**
 * Evaluates rule segments over the store (or, with `contacts`, over those contacts only): records entries and exits
 * with timestamps and the segment version, splits off holdout control groups, and reports per segment size, entered,
 * exited, stability, the migration matrix between segments and drift alerts. The run is recorded in `segment_runs`.
 *
 * @example
 * const report = evaluateSegments(store, config.segments, { now: new Date(), protectedAttributes: config.protected_attributes });
 * for (const alert of report.driftAlerts) console.warn(alert);
 */
export async function evaluateSegments(
  store: Queryable,
  segments: readonly SegmentDefinition[],
  options: EvaluateOptions = {},
): Promise<SegmentRunReport> {
  const now = options.now ?? new Date();
  const nowText = now.toISOString();
  const compiled = compileSegments(segments, { ...options, now, dialect: store.dialect });
  const driftShare = options.driftShare ?? 0.4;
  const scope = options.contacts ? JSON.stringify([...new Set(options.contacts)]) : undefined;
  const everyone = scope ? referringTo(segments, options.everyone ?? []) : new Set<string>();
  const scopedKeys = JSON.stringify(segments.filter((s) => !everyone.has(s.key)).map((s) => s.key));
  const { contacts: _scope, ...unscoped } = options;
  return await store.transaction(async (tx) => {
    const d = tx.dialect;
    const { integer, text } = d.types;
    await freshTempTable(tx, 'segment_scope', `contact_id ${integer} PRIMARY KEY`);
    if (scope)
      await tx.run(
        `INSERT INTO ${d.temp('segment_scope')} (contact_id) SELECT value FROM ${d.jsonValues('?', 'integer')} AS j WHERE TRUE ON CONFLICT (contact_id) DO NOTHING`,
        [scope],
      );
    const rows = `segment_key ${text} NOT NULL, contact_id ${integer} NOT NULL, control ${integer} NOT NULL`;
    await freshTempTable(tx, 'segment_before', rows, ['contact_id', 'segment_key, control, contact_id']);
    await snapshot(tx, scopedKeys, scope !== undefined);
    if (everyone.size > 0) await snapshot(tx, JSON.stringify([...everyone]), false);
    // After the run, each evaluated segment's members and control group (of the evaluated contacts).
    await freshTempTable(tx, 'segment_after', rows, ['segment_key, contact_id', 'contact_id']);
    const reports: SegmentReport[] = [];
    const driftAlerts: string[] = [];
    // Segments are evaluated level by level (those referring to none first), each level in one pass over the
    // contacts, and `in_segment` reads the stored membership of the level before.
    const byKey = new Map(compiled.map((c) => [c.key, c]));
    const groups = dependencyLevels(segments).flatMap((level) => [
      { keys: level.filter((k) => !everyone.has(k)), scoped: scope !== undefined },
      { keys: level.filter((k) => everyone.has(k)), scoped: false },
    ]);
    for (const { keys: level, scoped } of groups.filter((g) => g.keys.length > 0)) {
      await evaluateMasks(tx, segments, level, { ...(scoped ? options : unscoped), now });
      const definitions = level.map((key) => {
        const { rule, holdout } = (byKey.get(key) as CompiledSegment).definition;
        return { key, definition: { rule, holdout: holdout ?? 0 } };
      });
      const versions = await saveDefinitions(tx, definitions, nowText);
      const step: StepSegment[] = definitions.map(({ key, definition }, index) => ({
        key,
        index,
        version: versions.get(key) as number,
        share: definition.holdout,
      }));
      const counts = await applyStep(tx, step, nowText, !scoped);
      for (const { key, version } of step) {
        const { previous, ...r } = counts.get(key) as StepCounts;
        const union = previous + r.entered;
        const changedShare = union === 0 ? 0 : (r.entered + r.exited) / union;
        const drift = previous > 0 && changedShare > driftShare;
        if (drift) {
          driftAlerts.push(
            `segment ${key}: ${Math.round(changedShare * 1000) / 10}% of its members moved at once (${r.entered} entered, ${r.exited} exited of ${previous}); above the ${Math.round(driftShare * 100)}% drift threshold`,
          );
        }
        reports.push({
          key,
          version,
          size: r.size,
          control: r.control,
          entered: r.entered,
          exited: r.exited,
          stability: previous === 0 ? null : (previous - r.exited) / previous,
          changedShare,
          drift,
        });
      }
    }
    const order = new Map(compiled.map((c, i) => [c.key, i]));
    reports.sort((x, y) => (order.get(x.key) ?? 0) - (order.get(y.key) ?? 0));
    const migrations = await migrationMatrix(tx);
    const report = {
      evaluatedAt: nowText,
      incremental: scope !== undefined,
      segments: reports,
      migrations,
      driftAlerts,
    };
    await options.onCommit?.(tx);
    const { id: runId } = (await tx.get(
      'INSERT INTO segment_runs (evaluated_at, incremental, drift_alert, report) VALUES (?, ?, ?, ?) RETURNING id',
      [nowText, scope ? 1 : 0, driftAlerts.length > 0 ? 1 : 0, JSON.stringify(report)],
    )) as { id: number };
    return { runId, ...report };
  });
}

/**
 * The latest segment run recorded, with its report, or undefined before the first (`segflow segments report`).
 *
 * @example
 * const last = lastSegmentRun(store); // { runId: 12, evaluatedAt: '…', segments: [{ key: 'vip', size: 240, … }], … }
 */
export async function lastSegmentRun(store: Queryable): Promise<SegmentRunReport | undefined> {
  const row = (await store.get('SELECT id, report FROM segment_runs ORDER BY id DESC LIMIT 1')) as
    { id: number; report: string } | undefined;
  return row ? { ...(JSON.parse(row.report) as Omit<SegmentRunReport, 'runId'>), runId: row.id } : undefined;
}

/** A segment's count and a sample of members, computed without saving anything. */
export interface SegmentPreview {
  key: string;
  count: number;
  sample: { contactId: number; email: string | null }[];
}

/**
 * Counts a segment's members and returns a sample, saving nothing (`segflow segments preview`).
 *
 * @example
 * const { count, sample } = previewSegment(store, 'vip', config.segments, { now: new Date() });
 */
export async function previewSegment(
  store: Queryable,
  key: string,
  segments: readonly SegmentDefinition[],
  options: CompileOptions & { sample?: number } = {},
): Promise<SegmentPreview> {
  const compiled = compileSegments(segments, { ...options, dialect: store.dialect }).find((c) => c.key === key);
  if (!compiled) throw new Error(`unknown segment "${key}" (known: ${segments.map((s) => s.key).join(', ')})`);
  const n = ((await store.get(`SELECT COUNT(*) AS n FROM (${compiled.sql}) AS s`, compiled.params)) as { n: number }).n;
  const sample = (await store.all(
    `SELECT s.contact_id AS "contactId", c.email AS email FROM (${compiled.sql}) AS s JOIN contacts c ON c.id = s.contact_id ORDER BY s.contact_id LIMIT ${Math.max(0, Math.floor(options.sample ?? 10))}`,
    compiled.params,
  )) as { contactId: number; email: string | null }[];
  return { key, count: n, sample };
}
