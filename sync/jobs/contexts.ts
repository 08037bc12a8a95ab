/**
 * The one place a connection's connector context is built from a loaded config: the connector's rate budget with the
 * YAML's `rate_limit` on top, the connector's own error classifier (HubSpot's daily limit, Salesforce's limit and lock
 * codes, a plugin's mapping), the config's secrets scrubbed from every log line, the logger and the abort signal.
 * Job runs, the real-time flusher, the admin API and `segflow check` all build their contexts here.
 *
 * @example
 * const ctx = connectionContext(config, { kind: 'source', name: 'crm', connector: source, logger, signal });
 */
import { configSecrets, namedEntry, rateBudget, type Config } from '../../config/index.js';
import { settleRequestSlot, takeRequestSlot, type Queryable } from '../../core/index.js';
import {
  createContext,
  reasonOf,
  systemClock,
  type ConnectionContext,
  type ConnectorDefinition,
  type Logger,
  type RetryPolicy,
} from '../../plugins/index.js';

export interface ConnectionContextOptions {
  /** Which side of the config the connection is under (`sources:` or `destinations:`). */
  kind: 'source' | 'destination';
  /** The connection's name in the config. */
  name: string;
  /** Its connector, as the registry gives it. */
  connector: ConnectorDefinition;
  logger?: Logger;
  /** Aborting it stops the connector's calls (a request waiting for its budget, a retry's backoff). */
  signal?: AbortSignal;
  /** The values to scrub from log lines. Default: the config's secrets. */
  secrets?: string[];
  /** A retry policy other than the default (`segflow check` answers quickly). */
  retry?: Partial<RetryPolicy>;
  /**
   * A store whose shared rate budgets (`rate_budget_slots`) every process calling the tool draws from as well
   * (workers): together they stay under the connection's rolling limit, not each on its own.
   */
  sharedBudgets?: Queryable;
}

/** A connector context for one connection of `config`, with the connector's own error classifier. */
export function connectionContext(config: Config, options: ConnectionContextOptions): ConnectionContext {
  const { connector } = options;
  const connection =
    options.kind === 'source'
      ? namedEntry(config.sources, options.name)
      : namedEntry(config.destinations, options.name);
  const budget = rateBudget(connector, connection?.rate_limit);
  const shared = options.sharedBudgets;
  const { requests, intervalMs } = budget ?? {};
  const admit =
    shared !== undefined && requests !== undefined && intervalMs !== undefined
      ? async (signal: AbortSignal) => {
          const budget = { key: `${connector.name}:${options.name}`, requests, intervalMs };
          for (;;) {
            const taken = await takeRequestSlot(shared, budget);
            // The slot takes the time of the answer, no earlier than the request reached the tool; unsettled (a
            // failed write), it frees itself a minute later.
            if ('slot' in taken)
              return () =>
                void settleRequestSlot(shared, budget, taken).catch((error: unknown) =>
                  options.logger?.warn('shared rate budget: a request slot was not settled', {
                    connection: options.name,
                    reason: reasonOf(error),
                  }),
                );
            await systemClock.sleep(taken.waitMs, signal);
          }
        }
      : undefined;
  return createContext({
    connection: options.name,
    budget,
    ...(admit ? { admit } : {}),
    secrets: options.secrets ?? configSecrets(config),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    // called as a method: a classifier may use `this` (its definition)
    ...(connector.classifyError ? { classifyError: (error: unknown) => connector.classifyError?.(error) } : {}),
  });
}
