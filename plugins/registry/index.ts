/**
 * The registry holds the connectors a process knows: the built-ins `cli/` hands it, and plugins loaded from npm
 * packages named in YAML. `core/` and `sync/` look connectors up here and never import one.
 *
 * @example
 * const registry = createRegistry([fileSource]);
 * await registry.loadPlugin('@acme/segflow-zendesk');
 * registry.source('zendesk');
 */
import { existsSync } from 'node:fs';
import {
  CONTRACT_VERSION,
  type ConnectorDefinition,
  type DestinationDefinition,
  type SourceDefinition,
} from '../contract/connector.js';
import { ConfigError, PluginError } from '../contract/errors.js';
import { resolvePlugin } from './resolve.js';

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
  /**
   * Imports a plugin (an npm package name or a path to a module) and registers every connector it exports; a
   * connector named like one already registered (a built-in) is refused. Returns their names.
   */
  loadPlugin(plugin: string, options?: LoadPluginOptions): Promise<string[]>;
}

/**
 * Where {@link Registry.loadPlugin} resolves a plugin from.
 *
 * @example
 * await registry.loadPlugin('./plugins/helpdesk.js', { from: dirname(configPath) });
 */
export interface LoadPluginOptions {
  /** The folder a relative path and a package name resolve from: the config file's folder. The working directory when absent. */
  from?: string;
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
  const builtinNames = new Set(builtins.map((c) => c.name));

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
    async loadPlugin(plugin, options = {}) {
      const module = await importPlugin(plugin, options.from ?? process.cwd());
      const connectors = Object.values(module as Record<string, unknown>).filter(
        (value): value is ConnectorDefinition =>
          typeof value === 'object' && value !== null && 'type' in value && 'contractVersion' in value,
      );
      if (connectors.length === 0) {
        throw new PluginError(`plugin package "${plugin}" exports no connector`, {
          fix: 'export the result of defineSource() or defineDestination() from the package entry point',
        });
      }
      for (const connector of connectors) {
        const taken = (connector.type === 'source' ? sources : destinations).get(connector.name);
        if (taken !== undefined && taken !== connector) {
          throw new PluginError(
            `plugin "${plugin}" exports a ${connector.type} connector named "${connector.name}", a name segflow already has`,
            {
              fix: `give the plugin's connector another name than "${connector.name}" (built-ins: ${[...builtinNames].sort().join(', ') || 'none'})`,
            },
          );
        }
        if (connector.contractVersion !== CONTRACT_VERSION) {
          throw new PluginError(
            `plugin "${plugin}" was written for connector contract v${String(connector.contractVersion)}; this segflow speaks v${CONTRACT_VERSION}`,
            { fix: `install a version of ${plugin} built for segflow's contract v${CONTRACT_VERSION}` },
          );
        }
        add(connector);
      }
      return [...new Set(connectors.map((c) => c.name))];
    },
  };
}

/** Imports a plugin resolved from `from`; a failure names what was tried and keeps Node's own message. */
async function importPlugin(plugin: string, from: string): Promise<unknown> {
  const resolved = resolvePlugin(plugin, from);
  try {
    return (await import(resolved.specifier)) as unknown;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason = error instanceof Error ? error.message : String(error);
    if (resolved.isPath && code === 'ERR_MODULE_NOT_FOUND' && resolved.location && !existsSync(resolved.location)) {
      throw new PluginError(`plugin file "${plugin}" does not exist (looked for ${resolved.location})`, {
        cause: error,
        fix: "a relative plugin: path is resolved from the config file's folder",
      });
    }
    if (resolved.location === undefined && code === 'ERR_MODULE_NOT_FOUND' && reason.includes(`'${plugin}'`)) {
      throw new PluginError(`plugin package "${plugin}" is not installed in ${from} or a folder above it`, {
        cause: error,
        fix: `run \`npm install ${plugin}\``,
      });
    }
    throw new PluginError(`plugin "${plugin}" failed to load: ${reason}`, {
      cause: error,
      fix: 'check the plugin builds and imports cleanly with `node -e "import(\'<its entry>\')"`',
    });
  }
}

function assertConnector(connector: ConnectorDefinition, name: string): void {
  if (!connector || (connector.type !== 'source' && connector.type !== 'destination')) {
    throw new PluginError(`"${name}" is not a connector: build it with defineSource() or defineDestination()`);
  }
}
