/**
 * The plugin API's types, pinned: what a plugin author writing against `plugins/` can rely on the compiler to infer
 * and to refuse. `expectTypeOf` lines and `@ts-expect-error` lines are checked by `tsc --noEmit` (which includes
 * test/); the runtime assertions check the same calls behave as declared.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  createRegistry,
  defineDestination,
  defineSource,
  secret,
  type CheckResult,
  type ConnectorContext,
  type ConnectorDefinition,
  type ContactRecord,
  type DestinationDefinition,
  type EventRecord,
  type MembershipBatch,
  type MemberRef,
  type ReadRequest,
  type RowResult,
  type SourceDefinition,
  type SourceRecord,
  type StreamRecord,
  type StreamDefinition,
  type StreamMessage,
  type StreamState,
} from '../../plugins/index.js';

const spec = z.object({
  apiKey: secret(z.string()),
  region: z.enum(['eu', 'us']).default('eu'),
  pageSize: z.number().int().optional(),
});
type Spec = typeof spec;
type Config = z.infer<Spec>;

const source = defineSource({
  name: 'helpdesk',
  spec,
  async check(config) {
    expectTypeOf(config).toEqualTypeOf<Config>();
    return config.apiKey ? { ok: true } : { ok: false, reason: 'no key' };
  },
  streams: (config) => [
    {
      name: 'contacts',
      recordKind: 'contact',
      primaryKey: 'externalId',
      cursorField: 'traits.updated_at',
      modes: ['full_refresh', 'incremental'],
      async *read(request, ctx) {
        expectTypeOf(request).toEqualTypeOf<ReadRequest<Config>>();
        expectTypeOf(ctx).toEqualTypeOf<ConnectorContext>();
        const record: ContactRecord = {
          kind: 'contact',
          source: 'helpdesk',
          externalId: `${config.region}-1`,
          traits: { email: 'ada@example.com', updated_at: '2026-01-01T00:00:00Z' },
        };
        yield { type: 'record', record };
        yield { type: 'state', state: { cursor: '2026-01-01T00:00:00Z' } };
      },
    },
  ],
});

const destination = defineDestination({
  name: 'helpdesk-lists',
  spec,
  batchSize: 50,
  check: async () => ({ ok: true }),
  async write(batch, config) {
    expectTypeOf(batch).toEqualTypeOf<MembershipBatch>();
    expectTypeOf(config.region).toEqualTypeOf<'eu' | 'us'>();
    return batch.changes.map((change) =>
      change.contact.email
        ? { status: 'accepted', destinationRecordId: `m-${change.contact.contactId}` }
        : { status: 'rejected', reason: 'no email' },
    );
  },
  readMembership: async () => [{ email: 'ada@example.com', externalId: null }],
});

describe('the plugin API types', () => {
  it('infers a connector config from its zod spec (defaults applied, optional fields optional)', () => {
    expectTypeOf(source).toEqualTypeOf<SourceDefinition<Spec>>();
    expectTypeOf(destination).toEqualTypeOf<DestinationDefinition<Spec>>();
    expectTypeOf<Parameters<typeof source.check>[0]>().toEqualTypeOf<{
      apiKey: string;
      region: 'eu' | 'us';
      pageSize?: number | undefined;
    }>();
    expectTypeOf(source.streams).returns.toEqualTypeOf<StreamDefinition<Config>[]>();
    expect(source.type).toBe('source');
    expect(destination.type).toBe('destination');
  });

  it('types what a stream read yields: records of the canonical model and checkpoints', async () => {
    expectTypeOf<ReturnType<StreamDefinition['read']>>().toEqualTypeOf<AsyncIterable<StreamMessage>>();
    expectTypeOf<Extract<StreamMessage, { type: 'record' }>['record']>().toEqualTypeOf<StreamRecord>();
    expectTypeOf<Extract<StreamMessage, { type: 'state' }>['state']>().toEqualTypeOf<StreamState>();
    expectTypeOf<SourceRecord>().toEqualTypeOf<ContactRecord | EventRecord>();
    expectTypeOf<EventRecord['type']>().toEqualTypeOf<
      | 'email_sent'
      | 'email_open'
      | 'email_click'
      | 'email_bounce'
      | 'email_unsubscribe'
      | 'form_submit'
      | 'page_view'
      | 'meeting'
      | 'call'
      | 'support_ticket'
      | 'support_message'
      | 'survey_response'
      | 'deal_created'
      | 'deal_won'
      | 'purchase'
      | 'signup'
      | 'feature_used'
      | 'custom'
    >();

    const [stream] = source.streams({ apiKey: 'k', region: 'us' });
    const messages: StreamMessage[] = [];
    const ctx = {} as ConnectorContext;
    for await (const message of stream!.read(
      { config: { apiKey: 'k', region: 'us' }, mode: 'full_refresh', state: undefined },
      ctx,
    ))
      messages.push(message);
    expect(messages.map((m) => m.type)).toEqual(['record', 'state']);
  });

  it('types what write, readMembership and check return', async () => {
    expectTypeOf(destination.write).returns.toEqualTypeOf<Promise<RowResult[]>>();
    expectTypeOf(destination.readMembership).returns.toEqualTypeOf<Promise<MemberRef[]>>();
    expectTypeOf(source.check).returns.toEqualTypeOf<Promise<CheckResult>>();
    expectTypeOf<RowResult['status']>().toEqualTypeOf<'accepted' | 'rejected' | 'retryable' | 'skipped'>();

    const rows = await destination.write(
      {
        segment: { key: 'vip', name: 'VIP' },
        changes: [
          { op: 'add', contact: { contactId: '1', email: 'ada@example.com', externalIds: [] } },
          { op: 'add', contact: { contactId: '2', email: null, externalIds: [] } },
        ],
      },
      { apiKey: 'k', region: 'eu' },
      {} as ConnectorContext,
    );
    expect(rows).toEqual([
      { status: 'accepted', destinationRecordId: 'm-1' },
      { status: 'rejected', reason: 'no email' },
    ]);
  });

  it('holds both kinds in a registry, which gives them back typed by kind', () => {
    const registry = createRegistry([source, destination]);
    expectTypeOf(registry.source('helpdesk')).toEqualTypeOf<SourceDefinition>();
    expectTypeOf(registry.destination('helpdesk-lists')).toEqualTypeOf<DestinationDefinition>();
    expectTypeOf<SourceDefinition<Spec>>().toExtend<ConnectorDefinition>();
    expect(registry.names()).toEqual(['helpdesk', 'helpdesk-lists']);
  });

  it('rejects wrong shapes at compile time', () => {
    const wrong = () => {
      defineSource({
        name: 'bad',
        spec,
        check: async () => ({ ok: true }),
        // @ts-expect-error a config field the spec does not have
        streams: (config) => [config.token],
      });
      defineSource({
        name: 'bad',
        spec,
        // @ts-expect-error check must resolve to a CheckResult: a failure needs its reason
        check: async () => ({ ok: false }),
        streams: () => [],
      });
      const event: EventRecord = {
        kind: 'event',
        source: 'helpdesk',
        sourceEventId: '1',
        // @ts-expect-error an event type outside the canonical vocabulary
        type: 'opened',
        occurredAt: '2026-01-01T00:00:00Z',
        contact: { email: 'ada@example.com' },
      };
      // @ts-expect-error a contact record needs the tool's own id
      const contact: ContactRecord = { kind: 'contact', source: 'helpdesk', traits: {} };
      // @ts-expect-error a canonical trait keeps its type: consent is one of the consent states
      const consent: ContactRecord['traits'] = { email_consent: 'yes' };
      // @ts-expect-error a destination declares its batch size
      defineDestination({
        name: 'bad',
        spec,
        check: async () => ({ ok: true }),
        write: async () => [],
        readMembership: async () => [],
      });
      defineDestination({
        name: 'bad',
        spec,
        batchSize: 10,
        check: async () => ({ ok: true }),
        // @ts-expect-error a row outcome names one of the four statuses
        write: async () => [{ status: 'done' }],
        readMembership: async () => [],
      });
      // @ts-expect-error the engine sets the type tag and contract version, not the author
      defineSource({ type: 'source', name: 'bad', spec, check: async () => ({ ok: true }), streams: () => [] });
      return [event, contact, consent];
    };
    expect(typeof wrong).toBe('function');
  });
});
