/**
 * The Salesforce connector, built on jsforce 3.10.16 (API version 62.0): a source of Contacts, Leads and engagement
 * (Tasks, Events, CampaignMember responses, Opportunities), a destination writing segment membership as
 * CampaignMembers (or a Contact/Lead field), and a local sandbox org that renders the shared world.
 */
export { source } from './source.js';
export { destination } from './destination.js';
export { salesforceSpec, classifySalesforceError, API_VERSION, type SalesforceConfig } from './client.js';
export { outboundWebhook, ACK_ENVELOPE } from './webhook.js';
export {
  startSandbox,
  sandboxConfig,
  outboundMessage,
  type SalesforceSandbox,
  type SandboxOptions,
} from './sandbox/index.js';
