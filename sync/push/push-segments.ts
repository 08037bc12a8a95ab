import { randomUUID } from 'node:crypto';
import { acquireJobLock, heartbeatJobLock, recordSourcesOf, releaseJobLock, type Queryable } from '../../core/index.js';
import {
  planPush,
  recordPushOutcomes,
  type PlannedChange,
  type PushMode,
  type PushRowOutcome,
} from '../../core/planner/index.js';
import {
  ConfigError,
  SegflowError,
  reasonOf,
  type ConnectorContext,
  type DestinationDefinition,
  type MembershipBatch,
  type MembershipChange,
  type RowResult,
  type SegmentRef,
} from '../../plugins/index.js';

export interface PushSegmentsOptions {
  store: Queryable;
  destination: DestinationDefinition;
  /** The connector config, already parsed by the connector's spec. */
  config: unknown;
  ctx: ConnectorContext;
  /** The destination's name in the config; delivered state is kept per connection. */
  connection: string;
  /** Segment keys, or refs when the destination should see a display name. */
  segments: readonly (string | SegmentRef)[];
  /**
   * The source connection (its name in the config) whose tool ids address a contact in this destination; its
   * records' ids are found under whatever source name its connector stamps on them.
   */
  identitiesFrom?: string;
  mode: PushMode;
  requireConsent?: 'email';
  /**
   * Traits sent with adds, by the destination's name for them, from a model output (`churn.risk`), a feature
   * (`feature:monetary_365d`) or a contact trait (`trait:country`); a delivered member whose values changed since
   * gets an `update`, and an unchanged one nothing.
   */
  traits?: Readonly<Record<string, string>>;
  /** Retries a retryable row gets after its first attempt, in this run and later ones together. */
  maxRetries: number;
  runId?: number;
  /** Plan only: counts and a sample, nothing sent and nothing written. */
  dryRun?: boolean;
  /** First wait before retrying retryable rows in the run; doubles each round. Default 1000 ms. */
  retryDelayMs?: number;
  /** Changes shown per segment in the outcome. Default 5. */
  sampleSize?: number;
  /** Called after each committed batch, with the contacts whose changes it recorded. */
  onBatch?: (segment: string, sent: number, contactIds?: number[]) => void;
  /** Called after a batch's results are written and before their commit (tests kill the process there). */
  beforeCommit?: () => void;
  /**
   * Only changes about these contacts are planned (looked up by id, not found by scanning the segment), sent and
   * counted (the real-time flusher's touched contacts); the others wait for a later push. Default: every change the
   * planner finds.
   */
  contacts?: readonly number[];
  /**
   * Empty the segments in the tool: every contact the destination holds is sent a remove (the destination's exit, as
   * when a member leaves), members or not, and nobody is added. For archived segments; see emptySegment.
   */
  emptying?: boolean;
}

/** A change as the outcome shows it. */
export interface PushSample {
  op: 'add' | 'remove' | 'update';
  /** The contact's id; for an account segment's change, the account's. */
  contactId: string;
  email: string | null;
  externalIds: string[];
  /** The mapped traits the change carries. */
  traits?: Record<string, unknown>;
  /** For an account segment's change: the account's name and domain. */
  account?: { name: string | null; domain: string | null };
}

export interface SegmentPushOutcome {
  segment: string;
  /** An account segment: its counts and sample are of accounts. */
  accounts?: boolean;
  status: 'succeeded' | 'failed' | 'cancelled';
  /** Adds the destination accepted (planned adds, in a dry run). */
  added: number;
  removed: number;
  /**
   * Trait updates of delivered members the destination accepted (planned updates, in a dry run). Absent (read it as
   * 0) on outcomes built outside pushSegments.
   */
  updated?: number;
  rejected: number;
  /** Row re-sends within this run after a retryable answer (planned retries of earlier rows, in a dry run). */
  retried: number;
  /** Rows still retryable at the end: later runs try them again while they have retries left. */
  pending: number;
  /**
   * Members left out: suppressed, without consent, with no identity the destination can use, or not in the tool
   * (answered skipped by the destination now, or earlier with the same identities).
   */
  skipped: number;
  /** `notInDestination` is absent (read it as 0) on outcomes built outside pushSegments. */
  skippedBy: {
    suppressed: number;
    noConsent: number;
    noIdentity: number;
    exhausted: number;
    notInDestination?: number;
  };
  batches: number;
  sample: PushSample[];
  error?: string;
}

export interface PushOutcome {
  connection: string;
  /**
   * `partial` when some segment failed or rows are left retryable; `failed` when no segment succeeded, or when the
   * destination refused the credentials or permissions (`configError`).
   */
  status: 'succeeded' | 'partial' | 'failed' | 'cancelled';
  /**
   * Why the destination refused the connection (a 401/403: a configuration failure of the run, not of its rows). The
   * push stopped there; every row not yet settled stays pending, its attempts uncounted, for the run after the fix.
   */
  configError?: string;
  dryRun: boolean;
  segments: SegmentPushOutcome[];
}

/**
 * Pushes the membership changes of each segment to one destination. Batches go out at `destination.batchSize`
 * through the connector (which wraps each SDK call in `ctx.call`); each batch's results are recorded in delivered
 * state in one transaction. A batch the destination throws on marks its rows retryable and fails that segment; the
 * other segments still run. With `traits`, adds carry the mapped values and members whose values changed since
 * they were delivered get an `update` change.
 *
 * @example
 * const outcome = await pushSegments({ store, destination, config, ctx, connection: 'crm', segments: ['vip'],
 *   identitiesFrom: 'hubspot', mode: 'mirror', maxRetries: 3, traits: { churn_risk: 'churn.risk' } });
 * outcome.segments[0]?.added;
 * outcome.segments[0]?.updated;
 */
export async function pushSegments(options: PushSegmentsOptions): Promise<PushOutcome> {
  if (options.dryRun === true) return pushPlanned(options);
  const lock = await holdDestination(options.store, options.connection, options.segments, options.ctx);
  try {
    return await pushPlanned(options);
  } finally {
    await lock.release();
  }
}

// Short, with a heartbeat every quarter: a crashed holder blocks the destination's pushes for at most this long.
const LOCK_TTL_MS = 12_000;
const LOCK_POLL_MS = 100;

/**
 * Holds the push locks of the destination's segments (in the store, so across processes; one per destination ×
 * segment, taken in key order) from planning until the last batch is recorded: a scheduled push and the real-time
 * flusher never plan the same change before the other records it, while pushes of other segments to the same
 * destination (workers' push tasks) go on side by side. Waits while another holder has one; a crashed holder's lock
 * expires after LOCK_TTL_MS.
 */
async function holdDestination(
  store: Queryable,
  connection: string,
  segments: readonly (string | SegmentRef)[],
  ctx: ConnectorContext,
): Promise<{ release(): Promise<void> }> {
  const names = [...new Set(segments.map((s) => `push:${connection}:${typeof s === 'string' ? s : s.key}`))].sort();
  const holder = `${process.pid}:${randomUUID()}`;
  for (const name of names)
    while (!(await acquireJobLock(store, name, holder, LOCK_TTL_MS))) {
      if (ctx.signal.aborted) break;
      await ctx.clock.sleep(LOCK_POLL_MS, ctx.signal).catch(() => undefined);
    }
  const beat = setInterval(() => {
    for (const name of names)
      heartbeatJobLock(store, name, holder, LOCK_TTL_MS).catch((error: unknown) =>
        ctx.logger.warn('push lock heartbeat failed', { destination: connection, reason: reasonOf(error) }),
      );
  }, LOCK_TTL_MS / 4);
  beat.unref();
  return {
    async release() {
      clearInterval(beat);
      for (const name of names) await releaseJobLock(store, name, holder);
    },
  };
}

async function pushPlanned(options: PushSegmentsOptions): Promise<PushOutcome> {
  const refs = options.segments.map((s): SegmentRef => (typeof s === 'string' ? { key: s, name: s } : s));
  const plans = await planPush(options.store, {
    destination: options.connection,
    segments: refs.map((r) => r.key),
    mode: options.mode,
    maxRetries: options.maxRetries,
    ...(options.identitiesFrom === undefined
      ? {}
      : { identitiesFrom: await recordSourcesOf(options.store, options.identitiesFrom) }),
    ...(options.requireConsent === undefined ? {} : { requireConsent: options.requireConsent }),
    ...(options.traits === undefined ? {} : { traits: options.traits }),
    ...(options.contacts === undefined ? {} : { contacts: options.contacts }),
    ...(options.emptying === true ? { everyoneLeaves: true } : {}),
  });
  const sampleSize = options.sampleSize ?? 5;
  const dryRun = options.dryRun === true;
  const outcomes: SegmentPushOutcome[] = [];
  let configError: string | undefined;

  for (const [i, plan] of plans.entries()) {
    const segment = refs[i] as SegmentRef;
    const s = plan.skipped;
    const outcome = segmentOutcome(segment.key, 'succeeded', { ...s });
    outcome.skipped = s.suppressed + s.noConsent + s.noIdentity + s.notInDestination;
    outcome.sample = plan.changes.slice(0, sampleSize).map(sampleOf);
    outcomes.push(outcome);
    if (dryRun) {
      outcome.added = plan.changes.filter((c) => c.op === 'add').length;
      outcome.updated = plan.changes.filter((c) => c.op === 'update').length;
      outcome.removed = plan.changes.filter((c) => c.op === 'remove').length;
      outcome.retried = plan.changes.filter((c) => c.attempts > 0).length;
      continue;
    }
    if (options.ctx.signal.aborted) {
      outcome.status = 'cancelled';
      continue;
    }
    if (configError !== undefined) {
      outcome.status = 'failed';
      outcome.pending = plan.changes.length;
      outcome.error = `not pushed: ${configError}`;
      continue;
    }
    configError = await pushSegment(options, segment, plan.changes, outcome);
  }

  return {
    connection: options.connection,
    status: configError === undefined ? overall(outcomes) : 'failed',
    ...(configError === undefined ? {} : { configError }),
    dryRun,
    segments: outcomes,
  };
}

/**
 * A refusal of the connection itself: a config error the connector classified from a 401/403 (or Salesforce's
 * INVALID_SESSION_ID). Every later call would be refused alike, and the rows are not at fault. Classified here too, by
 * the destination's own classifier, so the answer does not depend on the context the caller built. Other config
 * errors (an archived list, say) fail their segment only.
 */
function refusalOf(destination: DestinationDefinition, error: unknown): ConfigError | undefined {
  const classified =
    error instanceof ConfigError
      ? error
      : error instanceof SegflowError
        ? undefined
        : destination.classifyError?.(error);
  return classified instanceof ConfigError && refusedCredentials(classified) ? classified : undefined;
}

const AUTH_CODES = new Set(['INVALID_SESSION_ID', 'invalid_grant', 'invalid_client', 'invalid_client_id']);

function refusedCredentials(error: unknown): boolean {
  for (let at: unknown = error, depth = 0; at && typeof at === 'object' && depth < 5; depth++) {
    const e = at as { status?: unknown; statusCode?: unknown; code?: unknown; errorCode?: unknown; details?: unknown };
    const details = (e.details ?? {}) as { status?: unknown; errorCode?: unknown };
    for (const status of [e.status, e.statusCode, e.code, details.status])
      if (status === 401 || status === 403) return true;
    for (const code of [e.errorCode, details.errorCode])
      if (typeof code === 'string' && AUTH_CODES.has(code)) return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
}

function describeRefusal(error: ConfigError): string {
  return `configuration error: ${reasonOf(error)}${error.fix ? ` (fix: ${error.fix})` : ''}`;
}

/** Pushes one segment's changes; answers the configuration error when the destination refused the connection. */
async function pushSegment(
  options: PushSegmentsOptions,
  segment: SegmentRef,
  changes: PlannedChange[],
  outcome: SegmentPushOutcome,
): Promise<string | undefined> {
  const { destination, ctx } = options;
  const attemptCap = 1 + Math.max(0, Math.floor(options.maxRetries));
  const size = destination.batchSize;
  const baseDelay = options.retryDelayMs ?? 1000;
  const notInDestinationBefore = outcome.skippedBy.notInDestination ?? 0;

  /**
   * Sends one batch and records its results; returns the rows answered retryable that have retries left. A refused
   * connection records nothing: the rows stay as they were (pending, no attempt counted).
   */
  const send = async (batch: PlannedChange[]): Promise<PlannedChange[]> => {
    const request: MembershipBatch = {
      segment,
      changes: batch.map(changeOf),
      ...(options.requireConsent ? { requireConsent: options.requireConsent } : {}),
    };
    outcome.batches++;
    let results: RowResult[];
    try {
      results = await destination.write(request, options.config as never, ctx);
      if (!Array.isArray(results) || results.length !== batch.length) {
        throw new Error(
          `${destination.name} answered ${Array.isArray(results) ? results.length : 'no'} results for ${batch.length} changes`,
        );
      }
    } catch (error) {
      if (refusalOf(destination, error)) throw error;
      const reason = reasonOf(error);
      await record(batch.map((c) => ({ contactId: c.contactId, op: c.op, status: 'retryable', reason })));
      outcome.pending += batch.length;
      throw error;
    }
    const rows: PushRowOutcome[] = [];
    const again: PlannedChange[] = [];
    for (const [j, change] of batch.entries()) {
      const result = results[j] as RowResult;
      const mapped = change.mappedTraits === undefined ? {} : { mappedTraits: change.mappedTraits };
      if (result.status === 'accepted') {
        if (change.op === 'add') outcome.added++;
        else if (change.op === 'update') outcome.updated = (outcome.updated ?? 0) + 1;
        else outcome.removed++;
        rows.push({
          contactId: change.contactId,
          op: change.op,
          status: 'accepted',
          ...(result.destinationRecordId === undefined ? {} : { destinationRecordId: result.destinationRecordId }),
          ...mapped,
        });
      } else if (result.status === 'rejected') {
        outcome.rejected++;
        rows.push({
          contactId: change.contactId,
          op: change.op,
          status: 'rejected',
          reason: result.reason,
          ...(result.code === undefined ? {} : { code: result.code }),
          ...mapped,
        });
      } else if (result.status === 'skipped') {
        outcome.skipped++;
        outcome.skippedBy.notInDestination = (outcome.skippedBy.notInDestination ?? 0) + 1;
        rows.push({
          contactId: change.contactId,
          op: change.op,
          status: 'skipped',
          reason: result.reason,
          identityDigest: change.identityDigest,
          ...(result.code === undefined ? {} : { code: result.code }),
        });
      } else {
        rows.push({ contactId: change.contactId, op: change.op, status: 'retryable', reason: result.reason });
        const attempts = change.attempts + 1;
        if (attempts < attemptCap) again.push({ ...change, attempts });
        else outcome.pending++;
      }
    }
    await record(rows);
    options.onBatch?.(
      segment.key,
      batch.length,
      batch.map((c) => c.contactId),
    );
    return again;
  };

  const record = async (rows: PushRowOutcome[]): Promise<void> =>
    await recordPushOutcomes(options.store, {
      destination: options.connection,
      segmentKey: segment.key,
      outcomes: rows,
      ...(options.runId === undefined ? {} : { runId: options.runId }),
      ...(options.beforeCommit === undefined ? {} : { beforeCommit: options.beforeCommit }),
    });

  try {
    let retry: PlannedChange[] = [];
    for (let at = 0; at < changes.length; at += size) {
      if (ctx.signal.aborted) {
        outcome.status = 'cancelled';
        return;
      }
      retry.push(...(await send(changes.slice(at, at + size))));
    }
    for (let round = 0; retry.length > 0; round++) {
      if (ctx.signal.aborted) {
        outcome.pending += retry.length;
        outcome.status = 'cancelled';
        return;
      }
      await ctx.clock.sleep(Math.min(baseDelay * 2 ** round, 60_000), ctx.signal);
      const next: PlannedChange[] = [];
      for (let at = 0; at < retry.length; at += size) {
        const batch = retry.slice(at, at + size);
        outcome.retried += batch.length;
        next.push(...(await send(batch)));
      }
      retry = next;
    }
  } catch (error) {
    outcome.status = ctx.signal.aborted ? 'cancelled' : 'failed';
    const refusal = refusalOf(destination, error);
    if (refusal && !ctx.signal.aborted) {
      const settled =
        outcome.added +
        outcome.removed +
        (outcome.updated ?? 0) +
        outcome.rejected +
        (outcome.skippedBy.notInDestination ?? 0) -
        notInDestinationBefore;
      outcome.pending = changes.length - settled;
      outcome.error = describeRefusal(refusal);
      ctx.logger.error('destination refused the connection: push stopped, rows left pending', {
        connection: options.connection,
        segment: segment.key,
        pending: outcome.pending,
        reason: outcome.error,
      });
      return outcome.error;
    }
    outcome.error = reasonOf(error);
    ctx.logger.error('push failed', { connection: options.connection, segment: segment.key, reason: outcome.error });
  }
  return undefined;
}

function changeOf(change: PlannedChange): MembershipChange {
  return {
    op: change.op,
    contact: change.contact,
    messageId: change.messageId,
    ...(change.destinationRecordId === undefined ? {} : { destinationRecordId: change.destinationRecordId }),
    ...(change.traits === undefined ? {} : { traits: change.traits }),
  };
}

function sampleOf(change: PlannedChange): PushSample {
  return {
    op: change.op,
    contactId: change.contact.contactId,
    email: change.contact.email,
    externalIds: change.contact.externalIds,
    ...(change.traits === undefined ? {} : { traits: change.traits }),
  };
}

/**
 * A segment's outcome before anything was pushed: every count zero. Used for a segment that will not be pushed (the
 * run stopped, the step before failed) and as the start of one that will.
 */
export function segmentOutcome(
  segment: string,
  status: SegmentPushOutcome['status'],
  skippedBy: SegmentPushOutcome['skippedBy'] = { suppressed: 0, noConsent: 0, noIdentity: 0, exhausted: 0 },
): SegmentPushOutcome {
  return {
    segment,
    status,
    added: 0,
    removed: 0,
    updated: 0,
    rejected: 0,
    retried: 0,
    pending: 0,
    skipped: 0,
    skippedBy,
    batches: 0,
    sample: [],
  };
}

function overall(outcomes: SegmentPushOutcome[]): PushOutcome['status'] {
  if (outcomes.some((o) => o.status === 'cancelled')) return 'cancelled';
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  if (failed > 0 && failed === outcomes.length) return 'failed';
  if (failed > 0 || outcomes.some((o) => o.pending > 0)) return 'partial';
  return 'succeeded';
}
