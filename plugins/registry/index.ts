/**
 * The registry holds the connectors a process knows: the built-ins `cli/` hands it, and plugins loaded from npm
 * packages named in YAML. `core/` and `sync/` look connectors up here and never import one.
 *
 * @example
 * const registry = createRegistry([fileSource]);
 * await registry.loadPlugin('@acme/segflow-zendesk');
 * registry.source('zendesk');
 */
import {
  CONTRACT_VERSION,
  type ConnectorDefinition,
  type DestinationDefinition,
  type SourceDefinition,
} from '../contract/connector.js';
import { ConfigError, PluginError } from '../contract/errors.js';

/**
 * The connectors a process knows, looked up by name and kind; `loadPlugin` adds those an npm package exports.
 *
 * @example
 * registry.has('hubspot', 'destination'); // true
 * registry.names('source'); // the source connectors' names, sorted
 * registry.source('zendesk'); // throws a ConfigError naming the known ones
 */
export interface Registry {
  add(connector: ConnectorDefinition): void;
  source(name: string): SourceDefinition;
  destination(name: string): DestinationDefinition;
  has(name: string, type?: 'source' | 'destination'): boolean;
  names(type?: 'source' | 'destination'): string[];
  /** Imports an npm package and registers every connector it exports. Returns their names. */
  loadPlugin(packageName: string): Promise<string[]>;
}

/**
 * Creates a registry holding `builtins`; a connector not made by `defineSource` / `defineDestination` is refused.
 *
 * @example
 * const registry = createRegistry([fileSource, hubspotSource, hubspotDestination]);
 * await registry.loadPlugin('@acme/segflow-zendesk');
 */
export function createRegistry(builtins: ConnectorDefinition[] = []): Registry {
  const sources = new Map<string, SourceDefinition>();
  const destinations = new Map<string, DestinationDefinition>();

  const add = (connector: ConnectorDefinition) => {
    assertConnector(connector, connector?.name ?? '(unnamed)');
    if (connector.type === 'source') sources.set(connector.name, connector);
    else destinations.set(connector.name, connector);
  };
  builtins.forEach(add);

  const lookup = <T>(map: Map<string, T>, name: string, type: string): T => {
    const found = map.get(name);
    if (found) return found;
    const known = [...map.keys()].sort().join(', ') || 'none';
    throw new ConfigError(`unknown ${type} connector "${name}"`, {
      fix: `use one of: ${known}, or name an installed plugin package with \`plugin:\``,
    });
  };

  return {
    add,
    source: (name) => lookup(sources, name, 'source'),
    destination: (name) => lookup(destinations, name, 'destination'),
    has: (name, type) =>
      type === 'source'
        ? sources.has(name)
        : type === 'destination'
          ? destinations.has(name)
          : sources.has(name) || destinations.has(name),
    names: (type) =>
      [
        ...new Set([
          ...(type !== 'destination' ? sources.keys() : []),
          ...(type !== 'source' ? destinations.keys() : []),
        ]),
      ].sort(),
    async loadPlugin(packageName) {
      let module: unknown;
      try {
        module = (await import(packageName)) as unknown;
      } catch (error) {
        const missing = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
        throw new PluginError(
          missing
            ? `plugin package "${packageName}" is not installed`
            : `plugin package "${packageName}" failed to load`,
          {
            cause: error,
            fix: missing ? `run \`npm install ${packageName}\`` : 'check the package builds and imports cleanly',
          },
        );
      }
      const connectors = Object.values(module as Record<string, unknown>).filter(
        (value): value is ConnectorDefinition =>
          typeof value === 'object' && value !== null && 'type' in value && 'contractVersion' in value,
      );
      if (connectors.length === 0) {
        throw new PluginError(`plugin package "${packageName}" exports no connector`, {
          fix: 'export the result of defineSource() or defineDestination() from the package entry point',
        });
      }
      for (const connector of connectors) {
        if (connector.contractVersion !== CONTRACT_VERSION) {
          throw new PluginError(
            `plugin "${packageName}" was written for connector contract v${String(connector.contractVersion)}; this segflow speaks v${CONTRACT_VERSION}`,
            { fix: `install a version of ${packageName} built for segflow's contract v${CONTRACT_VERSION}` },
          );
        }
        add(connector);
      }
      return [...new Set(connectors.map((c) => c.name))];
    },
  };
}

function assertConnector(connector: ConnectorDefinition, name: string): void {
  if (!connector || (connector.type !== 'source' && connector.type !== 'destination')) {
    throw new PluginError(`"${name}" is not a connector: build it with defineSource() or defineDestination()`);
  }
}
