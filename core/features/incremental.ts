import type { Queryable } from '../store/store.js';
import { EMAIL_WINDOWS, MONEY_WINDOWS } from './catalog.js';

const DAY_MS = 86_400_000;

/**
 * The windows, in milliseconds, over which the built-in features count events: an event crossing one of their edges
 * changes a contact's features without any new event. 0 stands for "now": an event dated in the future at the last
 * compute counts once its time has come.
 */
export const FEATURE_WINDOWS_MS: readonly number[] = [
  0,
  ...new Set([...EMAIL_WINDOWS, ...MONEY_WINDOWS, 60].map((d) => d * DAY_MS)),
].sort((a, b) => a - b);

/** What the definitions a compute reads hash to: a change of either makes the next compute full (for that part). */
export interface ComputeFingerprints {
  /** Feature definitions, currency rates, anything features read besides events and traits. */
  features: string;
  /** The evaluated segments' rules, holdouts and compile options. */
  segments: string;
}

/** The last completed compute, as `compute_state` records it. */
export interface ComputeState {
  asOf: string;
  fingerprints: ComputeFingerprints;
  /** The latest successful model run (`model_runs.id`) whose outputs its memberships read; 0 for none. */
  modelRun: number;
}

/** What one compute run will do: the whole base, or only the contacts that can have changed. */
export interface ComputePlan {
  now: string;
  /** The last completed compute, if any. */
  previous: ComputeState | undefined;
  fingerprints: ComputeFingerprints;
  /** Features recomputed for every contact (else only `contacts`, with the clock and RFM refresh). */
  featuresFull: boolean;
  /** Memberships evaluated for every contact (else only `contacts` and those whose features changed). */
  segmentsFull: boolean;
  /** Why the run is full, when it is; `incremental` otherwise. */
  reason: string;
  /** Dirty contacts and contacts with an event that crossed a window edge since the last compute. */
  contacts: number[];
  /** How many contacts were dirty, and how many more crossed a window edge. */
  dirty: number;
  crossed: number;
  /** The dirty marks read (contact id → marks), deleted when the run commits unless marked again meanwhile. */
  taken: Map<number, number>;
}

/** Options of {@link planCompute}. */
export interface PlanOptions {
  now: Date;
  fingerprints: ComputeFingerprints;
  /** Every window (ms) a feature or rule counts events over, beyond the built-in ones. */
  windows?: readonly number[];
  /** Force a full run, with the reason (`compute: { mode: full }`, `--full`, a clock-bound rule). */
  full?: string | undefined;
  /** Force full segment evaluation only, with the reason (rules reading models that just ran, accounts, ...). */
  segmentsFull?: string | undefined;
  /**
   * Above this share of a base of 1,000 contacts or more, recomputing everyone is cheaper than picking contacts
   * (default 0.5).
   */
  fullAbove?: number;
}

const SCOPE = 'default';

/** The last completed compute of the store, or undefined before the first. */
export async function computeState(store: Queryable): Promise<ComputeState | undefined> {
  const row = (await store.get(
    'SELECT as_of, features_fingerprint, segments_fingerprint, model_run FROM compute_state WHERE scope = ?',
    [SCOPE],
  )) as { as_of: string; features_fingerprint: string; segments_fingerprint: string; model_run: number } | undefined;
  return row
    ? {
        asOf: row.as_of,
        fingerprints: { features: row.features_fingerprint, segments: row.segments_fingerprint },
        modelRun: Number(row.model_run),
      }
    : undefined;
}

/** The latest successful model run of the store (`model_runs.id`), 0 before the first. */
export async function lastModelRunId(store: Queryable): Promise<number> {
  const row = (await store.get("SELECT COALESCE(MAX(id), 0) AS id FROM model_runs WHERE status = 'succeeded'")) as {
    id: number;
  };
  return Number(row.id);
}

/**
 * Decides what a compute at `now` must recompute. Incremental runs take (a) the dirty contacts (`compute_dirty`:
 * events, traits, merges since the last compute), (b) the contacts with an event whose age crossed the edge of any
 * window (the built-in 7/30/60/90/365 days, and `windows`) between the last compute's "as of" and `now`. It is full
 * when asked, before the first compute, when the clock went back, when the fingerprints changed, or when the contacts
 * to recompute are most of the base.
 *
 * @example
 * const plan = await planCompute(store, { now, fingerprints, windows: [14 * 86_400_000] });
 * plan.featuresFull ? await computeFeatures(store, { now }) : await computeFeaturesIncrementally(store, plan.contacts, { now });
 */
export async function planCompute(store: Queryable, options: PlanOptions): Promise<ComputePlan> {
  const now = options.now.toISOString();
  const previous = await computeState(store);
  const taken = new Map<number, number>();
  for (const r of (await store.all('SELECT contact_id, marks FROM compute_dirty')) as {
    contact_id: number;
    marks: number;
  }[])
    taken.set(Number(r.contact_id), Number(r.marks));
  const base = {
    now,
    previous,
    fingerprints: options.fingerprints,
    taken,
    dirty: taken.size,
  };
  const full = (reason: string): ComputePlan => ({
    ...base,
    featuresFull: true,
    segmentsFull: true,
    reason,
    contacts: [],
    crossed: 0,
  });
  if (options.full !== undefined) return full(options.full);
  if (!previous) return full('first compute of this store');
  if (previous.asOf > now) return full(`the clock went back (last compute as of ${previous.asOf})`);
  if (previous.fingerprints.features !== options.fingerprints.features) return full('the feature definitions changed');

  const scope = new Set(taken.keys());
  for (const [low, high] of crossingBands(previous.asOf, options.now, options.windows))
    for (const r of (await store.all(
      'SELECT DISTINCT contact_id FROM contact_events WHERE occurred_at >= ? AND occurred_at <= ?',
      [low, high],
    )) as { contact_id: number }[])
      scope.add(Number(r.contact_id));
  const contacts = [...scope].sort((a, b) => a - b);
  const total = ((await store.get('SELECT COUNT(*) AS n FROM contacts')) as { n: number }).n;
  // (A small base is cheap either way, and its contacts are picked as a large one's are.)
  if (total >= 1000 && contacts.length > total * (options.fullAbove ?? 0.5))
    return full(`${contacts.length} of ${total} contacts changed or crossed a window edge`);
  const segmentsReason =
    options.segmentsFull ??
    (previous.fingerprints.segments !== options.fingerprints.segments ? 'the segment definitions changed' : undefined);
  return {
    ...base,
    featuresFull: false,
    segmentsFull: segmentsReason !== undefined,
    reason: segmentsReason === undefined ? 'incremental' : `segments: ${segmentsReason}`,
    contacts,
    crossed: contacts.length - taken.size,
  };
}

/**
 * The bands of event times (`[low, high]`, ISO) whose events crossed the edge of a window (the built-in ones and
 * `windows`, in ms) between `asOf` and `now`; none when the clock did not move forward.
 *
 * @example
 * crossingBands('2026-03-01T00:00:00.000Z', new Date('2026-03-01T01:00:00.000Z'), [14 * 86_400_000]);
 */
export function crossingBands(asOf: string, now: Date, windows: readonly number[] = []): [string, string][] {
  const asOfMs = Date.parse(asOf);
  const nowMs = now.getTime();
  if (!(nowMs > asOfMs)) return [];
  // Both edges are taken in (and a millisecond more each side): a `within` window excludes its edge, `before` includes it.
  return [...new Set([...FEATURE_WINDOWS_MS, ...windows])].map((w) => [
    new Date(asOfMs - w - 1).toISOString(),
    new Date(nowMs - w + 1).toISOString(),
  ]);
}

/**
 * The contacts whose memberships an incremental run evaluates: the plan's, and those whose features changed since
 * the last compute (`computed_at` after its "as of": day counts and RFM scores that moved, a real-time recompute).
 */
export async function segmentScope(store: Queryable, plan: ComputePlan): Promise<number[]> {
  const scope = new Set(plan.contacts);
  const since = plan.previous?.asOf ?? '';
  // A run at the same "as of" as the last stamps what it changes with that same time.
  for (const r of (await store.all('SELECT contact_id FROM contact_features WHERE computed_at > ? OR computed_at = ?', [
    since,
    plan.now,
  ])) as { contact_id: number }[])
    scope.add(Number(r.contact_id));
  return [...scope].sort((a, b) => a - b);
}

/**
 * Records a completed compute, in the transaction that commits its memberships: the dirty marks it read are deleted
 * (a contact marked again since keeps its row), and `compute_state` takes the run's "as of", fingerprints and the
 * latest model run its memberships read.
 */
export async function commitCompute(tx: Queryable, plan: ComputePlan, modelRun = 0): Promise<void> {
  await releaseMarks(tx, plan.taken);
  await tx.run(
    `INSERT INTO compute_state (scope, as_of, features_fingerprint, segments_fingerprint, model_run, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET as_of = excluded.as_of, features_fingerprint = excluded.features_fingerprint,
         segments_fingerprint = excluded.segments_fingerprint, model_run = excluded.model_run, updated_at = excluded.updated_at`,
    [SCOPE, plan.now, plan.fingerprints.features, plan.fingerprints.segments, modelRun, new Date().toISOString()],
  );
}

/**
 * Deletes the dirty marks `taken` read (contact id → marks), except where a contact was marked again since: its
 * marks moved on, and its row stays for the next compute.
 */
export async function releaseMarks(tx: Queryable, taken: ReadonlyMap<number, number>): Promise<void> {
  const byMarks = new Map<number, number[]>();
  for (const [id, marks] of taken) {
    const ids = byMarks.get(marks);
    if (ids) ids.push(id);
    else byMarks.set(marks, [id]);
  }
  for (const [marks, ids] of byMarks)
    await tx.run(
      `DELETE FROM compute_dirty WHERE marks = ? AND contact_id IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j)`,
      [marks, JSON.stringify(ids)],
    );
}
