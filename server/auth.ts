/**
 * Who may call the API: a bearer token from the environment (the admin token may do everything, the read-only token
 * may only read), compared in constant time; or a console session, a random id in an HttpOnly, SameSite=Strict
 * cookie, held in memory and mapping to the role of the token it was opened with.
 *
 * @example
 * curl -H "Authorization: Bearer $SEGFLOW_READ_TOKEN" http://127.0.0.1:8080/segments
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import { ApiError } from './routes/errors.js';

export type Role = 'admin' | 'read';

export const SESSION_COOKIE = 'segflow_session';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The tokens the server accepts, kept only as digests. */
export class Tokens {
  private readonly admin: Buffer | undefined;
  private readonly read: Buffer | undefined;

  constructor(admin: string | undefined, read: string | undefined) {
    this.admin = admin ? digest(admin) : undefined;
    this.read = read ? digest(read) : undefined;
  }

  /** The role a presented token grants, compared in constant time against both tokens. */
  roleOf(token: string): Role | undefined {
    const presented = digest(token);
    const isAdmin = this.admin !== undefined && timingSafeEqual(presented, this.admin);
    const isRead = this.read !== undefined && timingSafeEqual(presented, this.read);
    return isAdmin ? 'admin' : isRead ? 'read' : undefined;
  }

  get configured(): boolean {
    return this.admin !== undefined || this.read !== undefined;
  }
}

/** Console sessions, in memory: a restart logs everyone out. */
export class Sessions {
  private readonly open = new Map<string, { role: Role; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  start(role: Role): { id: string; maxAgeSeconds: number } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    this.open.set(id, { role, expiresAt: this.clock() + this.ttlMs });
    return { id, maxAgeSeconds: Math.floor(this.ttlMs / 1000) };
  }

  roleOf(id: string | undefined): Role | undefined {
    if (!id) return undefined;
    const session = this.open.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.clock()) {
      this.open.delete(id);
      return undefined;
    }
    return session.role;
  }

  end(id: string | undefined): void {
    if (id) this.open.delete(id);
  }

  private sweep(): void {
    const now = this.clock();
    for (const [id, s] of this.open) if (s.expiresAt <= now) this.open.delete(id);
  }
}

/** How {@link SignInThrottle} slows a client down. */
export interface SignInThrottleOptions {
  /** Failed sign-ins an address may make before it has to wait. Default 5. */
  free?: number;
  /** The first wait; each further failure doubles it. Default 1 s. */
  baseMs?: number;
  /** The longest wait. Default 15 minutes. */
  maxMs?: number;
  /** An address quiet this long after its wait is forgotten (its next failure starts a new burst). Default 15 minutes. */
  forgetMs?: number;
  /** Addresses remembered at most (the longest-quiet are forgotten first). Default 10,000. */
  maxAddresses?: number;
  clock?: () => number;
}

/**
 * Failed sign-ins per client address, with exponential backoff: after `free` failures an address waits `baseMs`, then
 * twice as long after each further failure, up to `maxMs`; while it waits, every sign-in is refused unchecked. A burst
 * is the run of failures from one address until it is forgotten, and it is logged once, at its first failure.
 *
 * @example
 * const throttle = new SignInThrottle();
 * if (throttle.waitMs(address) > 0) return tooManyRequests();
 * if (!valid) throttle.failed(address); else throttle.succeeded(address);
 */
export class SignInThrottle {
  private readonly addresses = new Map<string, { failures: number; until: number; last: number }>();
  private readonly free: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly forgetMs: number;
  private readonly maxAddresses: number;
  private readonly clock: () => number;

  constructor(options: SignInThrottleOptions = {}) {
    this.free = options.free ?? 5;
    this.baseMs = options.baseMs ?? 1000;
    this.maxMs = options.maxMs ?? 15 * 60_000;
    this.forgetMs = options.forgetMs ?? 15 * 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
    this.clock = options.clock ?? Date.now;
  }

  /** How long `address` must still wait before its next sign-in is checked (0: not at all). */
  waitMs(address: string): number {
    const entry = this.current(address);
    return entry ? Math.max(0, entry.until - this.clock()) : 0;
  }

  /** Records a failed sign-in; `firstOfBurst` says whether to log it, `waitMs` how long the address now waits. */
  failed(address: string): { firstOfBurst: boolean; failures: number; waitMs: number } {
    const now = this.clock();
    const known = this.current(address);
    const entry = known ?? { failures: 0, until: 0, last: now };
    entry.failures++;
    entry.last = now;
    const over = entry.failures - this.free;
    const wait = over > 0 ? Math.min(this.maxMs, this.baseMs * 2 ** Math.min(over - 1, 40)) : 0;
    entry.until = now + wait;
    this.addresses.delete(address);
    this.addresses.set(address, entry); // kept in order of last failure, so the longest-quiet come first
    for (const oldest of this.addresses.keys()) {
      if (this.addresses.size <= this.maxAddresses) break;
      this.addresses.delete(oldest);
    }
    return { firstOfBurst: known === undefined, failures: entry.failures, waitMs: wait };
  }

  /** A successful sign-in forgets the address's failures. */
  succeeded(address: string): void {
    this.addresses.delete(address);
  }

  private current(address: string) {
    const entry = this.addresses.get(address);
    if (entry && Math.max(entry.until, entry.last) + this.forgetMs <= this.clock()) {
      this.addresses.delete(address);
      return undefined;
    }
    return entry;
  }
}

/**
 * The address of the client that sent the request: the socket's peer as the Node server saw it (behind a proxy, the
 * proxy's), or `unknown` when the request did not come over a socket (tests calling `app.request()`).
 */
export function clientAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

const SESSIONS_KEY = 'segflow.sessions';
const ROLE_KEY = 'segflow.role';

/** Makes the sessions reachable from any route's context (the console's pages ask `sessionRole`). */
export function provideSessions(sessions: Sessions): MiddlewareHandler {
  return async (c, next) => {
    c.set(SESSIONS_KEY, sessions);
    await next();
  };
}

/**
 * The role of the request's console session, or undefined without a valid one. The console redirects to its login page
 * when this is undefined.
 *
 * @example
 * if (!sessionRole(c)) return c.redirect('/console/login');
 */
export function sessionRole(c: Context): Role | undefined {
  const sessions = c.get(SESSIONS_KEY) as Sessions | undefined;
  return sessions?.roleOf(getCookie(c, SESSION_COOKIE));
}

/** Ends the request's console session, if any, and clears its cookie (signing out). */
export function endSession(c: Context): void {
  const sessions = c.get(SESSIONS_KEY) as Sessions | undefined;
  sessions?.end(getCookie(c, SESSION_COOKIE));
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/** The role the request was authenticated with (set by `requireAuth`). */
export function requestRole(c: Context): Role | undefined {
  return c.get(ROLE_KEY) as Role | undefined;
}

const READ_METHODS = new Set(['GET', 'HEAD']);
/** POSTs that only compute an answer and change nothing, so the read-only token may make them. */
const READ_ONLY_POSTS = new Set(['/segments/preview']);

/**
 * Requires a bearer token or a session cookie: 401 without either (or with a wrong one), 403 when the read-only
 * token asks for anything but a read (a segment preview counts as a read: it saves nothing).
 */
export function requireAuth(tokens: Tokens): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('Authorization');
    let role: Role | undefined;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      role = match?.[1] ? tokens.roleOf(match[1]) : undefined;
    } else {
      role = sessionRole(c);
    }
    if (!role) {
      c.header('WWW-Authenticate', 'Bearer realm="segflow"');
      throw new ApiError(
        401,
        'unauthorized',
        header === undefined ? 'a bearer token or a console session is required' : 'the bearer token is not valid',
      );
    }
    const reads = READ_METHODS.has(c.req.method) || (c.req.method === 'POST' && READ_ONLY_POSTS.has(c.req.path));
    if (role === 'read' && !reads) {
      throw new ApiError(403, 'forbidden', 'the read-only token may only read; this needs the admin token');
    }
    c.set(ROLE_KEY, role);
    await next();
  };
}
