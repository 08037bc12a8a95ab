/**
 * Loads a segflow YAML file: reads it and its segment includes, interpolates the environment, validates the shape,
 * each connection's config against its connector's spec, and every cross-reference; collects every mistake with
 * its file, line and column before failing once. Each concern has its own module: env.ts (interpolation),
 * issues.ts (located issues), sections.ts (the schema, section by section), segment-files.ts (segments and their
 * includes), connections.ts (connectors and their configs), references.ts (cross-references), secrets.ts.
 *
 * @example
 * const config = await loadConfig('segflow.yaml', { registry: builtinRegistry() });
 * config.jobs.nightly?.steps;
 */
import { resolve } from 'node:path';
import type { Config, LoadOptions, StoreLocation } from './config.js';
import { resolveConnections } from './connections.js';
import { ConfigFileError } from './errors.js';
import { isObject, Issues, kindOf } from './issues.js';
import { checkAccountSegmentPushes, checkJobs, checkSegmentReferences, checkTraitPriority } from './references.js';
import { rememberSecrets, scrubber } from './secrets.js';
import { DEFAULT_STORE_PATH, storeSectionOf } from './schema.js';
import { checkWriteKeys } from './tokens.js';
import { parseRoot } from './sections.js';
import {
  collectSegments,
  openFile,
  validateAccountSegments,
  validateSegments,
  type SegmentEntry,
} from './segment-files.js';
import type { YamlFile } from './yaml-file.js';

/**
 * Loads and validates a config file. Throws `ConfigFileError` carrying every located issue.
 *
 * @example
 * const config = await loadConfig('segflow.yaml', { registry, env: { HUBSPOT_TOKEN: 'pat-…' } });
 */
export async function loadConfig(path: string, options: LoadOptions): Promise<Config> {
  const env = options.env ?? process.env;
  const absolute = resolve(path);
  const issues = new Issues();
  const files: YamlFile[] = [];

  const main = await openFile(absolute, env, issues, files);
  if (!main) throw new ConfigFileError(issues.list);
  const raw: unknown = main.doc.toJS({ maxAliasCount: 1000 }) ?? {};
  if (!isObject(raw)) {
    issues.add(
      main,
      [],
      `expected a mapping of sections (store, sources, destinations, segments, jobs, …), got ${kindOf(raw)}`,
    );
    throw new ConfigFileError(issues.list);
  }

  const root = parseRoot(raw, main, issues);
  const declared = (section: string): string[] => {
    const value = raw[section];
    return isObject(value) ? Object.keys(value) : [];
  };

  const entries: SegmentEntry[] = [];
  const accountEntries: SegmentEntry[] = [];
  const outputs = { segments: entries, account_segments: accountEntries };
  await collectSegments(main, ['segments'], raw.segments, [absolute], entries, issues, env, files, outputs);
  await collectSegments(
    main,
    ['account_segments'],
    raw.account_segments,
    [absolute],
    accountEntries,
    issues,
    env,
    files,
    outputs,
  );
  const segments = validateSegments(entries, issues);
  const accountSegments = validateAccountSegments(accountEntries, segments, issues);

  const secrets: string[] = [];
  const { sources, destinations, sourceDefs } = await resolveConnections(
    root,
    raw,
    declared,
    main,
    options.registry,
    issues,
    secrets,
  );
  checkJobs(
    raw,
    declared,
    main,
    segments,
    entries.map((e) => (isObject(e.value) ? String(e.value.key) : '')),
    sourceDefs,
    sources,
    issues,
  );
  checkSegmentReferences(segments, declared('models'), issues);
  checkAccountSegmentPushes(
    raw,
    main,
    accountEntries.map((e) => (isObject(e.value) ? String(e.value.key) : '')),
    issues,
  );
  checkTraitPriority(raw, declared('sources'), Object.keys(root.server.write_keys), main, issues);
  checkWriteKeys(root.server, env, main, issues);

  if (issues.list.length > 0) {
    const scrub = scrubber([...secrets, ...files.flatMap((f) => f.envValues)]);
    throw new ConfigFileError(issues.list.map((issue) => ({ ...issue, message: scrub(issue.message) })));
  }
  const config: Config = {
    file: absolute,
    store: storeLocation(
      options.store === undefined
        ? root.store
        : { ...storeSectionOf(options.store), compute_connections: root.store.compute_connections },
      secrets,
    ),
    sources,
    destinations,
    segments: segments.map((s) => s.segment),
    account_segments: accountSegments,
    features: root.features,
    models: root.models,
    currency: root.currency,
    identity: root.identity,
    protected_attributes: root.protected_attributes,
    jobs: root.jobs,
    audit: root.audit,
    text: root.text,
    server: root.server,
  };
  rememberSecrets(config, secrets, files);
  return config;
}

/** The store section as openStore takes it; a URL's password joins the secrets scrubbed from run-time messages. */
function storeLocation(
  store: { path?: string | undefined; url?: string | undefined; compute_connections?: number | undefined },
  secrets: string[],
): StoreLocation {
  if (store.url === undefined) {
    const path = resolve(store.path ?? DEFAULT_STORE_PATH);
    return { engine: 'sqlite', path, shown: path };
  }
  const url = new URL(store.url);
  const password = decodeURIComponent(url.password);
  if (password) {
    secrets.push(password);
    url.password = '***';
  }
  return {
    engine: 'postgres',
    path: store.url,
    shown: url.toString(),
    ...(store.compute_connections === undefined ? {} : { computeConnections: store.compute_connections }),
  };
}
