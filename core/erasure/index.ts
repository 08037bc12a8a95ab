/**
 * Erasure: removing one contact and everything keyed by it from the store in one transaction, and suppressing its
 * emails and tool ids so no later read brings it back. By design the one module that deletes across tables.
 */
export type { ErasureTarget, StoreErasure } from './erase.js';
export { erasureTarget, eraseContact } from './erase.js';
