/**
 * Delivered state: what was last pushed to each destination, per segment and contact, which the planner diffs
 * against today's membership.
 */
export type { DeliveredState, DeliveryOutcome, DeliveryStatus, TraitUpdateOutcome } from './delivered-state.js';
export {
  recordDeliveries,
  recordDelivery,
  recordTraitUpdate,
  recordTraitUpdates,
  readDeliveredState,
} from './delivered-state.js';
export { deliveryMigrations } from './migrations.js';
export type { ContactDelivery } from './requeue.js';
export { deliveriesOfContact, requeueRejectedRows } from './requeue.js';
