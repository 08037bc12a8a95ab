/**
 * A loader process for the crash test: `node --import tsx test/store/crash-child.ts <store location> [kill point]`.
 * Loads the generated source from the store's checkpoint, printing `committed <page>` after each commit. With a kill
 * point (see kill-points.ts: `7:12`, `7:commit`, `7:committed`), it prints `stopped <page>:<where>` when it reaches
 * that point and waits there for the parent to kill it. A page whose transaction runs fewer statements than the point
 * names stops before its commit instead (and says `commit`).
 */
import { loadPage, openStore, readCheckpoint } from '../../core/index.js';
import { CONNECTION, PAGES, STREAM, checkpointAfter, generatedPage, nextPage } from './generated-source.js';
import { countingStatements, parseKillPoint, type KillPoint } from './kill-points.js';

const [file, pointArg] = process.argv.slice(2);
if (!file) throw new Error('usage: crash-child.ts <store location> [kill point]');
const point: KillPoint | undefined = pointArg === undefined ? undefined : parseKillPoint(pointArg);

/** Reports where it stands and blocks the whole process (no timer, no I/O) until the parent's SIGKILL. */
function stop(page: number, where: KillPoint['at']): void {
  process.stdout.write(`stopped ${page}:${where}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);
  throw new Error(`the parent did not kill the loader stopped at ${page}:${where}`);
}

const store = await openStore(file);
process.stdout.write('started\n');
for (let page = nextPage(await readCheckpoint(store, CONNECTION, STREAM)); page < PAGES; page++) {
  const here = point?.page === page ? point : undefined;
  const statementAt = typeof here?.at === 'number' ? here.at : undefined;
  await loadPage(
    statementAt === undefined
      ? store
      : countingStatements(store, (n) => {
          if (n === statementAt) stop(page, n);
        }),
    {
      connection: CONNECTION,
      stream: STREAM,
      records: generatedPage(page),
      checkpoint: checkpointAfter(page),
      now: new Date('2026-06-01T00:00:00Z'),
      beforeCommit: () => {
        if (here && here.at !== 'committed') stop(page, 'commit');
      },
    },
  );
  process.stdout.write(`committed ${page}\n`);
  if (here?.at === 'committed') stop(page, 'committed');
}
await store.close();
process.stdout.write('done\n');
