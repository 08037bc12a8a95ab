import {
  typescriptWorker,
  type EvaluateOptions,
  type FeatureOptions,
  type IdentityOptions,
  type PushMode,
  type SegmentDefinition,
  type Queryable,
} from '../../core/index.js';
import {
  acceptMessages,
  clearPending,
  pendingContacts,
  pendingSummary,
  storedMessages,
  type InboxKind,
  type InboxLayout,
  type InboxMessage,
  type QueuedContact,
} from '../../core/realtime/index.js';
import { randomUUID } from 'node:crypto';
import {
  reasonOf,
  type ConnectorContext,
  type DestinationDefinition,
  type Logger,
  type SegmentRef,
} from '../../plugins/index.js';
import { pushSegments, type PushOutcome } from '../push/index.js';
import { shardedSteps, STEP_CONTACTS, STEP_MESSAGES, type StepInput, type StepReport } from './step.js';
import type { WorkerRequest } from './step-worker.js';

/**
 * The default micro-batch: 250 contacts, at most 500 Segment messages (one request under its 500 KB limit) and a flush
 * of well under a second; a destination with smaller batches flushes at its own batch size. Below what one step queues
 * at 2,000 events/s (steps every 250 ms take two or three 100 ms batches: 400 or 600 contacts), so each step's changes
 * go out after that step: at 500, a 400-contact step waited for the next one, a tick later.
 */
export const FLUSH_SIZE = 250;

/** One destination the real-time path flushes to: what a job's push step says, resolved to a connector. */
export interface RealtimeDestination {
  /** The destination's connection name (delivered state is kept per connection). */
  connection: string;
  destination: DestinationDefinition;
  /** The connector config, already parsed by its spec. */
  config: unknown;
  /** The connection's context (its rate budget is shared by every flush). */
  ctx: ConnectorContext;
  segments: SegmentRef[];
  identitiesFrom?: string;
  mode: PushMode;
  requireConsent?: 'email';
  maxRetries: number;
  /** Destination trait name → mapped value, as the push steps map them (sent with adds, and as updates). */
  traits?: Readonly<Record<string, string>>;
}

/** What one flush delivered: per contact, when its earliest message was received and when the batch was recorded. */
export interface FlushReport {
  destination: string;
  /** Contacts whose changes were sent and recorded, with the receipt time of the message behind them. */
  delivered: { contactId: number; receivedAt: string; deliveredAt: number; segment: string }[];
  outcome: PushOutcome;
}

export interface RealtimePipelineOptions {
  store: Queryable;
  /** Segments to evaluate for touched contacts (those the destinations push, and those they refer to). */
  segments: readonly SegmentDefinition[];
  destinations: readonly RealtimeDestination[];
  logger: Logger;
  features?: Omit<FeatureOptions, 'now'>;
  evaluate?: Omit<EvaluateOptions, 'now' | 'contacts'>;
  identity?: IdentityOptions;
  /** The moment features and rules are measured from. Default: the wall clock. */
  now?: () => Date;
  /** How often waiting messages are loaded and touched contacts recomputed. Default 250 ms. */
  tickMs?: number;
  /** The longest a change waits for its micro-batch to fill. Default 1000 ms. */
  flushMs?: number;
  /**
   * Contacts waiting that make a destination's flush due at once (the micro-batch size). Default: the destination's
   * batch size, at most FLUSH_SIZE.
   */
  flushSize?: number;
  /** Most contacts recomputed per step (the rest wait for the next). Default STEP_CONTACTS. */
  maxContactsPerTick?: number;
  /** Most messages loaded per step. Default STEP_MESSAGES. */
  maxMessagesPerTick?: number;
  onFlush?: (report: FlushReport) => void;
  /** How the inbox is cut by time: partition length and how long loaded messages are kept. Default 1 h and 24 h. */
  layout?: InboxLayout;
  /** How long this pipeline's lease on its share of the inbox shards lasts without renewal. Default 30 s. */
  leaseMs?: number;
  /**
   * Load and recompute in a worker thread with its own store connection (default), so the thread answering HTTP is
   * never held by them; `false` runs them on the calling thread (an in-memory store has no file to share).
   */
  worker?: boolean;
}

export interface RealtimePipeline {
  /** Resolves once the step worker is up (its modules loaded, its store open); at once without a worker. */
  ready: Promise<void>;
  /**
   * Stores accepted messages in the inbox (the step worker commits what arrives together in one transaction) and
   * resolves once they are committed, per message whether it was new: answer the sender only after it resolves.
   */
  accept(connection: string, kind: InboxKind, messages: readonly InboxMessage[], receivedAt?: Date): Promise<boolean[]>;
  /** Loads what waits, recomputes touched contacts and queues them for their destinations; once, now. */
  step(): Promise<StepReport>;
  /** Flushes every destination that has something waiting, due or not, and resolves when they are done. */
  flush(): Promise<void>;
  /** Stops the timers and waits for flushes in flight (what remains stays queued in the store for the next start). */
  stop(): Promise<void>;
  /** Why the step worker is not running, while it is being started again after it stopped; else undefined. */
  workerDown(): Error | undefined;
}

/**
 * Starts the real-time pipeline on a store: every `tickMs`, accepted messages are loaded through the normal load path
 * and the contacts they touched are recomputed together (`recomputeContacts`, then `evaluateSegments` over just those
 * contacts) and queued per destination, in one transaction; a flusher per destination sends their membership changes
 * in micro-batches (`flushSize` contacts waiting, or the oldest waiting `flushMs`) through the same planner, delivered state
 * and push lock as scheduled pushes, so the two never send the same change twice. Everything queued lives in the
 * store, so a restart picks up where a crash left off.
 *
 * @example
 * const pipeline = startPipeline({ store, segments, destinations: [segmentDestination], logger });
 * // ... later
 * await pipeline.stop();
 */
export async function startPipeline(options: RealtimePipelineOptions): Promise<RealtimePipeline> {
  const { store, logger } = options;
  const tickMs = options.tickMs ?? 250;
  const flushMs = options.flushMs ?? 1000;
  const now = options.now ?? (() => new Date());
  const inFlight = new Map<string, Promise<void>>();
  const retryAt = new Map<string, { at: number; delay: number }>();
  let stopped = false;

  const input: StepInput = {
    segments: options.segments,
    destinations: options.destinations.map((d) => d.connection),
    ...(options.features ? { features: options.features } : {}),
    ...(options.evaluate ? { evaluate: options.evaluate } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.maxContactsPerTick === undefined ? {} : { maxContactsPerTick: options.maxContactsPerTick }),
    ...(options.maxMessagesPerTick === undefined ? {} : { maxMessagesPerTick: options.maxMessagesPerTick }),
    ...(options.layout ? { layout: options.layout } : {}),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
  };
  // Each pipeline is one step worker: it leases its share of the inbox shards under this name.
  const holder = `step:${process.pid}:${randomUUID().slice(0, 8)}`;
  const worker =
    options.worker !== false && store.path !== ':memory:' ? stepWorker(store.path, input, holder, logger) : undefined;
  const local = worker ? undefined : shardedSteps(store, input, holder);
  // With a step worker, the worker checkpoints the WAL after each step; left on, this thread's small flush commits
  // would find the WAL past the threshold after every step and copy it here, holding the thread that answers HTTP.
  const autocheckpoint = worker ? await walAutocheckpoint(store, 0) : undefined;
  const step = (): Promise<StepReport> =>
    worker ? worker.step(now()) : (local as NonNullable<typeof local>).step(now());

  const flushOne = async (d: RealtimeDestination, force: boolean): Promise<void> => {
    const backoff = retryAt.get(d.connection);
    if (!force && backoff && backoff.at > Date.now()) return;
    for (;;) {
      const waiting = await pendingSummary(store, d.connection);
      if (waiting.contacts === 0 || waiting.oldest === null) return;
      const size = options.flushSize ?? Math.min(d.destination.batchSize, FLUSH_SIZE);
      const due = force || waiting.contacts >= size || Date.now() - Date.parse(waiting.oldest) >= flushMs;
      if (!due) return;
      const started = performance.now();
      const contacts = await pendingContacts(store, d.connection, Math.max(d.destination.batchSize * 20, 1000));
      const receivedAt = new Map(contacts.map((c): [number, QueuedContact] => [c.contactId, c]));
      const delivered: FlushReport['delivered'] = [];
      const outcome = await pushSegments({
        store,
        destination: d.destination,
        config: d.config,
        ctx: d.ctx,
        connection: d.connection,
        segments: d.segments,
        ...(d.identitiesFrom === undefined ? {} : { identitiesFrom: d.identitiesFrom }),
        mode: d.mode,
        ...(d.requireConsent === undefined ? {} : { requireConsent: d.requireConsent }),
        ...(d.traits === undefined ? {} : { traits: d.traits }),
        maxRetries: d.maxRetries,
        contacts: contacts.map((c) => c.contactId),
        onBatch: (segment, _sent, contactIds) => {
          const at = Date.now();
          for (const id of contactIds ?? []) {
            const c = receivedAt.get(id);
            if (c) delivered.push({ contactId: id, receivedAt: c.receivedAt, deliveredAt: at, segment });
          }
        },
      });
      // What went out is reported even when the rest did not: delivered state already holds it.
      if (delivered.length > 0 && outcome.status !== 'succeeded')
        options.onFlush?.({ destination: d.connection, delivered, outcome });
      // A failed segment (or rows left retryable) keeps every contact queued: the planner sends only what is still
      // undelivered, so the retry repeats nothing that was recorded.
      if (outcome.status !== 'succeeded') {
        const delay = Math.min((backoff?.delay ?? 500) * 2, 30_000);
        retryAt.set(d.connection, { at: Date.now() + delay, delay });
        logger.warn('real-time flush failed; the changes stay queued', {
          destination: d.connection,
          status: outcome.status,
          retryInMs: delay,
          reason: outcome.segments.find((s) => s.error)?.error,
        });
        return;
      }
      retryAt.delete(d.connection);
      await clearPending(store, d.connection, contacts);
      const oldest = contacts.reduce(
        (min, c) => (c.receivedAt < min ? c.receivedAt : min),
        contacts[0]?.receivedAt ?? '',
      );
      logger.debug('real-time flush', {
        destination: d.connection,
        contacts: contacts.length,
        delivered: delivered.length,
        totalMs: Math.round(performance.now() - started),
        oldestWaitedMs: oldest === '' ? 0 : Date.now() - Date.parse(oldest),
      });
      options.onFlush?.({ destination: d.connection, delivered, outcome });
      if (stopped) return;
    }
  };

  // Steps and flushes take turns: both write to the store, and a flush waiting on the step's write lock would hold
  // the thread that answers HTTP (SQLite's busy wait is synchronous); side by side, a backlog of back-to-back steps
  // starved the flush's writes (the worker takes the lock again the moment it commits). A contact queued again while
  // a flush is out still stays queued (clearPending), so the rule is about the HTTP thread, not about correctness.
  let stepping: Promise<void> | undefined;
  const flushDue = (force: boolean): Promise<void>[] =>
    options.destinations.map((d) => {
      const running = inFlight.get(d.connection);
      if (running) return running;
      const run = (stepping ?? Promise.resolve())
        .then(() => flushOne(d, force))
        .catch((error: unknown) => {
          logger.error('real-time flush failed', { destination: d.connection, reason: reasonOf(error) });
        })
        .finally(() => inFlight.delete(d.connection));
      inFlight.set(d.connection, run);
      return run;
    });

  const fullStep = (report: StepReport): boolean =>
    report.contacts >= (options.maxContactsPerTick ?? STEP_CONTACTS) ||
    report.messages >= (options.maxMessagesPerTick ?? STEP_MESSAGES);
  const safeStep = (): void => {
    // A step worker that stopped is being started again (its reason logged): nothing to step meanwhile.
    if (stepping || stopped || worker?.down) return;
    let backlog = false;
    stepping = Promise.all([...inFlight.values()])
      .then(() => step())
      .then((report) => {
        if (report.messages > 0 || report.contacts > 0) logger.debug('real-time step', { ...report });
        // A full step means more is waiting: take it next (after the flushes now due) rather than a tick later.
        backlog = fullStep(report);
      })
      .catch((error: unknown) => {
        logger.error('real-time step failed; the messages stay queued', { reason: reasonOf(error) });
      })
      .finally(() => {
        stepping = undefined;
        if (stopped) return;
        void Promise.all(flushDue(false)).then(() => {
          if (backlog) safeStep();
        });
      });
  };

  const stepTimer = setInterval(safeStep, tickMs);
  // Every step ends by offering its destinations a flush; this timer only catches a change waiting past flushMs between
  // steps (queued by another process's step, or behind a slow one), so a quarter of flushMs late at most. Each offer
  // counts the destination's queue on the thread answering HTTP: with the timer at a twentieth of flushMs, that queue
  // was read about 20 times a second at 2,000 events/s.
  const flushTimer = setInterval(() => void flushDue(false), Math.max(10, Math.min(tickMs, flushMs / 4)));

  const accepting = new Set<Promise<boolean[]>>();
  return {
    ready: worker ? worker.ready : Promise.resolve(),
    workerDown: () => worker?.down,
    step,
    accept(connection, kind, messages, receivedAt = new Date()) {
      if (!worker) return acceptMessages(store, connection, kind, messages, receivedAt, options.layout);
      const accepted = worker.accept(connection, kind, messages, receivedAt);
      accepting.add(accepted);
      void accepted.catch(() => undefined).finally(() => accepting.delete(accepted));
      return accepted;
    },
    async flush() {
      await Promise.all(flushDue(true));
    },
    async stop() {
      stopped = true;
      clearInterval(stepTimer);
      clearInterval(flushTimer);
      await stepping;
      await Promise.all([...inFlight.values()]);
      await Promise.allSettled([...accepting]);
      await worker?.stop();
      await local?.release();
      if (autocheckpoint !== undefined) await walAutocheckpoint(store, autocheckpoint);
    },
  };
}

/** Sets a SQLite connection's WAL autocheckpoint threshold (pages; 0 = off) and returns the previous one. */
async function walAutocheckpoint(store: Queryable, pages: number): Promise<number | undefined> {
  if (!store.dialect.singleFile) return undefined;
  const row = (await store.get('PRAGMA wal_autocheckpoint')) as { wal_autocheckpoint?: number } | undefined;
  await store.exec(`PRAGMA wal_autocheckpoint = ${Math.max(0, Math.floor(pages))}`);
  return row?.wal_autocheckpoint;
}

/** The longest wait before a step worker that stopped is started again (the first wait is 1 s, doubling). */
const RESTART_MAX_MS = 30_000;

/**
 * The step worker thread: steps one at a time, accepts committed in groups between them. A worker that stops (its
 * store could not be opened, or it crashed) is started again after a wait, 1 s doubling up to RESTART_MAX_MS, with
 * the reason logged each time; meanwhile asks fail at once with that reason (accepts then commit on the calling
 * thread) and `down` says so. `ready` settles with the first worker: up, or the reason it stopped.
 */
function stepWorker(
  storePath: string,
  input: StepInput,
  holder: string,
  logger: Logger,
): {
  ready: Promise<void>;
  /** Why no worker is up, while none is (stopped, and waiting to start again or starting). */
  readonly down: Error | undefined;
  step(now: Date): Promise<StepReport>;
  accept(connection: string, kind: InboxKind, messages: readonly InboxMessage[], receivedAt: Date): Promise<boolean[]>;
  stop(): Promise<void>;
} {
  const waiting = new Map<number, { resolve: (answer: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let down: Error | undefined;
  let stopping = false;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const exited = new WeakSet<object>();
  type Answer =
    | { type: 'ready' }
    | { type: 'stepped'; id: number; report: StepReport }
    | { type: 'accepted'; id: number; fresh: boolean[] }
    | { type: 'failed'; id: number; message: string };
  let started: () => void = () => {};
  let notStarted: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    notStarted = reject;
  });
  // Nobody may wait for it: a worker that never starts is reported by the steps and accepts that fail.
  void ready.catch(() => undefined);

  const launch = (): ReturnType<typeof typescriptWorker> => {
    const w = typescriptWorker(new URL('./step-worker.ts', import.meta.url), { storePath, input, holder });
    w.unref();
    let error: Error | undefined;
    w.on('message', (message: Answer) => {
      if (message.type === 'ready') {
        down = undefined;
        restarts = 0;
        started();
        return;
      }
      const x = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.type === 'stepped') x?.resolve(message.report);
      else if (message.type === 'accepted') x?.resolve(message.fresh);
      else x?.reject(new Error(message.message));
    });
    // The error says why; the exit that follows it only gives a code.
    w.on('error', (e) => (error ??= e));
    w.on('exit', (code) => {
      exited.add(w);
      const reason = error ?? new Error(`the real-time step worker exited (code ${code})`);
      down = reason;
      notStarted(reason);
      for (const x of waiting.values()) x.reject(reason);
      waiting.clear();
      if (stopping) return;
      const wait = Math.min(RESTART_MAX_MS, 1000 * 2 ** restarts);
      restarts += 1;
      logger.error('the real-time step worker stopped; starting it again', { reason: reasonOf(reason), inMs: wait });
      restartTimer = setTimeout(() => (worker = launch()), wait);
      restartTimer.unref();
    });
    return w;
  };
  let worker = launch();

  const ask = <T>(request: DistributiveOmit<WorkerRequest, 'id'>): Promise<T> => {
    if (down) return Promise.reject(down);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (answer: unknown) => void, reject });
      worker.postMessage({ ...request, id });
    });
  };
  return {
    ready,
    get down() {
      return down;
    },
    step: (now) => ask<StepReport>({ type: 'step', now: now.toISOString() }),
    accept: (connection, kind, messages, receivedAt) =>
      ask<boolean[]>({
        type: 'accept',
        connection,
        kind,
        // Serialised here: a string crosses to the worker as one copy, where records would be cloned field by field
        // and then serialised again for the store.
        messages: storedMessages(connection, messages),
        receivedAt: receivedAt.toISOString(),
      }),
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      const w = worker;
      if (exited.has(w)) return;
      const done = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'stop' });
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000).unref())]);
      if (!exited.has(w)) await w.terminate();
    },
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
