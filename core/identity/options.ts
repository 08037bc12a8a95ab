/** Local parts of shared mailboxes: kept as traits, never used to merge contacts. */
export const DEFAULT_ROLE_ADDRESSES: readonly string[] = [
  'info',
  'sales',
  'support',
  'admin',
  'contact',
  'hello',
  'noreply',
  'no-reply',
  'donotreply',
  'do-not-reply',
  'office',
  'team',
  'marketing',
  'billing',
  'accounts',
  'help',
  'enquiries',
  'inquiries',
  'mail',
  'webmaster',
  'postmaster',
  'hostmaster',
  'abuse',
  'hr',
  'jobs',
  'careers',
  'press',
  'service',
];

/** How identity resolution treats shared identifiers. */
export interface IdentityOptions {
  /** Local parts (before the @) of role addresses that never merge contacts. */
  roleAddresses?: readonly string[];
  /**
   * An email carried by more than this many identities (tool records) is a shared address (a family or team inbox):
   * kept as a trait, not used to merge. Default 10.
   */
  sharedEmailLimit?: number;
  /**
   * Per trait, the sources whose value wins, first first (`identity.trait_priority`): connection names, write key
   * names or record sources. Unlisted traits, and listed ones no listed source has, take the most recent value.
   */
  traitPriority?: Readonly<Record<string, readonly string[]>>;
}

export interface ResolvedIdentityOptions {
  roleAddresses: ReadonlySet<string>;
  sharedEmailLimit: number;
  /** Per trait, the rank of each record source (0 wins), once `loadPage` has mapped connections to record sources. */
  traitRanks?: TraitRanks;
}

/** Per trait, the rank of each record source whose value wins over the most recent (0 first). */
export type TraitRanks = ReadonlyMap<string, ReadonlyMap<string, number>>;

/**
 * The identity options the config's `identity:` section gives.
 *
 * @example
 * loadPage(store, { ...page, identity: identityOptionsOf(config.identity) });
 */
export function identityOptionsOf(settings: {
  role_addresses?: readonly string[] | undefined;
  max_contacts_per_identifier?: number | undefined;
  trait_priority?: Readonly<Record<string, readonly string[]>> | undefined;
}): IdentityOptions {
  return {
    ...(settings.role_addresses ? { roleAddresses: settings.role_addresses } : {}),
    ...(settings.max_contacts_per_identifier ? { sharedEmailLimit: settings.max_contacts_per_identifier } : {}),
    ...(settings.trait_priority ? { traitPriority: settings.trait_priority } : {}),
  };
}

export function resolveIdentityOptions(o: IdentityOptions = {}): ResolvedIdentityOptions {
  const limit = o.sharedEmailLimit ?? 10;
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`sharedEmailLimit must be a positive integer, got ${limit}`);
  return {
    roleAddresses: new Set((o.roleAddresses ?? DEFAULT_ROLE_ADDRESSES).map((r) => r.trim().toLowerCase())),
    sharedEmailLimit: limit,
  };
}

/** Whether an (already normalised) email is a role address under these options. */
export function isRoleAddress(email: string, options: ResolvedIdentityOptions): boolean {
  const local = email.slice(0, email.indexOf('@'));
  return options.roleAddresses.has(local) || options.roleAddresses.has(local.split('+')[0] ?? local);
}
