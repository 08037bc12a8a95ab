/**
 * A compute in a worker thread (as `serve`'s scheduler and a job's compute step run it) answers only once it has
 * closed its store, so whatever runs next on the file (the next scheduled compute, another process) never opens it
 * while the worker's close still copies the log into it; and a store it cannot open is a failure with SQLite's
 * reason and the store's path, not a bare error code.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { generate } from '../../bench/segments.js';
import { openStore } from '../../core/index.js';
import { computeInWorker } from '../../sync/compute/index.js';
import { tempDir } from '../support/temp.js';

const SEGMENTS = [{ key: 'recent_buyers', rule: { event: 'purchase', within: '30d' } }];

it('answers once its store is closed: the log has been copied into the file and removed', async () => {
  const storePath = join(tempDir(), 'segflow.db');
  const seed = await openStore(storePath);
  await generate(seed, 2000, 10_000);
  await seed.close();

  const report = await computeInWorker({ storePath, now: new Date().toISOString(), segments: SEGMENTS });

  expect(report.contacts).toBe(2000);
  // The worker's connection was the store's only one: closing it checkpointed the log and deleted it.
  expect(existsSync(`${storePath}-wal`)).toBe(false);
  const store = await openStore(storePath);
  try {
    expect(((await store.get('SELECT COUNT(*) AS n FROM contact_features')) as { n: number }).n).toBe(2000);
  } finally {
    await store.close();
  }
});

it('fails with the reason and the store when it cannot open the store', async () => {
  const notAFolder = join(tempDir(), 'a-file');
  writeFileSync(notAFolder, '');
  const storePath = join(notAFolder, 'segflow.db');

  const failure = await computeInWorker({ storePath, now: new Date().toISOString(), segments: SEGMENTS }).then(
    () => undefined,
    (error: unknown) => error,
  );

  expect(failure).toBeInstanceOf(Error);
  // SQLite's reason, the store and what to check, as opening any store says it.
  expect((failure as Error).message).toMatch(
    /^cannot open the store .+: unable to open database file; check that its folder exists and is writable$/,
  );
  expect((failure as Error).message).toContain(storePath);
});
