import type { Dialect } from '../store/dialect.js';
import type { Migration } from '../store/migration.js';
import { FEATURE_COLUMNS } from './catalog.js';

/** The columns of `contact_events` taken from an event row (`row` is NEW or OLD in a trigger, or a table alias). */
const contactEventValues = (
  d: Dialect,
  row: string,
): string => `${row}.contact_id, ${row}.occurred_at, ${row}.id, ${row}.type, ${row}.value,
  CASE WHEN ${row}.type = 'purchase' THEN ${d.jsonField(`${row}.properties`, 'currency')} END,
  CASE WHEN ${row}.type = 'purchase' THEN ${d.jsonField(`${row}.properties`, 'discount', 'real')} END,
  CASE ${row}.type WHEN 'purchase' THEN ${d.jsonField(`${row}.properties`, 'category')} WHEN 'feature_used' THEN ${d.jsonField(`${row}.properties`, 'feature')} END`;

const CONTACT_EVENT_COLUMNS = 'contact_id, occurred_at, event_id, type, value, currency, discount, label';

/** The columns of `events` that contact_events copies or derives from. */
const EVENT_COLUMNS_READ = ['contact_id', 'occurred_at', 'type', 'value', 'properties'] as const;

/** Whether an updated event row changed a column contact_events depends on (old row `o`, new row `n`). */
const changed = (o: string, n: string): string =>
  `(${EVENT_COLUMNS_READ.map((c) => `${o}.${c}`).join(', ')}) IS DISTINCT FROM (${EVENT_COLUMNS_READ.map((c) => `${n}.${c}`).join(', ')})`;

/** Refills contact_events from events in its own order (what the migration does over an existing store). */
export const rebuildContactEventsSql = (
  d: Dialect,
): string => `INSERT INTO contact_events (contact_id, occurred_at, event_id, type, value, currency, discount, label)
  SELECT ${contactEventValues(d, 'e')} FROM events e ORDER BY e.contact_id, e.occurred_at, e.id`;

/** An upsert into `compute_dirty` of the contact ids a SELECT returns: a contact marked again counts one more mark. */
const markDirty = (select: string): string =>
  `INSERT INTO compute_dirty (contact_id) ${select} ON CONFLICT (contact_id) DO UPDATE SET marks = compute_dirty.marks + 1;`;

/** Whether an updated contact changed a column features or rules read (old row `o`, new row `n`). */
const contactChanged = (o: string, n: string): string =>
  ['email', 'email_consent', 'traits', 'deleted'].map((c) => `${o}.${c} IS DISTINCT FROM ${n}.${c}`).join(' OR ');

/**
 * Incremental compute: `compute_dirty` holds the contacts whose inputs changed since the last compute (new, changed
 * or removed events, changed traits or consent, merges), filled by triggers in the same transaction as the change,
 * so a killed run leaves it intact; a compute deletes the marks it read in the transaction that commits the
 * memberships it recomputed (a contact marked again meanwhile keeps its row: its marks moved on). `compute_state` is
 * the last completed compute's "as of" time, the fingerprints of its definitions and the latest model run it saw. Features keep the dates behind
 * their day counts (last purchase, last engagement, first purchase, sign-up), so the counts move with the clock
 * without reading events; `contact_events (occurred_at)` finds the contacts with an event crossing a window edge.
 */
const incrementalCompute: Migration = {
  name: '20261206T130000_incremental_compute',
  up: (d) => `
    CREATE TABLE compute_dirty (
      contact_id ${d.types.reference} PRIMARY KEY,
      marks ${d.types.integer} NOT NULL DEFAULT 1
    );
    CREATE TABLE compute_state (
      scope ${d.types.text} PRIMARY KEY,
      as_of ${d.types.timestamp} NOT NULL,
      features_fingerprint ${d.types.text} NOT NULL,
      segments_fingerprint ${d.types.text} NOT NULL,
      model_run ${d.types.integer} NOT NULL DEFAULT 0,
      updated_at ${d.types.timestamp} NOT NULL
    );
    ALTER TABLE contact_features ADD COLUMN last_purchase_at ${d.types.timestamp};
    ALTER TABLE contact_features ADD COLUMN last_engagement_at ${d.types.timestamp};
    ALTER TABLE contact_features ADD COLUMN first_purchase_at ${d.types.timestamp};
    ALTER TABLE contact_features ADD COLUMN signed_up_at ${d.types.text};
    CREATE INDEX contact_events_occurred ON contact_events (occurred_at, contact_id);
    ${d.trigger({
      name: 'compute_dirty_event_insert',
      table: 'events',
      event: 'INSERT',
      body: markDirty('SELECT NEW.contact_id WHERE TRUE'),
      setBody: markDirty('SELECT DISTINCT contact_id FROM new_rows'),
    })}
    ${d.trigger({
      name: 'compute_dirty_event_delete',
      table: 'events',
      event: 'DELETE',
      body: markDirty('SELECT OLD.contact_id WHERE TRUE'),
      setBody: markDirty('SELECT DISTINCT contact_id FROM old_rows'),
    })}
    ${d.trigger({
      name: 'compute_dirty_event_update',
      table: 'events',
      event: 'UPDATE',
      columns: EVENT_COLUMNS_READ,
      body: `${markDirty('SELECT OLD.contact_id WHERE TRUE')}
        ${markDirty('SELECT NEW.contact_id WHERE NEW.contact_id <> OLD.contact_id')}`,
      setBody: markDirty(`SELECT o.contact_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ${changed('o', 'n')}
          UNION SELECT n.contact_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ${changed('o', 'n')}`),
    })}
    ${d.trigger({
      name: 'compute_dirty_contact_insert',
      table: 'contacts',
      event: 'INSERT',
      body: markDirty('SELECT NEW.id WHERE TRUE'),
      setBody: markDirty('SELECT DISTINCT id FROM new_rows'),
    })}
    ${d.trigger({
      name: 'compute_dirty_contact_update',
      table: 'contacts',
      event: 'UPDATE',
      columns: ['email', 'email_consent', 'traits', 'deleted'],
      body: markDirty(`SELECT NEW.id WHERE ${contactChanged('OLD', 'NEW')}`),
      setBody: markDirty(
        `SELECT DISTINCT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ${contactChanged('o', 'n')}`,
      ),
    })}
    ${d.trigger({
      name: 'compute_dirty_merge',
      table: 'contact_merges',
      event: 'INSERT',
      body: `${markDirty('SELECT NEW.survivor_id WHERE TRUE')}
        ${markDirty('SELECT NEW.merged_id WHERE TRUE')}`,
      setBody: markDirty('SELECT survivor_id FROM new_rows UNION SELECT merged_id FROM new_rows'),
    })}
  `,
};

/**
 * The columns of `contact_events` from the event rows of a set-based trigger (`row`), with the event's properties
 * parsed once per row into `row.props` (see {@link parsedProperties}) instead of once per field read.
 */
const contactEventValuesParsed = (
  d: Dialect,
  row: string,
): string => `${row}.contact_id, ${row}.occurred_at, ${row}.id, ${row}.type, ${row}.value,
  CASE WHEN ${row}.type = 'purchase' THEN ${d.jsonField(`${row}.props`, 'currency')} END,
  CASE WHEN ${row}.type = 'purchase' THEN ${d.jsonField(`${row}.props`, 'discount', 'real')} END,
  CASE ${row}.type WHEN 'purchase' THEN ${d.jsonField(`${row}.props`, 'category')} WHEN 'feature_used' THEN ${d.jsonField(`${row}.props`, 'feature')} END`;

/**
 * The rows of transition table `table` with `props`, their properties parsed as JSON where contact_events reads them
 * (purchases and feature uses), NULL elsewhere. `OFFSET 0` keeps the subquery from being folded into the outer query,
 * which would evaluate the parse again at every field read.
 */
const parsedProperties = (table: string): string =>
  `(SELECT t.*, CASE WHEN t.type IN ('purchase', 'feature_used') THEN CAST(t.properties AS jsonb) END AS props FROM ${table} t OFFSET 0)`;

/**
 * Per-contact features (one row per contact, rewritten by each computation) and model outputs (written by model runs,
 * read by rules as `model: churn.risk`) and the RFM quintile breakpoints of the last full computation; and
 * `contact_events`, the events stored again in contact order with the properties features read (currency, discount,
 * category or feature) taken out of their JSON, kept in step with `events` by triggers (so in the same transaction as
 * any insert, merge or erasure). Features and event conditions read it: one contact's events sit on neighbouring pages,
 * so a set of contacts costs a page per contact instead of a random read per event, and the whole base is one ordered
 * scan without a sort. The table layout and the triggers come from the dialect. Owned by core/features.
 */
export const featureMigrations: Migration[] = [
  {
    name: '20261124T090000_features',
    up: (d) => `
      CREATE TABLE contact_features (
        contact_id ${d.types.reference} PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
        ${FEATURE_COLUMNS.map((c) => `${c.name} ${c.type === 'text' ? d.types.text : c.type === 'integer' ? d.types.integer : d.types.real}`).join(',\n        ')},
        unconverted_purchases ${d.types.integer} NOT NULL DEFAULT 0,
        custom ${d.types.json} NOT NULL DEFAULT '{}',
        computed_at ${d.types.timestamp} NOT NULL
      );
      CREATE INDEX contact_features_recency ON contact_features (days_since_last_purchase);
      CREATE INDEX contact_features_frequency ON contact_features (frequency_all);
      CREATE INDEX contact_features_monetary ON contact_features (monetary_all);

      CREATE TABLE model_outputs (
        contact_id ${d.types.reference} NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        model ${d.types.text} NOT NULL,
        output ${d.types.text} NOT NULL,
        value ${d.types.real},
        label ${d.types.text},
        computed_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (model, output, contact_id)
      );
      CREATE INDEX model_outputs_contact ON model_outputs (contact_id);
    `,
  },
  {
    name: '20261124T090200_feature_breakpoints',
    up: (d) => `
      CREATE TABLE feature_breakpoints (
        dimension ${d.types.text} NOT NULL,
        score ${d.types.integer} NOT NULL,
        bound ${d.types.real} NOT NULL,
        customers ${d.types.integer} NOT NULL,
        computed_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (dimension, score)
      );
    `,
  },
  {
    name: '20261125T090000_contact_events',
    up: (d) => `
      CREATE TABLE contact_events (
        contact_id ${d.types.reference} NOT NULL,
        occurred_at ${d.types.timestamp} NOT NULL,
        event_id ${d.types.reference} NOT NULL,
        type ${d.types.text} NOT NULL,
        value ${d.types.real},
        currency ${d.types.text},
        discount ${d.types.real},
        label ${d.types.text},
        PRIMARY KEY (contact_id, occurred_at, event_id)
      )${d.clusteredTable};
      ${rebuildContactEventsSql(d)};
      ${d.trigger({
        name: 'contact_events_insert',
        table: 'events',
        event: 'INSERT',
        body: `INSERT INTO contact_events (contact_id, occurred_at, event_id, type, value, currency, discount, label) VALUES (${contactEventValues(d, 'NEW')});`,
      })}
      ${d.trigger({
        name: 'contact_events_delete',
        table: 'events',
        event: 'DELETE',
        body: 'DELETE FROM contact_events WHERE contact_id = OLD.contact_id AND occurred_at = OLD.occurred_at AND event_id = OLD.id;',
      })}
      ${d.trigger({
        name: 'contact_events_update',
        table: 'events',
        event: 'UPDATE',
        columns: ['contact_id', 'occurred_at', 'type', 'value', 'properties'],
        body: `DELETE FROM contact_events WHERE contact_id = OLD.contact_id AND occurred_at = OLD.occurred_at AND event_id = OLD.id;
        INSERT INTO contact_events (contact_id, occurred_at, event_id, type, value, currency, discount, label) VALUES (${contactEventValues(d, 'NEW')});`,
      })}
    `,
  },
  {
    // The quintile breakpoints are found with one sort per dimension at each full run; the three indexes only made
    // every recomputeContacts write three more pages per contact.
    name: '20261204T090000_contact_features_unindexed',
    up: () => `
      DROP INDEX IF EXISTS contact_features_recency;
      DROP INDEX IF EXISTS contact_features_frequency;
      DROP INDEX IF EXISTS contact_features_monetary;
    `,
  },
  {
    // The same triggers, given their set-based form: PostgreSQL runs each once per statement over its transition
    // tables (a page of events is one multi-row INSERT), about a fifth of the cost per event of a row trigger's
    // function call; SQLite keeps its row triggers, which cost it little.
    name: '20261206T090000_contact_events_statement_triggers',
    up: (d) => `
      ${d.dropTrigger('contact_events_insert', 'events')}
      ${d.dropTrigger('contact_events_delete', 'events')}
      ${d.dropTrigger('contact_events_update', 'events')}
      ${d.trigger({
        name: 'contact_events_insert',
        table: 'events',
        event: 'INSERT',
        body: `INSERT INTO contact_events (${CONTACT_EVENT_COLUMNS}) VALUES (${contactEventValues(d, 'NEW')});`,
        setBody: `INSERT INTO contact_events (${CONTACT_EVENT_COLUMNS}) SELECT ${contactEventValues(d, 'n')} FROM new_rows n;`,
      })}
      ${d.trigger({
        name: 'contact_events_delete',
        table: 'events',
        event: 'DELETE',
        body: 'DELETE FROM contact_events WHERE contact_id = OLD.contact_id AND occurred_at = OLD.occurred_at AND event_id = OLD.id;',
        setBody: `DELETE FROM contact_events c USING old_rows o
          WHERE c.contact_id = o.contact_id AND c.occurred_at = o.occurred_at AND c.event_id = o.id;`,
      })}
      ${d.trigger({
        name: 'contact_events_update',
        table: 'events',
        event: 'UPDATE',
        columns: EVENT_COLUMNS_READ,
        body: `DELETE FROM contact_events WHERE contact_id = OLD.contact_id AND occurred_at = OLD.occurred_at AND event_id = OLD.id;
        INSERT INTO contact_events (${CONTACT_EVENT_COLUMNS}) VALUES (${contactEventValues(d, 'NEW')});`,
        setBody: `DELETE FROM contact_events c USING old_rows o JOIN new_rows n ON n.id = o.id
          WHERE c.contact_id = o.contact_id AND c.occurred_at = o.occurred_at AND c.event_id = o.id AND ${changed('o', 'n')};
        INSERT INTO contact_events (${CONTACT_EVENT_COLUMNS}) SELECT ${contactEventValues(d, 'n')}
          FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ${changed('o', 'n')};`,
      })}
    `,
  },
  incrementalCompute,
  {
    // PostgreSQL checks a foreign key with a query per inserted row: a full computation writes a row per contact, and
    // the check was a sixth of its time. The cascade the key gave when a contact is deleted (a merge, an erasure)
    // becomes one statement per DELETE. SQLite's check costs little and dropping it would mean rebuilding the table, so
    // there the key stays (its dropForeignKey is empty).
    name: '20261206T150000_contact_features_cascade_by_statement',
    up: (d) => {
      const drop = d.dropForeignKey('contact_features', 'contact_id');
      return drop === ''
        ? ''
        : `${drop}
      ${d.trigger({
        name: 'contact_features_cascade',
        table: 'contacts',
        event: 'DELETE',
        body: 'DELETE FROM contact_features WHERE contact_id = OLD.id;',
        setBody: 'DELETE FROM contact_features f USING old_rows o WHERE f.contact_id = o.id;',
      })}`;
    },
  },
  {
    // PostgreSQL's set-based insert trigger parsed a purchase's properties four or five times (once per field read, as
    // the expressions are written); it now parses them once per event. SQLite's row trigger is unchanged.
    name: '20261206T153000_contact_events_properties_parsed_once',
    up: (d) => `
      ${d.dropTrigger('contact_events_insert', 'events')}
      ${d.trigger({
        name: 'contact_events_insert',
        table: 'events',
        event: 'INSERT',
        body: `INSERT INTO contact_events (${CONTACT_EVENT_COLUMNS}) VALUES (${contactEventValues(d, 'NEW')});`,
        setBody: `INSERT INTO contact_events (${CONTACT_EVENT_COLUMNS}) SELECT ${contactEventValuesParsed(d, 'n')} FROM ${parsedProperties('new_rows')} n;`,
      })}
    `,
  },
];
