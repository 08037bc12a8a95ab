/**
 * The connector contract: what a source and a destination declare and implement. The engine owns batching,
 * checkpointing, ordering, rate limits and retries; a connector declares facts and maps its tool's API.
 */
import type { z } from 'zod';
import type { SourceRecord } from '../model/index.js';
import type { ConnectorContext, RateBudget } from './context.js';

/** Bumped when the contract changes incompatibly; a plugin written for another version is refused at load. */
export const CONTRACT_VERSION = 1;

export type SyncMode = 'full_refresh' | 'incremental';

/** A stream checkpoint: JSON-serialisable. `cursor` is the highest cursor value committed so far. */
export interface StreamState {
  cursor?: string | number | null;
  [key: string]: unknown;
}

/** What a stream's `read` yields: data records, and a checkpoint after each page. */
export type StreamMessage = { type: 'record'; record: SourceRecord } | { type: 'state'; state: StreamState };

/** The outcome of `check`. */
export type CheckResult = { ok: true } | { ok: false; reason: string };

export interface ReadRequest<Config> {
  config: Config;
  mode: SyncMode;
  /** The last committed checkpoint, or undefined for a first (or full) read. */
  state: StreamState | undefined;
}

/**
 * One stream of a source. The facts it declares (key, cursor, modes, overlap) are what discovery, the engine and
 * the conformance kit rely on.
 */
export interface StreamDefinition<Config = unknown> {
  name: string;
  /** What the stream's records are. */
  recordKind: 'contact' | 'event';
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

/** A webhook request as the server received it; `body` is the raw text, so signatures can be checked. */
export interface WebhookRequest {
  method: string;
  /** The full URL, including the query string. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What to answer the tool (an Ack envelope, a 200 to a verification GET). */
export interface WebhookResponse {
  status: number;
  body?: string;
  contentType?: string;
}

export interface WebhookHook<Config> {
  /** Checks the signature, token or organisation; `ok: false` is answered 401 and nothing is stored. */
  verify(request: WebhookRequest, config: Config, now: number): { ok: true } | { ok: false; reason: string };
  /** Turns a verified request into records and events, and the answer the tool expects. */
  parse(request: WebhookRequest, config: Config): { records: SourceRecord[]; response?: WebhookResponse };
}

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

export interface SourceDefinition<Spec extends z.ZodType = z.ZodType> extends ConnectorBase<Spec> {
  type: 'source';
  streams(config: z.infer<Spec>): StreamDefinition<z.infer<Spec>>[];
  webhook?: WebhookHook<z.infer<Spec>>;
}

/** A segment as a destination sees it. */
export interface SegmentRef {
  key: string;
  name: string;
}

/** Who a change is about, in the destination's terms. */
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

export interface MembershipChange {
  op: 'add' | 'remove' | 'update';
  contact: ContactIdentity;
  /** The destination's own record id from an earlier delivery (a CampaignMember Id), for removes. */
  destinationRecordId?: string;
  /** Traits mapped for this destination. */
  traits?: Record<string, unknown>;
  /** A deterministic id of the membership-history row behind this change (one per entry or exit). */
  messageId?: string;
}

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

/** A member as the tool holds it. */
export interface MemberRef {
  email: string | null;
  externalId: string | null;
  destinationRecordId?: string;
}

export type EraseResult = { status: 'erased' } | { status: 'not_found' } | { status: 'failed'; reason: string };

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
}

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
