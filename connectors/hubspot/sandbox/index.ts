/**
 * The HubSpot sandbox: a local HTTP server that answers like HubSpot's API (CRM objects, search, batches,
 * associations, Email Events, Lists v3, properties, OAuth), rendering the shared synthetic world.
 */
export * from './server.js';
export * from './app.js';
export * from './portal.js';
export * from './render.js';
