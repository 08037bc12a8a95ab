/**
 * The connectors segflow ships with, wired into a registry. `core/` and `sync/` never import a connector: the CLI
 * (and tests) hand the built-ins to the registry here, and `plugin:` packages named in YAML are added at load time.
 *
 * @example
 * const config = await loadConfig('segflow.yaml', { registry: builtinRegistry() });
 */
import { source as fileSource } from '../connectors/file/index.js';
import { createRegistry, type ConnectorDefinition, type Registry } from '../plugins/index.js';

/** Every built-in connector. The HubSpot, Salesforce, Mailchimp and Segment connectors join this list as they land. */
export const BUILTIN_CONNECTORS: ConnectorDefinition[] = [fileSource];

/** A fresh registry holding the built-in connectors (a fresh one each time: plugins loaded into it stay in it). */
export function builtinRegistry(): Registry {
  return createRegistry(BUILTIN_CONNECTORS);
}
