/**
 * Erasure: removing one contact and everything keyed by it from the store in one transaction, and suppressing its
 * emails and tool ids so no later read brings it back. By design the one module that deletes across tables. Each
 * erasure leaves a record (when, by whom, what each destination answered) that holds no personal data.
 */
export type { ErasureTarget, StoreErasure } from './erase.js';
export { erasureTarget, eraseContact } from './erase.js';
export type { ErasureRecord } from './records.js';
export { emailDigest, erasuresOf, recordErasure } from './records.js';
export { erasureMigrations } from './migrations.js';
