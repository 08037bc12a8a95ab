/**
 * The voice-of-the-customer features (the columns of `contact_voice`) and the table's migration, apart from the
 * analysis so that the store and the rule compiler read them without loading the sentiment lexicon.
 */
import type { Migration } from '../store/migration.js';

/** One voice-of-the-customer feature: a column of `contact_voice`. */
export interface VoiceFeature {
  name: string;
  type: 'integer' | 'real' | 'text';
  description: string;
}

/** The voice-of-the-customer features, in column order. */
export const VOICE_FEATURES: readonly VoiceFeature[] = [
  { name: 'nps_last', type: 'integer', description: 'the latest NPS answer (0–10); null when none' },
  {
    name: 'nps_category',
    type: 'text',
    description: 'promoter (nps_last 9–10), passive (7–8) or detractor (0–6); null when no NPS answer',
  },
  { name: 'csat_last', type: 'integer', description: 'the latest CSAT answer (1–5); null when none' },
  {
    name: 'sentiment_90d',
    type: 'real',
    description:
      'mean sentiment (VADER compound, −1 to 1) of what the contact wrote in the last 90 days: tickets, their own messages, survey comments; null when nothing scored',
  },
  {
    name: 'negative_tickets_90d',
    type: 'integer',
    description: 'tickets opened in the last 90 days whose opening message is negative (sentiment ≤ −0.05)',
  },
  {
    name: 'sentiment_trend',
    type: 'real',
    description:
      'mean sentiment of the last 30 days minus that of the 30 days before; null unless both have a scored message',
  },
  {
    name: 'tickets_by_topic_90d',
    type: 'text',
    description: 'tickets of the last 90 days per topic, as JSON ({"billing": 2}); null when none was tagged',
  },
];

/** The names rules accept as `feature:` for the voice features. */
export const VOICE_FEATURE_NAMES: readonly string[] = VOICE_FEATURES.map((f) => f.name);

/** `contact_voice`: the voice features, one row per contact with anything written or answered. Owned by core/text. */
export const voiceMigrations: Migration[] = [
  {
    name: '20261206T090000_contact_voice',
    up: (d) => `
      CREATE TABLE contact_voice (
        contact_id ${d.types.reference} PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
        ${VOICE_FEATURES.map((f) => `${f.name} ${f.type === 'text' ? d.types.text : f.type === 'integer' ? d.types.integer : d.types.real}`).join(',\n        ')},
        computed_at ${d.types.timestamp} NOT NULL
      );
    `,
  },
];
