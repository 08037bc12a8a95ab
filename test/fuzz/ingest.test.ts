/**
 * Property: whatever a client posts to the Segment-spec endpoints, ingestion answers 2xx or 4xx, never 500, and what it
 * accepted loads into the store without an error. Inputs: arbitrary JSON, and Segment-shaped messages whose fields
 * hold values of the wrong kinds. On both engines.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { loadConfig, type Config } from '../../config/index.js';
import type { Store } from '../../core/index.js';
import { loadWaitingMessages } from '../../core/realtime/index.js';
import { createRegistry, type Logger } from '../../plugins/index.js';
import { ingestRoutes } from '../../server/ingest/index.js';
import { engines, type OpenedStore } from '../support/engines.js';
import { tempDir } from '../support/temp.js';

const WRITE_KEY = 'wk_fuzz_website_0123456789abcdef';
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const PATHS = ['/v1/batch', '/v1/track', '/v1/identify', '/v1/page', '/v1/screen', '/v1/import'];

const odd = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', '2026-13-45T99:00:00Z', '1e400', 'NaN', '__proto__', 'constructor', 'Order Completed'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 6 }), fc.double()), { maxKeys: 3 }),
);
const message = fc.record(
  {
    type: fc.oneof(fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias'), odd),
    userId: odd,
    anonymousId: odd,
    messageId: odd,
    timestamp: odd,
    event: odd,
    traits: fc.oneof(odd, fc.dictionary(fc.constantFrom('email', 'firstName', 'plan', '__proto__'), odd)),
    properties: fc.oneof(
      odd,
      fc.dictionary(fc.constantFrom('revenue', 'currency', 'orderId', 'url', 'value', 'constructor'), odd),
    ),
    context: odd,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.json({ maxDepth: 3 }),
  message.map((m) => JSON.stringify(m)),
  fc.array(message, { maxLength: 4 }).map((batch) => JSON.stringify({ batch })),
);

let config: Config;
beforeAll(async () => {
  const dir = tempDir('segflow-fuzz-ingest-');
  const file = join(dir, 'segflow.yaml');
  writeFileSync(file, `server:\n  write_keys: { website: SEGFLOW_WRITE_KEY_WEBSITE }\n`);
  config = await loadConfig(file, { registry: createRegistry(BUILTIN_CONNECTORS), env: {} });
});

describe.each(engines)('on $name', (engine) => {
  let opened: OpenedStore;
  let store: Store;
  let app: ReturnType<typeof ingestRoutes>;
  beforeAll(async () => {
    opened = await engine.open();
    store = opened.store;
    app = ingestRoutes({
      config,
      store,
      registry: createRegistry(BUILTIN_CONNECTORS),
      logger: quiet,
      env: { SEGFLOW_WRITE_KEY_WEBSITE: WRITE_KEY },
      startJob: () => Promise.resolve({ status: 'not started' }),
    });
  });
  afterAll(() => opened.close());

  it('answers 2xx or 4xx to any body, and loads what it accepted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), body, async (path, text) => {
        const res = await app.request(path, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
          },
          body: text,
        });
        if (res.status >= 500) throw new Error(`${res.status} ${await res.text()} for ${path} ${text}`);
        await loadWaitingMessages(store);
      }),
      { numRuns: RUNS },
    );
  });
});
