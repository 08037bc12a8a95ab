/**
 * Loads a segflow YAML file: reads it and its segment includes, interpolates the environment, validates the shape,
 * each connection's config against its connector's spec, and every cross-reference; collects every mistake with
 * its file, line and column before failing once.
 *
 * @example
 * const config = await loadConfig('segflow.yaml', { registry: builtinRegistry() });
 * config.jobs.nightly?.steps;
 */
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import type { ConnectorDefinition, SourceDefinition } from '../plugins/contract/connector.js';
import type { RateBudget } from '../plugins/contract/context.js';
import { SegflowError } from '../plugins/contract/errors.js';
import { secretKeys, secretValues } from '../plugins/contract/spec.js';
import type { HoldoutOutcomeName } from '../core/segments/grammar.js';
import type { Registry } from '../plugins/registry/index.js';
import { closest, ConfigFileError, formatPath, type ConfigIssue } from './errors.js';
import {
  destinationSchema,
  durationMs,
  featureSchema,
  jobSchema,
  modelSchema,
  name as nameSchema,
  rootSchema,
  sourceSchema,
  segmentSchema,
  UNKNOWN_KEYS_MARK,
  type Condition,
  type Currency,
  type Feature,
  type Identity,
  type Job,
  type RateLimit,
  type AuditSettings,
  type ServerSettings,
} from './schema.js';
import {
  nodeAt,
  positionOf,
  positionsUnder,
  readYamlFile,
  shownValue,
  displayName,
  type Path,
  type YamlFile,
} from './yaml-file.js';

export interface LoadOptions {
  /** Where connectors are looked up; `plugin:` packages are loaded into it. */
  registry: Registry;
  /** Variables for `${VAR}`; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Where something was written. */
export interface Location {
  file: string;
  line: number;
  column: number;
}

export interface SourceConnection {
  name: string;
  /** The registered connector's name (for a plugin, the one it exports). */
  connector: string;
  plugin?: string;
  /** Validated against the connector's spec (its defaults applied). */
  config: Record<string, unknown>;
  streams?: string[];
  rate_limit?: RateLimit;
}

export interface DestinationConnection {
  name: string;
  connector: string;
  plugin?: string;
  config: Record<string, unknown>;
  /** The source whose tool ids this destination writes back to; when left out, the one source using the same connector. */
  identities_from?: string;
  rate_limit?: RateLimit;
}

/** A rule segment, with where it and each node of its rule were written (keys like `rule.all[0].feature`). */
export interface Segment {
  key: string;
  name: string;
  description?: string;
  rule: Condition;
  /** Share of members kept as a never-pushed control group, 0 when none. */
  holdout: number;
  /** What the segment report compares between treated and control members, over the days after they entered. */
  holdout_outcome: { outcome: HoldoutOutcomeName; days: number };
  allow_protected_attributes: Record<string, string>;
  origin: Location;
  locations: Record<string, Location>;
}

export interface Config {
  /** Absolute path of the file loaded. */
  file: string;
  /** `path` is absolute, resolved from the working directory as the connectors' file paths are. */
  store: { path: string };
  sources: Record<string, SourceConnection>;
  destinations: Record<string, DestinationConnection>;
  segments: Segment[];
  features: Record<string, Feature>;
  models: Record<string, Record<string, unknown>>;
  currency: Currency;
  identity: Identity;
  protected_attributes: string[];
  jobs: Record<string, Job>;
  audit: AuditSettings;
  server: ServerSettings;
}

const secretsByConfig = new WeakMap<Config, string[]>();
const SECRET_NAME = /(token|secret|password|passwd|api[_-]?key|authorization|assertion|private[_-]?key|credential)/i;

/**
 * The values a loaded config holds that must never be shown at run time: every field a connector spec marks secret,
 * and every value from the environment under a secret-sounding key (token, password, api key, …).
 */
export function configSecrets(config: Config): string[] {
  return secretsByConfig.get(config) ?? [];
}

/** A connection's rate budget: the connector's default with the YAML's `rate_limit` on top. */
export function rateBudget(connector: ConnectorDefinition, limit: RateLimit | undefined): RateBudget {
  const budget: RateBudget = { ...connector.rateBudget };
  if (limit?.requests !== undefined) budget.requests = limit.requests;
  if (limit?.interval !== undefined) budget.intervalMs = durationMs(limit.interval);
  if (limit?.daily !== undefined) budget.daily = limit.daily;
  if (limit?.concurrency !== undefined) budget.concurrency = limit.concurrency;
  return budget;
}

/** Collects located issues. `{value}` in a message is replaced by the quoted value there, or `[redacted]`. */
class Issues {
  readonly list: ConfigIssue[] = [];

  add(file: YamlFile, path: Path, message: string, options: { key?: boolean; offset?: number } = {}): void {
    const found = nodeAt(file, path, options);
    const { line, column } = positionOf(file, options.offset ?? found.offset);
    let text = message;
    if (text.includes('{suggest-zone}')) text = text.replace('{suggest-zone}', zoneSuggestion(file, found.node));
    if (text.includes('{value}')) text = text.replaceAll('{value}', shownValue(file, found.node));
    this.list.push({ file: file.display, line, column, path: formatPath(path), message: text });
  }

  /** One issue per zod issue; unknown keys become one issue per key, at the key, with a suggestion. */
  addZod(
    file: YamlFile,
    base: Path,
    issues: readonly z.core.$ZodIssue[],
    value: unknown,
    allowedKeys?: string[],
  ): void {
    for (const issue of issues) {
      const path = [...base, ...(issue.path as (string | number)[])];
      const marked = issue.message.startsWith(UNKNOWN_KEYS_MARK);
      if (issue.code === 'unrecognized_keys' || marked) {
        const allowed = marked ? issue.message.slice(UNKNOWN_KEYS_MARK.length).split(',') : (allowedKeys ?? []);
        const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...path, k]) : [path];
        for (const keyPath of keys) this.unknownKey(file, keyPath, allowed);
        continue;
      }
      this.add(file, path, describeIssue(issue, valueAt(value, issue.path as Path)));
    }
  }

  unknownKey(file: YamlFile, path: Path, allowed: string[]): void {
    const key = String(path[path.length - 1]);
    const suggestion = closest(key, allowed);
    const hint = /^(admin|read)_token$|^token$|^write_key/.test(key)
      ? `; tokens are never written in the file: name the environment variable holding it, e.g. ${key.replace(/s$/, '')}_env`
      : '';
    const expected = allowed.length ? `expected one of: ${allowed.join(', ')}` : 'no keys are allowed here';
    this.add(
      file,
      path,
      `unknown key "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (${expected}${hint})`,
      { key: true },
    );
  }
}

function zoneSuggestion(file: YamlFile, node: Parameters<typeof shownValue>[1]): string {
  const shown = shownValue(file, node);
  if (shown === '[redacted]') return '';
  const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  const suggestion = closest(String(JSON.parse(shown)), zones);
  return suggestion ? ` (did you mean "${suggestion}"?)` : '';
}

function valueAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    value,
  );
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function describeIssue(issue: z.core.$ZodIssue, actual: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (actual === undefined) return `missing (expected ${expected})`;
      if (issue.expected === 'int' && typeof actual === 'number')
        return `{value} is not a whole number (expected ${expected})`;
      return `expected ${expected}, got ${kindOf(actual)}`;
    }
    case 'invalid_value':
      return `{value} is not allowed (expected one of: ${issue.values.map(String).join(', ')})`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const cmp =
        issue.code === 'too_small'
          ? issue.inclusive
            ? 'at least'
            : 'more than'
          : issue.inclusive
            ? 'at most'
            : 'less than';
      if (issue.origin === 'array') return `expected ${cmp} ${String(bound)} item${Number(bound) === 1 ? '' : 's'}`;
      if (issue.origin === 'string')
        return Number(bound) === 1 && issue.code === 'too_small'
          ? 'expected non-empty text'
          : `expected text of ${cmp} ${String(bound)} characters`;
      return `{value} is out of range (expected a number ${cmp} ${String(bound)})`;
    }
    case 'invalid_union':
      return `expected ${
        issue.errors
          .map((branch) => EXPECTED[(branch[0] as { expected?: string } | undefined)?.expected ?? ''] ?? '')
          .filter(Boolean)
          .join(' or ') || 'another kind of value'
      }, got ${kindOf(actual)}`;
    case 'invalid_format':
      if (issue.format === 'url') return '{value} is not a URL (expected one like https://api.example.com)';
      if (issue.format === 'email') return '{value} is not an email address (expected one like ops@example.com)';
      return issue.message;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => describeIssue(i, undefined)).join('; ')}`;
    default:
      return issue.message;
  }
}

interface SegmentEntry {
  file: YamlFile;
  path: Path;
  value: unknown;
}

type Env = Record<string, string | undefined>;

/**
 * Loads and validates a config file. Throws `ConfigFileError` carrying every located issue.
 *
 * @example
 * const config = await loadConfig('segflow.yaml', { registry, env: { HUBSPOT_TOKEN: 'pat-…' } });
 */
export async function loadConfig(path: string, options: LoadOptions): Promise<Config> {
  const env = options.env ?? process.env;
  const registry = options.registry;
  const absolute = resolve(path);
  const issues = new Issues();
  const files: YamlFile[] = [];

  const main = await openFile(absolute, env, issues, files);
  if (!main) throw new ConfigFileError(issues.list);
  const raw: unknown = main.doc.toJS({ maxAliasCount: 1000 }) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw) || raw === null) {
    issues.add(
      main,
      [],
      `expected a mapping of sections (store, sources, destinations, segments, jobs, …), got ${kindOf(raw)}`,
    );
    throw new ConfigFileError(issues.list);
  }

  const root = parseRoot(raw as Record<string, unknown>, main, issues);
  const declared = (section: string): string[] => {
    const value = (raw as Record<string, unknown>)[section];
    return isObject(value) ? Object.keys(value) : [];
  };

  const entries: SegmentEntry[] = [];
  await collectSegments(
    main,
    ['segments'],
    (raw as { segments?: unknown }).segments,
    [absolute],
    entries,
    issues,
    env,
    files,
  );
  const segments = validateSegments(entries, issues);

  const secrets: string[] = [];
  const sources: Record<string, SourceConnection> = {};
  const destinations: Record<string, DestinationConnection> = {};
  const sourceDefs = new Map<string, SourceDefinition>();
  const plugins = new Map<string, Promise<string[]>>();
  {
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
      const resolved = await resolveConnection(
        'destination',
        name,
        connection,
        main,
        registry,
        plugins,
        issues,
        secrets,
      );
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
    checkJobs(
      raw as Record<string, unknown>,
      declared,
      main,
      segments,
      entries.map((e) => (isObject(e.value) ? String(e.value.key) : '')),
      sourceDefs,
      sources,
      issues,
    );
  }
  checkSegmentReferences(segments, declared('models'), issues);

  if (issues.list.length > 0) {
    const scrub = scrubber([...secrets, ...files.flatMap((f) => f.envValues)]);
    throw new ConfigFileError(issues.list.map((issue) => ({ ...issue, message: scrub(issue.message) })));
  }
  const config: Config = {
    file: absolute,
    store: { path: resolve(root.store.path) },
    sources,
    destinations,
    segments: segments.map((s) => s.segment),
    features: root.features,
    models: root.models,
    currency: root.currency,
    identity: root.identity,
    protected_attributes: root.protected_attributes,
    jobs: root.jobs,
    audit: root.audit,
    server: root.server,
  };
  const envSecrets = files
    .flatMap((f) => f.fromEnv)
    .filter((e) => typeof e.value === 'string' && SECRET_NAME.test(String(e.path[e.path.length - 1])))
    .map((e) => e.value as string);
  secretsByConfig.set(
    config,
    [...new Set([...secrets, ...envSecrets])].filter((s) => s.length > 0),
  );
  return config;
}

type Root = z.output<typeof rootSchema>;
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

const ENTRY_SCHEMAS: Record<string, z.ZodType> = {
  sources: sourceSchema,
  destinations: destinationSchema,
  features: featureSchema,
  models: modelSchema,
  jobs: jobSchema,
};

/**
 * Validates section by section and entry by entry, so that one bad job does not hide a bad source: every valid
 * entry is kept for the cross-reference checks.
 */
function parseRoot(raw: Record<string, unknown>, file: YamlFile, issues: Issues): Root {
  const shape = rootSchema.shape as Record<string, z.ZodType>;
  for (const key of Object.keys(raw)) if (!(key in shape)) issues.unknownKey(file, [key], Object.keys(shape));
  const out: Record<string, unknown> = {};
  for (const [section, schema] of Object.entries(shape)) {
    const value = raw[section];
    const entrySchema = ENTRY_SCHEMAS[section];
    if (!entrySchema || value === undefined || value === null) {
      const parsed = schema.safeParse(value ?? undefined);
      if (parsed.success) out[section] = parsed.data;
      else {
        issues.addZod(file, [section], parsed.error.issues, value);
        out[section] = schema.safeParse(undefined).data;
      }
      continue;
    }
    const entries: Record<string, unknown> = {};
    out[section] = entries;
    if (!isObject(value)) {
      issues.add(file, [section], `expected a mapping of ${section} by name, got ${kindOf(value)}`);
      continue;
    }
    for (const [entryName, entry] of Object.entries(value)) {
      const named = nameSchema.safeParse(entryName);
      if (!named.success)
        issues.add(
          file,
          [section, entryName],
          `${JSON.stringify(entryName)}: ${named.error.issues[0]?.message ?? 'bad name'}`,
          { key: true },
        );
      const parsed = entrySchema.safeParse(entry);
      if (parsed.success) entries[entryName] = parsed.data;
      else issues.addZod(file, [section, entryName], parsed.error.issues, entry);
    }
  }
  return out as Root;
}

/** Values long enough to recognise are cut out of any message, wherever they ended up. */
function scrubber(values: string[]): (text: string) => string {
  const long = [...new Set(values)].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => long.reduce((out, value) => out.split(value).join('[redacted]'), text);
}

async function openFile(
  path: string,
  env: Env,
  issues: Issues,
  files: YamlFile[],
  from?: { file: YamlFile; path: Path },
): Promise<YamlFile | undefined> {
  let read: Awaited<ReturnType<typeof readYamlFile>>;
  try {
    read = await readYamlFile(path, env);
  } catch (error) {
    const reason = (error as { code?: string }).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    if (from)
      issues.add(
        from.file,
        from.path,
        `cannot read ${JSON.stringify(displayName(path))}: ${reason} (expected a YAML file with a segments: section)`,
      );
    else
      issues.list.push({
        file: displayName(path),
        line: 1,
        column: 1,
        path: '',
        message: `cannot read the config file: ${reason}`,
      });
    return undefined;
  }
  files.push(read.file);
  for (const problem of read.problems)
    issues.add(read.file, problem.path ?? [], problem.message, { offset: problem.offset });
  return read.usable ? read.file : undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

async function collectSegments(
  file: YamlFile,
  section: Path,
  value: unknown,
  chain: string[],
  out: SegmentEntry[],
  issues: Issues,
  env: Env,
  files: YamlFile[],
): Promise<void> {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      if (!(isObject(item) && 'include' in item)) {
        out.push({ file, path: [...section, i], value: item });
        continue;
      }
      for (const key of Object.keys(item))
        if (key !== 'include') issues.unknownKey(file, [...section, i, key], ['include']);
      if (typeof item.include !== 'string' || item.include === '') {
        issues.add(
          file,
          [...section, i, 'include'],
          `expected the path of a YAML file of segments, got ${kindOf(item.include)}`,
        );
        continue;
      }
      const target = resolve(dirname(file.path), item.include);
      if (chain.includes(target)) {
        issues.add(
          file,
          [...section, i, 'include'],
          `includes itself through ${[...chain, target].map(displayName).join(' -> ')} (expected files that do not include each other in a cycle)`,
        );
        continue;
      }
      const included = await openFile(target, env, issues, files, { file, path: [...section, i, 'include'] });
      if (!included) continue;
      const content: unknown = included.doc.toJS({ maxAliasCount: 1000 });
      if (!isObject(content)) {
        issues.add(included, [], `expected a mapping with a segments: section, got ${kindOf(content)}`);
        continue;
      }
      for (const key of Object.keys(content)) if (key !== 'segments') issues.unknownKey(included, [key], ['segments']);
      await collectSegments(included, ['segments'], content.segments, [...chain, target], out, issues, env, files);
    }
    return;
  }
  if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (!isObject(item)) {
        issues.add(
          file,
          [...section, key],
          `expected a segment (a mapping with rule:, and optionally name:, description:, holdout:), got ${kindOf(item)}`,
        );
        continue;
      }
      if (item.key !== undefined && item.key !== key) {
        issues.add(
          file,
          [...section, key, 'key'],
          `{value} differs from its map key "${key}" (expected the same key, or no key: line)`,
        );
        continue;
      }
      out.push({ file, path: [...section, key], value: { key, ...item } });
    }
    return;
  }
  issues.add(file, section, `expected a list of segments or a map keyed by segment key, got ${kindOf(value)}`);
}

interface LoadedSegment {
  segment: Segment;
  entry: SegmentEntry;
}

function validateSegments(entries: SegmentEntry[], issues: Issues): LoadedSegment[] {
  const loaded: LoadedSegment[] = [];
  const seen = new Map<string, LoadedSegment>();
  for (const entry of entries) {
    const parsed = segmentSchema.safeParse(entry.value);
    if (!parsed.success) {
      issues.addZod(entry.file, entry.path, parsed.error.issues, entry.value);
      continue;
    }
    const { file, path } = entry;
    const at = (p: Path): Location => {
      const found = nodeAt(file, p);
      return { file: file.display, ...positionOf(file, found.offset) };
    };
    const locations: Record<string, Location> = {};
    for (const [rel, position] of positionsUnder(file, [...path, 'rule']))
      locations[formatPath(rel)] = { file: file.display, ...position };
    const data = parsed.data;
    const segment: Segment = {
      key: data.key,
      name: data.name ?? data.key,
      ...(data.description === undefined ? {} : { description: data.description }),
      rule: data.rule,
      holdout: data.holdout?.share ?? 0,
      holdout_outcome: { outcome: data.holdout?.outcome ?? 'revenue', days: data.holdout?.days ?? 30 },
      allow_protected_attributes: data.allow_protected_attributes ?? {},
      origin: at(path),
      locations,
    };
    const first = seen.get(segment.key);
    if (first) {
      const o = first.segment.origin;
      issues.add(
        file,
        typeof path[path.length - 1] === 'number' ? [...path, 'key'] : path,
        `duplicate segment key "${segment.key}" (first defined at ${o.file}:${o.line}:${o.column}; expected each key once)`,
      );
      continue;
    }
    seen.set(segment.key, { segment, entry });
    loaded.push({ segment, entry });
  }
  return loaded;
}

function unknownName(kind: string, name: string, known: string[], where = ''): string {
  const suggestion = closest(name, known);
  const list = known.length ? `expected one of: ${known.join(', ')}` : `no ${kind}s are defined`;
  return `unknown ${kind} "${name}"${where ? ` ${where}` : ''}${suggestion ? `; did you mean "${suggestion}"?` : ''} (${list})`;
}

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
    let loading = plugins.get(connection.plugin);
    if (!loading) {
      loading = registry.loadPlugin(connection.plugin);
      plugins.set(connection.plugin, loading);
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

function streamNames(definition: SourceDefinition, config: Record<string, unknown>): string[] | undefined {
  try {
    return definition.streams(config).map((s) => s.name);
  } catch {
    return undefined;
  }
}

function checkJobs(
  rawRoot: Record<string, unknown>,
  declared: (section: string) => string[],
  file: YamlFile,
  segments: LoadedSegment[],
  declaredSegmentKeys: string[],
  sourceDefs: Map<string, SourceDefinition>,
  sources: Record<string, SourceConnection>,
  issues: Issues,
): void {
  const segmentKeys = [...new Set([...segments.map((s) => s.segment.key), ...declaredSegmentKeys])];
  const models = declared('models');
  const sourceNames = declared('sources');
  const destinationNames = declared('destinations');
  const rawJobs = (isObject(rawRoot.jobs) ? rawRoot.jobs : {}) as Record<string, unknown>;
  const strings = (value: unknown): [string, number][] =>
    Array.isArray(value) ? value.flatMap((v, j): [string, number][] => (typeof v === 'string' ? [[v, j]] : [])) : [];
  // checked on the raw steps, so a mistake elsewhere in a step does not hide an unknown name
  for (const [jobName, job] of Object.entries(rawJobs)) {
    const steps = isObject(job) && Array.isArray(job.steps) ? (job.steps as unknown[]) : [];
    steps.forEach((step, i) => {
      if (!isObject(step)) return;
      const at: Path = ['jobs', jobName, 'steps', i];
      if (isObject(step.read)) {
        const read = step.read;
        const known = new Set<string>();
        let allKnown = true;
        for (const [source, j] of strings(read.sources)) {
          if (!sourceNames.includes(source))
            issues.add(file, [...at, 'read', 'sources', j], unknownName('source', source, sourceNames));
          const definition = sourceDefs.get(source);
          const connection = sources[source];
          const streams = definition && connection ? streamNames(definition, connection.config) : undefined;
          if (streams) streams.forEach((s) => known.add(s));
          else allKnown = false;
        }
        if (allKnown) {
          for (const [stream, j] of strings(read.streams)) {
            if (!known.has(stream))
              issues.add(file, [...at, 'read', 'streams', j], unknownName('stream', stream, [...known]));
          }
        }
      }
      if (isObject(step.compute)) {
        for (const [key, j] of strings(step.compute.segments)) {
          if (!segmentKeys.includes(key))
            issues.add(file, [...at, 'compute', 'segments', j], unknownName('segment', key, segmentKeys));
        }
        for (const [model, j] of strings(step.compute.models)) {
          if (!models.includes(model))
            issues.add(file, [...at, 'compute', 'models', j], unknownName('model', model, models));
        }
      }
      if (isObject(step.push)) {
        const push = step.push;
        if (typeof push.destination === 'string' && !destinationNames.includes(push.destination)) {
          issues.add(
            file,
            [...at, 'push', 'destination'],
            unknownName('destination', push.destination, destinationNames),
          );
        }
        for (const [key, j] of strings(push.segments)) {
          if (!segmentKeys.includes(key) && !models.includes(key)) {
            issues.add(
              file,
              [...at, 'push', 'segments', j],
              unknownName('segment', key, [...segmentKeys, ...models]).replace(
                '(expected one of',
                '(expected a segment key or a model name, one of',
              ),
            );
          }
        }
      }
    });
  }
}

function checkSegmentReferences(segments: LoadedSegment[], models: string[], issues: Issues): void {
  const keys = segments.map((s) => s.segment.key);
  for (const { segment, entry } of segments) {
    const walk = (condition: unknown, path: Path) => {
      if (!isObject(condition)) return;
      if (
        typeof condition.in_segment === 'string' &&
        !keys.includes(condition.in_segment) &&
        !models.includes(condition.in_segment)
      ) {
        issues.add(entry.file, [...path, 'in_segment'], unknownName('segment', condition.in_segment, keys));
      }
      for (const group of ['all', 'any'] as const) {
        const items = condition[group];
        if (Array.isArray(items)) items.forEach((item, i) => walk(item, [...path, group, i]));
      }
      if ('not' in condition) walk(condition.not, [...path, 'not']);
    };
    walk(segment.rule, [...entry.path, 'rule']);
  }
}
