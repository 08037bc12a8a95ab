/**
 * The API's errors: a stable code, a message for people, and for invalid bodies the field at fault. The app's error
 * handler turns them into `{ error: { code, message, field? } }`; anything else becomes a bare `internal` error.
 */
import type { Context } from 'hono';
import type { z } from 'zod';

export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'malformed_json'
  | 'invalid_body'
  | 'invalid_query'
  | 'invalid_rule'
  | 'payload_too_large'
  | 'conflict'
  | 'too_many_requests'
  | 'not_cancellable'
  | 'unavailable'
  | 'internal';

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503,
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; issues?: unknown[] } = {},
  ) {
    super(message);
  }
}

const fieldOf = (path: readonly PropertyKey[]) => path.map(String).join('.');

function fromZod(code: 'invalid_body' | 'invalid_query', error: z.ZodError): ApiError {
  const first = error.issues[0];
  const field = first ? fieldOf(first.path) : '';
  const where = field ? `${field}: ` : '';
  return new ApiError(400, code, `${where}${first?.message ?? 'invalid'}`, {
    field,
    issues: error.issues.map((i) => ({ field: fieldOf(i.path), message: i.message })),
  });
}

/** The request's JSON body checked against `schema`; 400 malformed_json or invalid_body (with the field) otherwise. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(400, 'malformed_json', 'the request body is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZod('invalid_body', parsed.error);
  return parsed.data;
}

/** The query string checked against `schema`; 400 invalid_query (with the field) otherwise. */
export function queryOf<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw fromZod('invalid_query', parsed.error);
  return parsed.data;
}

/** A positive integer path parameter, or 404 (an id that cannot exist names nothing). */
export function idParam(c: Context, name: string): number {
  const text = c.req.param(name) ?? '';
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new ApiError(404, 'not_found', `no ${name} "${text.slice(0, 40)}"`);
  return Number(text);
}
