/**
 * The HubSpot sandbox: a local HTTP server that answers like HubSpot's API (CRM objects, search, batches,
 * associations, Email Events, forms, the Events API, Lists v3, properties, OAuth), rendering the shared synthetic
 * world. Built from the kit in plugins/sandbox (traffic.ts), with one module per group of routes (routes/).
 *
 * @example
 * const sandbox = await startSandbox({ seed: 7, people: 500 });
 * const config = sandboxConfig(sandbox);
 * await sandbox.close();
 */
export * from './server.js';
export * from './app.js';
export * from './limits.js';
export * from './traffic.js';
export * from './portal.js';
export * from './render.js';
export { OAuthTokens, type Credentials } from './routes/oauth.js';
