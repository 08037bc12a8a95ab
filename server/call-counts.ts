/**
 * API calls, retries and 429s per connection across the connector contexts of a whole process: each job run and the
 * real-time flusher create their own contexts, so `/metrics` counts them through a registry whose connectors report
 * every context they are handed.
 *
 * @example
 * const calls = countCalls(builtinRegistry());
 * await runJob(config, 'nightly', { registry: calls.registry });
 * calls.byConnection(); // { crm: { requests: 212, retries: 0, rateLimited: 3, failures: 0, byOperation: {…} } }
 */
import type {
  CallStats,
  ConnectionContext,
  ConnectorContext,
  DestinationDefinition,
  Registry,
  SourceDefinition,
} from '../plugins/index.js';

export interface CallCounts {
  /** The registry to run jobs and the real-time pipeline with: the same connectors, counted. */
  registry: Registry;
  /** What every context seen so far did, summed per connection (since this process started counting). */
  byConnection(): Record<string, CallStats>;
}

interface Watched {
  connection: string;
  /** Once the context is gone its counts can no longer change, and they are folded into the totals. */
  context: WeakRef<ConnectorContext>;
}

export function countCalls(registry: Registry): CallCounts {
  const watched = new Map<CallStats, Watched>();
  const finished = new Map<string, CallStats>();
  const sources = new WeakMap<SourceDefinition, SourceDefinition>();
  const destinations = new WeakMap<DestinationDefinition, DestinationDefinition>();

  const seen = (ctx: ConnectorContext): void => {
    // createContext's contexts carry their counters; a context made some other way has none to report
    const stats = (ctx as Partial<ConnectionContext>).stats;
    if (!stats || watched.has(stats)) return;
    watched.set(stats, { connection: ctx.connection, context: new WeakRef(ctx) });
  };

  const countedSource = (definition: SourceDefinition): SourceDefinition => {
    let counted = sources.get(definition);
    if (!counted) {
      counted = {
        ...definition,
        check: (config, ctx) => (seen(ctx), definition.check(config, ctx)),
        streams: (config) =>
          definition
            .streams(config)
            .map((stream) => ({ ...stream, read: (request, ctx) => (seen(ctx), stream.read(request, ctx)) })),
      };
      sources.set(definition, counted);
    }
    return counted;
  };

  const countedDestination = (definition: DestinationDefinition): DestinationDefinition => {
    let counted = destinations.get(definition);
    if (!counted) {
      const erase = definition.erase?.bind(definition);
      counted = {
        ...definition,
        check: (config, ctx) => (seen(ctx), definition.check(config, ctx)),
        write: (batch, config, ctx) => (seen(ctx), definition.write(batch, config, ctx)),
        readMembership: (segment, config, ctx) => (seen(ctx), definition.readMembership(segment, config, ctx)),
        ...(erase ? { erase: (identities, config, ctx) => (seen(ctx), erase(identities, config, ctx)) } : {}),
      } as DestinationDefinition;
      destinations.set(definition, counted);
    }
    return counted;
  };

  return {
    registry: {
      add: (connector) => registry.add(connector),
      source: (name) => countedSource(registry.source(name)),
      destination: (name) => countedDestination(registry.destination(name)),
      has: (name, type) => registry.has(name, type),
      names: (type) => registry.names(type),
      loadPlugin: (plugin, options) => registry.loadPlugin(plugin, options),
    },
    byConnection() {
      const totals: Record<string, CallStats> = {};
      for (const [connection, stats] of finished) addTo(totals, connection, stats);
      for (const [stats, { connection, context }] of watched) {
        addTo(totals, connection, stats);
        if (context.deref() === undefined) {
          watched.delete(stats);
          finished.set(connection, addCallStats(finished.get(connection), stats));
        }
      }
      return totals;
    },
  };
}

function addTo(totals: Record<string, CallStats>, connection: string, stats: CallStats): void {
  totals[connection] = addCallStats(totals[connection], stats);
}

/** `a + b` as new counters (neither is changed). */
export function addCallStats(a: CallStats | undefined, b: CallStats): CallStats {
  const byOperation = { ...(a?.byOperation ?? {}) };
  for (const [operation, n] of Object.entries(b.byOperation))
    byOperation[operation] = (byOperation[operation] ?? 0) + n;
  return {
    requests: (a?.requests ?? 0) + b.requests,
    retries: (a?.retries ?? 0) + b.retries,
    rateLimited: (a?.rateLimited ?? 0) + b.rateLimited,
    failures: (a?.failures ?? 0) + b.failures,
    byOperation,
  };
}
