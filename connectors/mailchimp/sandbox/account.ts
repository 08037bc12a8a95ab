/**
 * The Mailchimp account a sandbox serves: the shared world's audiences, members, campaigns and e-commerce orders,
 * rendered lazily, with what was written to it (new members, tags and static segments, permanent deletes) kept on
 * top and persistable to a file.
 */
import {
  createSandboxState,
  subscriberHash,
  type SandboxState,
  type World,
  type WorldEvent,
} from '../../../plugins/sandbox/index.js';

export type MemberStatus = 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived';

/** A member the account holds: either rendered from the world (`person` set) or written through the API. */
export interface StoredMember {
  listId: string;
  hash: string;
  email: string;
  status: MemberStatus;
  mergeFields: Record<string, unknown>;
  createdAt: number;
  lastChanged: number;
  person: number | null;
  language: string;
}

/** A member's place in its list's order, with what filtering needs, without rendering it. */
export interface ListEntry {
  hash: string;
  lastChanged: number;
  createdAt: number;
  status: MemberStatus;
}

export interface StoredSegment {
  id: number;
  listId: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  members: Set<string>;
}

/** One recipient's activity in one campaign, from the world's events. */
export interface CampaignActivity {
  person: number;
  type: WorldEvent['type'];
  at: number;
  url?: string;
  bounceType?: string;
}

export interface WorldOrder {
  person: number;
  id: string;
  at: number;
  value: number;
  currency: string;
  discount: number;
  category: string;
  campaignId: string | null;
}

interface Persisted extends Record<string, unknown> {
  members: StoredMember[];
  forgotten: string[];
  segments: { id: number; listId: string; name: string; createdAt: number; updatedAt: number; members: string[] }[];
  nextSegmentId: number;
}

/** Mailchimp's timestamp format: seconds, `+00:00`. */
export function mailchimpTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

export class MailchimpAccount {
  /** Members written through the API (or changed by it), by list then subscriber hash. */
  private readonly written = new Map<string, Map<string, StoredMember>>();
  /** `listId:hash` of permanently deleted members: never served, never re-added. */
  readonly forgotten = new Set<string>();
  readonly segments = new Map<number, StoredSegment>();
  private nextSegmentId = 10_001;
  private worldByList: Map<string, ListEntry[]> | undefined;
  private ordered = new Map<string, { version: number; members: ListEntry[] }>();
  private version = 0;
  private activity: Map<string, CampaignActivity[]> | undefined;
  private orders: WorldOrder[] | undefined;
  private readonly startedAt = Date.now();

  /** Emails batch subscribe refuses with an ERROR_GENERIC row error, besides malformed ones (a test's "bad row"). */
  readonly badEmails = new Set<string>();
  private readonly state: SandboxState<Persisted>;

  constructor(
    readonly world: World,
    statePath?: string,
  ) {
    this.state = createSandboxState<Persisted>(statePath, {
      autosave: false,
      snapshot: () => ({
        members: [...this.written.values()].flatMap((m) => [...m.values()]),
        forgotten: [...this.forgotten],
        segments: [...this.segments.values()].map((s) => ({ ...s, members: [...s.members] })),
        nextSegmentId: this.nextSegmentId,
      }),
    });
    this.restore(this.state.all());
  }

  /** The account clock: the world's `now`, moving on with real time, in whole seconds as Mailchimp keeps them. */
  now(): number {
    return Math.floor((this.world.now + (Date.now() - this.startedAt)) / 1000) * 1000;
  }

  lists(): { id: string; name: string }[] {
    return this.world.audiences.map((a) => ({ id: a.id, name: a.name }));
  }

  hasList(listId: string): boolean {
    return this.world.audiences.some((a) => a.id === listId);
  }

  /** The member, written or from the world; undefined when absent or permanently deleted. */
  member(listId: string, hash: string): StoredMember | undefined {
    if (this.forgotten.has(`${listId}:${hash}`)) return undefined;
    const own = this.written.get(listId)?.get(hash);
    if (own) return own;
    const index = this.world.findByToolId('mailchimp', hash);
    if (index === undefined) return undefined;
    return this.fromWorld(listId, index);
  }

  /** Members of a list, ascending by (last_changed, hash); archived ones only when asked for by status. */
  listMembers(listId: string): ListEntry[] {
    const cached = this.ordered.get(listId);
    if (cached && cached.version === this.version) return cached.members;
    const base = this.worldIndex().get(listId) ?? [];
    const own = this.written.get(listId) ?? new Map<string, StoredMember>();
    const members: ListEntry[] = [];
    for (const entry of base) {
      if (own.has(entry.hash) || this.forgotten.has(`${listId}:${entry.hash}`)) continue;
      members.push(entry);
    }
    for (const m of own.values())
      members.push({ hash: m.hash, lastChanged: m.lastChanged, createdAt: m.createdAt, status: m.status });
    members.sort((a, b) => a.lastChanged - b.lastChanged || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    this.ordered.set(listId, { version: this.version, members });
    return members;
  }

  /** Writes (creates or updates) a member; bumps last_changed. */
  put(member: Omit<StoredMember, 'lastChanged'>): StoredMember {
    const stored: StoredMember = { ...member, lastChanged: this.now() };
    let list = this.written.get(member.listId);
    if (!list) this.written.set(member.listId, (list = new Map()));
    list.set(member.hash, stored);
    this.version++;
    this.save();
    return stored;
  }

  /**
   * Holds many members at once, each with its own `lastChanged` (a bulk loader for benchmarks: one re-order after, no
   * request per member; they are kept as written members, and persisted with them).
   *
   * @example
   * account.putMany([{ listId, hash, email, status: 'subscribed', mergeFields: {}, createdAt, lastChanged, person: null, language: 'en' }]);
   */
  putMany(members: readonly StoredMember[]): void {
    for (const member of members) {
      let list = this.written.get(member.listId);
      if (!list) this.written.set(member.listId, (list = new Map()));
      list.set(member.hash, member);
    }
    this.version++;
    this.save();
  }

  forget(listId: string, hash: string): void {
    this.forgotten.add(`${listId}:${hash}`);
    this.written.get(listId)?.delete(hash);
    for (const segment of this.segments.values()) if (segment.listId === listId) segment.members.delete(hash);
    this.version++;
    this.save();
  }

  createSegment(listId: string, name: string): StoredSegment {
    const at = this.now();
    const segment: StoredSegment = {
      id: this.nextSegmentId++,
      listId,
      name,
      createdAt: at,
      updatedAt: at,
      members: new Set(),
    };
    this.segments.set(segment.id, segment);
    this.save();
    return segment;
  }

  segmentByName(listId: string, name: string): StoredSegment | undefined {
    for (const s of this.segments.values()) if (s.listId === listId && s.name === name) return s;
    return undefined;
  }

  tagsOf(listId: string, hash: string): StoredSegment[] {
    const out: StoredSegment[] = [];
    for (const s of this.segments.values()) if (s.listId === listId && s.members.has(hash)) out.push(s);
    return out;
  }

  /** Persists written state soon (writes are coalesced), when the sandbox was given a path. */
  save(): void {
    this.state.saveSoon();
  }

  /** Persists written state now, if a save is pending. */
  flush(): void {
    this.state.flush();
  }

  /** Activity of a campaign from the world: sends, opens, clicks, bounces, unsubscribes. */
  campaignActivity(campaignId: string): CampaignActivity[] {
    if (!this.activity) {
      const byCampaign = new Map<string, CampaignActivity[]>();
      for (const c of this.world.campaigns) byCampaign.set(c.mailchimpId, []);
      for (const person of this.world.toolIndex('mailchimp')) {
        for (const e of this.world.events(person)) {
          if (e.tool !== 'mailchimp' || !e.type.startsWith('email_')) continue;
          const campaign = byCampaign.get(String(e.properties.campaign_id));
          if (!campaign) continue;
          const row: CampaignActivity = { person, type: e.type, at: Math.floor(e.at / 1000) * 1000 };
          if (typeof e.properties.url === 'string') row.url = e.properties.url;
          if (typeof e.properties.bounce_type === 'string') row.bounceType = e.properties.bounce_type;
          campaign.push(row);
        }
      }
      this.activity = byCampaign;
    }
    return this.activity.get(campaignId) ?? [];
  }

  /** E-commerce orders of the store (purchases the world records in Mailchimp), ascending by time. */
  storeOrders(): WorldOrder[] {
    if (!this.orders) {
      const orders: WorldOrder[] = [];
      const campaigns = this.world.campaigns;
      for (const person of this.world.toolIndex('mailchimp')) {
        for (const e of this.world.events(person)) {
          if (e.tool !== 'mailchimp' || e.type !== 'purchase' || e.value === null) continue;
          let campaignId: string | null = null;
          for (let k = campaigns.length - 1; k >= 0; k--) {
            const c = campaigns[k];
            if (c && c.sentAt <= e.at) {
              if (e.at - c.sentAt < 3 * 86_400_000) campaignId = c.mailchimpId;
              break;
            }
          }
          orders.push({
            person,
            id: String(e.properties.order_id ?? e.id),
            at: Math.floor(e.at / 1000) * 1000,
            value: e.value,
            currency: String(e.properties.currency ?? 'USD'),
            discount: Number(e.properties.discount ?? 0),
            category: String(e.properties.category ?? ''),
            campaignId,
          });
        }
      }
      orders.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
      this.orders = orders;
    }
    return this.orders;
  }

  /** A world person's membership of a list, rendered as a stored member. */
  fromWorld(listId: string, person: number): StoredMember | undefined {
    const p = this.world.person(person);
    const membership = p.tools.mailchimp?.audiences.find((m) => m.listId === listId);
    if (!membership) return undefined;
    return {
      listId,
      hash: membership.subscriberHash,
      email: membership.email,
      status: membership.status,
      mergeFields: {
        FNAME: p.firstName,
        LNAME: p.lastName,
        PHONE: p.phone,
        COMPANY: p.company,
        ADDRESS: { addr1: '', addr2: '', city: p.city, state: '', zip: '', country: p.countryCode },
      },
      createdAt: membership.createdAt,
      lastChanged: membership.updatedAt,
      person,
      language: LANGUAGE[p.countryCode] ?? 'en',
    };
  }

  private worldIndex() {
    if (!this.worldByList) {
      const byList = new Map<string, ListEntry[]>();
      for (const a of this.world.audiences) byList.set(a.id, []);
      for (const person of this.world.toolIndex('mailchimp')) {
        for (const m of this.world.person(person).tools.mailchimp?.audiences ?? []) {
          byList
            .get(m.listId)
            ?.push({ hash: m.subscriberHash, lastChanged: m.updatedAt, createdAt: m.createdAt, status: m.status });
        }
      }
      this.worldByList = byList;
    }
    return this.worldByList;
  }

  private restore(state: Partial<Persisted>): void {
    for (const m of state.members ?? []) {
      let list = this.written.get(m.listId);
      if (!list) this.written.set(m.listId, (list = new Map()));
      list.set(m.hash, m);
    }
    for (const f of state.forgotten ?? []) this.forgotten.add(f);
    for (const s of state.segments ?? []) this.segments.set(s.id, { ...s, members: new Set(s.members) });
    this.nextSegmentId = state.nextSegmentId ?? this.nextSegmentId;
  }
}

const LANGUAGE: Record<string, string> = { DE: 'de', FR: 'fr', ES: 'es', NL: 'nl', BR: 'pt', JP: 'ja' };

export { subscriberHash };
