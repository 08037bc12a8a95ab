/**
 * Connector config specs are zod schemas; `secret()` marks a field whose value must never be logged or returned.
 *
 * @example
 * const spec = z.object({ accessToken: secret(z.string()), basePath: z.string().optional() });
 * secretKeys(spec); // ['accessToken']
 */
import { z } from 'zod';

const secrets = z.registry<{ secret: true }>();

/**
 * Marks a config field as secret: redacted from logs, errors and API responses.
 *
 * @example
 * const spec = z.object({ accessToken: secret(z.string().min(1)) });
 */
export function secret<T extends z.ZodType>(schema: T): T {
  secrets.add(schema, { secret: true });
  return schema;
}

/**
 * The top-level keys of an object spec whose fields are marked secret (through optional/default/nullable wrappers).
 *
 * @example
 * secretKeys(z.object({ apiKey: secret(z.string()), region: z.string() })); // ['apiKey']
 */
export function secretKeys(spec: z.ZodType): string[] {
  const shape = objectShape(spec);
  if (!shape) return [];
  return Object.entries(shape)
    .filter(([, field]) => isSecret(field))
    .map(([key]) => key);
}

/**
 * The secret values present in a parsed config, for redaction.
 *
 * @example
 * secretValues(spec, { apiKey: 'k-123', region: 'eu' }); // ['k-123']
 */
export function secretValues(spec: z.ZodType, config: unknown): string[] {
  if (typeof config !== 'object' || config === null) return [];
  const record = config as Record<string, unknown>;
  return secretKeys(spec)
    .map((key) => record[key])
    .filter((value): value is string => typeof value === 'string' && value.length > 0);
}

function isSecret(schema: z.ZodType): boolean {
  let current: z.ZodType | undefined = schema;
  for (let depth = 0; current && depth < 8; depth++) {
    if (secrets.has(current)) return true;
    current = innerOf(current);
  }
  return false;
}

function objectShape(spec: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: z.ZodType | undefined = spec;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof z.ZodObject) return current.shape as Record<string, z.ZodType>;
    current = innerOf(current);
  }
  return undefined;
}

type Wrapper = { _zod: { def: { innerType?: z.ZodType; in?: z.ZodType } } };

/** The schema an optional, nullable, default or pipe wraps. */
function innerOf(schema: z.ZodType): z.ZodType | undefined {
  const def: Wrapper['_zod']['def'] = (schema as unknown as Wrapper)._zod.def;
  return def.innerType ?? def.in;
}
