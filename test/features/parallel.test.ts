// The second aggregate thread may fail in any way — an error, a thread that exits without a word, one that never
// finishes — and the computation must go on on the calling thread: a dead worker ends the wait, never a hang.
import { afterEach, describe, expect, it } from 'vitest';
import { startAggregate, type AggregateJob } from '../../core/features/parallel.js';

const job: AggregateJob = {
  path: '/nonexistent/store.sqlite',
  scratch: '/nonexistent/scratch.sqlite',
  setup: '',
  rates: [],
  create: '',
  insert: '',
  params: [],
};

const warnings: string[] = [];
const onWarning = (w: Error): void => void warnings.push(w.message);
process.on('warning', onWarning);
afterEach(() => void warnings.splice(0));

describe('the second aggregate thread', () => {
  it('that fails with an error gives its half back to the calling thread, saying why', async () => {
    expect(await startAggregate(job).wait()).toBe(false);
    await new Promise((done) => setImmediate(done));
    expect(warnings.join('\n')).toMatch(/aggregate thread failed \(.*(unable to open|directory does not exist)/);
  });

  it('that exits without a word ends the wait at once', async () => {
    expect(await startAggregate(job, { source: 'process.exit(3)' }).wait()).toBe(false);
    await new Promise((done) => setImmediate(done));
    expect(warnings.join('\n')).toMatch(/aggregate thread stopped without finishing/);
  });

  it('that never finishes is given up at its time limit', async () => {
    const hang = 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)';
    expect(await startAggregate(job, { source: hang, timeoutMs: 200 }).wait()).toBe(false);
  });
});
