/**
 * Engagement events: one row per (source, source event id), attached to the contact and identity they name.
 */
export { insertEvent, eventProblem } from './events.js';
export { eventMigrations } from './migrations.js';
