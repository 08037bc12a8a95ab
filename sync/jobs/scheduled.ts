/**
 * The jobs of a loaded config that have a schedule, as the scheduler takes them (`segflow schedule` and `segflow
 * serve`).
 *
 * @example
 * const scheduler = startScheduler({ jobs: scheduledJobs(config), logger, run: (job) => runJob(config, job, options) });
 */
import type { Config } from '../../config/index.js';
import type { ScheduledJob } from '../schedule/index.js';

/** Each job with a `schedule`, in the order the config writes them. */
export function scheduledJobs(config: Config): ScheduledJob[] {
  return Object.entries(config.jobs).flatMap(([name, job]) =>
    job.schedule === undefined ? [] : [{ name, schedule: job.schedule, timezone: job.timezone }],
  );
}
