// Two workers loading overlapping people at the same time (issue #26): two tools hold the same people (the same
// emails, written in another case), and each worker reads one tool's pages while the other reads the other's. The
// identities, contacts and events that result must equal one process reading them one after the other.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listTasks, openStore, storeDigest } from '../../core/index.js';
import { runJob, runWorker } from '../../sync/index.js';
import { engines, storeYaml } from '../support/engines.js';
import { tempDir } from '../support/temp.js';
import { load, registry } from './fixture.js';

const dir = tempDir('segflow-worker-overlap-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOW = '2026-06-01T00:00:00.000Z';

/**
 * The CRM holds people 0–199, the web shop people 100–299 (the 100 shared ones with upper-case emails and later
 * updates, so the shop's traits win by recency), each with a purchase per person named by email.
 */
function writeTools(): void {
  const contacts = (from: number, to: number, upper: boolean, minute: string) =>
    `id,email,first_name,updated_at\n${Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      const email = `p${i}@example.com`;
      return `${upper ? 'w' : 'c'}${i},${upper ? email.toUpperCase() : email},${upper ? 'Web' : 'Crm'}${i},2026-01-01T00:${minute}:${String(i % 60).padStart(2, '0')}Z`;
    }).join('\n')}\n`;
  const purchases = (from: number, to: number, prefix: string) =>
    `${Array.from({ length: to - from }, (_, k) =>
      JSON.stringify({
        id: `${prefix}${from + k}`,
        type: 'order',
        email: `p${from + k}@example.com`,
        total: 10 + ((from + k) % 50),
        occurred_at: `2026-05-${String(1 + ((from + k) % 28)).padStart(2, '0')}T12:00:00.000Z`,
      }),
    ).join('\n')}\n`;
  writeFileSync(join(dir, 'crm.csv'), contacts(0, 200, false, '00'));
  writeFileSync(join(dir, 'crm.jsonl'), purchases(0, 200, 'crm'));
  writeFileSync(join(dir, 'web.csv'), contacts(100, 300, true, '30'));
  writeFileSync(join(dir, 'web.jsonl'), purchases(100, 300, 'web'));
}

function writeConfig(name: string, location: string): string {
  const tool = (source: string) => `
  ${source}:
    connector: file
    config:
      source: ${source}
      pageSize: 10
      contacts: { path: ${JSON.stringify(join(dir, `${source}.csv`))} }
      events: { path: ${JSON.stringify(join(dir, `${source}.jsonl`))}, emailColumn: email, valueColumn: total, types: { order: purchase } }`;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `store: ${storeYaml(location)}
sources:${tool('crm')}${tool('web')}
segments:
  buyers: { rule: { event: purchase, count: { gte: 1 } } }
jobs:
  nightly:
    steps:
      - read: { sources: [crm, web], mode: full }
      - compute: {}
`,
  );
  return file;
}

describe('two workers loading overlapping people (PostgreSQL)', () => {
  it('give the same identities, contacts and events as one process', { timeout: 120_000 }, async () => {
    writeTools();
    const engine = engines.find((e) => e.name === 'postgres')!;
    const one = await engine.fresh();
    const two = await engine.fresh();
    const stop = new AbortController();
    try {
      const alone = await runJob(await load(writeConfig('one', one.location)), 'nightly', {
        registry: registry(),
        now: new Date(NOW),
        computeIn: 'here',
      });
      expect(alone.status, alone.error).toBe('succeeded');

      const config = await load(writeConfig('two', two.location));
      const workers = ['w1', 'w2'].map((holder) =>
        runWorker(config, { registry: registry(), holder, signal: stop.signal, pollMs: 10, computeIn: 'here' }),
      );
      const shared = await runJob(config, 'nightly', {
        registry: registry(),
        workers: true,
        now: new Date(NOW),
        taskPollMs: 20,
      });
      stop.abort();
      const reports = await Promise.all(workers);
      expect(shared.status, shared.error).toBe('succeeded');

      const [a, b] = [await openStore(one.location), await openStore(two.location)];
      try {
        // each tool's contacts and events are two streams: four read tasks, and both workers loaded some at once
        const tasks = await listTasks(b, shared.runId!);
        expect(tasks.filter((t) => t.kind === 'read')).toHaveLength(4);
        for (const report of reports) expect(report.tasks.some((t) => t.what.startsWith('read'))).toBe(true);
        // 300 people: the 100 in both tools are one contact each, with both tools' identities and purchases
        const count = async (sql: string) => Number(((await b.get(sql)) as { n: number | string }).n);
        expect(await count('SELECT COUNT(*) AS n FROM contacts WHERE deleted = 0')).toBe(300);
        expect(await count('SELECT COUNT(*) AS n FROM events')).toBe(400);
        expect(await storeDigest(b)).toBe(await storeDigest(a));
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      stop.abort();
      await one.remove();
      await two.remove();
    }
  });
});
