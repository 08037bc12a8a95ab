/**
 * The HubSpot connector: contacts and engagement in (source), segment membership out as Lists v3 lists
 * (destination), built on `@hubspot/api-client` with its own retries off, plus its sandbox.
 */
export { source, contactRecord } from './source.js';
export { destination } from './destination.js';
export {
  hubspotWebhook,
  signatureV3,
  webhookRecords,
  SIGNATURE_WINDOW_MS,
  type HubSpotWebhookEvent,
} from './webhook.js';
export { hubspotSpec, classifyHubSpotError, HUBSPOT_BUDGET, type HubSpotConfig } from './client.js';
export { startSandbox, sandboxConfig, type HubSpotSandbox, type HubSpotSandboxOptions } from './sandbox/index.js';
