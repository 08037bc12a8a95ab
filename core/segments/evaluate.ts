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

async function count(store: Queryable, sql: string, ...params: (string | number)[]): Promise<number> {
  return ((await store.get(sql, params)) as { n: number }).n;
}

/**
 * Evaluates every segment in one pass over the contacts (or the scope) into `temp.segment_masks`: one row per contact,
 * a bit per segment (see compileSegmentMasks).
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
  await store.exec(
    `DROP TABLE IF EXISTS ${d.temp('segment_masks')}; CREATE TEMP TABLE segment_masks (contact_id ${d.types.integer} PRIMARY KEY${columns.map((c) => `, ${c} ${d.types.integer} NOT NULL`).join('')})`,
  );
  await store.run(
    `INSERT INTO ${d.temp('segment_masks')} (contact_id${columns.map((c) => `, ${c}`).join('')}) ${sql}`,
    params,
  );
}

async function applySegment(
  store: Queryable,
  compiled: CompiledSegment,
  index: number,
  version: number,
  now: string,
): Promise<Omit<SegmentReport, 'stability' | 'changedShare' | 'drift'> & { previous: number }> {
  const key = compiled.key;
  const share = compiled.definition.holdout ?? 0;
  const t = (name: string): string => store.dialect.temp(name);
  await store.run(`DELETE FROM ${t('segment_now')}`);
  const bit = (1n << BigInt(index % MASK_BITS)).toString();
  await store.run(
    `INSERT INTO ${t('segment_now')} (contact_id, control) SELECT s.contact_id, CASE WHEN ((s.contact_id + ?) * 2654435761) % ${UINT32} < ? THEN 1 ELSE 0 END FROM ${t('segment_masks')} AS s WHERE (s.m${Math.floor(index / MASK_BITS)} & ${bit}) <> 0`,
    [holdoutSalt(key), Math.ceil(share * UINT32)],
  );
  // Who was in the segment before this run is read from temp.segment_before (taken at the start, of the scope only), so
  // each step costs what moved and what was there, never one look-up per contact of the scope.
  const previous = await count(
    store,
    `SELECT COUNT(*) AS n FROM ${t('segment_before')} WHERE segment_key = ? AND control = 0`,
    key,
  );
  const leavers = (control: number): string =>
    `SELECT p.contact_id FROM ${t('segment_before')} p WHERE p.segment_key = ? AND p.control = ${control}
       AND NOT EXISTS (SELECT 1 FROM ${t('segment_now')} n WHERE n.contact_id = p.contact_id AND n.control = ${control})`;
  const newcomers = (control: number): string =>
    `FROM ${t('segment_now')} n WHERE n.control = ${control}
       AND NOT EXISTS (SELECT 1 FROM ${t('segment_before')} p WHERE p.segment_key = ? AND p.control = ${control} AND p.contact_id = n.contact_id)`;
  await store.run(
    `UPDATE membership_history SET exited_at = ? WHERE segment_key = ? AND exited_at IS NULL AND contact_id IN (${leavers(0)})`,
    [now, key, key],
  );
  const exited = (
    await store.run(`DELETE FROM memberships WHERE segment_key = ? AND contact_id IN (${leavers(0)})`, [key, key])
  ).changes;
  await store.run(
    `INSERT INTO membership_history (segment_key, contact_id, segment_version, entered_at) SELECT ?, n.contact_id, ?, ? ${newcomers(0)}`,
    [key, version, now, key],
  );
  const entered = (
    await store.run(
      `INSERT INTO memberships (segment_key, contact_id, entered_at) SELECT ?, n.contact_id, ? ${newcomers(0)}`,
      [key, now, key],
    )
  ).changes;

  await store.run(
    `UPDATE segment_holdout_history SET exited_at = ? WHERE segment_key = ? AND exited_at IS NULL AND contact_id IN (${leavers(1)})`,
    [now, key, key],
  );
  await store.run(`DELETE FROM segment_holdout_members WHERE segment_key = ? AND contact_id IN (${leavers(1)})`, [
    key,
    key,
  ]);
  await store.run(
    `INSERT INTO segment_holdout_history (segment_key, contact_id, segment_version, entered_at) SELECT ?, n.contact_id, ?, ? ${newcomers(1)}`,
    [key, version, now, key],
  );
  await store.run(
    `INSERT INTO segment_holdout_members (segment_key, contact_id, segment_version, entered_at) SELECT ?, n.contact_id, ?, ? ${newcomers(1)}`,
    [key, version, now, key],
  );
  // After this step the segment's members and control group (in the scope) are exactly segment_now.
  await store.run(
    `INSERT INTO ${t('segment_after')} (segment_key, contact_id, control) SELECT ?, contact_id, control FROM ${t('segment_now')}`,
    [key],
  );
  const size = await count(store, 'SELECT COUNT(*) AS n FROM memberships WHERE segment_key = ?', key);
  const control = await count(store, 'SELECT COUNT(*) AS n FROM segment_holdout_members WHERE segment_key = ?', key);
  return { key, version, size, control, entered, exited, previous };
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

/** An empty temp table of (segment, contact, control) rows, indexed by contact (and by segment when asked). */
async function snapshotTable(store: Queryable, table: string, bySegment: boolean): Promise<void> {
  const d = store.dialect;
  await store.exec(
    `CREATE TEMP TABLE IF NOT EXISTS ${table} (segment_key ${d.types.text} NOT NULL, contact_id ${d.types.integer} NOT NULL, control ${d.types.integer} NOT NULL)`,
  );
  await store.exec(d.tempIndex(`${table}_contact`, table, 'contact_id'));
  if (bySegment) await store.exec(d.tempIndex(`${table}_segment`, table, 'segment_key, control, contact_id'));
  await store.run(`DELETE FROM ${d.temp(table)}`);
}

/** Copies the memberships and holdout members of the segments (of the scope's contacts, when scoped) into a temp table. */
async function snapshot(store: Queryable, table: string, keys: string, scoped: boolean, fresh = true): Promise<void> {
  if (fresh) await snapshotTable(store, table, true);
  // Scoped: memberships are found from each contact of the scope through their contact index (CROSS JOIN keeps that
  // order; the planner would rather scan every membership); holdout members, which have no contact index, by segment.
  const d = store.dialect;
  const keyed = (key: string): string => `${key} IN (SELECT value FROM ${d.jsonValues('?', 'text')} AS k)`;
  const memberships = scoped
    ? `FROM ${d.temp('segment_scope')} s ${d.orderedJoin} memberships m ON m.contact_id = s.contact_id WHERE ${keyed(d.unindexed('m.segment_key'))}`
    : `FROM memberships m WHERE ${keyed('m.segment_key')}`;
  const holdout = `FROM segment_holdout_members m WHERE ${keyed('m.segment_key')}${scoped ? ` AND ${d.unindexed('m.contact_id')} IN (SELECT contact_id FROM ${d.temp('segment_scope')})` : ''}`;
  await store.run(
    `INSERT INTO ${d.temp(table)} (segment_key, contact_id, control)
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
    await tx.exec(
      `CREATE TEMP TABLE IF NOT EXISTS segment_now (contact_id ${d.types.integer} PRIMARY KEY, control ${d.types.integer} NOT NULL)`,
    );
    await tx.exec(`CREATE TEMP TABLE IF NOT EXISTS segment_scope (contact_id ${d.types.integer} PRIMARY KEY)`);
    await tx.run(`DELETE FROM ${d.temp('segment_scope')}`);
    if (scope)
      await tx.run(
        `INSERT INTO ${d.temp('segment_scope')} (contact_id) SELECT value FROM ${d.jsonValues('?', 'integer')} AS j WHERE TRUE ON CONFLICT (contact_id) DO NOTHING`,
        [scope],
      );
    await snapshot(tx, 'segment_before', scopedKeys, scope !== undefined);
    if (everyone.size > 0) await snapshot(tx, 'segment_before', JSON.stringify([...everyone]), false, false);
    await snapshotTable(tx, 'segment_after', false);
    const reports: SegmentReport[] = [];
    const driftAlerts: string[] = [];
    // Segments are evaluated level by level (those referring to none first), each level in one pass over the
    // contacts, and `in_segment` reads the stored membership of the level before.
    const byKey = new Map(compiled.map((c) => [c.key, c]));
    const groups = dependencyLevels(segments).flatMap((level) => [
      { keys: level.filter((k) => !everyone.has(k)), scoped: true },
      { keys: level.filter((k) => everyone.has(k)), scoped: false },
    ]);
    for (const { keys: level, scoped } of groups.filter((g) => g.keys.length > 0)) {
      await evaluateMasks(tx, segments, level, { ...(scoped ? options : unscoped), now });
      for (const [index, key] of level.entries()) {
        const c = byKey.get(key) as CompiledSegment;
        const version = await saveSegmentDefinition(
          tx,
          c.key,
          { rule: c.definition.rule, holdout: c.definition.holdout ?? 0 },
          nowText,
        );
        const { previous, ...r } = await applySegment(tx, c, index, version, nowText);
        const union = previous + r.entered;
        const changedShare = union === 0 ? 0 : (r.entered + r.exited) / union;
        const drift = previous > 0 && changedShare > driftShare;
        if (drift) {
          driftAlerts.push(
            `segment ${c.key}: ${Math.round(changedShare * 1000) / 10}% of its members moved at once (${r.entered} entered, ${r.exited} exited of ${previous}); above the ${Math.round(driftShare * 100)}% drift threshold`,
          );
        }
        reports.push({
          ...r,
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
