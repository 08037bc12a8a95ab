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
}

export interface ResolvedIdentityOptions {
  roleAddresses: ReadonlySet<string>;
  sharedEmailLimit: number;
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
