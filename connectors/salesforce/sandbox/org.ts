/**
 * The state of one sandbox Salesforce org: sObject rows by type (with the recycle bin: `IsDeleted` rows stay until
 * purged), query cursors for `nextRecordsUrl` paging, and the row-level faults tests switch on.
 * The HTTP routes in `app.ts` render it in Salesforce's shapes; tests reach in to change it (touch, delete, convert).
 */
import { randomBytes } from 'node:crypto';
import { salesforceId } from '../../../plugins/sandbox/index.js';
import { parseSoql, SoqlError, type Condition, type Literal, type SoqlQuery } from './soql.js';

export type FieldType = 'id' | 'reference' | 'string' | 'datetime' | 'date' | 'boolean' | 'number';

const COMMON: Record<string, FieldType> = {
  Id: 'id',
  IsDeleted: 'boolean',
  CreatedDate: 'datetime',
  LastModifiedDate: 'datetime',
  SystemModstamp: 'datetime',
};

/** The fields each sObject type has, with their types. */
export const SCHEMA: Record<string, Record<string, FieldType>> = {
  Account: {
    ...COMMON,
    Name: 'string',
    Website: 'string',
    Industry: 'string',
    NumberOfEmployees: 'number',
    AnnualRevenue: 'number',
    BillingCountry: 'string',
    OwnerId: 'reference',
    Segments__c: 'string',
  },
  Contact: {
    ...COMMON,
    AccountId: 'reference',
    FirstName: 'string',
    LastName: 'string',
    Email: 'string',
    Phone: 'string',
    Title: 'string',
    MailingCity: 'string',
    MailingCountry: 'string',
    LeadSource: 'string',
    OwnerId: 'reference',
    HasOptedOutOfEmail: 'boolean',
    Segments__c: 'string',
    Score__c: 'number',
  },
  Lead: {
    ...COMMON,
    FirstName: 'string',
    LastName: 'string',
    Email: 'string',
    Phone: 'string',
    Company: 'string',
    Title: 'string',
    City: 'string',
    Country: 'string',
    Status: 'string',
    LeadSource: 'string',
    OwnerId: 'reference',
    HasOptedOutOfEmail: 'boolean',
    IsConverted: 'boolean',
    ConvertedContactId: 'reference',
    ConvertedAccountId: 'reference',
    ConvertedDate: 'date',
    Segments__c: 'string',
    Score__c: 'number',
  },
  Campaign: {
    ...COMMON,
    Name: 'string',
    Type: 'string',
    Status: 'string',
    IsActive: 'boolean',
    StartDate: 'date',
    OwnerId: 'reference',
  },
  CampaignMemberStatus: {
    ...COMMON,
    CampaignId: 'reference',
    Label: 'string',
    IsDefault: 'boolean',
    HasResponded: 'boolean',
    SortOrder: 'number',
  },
  CampaignMember: {
    ...COMMON,
    CampaignId: 'reference',
    ContactId: 'reference',
    LeadId: 'reference',
    Status: 'string',
    HasResponded: 'boolean',
    FirstRespondedDate: 'date',
  },
  Task: {
    ...COMMON,
    WhoId: 'reference',
    WhatId: 'reference',
    Subject: 'string',
    Status: 'string',
    TaskSubtype: 'string',
    Type: 'string',
    ActivityDate: 'date',
    CallDurationInSeconds: 'number',
    OwnerId: 'reference',
  },
  Event: {
    ...COMMON,
    WhoId: 'reference',
    WhatId: 'reference',
    Subject: 'string',
    Type: 'string',
    ActivityDate: 'date',
    ActivityDateTime: 'datetime',
    DurationInMinutes: 'number',
    OwnerId: 'reference',
  },
  Opportunity: {
    ...COMMON,
    AccountId: 'reference',
    Name: 'string',
    Amount: 'number',
    StageName: 'string',
    CloseDate: 'date',
    IsClosed: 'boolean',
    IsWon: 'boolean',
    Type: 'string',
    OwnerId: 'reference',
  },
  OpportunityContactRole: {
    ...COMMON,
    OpportunityId: 'reference',
    ContactId: 'reference',
    Role: 'string',
    IsPrimary: 'boolean',
  },
  Case: {
    ...COMMON,
    ContactId: 'reference',
    AccountId: 'reference',
    Subject: 'string',
    Description: 'string',
    Status: 'string',
    Priority: 'string',
    Origin: 'string',
    IsClosed: 'boolean',
    ClosedDate: 'datetime',
    OwnerId: 'reference',
  },
  CaseComment: {
    ...COMMON,
    ParentId: 'reference',
    CommentBody: 'string',
    IsPublished: 'boolean',
    CreatedById: 'reference',
  },
  User: {
    ...COMMON,
    Name: 'string',
    UserType: 'string',
    IsActive: 'boolean',
  },
};

/**
 * Long Text Area fields, which SOQL can select but not filter: a field holding every segment a person is in needs
 * more than a Text field's 255 characters.
 */
export const LONG_TEXT_AREAS: Record<string, readonly string[]> = { Contact: ['Segments__c'], Lead: ['Segments__c'] };

export const KEY_PREFIX: Record<string, string> = {
  Account: '001',
  Contact: '003',
  Lead: '00Q',
  Campaign: '701',
  CampaignMember: '00v',
  CampaignMemberStatus: '01Y',
  Task: '00T',
  Event: '00U',
  Opportunity: '006',
  OpportunityContactRole: '00K',
  Case: '500',
  CaseComment: '00a',
  User: '005',
};

/** A stored row: datetimes and dates as epoch ms, the rest as Salesforce gives them. */
export type Row = Record<string, string | number | boolean | null>;

/** One entry of a per-row error array, as collections answer it. */
export interface RowError {
  statusCode: string;
  message: string;
  fields: string[];
}

export type SaveResult =
  { id?: string; success: true; errors: [] } | { id?: string; success: false; errors: RowError[] };

/** An API error: its HTTP status and Salesforce's `[{message, errorCode}]` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

interface QueryCursor {
  rows: Row[];
  batchSize: number;
  type: string;
  fields: string[];
  touched: number;
}

/** Row-level faults (request-level ones — 503s, expired sessions, the concurrent limit — are the kit's). */
export interface OrgFaults {
  /** The next N rows written (created, updated, deleted) answer UNABLE_TO_LOCK_ROW. */
  lockRows: number;
}

export interface OrgLimits {
  /** Daily API request allocation (DailyApiRequests). */
  dailyRequests: number;
  /** Records per collection call. */
  collectionSize: number;
  /** Default and largest query batch. */
  queryBatchSize: number;
  /** Query cursors kept open at once (oldest dropped: its locator answers INVALID_QUERY_LOCATOR). */
  openCursors: number;
  /**
   * Bytes of request line and headers together a request may carry (about 16,384 at Salesforce, unconfirmed): a
   * GET query's SOQL travels in the URI, and the REST query resource has no POST form.
   */
  requestBytes: number;
}

export const DEFAULT_LIMITS: OrgLimits = {
  dailyRequests: 100_000,
  collectionSize: 200,
  queryBatchSize: 2000,
  openCursors: 50,
  requestBytes: 16_384,
};

export class Org {
  readonly tables = new Map<string, Map<string, Row>>();
  /** Rows purged from the recycle bin: type → id → deletedDate. */
  readonly purged = new Map<string, Map<string, number>>();
  readonly cursors = new Map<string, QueryCursor>();
  readonly faults: OrgFaults = { lockRows: 0 };
  readonly limits: OrgLimits;
  /** Rows the API or a test wrote (`type:id` → [type, id]), which a state file persists. */
  readonly dirty = new Map<string, [string, string]>();
  private counters = new Map<string, number>();
  private clockOffset = 0;

  constructor(
    readonly organizationId: string,
    private readonly baseClock: () => number,
    limits: Partial<OrgLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    for (const type of Object.keys(SCHEMA)) this.tables.set(type, new Map());
  }

  /** The org's clock: every write is stamped with it. Strictly increasing by at least 1 ms per call. */
  now(): number {
    return this.baseClock() + this.clockOffset;
  }

  /** Moves the org's clock forward (tests use it to separate writes). */
  advance(ms: number): void {
    this.clockOffset += ms;
  }

  table(type: string): Map<string, Row> {
    const table = this.tables.get(type);
    if (!table)
      throw new ApiError(
        404,
        'NOT_FOUND',
        `The requested resource does not exist: sObject type '${type}' is not supported.`,
      );
    return table;
  }

  /** A new id for `type`, numbered after the ids the world rendered. */
  nextId(type: string): string {
    const n = (this.counters.get(type) ?? 50_000_000) + 1;
    this.counters.set(type, n);
    return salesforceId(KEY_PREFIX[type] ?? '000', n);
  }

  /** Keeps new ids of `type` above `n` (after loading persisted rows). */
  reserve(type: string, n: number): void {
    this.counters.set(type, Math.max(this.counters.get(type) ?? 50_000_000, n));
  }

  private markDirty(type: string, id: string): void {
    this.dirty.set(`${type}:${id}`, [type, id]);
  }

  /**
   * Indexes on Id, lookup fields and Email (`type` → field → key → rows), as Salesforce keeps them: a query for 200
   * ids or emails costs 200 look-ups, not a scan of a million rows. Built on first use, kept up by put/touch/purge.
   */
  private readonly indexes = new Map<string, Map<string, { kind: FieldType; rows: Map<string, Row[]> }>>();

  private index(type: string, field: string, kind: FieldType): Map<string, Row[]> {
    let byField = this.indexes.get(type);
    if (!byField) this.indexes.set(type, (byField = new Map()));
    let index = byField.get(field);
    if (!index) {
      index = { kind, rows: new Map() };
      byField.set(field, index);
      for (const row of this.table(type).values()) indexAdd(index, row[field], row);
    }
    return index.rows;
  }

  private unindex(type: string, row: Row, fields?: readonly string[]): void {
    for (const [field, index] of this.indexes.get(type) ?? []) {
      if (fields && !fields.includes(field)) continue;
      const list = index.rows.get(indexKey(index, row[field]));
      const at = list ? list.indexOf(row) : -1;
      if (list && at >= 0) list.splice(at, 1);
    }
  }

  private reindex(type: string, row: Row, fields?: readonly string[]): void {
    for (const [field, index] of this.indexes.get(type) ?? [])
      if (!fields || fields.includes(field)) indexAdd(index, row[field], row);
  }

  /** The rows an indexed equality selects (a superset the predicate then filters), or undefined to scan. */
  private candidates(
    type: string,
    condition: Condition,
    field: (name: string) => string,
    schema: Record<string, FieldType>,
  ): Row[] | undefined {
    if (condition.type === 'not') return undefined;
    if (!('field' in condition)) {
      const parts = condition.parts.map((part) => this.candidates(type, part, field, schema));
      if (condition.type === 'and')
        return parts.reduce<Row[] | undefined>(
          (best, rows) => (rows && (!best || rows.length < best.length) ? rows : best),
          undefined,
        );
      return parts.every((rows) => rows !== undefined) ? [...new Set(parts.flat())] : undefined;
    }
    if (condition.type === 'in' ? condition.negated : condition.op !== '=') return undefined;
    const name = field(condition.field);
    const kind = schema[name] as FieldType;
    if (kind !== 'id' && kind !== 'reference' && name !== 'Email') return undefined;
    const index = this.index(type, name, kind);
    const values = condition.type === 'in' ? condition.values : [condition.value];
    const wanted = new Set(values.map((v) => key(kind, coerce(kind, v, name))));
    return [...wanted].flatMap((k) => index.get(k) ?? []);
  }

  /** Live CampaignMembers by `campaign:person` (15-character ids), for DUPLICATE_VALUE. */
  private readonly memberships = new Set<string>();

  /** `Type.Field` names the integration user's profile cannot see (field-level security). */
  private readonly hidden = new Set<string>();

  /**
   * Hides a field from the API user, as field-level security does: queries naming it answer "No such column", and
   * writes of it fail per row with INVALID_FIELD.
   *
   * @example
   * sandbox.org.hideField('Contact', 'Segments__c');
   */
  hideField(type: string, name: string): void {
    this.hidden.add(`${type}.${name}`);
  }

  /** Whether an active duplicate rule blocks creating a Lead that matches an existing one (see {@link blockDuplicateLeads}). */
  private duplicateLeadsBlocked = false;

  /**
   * Activates a blocking duplicate rule on Leads: creating a Lead with the first name, last name and company of a live
   * Lead fails that row with DUPLICATES_DETECTED (the standard rule only alerts; an admin can make it block).
   *
   * @example
   * sandbox.org.blockDuplicateLeads();
   */
  blockDuplicateLeads(): void {
    this.duplicateLeadsBlocked = true;
  }

  /** The schema's name of `key` on `type`, unless it does not exist or is hidden from the API user. */
  private fieldOf(type: string, key: string): string | undefined {
    const name = Object.keys(SCHEMA[type] ?? {}).find((f) => f.toLowerCase() === key.toLowerCase());
    return name === undefined || this.hidden.has(`${type}.${name}`) ? undefined : name;
  }

  /** Stores a row as is (rendering the world, tests). */
  put(type: string, row: Row): Row {
    const replaced = this.table(type).get(String(row.Id));
    if (replaced) this.unindex(type, replaced);
    this.table(type).set(String(row.Id), row);
    this.reindex(type, row);
    if (type === 'CampaignMember' && !row.IsDeleted) this.memberships.add(membershipKey(row));
    return row;
  }

  /** Changes fields and stamps LastModifiedDate/SystemModstamp, as a user's edit would. */
  touch(type: string, id: string, fields: Row = {}, at = this.now()): Row {
    const row = this.table(type).get(id);
    if (!row) throw new Error(`no ${type} ${id}`);
    const changed = Object.keys(fields);
    this.unindex(type, row, changed);
    Object.assign(row, fields, { LastModifiedDate: at, SystemModstamp: at });
    this.reindex(type, row, changed);
    this.markDirty(type, id);
    return row;
  }

  /** Moves a row to the recycle bin (IsDeleted, SystemModstamp bumped); cascades to its CampaignMembers. */
  softDelete(type: string, id: string, at = this.now()): void {
    const row = this.table(type).get(id);
    if (!row || row.IsDeleted) return;
    Object.assign(row, { IsDeleted: true, SystemModstamp: at });
    this.markDirty(type, id);
    if (type === 'CampaignMember') this.memberships.delete(membershipKey(row));
    if (type === 'Contact' || type === 'Lead') {
      const field = type === 'Contact' ? 'ContactId' : 'LeadId';
      for (const member of this.table('CampaignMember').values()) {
        if (member[field] === id && !member.IsDeleted) {
          Object.assign(member, { IsDeleted: true, SystemModstamp: at });
          this.memberships.delete(membershipKey(member));
          this.markDirty('CampaignMember', String(member.Id));
        }
      }
    }
  }

  /** Empties a row from the recycle bin: gone from queryAll, still listed by the deleted endpoint. */
  purge(type: string, id: string): void {
    const row = this.table(type).get(id);
    if (!row) return;
    this.table(type).delete(id);
    this.unindex(type, row);
    let purged = this.purged.get(type);
    if (!purged) this.purged.set(type, (purged = new Map()));
    purged.set(id, Number(row.SystemModstamp));
  }

  // ---- queries ----

  /** Runs a query and opens a cursor over its result; answers the first batch. */
  query(soql: string, includeDeleted: boolean, batchSize: number | undefined): QueryPage {
    let parsed: SoqlQuery;
    try {
      parsed = parseSoql(soql);
    } catch (error) {
      if (error instanceof SoqlError) throw new ApiError(400, 'MALFORMED_QUERY', `${error.message}`);
      throw error;
    }
    const type = Object.keys(SCHEMA).find((t) => t.toLowerCase() === parsed.object.toLowerCase());
    if (!type) {
      throw new ApiError(
        400,
        'INVALID_TYPE',
        `sObject type '${parsed.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.`,
      );
    }
    const schema = SCHEMA[type] as Record<string, FieldType>;
    const field = (name: string): string => {
      const found = this.fieldOf(type, name);
      if (!found)
        throw new ApiError(
          400,
          'INVALID_FIELD',
          `No such column '${name}' on entity '${type}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`,
        );
      return found;
    };
    const fields = parsed.fields.map(field);
    const filtered = (name: string): string => {
      const found = field(name);
      if (LONG_TEXT_AREAS[type]?.includes(found))
        throw new ApiError(400, 'INVALID_FIELD', `field '${found}' can not be filtered in query call`);
      return found;
    };
    const predicate = parsed.where ? compile(parsed.where, filtered, schema) : () => true;
    const order = parsed.orderBy.map((term) => ({ ...term, field: field(term.field) }));
    const candidates =
      (parsed.where && this.candidates(type, parsed.where, filtered, schema)) ?? this.table(type).values();
    let rows: Row[] = [];
    for (const row of candidates) {
      if (!includeDeleted && row.IsDeleted) continue;
      if (predicate(row)) rows.push(row);
    }
    if (order.length > 0) {
      rows.sort((a, b) => {
        for (const term of order) {
          const c = compareValues(a[term.field] ?? null, b[term.field] ?? null, term.nullsLast !== term.descending);
          if (c !== 0) return term.descending ? -c : c;
        }
        return 0;
      });
    }
    if (parsed.limit !== undefined) rows = rows.slice(0, parsed.limit);
    const snapshot = rows.map((row) => project(type, row, fields));
    const size = Math.min(this.limits.queryBatchSize, Math.max(200, batchSize ?? this.limits.queryBatchSize));
    const cursor: QueryCursor = { rows: snapshot, batchSize: size, type, fields, touched: Date.now() };
    return this.page(cursor, 0);
  }

  /** The batch at `locator` (`01g…-2000`). */
  queryMore(locator: string): QueryPage {
    const [id, offsetText] = locator.split('-');
    const cursor = id === undefined ? undefined : this.cursors.get(id);
    const offset = Number(offsetText);
    if (!cursor || !Number.isInteger(offset) || offset < 0 || offset > cursor.rows.length) {
      throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    cursor.touched = Date.now();
    return this.page(cursor, offset, id);
  }

  private page(cursor: QueryCursor, offset: number, existing?: string): QueryPage {
    const records = cursor.rows.slice(offset, offset + cursor.batchSize);
    const end = offset + records.length;
    const done = end >= cursor.rows.length;
    let locator: string | undefined;
    if (!done) {
      const id = existing ?? `01g${randomBytes(8).toString('hex').slice(0, 15)}`;
      if (!existing) {
        this.cursors.set(id, cursor);
        while (this.cursors.size > this.limits.openCursors) {
          const oldest = this.cursors.keys().next().value;
          if (oldest === undefined) break;
          this.cursors.delete(oldest);
        }
      }
      locator = `${id}-${end}`;
    } else if (existing) {
      this.cursors.delete(existing);
    }
    return { totalSize: cursor.rows.length, done, records, locator };
  }

  // ---- collections ----

  create(records: Row[]): SaveResult[] {
    return records.map((input) => this.guard(() => this.createOne(input)));
  }

  update(records: Row[]): SaveResult[] {
    return records.map((input) => this.guard(() => this.updateOne(input)));
  }

  destroy(ids: string[]): SaveResult[] {
    return ids.map((id) => {
      const result = this.guard(() => this.destroyOne(id));
      return { ...result, id };
    });
  }

  private guard(write: () => SaveResult): SaveResult {
    if (this.faults.lockRows > 0) {
      this.faults.lockRows--;
      return {
        success: false,
        errors: [
          {
            statusCode: 'UNABLE_TO_LOCK_ROW',
            message: 'unable to obtain exclusive access to this record or 1 records',
            fields: [],
          },
        ],
      };
    }
    return write();
  }

  private createOne(input: Row): SaveResult {
    const type = String((input.attributes as unknown as { type?: string } | undefined)?.type ?? '');
    const schema = SCHEMA[type];
    if (!schema) return failure('INVALID_TYPE', `sObject type '${type}' is not supported.`);
    const row: Row = {};
    for (const [key, value] of Object.entries(input)) {
      if (key === 'attributes') continue;
      const name = this.fieldOf(type, key);
      if (!name) return failure('INVALID_FIELD', `No such column '${key}' on sobject of type ${type}`, [key]);
      const converted = convertInput(schema[name] as FieldType, value);
      if (converted instanceof Error)
        return failure('INVALID_TYPE_ON_FIELD_IN_RECORD', `${name}: ${converted.message}`, [name]);
      row[name] = converted;
    }
    const invalid = this.validate(type, row);
    if (invalid) return invalid;
    const at = this.now();
    const id = this.nextId(type);
    for (const name of Object.keys(schema)) if (!(name in row)) row[name] = defaultValue(schema[name] as FieldType);
    Object.assign(row, { Id: id, IsDeleted: false, CreatedDate: at, LastModifiedDate: at, SystemModstamp: at });
    if (type === 'CampaignMember') this.applyMemberStatus(row);
    this.put(type, row);
    this.markDirty(type, id);
    if (type === 'Campaign')
      for (const status of defaultMemberStatuses(id, at, () => this.nextId('CampaignMemberStatus'))) {
        this.put('CampaignMemberStatus', status);
        this.markDirty('CampaignMemberStatus', String(status.Id));
      }
    return { id, success: true, errors: [] };
  }

  /**
   * A campaign member's Status must be one of its campaign's CampaignMemberStatus labels; any other value (or none)
   * becomes the campaign's default status, as Salesforce does, and HasResponded follows the status.
   */
  private applyMemberStatus(member: Row, target: Row = member): void {
    const statuses = [...this.table('CampaignMemberStatus').values()].filter(
      (s) => !s.IsDeleted && String(s.CampaignId).slice(0, 15) === String(member.CampaignId).slice(0, 15),
    );
    const chosen = statuses.find((s) => s.Label === member.Status) ?? statuses.find((s) => s.IsDefault) ?? statuses[0];
    target.Status = chosen?.Label ?? 'Sent';
    target.HasResponded = chosen ? chosen.HasResponded === true : false;
  }

  private validate(type: string, row: Row): SaveResult | undefined {
    for (const [name, kind] of Object.entries(SCHEMA[type] ?? {})) {
      if (kind !== 'reference' || row[name] === undefined || row[name] === null) continue;
      const target = String(row[name]);
      if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(target))
        return failure('MALFORMED_ID', `${name}: id value of incorrect type: ${target}`, [name]);
      if (name !== 'OwnerId' && name !== 'WhatId' && !this.findAny(target)) {
        return failure('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [name]);
      }
    }
    if ((type === 'Contact' || type === 'Lead') && !row.LastName)
      return failure('REQUIRED_FIELD_MISSING', 'Required fields are missing: [LastName]', ['LastName']);
    if (type === 'Lead' && !row.Company)
      return failure('REQUIRED_FIELD_MISSING', 'Required fields are missing: [Company]', ['Company']);
    if (
      (type === 'Contact' || type === 'Lead') &&
      typeof row.Email === 'string' &&
      row.Email !== '' &&
      !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(row.Email.trim())
    ) {
      return failure('INVALID_EMAIL_ADDRESS', `Email: invalid email address: ${row.Email}`, ['Email']);
    }
    if (type === 'Lead' && this.duplicateLeadsBlocked && row.Id === undefined) {
      const same = (a: unknown, b: unknown) => String(a ?? '').toLowerCase() === String(b ?? '').toLowerCase();
      for (const lead of this.table('Lead').values())
        if (
          !lead.IsDeleted &&
          same(lead.FirstName, row.FirstName) &&
          same(lead.LastName, row.LastName) &&
          same(lead.Company, row.Company)
        )
          return failure(
            'DUPLICATES_DETECTED',
            "You're creating a duplicate record. We recommend you use an existing record instead.",
          );
    }
    if (type === 'CampaignMemberStatus') {
      if (!row.CampaignId || !row.Label)
        return failure('REQUIRED_FIELD_MISSING', 'Required fields are missing: [CampaignId, Label]', [
          'CampaignId',
          'Label',
        ]);
      const taken = [...this.table('CampaignMemberStatus').values()].some(
        (s) =>
          !s.IsDeleted &&
          s.Id !== row.Id &&
          String(s.CampaignId).slice(0, 15) === String(row.CampaignId).slice(0, 15) &&
          String(s.Label).toLowerCase() === String(row.Label).toLowerCase(),
      );
      if (taken)
        return failure('DUPLICATE_VALUE', `duplicate value found: Label duplicates value on record`, ['Label']);
    }
    if (type === 'CampaignMember') {
      if (!row.CampaignId)
        return failure('REQUIRED_FIELD_MISSING', 'Required fields are missing: [CampaignId]', ['CampaignId']);
      const who = row.ContactId ? 'ContactId' : row.LeadId ? 'LeadId' : undefined;
      if (!who)
        return failure('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ContactId, LeadId]', [
          'ContactId',
          'LeadId',
        ]);
      const person = this.findAny(String(row[who]));
      if (person?.IsDeleted) return failure('ENTITY_IS_DELETED', 'entity is deleted', [who]);
      if (this.memberships.has(membershipKey(row))) return failure('DUPLICATE_VALUE', 'Already a campaign member.', []);
    }
    return undefined;
  }

  private updateOne(input: Row): SaveResult {
    const id = String(input.id ?? input.Id ?? '');
    const found = this.locate(id);
    if (!found)
      return failure(
        validId(id) ? 'NOT_FOUND' : 'MALFORMED_ID',
        validId(id) ? 'The requested resource does not exist' : `Id: invalid id: ${id}`,
      );
    const { type, row } = found;
    if (row.IsDeleted) return { id, ...failure('ENTITY_IS_DELETED', 'entity is deleted') };
    const schema = SCHEMA[type] as Record<string, FieldType>;
    const changes: Row = {};
    for (const [key, value] of Object.entries(input)) {
      if (key === 'attributes' || key === 'id' || key === 'Id') continue;
      const name = this.fieldOf(type, key);
      if (!name)
        return { id, ...failure('INVALID_FIELD', `No such column '${key}' on sobject of type ${type}`, [key]) };
      const converted = convertInput(schema[name] as FieldType, value);
      if (converted instanceof Error)
        return { id, ...failure('INVALID_TYPE_ON_FIELD_IN_RECORD', `${name}: ${converted.message}`, [name]) };
      changes[name] = converted;
    }
    const invalid = this.validate(type, { ...row, ...changes });
    if (invalid && type !== 'CampaignMember') return { id, ...invalid };
    if (type === 'CampaignMember' && 'Status' in changes) this.applyMemberStatus({ ...row, ...changes }, changes);
    this.touch(type, row.Id as string, changes);
    return { id: row.Id as string, success: true, errors: [] };
  }

  private destroyOne(id: string): SaveResult {
    if (!validId(id)) return failure('MALFORMED_ID', `malformed id ${id}`);
    const found = this.locate(id);
    if (!found)
      return failure(
        this.wasPurged(id) ? 'ENTITY_IS_DELETED' : 'NOT_FOUND',
        this.wasPurged(id) ? 'entity is deleted' : 'The requested resource does not exist',
      );
    if (found.row.IsDeleted) return failure('ENTITY_IS_DELETED', 'entity is deleted');
    this.softDelete(found.type, found.row.Id as string);
    return { id: found.row.Id as string, success: true, errors: [] };
  }

  /** The row with this id (15 or 18 characters), whatever its type. */
  locate(id: string): { type: string; row: Row } | undefined {
    if (!validId(id)) return undefined;
    const prefix = id.slice(0, 3);
    const type = Object.keys(KEY_PREFIX).find((t) => KEY_PREFIX[t] === prefix);
    if (!type) return undefined;
    const table = this.table(type);
    const direct = table.get(id);
    if (direct) return { type, row: direct };
    if (id.length === 15) {
      for (const row of table.values()) if (String(row.Id).startsWith(id)) return { type, row };
    }
    return undefined;
  }

  private findAny(id: string): Row | undefined {
    return this.locate(id)?.row;
  }

  private wasPurged(id: string): boolean {
    for (const purged of this.purged.values()) if (purged.has(id)) return true;
    return false;
  }

  // ---- updated / deleted ----

  updated(type: string, start: number, end: number): { ids: string[]; latestDateCovered: string } {
    const ids: string[] = [];
    for (const row of this.table(type).values()) {
      const at = Number(row.SystemModstamp);
      if (!row.IsDeleted && at >= start && at < end) ids.push(String(row.Id));
    }
    return { ids, latestDateCovered: formatDatetime(Math.min(end, this.now())) };
  }

  deleted(
    type: string,
    start: number,
    end: number,
  ): {
    deletedRecords: { id: string; deletedDate: string }[];
    earliestDateAvailable: string;
    latestDateCovered: string;
  } {
    const earliest = this.now() - 30 * 86_400_000;
    if (start < earliest) {
      throw new ApiError(400, 'INVALID_REPLICATION_DATE', 'startDate cannot be more than 30 days ago');
    }
    const deleted: { id: string; at: number }[] = [];
    for (const row of this.table(type).values()) {
      const at = Number(row.SystemModstamp);
      if (row.IsDeleted && at >= start && at < end) deleted.push({ id: String(row.Id), at });
    }
    for (const [id, at] of this.purged.get(type) ?? []) if (at >= start && at < end) deleted.push({ id, at });
    deleted.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
    return {
      deletedRecords: deleted.map((d) => ({ id: d.id, deletedDate: formatDatetime(d.at) })),
      earliestDateAvailable: formatDatetime(earliest),
      latestDateCovered: formatDatetime(Math.min(end, this.now())),
    };
  }
}

export interface QueryPage {
  totalSize: number;
  done: boolean;
  records: Row[];
  locator: string | undefined;
}

function failure(statusCode: string, message: string, fields: string[] = []): SaveResult {
  return { success: false, errors: [{ statusCode, message, fields }] };
}

function validId(id: string): boolean {
  return /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id);
}

function membershipKey(row: Row): string {
  return `${String(row.CampaignId).slice(0, 15)}:${String(row.ContactId ?? row.LeadId).slice(0, 15)}`;
}

function defaultValue(type: FieldType): string | number | boolean | null {
  return type === 'boolean' ? false : null;
}

function convertInput(type: FieldType, value: unknown): string | number | boolean | null | Error {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'datetime':
    case 'date': {
      const ms = typeof value === 'number' ? value : Date.parse(String(value).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      return Number.isNaN(ms) ? new Error(`value not of required type: ${String(value)}`) : ms;
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : new Error(`value not of required type: ${String(value)}`);
    case 'number': {
      const n = Number(value);
      return Number.isFinite(n) ? n : new Error(`value not of required type: ${String(value)}`);
    }
    default:
      return String(value);
  }
}

/** Salesforce's datetime format: `2024-01-31T12:00:00.000+0000`. */
export function formatDatetime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function project(type: string, row: Row, fields: string[]): Row {
  const schema = SCHEMA[type] as Record<string, FieldType>;
  const out: Row = {};
  for (const field of fields) {
    const value = row[field] ?? null;
    const kind = schema[field];
    out[field] =
      value === null
        ? null
        : kind === 'datetime'
          ? formatDatetime(Number(value))
          : kind === 'date'
            ? formatDate(Number(value))
            : value;
  }
  out.__type = type;
  return out;
}

function compareValues(a: unknown, b: unknown, nullsLast: boolean): number {
  if (a === null || b === null) {
    if (a === b) return 0;
    return (a === null) === nullsLast ? 1 : -1;
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const indexKey = (index: { kind: FieldType }, value: unknown) => key(index.kind, (value ?? null) as string | null);

function indexAdd(index: { kind: FieldType; rows: Map<string, Row[]> }, value: unknown, row: Row): void {
  const k = indexKey(index, value);
  const list = index.rows.get(k);
  if (list) list.push(row);
  else index.rows.set(k, [row]);
}

function compile(
  condition: Condition,
  field: (name: string) => string,
  schema: Record<string, FieldType>,
): (row: Row) => boolean {
  switch (condition.type) {
    case 'and': {
      const parts = condition.parts.map((p) => compile(p, field, schema));
      return (row) => parts.every((p) => p(row));
    }
    case 'or': {
      const parts = condition.parts.map((p) => compile(p, field, schema));
      return (row) => parts.some((p) => p(row));
    }
    case 'not': {
      const part = compile(condition.part, field, schema);
      return (row) => !part(row);
    }
    case 'in': {
      const name = field(condition.field);
      const kind = schema[name] as FieldType;
      const values = new Set(condition.values.map((v) => key(kind, coerce(kind, v, name))));
      return (row) => values.has(key(kind, row[name] ?? null)) !== condition.negated;
    }
    case 'compare': {
      const name = field(condition.field);
      const kind = schema[name] as FieldType;
      const value = coerce(kind, condition.value, name);
      const op = condition.op;
      return (row) => {
        const actual = row[name] ?? null;
        if (op === '=' || op === '!=') return (key(kind, actual) === key(kind, value)) === (op === '=');
        if (actual === null || value === null) return false;
        const c =
          kind === 'string'
            ? compareText(String(actual).toLowerCase(), String(value).toLowerCase())
            : compareValues(
                kind === 'id' || kind === 'reference' ? String(actual).slice(0, 15) : actual,
                kind === 'id' || kind === 'reference' ? String(value).slice(0, 15) : value,
                false,
              );
        return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
      };
    }
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The value a comparison sees: ids by their 15-character form, strings case-insensitively. */
function key(kind: FieldType, value: string | number | boolean | null): string {
  if (value === null) return '\u0000null';
  if (kind === 'id' || kind === 'reference') return String(value).slice(0, 15);
  if (kind === 'string') return String(value).toLowerCase();
  return String(value);
}

function coerce(kind: FieldType, literal: Literal, name: string): string | number | boolean | null {
  if (literal === null) return null;
  if (kind === 'datetime' || kind === 'date') {
    if (typeof literal === 'object') return literal.date;
    throw new ApiError(
      400,
      'INVALID_FIELD',
      `value of filter criterion for field '${name}' must be of type ${kind} and should not be enclosed in quotes`,
    );
  }
  if (typeof literal === 'object')
    throw new ApiError(400, 'INVALID_FIELD', `value of filter criterion for field '${name}' must be of type ${kind}`);
  if (kind === 'boolean') {
    if (typeof literal !== 'boolean')
      throw new ApiError(
        400,
        'INVALID_FIELD',
        `value of filter criterion for field '${name}' must be of type boolean and should not be enclosed in quotes`,
      );
    return literal;
  }
  if (kind === 'number') {
    if (typeof literal !== 'number')
      throw new ApiError(
        400,
        'INVALID_FIELD',
        `value of filter criterion for field '${name}' must be of type double and should not be enclosed in quotes`,
      );
    return literal;
  }
  if (typeof literal !== 'string')
    throw new ApiError(
      400,
      'INVALID_FIELD',
      `value of filter criterion for field '${name}' must be of type ${kind} and should be enclosed in quotes`,
    );
  return literal;
}

/**
 * The member statuses Salesforce gives every new campaign: "Sent" (the default) and "Responded" (counted as a response).
 *
 * @example
 * for (const status of defaultMemberStatuses(campaignId, now, () => org.nextId('CampaignMemberStatus'))) org.put('CampaignMemberStatus', status);
 */
export function defaultMemberStatuses(campaignId: string, at: number, id: () => string): Row[] {
  return [
    { Label: 'Sent', IsDefault: true, HasResponded: false, SortOrder: 1 },
    { Label: 'Responded', IsDefault: false, HasResponded: true, SortOrder: 2 },
  ].map((status) => ({
    Id: id(),
    IsDeleted: false,
    CreatedDate: at,
    LastModifiedDate: at,
    SystemModstamp: at,
    CampaignId: campaignId,
    ...status,
  }));
}
