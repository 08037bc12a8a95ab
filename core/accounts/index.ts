/**
 * Accounts: companies as first-class records beside contacts. A tool's company or Account record is an account
 * identity; identities that share a web domain are one account (merges recorded, independent of load order); contacts
 * belong to accounts as the tools state it (a company's associations, a Contact's AccountId), a contact possibly to
 * several; account features are computed in SQL over the members' events.
 *
 * @example
 * import { computeAccountFeatures } from '../core/accounts/index.js';
 * await computeAccountFeatures(store, new Date());
 */
export * from './features.js';
export * from './resolve.js';
export * from './migrations.js';
export * from './segments.js';
export * from './groups.js';
export * from './coverage.js';
export * from './views.js';
