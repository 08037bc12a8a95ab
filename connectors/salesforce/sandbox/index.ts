/**
 * The Salesforce sandbox: a local org that renders the shared synthetic world and answers jsforce's requests on
 * Salesforce's real paths, limits and error shapes. Tests, benchmarks, the demo and `segflow sandbox salesforce`
 * start it with {@link startSandbox}. Built from the kit in plugins/sandbox (traffic.ts), with one module per group of
 * routes (routes/).
 */
export { startSandbox, sandboxConfig, type SalesforceSandbox, type SandboxOptions } from './server.js';
export { createApp, type AppOptions } from './app.js';
export { oauthRoutes, sessionAuth, type OrgCredentials } from './routes/oauth.js';
export { salesforceTraffic, type SalesforceTraffic, type SalesforceTrafficOptions } from './traffic.js';
export { Org, SCHEMA, DEFAULT_LIMITS, formatDatetime, type OrgFaults, type OrgLimits, type Row } from './org.js';
export { renderWorld, WORLD_CAMPAIGNS } from './render.js';
export { callTask, renderBulk, type SalesforceBulkOptions } from './bulk.js';
export { parseSoql, SoqlError } from './soql.js';
export { outboundMessage } from './outbound.js';
