/**
 * "Empty it in the tools" after archiving a console segment: its members' removes, sent to every destination that
 * holds them through the path a member's exit takes, recorded as a sync run; or, as a dry run, their plan.
 */
import { hasEntry, namedEntry, type Config } from '../../config/index.js';
import {
  finishRun,
  getStoredSegment,
  segmentHolders,
  startRun,
  writeRunReport,
  type Queryable,
} from '../../core/index.js';
import { reasonOf, type ConnectorContext, type Logger, type Registry, type SegmentRef } from '../../plugins/index.js';
import { pushSegments, segmentOutcome, type PushOutcome } from '../push/index.js';
import { connectionContext } from './contexts.js';

/** Whether a segment can be emptied in the tools: only an archived console segment can. */
export type EmptyableSegment =
  | { ok: true; segment: SegmentRef }
  | {
      ok: false;
      /** `unknown`: no such segment; `config`: a segment of the config file; `live`: a console segment not archived. */
      problem: 'unknown' | 'config' | 'live';
      message: string;
    };

/**
 * Says whether `key` names a segment that can be emptied in the tools (an archived console segment), and why not.
 *
 * @example
 * const found = await emptyableSegment(store, config, 'spring_sale');
 * if (!found.ok) console.error(found.message);
 */
export async function emptyableSegment(store: Queryable, config: Config, key: string): Promise<EmptyableSegment> {
  const shown = key.slice(0, 80);
  if (config.segments.some((s) => s.key === key))
    return {
      ok: false,
      problem: 'config',
      message: `segment "${shown}" comes from the config file: only an archived console segment can be emptied in the tools`,
    };
  const stored = await getStoredSegment(store, key);
  if (!stored) return { ok: false, problem: 'unknown', message: `no segment "${shown}"` };
  if (!stored.archived)
    return {
      ok: false,
      problem: 'live',
      message: `segment "${shown}" is not archived: archive it first, or the next run of a job pushing it adds its members back`,
    };
  return { ok: true, segment: { key, name: stored.name } };
}

/** What emptying a segment did (or, in a dry run, would do) in one destination. */
export interface EmptiedDestination {
  /** The destination's connection name. */
  destination: string;
  /** Contacts its delivered state said the tool held before. */
  held: number;
  /** The push of the removes: its one segment's `removed`, `rejected`, `pending` and a `sample` of people. */
  outcome: PushOutcome;
}

/** What emptying a segment in the tools did (or would do). */
export interface EmptySegmentOutcome {
  segment: string;
  name: string;
  dryRun: boolean;
  /**
   * `nothing`: no destination holds a member (never pushed, or emptied already), so nothing was sent; `planned`: a dry
   * run; otherwise how the removes went, as a run's status.
   */
  status: 'nothing' | 'planned' | 'succeeded' | 'partial' | 'failed' | 'cancelled';
  /** The sync run recorded for the emptying (none for a dry run, or when there was nothing to remove). */
  runId?: number;
  /** Removes sent and accepted (planned, in a dry run), over every destination. */
  removed: number;
  rejected: number;
  destinations: EmptiedDestination[];
  /** Destinations the delivered state names that the config no longer has: left as they are, and said so. */
  notInConfig: string[];
}

export interface EmptySegmentOptions {
  store: Queryable;
  /** The loaded config: its destinations say how to reach each tool. */
  config: Config;
  registry: Registry;
  /** The archived segment (see emptyableSegment): its key, and the name its lists and campaigns carry in the tools. */
  segment: SegmentRef;
  /** Plan only: the removes per destination with a sample of people; nothing sent, written or recorded. */
  dryRun?: boolean;
  logger?: Logger;
  signal?: AbortSignal;
  /** The context a destination's calls go through; default one built from the config (its rate budget and limits). */
  contextFor?: (destination: string) => ConnectorContext;
  /** People shown per destination. Default 10. */
  sampleSize?: number;
  /** Retries a retryable remove gets. Default 3. */
  maxRetries?: number;
  /** First wait before retrying retryable removes. Default 1000 ms. */
  retryDelayMs?: number;
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The job name an emptying's sync run is recorded under. */
export const emptyRunJob = (key: string): string => `empty:${key}`;

/**
 * Empties an archived segment in the tools: every destination whose delivered state holds members of the segment is
 * sent a remove for each of them, through the same path a member's exit takes (HubSpot list membership removed,
 * Salesforce campaign member deleted or field cleared, Mailchimp tag removed, Segment identify with the trait false),
 * at the destination's batch size and rate budget; rejected rows are recorded with the run. Removes settle the
 * delivered state, so a second call finds nothing to send. Recorded as a sync run (job `empty:<key>`) like a job's
 * pushes. A dry run plans the same removes and sends nothing.
 *
 * @example
 * const plan = await emptySegment({ store, config, registry, segment: { key: 'spring_sale', name: 'Spring sale' }, dryRun: true });
 * plan.destinations.map((d) => [d.destination, d.outcome.segments[0]?.removed]);
 */
export async function emptySegment(options: EmptySegmentOptions): Promise<EmptySegmentOutcome> {
  const { store, config, segment } = options;
  const dryRun = options.dryRun === true;
  const logger = options.logger ?? quiet;
  const holders = await segmentHolders(store, segment.key);
  const known = holders.filter((h) => hasEntry(config.destinations, h.destination));
  const result: EmptySegmentOutcome = {
    segment: segment.key,
    name: segment.name,
    dryRun,
    status: known.length === 0 ? 'nothing' : dryRun ? 'planned' : 'succeeded',
    removed: 0,
    rejected: 0,
    destinations: [],
    notInConfig: holders.filter((h) => !hasEntry(config.destinations, h.destination)).map((h) => h.destination),
  };
  if (known.length === 0) return result;
  const runId = dryRun ? undefined : await startRun(store, emptyRunJob(segment.key));
  if (runId !== undefined) result.runId = runId;
  const signal = options.signal ?? new AbortController().signal;
  try {
    for (const holder of known) {
      const name = holder.destination;
      const connection = namedEntry(config.destinations, name)!;
      let outcome: PushOutcome;
      try {
        const destination = options.registry.destination(connection.connector);
        outcome = await pushSegments({
          store,
          destination,
          config: connection.config,
          ctx:
            options.contextFor?.(name) ??
            connectionContext(config, { kind: 'destination', name, connector: destination, logger, signal }),
          connection: name,
          segments: [segment],
          ...(connection.identities_from === undefined ? {} : { identitiesFrom: connection.identities_from }),
          mode: 'mirror',
          emptying: true,
          maxRetries: options.maxRetries ?? 3,
          sampleSize: options.sampleSize ?? 10,
          dryRun,
          ...(runId === undefined ? {} : { runId }),
          ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
        });
      } catch (error) {
        outcome = {
          connection: name,
          status: 'failed',
          dryRun,
          segments: [{ ...segmentOutcome(segment.key, 'failed'), error: reasonOf(error) }],
        };
      }
      const emptied = outcome.segments[0];
      if (!dryRun && emptied && emptied.status !== 'succeeded')
        logger.error('emptying a segment in a destination failed', {
          destination: name,
          segment: segment.key,
          reason: emptied.error ?? outcome.configError ?? emptied.status,
        });
      result.removed += emptied?.removed ?? 0;
      result.rejected += emptied?.rejected ?? 0;
      result.destinations.push({ destination: name, held: holder.contacts, outcome });
      if (runId !== undefined) await writeRunReport(store, runId, reportOf(result), countsOf(result));
    }
    if (!dryRun) result.status = overall(result.destinations.map((d) => d.outcome.status));
  } catch (error) {
    // the store failed (a destination's failure is its outcome): the run is recorded failed, the caller told
    result.status = 'failed';
    throw error;
  } finally {
    if (runId !== undefined) {
      await writeRunReport(store, runId, reportOf(result));
      await finishRun(
        store,
        runId,
        result.status as 'succeeded' | 'partial' | 'failed' | 'cancelled',
        countsOf(result),
        result.status === 'succeeded' ? null : describeFailures(result),
      );
    }
  }
  return result;
}

/**
 * An emptying's outcome as the API answers it and `segflow segments empty --json` prints it: per destination its
 * counts and a sample of the people removed (or, in a dry run, to remove).
 *
 * @example
 * emptiedSummary(await emptySegment({ store, config, registry, segment, dryRun: true })).destinations[0]?.removed;
 */
export function emptiedSummary(outcome: EmptySegmentOutcome) {
  return {
    segment: outcome.segment,
    name: outcome.name,
    dryRun: outcome.dryRun,
    status: outcome.status,
    runId: outcome.runId ?? null,
    removed: outcome.removed,
    rejected: outcome.rejected,
    destinations: outcome.destinations.map((d) => {
      const s = d.outcome.segments[0];
      return {
        destination: d.destination,
        held: d.held,
        status: s?.status ?? d.outcome.status,
        removed: s?.removed ?? 0,
        rejected: s?.rejected ?? 0,
        pending: s?.pending ?? 0,
        ...(s?.error || d.outcome.configError ? { error: d.outcome.configError ?? s?.error } : {}),
        sample: (s?.sample ?? []).map((p) => ({ contactId: p.contactId, email: p.email, externalIds: p.externalIds })),
      };
    }),
    notInConfig: outcome.notInConfig,
  };
}

/** The run report: each destination as a push step (as a job's run keeps them), without the sampled people. */
function reportOf(result: EmptySegmentOutcome): { steps: unknown[]; emptied: string } {
  return {
    emptied: result.segment,
    steps: result.destinations.map((d) => ({
      kind: 'push',
      destination: d.destination,
      outcome: { ...d.outcome, segments: d.outcome.segments.map(({ sample: _sample, ...s }) => s) },
    })),
  };
}

function countsOf(result: EmptySegmentOutcome): Record<string, number> {
  const sum = (pick: (s: PushOutcome['segments'][number]) => number) =>
    result.destinations.reduce((n, d) => n + d.outcome.segments.reduce((m, s) => m + pick(s), 0), 0);
  return { removed: sum((s) => s.removed), rejected: sum((s) => s.rejected), retried: sum((s) => s.retried) };
}

function describeFailures(result: EmptySegmentOutcome): string | null {
  const failed = result.destinations.flatMap((d) =>
    d.outcome.segments
      .filter((s) => s.status !== 'succeeded' || s.pending > 0)
      .map((s) => `${d.destination}: ${d.outcome.configError ?? s.error ?? `${s.pending} removes left to retry`}`),
  );
  return failed.length > 0 ? failed.join('; ') : null;
}

function overall(statuses: PushOutcome['status'][]): EmptySegmentOutcome['status'] {
  if (statuses.includes('cancelled')) return 'cancelled';
  if (statuses.length > 0 && statuses.every((s) => s === 'failed')) return 'failed';
  if (statuses.some((s) => s !== 'succeeded')) return 'partial';
  return 'succeeded';
}
