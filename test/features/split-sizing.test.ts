// How many parts a whole-base feature computation is split into. On SQLite the work runs on this machine's cores; on
// PostgreSQL it runs on the server's, which this process cannot count: there the split follows the connections the
// config allows (`store.compute_connections`, default 2), whatever the client machine has. This machine is made to
// look like a one-core worker, the case where the client's count gave the wrong answer for a server.
import type * as os from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { aggregateParts, PARALLEL_CONTACTS } from '../../core/features/parallel.js';
import { computeInputOf } from '../../sync/jobs/run-job.js';
import { testRegistry, writeFiles } from '../config/helpers.js';

vi.mock('node:os', async (original) => ({
  ...(await original<typeof os>()),
  availableParallelism: () => 1,
}));

const LARGE = PARALLEL_CONTACTS * 5;

describe('the whole-base split, on a one-core client', () => {
  it('on PostgreSQL uses two connections by default, however few cores the client has', () => {
    expect(aggregateParts(LARGE, { singleFile: false })).toBe(2);
  });

  it('on PostgreSQL stays on one connection when the config allows one', () => {
    expect(aggregateParts(LARGE, { singleFile: false, connections: 1 })).toBe(1);
  });

  it('on SQLite stays on one thread: the client is the machine that computes', () => {
    expect(aggregateParts(LARGE, { singleFile: true })).toBe(1);
  });

  it('is not split below the size where a second part pays, nor when forced either way', () => {
    expect(aggregateParts(PARALLEL_CONTACTS - 1, { singleFile: false })).toBe(1);
    expect(aggregateParts(10, { singleFile: false, threads: 2, connections: 1 })).toBe(2);
    expect(aggregateParts(LARGE, { singleFile: true, threads: 2 })).toBe(2);
  });

  it("carries store.compute_connections from the config to a job's compute", async () => {
    const dir = writeFiles({
      'segflow.yaml': `store:\n  url: postgres://segflow@db.internal:5432/segflow\n  compute_connections: 1\nsegments: []\n`,
    });
    const config = await loadConfig(`${dir}/segflow.yaml`, { registry: testRegistry(), env: {} });
    expect(computeInputOf(config, {}, { registry: testRegistry() }).connections).toBe(1);
  });
});
