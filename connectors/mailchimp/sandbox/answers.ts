/**
 * Mailchimp's error bodies (problem+json, and the edge's bare HTML 403) and the readers of the request parameters
 * every route uses.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { subscriberHash, type MailchimpAccount } from './account.js';
import type { MailchimpLimits } from './limits.js';

export const ERROR_DOC = 'https://mailchimp.com/developer/marketing/docs/errors/';

export function problem(
  c: Context,
  status: number,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
) {
  return c.body(
    JSON.stringify({ type: ERROR_DOC, title, status, detail, instance: randomUUID(), ...extra }),
    status as 400,
    {
      'Content-Type': 'application/problem+json; charset=utf-8',
    },
  );
}

export function bare403(c: Context) {
  return c.body('<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>', 403, {
    'Content-Type': 'text/html',
  });
}

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function intParam(c: Context, name: string, fallback: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

export function timeParam(c: Context, name: string): number | undefined | null {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? null : ms;
}

/** The member path segment: a subscriber hash, or (as Mailchimp also accepts) an email address. */
export function hashOf(raw: string): string {
  const value = decodeURIComponent(raw);
  return value.includes('@') ? subscriberHash(value) : value.toLowerCase();
}

export function apiKeyOf(header: string | undefined): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export function paging(c: Context, limits: MailchimpLimits): { count: number; offset: number } | { error: Response } {
  const count = intParam(c, 'count', 10);
  const offset = intParam(c, 'offset', 0);
  if (Number.isNaN(count) || Number.isNaN(offset)) {
    return { error: problem(c, 400, 'Invalid Resource', 'count and offset must be non-negative integers.') };
  }
  if (count > limits.pageSize) {
    return {
      error: problem(c, 400, 'Invalid Resource', `The resource submitted could not be validated.`, {
        errors: [{ field: 'count', message: `Must be less than or equal to ${limits.pageSize}` }],
      }),
    };
  }
  return { count, offset };
}

/** First index whose lastChanged, in whole seconds as Mailchimp keeps it, is > at (strict) or >= at. */
export function lowerBound(entries: { lastChanged: number }[], at: number, strict: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = Math.floor((entries[mid] as { lastChanged: number }).lastChanged / 1000) * 1000;
    if (strict ? v <= at : v < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await c.req.json();
    return body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The 404 of an audience the account does not have, or undefined when it has it.
 *
 * @example
 * const missing = missingList(c, account, c.req.param('list'));
 * if (missing) return missing;
 */
export function missingList(c: Context, account: MailchimpAccount, listId: string): Response | undefined {
  return account.hasList(listId)
    ? undefined
    : problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
}
