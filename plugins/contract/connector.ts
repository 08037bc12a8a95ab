/**
 * The connector contract: what a source and a destination declare and implement. The engine owns batching,
 * checkpointing, ordering, rate limits and retries; a connector declares facts and maps its tool's API.
 */
import type { z } from 'zod';
import type { SourceRecord, StreamRecord } from '../model/index.js';
import type { ConnectorContext, RateBudget } from './context.js';

/**
 * Bumped when the contract changes incompatibly; a plugin written for another version is refused at load.
 *
 * @example
 * defineSource({ ... }).contractVersion === CONTRACT_VERSION; // true: defineSource stamps it
 */
export const CONTRACT_VERSION = 1;

/**
 * How a stream is read: everything again, or from the last checkpoint.
 *
 * @example
 * const modes: SyncMode[] = ['full_refresh', 'incremental'];
 */
export type SyncMode = 'full_refresh' | 'incremental';

/**
 * A stream checkpoint: JSON-serialisable. `cursor` is the highest cursor value committed so far.
 *
 * @example
 * yield { type: 'state', state: { cursor: '2026-01-05T10:00:00Z', after: '1042' } };
 */
export interface StreamState {
  cursor?: string | number | null;
  [key: string]: unknown;
}

/**
 * What a stream's `read` yields: data records, and a checkpoint after each page.
 *
 * @example
 * yield { type: 'record', record }; // then, after each page:
 * yield { type: 'state', state: { cursor: lastUpdatedAt } };
 */
export type StreamMessage = { type: 'record'; record: StreamRecord } | { type: 'state'; state: StreamState };

/**
 * The outcome of `check`. `warning`: the connection answered, but something could not be proven (Segment accepts any
 * write key with a 200, so without a Public API token the key is unverified); `segflow check` shows it, not "ok".
 *
 * @example
 * async check(config, ctx) {
 *   const ok = await ctx.call('me', () => client.me());
 *   return ok ? { ok: true } : { ok: false, reason: 'the token cannot read contacts' };
 * }
 */
export type CheckResult = { ok: true; warning?: string } | { ok: false; reason: string };

/**
 * What a stream's `read` is given: the connection's config, the mode and the checkpoint to resume from.
 *
 * @example
 * async *read({ config, mode, state }, ctx) {
 *   const since = mode === 'incremental' ? state?.cursor : undefined;
 * }
 */
export interface ReadRequest<Config> {
  config: Config;
  mode: SyncMode;
  /** The last committed checkpoint, or undefined for a first (or full) read. */
  state: StreamState | undefined;
}

/**
 * One stream of a source. The facts it declares (key, cursor, modes, overlap) are what discovery, the engine and
 * the conformance kit rely on.
 *
 * @example
 * const contacts: StreamDefinition<Config> = {
 *   name: 'contacts', recordKind: 'contact', primaryKey: 'externalId', cursorField: 'traits.updated_at',
 *   modes: ['full_refresh', 'incremental'], overlap: 1000,
 *   async *read(request, ctx) { yield* pages(request, ctx); },
 * };
 */
export interface StreamDefinition<Config = unknown> {
  name: string;
  /** What the stream's records are. */
  recordKind: 'contact' | 'event' | 'account';
  /** Path of the primary key in a record, e.g. `externalId` or `sourceEventId`. */
  primaryKey: string;
  /** Path of the cursor in a record, e.g. `traits.updated_at` or `occurredAt`. */
  cursorField: string;
  modes: readonly SyncMode[];
  /**
   * How far behind the committed cursor an incremental read starts again, in cursor units (milliseconds for
   * timestamp cursors), for APIs whose cursor is not strict. Duplicates it brings are absorbed by idempotent loads.
   */
  overlap?: number;
  /** Records and checkpoints in ascending cursor order; a checkpoint after each page. */
  read(request: ReadRequest<Config>, ctx: ConnectorContext): AsyncIterable<StreamMessage>;
}

/**
 * A webhook request as the server received it; `body` is the raw text, so signatures can be checked.
 *
 * @example
 * const request: WebhookRequest = { method: 'POST', url: 'https://hub.example/webhooks/crm', headers, body: rawText };
 */
export interface WebhookRequest {
  method: string;
  /** The full URL, including the query string. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * What to answer the tool (an Ack envelope, a 200 to a verification GET).
 *
 * @example
 * return { records, response: { status: 200, body: '{"ok":true}', contentType: 'application/json' } };
 */
export interface WebhookResponse {
  status: number;
  body?: string;
  contentType?: string;
}

/**
 * A source's webhook: verifies a request the tool sent and parses it into records, so tool-specific webhook logic lives
 * in the connector.
 *
 * @example
 * webhook: {
 *   verify: (req, config) => (signatureOk(req, config.secret) ? { ok: true } : { ok: false, reason: 'bad signature' }),
 *   parse: (req) => ({ records: JSON.parse(req.body).map(toRecord) }),
 * },
 */
export interface WebhookHook<Config> {
  /** Checks the signature, token or organisation; `ok: false` is answered 401 and nothing is stored. */
  verify(request: WebhookRequest, config: Config, now: number): { ok: true } | { ok: false; reason: string };
  /** Turns a verified request into records and events, and the answer the tool expects. */
  parse(request: WebhookRequest, config: Config): { records: SourceRecord[]; response?: WebhookResponse };
}

/**
 * What sources and destinations share: name, spec, rate budget, error classifier and `check`.
 *
 * @example
 * const base: Omit<ConnectorBase<typeof spec>, 'contractVersion'> = {
 *   name: 'helpdesk', spec, rateBudget: { requests: 50, intervalMs: 60_000 },
 *   check: async () => ({ ok: true }),
 * };
 */
export interface ConnectorBase<Spec extends z.ZodType> {
  /** The connector's name, as YAML refers to it: `hubspot`, `file`, `@acme/segflow-zendesk`. */
  name: string;
  contractVersion: number;
  /** Config schema; mark secret fields with `secret()`. */
  spec: Spec;
  /** The rate budget a connection starts with (YAML may lower or raise it). */
  rateBudget?: RateBudget;
  /** Turns an SDK's thrown error into one of ours (config, transient, rate limited); undefined keeps the default. */
  classifyError?(error: unknown): Error | undefined;
  /** Proves the credentials and permissions work. */
  check(config: z.infer<Spec>, ctx: ConnectorContext): Promise<CheckResult>;
}

/**
 * A source connector, as {@link defineSource} returns it: its streams for a config, and an optional webhook hook.
 *
 * @example
 * const source: SourceDefinition<typeof spec> = defineSource({ name: 'helpdesk', spec, check, streams: () => [s] });
 * source.streams(config).map((s) => s.name); // ['tickets']
 */
export interface SourceDefinition<Spec extends z.ZodType = z.ZodType> extends ConnectorBase<Spec> {
  type: 'source';
  streams(config: z.infer<Spec>): StreamDefinition<z.infer<Spec>>[];
  webhook?: WebhookHook<z.infer<Spec>>;
}

/**
 * A segment as a destination sees it.
 *
 * @example
 * await destination.readMembership({ key: 'vip', name: 'VIP customers' }, config, ctx);
 */
export interface SegmentRef {
  key: string;
  name: string;
}

/**
 * Who a change is about, in the destination's terms.
 *
 * @example
 * const who: ContactIdentity = { contactId: '42', email: 'ada@example.com', externalIds: ['101'] };
 */
export interface ContactIdentity {
  /** segflow's contact id. */
  contactId: string;
  /** Normalised email, when known. */
  email: string | null;
  /** The contact's ids in the destination's tool (several when the tool holds duplicates). */
  externalIds: string[];
  /** Email consent as the store knows it. */
  emailConsent?: string;
}

/**
 * One change of a segment's membership for one contact: add, remove, or update the mapped traits.
 *
 * @example
 * const change: MembershipChange = { op: 'remove', contact: who, destinationRecordId: '00v8d000000000aAAA' };
 */
export interface MembershipChange {
  op: 'add' | 'remove' | 'update';
  contact: ContactIdentity;
  /** The destination's own record id from an earlier delivery (a CampaignMember Id), for removes. */
  destinationRecordId?: string;
  /** Traits mapped for this destination. */
  traits?: Record<string, unknown>;
  /** A deterministic id of this change (one per entry, exit or trait update): a retry of the change repeats it. */
  messageId?: string;
}

/**
 * Changes to one segment, at most the destination's `batchSize`, handed to `write`.
 *
 * @example
 * async write(batch, config, ctx) {
 *   const adds = batch.changes.filter((c) => c.op === 'add');
 *   await ctx.call('lists.add', () => client.addToList(batch.segment.key, adds.map((c) => c.contact.email)));
 *   return batch.changes.map(() => ({ status: 'accepted' }));
 * }
 */
export interface MembershipBatch {
  segment: SegmentRef;
  changes: MembershipChange[];
  /**
   * Set when the push requires email consent: the planner already left out contacts the store knows unsubscribed,
   * and a destination that knows consent more precisely (per audience, live) refuses the adds it finds unsubscribed.
   */
  requireConsent?: 'email';
}

/**
 * Per-row outcome of a write, in the order of the batch's changes.
 * - `accepted`: the tool holds the change (an absent member removed is accepted too).
 * - `rejected`: the tool refused the row (an invalid email, a validation error); it is not sent again.
 * - `retryable`: a passing failure (a lock, a 5xx); the engine tries the row again.
 * - `skipped`: the person is not in the tool and the config does not let the connector create them; nothing was
 *   written. The engine counts it apart from rejected and offers the row again once the contact's identities change
 *   (the person may have appeared in the tool since).
 *
 * @example
 * // someone a CRM does not hold, with creation switched off:
 * const row: RowResult = { status: 'skipped', reason: 'not in Salesforce (set createLeads to create them as Leads)', code: 'NOT_IN_SALESFORCE' };
 */
export type RowResult =
  | { status: 'accepted'; destinationRecordId?: string }
  | { status: 'rejected'; reason: string; code?: string }
  | { status: 'retryable'; reason: string }
  | { status: 'skipped'; reason: string; code?: string };

/**
 * A member as the tool holds it.
 *
 * @example
 * readMembership: async (segment, config, ctx) =>
 *   (await ctx.call('members', () => client.members(segment.key))).map((m) => ({ email: m.email, externalId: m.id })),
 */
export interface MemberRef {
  email: string | null;
  externalId: string | null;
  destinationRecordId?: string;
}

/**
 * What the tool said to the erasure of one contact.
 *
 * @example
 * erase: async (identities) =>
 *   identities.map((who) => (who.externalIds.length ? { status: 'erased' } : { status: 'not_found' })),
 */
export type EraseResult = { status: 'erased' } | { status: 'not_found' } | { status: 'failed'; reason: string };

/**
 * An account (a company) as a destination sees it: segflow's id, and its ids in the destination's tool.
 *
 * @example
 * const firm: AccountIdentity = { accountId: '7', name: 'Acme', domain: 'acme.example', externalIds: ['80000003'] };
 */
export interface AccountIdentity {
  accountId: string;
  name: string | null;
  domain: string | null;
  /** The account's ids in the destination's tool (a HubSpot company id, a Salesforce Account id). */
  externalIds: string[];
}

/**
 * One change of an account segment's membership: the account enters or leaves.
 *
 * @example
 * const change: AccountMembershipChange = { op: 'add', account: firm };
 */
export interface AccountMembershipChange {
  op: 'add' | 'remove';
  account: AccountIdentity;
  /** The id the destination answered for an earlier add, for removes. */
  destinationRecordId?: string;
  /**
   * For destinations that declare `createsAccounts`: one of the account's members (one the tool knows by an id first),
   * for tools that address an account through a person (Segment's `group` call needs a userId).
   */
  member?: ContactIdentity;
  /** For destinations that declare `createsAccounts`: a deterministic id of this entry or exit (a replay repeats it). */
  messageId?: string;
}

/**
 * Changes to one account segment, at most the destination's `batchSize`, handed to `writeAccounts`.
 *
 * @example
 * await destination.writeAccounts?.({ segment: { key: 'quiet', name: 'Accounts going quiet' }, changes }, config, ctx);
 */
export interface AccountMembershipBatch {
  segment: SegmentRef;
  changes: AccountMembershipChange[];
}

/**
 * A destination connector, as {@link defineDestination} returns it: writes membership batches, reads them back, and may
 * erase.
 *
 * @example
 * const destination: DestinationDefinition<typeof spec> = defineDestination({
 *   name: 'lists', spec, batchSize: 100, check, write, readMembership,
 * });
 */
export interface DestinationDefinition<Spec extends z.ZodType = z.ZodType> extends ConnectorBase<Spec> {
  type: 'destination';
  /** The most changes one `write` call takes (the tool's batch cap). */
  batchSize: number;
  /** Writes one batch; idempotent (adding a present member or removing an absent one is success). */
  write(batch: MembershipBatch, config: z.infer<Spec>, ctx: ConnectorContext): Promise<RowResult[]>;
  /** Reads back who the tool holds in a segment. */
  readMembership(segment: SegmentRef, config: z.infer<Spec>, ctx: ConnectorContext): Promise<MemberRef[]>;
  /** The tool's delete or GDPR call. Omit it when the tool cannot erase; the erasure report says so. */
  erase?(identities: ContactIdentity[], config: z.infer<Spec>, ctx: ConnectorContext): Promise<EraseResult[]>;
  /**
   * Writes one batch of account-segment changes (a company list, a field on the Account); idempotent like `write`.
   * Omit it when the tool holds no accounts.
   */
  writeAccounts?(batch: AccountMembershipBatch, config: z.infer<Spec>, ctx: ConnectorContext): Promise<RowResult[]>;
  /**
   * True when the tool takes an account by any id and creates it (Segment's `group`): accounts it holds no record of
   * are offered too, with a member and a message id. Otherwise only accounts with a record in the tool are offered.
   */
  createsAccounts?: boolean;
  /** Reads back which accounts the tool holds in an account segment (`externalId` is the tool's account id). */
  readAccountMembership?(segment: SegmentRef, config: z.infer<Spec>, ctx: ConnectorContext): Promise<MemberRef[]>;
}

/**
 * A source or a destination; `type` tells which.
 *
 * @example
 * const registry = createRegistry([source, destination] satisfies ConnectorDefinition[]);
 */
export type ConnectorDefinition = SourceDefinition | DestinationDefinition;

type SourceInput<Spec extends z.ZodType> = Omit<SourceDefinition<Spec>, 'type' | 'contractVersion'>;
type DestinationInput<Spec extends z.ZodType> = Omit<DestinationDefinition<Spec>, 'type' | 'contractVersion'>;

/**
 * Declares a source connector: one call gives the author type inference from the spec and the runtime its metadata.
 *
 * @example
 * export const source = defineSource({
 *   name: 'file',
 *   spec: z.object({ contacts: z.string() }),
 *   async check(config) { return existsSync(config.contacts) ? { ok: true } : { ok: false, reason: 'no file' }; },
 *   streams: (config) => [contactsStream(config)],
 * });
 */
export function defineSource<Spec extends z.ZodType>(definition: SourceInput<Spec>): SourceDefinition<Spec> {
  assertName(definition.name);
  return { ...definition, type: 'source', contractVersion: CONTRACT_VERSION };
}

/**
 * Declares a destination connector.
 *
 * @example
 * export const destination = defineDestination({
 *   name: 'hubspot', spec, batchSize: 100,
 *   check, write: async (batch, config, ctx) => batch.changes.map(() => ({ status: 'accepted' })),
 *   readMembership: async () => [],
 * });
 */
export function defineDestination<Spec extends z.ZodType>(
  definition: DestinationInput<Spec>,
): DestinationDefinition<Spec> {
  assertName(definition.name);
  if (!Number.isInteger(definition.batchSize) || definition.batchSize < 1) {
    throw new TypeError(`defineDestination(${definition.name}): batchSize must be a positive integer`);
  }
  return { ...definition, type: 'destination', contractVersion: CONTRACT_VERSION };
}

function assertName(name: string): void {
  if (typeof name !== 'string' || !/^(@[a-z0-9-]+\/)?[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new TypeError(`connector name "${String(name)}" must be lower-case letters, digits, - or _`);
  }
}
