import type { Migration } from '../store/migration.js';

/**
 * Accounts (companies), the tool records they were seen as, the domains those records name, merges, the links between
 * accounts and contacts as each tool states them, and account features. Owned by core/accounts.
 *
 * `account_links` keeps each tool's own ids on both sides (an account record's member list, or a contact record's
 * account ids), so a link stated before the other side is loaded takes effect when it arrives; `account_members` reads
 * them through both sides' identities, so contact and account merges need no rewrite of links.
 */
export const accountMigrations: Migration[] = [
  {
    name: '20261206T060000_accounts',
    up: (d) => `
      CREATE TABLE accounts (
        id ${d.types.id},
        name ${d.types.text},
        domain ${d.types.text},
        traits ${d.types.json} NOT NULL DEFAULT '{}',
        deleted ${d.types.integer} NOT NULL DEFAULT 0,
        created_at ${d.types.timestamp} NOT NULL,
        updated_at ${d.types.timestamp} NOT NULL
      );
      CREATE INDEX accounts_domain ON accounts (domain);

      CREATE TABLE account_identities (
        id ${d.types.id},
        account_id ${d.types.reference} REFERENCES accounts (id),
        source ${d.types.text} NOT NULL,
        external_id ${d.types.text} NOT NULL,
        traits ${d.types.json} NOT NULL DEFAULT '{}',
        raw ${d.types.json} NOT NULL DEFAULT '{}',
        record_updated_ms ${d.types.real},
        deleted ${d.types.integer} NOT NULL DEFAULT 0,
        created_at ${d.types.timestamp} NOT NULL,
        updated_at ${d.types.timestamp} NOT NULL,
        UNIQUE (source, external_id)
      );
      CREATE INDEX account_identities_account ON account_identities (account_id);

      CREATE TABLE account_domains (
        identity_id ${d.types.reference} NOT NULL REFERENCES account_identities (id),
        domain ${d.types.text} NOT NULL,
        PRIMARY KEY (identity_id, domain)
      );
      CREATE INDEX account_domains_domain ON account_domains (domain);

      CREATE TABLE account_merges (
        id ${d.types.id},
        survivor_id ${d.types.reference} NOT NULL REFERENCES accounts (id),
        merged_id ${d.types.reference} NOT NULL,
        reason ${d.types.text} NOT NULL,
        identifier ${d.types.text},
        merged_at ${d.types.timestamp} NOT NULL
      );
      CREATE INDEX account_merges_survivor ON account_merges (survivor_id);

      CREATE TABLE account_links (
        source ${d.types.text} NOT NULL,
        account_external_id ${d.types.text} NOT NULL,
        contact_external_id ${d.types.text} NOT NULL,
        origin ${d.types.text} NOT NULL,
        PRIMARY KEY (source, account_external_id, contact_external_id, origin)
      );
      CREATE INDEX account_links_contact ON account_links (source, contact_external_id);

      CREATE VIEW account_members AS
        SELECT DISTINCT ai.account_id AS account_id, i.contact_id AS contact_id
        FROM account_links l
        JOIN account_identities ai ON ai.source = l.source AND ai.external_id = l.account_external_id
        JOIN identities i ON i.source = l.source AND i.external_id = l.contact_external_id
        JOIN contacts c ON c.id = i.contact_id
        WHERE ai.deleted = 0 AND ai.account_id IS NOT NULL AND i.deleted = 0 AND c.deleted = 0;

      CREATE TABLE account_features (
        account_id ${d.types.reference} PRIMARY KEY REFERENCES accounts (id),
        members ${d.types.integer} NOT NULL,
        engaged_members_30d ${d.types.integer} NOT NULL,
        revenue_30d ${d.types.real} NOT NULL,
        revenue_90d ${d.types.real} NOT NULL,
        revenue_365d ${d.types.real} NOT NULL,
        open_deals ${d.types.integer} NOT NULL,
        last_activity_at ${d.types.timestamp},
        days_since_last_activity ${d.types.real},
        computed_at ${d.types.timestamp} NOT NULL
      );
    `,
  },
];

/** Account segment membership and what each destination was last given. Owned by core/accounts. */
export const accountSegmentMigrations: Migration[] = [
  {
    name: '20261206T063000_account_segments',
    up: (d) => `
      CREATE TABLE account_memberships (
        segment_key ${d.types.text} NOT NULL,
        account_id ${d.types.reference} NOT NULL REFERENCES accounts (id),
        entered_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (segment_key, account_id)
      );

      CREATE TABLE account_delivered (
        destination ${d.types.text} NOT NULL,
        segment_key ${d.types.text} NOT NULL,
        account_id ${d.types.reference} NOT NULL,
        external_id ${d.types.text},
        delivered_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (destination, segment_key, account_id)
      );
    `,
  },
];
