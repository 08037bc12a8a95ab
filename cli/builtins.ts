/**
 * The connectors segflow ships with, wired into a registry. `core/` and `sync/` never import a connector: the CLI
 * (and tests) hand the built-ins to the registry here, and `plugin:` packages named in YAML are added at load time.
 *
 * @example
 * const config = await loadConfig('segflow.yaml', { registry: builtinRegistry() });
 */
import * as file from '../connectors/file/index.js';
import * as hubspot from '../connectors/hubspot/index.js';
import * as mailchimp from '../connectors/mailchimp/index.js';
import * as salesforce from '../connectors/salesforce/index.js';
import * as segment from '../connectors/segment/index.js';
import { createRegistry, type ConnectorDefinition, type Registry } from '../plugins/index.js';

/** Every built-in connector. */
export const BUILTIN_CONNECTORS: ConnectorDefinition[] = [
  file.source,
  hubspot.source,
  hubspot.destination,
  salesforce.source,
  salesforce.destination,
  mailchimp.source,
  mailchimp.destination,
  segment.destination,
];

/** A fresh registry holding the built-in connectors (a fresh one each time: plugins loaded into it stay in it). */
export function builtinRegistry(): Registry {
  return createRegistry(BUILTIN_CONNECTORS);
}
