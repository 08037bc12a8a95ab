/**
 * The error taxonomy every connector and the engine share. Each class has a stable `code` that runs, logs and the
 * API report; `cause` keeps the SDK's original error.
 *
 * @example
 * throw new ConfigError('HubSpot rejected the access token', { fix: 'set HUBSPOT_TOKEN to a private-app token' });
 */
export type ErrorCode = 'config' | 'transient' | 'rate_limited' | 'rejected_row' | 'plugin';

export interface SegflowErrorOptions {
  cause?: unknown;
  /** What the user can do about it, in one sentence. */
  fix?: string;
  /** Extra, non-secret facts for logs and the API. */
  details?: Record<string, unknown>;
}

/** Base class: a message, a stable code, and an optional fix. */
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

/** Wrong or missing configuration or credentials: stop and tell the user; never retried. */
export class ConfigError extends SegflowError {
  constructor(message: string, options?: SegflowErrorOptions) {
    super('config', message, options);
  }
}

/** A passing failure (network, 5xx, lock contention): retried with backoff. */
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

/** One row the tool refused (invalid email, forbidden value): recorded with its reason, never retried. */
export class RejectedRowError extends SegflowError {
  constructor(message: string, options?: SegflowErrorOptions) {
    super('rejected_row', message, options);
  }
}

/** A plugin package that is missing, exports no connector, or was written for another contract version. */
export class PluginError extends SegflowError {
  constructor(message: string, options?: SegflowErrorOptions) {
    super('plugin', message, options);
  }
}

/** True when `error` is one of ours with the given code. */
export function hasCode(error: unknown, code: ErrorCode): error is SegflowError {
  return error instanceof SegflowError && error.code === code;
}

/**
 * What a failure says, for a run's record or a log line; never empty: an error without a message (an SDK's bodiless
 * answer, a bare `new Error()`) is named by its class and code.
 *
 * @example
 * reasonOf(Object.assign(new TypeError(''), { code: 'ERR_SOCKET_CLOSED' })) // 'TypeError (ERR_SOCKET_CLOSED) without a message'
 */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  const { errorCode, code } = error as { errorCode?: unknown; code?: unknown };
  const named = errorCode ?? code;
  return `${error.name}${named === undefined ? '' : ` (${String(named)})`} without a message`;
}
