/**
 * The step worker: a thread with its own store connection that commits accepted messages to the inbox and runs
 * `runStep` each time the pipeline asks, so neither the inbox commits nor loading and recomputing ever hold (or wait
 * for the write lock on) the thread that answers HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../core/index.js';
import { reasonOf } from '../../plugins/index.js';
import { acceptStored, type InboxKind, type StoredMessage } from '../../core/realtime/index.js';
import { shardedSteps, type StepInput } from './step.js';
import { checkpointWal } from './wal.js';

/** What the pipeline asks of the worker; every request but `stop` is answered with its `id`. */
export type WorkerRequest =
  | { type: 'step'; id: number; now: string }
  | { type: 'accept'; id: number; connection: string; kind: InboxKind; messages: StoredMessage[]; receivedAt: string }
  | { type: 'stop' };

const { storePath, input, holder } = workerData as { storePath: string; input: StepInput; holder: string };
const store = await openStore(storePath);
const steps = shardedSteps(store, input, holder);
// This thread copies the WAL into the database itself, between steps (see checkpoint below), not inside a commit.
// (SQLite's WAL; an engine that is not one file checkpoints on its own.)
if (store.dialect.singleFile) await store.exec('PRAGMA wal_autocheckpoint = 0');
parentPort?.postMessage({ type: 'ready' });

/**
 * The shortest time between two checkpoints. Each copies every page the WAL holds once, however often the steps and
 * accepts since rewrote it (the inbox's pages, every B-tree's upper levels, a contact's features touched twice), so
 * copying once a second rather than after every step writes each such page once instead of four times or more.
 */
const CHECKPOINT_EVERY_MS = 1000;
let checkpointedAt = 0;
let written = false;

/**
 * Copies the WAL into the database and restarts it (checkpointWal), right after a step is answered, at most once
 * every CHECKPOINT_EVERY_MS: the pipeline flushes meanwhile, so the copy and its fsync are off the path from accept to
 * delivery, and pages the steps rewrite again and again are copied once per checkpoint instead of once per commit
 * that crosses the autocheckpoint threshold (which a step's commits always did). A step that wrote nothing still
 * checkpoints what earlier ones left, once the time has come.
 */
async function checkpoint(): Promise<void> {
  if (!store.dialect.singleFile || !written || Date.now() - checkpointedAt < CHECKPOINT_EVERY_MS) return;
  checkpointedAt = Date.now();
  written = false;
  // Busy or locked: the next checkpoint copies it.
  if (!(await checkpointWal(store).catch(() => false))) written = true;
}

type Accept = Extract<WorkerRequest, { type: 'accept' }>;
let accepts: Accept[] = [];
let commitScheduled = false;

/** Commits every accept that arrived meanwhile in ONE transaction (a group commit), then answers each. */
async function commitAccepts(): Promise<void> {
  commitScheduled = false;
  const group = accepts;
  accepts = [];
  try {
    const results = await store.transaction(async (tx) => {
      const fresh: boolean[][] = [];
      for (const a of group)
        fresh.push(
          await acceptStored(tx, a.connection, a.kind, a.messages, new Date(a.receivedAt), input.layout ?? undefined),
        );
      return fresh;
    });
    written = true;
    group.forEach((a, i) => parentPort?.postMessage({ type: 'accepted', id: a.id, fresh: results[i] }));
  } catch (error) {
    const message = reasonOf(error);
    for (const a of group) parentPort?.postMessage({ type: 'failed', id: a.id, message });
  }
}

async function handle(message: WorkerRequest): Promise<void> {
  if (message.type === 'stop') {
    if (accepts.length > 0) await commitAccepts();
    await steps.release().catch(() => undefined);
    await store.close();
    parentPort?.close();
    return;
  }
  if (message.type === 'accept') {
    accepts.push(message);
    // Messages already queued on the port are delivered before the immediate: they share the commit.
    if (!commitScheduled) {
      commitScheduled = true;
      setImmediate(() => void commitAccepts());
    }
    return;
  }
  // Accepts waiting behind the step go in first, so the step loads them.
  if (accepts.length > 0) await commitAccepts();
  try {
    const report = await steps.step(new Date(message.now));
    parentPort?.postMessage({ type: 'stepped', id: message.id, report });
    if (report.messages > 0 || report.contacts > 0) written = true;
    await checkpoint();
  } catch (error) {
    parentPort?.postMessage({ type: 'failed', id: message.id, message: reasonOf(error) });
  }
}

parentPort?.on('message', (message: WorkerRequest) => {
  handle(message).catch((error: unknown) => {
    // handle() answers its own failures; this is a failure to answer at all (the port or the store gone).
    process.stderr.write(`real-time step worker: ${reasonOf(error)}\n`);
  });
});
