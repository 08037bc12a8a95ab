/**
 * What the source and destination checks share: the failure and skip signals, the checks every connector passes
 * (spec, secrets, check with good and bad credentials), record paths and cursor comparison, and the context a check
 * calls the connector with.
 */
import { z } from 'zod';
import type { ConnectorBase } from '../contract/connector.js';
import { createContext, type ConnectionContext, type ContextOptions, type Logger } from '../contract/context.js';
import { hasCode } from '../contract/errors.js';
import { secretKeys, secretValues } from '../contract/spec.js';

/**
 * A conformance check failed. The message names the connector, the stream or segment, and the problem.
 *
 * @example
 * await expect(checks.uniquePrimaryKeys()).rejects.toThrow(ConformanceError);
 */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

/**
 * A check that does not apply to this connector, with the reason (the vitest layer reports it as a skip).
 *
 * @example
 * throw new ConformanceSkip('no badConfig given: the connector has no credentials to get wrong');
 */
export class ConformanceSkip extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ConformanceSkip';
  }
}

export function fail(message: string): never {
  throw new ConformanceError(message);
}

/**
 * Options every conformance run accepts, source or destination.
 *
 * @example
 * runSourceConformance({
 *   connector: source,
 *   setup: async () => { const s = await startSandbox(); return { config: { baseUrl: s.url }, teardown: s.close }; },
 *   badConfig: { baseUrl: 'http://127.0.0.1:1', token: 'wrong' },
 * });
 */
export interface CommonOptions<Spec extends z.ZodType, Fixture> {
  /** A working config (the spec's input shape). Omit it when `setup` returns one. */
  config?: z.input<Spec>;
  /** A config with wrong credentials (or a missing file): `check` must say no, not crash. */
  badConfig?: z.input<Spec>;
  /**
   * Runs once before the checks, e.g. to start a sandbox on port 0; what it returns overrides the static options,
   * and its `teardown` runs after the checks.
   */
  setup?: () => Promise<Partial<Fixture> & { teardown?: () => Promise<void> }>;
  /** Runs once after the checks (after the teardown `setup` returned, if any). */
  teardown?: () => Promise<void>;
  /** Overrides for the connector context (retry policy, clock, logger). Logs are dropped by default. */
  context?: Partial<ContextOptions>;
}

/** What the checks run against once setup is done. */
export interface ResolvedFixture<Config> {
  raw: unknown;
  config: Config;
  badConfig: unknown;
}

/**
 * Runs `setup` at most once, and `dispose` undoes it. Every check awaits `ready()`, so a check called on its own
 * (as the kit's own tests do) sets up lazily.
 */
export function lifecycle<Fixture>(
  statics: Partial<Fixture>,
  setup: (() => Promise<Partial<Fixture> & { teardown?: () => Promise<void> }>) | undefined,
  teardown: (() => Promise<void>) | undefined,
): { ready(): Promise<Partial<Fixture>>; dispose(): Promise<void> } {
  let pending: Promise<Partial<Fixture> & { teardown?: () => Promise<void> }> | undefined;
  return {
    ready() {
      pending ??= (async () => ({ ...statics, ...(setup ? await setup() : {}) }))();
      return pending;
    },
    async dispose() {
      const done = pending;
      pending = undefined;
      try {
        if (done) await (await done.catch(() => ({}) as { teardown?: () => Promise<void> })).teardown?.();
      } finally {
        await teardown?.();
      }
    },
  };
}

/** Parses the good config with the connector's spec; a config that does not parse fails the run. */
export function parseConfig<Spec extends z.ZodType>(
  connector: ConnectorBase<Spec>,
  raw: unknown,
  which = 'config',
): z.infer<Spec> {
  if (raw === undefined) fail(`${connector.name}: no ${which} given — pass \`${which}\` or return it from \`setup\``);
  const parsed = connector.spec.safeParse(raw);
  if (!parsed.success)
    fail(`${connector.name}: the ${which} does not parse with the spec: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The context a check calls the connector with: the connector's own budget, short retries, secrets scrubbed. */
export function contextFor(
  connector: ConnectorBase<z.ZodType>,
  config: unknown,
  overrides: Partial<ContextOptions> = {},
): ConnectionContext {
  return createContext({
    connection: `conformance-${connector.name}`,
    ...(connector.rateBudget ? { budget: connector.rateBudget } : {}),
    ...(connector.classifyError ? { classifyError: (error: unknown) => connector.classifyError?.(error) } : {}),
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 200 },
    logger: quietLogger,
    secrets: secretValues(connector.spec, config),
    ...overrides,
  });
}

/** Config field names that hold a secret: token, accessToken, password, apiKey, secret, clientSecret, privateKey. */
const SECRET_NAME = /(token|password|passwd|secret|api[_-]?key|private[_-]?key)$/i;

/** The spec is a zod schema and the good config parses. */
export function checkSpec(connector: ConnectorBase<z.ZodType>, raw: unknown): void {
  if (!(connector.spec instanceof z.ZodType)) fail(`${connector.name}: spec is not a zod schema`);
  parseConfig(connector, raw);
}

/** Every field named like a secret is marked with `secret()`. */
export function checkSecretsMarked(connector: ConnectorBase<z.ZodType>): void {
  const marked = new Set(secretKeys(connector.spec));
  const shape = objectKeys(connector.spec);
  const unmarked = shape.filter((key) => SECRET_NAME.test(key) && !marked.has(key));
  if (unmarked.length > 0) {
    fail(
      `${connector.name}: spec field${unmarked.length > 1 ? 's' : ''} ${unmarked.map((k) => `"${k}"`).join(', ')} ` +
        `look${unmarked.length > 1 ? '' : 's'} like a secret but ${unmarked.length > 1 ? 'are' : 'is'} not marked — wrap ${unmarked.length > 1 ? 'them' : 'it'} in secret()`,
    );
  }
}

/** `check` says yes to the good config. */
export async function checkGoodCredentials(
  connector: ConnectorBase<z.ZodType>,
  raw: unknown,
  context?: Partial<ContextOptions>,
): Promise<void> {
  const config = parseConfig(connector, raw);
  let result;
  try {
    result = await connector.check(config, contextFor(connector, config, context));
  } catch (error) {
    fail(`${connector.name}: check threw with the good config: ${messageOf(error)}`);
  }
  if (!result.ok) fail(`${connector.name}: check failed with the good config: ${result.reason}`);
}

/** `check` says no to bad credentials — ok:false with a reason, or a ConfigError — without leaking the secrets. */
export async function checkBadCredentials(
  connector: ConnectorBase<z.ZodType>,
  raw: unknown,
  context?: Partial<ContextOptions>,
): Promise<void> {
  if (raw === undefined) throw new ConformanceSkip('no badConfig given: the connector has no credentials to get wrong');
  const config = parseConfig(connector, raw, 'badConfig');
  const secrets = secretValues(connector.spec, config).filter((s) => s.length >= 4);
  let reason: string;
  try {
    const result = await connector.check(config, contextFor(connector, config, context));
    if (result.ok) fail(`${connector.name}: check accepted the bad config (ok: true)`);
    reason = result.reason;
    if (typeof reason !== 'string' || reason.trim() === '')
      fail(`${connector.name}: check refused the bad config without a reason`);
  } catch (error) {
    if (error instanceof ConformanceError) throw error;
    if (!hasCode(error, 'config')) {
      fail(
        `${connector.name}: check crashed on bad credentials instead of saying why (return ok:false or throw ConfigError): ${messageOf(error)}`,
      );
    }
    reason = error.message;
  }
  const leaked = secrets.find((s) => reason.includes(s));
  if (leaked !== undefined)
    fail(`${connector.name}: check's reason for refusing the bad config contains a secret value`);
}

/** The keys of an object spec (through optional/default wrappers). */
function objectKeys(spec: z.ZodType): string[] {
  let current: unknown = spec;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof z.ZodObject) return Object.keys(current.shape as object);
    const def = (current as { _zod?: { def?: { innerType?: unknown; in?: unknown } } })._zod?.def;
    current = def?.innerType ?? def?.in;
  }
  return [];
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The value at a dotted path in a record: `externalId`, `traits.updated_at`, `contact.email`.
 *
 * @example
 * valueAt({ traits: { updated_at: '2026-01-05' } }, 'traits.updated_at'); // '2026-01-05'
 */
export function valueAt(record: unknown, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]|$)/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * A cursor as a number that orders correctly: timestamps as epoch milliseconds (so `overlap` applies in ms),
 * numbers (and numeric strings) as themselves. Anything else fails the check that met it.
 *
 * @example
 * cursorNumber('2026-01-05T10:00:00Z', 'contacts'); // 1767607200000 (epoch ms)
 * cursorNumber(42, 'events'); // 42
 */
export function cursorNumber(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    if (NUMBER.test(value)) return Number(value);
    if (ISO_DATE.test(value)) {
      const ms = Date.parse(value);
      if (!Number.isNaN(ms)) return ms;
    }
  }
  return fail(`${where}: cursor ${JSON.stringify(value)} is neither a number nor an ISO-8601 timestamp`);
}
