/**
 * A server process for the crash test: ingestion routes on port 0 plus the real-time pipeline, over the config
 * given as argv[2], flushing after argv[3] ms. Prints `{"port": N}` once listening; the test SIGKILLs it.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { loadConfig } from '../../config/index.js';
import { openStore } from '../../core/index.js';
import { createRegistry } from '../../plugins/index.js';
import { ingestRoutes, startRealtime } from '../../server/ingest/index.js';
import { quiet } from './fixture.js';

const [configPath, flushMs] = process.argv.slice(2);
const registry = createRegistry(BUILTIN_CONNECTORS);
const config = await loadConfig(configPath as string, { registry, env: {} });
const deps = {
  config,
  store: await openStore(config.store.path),
  registry,
  logger: quiet,
  env: process.env,
  startJob: () => Promise.resolve({ status: 'not started' }),
};
const app = new Hono();
app.route('/', ingestRoutes(deps));
await startRealtime(deps, { tickMs: 50, flushMs: Number(flushMs) });
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`${JSON.stringify({ port: info.port })}\n`);
});
process.on('SIGTERM', () => server.close());
