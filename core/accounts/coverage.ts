import type { AuditFinding } from '../audit/findings.js';
import type { Queryable } from '../store/store.js';

/** How far accounts cover the contacts, for the data audit. */
export interface AccountCoverage {
  /** Live accounts. */
  accounts: number;
  /** Live contacts, and those that belong to at least one account. */
  contacts: number;
  contactsWithAccount: number;
  /** `contactsWithAccount / contacts` (0 with no contacts). */
  contactShare: number;
  /** Live accounts no contact belongs to: a company read without its people, or people not linked to it. */
  withoutMembers: number;
  /** Up to ten of them, by name (or domain, or id), for a person to look at. */
  withoutMembersSample: string[];
}

/**
 * The accounts part of the data audit: how many contacts belong to an account, and which accounts have no members.
 * A notice when some accounts have no members (nothing when the store has no accounts).
 *
 * @example
 * const { accounts, findings } = await auditAccounts(store); // accounts.contactShare: 0.82
 */
export async function auditAccounts(
  store: Queryable,
): Promise<{ accounts: AccountCoverage; findings: AuditFinding[] }> {
  const count = async (sql: string) => Number(((await store.get(sql)) as { n: number | string }).n);
  const accounts = await count('SELECT COUNT(*) AS n FROM accounts WHERE deleted = 0');
  const contacts = await count('SELECT COUNT(*) AS n FROM contacts WHERE deleted = 0');
  const contactsWithAccount = await count('SELECT COUNT(DISTINCT contact_id) AS n FROM account_members');
  const memberless = `FROM accounts a WHERE a.deleted = 0 AND NOT EXISTS (SELECT 1 FROM account_members am WHERE am.account_id = a.id)`;
  const withoutMembers = await count(`SELECT COUNT(*) AS n ${memberless}`);
  const sample = (
    (await store.all(`SELECT a.id, a.name, a.domain ${memberless} ORDER BY a.id LIMIT 10`)) as {
      id: number;
      name: string | null;
      domain: string | null;
    }[]
  ).map((a) => a.name ?? a.domain ?? `account ${a.id}`);
  const findings: AuditFinding[] = [];
  if (withoutMembers > 0) {
    findings.push({
      section: 'accounts',
      code: 'accounts_without_members',
      severity: 'notice',
      message: `${withoutMembers.toLocaleString('en')} of ${accounts.toLocaleString('en')} accounts have no members (${sample.slice(0, 3).join(', ')}${withoutMembers > 3 ? ', …' : ''}): read the contacts' companies or associations too, or their account rules select nobody`,
      count: withoutMembers,
      names: sample,
    });
  }
  return {
    accounts: {
      accounts,
      contacts,
      contactsWithAccount,
      contactShare: contacts === 0 ? 0 : contactsWithAccount / contacts,
      withoutMembers,
      withoutMembersSample: sample,
    },
    findings,
  };
}
