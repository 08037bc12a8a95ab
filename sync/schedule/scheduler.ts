import { createTask, validate, type ScheduledTask } from 'node-cron';
import { reasonOf, type Logger } from '../../plugins/index.js';

/** A job the scheduler starts on its cron expression, read in its time zone. */
export interface ScheduledJob {
  name: string;
  /** A cron expression (five fields, or six with seconds first). */
  schedule: string;
  /** An IANA time zone (`Europe/Paris`); the expression's hours are read there. */
  timezone: string;
}

export interface SchedulerOptions {
  jobs: readonly ScheduledJob[];
  /** Runs one job (normally `runJob` under the store's job lock); a rejection is logged, never thrown. */
  run(name: string): Promise<unknown>;
  logger: Logger;
}

export interface SchedulerStatus {
  /** False once stopped. */
  alive: boolean;
  jobs: { name: string; schedule: string; timezone: string; next?: string; running: boolean }[];
}

export interface Scheduler {
  /** Stops ticking; resolves when the runs this scheduler started have finished. */
  stop(): Promise<void>;
  status(): SchedulerStatus;
}

/**
 * Starts each job on its cron expression in its time zone. A tick that comes while the same job is still running in
 * this process is skipped (logged), so a slow job never piles up; across processes the job lock in the store is the
 * guard (two schedulers on one store never run a job twice at once).
 *
 * @example
 * const scheduler = startScheduler({
 *   jobs: [{ name: 'nightly', schedule: '0 2 * * *', timezone: 'Europe/Paris' }],
 *   run: (name) => runJob(config, name, { registry }),
 *   logger,
 * });
 * scheduler.status().jobs[0]?.next; // '2026-11-26T01:00:00.000Z'
 * await scheduler.stop();
 */
export function startScheduler(options: SchedulerOptions): Scheduler {
  for (const job of options.jobs) {
    if (!validate(job.schedule)) throw new Error(`job "${job.name}": "${job.schedule}" is not a cron expression`);
    if (!validTimeZone(job.timezone)) throw new Error(`job "${job.name}": "${job.timezone}" is not a time zone`);
  }
  const { logger } = options;
  const running = new Map<string, Promise<void>>();
  let alive = true;

  const tick = (name: string): void => {
    if (!alive) return;
    if (running.has(name)) {
      logger.warn('job still running, tick skipped', { job: name });
      return;
    }
    logger.info('job started by schedule', { job: name });
    const done = (async () => {
      try {
        const result = await options.run(name);
        logger.info('scheduled job finished', { job: name, ...statusOf(result) });
      } catch (error) {
        logger.error('scheduled job failed', { job: name, reason: reasonOf(error) });
      } finally {
        running.delete(name);
      }
    })();
    running.set(name, done);
  };

  const cronLogger = {
    info: (message: string) => logger.debug(message),
    warn: (message: string) => logger.debug(message),
    error: (message: string | Error) => logger.error(message instanceof Error ? message.message : message),
    debug: (message: string | Error) => logger.debug(message instanceof Error ? message.message : message),
  };
  const tasks: { job: ScheduledJob; task: ScheduledTask }[] = options.jobs.map((job) => {
    const task = createTask(job.schedule, () => tick(job.name), {
      name: job.name,
      timezone: job.timezone,
      logger: cronLogger,
    });
    return { job, task };
  });
  for (const { task } of tasks) void task.start();

  return {
    async stop() {
      if (alive) {
        alive = false;
        await Promise.all(tasks.map(({ task }) => Promise.resolve(task.destroy())));
      }
      await Promise.all(running.values());
    },
    status() {
      return {
        alive,
        jobs: tasks.map(({ job, task }) => {
          const next = alive ? task.getNextRun() : null;
          return {
            name: job.name,
            schedule: job.schedule,
            timezone: job.timezone,
            ...(next ? { next: next.toISOString() } : {}),
            running: running.has(job.name),
          };
        }),
      };
    },
  };
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function statusOf(result: unknown): Record<string, unknown> {
  if (!result || typeof result !== 'object') return {};
  const r = result as { status?: unknown; runId?: unknown };
  return {
    ...(r.status === undefined ? {} : { status: r.status }),
    ...(r.runId === undefined ? {} : { runId: r.runId }),
  };
}
