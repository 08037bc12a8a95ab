/**
 * What customers write and answer in HubSpot: tickets (CRM v3 `tickets`, associated with contacts) as
 * `support_ticket` events whose text is the ticket's `content`, and feedback submissions (the read-only
 * `feedback_submissions` object: NPS, CSAT and CES survey answers) as `survey_response` events with `kind`, `score`
 * and `comment`. Both are incremental on `hs_lastmodifieddate` like the engagement objects (the list endpoint walk
 * first, then search from the cursor, which restarts each query at the last timestamp read so no query pages near the
 * 10,000-result cap), and resumable from any checkpoint. Only the properties named here reach the store, never the raw
 * ones: the text is then dropped or redacted by the text analysis as the config says.
 */
import type { EventRecord, StreamDefinition } from '../../../plugins/index.js';
import type { HubSpotConfig } from '../client.js';
import { associatedEventStream } from './engagements.js';
import { iso, modifiedAt } from './read.js';
import type { HubSpotObject } from './read.js';

/** The ticket properties read. */
export const TICKET_PROPERTIES = [
  'subject',
  'content',
  'hs_pipeline',
  'hs_pipeline_stage',
  'hs_ticket_priority',
  'hs_ticket_category',
  'source_type',
  'createdate',
  'closed_date',
  'hs_lastmodifieddate',
];

/** The feedback submission properties read. */
export const FEEDBACK_PROPERTIES = [
  'hs_survey_type',
  'hs_survey_name',
  'hs_survey_channel',
  'hs_value',
  'hs_response_group',
  'hs_content',
  'hs_submission_timestamp',
  'hs_createdate',
  'hs_lastmodifieddate',
];

/** The stages of HubSpot's default support pipeline (`0`) as canonical ticket statuses. */
const DEFAULT_STAGES: Record<string, string> = { '1': 'open', '2': 'pending', '3': 'pending', '4': 'closed' };

const text = (value: string | null | undefined): string | null => (value && value.trim() !== '' ? value : null);

/**
 * A ticket as one `support_ticket` event per associated contact. The status is the default pipeline's stage as
 * open / pending / closed (`closed` whenever `closed_date` is set); a stage of another pipeline is kept as its id.
 *
 * @example
 * ticketEvents({ id: '7000000001', properties: { subject: 'Charged twice', content: 'I was…' } }, ['1000001']);
 */
export function ticketEvents(object: HubSpotObject, contactIds: string[]): EventRecord[] {
  const p = object.properties;
  const updated = new Date(modifiedAt('tickets', object)).toISOString();
  const pipeline = p.hs_pipeline ?? '0';
  const stage = p.hs_pipeline_stage ?? null;
  const status = p.closed_date ? 'closed' : pipeline === '0' && stage ? (DEFAULT_STAGES[stage] ?? stage) : stage;
  return contactIds.map((contactId) => ({
    kind: 'event',
    source: 'hubspot',
    sourceEventId: `tickets:${object.id}:opened:${contactId}`,
    type: 'support_ticket',
    occurredAt: iso(p.createdate) ?? object.createdAt?.toISOString() ?? updated,
    contact: { externalId: contactId },
    properties: {
      ticket_id: object.id,
      subject: p.subject ?? null,
      text: text(p.content),
      status,
      pipeline,
      stage,
      priority: p.hs_ticket_priority ?? null,
      category: p.hs_ticket_category ?? null,
      channel: p.source_type ?? null,
      closed_at: iso(p.closed_date),
      updated_at: updated,
    },
  }));
}

/**
 * A feedback submission as one `survey_response` event per associated contact: `kind` is the survey type in lower
 * case (`nps`, `csat`, `ces`, `custom`), `score` the numeric answer, `comment` the free-text answer.
 *
 * @example
 * feedbackEvents({ id: '7500000001', properties: { hs_survey_type: 'NPS', hs_value: '9' } }, ['1000001']);
 */
export function feedbackEvents(object: HubSpotObject, contactIds: string[]): EventRecord[] {
  const p = object.properties;
  const updated = new Date(modifiedAt('feedback_submissions', object)).toISOString();
  const score = p.hs_value === null || p.hs_value === undefined || p.hs_value === '' ? NaN : Number(p.hs_value);
  return contactIds.map((contactId) => ({
    kind: 'event',
    source: 'hubspot',
    sourceEventId: `feedback_submissions:${object.id}:answered:${contactId}`,
    type: 'survey_response',
    // when the customer answered; the record's creation follows it (a submission is created by the answer)
    occurredAt: iso(p.hs_submission_timestamp) ?? iso(p.hs_createdate) ?? object.createdAt?.toISOString() ?? updated,
    contact: { externalId: contactId },
    ...(Number.isFinite(score) ? { value: score } : {}),
    properties: {
      submission_id: object.id,
      kind: (p.hs_survey_type ?? 'custom').toLowerCase(),
      score: Number.isFinite(score) ? score : null,
      comment: text(p.hs_content),
      response_group: p.hs_response_group?.toLowerCase() ?? null,
      survey: p.hs_survey_name ?? null,
      channel: p.hs_survey_channel ?? null,
      updated_at: updated,
    },
  }));
}

/** The tickets stream; see the module comment. */
export function ticketsStream(): StreamDefinition<HubSpotConfig> {
  return associatedEventStream('tickets', TICKET_PROPERTIES, ticketEvents);
}

/** The feedback submissions stream; see the module comment. */
export function feedbackSubmissionsStream(): StreamDefinition<HubSpotConfig> {
  return associatedEventStream('feedback_submissions', FEEDBACK_PROPERTIES, feedbackEvents);
}
