/**
 * Starting the real-time pipeline from a loaded config: the destinations and segments come from the push steps of
 * the config's jobs (the same destination, segments, mode and consent rule as the scheduled pushes).
 */
import { identityOptionsOf, withDependencies } from '../../core/index.js';
import { durationMs } from '../../config/index.js';
import { joinWriteKeyIds } from '../../core/realtime/index.js';
import type { SegmentRef } from '../../plugins/index.js';
import { connectionContext } from '../../sync/index.js';
import { startPipeline, type FlushReport, type RealtimeDestination } from '../../sync/realtime/index.js';
import type { ServerDeps } from '../deps.js';
import { routeAccepts } from './acceptor.js';

export interface RealtimeOptions {
  /** How often accepted messages are loaded and recomputed. Default 250 ms. */
  tickMs?: number;
  /** The longest a change waits for its micro-batch. Default 1000 ms. */
  flushMs?: number;
  /** Called after each flush (benchmarks measure latency with it). */
  onFlush?: (report: FlushReport) => void;
}

export interface RealtimeHandle {
  /** Resolves once the pipeline's step worker is up. */
  ready: Promise<void>;
  /** Stops the pipeline; what is still queued stays in the store and goes out after the next start. */
  stop(): Promise<void>;
  /** False while its step worker is being started again after it stopped (accepts still commit meanwhile). */
  running(): boolean;
}

/**
 * Starts the pipeline that turns accepted messages into membership changes at the destinations, for `segflow serve`.
 *
 * @example
 * const realtime = startRealtime(deps);
 * process.once('SIGTERM', () => void realtime.stop());
 */
export async function startRealtime(deps: ServerDeps, options: RealtimeOptions = {}): Promise<RealtimeHandle> {
  const { config } = deps;
  const { tracking } = config.server;
  if (tracking.ids === 'workspace') {
    const joined = await joinWriteKeyIds(
      deps.store,
      Object.keys(config.server.write_keys),
      tracking.source,
      identityOptionsOf(config.identity),
    );
    if (joined.moved + joined.linked > 0)
      deps.logger.info('write keys now share their ids: their identities moved to one source', {
        source: tracking.source,
        ...joined,
      });
  }
  const destinations = realtimeDestinations(deps);
  const pushed = new Set(destinations.flatMap((d) => d.segments.map((s) => s.key)));
  const pipeline = await startPipeline({
    store: deps.store,
    segments: withDependencies(config.segments, pushed),
    destinations,
    logger: deps.logger,
    features: { currency: config.currency, features: config.features },
    evaluate: {
      customFeatures: Object.keys(config.features),
      protectedAttributes: config.protected_attributes,
      models: Object.keys(config.models),
    },
    identity: identityOptionsOf(config.identity),
    layout: {
      partitionMs: durationMs(tracking.inbox.partition),
      retentionMs: durationMs(tracking.inbox.retention),
    },
    ...(deps.now ? { now: deps.now } : {}),
    ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
    ...(options.flushMs === undefined ? {} : { flushMs: options.flushMs }),
    ...(options.onFlush ? { onFlush: options.onFlush } : {}),
  });
  const unroute = routeAccepts(deps.store, (connection, kind, messages, receivedAt) =>
    pipeline.accept(connection, kind, messages, receivedAt),
  );
  return {
    ready: pipeline.ready,
    running: () => pipeline.workerDown() === undefined,
    async stop() {
      unroute();
      await pipeline.stop();
    },
  };
}

/**
 * One real-time destination per destination named by a job's push step; several steps to one destination merge:
 * their segments are joined, `mirror` wins over `upsert` (a repair `all` counts as `mirror`: real time never
 * re-sends everyone), consent is required when any step requires it, the most retries apply, and their mapped traits are joined.
 */
export function realtimeDestinations(deps: Pick<ServerDeps, 'config' | 'registry' | 'logger'>): RealtimeDestination[] {
  const { config } = deps;
  const names = new Map(config.segments.map((s) => [s.key, s.name]));
  const merged = new Map<
    string,
    { segments: Set<string>; mirror: boolean; consent: boolean; maxRetries: number; traits: Record<string, string> }
  >();
  for (const job of Object.values(config.jobs)) {
    for (const step of job.steps) {
      if (!('push' in step)) continue;
      const push = step.push;
      const entry = merged.get(push.destination) ?? {
        segments: new Set<string>(),
        mirror: false,
        consent: false,
        maxRetries: 0,
        traits: {},
      };
      Object.assign(entry.traits, push.traits ?? {});
      push.segments.forEach((s) => entry.segments.add(s));
      entry.mirror ||= push.mode !== 'upsert';
      entry.consent ||= push.require_consent === 'email';
      entry.maxRetries = Math.max(entry.maxRetries, push.max_retries ?? 3);
      merged.set(push.destination, entry);
    }
  }
  return [...merged].map(([name, entry]): RealtimeDestination => {
    const connection = config.destinations[name];
    if (!connection) throw new Error(`a job pushes to "${name}", which is not a destination in the config`);
    const destination = deps.registry.destination(connection.connector);
    const identitiesFrom = connection.identities_from;
    return {
      connection: name,
      destination,
      config: connection.config,
      ctx: connectionContext(config, { kind: 'destination', name, connector: destination, logger: deps.logger }),
      segments: [...entry.segments].map((key): SegmentRef => ({ key, name: names.get(key) ?? key })),
      ...(identitiesFrom === undefined ? {} : { identitiesFrom }),
      mode: entry.mirror ? 'mirror' : 'upsert',
      ...(entry.consent ? { requireConsent: 'email' as const } : {}),
      maxRetries: entry.maxRetries,
      ...(Object.keys(entry.traits).length > 0 ? { traits: entry.traits } : {}),
    };
  });
}
