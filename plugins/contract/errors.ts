/**
 * The error taxonomy every connector and the engine share. Each class has a stable `code` that runs, logs and the
 * API report; `cause` keeps the SDK's original error.
 *
 * @example
 * throw new ConfigError('HubSpot rejected the access token', { fix: 'set HUBSPOT_TOKEN to a private-app token' });
 */
export type ErrorCode = 'config' | 'transient' | 'rate_limited' | 'rejected_row' | 'plugin';

/**
 * What every segflow error may carry besides its message: the original error, a fix for the user, and non-secret
 * details.
 *
 * @example
 * throw new TransientError('HubSpot answered 502', { cause: error, details: { operation: 'contacts.search' } });
 */
export interface SegflowErrorOptions {
  cause?: unknown;
  /** What the user can do about it, in one sentence. */
  fix?: string;
  /** Extra, non-secret facts for logs and the API. */
  details?: Record<string, unknown>;
}

/**
 * Base class: a message, a stable code, and an optional fix.
 *
 * @example
 * if (error instanceof SegflowError) console.error(`${error.code}: ${error.message}`, error.fix ?? '');
 */
export class SegflowError extends Error {
  readonly code: ErrorCode;
  readonly fix: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: SegflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fix = options.fix;
    this.details = options.details ?? {};
  }
}

/**
 * Wrong or missing configuration or credentials: stop and tell the user; never retried.
 *
 * @example
 * throw new ConfigError('Salesforce refused the login', { fix: 'check SF_USERNAME and SF_PASSWORD', cause: error });
 */
export class ConfigError extends SegflowError {
  constructor(message: string, options?: SegflowErrorOptions) {
    super('config', message, options);
  }
}

/**
 * A passing failure (network, 5xx, lock contention): retried with backoff.
 *
 * @example
 * throw new TransientError('Mailchimp answered 503', { retryAfterMs: 2000, cause: error });
 */
export class TransientError extends SegflowError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: SegflowErrorOptions & { retryAfterMs?: number } = {}) {
    super('transient', message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The tool said "too many requests". An interval limit is waited out and does not use up attempts; a daily limit
 * (`scope: 'daily'`) stops calls to that connection for the run.
 *
 * @example
 * throw new RateLimitedError('daily API limit reached', { scope: 'daily', cause: error });
 */
export class RateLimitedError extends SegflowError {
  readonly retryAfterMs: number | undefined;
  readonly scope: 'interval' | 'daily';
  constructor(
    message: string,
    options: SegflowErrorOptions & { retryAfterMs?: number; scope?: 'interval' | 'daily' } = {},
  ) {
    super('rate_limited', message, options);
    this.retryAfterMs = options.retryAfterMs;
    this.scope = options.scope ?? 'interval';
  }
}

/**
 * One row the tool refused (invalid email, forbidden value): recorded with its reason, never retried.
 *
 * @example
 * throw new RejectedRowError('invalid email address', { details: { field: 'email' } });
 */
export class RejectedRowError extends SegflowError {
  constructor(message: string, options?: SegflowErrorOptions) {
    super('rejected_row', message, options);
  }
}

/**
 * A plugin package that is missing, exports no connector, or was written for another contract version.
 *
 * @example
 * throw new PluginError('plugin "@acme/segflow-zendesk" exports no connector', {
 *   fix: 'export defineSource(...) from its entry point',
 * });
 */
export class PluginError extends SegflowError {
  constructor(message: string, options?: SegflowErrorOptions) {
    super('plugin', message, options);
  }
}

/**
 * True when `error` is one of ours with the given code.
 *
 * @example
 * if (hasCode(error, 'config')) return { ok: false, reason: error.fix ?? error.message };
 */
export function hasCode(error: unknown, code: ErrorCode): error is SegflowError {
  return error instanceof SegflowError && error.code === code;
}

/**
 * What a failure says, for a run's record or a log line; never empty: an error without a message (an SDK's bodiless
 * answer, a bare `new Error()`) is named by its class and code.
 *
 * @example
 * reasonOf(Object.assign(new TypeError(''), { code: 'ERR_SOCKET_CLOSED' })) // 'TypeError (ERR_SOCKET_CLOSED) without a
 * message'
 */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  const { errorCode, code } = error as { errorCode?: unknown; code?: unknown };
  const named = errorCode ?? code;
  return `${error.name}${named === undefined ? '' : ` (${String(named)})`} without a message`;
}
