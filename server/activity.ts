/**
 * The activity log's middleware: every change or action asked of the API (anything but a read), whoever asked — the
 * console's session or a bearer token — is recorded after it is answered: the token's role, what, on what, the
 * status. A route adds details (the run it started, the rows it requeued) with `noteActivity`. Refused requests are
 * recorded too (a read token's 403); requests without any valid credential (401) are not.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { recordActivity } from '../core/activity/index.js';
import { requestRole } from './auth.js';
import type { Shared } from './routes/shared.js';

const NOTE_KEY = 'segflow.activity';

/** Adds details to the activity entry of this request (never a secret nor a person's data). */
export function noteActivity(c: Context, detail: Record<string, unknown>): void {
  const previous = (c.get(NOTE_KEY) as Record<string, unknown> | undefined) ?? {};
  c.set(NOTE_KEY, { ...previous, ...detail });
}

/** What a request asks, in the API's words, and of what: `POST /runs/7/cancel` → run.cancel of 7. */
const ACTIONS: { method: string; pattern: RegExp; action: string }[] = [
  { method: 'POST', pattern: /^\/jobs\/([^/]+)\/run$/, action: 'job.run' },
  { method: 'POST', pattern: /^\/jobs\/([^/]+)\/unlock$/, action: 'job.unlock' },
  { method: 'POST', pattern: /^\/runs\/([^/]+)\/cancel$/, action: 'run.cancel' },
  { method: 'POST', pattern: /^\/runs\/([^/]+)\/retry$/, action: 'run.retry' },
  { method: 'POST', pattern: /^\/connections\/([^/]+)\/check$/, action: 'connection.check' },
  { method: 'DELETE', pattern: /^\/contacts\/([^/]+)$/, action: 'contact.erase' },
  { method: 'POST', pattern: /^\/segments\/([^/]+)\/empty$/, action: 'segment.empty' },
];

/** Reads change nothing; a segment preview only computes an answer. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const NOT_ACTIONS = new Set(['/segments/preview']);

function describe(method: string, path: string): { action: string; target: string | null } {
  for (const a of ACTIONS) {
    const match = a.method === method ? a.pattern.exec(path) : null;
    if (match) return { action: a.action, target: decodeURIComponent(match[1] ?? '').slice(0, 200) };
  }
  return { action: `${method} ${path}`.slice(0, 200), target: null };
}

/**
 * Records the API's changes and actions under these path prefixes.
 *
 * @example
 * app.use('*', activityLog(shared, ['/jobs', '/runs', '/contacts', '/connections']));
 */
export function activityLog(shared: Shared, prefixes: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    const logged =
      !READS.has(method) && !NOT_ACTIONS.has(path) && prefixes.some((p) => path === p || path.startsWith(`${p}/`));
    await next();
    if (!logged || c.res.status === 401) return;
    const role = requestRole(c) ?? (c.res.status === 403 ? 'read' : null);
    const described = describe(method, path);
    const target = described.target;
    let action = described.action;
    const detail = (c.get(NOTE_KEY) as Record<string, unknown> | undefined) ?? null;
    if (action === 'job.run' && detail?.dryRun === true) action = 'job.dry_run';
    if (action === 'segment.empty' && detail?.dryRun === true) action = 'segment.empty_dry_run';
    try {
      await recordActivity(
        shared.deps.store,
        { role, action, target, method, path: path.slice(0, 500), status: c.res.status, detail },
        // the wall clock: the demo's world clock stands still, and the log says when people acted
        new Date(),
      );
    } catch (error) {
      // the action itself went through: a log that cannot be written is reported, never turned into a failure
      shared.logger.error('could not record the activity', {
        action,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
}
