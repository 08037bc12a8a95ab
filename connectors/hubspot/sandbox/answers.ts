/**
 * HubSpot's error bodies and the small readers of paging parameters every route uses.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { StoredObject } from './portal.js';

export function hubspotError(message: string, category: string) {
  return { status: 'error', message, correlationId: randomUUID(), category };
}

export function validation(c: Context, message: string) {
  return c.json(hubspotError(message, 'VALIDATION_ERROR'), 400);
}

export function notFound(c: Context, message: string) {
  return c.json(hubspotError(message, 'OBJECT_NOT_FOUND'), 404);
}

export function intParam(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isInteger(n) ? n : fallback;
}

export function lowerBound(rows: StoredObject[], id: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number((rows[mid] as StoredObject).id) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function firstAtOrAfter(count: number, createdAt: (i: number) => number, start: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (createdAt(mid) < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function encodeOffset(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

/** The offset an `after` token carries; 0 without one, undefined when it is not ours. */
export function decodeOffset(token: string | undefined): number | undefined {
  if (!token) return 0;
  const n = Number(Buffer.from(token, 'base64url').toString());
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The `paging` member of a page: a link to the next page at `path` when there is one, nothing on the last page.
 *
 * @example
 * return c.json({ results, ...nextPaging(c, '/marketing/v3/forms/', next) });
 */
export function nextPaging(
  c: Context,
  path: string,
  after: string | undefined,
): { paging?: { next: { after: string; link: string } } } {
  return after === undefined
    ? {}
    : { paging: { next: { after, link: `${new URL(c.req.url).origin}${path}?after=${after}` } } };
}

/**
 * One page of an offset-paged listing: the items from `from`, and the opaque `after` of the next page, if any.
 *
 * @example
 * const { page, next } = offsetPage(forms, from, limit);
 */
export function offsetPage<T>(items: readonly T[], from: number, limit: number): { page: T[]; next?: string } {
  const page = items.slice(from, from + limit);
  return from + limit < items.length ? { page, next: encodeOffset(from + limit) } : { page };
}
