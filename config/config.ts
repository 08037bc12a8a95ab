/**
 * The loaded config, as the rest of segflow reads it: connections with their connector configs validated, segments
 * with where each was written, and every section with its defaults applied.
 *
 * @example
 * const config: Config = await loadConfig('segflow.yaml', { registry });
 * config.sources.crm?.connector; // 'hubspot'
 */
import type { AccountCondition, HoldoutOutcomeName } from '../core/segments/grammar.js';
import type { Registry } from '../plugins/registry/index.js';
import type {
  AuditSettings,
  TextSettings,
  Condition,
  Currency,
  Feature,
  Identity,
  Job,
  RateLimit,
  ServerSettings,
} from './schema.js';

/** What `loadConfig` needs besides the file. */
export interface LoadOptions {
  /** Where connectors are looked up; `plugin:` packages are loaded into it. */
  registry: Registry;
  /** Variables for `${VAR}`; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** A store to use instead of the file's `store:` section: a SQLite path or a postgres:// URL (`segflow demo --store`). */
  store?: string;
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

/** An account segment (`account_segments:`), with where it and each node of its rule were written. */
export interface AccountSegment {
  key: string;
  name: string;
  description?: string;
  rule: AccountCondition;
  origin: Location;
  locations: Record<string, Location>;
}

/**
 * Where the store is. `path` is what `openStore` opens: the SQLite file (absolute, resolved from the working
 * directory as the connectors' file paths are) or the PostgreSQL URL, password included; `shown` is what messages
 * may show (a URL's password as `***`).
 */
export interface StoreLocation {
  engine: 'sqlite' | 'postgres';
  path: string;
  shown: string;
  /** PostgreSQL: the connections a whole-base feature computation may use (`store.compute_connections`). */
  computeConnections?: number;
}

export interface Config {
  /** Absolute path of the file loaded. */
  file: string;
  store: StoreLocation;
  sources: Record<string, SourceConnection>;
  destinations: Record<string, DestinationConnection>;
  segments: Segment[];
  /** Rules over accounts, evaluated by compute steps and pushed by `push: { account_segments: [...] }`. */
  account_segments?: AccountSegment[];
  features: Record<string, Feature>;
  models: Record<string, Record<string, unknown>>;
  currency: Currency;
  identity: Identity;
  protected_attributes: string[];
  jobs: Record<string, Job>;
  audit: AuditSettings;
  /** Voice of the customer: whether message text is kept, and the topics of tickets. */
  text?: TextSettings;
  server: ServerSettings;
}
