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
];
