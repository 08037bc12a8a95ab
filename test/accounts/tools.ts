/**
 * What the accounts tests share: sandboxes of one world for HubSpot and Salesforce, and a read of their contact and
 * account streams into a store through the engine.
 */
import { expect } from 'vitest';
import {
  classifyHubSpotError,
  hubspotSpec,
  source as hubspot,
  startSandbox as startHubSpot,
  sandboxConfig as hubspotConfig,
  type HubSpotSandbox,
} from '../../connectors/hubspot/index.js';
import {
  classifySalesforceError,
  salesforceSpec,
  source as salesforce,
  startSandbox as startSalesforce,
  sandboxConfig as salesforceConfig,
  type SalesforceSandbox,
} from '../../connectors/salesforce/index.js';
import type { Store } from '../../core/index.js';
import { createContext, type SourceDefinition } from '../../plugins/index.js';
import type { World } from '../../plugins/sandbox/index.js';
import { readSource } from '../../sync/index.js';

export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Both CRMs' sandboxes rendering `world`; close them when done. */
export async function startTools(
  world: World,
): Promise<{ hs: HubSpotSandbox; sf: SalesforceSandbox; close(): Promise<void> }> {
  const hs = await startHubSpot({
    world,
    limits: { requestsPerInterval: 100_000, searchPerSecond: 100_000, daily: 10_000_000 },
  });
  const sf = await startSalesforce({ world });
  return {
    hs,
    sf,
    async close() {
      await hs.close();
      await sf.close();
    },
  };
}

/** The parsed connector configs of the two sandboxes. */
export const configsOf = (tools: { hs: HubSpotSandbox; sf: SalesforceSandbox }) => ({
  hubspot: hubspotSpec.parse(hubspotConfig(tools.hs)),
  salesforce: salesforceSpec.parse(salesforceConfig(tools.sf)),
});

/** Reads HubSpot's contacts and companies and Salesforce's contacts, leads and accounts into `store`, incrementally. */
export async function readTools(store: Store, tools: { hs: HubSpotSandbox; sf: SalesforceSandbox }): Promise<void> {
  const configs = configsOf(tools);
  const runs = [
    {
      connection: 'hubspot',
      source: hubspot,
      config: configs.hubspot,
      streams: ['contacts', 'archived_contacts', 'companies'],
      classifyError: classifyHubSpotError,
    },
    {
      connection: 'salesforce',
      source: salesforce,
      config: configs.salesforce,
      streams: ['contacts', 'leads', 'accounts'],
      classifyError: classifySalesforceError,
    },
  ];
  for (const run of runs) {
    const outcomes = await readSource({
      store,
      connection: run.connection,
      source: run.source as SourceDefinition,
      config: run.config,
      streams: run.streams.filter((s) => run.source.streams(run.config as never).some((d) => d.name === s)),
      mode: 'incremental',
      ctx: createContext({ connection: run.connection, logger: quiet, classifyError: run.classifyError }),
    });
    expect(outcomes.map((o) => `${o.stream}: ${o.status}${o.error ? ` ${String(o.error)}` : ''}`)).toEqual(
      outcomes.map((o) => `${o.stream}: succeeded`),
    );
  }
}
