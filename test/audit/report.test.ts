/** The same report from `segflow audit --json`, GET /audit (through the admin server, behind its token) and buildAudit. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../cli/builtins.js';
import { command } from '../../cli/commands/audit.js';
import { loadConfig, type Config } from '../../config/index.js';
import { auditOptions, buildAudit, openStore, type AuditReport, type Store } from '../../core/index.js';
import type { Logger } from '../../plugins/index.js';
import { createServer } from '../../server/app.js';
import { runCommand } from '../support/cli.js';
import { engines, storeYaml, type StoreLocation, type TestEngine } from '../support/engines.js';
import { tempDir } from '../store/fixtures.js';
import { NOW, cleanWorld } from './world.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const TOKEN = 'audit-test-read-token-8b3e1f7a2c9d';
let dir: ReturnType<typeof tempDir>;
let file: string;
let config: Config;
let store: Store;

const run = (...argv: string[]) => runCommand(command, ...argv);

let place: StoreLocation;

/** A store holding the clean world on `engine`, and a config naming it, for the tests of one describe block. */
async function setUp(engine: TestEngine): Promise<void> {
  dir = tempDir();
  place = await engine.fresh();
  const seed = await openStore(place.location);
  await cleanWorld(seed);
  await seed.close();
  file = join(dir.dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store: ${storeYaml(place.location)}
segments:
  - key: fr_buyers
    name: French buyers
    rule: { trait: country, eq: FR }
  - key: vip
    name: VIP
    rule: { all: [ { trait: vip_tier, eq: gold }, { feature: days_since_signup, lt: 365 } ] }
currency: { reporting: USD, rates: { EUR: 1.1 } }
protected_attributes: [gender, religion]
`,
  );
  config = await loadConfig(file, { registry: builtinRegistry() });
  store = await openStore(place.location);
}

async function tearDown(): Promise<void> {
  await store.close();
  await place.remove();
  dir.cleanup();
}

function server(from: Config = config) {
  return createServer({
    config: from,
    store,
    registry: builtinRegistry(),
    logger: quiet,
    env: { SEGFLOW_READ_TOKEN: TOKEN },
    startJob: () => Promise.resolve({ status: 'not started' }),
    now: () => NOW,
  });
}

// The report reads the store through the config's `store:` on each engine; the option handling below once, on SQLite.
for (const engine of engines)
  describe(`segflow audit and GET /audit on ${engine.name}`, () => {
    beforeAll(() => setUp(engine));
    afterAll(tearDown);

    it('serve the same report, built from the config: the traits its rules use, its segments, its protected attributes', async () => {
      const response = await server().request('/audit', { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      const served = (await response.json()) as AuditReport;
      const cli = await run(file, '--json', '--now', NOW.toISOString());
      expect(cli.code).toBe(0);
      expect(JSON.parse(cli.out)).toEqual(served);
      expect(served).toEqual(
        JSON.parse(JSON.stringify(await buildAudit(store, auditOptions(config, builtinRegistry(), { now: NOW })))),
      );

      // vip_tier (a rule's trait) is on nobody; created_at (behind days_since_signup) neither; the defaults judge 100 members
      expect(served.findings.map((f) => [f.code, f.names])).toEqual([
        ['field_mostly_empty', ['created_at']],
        ['field_mostly_empty', ['vip_tier']],
        ['segment_too_small', ['fr_buyers']],
        ['segment_too_small', ['vip']],
      ]);
      expect(served.findings[0]?.message).toContain('segment vip (feature days_since_signup)');
      expect(served.fairness.notPresent).toEqual(['religion']);
    });
  });

describe('segflow audit and GET /audit options', () => {
  beforeAll(() => setUp(engines.find((e) => e.name === 'sqlite') as TestEngine));
  afterAll(tearDown);

  it('take the minimum segment size from --min-size and ?min_size alike', async () => {
    const response = await server().request('/audit?min_size=30', { headers: { Authorization: `Bearer ${TOKEN}` } });
    const served = (await response.json()) as AuditReport;
    const cli = await run(file, '--json', '--now', NOW.toISOString(), '--min-size', '30');
    expect(JSON.parse(cli.out)).toEqual(served);
    expect(served.findings.filter((f) => f.code === 'segment_too_small').map((f) => [f.names, f.count])).toEqual([
      [['vip'], 20],
    ]);
  });

  it('take the minimum segment size from the config, which --min-size and ?min_size still override', async () => {
    const configured = join(dir.dir, 'configured.yaml');
    writeFileSync(configured, `${readFileSync(file, 'utf8')}audit: { min_segment_size: 30 }\n`);
    const withMinimum = await loadConfig(configured, { registry: builtinRegistry() });
    const get = async (path: string) =>
      (await (
        await server(withMinimum).request(path, { headers: { Authorization: `Bearer ${TOKEN}` } })
      ).json()) as AuditReport;
    const tooSmall = (report: AuditReport) =>
      report.findings.filter((f) => f.code === 'segment_too_small').map((f) => [f.names, f.count]);

    const served = await get('/audit');
    expect(served.segments.minSize).toBe(30);
    expect(tooSmall(served)).toEqual([[['vip'], 20]]);
    const cli = await run(configured, '--json', '--now', NOW.toISOString());
    expect(JSON.parse(cli.out)).toEqual(served);

    const overridden = await get('/audit?min_size=10');
    expect(tooSmall(overridden)).toEqual([]);
    expect(JSON.parse((await run(configured, '--json', '--now', NOW.toISOString(), '--min-size', '10')).out)).toEqual(
      overridden,
    );

    const wrong = join(dir.dir, 'wrong.yaml');
    writeFileSync(wrong, `${readFileSync(file, 'utf8')}audit: { min_segment_size: many }\n`);
    const refused = await run(wrong, '--json');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/wrong\.yaml:\d+:\d+.*audit\.min_segment_size: expected a number/);
  });

  it('print a readable report, findings first, and refuse without a token', async () => {
    const { code, out } = await run(file, '--now', NOW.toISOString());
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[2]).toBe('Findings: 4 warnings, 0 notices');
    expect(lines[3]).toMatch(/^ {2}warning {2}\[completeness\] created_at is empty on 100% of contacts/);
    expect(out.indexOf('Completeness')).toBeGreaterThan(
      out.indexOf('[segments] vip has 20 members, under the minimum of 100'),
    );
    expect(out).toContain('not in the data: religion');
    expect((await run(file, '--strict', '--now', NOW.toISOString())).code).toBe(1);
    expect((await run(file, '--min-size', 'ten')).code).toBe(2);
    expect((await server().request('/audit')).status).toBe(401);
  });
});
