/**
 * When a job's cron schedule fires next, in its time zone.
 *
 * @example
 * nextRuns({ schedule: '0 2 * * *', timezone: 'Europe/Paris' }, 2); // [Date, Date]
 */
import cron from 'node-cron';

/** The next `count` times a schedule fires, from now; none for a job without a schedule. */
export function nextRuns(job: { schedule?: string | undefined; timezone: string }, count = 1): Date[] {
  if (job.schedule === undefined) return [];
  const task = cron.createTask(job.schedule, () => undefined, { timezone: job.timezone });
  try {
    return task.getNextRuns(count);
  } finally {
    void task.destroy();
  }
}
