/**
 * Support cases from Salesforce: Cases as `support_ticket` events of their Contact (`Case.ContactId`; a Case with no
 * Contact belongs to nobody we know and is skipped), the Case's `Description` as the opening message; CaseComments as
 * `support_message` events of their Case's Contact, with the author an agent when the comment's creator is an
 * internal user (`User.UserType = 'Standard'`) and the customer otherwise (a portal or community user). Both read
 * incrementally on SystemModstamp like every stream of this source.
 */
import type { ConnectorContext, EventRecord, StreamDefinition } from '../../plugins/index.js';
import { chunks, soqlString, type SalesforceConfig, type SalesforceSession } from './client.js';
import { eventStream, event, queryAll, sfIso, type SfRecord } from './source.js';

const IN_CHUNK = 200;

/** The Case fields read. */
export const CASE_FIELDS = [
  'ContactId',
  'Subject',
  'Description',
  'Status',
  'Priority',
  'Origin',
  'IsClosed',
  'ClosedDate',
  'CreatedDate',
];

/** The CaseComment fields read. */
export const CASE_COMMENT_FIELDS = ['ParentId', 'CommentBody', 'IsPublished', 'CreatedById', 'CreatedDate'];

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);

/** The standard Case Status values as canonical ticket statuses (open / pending / closed). */
const STATUSES: Record<string, string> = { New: 'open', Working: 'pending', Escalated: 'pending', Closed: 'closed' };

/** Canonical status of a Case: closed when Salesforce says so, else its Status mapped, or in lower case. */
function caseStatus(row: SfRecord): string | null {
  if (row.IsClosed === true) return 'closed';
  return typeof row.Status === 'string' ? (STATUSES[row.Status] ?? row.Status.toLowerCase()) : null;
}

async function lookup(
  session: SalesforceSession,
  operation: string,
  select: (ids: string) => string,
  ids: string[],
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const part of chunks([...new Set(ids)], IN_CHUNK))
    rows.push(...(await queryAll(session, operation, select(part.map(soqlString).join(', ')))));
  return rows;
}

/**
 * The cases and case_comments streams.
 *
 * @example
 * const [cases, comments] = caseStreams(config);
 */
export function caseStreams(config: SalesforceConfig): StreamDefinition<SalesforceConfig>[] {
  const cases = eventStream(
    config,
    'cases',
    { object: 'Case', fields: CASE_FIELDS, scanAll: false },
    async (rows): Promise<EventRecord[]> =>
      rows
        .filter((row) => typeof row.ContactId === 'string' && row.ContactId !== '')
        .map((row) =>
          event(row, `case:${row.Id}`, 'support_ticket', sfIso(row.CreatedDate), row.ContactId as string, null, {
            ticket_id: row.Id,
            subject: row.Subject ?? null,
            text: text(row.Description),
            status: caseStatus(row),
            priority: row.Priority ?? null,
            channel: row.Origin ?? null,
            closed_at: sfIso(row.ClosedDate),
          }),
        ),
  );
  const comments = eventStream(
    config,
    'case_comments',
    { object: 'CaseComment', fields: CASE_COMMENT_FIELDS, scanAll: false },
    async (rows, session: SalesforceSession, _ctx: ConnectorContext): Promise<EventRecord[]> => {
      if (rows.length === 0) return [];
      const parents = await lookup(
        session,
        'Case.contacts',
        (ids) => `SELECT Id, ContactId FROM Case WHERE Id IN (${ids}) ORDER BY Id`,
        rows.map((r) => String(r.ParentId)),
      );
      const contactOf = new Map(parents.map((p) => [String(p.Id), typeof p.ContactId === 'string' ? p.ContactId : '']));
      const users = await lookup(
        session,
        'User.types',
        (ids) => `SELECT Id, UserType FROM User WHERE Id IN (${ids}) ORDER BY Id`,
        rows.map((r) => String(r.CreatedById)),
      );
      const internal = new Set(users.filter((u) => u.UserType === 'Standard').map((u) => String(u.Id)));
      const out: EventRecord[] = [];
      for (const row of rows) {
        const contactId = contactOf.get(String(row.ParentId));
        if (!contactId) continue;
        out.push(
          event(row, `case_comment:${row.Id}`, 'support_message', sfIso(row.CreatedDate), contactId, null, {
            ticket_id: row.ParentId,
            text: text(row.CommentBody),
            author: internal.has(String(row.CreatedById)) ? 'agent' : 'customer',
            public: row.IsPublished === true,
          }),
        );
      }
      return out;
    },
  );
  return [cases, comments];
}
