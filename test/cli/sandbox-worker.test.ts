import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxesInWorker, type RunningSandbox } from '../../cli/sandboxes.js';
import { createWorld } from '../../plugins/sandbox/index.js';
import { tempDir } from '../support/temp.js';

/**
 * The demo's sandboxes answer from a worker thread (the pipeline benchmark's from a child process): the real SDK must
 * see the same world and the same limits as it would from sandboxes started in-process, and what was written must be
 * saved when they close.
 */
describe.each([
  { where: 'a worker thread', process: false, historyDays: undefined },
  { where: 'a child process', process: true, historyDays: 120 },
])('sandboxes in $where', ({ process, historyDays }) => {
  const seed = 'worker';
  const people = 300;
  const world = createWorld({ seed, people, ...(historyDays === undefined ? {} : { historyDays }) });
  let stateDir: string;
  let sandboxes: RunningSandbox[];
  let client: Client;
  let listId: string;

  beforeAll(async () => {
    stateDir = tempDir('segflow-sandbox-worker-');
    sandboxes = await startSandboxesInWorker({
      tools: ['hubspot', 'segment'],
      seed,
      people,
      stateDir,
      limits: { hubspot: { requestsPerInterval: 190, intervalMs: 10_000 } },
      recordBodies: false,
      process,
      ...(historyDays === undefined ? {} : { historyDays }),
    });
    const config = sandboxes.find((s) => s.tool === 'hubspot')!.config as { accessToken: string; basePath: string };
    client = new Client({ accessToken: config.accessToken, basePath: config.basePath, numberOfApiCallRetries: 0 });
    const created = await client.crm.lists.listsApi.create({
      name: 'segflow: worker test',
      objectTypeId: '0-1',
      processingType: 'MANUAL',
    });
    listId = created.list.listId;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sandboxes.map((s) => s.close()));
  });

  it('serves the contacts of the world drawn from the same seed', async () => {
    const page = await client.crm.contacts.basicApi.getPage(100, undefined, ['email', 'createdate']);
    expect(page.results.length).toBeGreaterThan(0);
    const strangers = page.results.filter((c) => world.findByToolId('hubspot', c.id) === undefined);
    expect(strangers).toEqual([]);
    // Sign-up times spread over the world's history: the same history as the sandboxes were given.
    const created = page.results.map((c) => Date.parse(c.properties.createdate!));
    const expected = page.results.map(
      (c) => world.person(world.findByToolId('hubspot', c.id)!).tools.hubspot!.createdAt,
    );
    expect(created).toEqual(expected);
  });

  it('plays the rate limit it was given (HubSpot’s top tier: 190 requests per 10 s), then answers 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      try {
        await client.crm.contacts.basicApi.getPage(1);
        statuses.push(200);
      } catch (error) {
        statuses.push((error as { code: number }).code);
      }
    }
    // The list created before and the first test's call share the window.
    expect(statuses.filter((s) => s === 200)).toHaveLength(188);
    expect(statuses.slice(188).every((s) => s === 429)).toBe(true);
  });

  it('saves what was written to the tools when closed', async () => {
    await Promise.all(sandboxes.map((s) => s.close()));
    const saved = JSON.parse(readFileSync(join(stateDir, 'hubspot.json'), 'utf8')) as {
      lists: { listId: string; name: string }[];
    };
    expect(saved.lists.map((l) => [l.listId, l.name])).toContainEqual([listId, 'segflow: worker test']);
  });
});
