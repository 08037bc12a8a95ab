/**
 * How the sandbox answers in Mailchimp's shapes: audiences, static segments and members as the API renders them,
 * and the member records a write creates.
 */
import { createHash } from 'node:crypto';
import {
  mailchimpTime,
  subscriberHash,
  type ListEntry,
  type MailchimpAccount,
  type MemberStatus,
  type StoredMember,
  type StoredSegment,
} from './account.js';

export const STATUSES = new Set(['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional']);

/** A list's members with one status (not archived, without one), kept per member list and status: pages share it (a
 * `since`/`before` slice is a new list each time, and its memo goes with it). */
const byStatusMemo = new WeakMap<ListEntry[], Map<string, ListEntry[]>>();
export function withStatus(entries: ListEntry[], status: string | undefined): ListEntry[] {
  let memo = byStatusMemo.get(entries);
  if (!memo) byStatusMemo.set(entries, (memo = new Map()));
  let members = memo.get(status ?? '');
  if (!members)
    memo.set(status ?? '', (members = entries.filter((m) => (status ? m.status === status : m.status !== 'archived'))));
  return members;
}

export function newMember(
  listId: string,
  email: string,
  status: MemberStatus,
  row: Record<string, unknown>,
): Omit<StoredMember, 'lastChanged'> {
  return {
    listId,
    hash: subscriberHash(email),
    email,
    status,
    mergeFields: (row.merge_fields as Record<string, unknown> | undefined) ?? {},
    createdAt: Date.now(),
    person: null,
    language: typeof row.language === 'string' ? row.language : '',
  };
}

export function tagMember(account: MailchimpAccount, listId: string, hash: string, tags: unknown): void {
  if (!Array.isArray(tags)) return;
  for (const name of tags.map(String)) {
    const segment = account.segmentByName(listId, name) ?? account.createSegment(listId, name);
    segment.members.add(hash);
  }
}

export function renderList(account: MailchimpAccount, id: string, name: string) {
  const members = account.listMembers(id);
  return {
    id,
    web_id: parseInt(id.slice(0, 6), 16),
    name,
    date_created: mailchimpTime(account.world.start),
    list_rating: 4,
    stats: { member_count: members.length },
  };
}

export function renderSegment(s: StoredSegment) {
  return {
    id: s.id,
    name: s.name,
    member_count: s.members.size,
    type: 'static',
    created_at: mailchimpTime(s.createdAt),
    updated_at: mailchimpTime(s.updatedAt),
    options: {},
    list_id: s.listId,
  };
}

export function renderMember(account: MailchimpAccount, m: StoredMember) {
  const tags = account.tagsOf(m.listId, m.hash).map((s) => ({ id: s.id, name: s.name }));
  const seed = parseInt(m.hash.slice(0, 8), 16);
  const address = m.mergeFields.ADDRESS as { country?: string } | undefined;
  return {
    id: m.hash,
    email_address: m.email,
    unique_email_id: createHash('md5').update(`unique:${m.hash}`).digest('hex').slice(0, 10),
    contact_id: createHash('md5').update(`contact:${m.hash}`).digest('hex'),
    full_name: [m.mergeFields.FNAME, m.mergeFields.LNAME].filter(Boolean).join(' '),
    web_id: seed % 100_000_000,
    email_type: 'html',
    status: m.status,
    merge_fields: m.mergeFields,
    stats: { avg_open_rate: (seed % 100) / 100, avg_click_rate: (seed % 37) / 100 },
    ip_signup: '',
    timestamp_signup: mailchimpTime(m.createdAt),
    ip_opt: '',
    timestamp_opt: mailchimpTime(m.createdAt),
    member_rating: 1 + (seed % 5),
    last_changed: mailchimpTime(m.lastChanged),
    language: m.language,
    vip: false,
    email_client: '',
    location: {
      latitude: 0,
      longitude: 0,
      gmtoff: 0,
      dstoff: 0,
      country_code: address?.country ?? '',
      timezone: '',
      region: '',
    },
    source: m.person === null ? 'API - Generic' : 'Import',
    tags_count: tags.length,
    tags,
    list_id: m.listId,
  };
}
