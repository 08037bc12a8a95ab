/**
 * Connections: each source and destination resolved to its connector (built-in, or exported by an npm plugin), its
 * config validated against the connector's spec (secret fields hidden and remembered), its streams checked, a
 * destination's `identities_from` settled, and its rate budget.
 */
import { dirname } from 'node:path';
import type { z } from 'zod';
import type { ConnectorDefinition, SourceDefinition } from '../plugins/contract/connector.js';
import type { RateBudget } from '../plugins/contract/context.js';
import { SegflowError } from '../plugins/contract/errors.js';
import { secretKeys, secretValues } from '../plugins/contract/spec.js';
import type { Registry } from '../plugins/registry/index.js';
import type { DestinationConnection, SourceConnection } from './config.js';
import { isObject, unknownName, type Issues } from './issues.js';
import { durationMs, type RateLimit } from './schema.js';
import type { Root } from './sections.js';
import { nodeAt, type Path, type YamlFile } from './yaml-file.js';

/** A connection's rate budget: the connector's default with the YAML's `rate_limit` on top. */
export function rateBudget(connector: ConnectorDefinition, limit: RateLimit | undefined): RateBudget {
  const budget: RateBudget = { ...connector.rateBudget };
  if (limit?.requests !== undefined) budget.requests = limit.requests;
  if (limit?.interval !== undefined) budget.intervalMs = durationMs(limit.interval);
  if (limit?.daily !== undefined) budget.daily = limit.daily;
  if (limit?.concurrency !== undefined) budget.concurrency = limit.concurrency;
  return budget;
}

type ConnectionFields = {
  connector?: string | undefined;
  plugin?: string | undefined;
  config: Record<string, unknown>;
};

/**
 * The valid connections, plus the invalid ones whose connector and config are readable, so that a typo elsewhere
 * in a connection does not hide mistakes in its connector config.
 */
function connections<T extends ConnectionFields>(
  valid: Record<string, T>,
  raw: unknown,
  section: string,
): [string, T][] {
  const declared = isObject(raw) && isObject(raw[section]) ? raw[section] : {};
  const out: [string, T][] = [];
  for (const [name, entry] of Object.entries(declared)) {
    const ok = valid[name];
    if (ok) out.push([name, ok]);
    else if (
      isObject(entry) &&
      (typeof entry.connector === 'string' || typeof entry.plugin === 'string') &&
      (entry.config === undefined || isObject(entry.config))
    ) {
      out.push([name, { ...entry, config: entry.config ?? {} } as unknown as T]);
    }
  }
  return out;
}

/** One connection's connector (loading its plugin once) and its config checked against the connector's spec. */
async function resolveConnection(
  kind: 'source' | 'destination',
  name: string,
  connection: { connector?: string | undefined; plugin?: string | undefined; config: Record<string, unknown> },
  file: YamlFile,
  registry: Registry,
  plugins: Map<string, Promise<string[]>>,
  issues: Issues,
  secrets: string[],
): Promise<{ name: string; definition: ConnectorDefinition; config: Record<string, unknown> } | undefined> {
  const section = kind === 'source' ? 'sources' : 'destinations';
  const base: Path = [section, name];
  let connectorName = connection.connector;
  if (connection.plugin !== undefined) {
    const from = dirname(file.path);
    const key = `${from}\0${connection.plugin}`;
    let loading = plugins.get(key);
    if (!loading) {
      loading = registry.loadPlugin(connection.plugin, { from });
      plugins.set(key, loading);
    }
    let exported: string[];
    try {
      exported = await loading;
    } catch (error) {
      const fix = error instanceof SegflowError && error.fix ? ` (${error.fix})` : '';
      issues.add(file, [...base, 'plugin'], `${error instanceof Error ? error.message : String(error)}${fix}`);
      return undefined;
    }
    const ofKind = exported.filter((n) => registry.has(n, kind));
    if (connectorName !== undefined && !ofKind.includes(connectorName)) {
      issues.add(
        file,
        [...base, 'connector'],
        unknownName(`${kind} connector`, connectorName, ofKind, `in plugin ${connection.plugin}`),
      );
      return undefined;
    }
    if (connectorName === undefined) {
      if (ofKind.length !== 1) {
        issues.add(
          file,
          [...base, 'plugin'],
          ofKind.length === 0
            ? `plugin ${connection.plugin} exports no ${kind} connector (it exports: ${exported.join(', ')})`
            : `plugin ${connection.plugin} exports several ${kind} connectors (expected connector: naming one of ${ofKind.join(', ')})`,
        );
        return undefined;
      }
      connectorName = ofKind[0];
    }
  }
  if (connectorName === undefined) return undefined;
  if (!registry.has(connectorName, kind)) {
    const other = kind === 'source' ? 'destination' : 'source';
    const message = registry.has(connectorName, other)
      ? `connector "${connectorName}" is a ${other}, not a ${kind} (expected one of: ${registry.names(kind).join(', ') || 'none registered'})`
      : `${unknownName(`${kind} connector`, connectorName, registry.names(kind)).replace(/\)$/, ', or plugin: naming an npm package)')}`;
    issues.add(file, [...base, 'connector'], message);
    return undefined;
  }
  const definition = kind === 'source' ? registry.source(connectorName) : registry.destination(connectorName);
  const spec = definition.spec;
  for (const key of secretKeys(spec)) {
    const found = nodeAt(file, [...base, 'config', key]);
    if (found.exact && found.node) file.hidden.add(found.node);
    const value = connection.config[key];
    if (typeof value === 'string' && value) secrets.push(value);
  }
  const shape = topShape(spec);
  if (shape && !shape.loose) {
    for (const key of Object.keys(connection.config)) {
      if (!shape.keys.includes(key)) issues.unknownKey(file, [...base, 'config', key], shape.keys);
    }
  }
  const parsed = spec.safeParse(connection.config);
  if (!parsed.success) {
    issues.addZod(
      file,
      [...base, 'config'],
      parsed.error.issues.filter((i) => i.code !== 'unrecognized_keys' || i.path.length > 0),
      connection.config,
      shape?.keys,
    );
    return undefined;
  }
  secrets.push(...secretValues(spec, parsed.data));
  return { name: connectorName, definition, config: parsed.data as Record<string, unknown> };
}

type Internals = {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, unknown>;
      catchall?: { _zod: { def: { type: string } } };
      innerType?: unknown;
      in?: unknown;
    };
  };
};

/** The top-level keys of a connector spec, and whether it lets unknown keys through on purpose. */
function topShape(spec: z.ZodType): { keys: string[]; loose: boolean } | undefined {
  let current = spec as unknown as Internals | undefined;
  for (let depth = 0; current && depth < 8; depth++) {
    const def = current._zod.def;
    if (def.type === 'object' && def.shape) {
      return {
        keys: Object.keys(def.shape),
        loose: def.catchall !== undefined && def.catchall._zod.def.type !== 'never',
      };
    }
    current = (def.innerType ?? def.in) as Internals | undefined;
  }
  return undefined;
}

/** The stream names a source declares for a config; undefined when its `streams` throws on it. */
export function streamNames(definition: SourceDefinition, config: Record<string, unknown>): string[] | undefined {
  try {
    return definition.streams(config).map((s) => s.name);
  } catch {
    return undefined;
  }
}

/** The resolved connections, and the source definitions the job checks need. */
export interface ResolvedConnections {
  sources: Record<string, SourceConnection>;
  destinations: Record<string, DestinationConnection>;
  sourceDefs: Map<string, SourceDefinition>;
}

/**
 * Resolves every source, then every destination (whose `identities_from` defaults to the one source using the same
 * connector), adding issues for what does not resolve and the secrets found to `secrets`.
 */
export async function resolveConnections(
  root: Root,
  raw: Record<string, unknown>,
  declared: (section: string) => string[],
  file: YamlFile,
  registry: Registry,
  issues: Issues,
  secrets: string[],
): Promise<ResolvedConnections> {
  const main = file;
  const sources: Record<string, SourceConnection> = {};
  const destinations: Record<string, DestinationConnection> = {};
  const sourceDefs = new Map<string, SourceDefinition>();
  const plugins = new Map<string, Promise<string[]>>();
  for (const [name, connection] of connections(root.sources, raw, 'sources')) {
    const resolved = await resolveConnection('source', name, connection, main, registry, plugins, issues, secrets);
    if (!resolved) continue;
    sourceDefs.set(name, resolved.definition as SourceDefinition);
    const streams = streamNames(resolved.definition as SourceDefinition, resolved.config);
    connection.streams?.forEach((stream, i) => {
      if (streams && !streams.includes(stream)) {
        issues.add(
          main,
          ['sources', name, 'streams', i],
          unknownName('stream', stream, streams, `of connector ${resolved.name}`),
        );
      }
    });
    sources[name] = {
      name,
      connector: resolved.name,
      config: resolved.config,
      ...(connection.plugin === undefined ? {} : { plugin: connection.plugin }),
      ...(connection.streams === undefined ? {} : { streams: connection.streams }),
      ...(connection.rate_limit === undefined ? {} : { rate_limit: connection.rate_limit }),
    };
  }
  for (const [name, connection] of connections(root.destinations, raw, 'destinations')) {
    const resolved = await resolveConnection('destination', name, connection, main, registry, plugins, issues, secrets);
    if (!resolved) continue;
    let identitiesFrom = connection.identities_from;
    if (identitiesFrom !== undefined && !declared('sources').includes(identitiesFrom)) {
      issues.add(
        main,
        ['destinations', name, 'identities_from'],
        unknownName('source', identitiesFrom, declared('sources')),
      );
    }
    if (identitiesFrom === undefined) {
      const same = Object.keys(sources).filter((s) => sources[s]?.connector === resolved.name);
      if (same.length === 1) identitiesFrom = same[0];
      if (same.length > 1) {
        issues.add(
          main,
          ['destinations', name],
          `several sources use connector ${resolved.name} (${same.join(', ')}): expected identities_from naming the one whose ids this destination writes back to`,
        );
      }
    }
    destinations[name] = {
      name,
      connector: resolved.name,
      config: resolved.config,
      ...(connection.plugin === undefined ? {} : { plugin: connection.plugin }),
      ...(identitiesFrom === undefined ? {} : { identities_from: identitiesFrom }),
      ...(connection.rate_limit === undefined ? {} : { rate_limit: connection.rate_limit }),
    };
  }
  return { sources, destinations, sourceDefs };
}
