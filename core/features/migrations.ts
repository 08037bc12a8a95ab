import type { Migration } from '../store/migration.js';
import { FEATURE_COLUMNS } from './catalog.js';

/**
 * Per-contact features (one row per contact, rewritten by each computation) and model outputs (written by model runs,
 * read by rules as `model: churn.risk`) and the RFM quintile breakpoints of the last full computation. Owned by
 * core/features.
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
];
