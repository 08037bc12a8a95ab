/**
 * A loader process for the crash test: `node --import tsx test/store/crash-child.ts <store file> [pause-at-page]`.
 * Loads the generated source from the store's checkpoint, printing `committed <page>` after each commit. With a
 * pause page, it prints `written <page>` once that page is written and waits before committing, for the parent to
 * kill it there.
 */
import { loadPage, openStore, readCheckpoint } from '../../core/index.js';
import { CONNECTION, PAGES, STREAM, checkpointAfter, generatedPage, nextPage } from './generated-source.js';

const [file, pauseArg] = process.argv.slice(2);
if (!file) throw new Error('usage: crash-child.ts <store file> [pause-at-page]');
const pauseAt = pauseArg === undefined ? -1 : Number(pauseArg);
const store = await openStore(file);
process.stdout.write('started\n');
for (let page = nextPage(await readCheckpoint(store, CONNECTION, STREAM)); page < PAGES; page++) {
  await loadPage(store, {
    connection: CONNECTION,
    stream: STREAM,
    records: generatedPage(page),
    checkpoint: checkpointAfter(page),
    now: new Date('2026-06-01T00:00:00Z'),
    beforeCommit: () => {
      if (page !== pauseAt) return;
      process.stdout.write(`written ${page}\n`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);
    },
  });
  process.stdout.write(`committed ${page}\n`);
}
await store.close();
process.stdout.write('done\n');
