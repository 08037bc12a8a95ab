/**
 * Everything `segflow serve` runs in one process, assembled from a loaded config: the admin API and console,
 * ingestion with its real-time pipeline, and the cron scheduler. The demo starts the same thing after its first run.
 * The audit report is rebuilt in the background after start and after every job run, so the audit page reads it at once.
 *
 * @example
 * const serving = await startServing(config, { registry: builtinRegistry(), logger });
 * console.log(serving.url);
 * await serving.stop();
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/index.js';
import { openStore } from '../core/index.js';
import { pendingSummary, waitingMessages } from '../core/realtime/index.js';
import type { Logger, Registry } from '../plugins/index.js';
import { AuditRefresher } from './audit-refresh.js';
import { countCalls } from './call-counts.js';
import { createServer } from './app.js';
import type { StartJob } from './deps.js';
import { listen } from './listen.js';
import { startRealtime } from './ingest/index.js';
import { runJob, scheduledJobs, startScheduler, type JobResult, type Scheduler } from '../sync/index.js';

export interface ServingOptions {
  registry: Registry;
  logger: Logger;
  host?: string;
  port?: number;
  /** Run the jobs that have a schedule (default true). */
  scheduler?: boolean;
  /** The moment jobs and real-time recomputation measure time from (the demo's world clock). Default: now. */
  now?: () => Date;
}

export interface Serving {
  url: string;
  scheduledJobs: number | undefined;
  /** Stops accepting requests, lets running jobs end after their current page or batch, and closes the store. */
  stop(): Promise<void>;
}

/**
 * The server's `startJob` over `run` (which runs a job and says when its run exists): it answers once the run exists,
 * with its id, while the run goes on in the background; a run that ends first (a dry run) answers with its outcome and
 * plan.
 *
 * @example
 * const startJob = startJobOver((job, extra) => runJob(config, job, { registry, ...extra }));
 */
export function startJobOver(
  run: (job: string, extra: { dryRun?: boolean; onRunStarted: (runId: number) => void }) => Promise<JobResult>,
): StartJob {
  return (job, { dryRun }) =>
    new Promise((resolve, reject) => {
      run(job, {
        ...(dryRun ? { dryRun: true } : {}),
        onRunStarted: (runId) => resolve({ runId, status: 'running' }),
      }).then(
        (result) =>
          resolve({
            status: result.status,
            ...(result.runId === undefined ? {} : { runId: result.runId }),
            ...(result.dryRun ? { plan: result.steps } : {}),
          }),
        reject,
      );
    });
}

export async function startServing(config: Config, options: ServingOptions): Promise<Serving> {
  const { logger } = options;
  // job runs and the real-time flusher make their own connector contexts: counted here for /metrics
  const calls = countCalls(options.registry);
  const registry = calls.registry;
  if (config.store.engine === 'sqlite') mkdirSync(dirname(config.store.path), { recursive: true });
  const store = await openStore(config.store.path);
  const stopping = new AbortController();
  const audit = new AuditRefresher({
    config,
    store,
    registry: options.registry,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  const running = new Set<Promise<unknown>>();
  const run = (job: string, extra: { dryRun?: boolean; onRunStarted?: (runId: number) => void } = {}) => {
    const done = runJob(config, job, {
      registry,
      logger,
      signal: stopping.signal,
      ...(options.now ? { now: options.now() } : {}),
      ...extra,
    });
    running.add(done);
    void done.finally(() => running.delete(done)).catch(() => {});
    if (extra.dryRun !== true) void done.finally(() => audit.refresh()).catch(() => {});
    return done;
  };

  const startJob = startJobOver(run);

  let scheduler: Scheduler | undefined;
  if (options.scheduler !== false) {
    scheduler = startScheduler({ jobs: scheduledJobs(config), logger, run: (name) => run(name) });
  }
  const deps = {
    config,
    store,
    // the server counts its own checks and erasures; the counted registry is for runs and the real-time flusher
    registry: options.registry,
    logger,
    env: process.env,
    startJob,
    connectionStats: () => calls.byConnection(),
    // real time's queues live in the store: messages accepted and not yet loaded, and contacts waiting per destination
    queueDepth: async () => {
      const depth: Record<string, number> = { inbox: await waitingMessages(store) };
      for (const d of Object.keys(config.destinations))
        depth[`pending:${d}`] = (await pendingSummary(store, d)).contacts;
      return depth;
    },
    ...(options.now ? { now: options.now } : {}),
    ...(scheduler ? { scheduler: { alive: () => scheduler.status().alive } } : {}),
  };
  const realtime = await startRealtime({ ...deps, registry });
  // /health reports whether its step worker runs.
  const server = await listen(createServer({ ...deps, realtime }), {
    host: options.host ?? config.server.host,
    port: options.port ?? config.server.port,
  });
  audit.refresh();
  return {
    url: server.url,
    scheduledJobs: scheduler?.status().jobs.length,
    async stop() {
      // the real-time worker does not hold the process open: keep it alive until everything has stopped
      const keepAlive = setInterval(() => {}, 1000);
      try {
        stopping.abort(new Error('stopped by a signal'));
        await server.close();
        await scheduler?.stop();
        await realtime.stop();
        await Promise.allSettled([...running]);
        await audit.idle();
        await store.close();
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}
