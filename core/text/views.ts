/**
 * What the console's Voice page and a contact's page read of the voice of the customer: each topic with its tickets,
 * people, sentiment and (when text is kept) example messages; the people who wrote on a topic; sentiment, tickets
 * and NPS month by month; and one contact's recent messages with their scores. Plain reads on every engine: survey
 * scores are counted in TypeScript, as a connector may have stored one as text.
 */
import type { Queryable } from '../store/store.js';
import { NEGATIVE_TO, sentimentLabel, type SentimentLabel } from './sentiment.js';
import { npsCategory, TEXT_EVENT_TYPES, topicExamples } from './store.js';

/** One topic of the tickets, over every ticket the store holds. */
export interface TopicView {
  /** The topic's name: its top terms, or the name pinned in the config. */
  topic: string;
  tickets: number;
  /** Contacts with at least one ticket on the topic. */
  people: number;
  /** Tickets of the topic that were scored (English, with text). */
  scored: number;
  /** Mean sentiment (VADER compound, −1 to 1) of its scored tickets; null when none was. */
  sentiment: number | null;
  /** Share of its scored tickets that are negative (≤ −0.05); null when none was scored. */
  negativeShare: number | null;
  /** The latest ticket's time. */
  lastAt: string;
  /** The latest tickets' text, redacted; empty unless the config keeps text. */
  examples: string[];
}

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;
const count = (v: unknown): number => Number(v ?? 0);

/**
 * Every topic tickets were tagged with, the largest first, with up to `perTopic` example messages each.
 * @example
 * await voiceTopics(store); // [{ topic: 'billing', tickets: 412, people: 301, sentiment: -0.21, … }]
 */
export async function voiceTopics(store: Queryable, perTopic = 3): Promise<TopicView[]> {
  const d = store.dialect;
  const topic = d.jsonField('properties', 'topic');
  const sentiment = d.jsonField('properties', 'sentiment', 'real');
  const rows = (await store.all(
    `SELECT ${topic} AS topic, COUNT(*) AS tickets, COUNT(DISTINCT contact_id) AS people,
            COUNT(${sentiment}) AS scored, AVG(${sentiment}) AS sentiment,
            SUM(CASE WHEN ${sentiment} <= ? THEN 1 ELSE 0 END) AS negative, MAX(occurred_at) AS last_at
       FROM events WHERE type = 'support_ticket' AND ${topic} IS NOT NULL
      GROUP BY ${topic} ORDER BY COUNT(*) DESC, ${topic}`,
    [NEGATIVE_TO],
  )) as Record<'topic' | 'tickets' | 'people' | 'scored' | 'sentiment' | 'negative' | 'last_at', unknown>[];
  const examples = new Map((await topicExamples(store, perTopic)).map((t) => [t.topic, t.examples]));
  return rows.map((r) => {
    const scored = count(r.scored);
    return {
      topic: String(r.topic),
      tickets: count(r.tickets),
      people: count(r.people),
      scored,
      sentiment: scored > 0 && r.sentiment !== null ? round(Number(r.sentiment)) : null,
      negativeShare: scored > 0 ? round(count(r.negative) / scored) : null,
      lastAt: String(r.last_at),
      examples: examples.get(String(r.topic)) ?? [],
    };
  });
}

/** One person who wrote a ticket on a topic. */
export interface TopicPerson {
  contactId: number;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  /** Their tickets on the topic. */
  tickets: number;
  lastTicketAt: string;
  /** Their mean sentiment over the last 90 days (all they wrote), from the voice features. */
  sentiment90d: number | null;
  npsLast: number | null;
  npsCategory: string | null;
}

/**
 * The people with a ticket on `topic` — those the rule `{ event: support_ticket, where: { topic } }` selects — the
 * most tickets first, then the latest, then by contact id.
 * @example
 * await topicPeople(store, 'billing', { limit: 20, offset: 0 }); // { people: [{ contactId: 7, tickets: 3, … }], total: 301 }
 */
export async function topicPeople(
  store: Queryable,
  topic: string,
  page: { limit: number; offset: number },
): Promise<{ people: TopicPerson[]; total: number }> {
  const d = store.dialect;
  const tickets = `SELECT contact_id, COUNT(*) AS tickets, MAX(occurred_at) AS last_at FROM events
      WHERE type = 'support_ticket' AND ${d.jsonField('properties', 'topic')} = ? GROUP BY contact_id`;
  const rows = (await store.all(
    `SELECT c.id AS contact_id, c.email, ${d.jsonField('c.traits', 'first_name')} AS first_name,
            ${d.jsonField('c.traits', 'last_name')} AS last_name, t.tickets, t.last_at,
            v.sentiment_90d, v.nps_last, v.nps_category
       FROM (${tickets}) t JOIN contacts c ON c.id = t.contact_id
       LEFT JOIN contact_voice v ON v.contact_id = t.contact_id
      WHERE c.deleted = 0
      ORDER BY t.tickets DESC, t.last_at DESC, c.id LIMIT ? OFFSET ?`,
    [topic, page.limit, page.offset],
  )) as Record<string, unknown>[];
  const total = (await store.get(
    `SELECT COUNT(*) AS n FROM (${tickets}) t JOIN contacts c ON c.id = t.contact_id WHERE c.deleted = 0`,
    [topic],
  )) as { n: unknown } | undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    people: rows.map((r) => ({
      contactId: Number(r.contact_id),
      email: text(r.email),
      firstName: text(r.first_name),
      lastName: text(r.last_name),
      tickets: count(r.tickets),
      lastTicketAt: String(r.last_at),
      sentiment90d: num(r.sentiment_90d),
      npsLast: num(r.nps_last),
      npsCategory: text(r.nps_category),
    })),
    total: count(total?.n),
  };
}

/** The voice of one calendar month (UTC). */
export interface VoiceMonth {
  /** `2026-11`, in UTC. */
  month: string;
  tickets: number;
  /** Messages scored that month: tickets, the customer's own messages, survey comments. */
  scored: number;
  sentiment: number | null;
  /** NPS answers that month and the month's NPS (percent promoters minus percent detractors). */
  npsAnswers: number;
  nps: number | null;
}

/**
 * Tickets, sentiment and NPS per month, oldest first: the last `months` months (default 24) up to the latest with any
 * message or answer, a month without any included with zeros.
 * @example
 * await voiceTrend(store); // [{ month: '2026-10', tickets: 88, scored: 140, sentiment: 0.12, npsAnswers: 31, nps: 16 }, …]
 */
export async function voiceTrend(store: Queryable, months = 24): Promise<VoiceMonth[]> {
  const d = store.dialect;
  const month = 'SUBSTR(occurred_at, 1, 7)';
  const sentiment = d.jsonField('properties', 'sentiment', 'real');
  const types = TEXT_EVENT_TYPES.map(() => '?').join(', ');
  const byMonth = new Map<string, VoiceMonth & { promoters: number; detractors: number }>();
  const at = (m: string) => {
    let row = byMonth.get(m);
    if (!row) {
      row = { month: m, tickets: 0, scored: 0, sentiment: null, npsAnswers: 0, nps: null, promoters: 0, detractors: 0 };
      byMonth.set(m, row);
    }
    return row;
  };
  for (const r of (await store.all(
    `SELECT ${month} AS month, SUM(CASE WHEN type = 'support_ticket' THEN 1 ELSE 0 END) AS tickets,
            COUNT(${sentiment}) AS scored, AVG(${sentiment}) AS sentiment
       FROM events WHERE type IN (${types}) GROUP BY ${month}`,
    [...TEXT_EVENT_TYPES],
  )) as Record<'month' | 'tickets' | 'scored' | 'sentiment', unknown>[]) {
    const row = at(String(r.month));
    row.tickets = count(r.tickets);
    row.scored = count(r.scored);
    row.sentiment = row.scored > 0 && r.sentiment !== null ? round(Number(r.sentiment)) : null;
  }
  // Scores are grouped by their stored value (a number, or a number as text) and classified here.
  for (const r of (await store.all(
    `SELECT ${month} AS month, ${d.jsonField('properties', 'kind')} AS kind,
            ${d.jsonField('properties', 'survey_type')} AS survey_type, ${d.jsonField('properties', 'score')} AS score,
            COUNT(*) AS n
       FROM events WHERE type = 'survey_response'
      GROUP BY ${month}, ${d.jsonField('properties', 'kind')}, ${d.jsonField('properties', 'survey_type')},
               ${d.jsonField('properties', 'score')}`,
  )) as Record<'month' | 'kind' | 'survey_type' | 'score' | 'n', unknown>[]) {
    const kind = String(r.kind ?? r.survey_type ?? 'nps').toLowerCase();
    const score = r.score === null || r.score === '' ? NaN : Number(r.score);
    if (kind !== 'nps' || !Number.isFinite(score)) continue;
    const row = at(String(r.month));
    const n = count(r.n);
    row.npsAnswers += n;
    const category = npsCategory(Math.round(score));
    if (category === 'promoter') row.promoters += n;
    if (category === 'detractor') row.detractors += n;
  }
  // every month from the first with anything to the last, so that a chart's months are evenly spaced
  const known = [...byMonth.keys()].filter((m) => /^\d{4}-\d{2}$/.test(m)).sort();
  for (let m = known[0]; m !== undefined && m < known[known.length - 1]!; m = nextMonth(m)) at(m);
  return [...byMonth.values()]
    .sort((a, b) => (a.month < b.month ? -1 : 1))
    .slice(-months)
    .map(({ promoters, detractors, ...row }) => ({
      ...row,
      nps: row.npsAnswers > 0 ? Math.round((100 * (promoters - detractors)) / row.npsAnswers) : null,
    }));
}

/** The month after `2026-11` is `2026-12`, after `2026-12` `2027-01`. */
function nextMonth(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, '0')}`;
}

/** One message, ticket or survey answer of a contact, with what the analysis derived from it. */
export interface VoiceMessage {
  type: (typeof TEXT_EVENT_TYPES)[number];
  occurredAt: string;
  source: string;
  /** `customer` or `agent` for support messages; null otherwise. */
  author: string | null;
  /** A ticket's subject and the message's text, redacted, when the config keeps text; null otherwise. */
  subject: string | null;
  text: string | null;
  /** Null until the analysis has run, and for messages it leaves unscored (not English, no text, an agent's). */
  sentiment: number | null;
  label: SentimentLabel | null;
  language: string | null;
  topic: string | null;
  /** A ticket's status. */
  status: string | null;
  /** A survey answer's kind (`nps`, `csat`, …) and score. */
  survey: { kind: string; score: number | null } | null;
}

/**
 * A contact's latest messages, tickets and survey answers, newest first (default 20).
 * @example
 * await contactMessages(store, 7); // [{ type: 'survey_response', survey: { kind: 'nps', score: 2 }, sentiment: -0.4, … }]
 */
export async function contactMessages(store: Queryable, contactId: number, limit = 20): Promise<VoiceMessage[]> {
  const types = TEXT_EVENT_TYPES.map(() => '?').join(', ');
  const rows = (await store.all(
    `SELECT e.type, e.occurred_at, e.source, e.properties FROM contact_events ce ${store.dialect.orderedJoin} events e ON e.id = ce.event_id
      WHERE ce.contact_id = ? AND ce.type IN (${types}) ORDER BY ce.occurred_at DESC, ce.event_id DESC LIMIT ?`,
    [contactId, ...TEXT_EVENT_TYPES, limit],
  )) as { type: VoiceMessage['type']; occurred_at: string; source: string; properties: string }[];
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
  return rows.map((r) => {
    const p = JSON.parse(r.properties || '{}') as Record<string, unknown>;
    // Before the analysis has run the text is still the connector's, unredacted: it is not shown then.
    const analysed = typeof p.language === 'string';
    const sentiment = typeof p.sentiment === 'number' ? p.sentiment : null;
    const score = p.score === null || p.score === undefined || p.score === '' ? NaN : Number(p.score);
    return {
      type: r.type,
      occurredAt: r.occurred_at,
      source: r.source,
      author: text(p.author),
      subject: analysed ? text(p.subject) : null,
      text: analysed ? (text(p.text) ?? text(p.comment) ?? text(p.description)) : null,
      sentiment,
      label: sentiment === null ? null : sentimentLabel(sentiment),
      language: analysed ? (p.language as string) : null,
      topic: text(p.topic),
      status: r.type === 'support_ticket' ? text(p.status) : null,
      survey:
        r.type === 'survey_response'
          ? {
              kind: String(p.kind ?? p.survey_type ?? 'nps').toLowerCase(),
              score: Number.isFinite(score) ? score : null,
            }
          : null,
    };
  });
}

/** A contact's voice features and latest messages. */
export interface ContactVoice {
  /** The row of `contact_voice`; null when the contact has written or answered nothing (or nothing computed yet). */
  features: {
    npsLast: number | null;
    npsCategory: string | null;
    csatLast: number | null;
    sentiment90d: number | null;
    negativeTickets90d: number | null;
    sentimentTrend: number | null;
    computedAt: string;
  } | null;
  messages: VoiceMessage[];
}

/**
 * One contact's voice, or undefined when there is no such contact (or it was deleted).
 * @example
 * await contactVoice(store, 7); // { features: { npsLast: 2, npsCategory: 'detractor', … }, messages: [ … ] }
 */
export async function contactVoice(store: Queryable, contactId: number, limit = 20): Promise<ContactVoice | undefined> {
  if (!(await store.get('SELECT id FROM contacts WHERE id = ? AND deleted = 0', [contactId]))) return undefined;
  const row = (await store.get(
    `SELECT nps_last, nps_category, csat_last, sentiment_90d, negative_tickets_90d, sentiment_trend, computed_at
       FROM contact_voice WHERE contact_id = ?`,
    [contactId],
  )) as Record<string, unknown> | undefined;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    features: row
      ? {
          npsLast: num(row.nps_last),
          npsCategory: typeof row.nps_category === 'string' ? row.nps_category : null,
          csatLast: num(row.csat_last),
          sentiment90d: num(row.sentiment_90d),
          negativeTickets90d: num(row.negative_tickets_90d),
          sentimentTrend: num(row.sentiment_trend),
          computedAt: String(row.computed_at),
        }
      : null,
    messages: await contactMessages(store, contactId, limit),
  };
}
