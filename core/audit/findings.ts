/** The report's sections, in the order they are shown. */
export const AUDIT_SECTIONS = [
  'completeness',
  'identity',
  'freshness',
  'validity',
  'segments',
  'fairness',
  'accounts',
] as const;
export type AuditSection = (typeof AUDIT_SECTIONS)[number];

/** What a finding is about; stable, so that a console or a CI check can react to one kind. */
export type FindingCode =
  | 'field_mostly_empty'
  | 'role_address_held_back'
  | 'shared_email_held_back'
  | 'likely_duplicates'
  | 'stream_never_read'
  | 'stream_stale'
  | 'stream_failures'
  | 'destination_never_delivered'
  | 'changes_waiting'
  | 'delivery_rejected'
  | 'invalid_emails'
  | 'unknown_currency'
  | 'future_timestamps'
  | 'events_without_contact'
  | 'too_many_segments'
  | 'segment_too_small'
  | 'segments_overlap'
  | 'adverse_impact'
  | 'accounts_without_members';

/** One thing the audit wants a person to look at. */
export interface AuditFinding {
  section: AuditSection;
  code: FindingCode;
  /** `warning`: the data or a segment is likely wrong or unfair; `notice`: worth knowing, often expected. */
  severity: 'warning' | 'notice';
  /** One sentence, with the counts and names. */
  message: string;
  /** How many contacts, records, events, segments or changes the finding is about. */
  count: number;
  /** The fields, addresses, streams, destinations, segments or groups it names. */
  names: string[];
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 && share > 0 ? 1 : 0)}%`;
}
