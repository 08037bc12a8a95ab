/**
 * The JSON Schema of a segflow config file, generated from the zod schema the loader validates with (so the two never
 * disagree), for editors: `segflow schema > segflow.schema.json`, then `# yaml-language-server: $schema=…` on a
 * config's first line gives completion and inline errors. Each known connector's `config:` block is checked against
 * that connector's own spec. Rules are free-form here (the loader checks their grammar), and every scalar may also be
 * a `${VAR}` reference, which the loader fills in from the environment before it validates.
 */
import { z } from 'zod';
import type { ConnectorDefinition } from '../plugins/index.js';
import { accountSegmentSchema, name, rootSchema, segmentSchema } from './schema.js';

type JsonSchema = Record<string, unknown>;

const include = z.strictObject({ include: z.string().min(1).describe('a YAML file with a segments: section') });

const segments = z
  .union([
    z.array(z.union([segmentSchema, include])),
    z.record(name, segmentSchema.partial({ key: true })).describe('segments keyed by segment key'),
  ])
  .optional()
  .describe('segment definitions: a list (entries may `include:` a file of segments) or a map by key');

const accountSegments = z
  .union([
    z.array(z.union([accountSegmentSchema, include])),
    z.record(name, accountSegmentSchema.partial({ key: true })).describe('account segments keyed by key'),
  ])
  .optional()
  .describe(
    'account segment definitions (rules over accounts): a list (entries may `include:` a file) or a map by key',
  );

function toJson(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as JsonSchema;
}

/** A value taken from the environment: `${NAME}` or `${NAME:-default}`, alone or inside a string. */
const ENV_REFERENCE: JsonSchema = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}' };
const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean']);
const NESTED = ['items', 'additionalProperties', 'then', 'not'] as const;
const NESTED_LISTS = ['anyOf', 'oneOf', 'allOf'] as const;

/** `schema` with every constrained scalar (a format, pattern, range or enum) also accepting an {@link ENV_REFERENCE}. */
function allowEnvReferences(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, JsonSchema>).map(([k, v]) => [k, allowEnvReferences(v)]),
    );
  }
  for (const key of NESTED) {
    if (typeof out[key] === 'object' && out[key] !== null) out[key] = allowEnvReferences(out[key] as JsonSchema);
  }
  for (const key of NESTED_LISTS) {
    if (Array.isArray(out[key])) out[key] = (out[key] as JsonSchema[]).map(allowEnvReferences);
  }
  const scalar = (typeof out.type === 'string' && SCALAR_TYPES.has(out.type)) || 'enum' in out || 'const' in out;
  const plainString = out.type === 'string' && Object.keys(out).every((k) => k === 'type' || k === 'default');
  if (!scalar || plainString) return out;
  const { default: fallback, description, ...value } = out;
  return {
    ...(description === undefined ? {} : { description }),
    ...(fallback === undefined ? {} : { default: fallback }),
    anyOf: [value, ENV_REFERENCE],
  };
}

/** `config:` checked against the spec of the connector the entry names. */
function connectorConfigs(connectors: readonly ConnectorDefinition[], type: 'source' | 'destination'): JsonSchema[] {
  return connectors
    .filter((c) => c.type === type)
    .map((c) => {
      const { $schema: _ignored, ...spec } = allowEnvReferences(toJson(c.spec as z.ZodType));
      return {
        if: { properties: { connector: { const: c.name } }, required: ['connector'] },
        then: { properties: { config: spec } },
      };
    });
}

/**
 * The config file's JSON Schema (draft-07, which editors' YAML servers support best), with the `config:` of each of `connectors` checked against its spec.
 *
 * @example
 * process.stdout.write(JSON.stringify(configJsonSchema(BUILTIN_CONNECTORS), null, 2));
 */
export function configJsonSchema(connectors: readonly ConnectorDefinition[] = []): JsonSchema {
  const schema = allowEnvReferences(toJson(rootSchema.extend({ segments, account_segments: accountSegments })));
  const properties = schema.properties as Record<string, JsonSchema>;
  for (const [section, type] of [
    ['sources', 'source'],
    ['destinations', 'destination'],
  ] as const) {
    const entry = properties[section]!.additionalProperties as JsonSchema;
    const checks = connectorConfigs(connectors, type);
    if (checks.length > 0) entry.allOf = checks;
  }
  return {
    $schema: schema.$schema,
    title: 'segflow config',
    description: 'A segflow config file: sources, destinations, segments, features, models and jobs.',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}
