/**
 * The cron scheduler: starts jobs on their schedules in their time zones, one run per job at a time.
 */
export type { ScheduledJob, Scheduler, SchedulerOptions, SchedulerStatus } from './scheduler.js';
export { startScheduler } from './scheduler.js';
