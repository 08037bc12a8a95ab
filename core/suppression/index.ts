/**
 * Suppressions: identities (an email, or a tool's own id) that loads must never bring back, such as erased contacts.
 */
export type { Suppression, SuppressionCheck } from './suppressions.js';
export { addSuppression, listSuppressions, suppressionCheck } from './suppressions.js';
export { suppressionMigrations } from './migrations.js';
