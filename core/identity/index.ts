/**
 * Identity resolution: which tool records, linked ids and emails are one person. Contacts, the identities they were
 * seen with, and the record of merges.
 */
export type { IdentityOptions, TraitRanks } from './options.js';
export { DEFAULT_ROLE_ADDRESSES, identityOptionsOf, isRoleAddress, resolveIdentityOptions } from './options.js';
export { contactTraitSources, traitRanksOf } from './traits.js';
export type { Contact, ContactIdentity, ContactMerge } from './contacts.js';
export {
  readContact,
  findContactByExternalId,
  findContactsByEmail,
  listContactMerges,
  contactPartition,
} from './contacts.js';
export { PageResolution } from './resolve.js';
export type { ContactOutcome } from './resolve.js';
export { identityMigrations } from './migrations.js';
export { identityKey } from './key.js';
