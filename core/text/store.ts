/**
 * Voice of the customer over the store. `analyseTextEvents` reads the `support_ticket`, `support_message` and
 * `survey_response` events not yet analysed, adds their language, sentiment and (for tickets, given a topic model)
 * topic to their properties, and keeps their text only when the config asks — then redacted (emails, phone numbers,
 * card numbers); otherwise the text is dropped and only the derived values stay. `computeVoiceFeatures` writes one
 * row per contact into `contact_voice` (deleted with the contact), which rules read as features:
 * `{ feature: nps_category, eq: detractor }`. Both run on every engine: the SQL is plain reads and writes, the
 * arithmetic is in TypeScript.
 */
import type { Queryable } from '../store/store.js';
import type { SqlValue } from '../store/dialect.js';
import { detectLanguage } from './language.js';
import { redactText } from './redact.js';
import { NEGATIVE_TO, scoreMessage } from './sentiment.js';
import { fitTopics, tagTopic, type TopicModel, type TopicOptions } from './topics.js';
import { VOICE_FEATURE_NAMES } from './migrations.js';

/** The event types that carry what customers write. */
export const TEXT_EVENT_TYPES = ['support_ticket', 'support_message', 'survey_response'] as const;

/** Properties that hold free text, by event type. */
const TEXT_FIELDS: Record<(typeof TEXT_EVENT_TYPES)[number], readonly string[]> = {
  support_ticket: ['text', 'description', 'subject'],
  support_message: ['text'],
  survey_response: ['comment', 'text'],
};

export interface TextAnalysisOptions {
  /** Keep message text (redacted) in the event's properties; by default only the derived values are kept. */
  keepText?: boolean;
  /** Tags tickets with a topic (`topic`, `topic_id`). */
  topics?: TopicModel;
  /** Events per transaction (default 500). */
  batch?: number;
}

export interface TextAnalysis {
  analysed: number;
  /** Of those, not scored: not English, no text, or written by an agent. */
  unscored: number;
}

const SELECT_BATCH = 2_000;

/**
 * Analyses the text events not analysed yet (those without a `language` property).
 * @example
 * await analyseTextEvents(store, { keepText: config.text?.keep ?? false });
 */
export async function analyseTextEvents(store: Queryable, options: TextAnalysisOptions = {}): Promise<TextAnalysis> {
  const d = store.dialect;
  const types = TEXT_EVENT_TYPES.map(() => '?').join(', ');
  let analysed = 0;
  let unscored = 0;
  let after = 0;
  for (;;) {
    const rows = (await store.all(
      `SELECT id, type, properties FROM events
        WHERE type IN (${types}) AND id > ? AND ${d.jsonField('properties', 'language')} IS NULL
        ORDER BY id LIMIT ${SELECT_BATCH}`,
      [...TEXT_EVENT_TYPES, after],
    )) as { id: number; type: (typeof TEXT_EVENT_TYPES)[number]; properties: string }[];
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const updates: [string, number][] = [];
    for (const row of rows) {
      const properties = JSON.parse(row.properties || '{}') as Record<string, unknown>;
      const fields = TEXT_FIELDS[row.type];
      const text = fields
        .filter((f) => f !== 'subject' || !fields.some((g) => g !== 'subject' && typeof properties[g] === 'string'))
        .map((f) => properties[f])
        .find((v): v is string => typeof v === 'string' && v.trim() !== '');
      const byAgent = properties.author === 'agent';
      const sentiment = text && !byAgent ? scoreMessage(text) : null;
      properties.language = sentiment?.language ?? (text ? 'en' : 'none');
      properties.sentiment = sentiment?.score ?? null;
      properties.sentiment_label = sentiment?.label ?? null;
      if (properties.sentiment === null) unscored++;
      // The topic model knows English words only: a ticket in another language is left untagged, not tagged wrongly.
      if (row.type === 'support_ticket' && options.topics && text && properties.language === 'en') {
        const topic = tagTopic(options.topics, `${String(properties.subject ?? '')}. ${text}`);
        properties.topic_id = topic;
        properties.topic = topic >= 0 ? (options.topics.topics[topic]?.name ?? null) : null;
      }
      // The subject is what the customer wrote too (an email's subject line): kept redacted or dropped like the rest.
      for (const f of fields) {
        if (typeof properties[f] !== 'string') continue;
        if (options.keepText) properties[f] = redactText(properties[f]);
        else delete properties[f];
      }
      updates.push([JSON.stringify(properties), row.id]);
      analysed++;
    }
    const batch = options.batch ?? 500;
    for (let i = 0; i < updates.length; i += batch)
      await store.transaction(async (tx) => {
        for (const [properties, id] of updates.slice(i, i + batch))
          await tx.run('UPDATE events SET properties = ? WHERE id = ?', [properties, id]);
      });
  }
  return { analysed, unscored };
}

/**
 * Fits a topic model on the English tickets not analysed yet (their subject and text, before `analyseTextEvents`
 * drops the text); undefined when there are fewer than `minimum` (default 20) of them to learn from.
 * @example
 * const topics = await fitPendingTopics(store, { topics: 'auto', names: { invoice: 'Billing' } });
 * await analyseTextEvents(store, { ...(topics ? { topics } : {}) });
 */
export async function fitPendingTopics(
  store: Queryable,
  options: TopicOptions & { minimum?: number } = {},
): Promise<TopicModel | undefined> {
  const keyed: [string, string][] = [];
  for await (const batch of store.iterate(
    `SELECT source, source_event_id, properties FROM events
      WHERE type = 'support_ticket' AND ${store.dialect.jsonField('properties', 'language')} IS NULL`,
  ))
    for (const raw of batch) {
      const row = raw as { source: string; source_event_id: string; properties: string };
      const p = JSON.parse(row.properties || '{}') as Record<string, unknown>;
      const text = [p.subject, p.text ?? p.description].filter((v) => typeof v === 'string').join('. ');
      const body = p.text ?? p.description ?? p.subject;
      if (text && typeof body === 'string' && detectLanguage(body) === 'en')
        keyed.push([`${row.source}\u0000${row.source_event_id}`, text]);
    }
  // The fit depends on the order of its texts: sorted by the tickets' own ids (compared here, not by an engine's
  // collation, nor by row ids that follow load order), every engine and every load order finds the same topics.
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const texts = keyed.map(([, text]) => text);
  if (texts.length < (options.minimum ?? 20)) return undefined;
  return fitTopics(texts, options).model;
}

/** The NPS category of an answer on the 0–10 scale. */
export function npsCategory(score: number): 'promoter' | 'passive' | 'detractor' {
  return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
}

interface VoiceRow {
  npsLast: number | null;
  npsAt: string;
  csatLast: number | null;
  csatAt: string;
  sum90: number;
  n90: number;
  sum30: number;
  n30: number;
  sumPrev30: number;
  nPrev30: number;
  negativeTickets: number;
  topics: Map<string, number>;
}

/**
 * Recomputes `contact_voice` for every contact from their text events up to `now`.
 * @example
 * await computeVoiceFeatures(store, { now: new Date() }); // { contacts: 1234 }
 */
export async function computeVoiceFeatures(
  store: Queryable,
  options: { now?: Date } = {},
): Promise<{ contacts: number }> {
  const now = options.now ?? new Date();
  const day = 86_400_000;
  const iso = (days: number): string => new Date(now.getTime() - days * day).toISOString();
  const [d90, d30, d60] = [iso(90), iso(30), iso(60)];
  const byContact = new Map<number, VoiceRow>();
  const types = TEXT_EVENT_TYPES.map(() => '?').join(', ');
  for await (const batch of store.iterate(
    `SELECT ce.contact_id, ce.type, ce.occurred_at, e.properties FROM contact_events ce ${store.dialect.orderedJoin} events e ON e.id = ce.event_id
      WHERE ce.type IN (${types}) AND ce.occurred_at <= ? ORDER BY ce.contact_id, ce.occurred_at, ce.event_id`,
    [...TEXT_EVENT_TYPES, now.toISOString()],
  )) {
    for (const raw of batch) {
      const e = raw as { contact_id: number; type: string; occurred_at: string; properties: string };
      let row = byContact.get(e.contact_id);
      if (!row) {
        row = {
          npsLast: null,
          npsAt: '',
          csatLast: null,
          csatAt: '',
          sum90: 0,
          n90: 0,
          sum30: 0,
          n30: 0,
          sumPrev30: 0,
          nPrev30: 0,
          negativeTickets: 0,
          topics: new Map(),
        };
        byContact.set(e.contact_id, row);
      }
      const p = JSON.parse(e.properties || '{}') as Record<string, unknown>;
      const at = e.occurred_at;
      if (e.type === 'survey_response') {
        const score = typeof p.score === 'number' ? p.score : Number(p.score);
        const kind = String(p.kind ?? p.survey_type ?? 'nps').toLowerCase();
        if (Number.isFinite(score)) {
          if (kind === 'nps' && at >= row.npsAt) [row.npsLast, row.npsAt] = [Math.round(score), at];
          if (kind === 'csat' && at >= row.csatAt) [row.csatLast, row.csatAt] = [Math.round(score), at];
        }
      }
      const sentiment = typeof p.sentiment === 'number' ? p.sentiment : null;
      if (sentiment !== null && at > d90) {
        row.sum90 += sentiment;
        row.n90++;
      }
      if (sentiment !== null && at > d30) {
        row.sum30 += sentiment;
        row.n30++;
      } else if (sentiment !== null && at > d60) {
        row.sumPrev30 += sentiment;
        row.nPrev30++;
      }
      if (e.type === 'support_ticket' && at > d90) {
        if (sentiment !== null && sentiment <= NEGATIVE_TO) row.negativeTickets++;
        if (typeof p.topic === 'string') row.topics.set(p.topic, (row.topics.get(p.topic) ?? 0) + 1);
      }
    }
  }
  const computedAt = now.toISOString();
  const columns = [...VOICE_FEATURE_NAMES, 'computed_at', 'contact_id'];
  const rows: SqlValue[][] = [...byContact].map(([contact, r]) => [
    r.npsLast,
    r.npsLast === null ? null : npsCategory(r.npsLast),
    r.csatLast,
    r.n90 ? round(r.sum90 / r.n90) : null,
    r.negativeTickets,
    r.n30 && r.nPrev30 ? round(r.sum30 / r.n30 - r.sumPrev30 / r.nPrev30) : null,
    r.topics.size ? JSON.stringify(Object.fromEntries([...r.topics].sort((a, b) => (a[0] < b[0] ? -1 : 1)))) : null,
    computedAt,
    contact,
  ]);
  await store.transaction(async (tx) => {
    await tx.run('DELETE FROM contact_voice');
    await insertRows(tx, columns, rows);
  });
  return { contacts: rows.length };
}

async function insertRows(tx: Queryable, columns: string[], rows: SqlValue[][]): Promise<void> {
  const per = Math.max(1, Math.floor(900 / columns.length));
  const one = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    await tx.run(
      `INSERT INTO contact_voice (${columns.join(', ')}) VALUES ${chunk.map(() => one).join(', ')}`,
      chunk.flat(),
    );
  }
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/**
 * What the store holds of the voice of the customer, for a report: tickets per topic (largest first; the topic's name
 * is its top terms unless pinned), how many customer messages were scored and their mean sentiment, and the contacts
 * per NPS category.
 */
export interface VoiceSummary {
  topics: { name: string; tickets: number }[];
  scored: number;
  meanSentiment: number | null;
  nps: { promoter: number; passive: number; detractor: number };
}

/**
 * Summarises the analysed text events and `contact_voice`.
 * @example
 * const { topics } = await voiceSummary(store); // [{ name: 'invoice · payment · charged', tickets: 412 }, …]
 */
export async function voiceSummary(store: Queryable): Promise<VoiceSummary> {
  const d = store.dialect;
  const topic = d.jsonField('properties', 'topic');
  const sentiment = d.jsonField('properties', 'sentiment', 'real');
  const topics = (await store.all(
    `SELECT ${topic} AS name, COUNT(*) AS tickets FROM events
      WHERE type = 'support_ticket' AND ${topic} IS NOT NULL GROUP BY ${topic} ORDER BY COUNT(*) DESC, ${topic}`,
  )) as { name: string; tickets: number | string }[];
  const types = TEXT_EVENT_TYPES.map(() => '?').join(', ');
  const scored = (await store.get(
    `SELECT COUNT(*) AS n, AVG(${sentiment}) AS mean FROM events WHERE type IN (${types}) AND ${sentiment} IS NOT NULL`,
    [...TEXT_EVENT_TYPES],
  )) as { n: number | string; mean: number | string | null } | undefined;
  const nps = { promoter: 0, passive: 0, detractor: 0 };
  for (const row of (await store.all(
    `SELECT nps_category AS category, COUNT(*) AS n FROM contact_voice WHERE nps_category IS NOT NULL GROUP BY nps_category`,
  )) as { category: keyof typeof nps; n: number | string }[])
    if (row.category in nps) nps[row.category] = Number(row.n);
  const n = Number(scored?.n ?? 0);
  return {
    topics: topics.map((t) => ({ name: String(t.name), tickets: Number(t.tickets) })),
    scored: n,
    meanSentiment: n > 0 && scored?.mean !== null && scored?.mean !== undefined ? round(Number(scored.mean)) : null,
    nps,
  };
}

/**
 * Sentiment and NPS of one segment's current members, for the console: members, how many answered an NPS survey,
 * the segment's NPS (percent promoters minus percent detractors among them), and the mean 90-day sentiment of those
 * who wrote anything scored.
 */
export interface SegmentVoice {
  segment: string;
  members: number;
  answered: number;
  /** Of those who answered: promoters (9–10), passives (7–8) and detractors (0–6). */
  promoters: number;
  passives: number;
  detractors: number;
  nps: number | null;
  sentiment: number | null;
}

/**
 * {@link SegmentVoice} of every segment with members, by key.
 * @example
 * await voiceBySegment(store); // [{ segment: 'detractors_at_risk', members: 177, answered: 177, nps: -100, … }]
 */
export async function voiceBySegment(store: Queryable): Promise<SegmentVoice[]> {
  const rows = (await store.all(
    `SELECT m.segment_key AS segment, COUNT(*) AS members, COUNT(v.nps_last) AS answered,
            SUM(CASE WHEN v.nps_category = 'promoter' THEN 1 ELSE 0 END) AS promoters,
            SUM(CASE WHEN v.nps_category = 'detractor' THEN 1 ELSE 0 END) AS detractors,
            AVG(v.sentiment_90d) AS sentiment
       FROM memberships m LEFT JOIN contact_voice v ON v.contact_id = m.contact_id
      GROUP BY m.segment_key ORDER BY m.segment_key`,
  )) as Record<'segment' | 'members' | 'answered' | 'promoters' | 'detractors' | 'sentiment', unknown>[];
  return rows.map((r) => {
    const answered = Number(r.answered);
    const [promoters, detractors] = [Number(r.promoters ?? 0), Number(r.detractors ?? 0)];
    return {
      segment: String(r.segment),
      members: Number(r.members),
      answered,
      promoters,
      passives: answered - promoters - detractors,
      detractors,
      nps: answered > 0 ? Math.round((100 * (promoters - detractors)) / answered) : null,
      sentiment: r.sentiment === null || r.sentiment === undefined ? null : round(Number(r.sentiment)),
    };
  });
}

/**
 * Up to `perTopic` of the latest tickets of each topic, as text: only tickets whose text was kept (config
 * `text.keep`, already redacted) have any, so without it the answer is empty.
 * @example
 * await topicExamples(store, 3); // [{ topic: 'invoice · payment · card', examples: ['I was charged twice …'] }]
 */
export async function topicExamples(store: Queryable, perTopic = 3): Promise<{ topic: string; examples: string[] }[]> {
  const d = store.dialect;
  const rows = (await store.all(
    `SELECT properties FROM events
      WHERE type = 'support_ticket' AND ${d.jsonField('properties', 'topic')} IS NOT NULL
        AND ${d.jsonField('properties', 'text')} IS NOT NULL
      ORDER BY occurred_at DESC, source, source_event_id`,
  )) as { properties: string }[];
  const byTopic = new Map<string, string[]>();
  for (const row of rows) {
    const p = JSON.parse(row.properties || '{}') as Record<string, unknown>;
    if (typeof p.topic !== 'string' || typeof p.text !== 'string') continue;
    const list = byTopic.get(p.topic) ?? [];
    if (list.length < perTopic) list.push(p.text);
    byTopic.set(p.topic, list);
  }
  return [...byTopic].map(([topic, examples]) => ({ topic, examples })).sort((a, b) => (a.topic < b.topic ? -1 : 1));
}
