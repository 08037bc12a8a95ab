/**
 * Segments made in the console, kept in the store with every version: who saved it (the token role) and when. A save
 * names the version the editor started from; when someone saved in between, the save is refused with their version,
 * so two people editing one segment never overwrite each other silently. Archiving is a version too.
 *
 * @example
 * const vip = await createStoredSegment(store, { key: 'vip', name: 'VIP', rule: { feature: 'monetary_365d', gt: 1000 } }, 'admin');
 * await saveStoredSegment(store, 'vip', vip.version, { ...vip, tags: ['crm'] }, 'admin');
 */
import type { Queryable } from '../../store/store.js';
import type { AccountCondition, RuleCondition } from '../grammar.js';

/**
 * What a console segment selects: `contacts` (people, a rule like `segments:`) or `accounts` (companies, a rule like
 * `account_segments:`). Chosen when it is created and kept for its life.
 */
export type StoredSegmentKind = 'contacts' | 'accounts';
/** Every {@link StoredSegmentKind}. */
export const STORED_SEGMENT_KINDS = ['contacts', 'accounts'] as const satisfies readonly StoredSegmentKind[];

/** What an editor saves: everything but the key's history. */
export interface StoredSegmentInput {
  name: string;
  description?: string | undefined;
  /** A contact rule, or an account condition for an account segment. */
  rule: RuleCondition | AccountCondition;
  tags?: string[] | undefined;
}

/** One version of a console segment, as it was saved. */
export interface StoredSegmentVersion {
  version: number;
  name: string;
  description?: string;
  /** A contact rule, or an account condition for an account segment (see {@link StoredSegment.kind}). */
  rule: RuleCondition;
  tags: string[];
  archived: boolean;
  /** The role of the token that saved it (`admin`), or `import` / `cli` for other writers. */
  savedBy: string;
  savedAt: string;
}

/** A console segment at its current version. */
export interface StoredSegment extends StoredSegmentVersion {
  key: string;
  /** People or accounts; an account segment's `rule` is an AccountCondition. */
  kind: StoredSegmentKind;
  createdAt: string;
}

/** The key is taken (by a console segment, or by a config segment the caller named). */
export class SegmentKeyTakenError extends Error {
  readonly code = 'key_taken';
  constructor(
    readonly key: string,
    where: string,
  ) {
    super(`segment key "${key}" is already used by ${where}`);
  }
}

/** The save started from an older version than the current one: someone else saved in between. */
export class StaleSegmentVersionError extends Error {
  readonly code = 'stale_version';
  constructor(
    readonly startedFrom: number,
    readonly current: StoredSegment,
  ) {
    super(
      `segment "${current.key}" was saved by ${current.savedBy} at ${current.savedAt} (version ${current.version}) after you opened version ${startedFrom}: reload it and apply your change again`,
    );
  }
}

/** No console segment has this key. */
export class UnknownStoredSegmentError extends Error {
  readonly code = 'not_found';
  constructor(readonly key: string) {
    super(`no console segment "${key.slice(0, 80)}"`);
  }
}

/** A segment key as config segments write them: letters, digits, `_` or `-`, starting with a letter. */
export const SEGMENT_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

interface VersionRow {
  key: string;
  version: number;
  name: string;
  description: string | null;
  rule: string;
  tags: string;
  archived: number;
  saved_by: string;
  saved_at: string;
  created_at?: string;
  kind?: string;
}

const COLUMNS = 'v.key, v.version, v.name, v.description, v.rule, v.tags, v.archived, v.saved_by, v.saved_at';

function versionOf(row: VersionRow): StoredSegmentVersion {
  return {
    version: Number(row.version),
    name: row.name,
    ...(row.description === null ? {} : { description: row.description }),
    rule: JSON.parse(row.rule) as RuleCondition,
    tags: JSON.parse(row.tags) as string[],
    archived: Number(row.archived) === 1,
    savedBy: row.saved_by,
    savedAt: row.saved_at,
  };
}

function segmentOf(row: VersionRow): StoredSegment {
  return {
    key: row.key,
    kind: row.kind === 'accounts' ? 'accounts' : 'contacts',
    createdAt: row.created_at ?? row.saved_at,
    ...versionOf(row),
  };
}

/**
 * Every console segment at its current version, by key; archived ones only when asked. Only people segments unless
 * `kind` says otherwise (`accounts`, or `all` for both), so that a caller written for contact rules never meets an
 * account condition.
 */
export async function listStoredSegments(
  store: Queryable,
  options: { archived?: boolean; kind?: StoredSegmentKind | 'all' } = {},
): Promise<StoredSegment[]> {
  const kind = options.kind ?? 'contacts';
  const where = [
    ...(options.archived ? [] : ['v.archived = 0']),
    ...(kind === 'all' ? [] : [kind === 'accounts' ? "s.kind = 'accounts'" : "s.kind <> 'accounts'"]),
  ];
  const rows = (await store.all(
    `SELECT ${COLUMNS}, s.created_at, s.kind FROM console_segments s
       JOIN console_segment_versions v ON v.key = s.key AND v.version = s.version
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY s.key`,
  )) as VersionRow[];
  return rows.map(segmentOf);
}

/** A console segment at its current version, or undefined. */
export async function getStoredSegment(store: Queryable, key: string): Promise<StoredSegment | undefined> {
  const row = (await store.get(
    `SELECT ${COLUMNS}, s.created_at, s.kind FROM console_segments s
       JOIN console_segment_versions v ON v.key = s.key AND v.version = s.version
     WHERE s.key = ?`,
    [key],
  )) as VersionRow | undefined;
  return row ? segmentOf(row) : undefined;
}

/** Every version of a console segment, newest first. */
export async function storedSegmentVersions(store: Queryable, key: string): Promise<StoredSegmentVersion[]> {
  const rows = (await store.all(
    `SELECT ${COLUMNS} FROM console_segment_versions v WHERE v.key = ? ORDER BY v.version DESC`,
    [key],
  )) as VersionRow[];
  return rows.map(versionOf);
}

async function insertVersion(
  tx: Queryable,
  key: string,
  version: number,
  input: StoredSegmentInput,
  archived: boolean,
  savedBy: string,
  savedAt: string,
): Promise<void> {
  await tx.run(
    `INSERT INTO console_segment_versions (key, version, name, description, rule, tags, archived, saved_by, saved_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      key,
      version,
      input.name,
      input.description ?? null,
      JSON.stringify(input.rule),
      JSON.stringify([...new Set(input.tags ?? [])].sort()),
      archived ? 1 : 0,
      savedBy,
      savedAt,
    ],
  );
}

/**
 * Creates a console segment at version 1, of people unless `kind` is `accounts`. `reservedKeys` are the config's
 * segment and account segment keys (keys are unique across both):
 * a key among them, or of an existing console segment (archived ones included), throws SegmentKeyTakenError.
 */
export async function createStoredSegment(
  store: Queryable,
  segment: StoredSegmentInput & { key: string; kind?: StoredSegmentKind | undefined },
  savedBy: string,
  options: { reservedKeys?: readonly string[]; now?: string } = {},
): Promise<StoredSegment> {
  if (!SEGMENT_KEY_PATTERN.test(segment.key))
    throw new RangeError(`"${segment.key.slice(0, 80)}" is not a segment key (letters, digits, _ or -, from a letter)`);
  if (options.reservedKeys?.includes(segment.key))
    throw new SegmentKeyTakenError(segment.key, 'a segment of the config file');
  const now = options.now ?? new Date().toISOString();
  await store.transaction(async (tx) => {
    const taken = await tx.get('SELECT 1 AS taken FROM console_segments WHERE key = ?', [segment.key]);
    if (taken) throw new SegmentKeyTakenError(segment.key, 'a console segment');
    await tx.run('INSERT INTO console_segments (key, version, created_at, updated_at, kind) VALUES (?, 1, ?, ?, ?)', [
      segment.key,
      now,
      now,
      segment.kind ?? 'contacts',
    ]);
    await insertVersion(tx, segment.key, 1, segment, false, savedBy, now);
  });
  return (await getStoredSegment(store, segment.key))!;
}

/**
 * Saves a new version of a console segment, started from `startedFrom`. When the current version is another one,
 * nothing is saved and StaleSegmentVersionError carries the current version (its rule, who saved it and when).
 */
export async function saveStoredSegment(
  store: Queryable,
  key: string,
  startedFrom: number,
  input: StoredSegmentInput & { archived?: boolean },
  savedBy: string,
  options: { now?: string } = {},
): Promise<StoredSegment> {
  const now = options.now ?? new Date().toISOString();
  await store.transaction(async (tx) => {
    const moved = await tx.run(
      'UPDATE console_segments SET version = ?, updated_at = ? WHERE key = ? AND version = ?',
      [startedFrom + 1, now, key, startedFrom],
    );
    if (moved.changes === 0) {
      const current = await getStoredSegment(tx, key);
      if (!current) throw new UnknownStoredSegmentError(key);
      throw new StaleSegmentVersionError(startedFrom, current);
    }
    await insertVersion(tx, key, startedFrom + 1, input, input.archived ?? false, savedBy, now);
  });
  return (await getStoredSegment(store, key))!;
}

/** Archives (or restores) a console segment as a new version; an archived segment is neither computed nor pushed. */
export async function archiveStoredSegment(
  store: Queryable,
  key: string,
  startedFrom: number,
  savedBy: string,
  options: { archived?: boolean; now?: string } = {},
): Promise<StoredSegment> {
  const current = await getStoredSegment(store, key);
  if (!current) throw new UnknownStoredSegmentError(key);
  return saveStoredSegment(
    store,
    key,
    startedFrom,
    { ...current, archived: options.archived ?? true },
    savedBy,
    options,
  );
}

/**
 * The console segments a job's push names: each entry is a key, or `tag:<tag>` for every segment with that tag.
 * Archived segments are left out, so archiving one stops its pushes.
 */
export function storedSegmentsNamed(segments: readonly StoredSegment[], names: readonly string[]): StoredSegment[] {
  const live = segments.filter((s) => !s.archived);
  const picked = new Map<string, StoredSegment>();
  for (const name of names) {
    const tag = name.startsWith('tag:') ? name.slice(4) : undefined;
    for (const s of live) if (tag === undefined ? s.key === name : s.tags.includes(tag)) picked.set(s.key, s);
  }
  return [...picked.values()];
}
