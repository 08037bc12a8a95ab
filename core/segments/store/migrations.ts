import type { Migration } from '../../store/migration.js';

/** Segment definitions (versioned), current memberships and membership history. Owned by core/segments. */
export const segmentMigrations: Migration[] = [
  {
    name: '20261123T150300_segments',
    up: (d) => `
      CREATE TABLE segment_definitions (
        key ${d.types.text} NOT NULL,
        version ${d.types.integer} NOT NULL,
        definition ${d.types.json} NOT NULL,
        created_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (key, version)
      );

      CREATE TABLE memberships (
        segment_key ${d.types.text} NOT NULL,
        contact_id ${d.types.reference} NOT NULL REFERENCES contacts (id),
        entered_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (segment_key, contact_id)
      );
      CREATE INDEX memberships_contact ON memberships (contact_id);

      CREATE TABLE membership_history (
        id ${d.types.id},
        segment_key ${d.types.text} NOT NULL,
        contact_id ${d.types.reference} NOT NULL REFERENCES contacts (id),
        segment_version ${d.types.integer} NOT NULL,
        entered_at ${d.types.timestamp} NOT NULL,
        exited_at ${d.types.timestamp}
      );
      CREATE INDEX membership_history_segment ON membership_history (segment_key, contact_id);
      CREATE INDEX membership_history_contact ON membership_history (contact_id);
    `,
  },
  {
    // Membership rows are written only by segment evaluation, from the contacts it has just read in the same
    // transaction, and every transaction that writes them or deletes contacts (evaluation, merges, erasure) holds the
    // writer lock, so none runs between the read and the write; merges move a contact's rows to its survivor and
    // erasure deletes them before the contact goes. On PostgreSQL the keys' checks only cost: a per-row trigger that
    // locks the referenced contact row for each membership and history row written (about 1.3 of the 3.3 CPU seconds
    // of a first evaluation of the starter segments at 100,000 contacts). SQLite keeps them (cheap B-tree probes;
    // dropping one would rebuild the table).
    name: '20261206T210000_memberships_unchecked_references',
    up: (d) => `
      ${d.dropForeignKey('memberships', 'contact_id')}
      ${d.dropForeignKey('membership_history', 'contact_id')}
    `,
  },
  {
    // The open spells alone: the push planner looks up each changed member's open spell (its id and when it began),
    // and an evaluation closes the spells of those who left. Through the segment index both read each of the contact's
    // earlier, closed spells from the table to see it is closed: a page at random each, once a store has history.
    name: '20261207T100000_membership_history_open',
    up: () => `
      CREATE INDEX membership_history_open ON membership_history (segment_key, contact_id)
        WHERE exited_at IS NULL;
    `,
  },
  {
    // Every lookup of a contact's spells in a segment (the planner's open spell of a member and last closed spell of a
    // leaver, an evaluation closing a leaver's spell, a merge moving them) finds what it reads in the contact index,
    // which the open spells' index then only duplicated; and a segment's spells are read by when they began (its
    // members at a moment, its holdout comparison). Each new spell so lands in two indexes, not three, one of them at
    // its segment's end instead of at the contact's place: a page at random less for each of a step's entrants,
    // rewritten by each commit and copied by each checkpoint.
    name: '20261207T120000_membership_history_by_contact',
    up: () => `
      DROP INDEX membership_history_open;
      DROP INDEX membership_history_segment;
      CREATE INDEX membership_history_entered ON membership_history (segment_key, entered_at);
      DROP INDEX membership_history_contact;
      CREATE INDEX membership_history_contact ON membership_history (contact_id, segment_key, exited_at, entered_at);
    `,
  },
];
