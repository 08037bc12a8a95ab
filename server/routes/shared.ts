/**
 * What the API's route modules share beyond ServerDeps: a logger that redacts every secret, the last check of each
 * connection, and one connector context per connection (so checks and erasures keep the connection's rate budget and
 * show up in /metrics).
 */
import { configSecrets } from '../../config/index.js';
import { redactingLogger, type ConnectionContext, type ConnectorDefinition, type Logger } from '../../plugins/index.js';
import { connectionContext } from '../../sync/index.js';
import type { ServerDeps } from '../deps.js';

export interface CheckOutcome {
  ok: boolean;
  reason?: string;
  checkedAt: string;
}

export interface Shared {
  deps: ServerDeps;
  logger: Logger;
  now(): Date;
  /** Removes every secret value from a text (reasons connectors give, error messages). */
  scrub(text: string): string;
  checks: Map<string, CheckOutcome>;
  contexts: Map<string, ConnectionContext>;
  contextFor(kind: 'source' | 'destination', name: string, definition: ConnectorDefinition): ConnectionContext;
}

/** The secret values of a running server: the config's, the tokens' and the write keys'. */
export function serverSecrets(deps: ServerDeps): string[] {
  const s = deps.config.server;
  const names = [s.admin_token_env, s.read_token_env, ...Object.values(s.write_keys)];
  const fromEnv = names.map((n) => deps.env[n]).filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [...configSecrets(deps.config), ...fromEnv];
}

export function createShared(deps: ServerDeps): Shared {
  const secrets = serverSecrets(deps)
    .filter((v) => v.length >= 4)
    .sort((a, b) => b.length - a.length);
  const scrub = (text: string) => secrets.reduce((out, value) => out.split(value).join('[redacted]'), text);
  const logger = redactingLogger(deps.logger, secrets);
  const contexts = new Map<string, ConnectionContext>();
  return {
    deps,
    logger,
    now: deps.now ?? (() => new Date()),
    scrub,
    checks: new Map(),
    contexts,
    contextFor(kind, name, definition) {
      const key = `${kind}:${name}`;
      let ctx = contexts.get(key);
      if (!ctx) {
        ctx = connectionContext(deps.config, { kind, name, connector: definition, secrets, logger });
        contexts.set(key, ctx);
      }
      return ctx;
    },
  };
}

/** Page arithmetic shared by every paged list. */
export function paging(page: number, perPage: number, total: number) {
  return { page, perPage, total, pages: Math.max(1, Math.ceil(total / perPage)) };
}
