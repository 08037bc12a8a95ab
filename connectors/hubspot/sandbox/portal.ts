/**
 * The state of one sandbox HubSpot portal: contacts (with archived and merged ones), CRM engagement objects and
 * their contact associations, marketing email events (generated on demand by index, so a million of them cost no
 * memory), Lists v3 lists with members, and contact properties. The HTTP routes in `app.ts` render it in HubSpot's
 * shapes; tests reach in to change it (touch contacts, archive, merge, GDPR-delete).
 */

/** A CRM record as the portal stores it; `properties` are HubSpot's strings. */
export interface StoredObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
}

export interface StoredEngagement extends StoredObject {
  /** Contact ids this object is associated with. */
  contactIds: string[];
}

/** A marketing email event as the Email Events API returns it. */
export interface EmailEvent {
  id: string;
  type: 'SENT' | 'DELIVERED' | 'OPEN' | 'CLICK' | 'BOUNCE' | 'STATUSCHANGE' | 'PROCESSED' | 'DROPPED';
  recipient: string;
  created: number;
  emailCampaignId: number;
  url?: string;
  subscriptions?: { id: number; status: string }[];
  /** On a STATUSCHANGE: the recipient's portal-wide status, whatever `subscriptions` says. */
  portalSubscriptionStatus?: 'SUBSCRIBED' | 'UNSUBSCRIBED';
}

/**
 * A STATUSCHANGE's fields: an opt-out of every email of the portal (`portalSubscriptionStatus: 'UNSUBSCRIBED'`, with
 * an empty `subscriptions` list) or an unsubscribe from one subscription type.
 */
export function statusChange(portalWide: boolean): Pick<EmailEvent, 'subscriptions' | 'portalSubscriptionStatus'> {
  return portalWide
    ? { portalSubscriptionStatus: 'UNSUBSCRIBED', subscriptions: [] }
    : { portalSubscriptionStatus: 'SUBSCRIBED', subscriptions: [{ id: 1, status: 'UNSUBSCRIBED' }] };
}

/**
 * Email events in ascending `created` order, addressable by index. `createdAt(i)` must not decrease with `i`, so a
 * time window maps to an index range by binary search.
 */
export interface EmailEventLog {
  count: number;
  at(index: number): EmailEvent;
  createdAt(index: number): number;
}

/** A HubSpot form (Marketing Forms v3). */
/** The order of records a search's sort ties: unrelated to their ids, as HubSpot promises none. */
export function tieOrder(id: string): number {
  return Math.imul(Number(id) >>> 0, 2654435761) >>> 0;
}

export interface StoredForm {
  id: string;
  name: string;
  /** `hubspot` (default), `captured` (non-HubSpot forms), `flow` (pop-ups) or `blog_comment`. */
  formType?: 'hubspot' | 'captured' | 'flow' | 'blog_comment';
  createdAt: number;
  updatedAt: number;
}

/** One submission of a form, as the form-integrations submissions API returns it. */
export interface FormSubmission {
  conversionId: string;
  submittedAt: number;
  pageUrl: string;
  values: { name: string; value: string; objectTypeId: string }[];
}

/** An occurrence of a behavioural event, as the Events API returns it. */
export interface BehaviouralEvent {
  id: string;
  eventType: string;
  objectType: 'contact';
  objectId: string;
  occurredAt: number;
  properties: Record<string, string>;
}

export const ENGAGEMENT_TYPES = ['meetings', 'calls', 'emails', 'deals'] as const;
export type EngagementType = (typeof ENGAGEMENT_TYPES)[number];
/**
 * CRM objects the portal keeps with their contact associations: the engagements, companies, tickets and feedback
 * submissions (survey responses; read-only in HubSpot's API, so the portal has no route that writes them).
 */
export const ASSOCIATED_TYPES = [...ENGAGEMENT_TYPES, 'companies', 'tickets', 'feedback_submissions'] as const;
export type AssociatedType = (typeof ASSOCIATED_TYPES)[number];
/** The HUBSPOT_DEFINED association type id from each associated object to contacts. */
export const CONTACT_ASSOCIATION_TYPE: Record<AssociatedType, number> = {
  meetings: 200,
  calls: 194,
  emails: 198,
  deals: 3,
  companies: 280,
  tickets: 16,
  feedback_submissions: 1_124,
};

export interface StoredList {
  listId: string;
  name: string;
  processingType: string;
  objectTypeId: string;
  createdAt: number;
  updatedAt: number;
  members: Map<string, number>;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  createdAt: number;
}

/** The default contact properties a portal has. */
export const DEFAULT_CONTACT_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'company',
  'jobtitle',
  'country',
  'city',
  'lifecyclestage',
  'hubspot_owner_id',
  'createdate',
  'lastmodifieddate',
  'hs_object_id',
  'hs_merged_object_ids',
  'hs_email_optout',
] as const;

export class Portal {
  readonly contacts = new Map<string, StoredObject>();
  /** Engagements and companies, each with the contacts it is associated with. */
  readonly engagements: Record<AssociatedType, Map<string, StoredEngagement>> = {
    meetings: new Map(),
    calls: new Map(),
    emails: new Map(),
    deals: new Map(),
    companies: new Map(),
    tickets: new Map(),
    feedback_submissions: new Map(),
  };
  readonly lists = new Map<string, StoredList>();
  readonly properties = new Map<string, PropertyDefinition>();
  readonly forms = new Map<string, StoredForm>();
  /** Submissions per form id, in ascending `submittedAt`. */
  readonly formSubmissions = new Map<string, FormSubmission[]>();
  /** Custom behavioural event occurrences, ascending by time then id; served only when `customEvents` is on. */
  readonly behaviouralEvents: BehaviouralEvent[] = [];
  /** Whether the portal has custom behavioural events (an Enterprise feature); without it the Events API answers 403. */
  customEvents = false;
  emailEvents: EmailEventLog = {
    count: 0,
    at: () => {
      throw new RangeError('no email events');
    },
    createdAt: () => 0,
  };
  /** Ids of contacts a merge folded into another one: they answer as the survivor. */
  readonly mergedInto = new Map<string, string>();
  /** Contacts created or changed through the API (persisted with the sandbox state). */
  readonly written = new Set<string>();
  /** Emails a batch create or upsert refuses as invalid, besides malformed ones (a test's "bad row"). */
  readonly badEmails = new Set<string>();
  private nextId: number;
  private nextListId = 1;
  private sorted: Map<string, StoredObject[]> = new Map();
  /**
   * Contact ids by lower-cased email, each list in the order the contacts entered `contacts` (archived ones kept: a
   * look-up skips them), so a look-up by email answers what a scan of every contact would without one.
   */
  private readonly byEmail = new Map<string, string[]>();
  /** Each contact's email key (none without an email) and its place in `contacts`' order. */
  private readonly indexed = new Map<string, { key: string | undefined; order: number }>();
  private entered = 0;

  constructor(
    readonly now: () => number,
    firstContactId = 1,
  ) {
    this.nextId = firstContactId;
    for (const name of DEFAULT_CONTACT_PROPERTIES) {
      this.properties.set(name, {
        name,
        label: name,
        type: 'string',
        fieldType: 'text',
        groupName: 'contactinformation',
        createdAt: 0,
      });
    }
  }

  /** Adds or replaces a contact; `hs_object_id`, `createdate` and `lastmodifieddate` follow the record. */
  putContact(contact: StoredObject): void {
    const isNew = !this.contacts.has(contact.id);
    this.contacts.set(contact.id, contact);
    this.indexEmail(contact.id, contact.properties.email, isNew);
    syncSystemProperties(contact, 'lastmodifieddate');
    this.nextId = Math.max(this.nextId, Number(contact.id) + 1);
    this.changed('contacts');
  }

  putEngagement(type: AssociatedType, record: StoredEngagement): void {
    this.engagements[type].set(record.id, record);
    syncSystemProperties(record, 'hs_lastmodifieddate');
    this.nextId = Math.max(this.nextId, Number(record.id) + 1);
    this.changed(type);
  }

  /** Records a form submission (kept in ascending time order). */
  submitForm(formId: string, submission: FormSubmission): void {
    const list = this.formSubmissions.get(formId) ?? [];
    list.push(submission);
    list.sort((a, b) => a.submittedAt - b.submittedAt || (a.conversionId < b.conversionId ? -1 : 1));
    this.formSubmissions.set(formId, list);
  }

  /** Records a behavioural event occurrence (kept in ascending time order). */
  addBehaviouralEvent(event: BehaviouralEvent): void {
    this.behaviouralEvents.push(event);
    this.behaviouralEvents.sort((a, b) => a.occurredAt - b.occurredAt || (a.id < b.id ? -1 : 1));
  }

  newId(): string {
    return String(this.nextId++);
  }

  bumpListId(seen: number): void {
    this.nextListId = Math.max(this.nextListId, seen + 1);
  }

  newListId(): string {
    return String(this.nextListId++);
  }

  /** Sets the last-modified time of contacts (tests use it to put many in one window, or one millisecond). */
  touchContacts(ids: Iterable<string>, at: number | ((id: string, i: number) => number)): void {
    let i = 0;
    for (const id of ids) {
      const contact = this.contacts.get(id);
      if (!contact) continue;
      contact.updatedAt = typeof at === 'number' ? at : at(id, i);
      syncSystemProperties(contact, 'lastmodifieddate');
      i++;
    }
    this.changed('contacts');
  }

  /** Archives a contact (it leaves list and search results and shows under `archived=true`). */
  archiveContact(id: string): boolean {
    const contact = this.contacts.get(id);
    if (!contact || contact.archived) return false;
    contact.archived = true;
    contact.archivedAt = this.now();
    contact.updatedAt = contact.archivedAt;
    syncSystemProperties(contact, 'lastmodifieddate');
    for (const list of this.lists.values()) list.members.delete(id);
    this.changed('contacts');
    return true;
  }

  /** Merges `loserId` into `survivorId`: the loser vanishes, the survivor lists it in `hs_merged_object_ids`. */
  mergeContacts(survivorId: string, loserId: string): void {
    const survivor = this.contacts.get(survivorId);
    const loser = this.contacts.get(loserId);
    if (!survivor || !loser) throw new Error(`merge: unknown contact ${survivor ? loserId : survivorId}`);
    const merged = new Set((survivor.properties.hs_merged_object_ids ?? '').split(';').filter(Boolean));
    merged.add(loserId);
    for (const id of (loser.properties.hs_merged_object_ids ?? '').split(';').filter(Boolean)) merged.add(id);
    survivor.properties.hs_merged_object_ids = [...merged].join(';');
    survivor.updatedAt = this.now();
    syncSystemProperties(survivor, 'lastmodifieddate');
    this.contacts.delete(loserId);
    this.unindexEmail(loserId);
    this.mergedInto.set(loserId, survivorId);
    for (const list of this.lists.values()) {
      if (list.members.delete(loserId)) list.members.set(survivorId, this.now());
    }
    this.changed('contacts');
  }

  /** GDPR delete: the contact disappears with no archived trace. */
  gdprDelete(id: string): boolean {
    const existed = this.contacts.delete(id);
    this.unindexEmail(id);
    for (const list of this.lists.values()) list.members.delete(id);
    this.changed('contacts');
    return existed;
  }

  /** Records of a type sorted by id (archived included), for list pages. */
  byId(type: 'contacts' | AssociatedType): StoredObject[] {
    let rows = this.sorted.get(type);
    if (!rows) {
      const source: Map<string, StoredObject> = type === 'contacts' ? this.contacts : this.engagements[type];
      rows = [...source.values()].sort((a, b) => Number(a.id) - Number(b.id));
      this.sorted.set(type, rows);
    }
    return rows;
  }

  /** Records of a type sorted by last-modified time, then id (the order search answers ties in). */
  byModified(type: 'contacts' | AssociatedType): StoredObject[] {
    const key = `modified:${type}`;
    let rows = this.sorted.get(key);
    if (!rows) {
      rows = [...this.byId(type)].sort((a, b) => a.updatedAt - b.updatedAt || tieOrder(a.id) - tieOrder(b.id));
      this.sorted.set(key, rows);
    }
    return rows;
  }

  /** Forgets cached orderings after a change. */
  changed(type: 'contacts' | AssociatedType): void {
    this.sorted.delete(type);
    this.sorted.delete(`modified:${type}`);
  }

  /** The first live (not archived) contact with this email, ignoring case, in the order contacts were added. */
  findContactByEmail(email: string): StoredObject | undefined {
    const wanted = email.trim().toLowerCase();
    for (const id of this.byEmail.get(wanted) ?? []) {
      const contact = this.contacts.get(id);
      if (contact && !contact.archived && contact.properties.email?.toLowerCase() === wanted) return contact;
    }
    return undefined;
  }

  /**
   * Files a contact under its email, at its place in `contacts`: a contact put again keeps its place (a Map keeps an
   * updated key where it was), one deleted and put again goes last.
   */
  private indexEmail(id: string, email: string | null | undefined, isNew: boolean): void {
    const key = email?.toLowerCase();
    const before = this.indexed.get(id);
    if (before && !isNew && before.key === key) return;
    const order = before && !isNew ? before.order : this.entered++;
    this.unindexEmail(id);
    this.indexed.set(id, { key, order });
    if (key === undefined) return;
    const ids = this.byEmail.get(key) ?? [];
    if (ids.length === 0) this.byEmail.set(key, ids);
    let at = ids.length;
    while (at > 0 && (this.indexed.get(ids[at - 1] as string)?.order ?? 0) > order) at--;
    ids.splice(at, 0, id);
  }

  private unindexEmail(id: string): void {
    const before = this.indexed.get(id);
    this.indexed.delete(id);
    if (before?.key === undefined) return;
    const ids = this.byEmail.get(before.key) ?? [];
    const at = ids.indexOf(id);
    if (at >= 0) ids.splice(at, 1);
    if (ids.length === 0) this.byEmail.delete(before.key);
  }

  /** Resolves a contact id through merges; undefined when it is unknown, archived or deleted. */
  liveContact(id: string): StoredObject | undefined {
    const contact = this.contacts.get(this.mergedInto.get(id) ?? id);
    return contact && !contact.archived ? contact : undefined;
  }
}

function syncSystemProperties(record: StoredObject, modifiedName: string): void {
  record.properties.hs_object_id = record.id;
  record.properties.createdate = new Date(record.createdAt).toISOString();
  record.properties[modifiedName] = new Date(record.updatedAt).toISOString();
}
