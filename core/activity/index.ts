/**
 * The activity log: every change and action made through the admin API or the console (runs started, cancelled and
 * retried, connections checked, contacts erased, locks cleared), with the role of the token that asked and when.
 * Re-exports only.
 */
export type { Activity } from './log.js';
export { listActivity, recordActivity } from './log.js';
export { activityMigrations } from './migrations.js';
