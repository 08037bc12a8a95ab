/**
 * Engagement events: one row per (source, source event id), attached to the contact and identity they name.
 */
export { insertEvent, insertEvents, eventProblem } from './events.js';
export type { PlacedEvent } from './events.js';
export { eventMigrations } from './migrations.js';
