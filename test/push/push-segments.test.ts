import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryDestination, type MemoryDestination } from '../../connectors/memory/index.js';
import {
  addSuppression,
  enterSegment,
  exitSegment,
  findContactByExternalId,
  loadPage,
  readDeliveredState,
  readRunErrors,
  startRun,
  storeDigest,
  type Store,
} from '../../core/index.js';
import {
  TransientError,
  createContext,
  type ContactRecord,
  type DestinationDefinition,
  type Logger,
  type MembershipChange,
} from '../../plugins/index.js';
import { pushSegments, type PushSegmentsOptions } from '../../sync/index.js';
import { engines } from '../support/engines.js';
import { storeOn } from '../features/fixture.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const PEOPLE = 10;

describe.each(engines)('on $name', (engine) => {
  let store: Store;
  let memory: MemoryDestination;
  const ids = new Map<string, number>();

  function person(i: number, traits: Record<string, unknown> = {}): ContactRecord {
    return {
      kind: 'contact',
      source: 'crm',
      externalId: `c${i}`,
      traits: {
        email: `Person${i}@Example.com`,
        updated_at: '2024-03-01T00:00:00Z',
        email_consent: 'subscribed',
        ...traits,
      },
    };
  }

  function contactId(i: number): number {
    const id = ids.get(`c${i}`);
    if (id === undefined) throw new Error(`no contact c${i}`);
    return id;
  }

  async function enter(segment: string, people: number[]): Promise<void> {
    for (const i of people) await enterSegment(store, segment, contactId(i), 1);
  }

  async function push(overrides: Partial<PushSegmentsOptions> = {}) {
    return await pushSegments({
      store,
      destination: memory.destination,
      config: {},
      ctx: createContext({ connection: 'lists', logger: quiet, retry: { baseDelayMs: 1, maxDelayMs: 2 } }),
      connection: 'lists',
      segments: ['vip'],
      identitiesFrom: 'crm',
      mode: 'mirror',
      maxRetries: 2,
      retryDelayMs: 1,
      ...overrides,
    });
  }

  /** Who the destination holds in a segment, by the CRM id it was addressed with. */
  function held(segment: string, destination = memory): string[] {
    return [...(destination.segments.get(segment)?.values() ?? [])].map((m) => m.externalId ?? '').sort();
  }

  function crmIds(people: number[]): string[] {
    return people.map((i) => `c${i}`).sort();
  }

  const range = (n: number, from = 1) => Array.from({ length: n }, (_, k) => k + from);
  const changesSent = (destination = memory) =>
    destination.batches.flatMap((b) => b.changes.map((c) => ({ segment: b.segment.key, ...c })));

  beforeEach(async () => {
    store = await storeOn(engine);
    await loadPage(store, {
      connection: 'crm',
      stream: 'contacts',
      records: range(PEOPLE).map((i) => person(i)),
      checkpoint: null,
    });
    for (const i of range(PEOPLE)) {
      const c = await findContactByExternalId(store, 'crm', `c${i}`);
      if (!c) throw new Error('contact not loaded');
      ids.set(`c${i}`, c.id);
    }
    memory = createMemoryDestination({ batchSize: 4 });
  });

  afterEach(() => store.close());

  describe('pushing segment membership to a destination', () => {
    it('sends every member once, at the batch size, and nothing on a second push of unchanged membership', async () => {
      await enter('vip', range(PEOPLE));
      const first = await push();
      expect(held('vip')).toEqual(crmIds(range(PEOPLE)));
      expect(memory.batches.map((b) => b.changes.length)).toEqual([4, 4, 2]);
      expect(first.segments[0]).toMatchObject({
        segment: 'vip',
        status: 'succeeded',
        added: 10,
        removed: 0,
        batches: 3,
      });
      const messageIds = changesSent().map((c) => c.messageId);
      expect(new Set(messageIds).size).toBe(PEOPLE);

      const second = await push();
      expect(memory.batches).toHaveLength(3);
      expect(second.segments[0]).toMatchObject({ added: 0, removed: 0, batches: 0 });
      expect(second.status).toBe('succeeded');
    });

    it('mirror removes contacts who left, passing the record id the destination gave; upsert leaves them', async () => {
      await enter('vip', range(PEOPLE));
      await push();
      const recordIdOf2 = [...(memory.segments.get('vip')?.values() ?? [])].find(
        (m) => m.externalId === 'c2',
      )?.destinationRecordId;
      expect(recordIdOf2).toBeDefined();
      await exitSegment(store, 'vip', contactId(1));
      await exitSegment(store, 'vip', contactId(2));

      const upsert = await push({ mode: 'upsert' });
      expect(upsert.segments[0]).toMatchObject({ added: 0, removed: 0, batches: 0 });
      expect(held('vip')).toEqual(crmIds(range(PEOPLE)));

      const mirror = await push({ mode: 'mirror' });
      expect(mirror.segments[0]).toMatchObject({ added: 0, removed: 2 });
      expect(held('vip')).toEqual(crmIds(range(PEOPLE - 2, 3)));
      const removes = changesSent().filter((c) => c.op === 'remove');
      expect(removes.map((c) => c.contact.externalIds[0])).toEqual(['c1', 'c2']);
      expect(removes.find((c) => c.contact.externalIds[0] === 'c2')?.destinationRecordId).toBe(recordIdOf2);
      const state = await readDeliveredState(store, 'lists', 'vip');
      expect(state.filter((r) => r.status === 'removed').map((r) => r.contactId)).toEqual([contactId(1), contactId(2)]);

      // the exit and a later re-entry are different history rows, so different messages
      await enterSegment(store, 'vip', contactId(1), 1);
      await push();
      const sentTo1 = changesSent()
        .filter((c) => c.contact.externalIds[0] === 'c1')
        .map((c) => c.messageId);
      expect(new Set(sentTo1).size).toBe(3);
      expect(held('vip')).toContain('c1');
    });

    it('mode all re-sends every member, with the same message ids', async () => {
      await enter('vip', range(PEOPLE));
      await push();
      const before = changesSent()
        .map((c) => c.messageId)
        .sort();
      const repair = await push({ mode: 'all' });
      expect(repair.segments[0]).toMatchObject({ added: PEOPLE, batches: 3 });
      expect(
        changesSent()
          .slice(PEOPLE)
          .map((c) => c.messageId)
          .sort(),
      ).toEqual(before);
    });

    it('records a rejected row with its reason and does not retry it, while the rest of its batch is delivered', async () => {
      memory = createMemoryDestination({
        batchSize: 4,
        reject: (c) => (c.contact.externalIds[0] === 'c3' ? 'email address is on the blocklist' : undefined),
      });
      await enter('vip', range(PEOPLE));
      const runId = await startRun(store, 'push-vip');
      const first = await push({ runId });
      expect(first.segments[0]).toMatchObject({ added: 9, rejected: 1, retried: 0 });
      expect(held('vip')).toEqual(crmIds(range(PEOPLE).filter((i) => i !== 3)));
      const errors = await readRunErrors(store, runId);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.reason).toContain('email address is on the blocklist');
      expect(errors[0]?.recordKey).toBe(`contact:${contactId(3)}`);
      const row = (await readDeliveredState(store, 'lists', 'vip')).find((r) => r.contactId === contactId(3));
      expect(row).toMatchObject({ status: 'rejected', attempts: 1 });
      expect(row?.lastError).toContain('blocklist');

      const batches = memory.batches.length;
      await push();
      expect(memory.batches.length).toBe(batches);
    });

    it('retries a retryable row in the run up to the retry count, then leaves it for no further runs', async () => {
      memory = createMemoryDestination({
        batchSize: 4,
        retry: (c) => (c.contact.externalIds[0] === 'c6' ? 'lock contention' : undefined),
      });
      await enter('vip', range(PEOPLE));
      const outcome = await push({ maxRetries: 2 });
      const attemptsAt6 = changesSent().filter((c) => c.contact.externalIds[0] === 'c6').length;
      expect(attemptsAt6).toBe(3);
      expect(outcome.segments[0]).toMatchObject({ added: 9, retried: 2, pending: 1 });
      expect(outcome.status).toBe('partial');
      expect((await readDeliveredState(store, 'lists', 'vip')).find((r) => r.contactId === contactId(6))).toMatchObject(
        {
          status: 'retryable',
          attempts: 3,
        },
      );

      const again = await push({ maxRetries: 2 });
      expect(changesSent().filter((c) => c.contact.externalIds[0] === 'c6')).toHaveLength(3);
      expect(again.segments[0]?.skippedBy.exhausted).toBe(1);
    });

    it('delivers a flaky row once a retry goes through', async () => {
      let failures = 0;
      memory = createMemoryDestination({
        batchSize: 4,
        retry: (c) => (c.contact.externalIds[0] === 'c6' && failures++ < 2 ? 'try again' : undefined),
      });
      await enter('vip', range(PEOPLE));
      const outcome = await push({ maxRetries: 3 });
      expect(outcome.segments[0]).toMatchObject({ added: 10, retried: 2, pending: 0 });
      expect(held('vip')).toEqual(crmIds(range(PEOPLE)));
      expect((await readDeliveredState(store, 'lists', 'vip')).every((r) => r.status === 'delivered')).toBe(true);
    });

    it('never pushes a suppressed contact, by email or by tool id, not even in repair mode', async () => {
      await enter('vip', range(PEOPLE));
      await addSuppression(store, { email: 'person5@example.com', reason: 'erasure request' });
      await addSuppression(store, { source: 'crm', externalId: 'c7', reason: 'erasure request' });
      const outcome = await push();
      expect(held('vip')).toEqual(crmIds(range(PEOPLE).filter((i) => i !== 5 && i !== 7)));
      expect(outcome.segments[0]).toMatchObject({ added: 8, skipped: 2 });
      await push({ mode: 'all' });
      expect(changesSent().some((c) => ['c5', 'c7'].includes(c.contact.externalIds[0] ?? ''))).toBe(false);
    });

    it('with require_consent email, leaves out a contact unsubscribed in any tool', async () => {
      // the mailing tool says unsubscribed; the CRM's newer record says subscribed
      await loadPage(store, {
        connection: 'mail',
        stream: 'members',
        records: [
          {
            kind: 'contact',
            source: 'mail',
            externalId: 'm4',
            traits: { email: 'person4@example.com', email_consent: 'unsubscribed', updated_at: '2024-01-01T00:00:00Z' },
          },
          {
            kind: 'contact',
            source: 'mail',
            externalId: 'm8',
            traits: { email: 'person8@example.com', email_consent: 'cleaned', updated_at: '2024-01-01T00:00:00Z' },
          },
        ],
        checkpoint: null,
      });
      expect((await findContactByExternalId(store, 'mail', 'm4'))?.id).toBe(contactId(4));
      await enter('vip', range(PEOPLE));
      await enter('all', range(PEOPLE));
      const outcome = await push({ segments: ['vip'], requireConsent: 'email' });
      expect(outcome.segments[0]).toMatchObject({ added: 8, skippedBy: { noConsent: 2 } });
      expect(held('vip')).toEqual(crmIds(range(PEOPLE).filter((i) => i !== 4 && i !== 8)));
      await push({ segments: ['all'] });
      expect(held('all')).toEqual(crmIds(range(PEOPLE)));
    });

    it('dry run reports what a real push would send and changes nothing', async () => {
      await enter('vip', range(PEOPLE));
      await push();
      await exitSegment(store, 'vip', contactId(1));
      await enterSegment(store, 'vip', contactId(1), 1);
      await exitSegment(store, 'vip', contactId(2));
      const digest = await storeDigest(store);
      const state = await readDeliveredState(store, 'lists', 'vip');
      const batches = memory.batches.length;

      const dry = await push({ dryRun: true });
      expect(dry.dryRun).toBe(true);
      expect(dry.segments[0]).toMatchObject({ added: 0, removed: 1 });
      expect(dry.segments[0]?.sample).toEqual([
        { op: 'remove', contactId: String(contactId(2)), email: 'person2@example.com', externalIds: ['c2'] },
      ]);
      expect(await storeDigest(store)).toBe(digest);
      expect(await readDeliveredState(store, 'lists', 'vip')).toEqual(state);
      expect(memory.batches).toHaveLength(batches);

      const real = await push();
      expect(real.segments[0]).toMatchObject({ added: dry.segments[0]?.added, removed: dry.segments[0]?.removed });
    });

    it('a destination that is down for one segment fails that segment only; a later run delivers it', async () => {
      await enter('vip', range(PEOPLE));
      await enter('churn', [1, 2, 3]);
      let down = true;
      const flaky: DestinationDefinition = {
        ...memory.destination,
        write: (batch, config, ctx) =>
          batch.segment.key === 'churn' && down
            ? ctx.call('lists.members', () => Promise.reject(new TransientError('503 service unavailable')))
            : memory.destination.write(batch, config as never, ctx),
      };
      const other = createMemoryDestination({ name: 'other' });
      await enter('vip', range(PEOPLE));

      const outcome = await push({ destination: flaky, segments: ['churn', 'vip'] });
      const otherOutcome = await push({
        destination: other.destination,
        connection: 'other',
        segments: ['churn', 'vip'],
      });
      expect(outcome.status).toBe('partial');
      expect(outcome.segments.map((s) => [s.segment, s.status])).toEqual([
        ['churn', 'failed'],
        ['vip', 'succeeded'],
      ]);
      expect(outcome.segments[0]?.error).toContain('503');
      expect(held('vip')).toEqual(crmIds(range(PEOPLE)));
      expect(held('churn')).toEqual([]);
      expect((await readDeliveredState(store, 'lists', 'churn')).map((r) => [r.status, r.attempts])).toEqual([
        ['retryable', 1],
        ['retryable', 1],
        ['retryable', 1],
      ]);
      expect(otherOutcome.status).toBe('succeeded');
      expect(held('churn', other)).toEqual(crmIds([1, 2, 3]));

      down = false;
      const later = await push({ destination: flaky, segments: ['churn', 'vip'] });
      expect(later.status).toBe('succeeded');
      expect(later.segments.map((s) => [s.segment, s.added])).toEqual([
        ['churn', 3],
        ['vip', 0],
      ]);
      expect(held('churn')).toEqual(crmIds([1, 2, 3]));
    });

    it('a member the tool does not hold is recorded and counted as skipped, not rejected, not offered again while nothing changed, and added once they are in the tool', async () => {
      // a tool that holds only people with a CRM id, as HubSpot without createMissingContacts
      let offered = 0;
      const crmOnly: DestinationDefinition = {
        ...memory.destination,
        async write(batch, config, ctx) {
          offered += batch.changes.length;
          const known = batch.changes.filter((c) => c.contact.externalIds.length > 0);
          const results = await memory.destination.write({ ...batch, changes: known }, config as never, ctx);
          return batch.changes.map((c) =>
            c.contact.externalIds.length > 0
              ? results.shift()!
              : { status: 'skipped', reason: 'not in the CRM', code: 'NOT_IN_CRM' },
          );
        },
      };
      await loadPage(store, {
        connection: 'shop',
        stream: 'customers',
        records: [
          {
            kind: 'contact',
            source: 'shop',
            externalId: 's1',
            traits: { email: 'shopper@example.com', updated_at: '2024-03-01T00:00:00Z' },
          },
        ],
        checkpoint: null,
      });
      const shopper = await findContactByExternalId(store, 'shop', 's1');
      if (!shopper) throw new Error('not loaded');
      await enterSegment(store, 'vip', shopper.id, 1);
      await enter('vip', [1, 2]);
      const runId = await startRun(store, 'push-vip');

      const first = await push({ destination: crmOnly, runId });
      expect(first.segments[0]).toMatchObject({
        added: 2,
        rejected: 0,
        skipped: 1,
        skippedBy: { notInDestination: 1 },
      });
      expect(first.status).toBe('succeeded');
      const row = (await readDeliveredState(store, 'lists', 'vip')).find((r) => r.contactId === shopper.id);
      expect(row).toMatchObject({ status: 'skipped', deliveredAt: null });
      expect(row?.lastError).toContain('not in the CRM');
      expect(await readRunErrors(store, runId)).toEqual([]);

      // nothing changed: nothing offered, still counted
      offered = 0;
      const second = await push({ destination: crmOnly });
      expect(offered).toBe(0);
      expect(second.segments[0]).toMatchObject({
        added: 0,
        removed: 0,
        batches: 0,
        skippedBy: { notInDestination: 1 },
      });
      expect((await push({ destination: crmOnly, dryRun: true })).segments[0]).toMatchObject({
        added: 0,
        skippedBy: { notInDestination: 1 },
      });

      // a repair re-sends every member, the skipped one too
      offered = 0;
      const repair = await push({ destination: crmOnly, mode: 'all' });
      expect(offered).toBe(3);
      expect(repair.segments[0]).toMatchObject({ added: 2, skippedBy: { notInDestination: 1 } });

      // the person appears in the CRM: their identities changed, so they are offered again and added
      await loadPage(store, {
        connection: 'crm',
        stream: 'contacts',
        records: [
          {
            kind: 'contact',
            source: 'crm',
            externalId: 'c99',
            traits: { email: 'shopper@example.com', updated_at: '2024-04-01T00:00:00Z' },
          },
        ],
        checkpoint: null,
      });
      expect((await findContactByExternalId(store, 'crm', 'c99'))?.id).toBe(shopper.id);
      offered = 0;
      const later = await push({ destination: crmOnly });
      expect(offered).toBe(1);
      expect(later.segments[0]).toMatchObject({ added: 1, skipped: 0 });
      expect(held('vip')).toEqual(['c1', 'c2', 'c99']);
      expect((await readDeliveredState(store, 'lists', 'vip')).find((r) => r.contactId === shopper.id)).toMatchObject({
        status: 'delivered',
        identityDigest: null,
      });
    });

    it('a contact with neither an email nor an id in the chosen source is skipped, not sent', async () => {
      await loadPage(store, {
        connection: 'shop',
        stream: 'contacts',
        records: [{ kind: 'contact', source: 'shop', externalId: 's1', traits: { email: 'not-an-email' } }],
        checkpoint: null,
      });
      const shopOnly = await findContactByExternalId(store, 'shop', 's1');
      if (!shopOnly) throw new Error('not loaded');
      await enterSegment(store, 'vip', shopOnly.id, 1);
      await enter('vip', [1]);
      const outcome = await push();
      expect(outcome.segments[0]).toMatchObject({ added: 1, skippedBy: { noIdentity: 1 } });
      expect(changesSent().map((c: MembershipChange) => c.contact.contactId)).toEqual([String(contactId(1))]);
    });
  });
});
