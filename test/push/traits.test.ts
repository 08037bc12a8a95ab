/**
 * Mapped traits through the planner and pushSegments: adds carry each member's mapped values (a model output, a
 * contact trait), a changed value produces exactly one update, unchanged values nothing, a dry run counts updates,
 * and the Segment destination (its sandbox) receives them as identify traits.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryDestination, type MemoryDestination } from '../../connectors/memory/index.js';
import {
  destination as segmentDestination,
  sandboxConfig,
  startSandbox,
  type SegmentSandbox,
} from '../../connectors/segment/index.js';
import {
  addSuppression,
  enterSegment,
  findContactByExternalId,
  loadPage,
  parseTraitSource,
  readDeliveredState,
  readRunErrors,
  startRun,
  storeDigest,
  type Store,
} from '../../core/index.js';
import { createContext, type ContactRecord, type Logger, type MembershipChange } from '../../plugins/index.js';
import { pushSegments, type PushSegmentsOptions } from '../../sync/index.js';
import { engines } from '../support/engines.js';
import { storeOn } from '../features/fixture.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const PEOPLE = 6;
const TRAITS = { churn_risk: 'churn.risk', tier: 'model:clusters.segment', country: 'trait:country' };

describe.each(engines)('on $name', (engine) => {
  let store: Store;
  let memory: MemoryDestination;
  const ids = new Map<number, number>();
  const range = (n: number, from = 1) => Array.from({ length: n }, (_, k) => k + from);

  function person(i: number, country: string): ContactRecord {
    return {
      kind: 'contact',
      source: 'crm',
      externalId: `c${i}`,
      traits: {
        email: `person${i}@example.com`,
        country,
        updated_at: `2024-03-0${i}T00:00:00Z`,
        email_consent: 'subscribed',
      },
    };
  }

  function contactId(i: number): number {
    const id = ids.get(i);
    if (id === undefined) throw new Error(`no contact c${i}`);
    return id;
  }

  /** A model output as a model run leaves it in the store. */
  async function score(
    i: number,
    model: string,
    output: string,
    value: number | null,
    label: string | null = null,
  ): Promise<void> {
    await store.run(
      `INSERT INTO model_outputs (contact_id, model, output, value, label, computed_at) VALUES (?, ?, ?, ?, ?, '2024-03-10T00:00:00Z')
       ON CONFLICT (model, output, contact_id) DO UPDATE SET value = excluded.value, label = excluded.label`,
      [contactId(i), model, output, value, label],
    );
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
      traits: TRAITS,
      ...overrides,
    });
  }

  const sent = () => memory.batches.flatMap((b) => b.changes);
  const traitsHeld = (i: number) => memory.segments.get('vip')?.get(`vip/id:c${i}`)?.traits;

  beforeEach(async () => {
    store = await storeOn(engine);
    await loadPage(store, {
      connection: 'crm',
      stream: 'contacts',
      records: range(PEOPLE).map((i) => person(i, i % 2 ? 'FR' : 'DE')),
      checkpoint: null,
    });
    for (const i of range(PEOPLE)) ids.set(i, (await findContactByExternalId(store, 'crm', `c${i}`))!.id);
    // contact 6 has no churn score: its churn_risk is null
    for (const i of range(PEOPLE - 1)) await score(i, 'churn', 'risk', i / 10);
    for (const i of range(PEOPLE)) await score(i, 'clusters', 'segment', i, i <= 3 ? 'loyal' : 'new');
    for (const i of range(PEOPLE)) await enterSegment(store, 'vip', contactId(i), 1);
    memory = createMemoryDestination({ batchSize: 4 });
  });
  afterEach(() => store.close());

  describe('reading a trait source', () => {
    it('reads model outputs, features and traits, and refuses what it cannot read', () => {
      expect(parseTraitSource('churn.risk')).toEqual({ kind: 'model', model: 'churn', output: 'risk' });
      expect(parseTraitSource('model:clv')).toEqual({ kind: 'model', model: 'clv', output: 'value' });
      expect(parseTraitSource('monetary_365d')).toEqual({ kind: 'feature', name: 'monetary_365d' });
      expect(parseTraitSource('feature:big_orders_90d')).toEqual({ kind: 'feature', name: 'big_orders_90d' });
      expect(parseTraitSource('trait:country')).toEqual({ kind: 'trait', name: 'country' });
      expect(() => parseTraitSource('score:x')).toThrow(/unknown prefix "score:"/);
      expect(() => parseTraitSource("trait:x'; DROP TABLE contacts")).toThrow(/not a field name/);
    });
  });

  describe('pushing mapped traits', () => {
    it('sends each member’s mapped values with its add, and keeps them as delivered', async () => {
      const outcome = await push();
      expect(outcome.segments[0]).toMatchObject({ added: PEOPLE, updated: 0 });
      expect(sent().every((c) => c.op === 'add')).toBe(true);
      expect(traitsHeld(2)).toEqual({ churn_risk: 0.2, tier: 'loyal', country: 'DE' });
      expect(traitsHeld(5)).toEqual({ churn_risk: 0.5, tier: 'new', country: 'FR' });
      expect(traitsHeld(6)).toEqual({ churn_risk: null, tier: 'new', country: 'DE' });
      const state = await readDeliveredState(store, 'lists', 'vip');
      expect(state.find((r) => r.contactId === contactId(2))?.mappedTraits).toEqual({
        churn_risk: 0.2,
        country: 'DE',
        tier: 'loyal',
      });
    });

    it('a second push with nothing changed sends nothing', async () => {
      await push();
      const batches = memory.batches.length;
      const again = await push();
      expect(again.segments[0]).toMatchObject({ added: 0, updated: 0, removed: 0, batches: 0 });
      expect(memory.batches).toHaveLength(batches);
    });

    it('a changed model output sends exactly one update, with a new message id, and then nothing', async () => {
      await push();
      const addOf3 = sent().find((c) => c.contact.externalIds[0] === 'c3');
      await score(3, 'churn', 'risk', 0.9);
      await score(4, 'churn', 'risk', 0.4); // unchanged value rewritten by a later model run
      const before = sent().length;
      const outcome = await push();
      const updates = sent().slice(before);
      expect(outcome.segments[0]).toMatchObject({ added: 0, updated: 1, removed: 0 });
      expect(updates).toHaveLength(1);
      expect(updates[0]).toMatchObject({
        op: 'update',
        contact: { externalIds: ['c3'] },
        traits: { churn_risk: 0.9, tier: 'loyal', country: 'FR' },
      });
      expect(updates[0]?.messageId).not.toBe(addOf3?.messageId);
      expect(updates[0]?.destinationRecordId).toBe('vip/id:c3');
      expect(traitsHeld(3)).toMatchObject({ churn_risk: 0.9 });
      expect((await readDeliveredState(store, 'lists', 'vip')).find((r) => r.contactId === contactId(3))).toMatchObject(
        {
          status: 'delivered',
          mappedTraits: { churn_risk: 0.9 },
        },
      );

      const third = await push();
      expect(third.segments[0]).toMatchObject({ added: 0, updated: 0, batches: 0 });
    });

    it('a changed contact trait sends one update; a label model output counts as a value', async () => {
      await push();
      const moved = person(2, 'ES');
      moved.traits.updated_at = '2024-04-01T00:00:00Z';
      await loadPage(store, { connection: 'crm', stream: 'contacts', records: [moved], checkpoint: null });
      await score(5, 'clusters', 'segment', 5, 'loyal');
      const before = sent().length;
      const outcome = await push();
      expect(outcome.segments[0]?.updated).toBe(2);
      expect(
        sent()
          .slice(before)
          .map((c) => [c.contact.externalIds[0], c.traits?.country, c.traits?.tier]),
      ).toEqual([
        ['c2', 'ES', 'loyal'],
        ['c5', 'FR', 'loyal'],
      ]);
    });

    it('a dry run counts the updates a real run would send, shows their traits, and changes nothing', async () => {
      await push();
      await score(1, 'churn', 'risk', 0.75);
      const digest = await storeDigest(store);
      const stateBefore = await readDeliveredState(store, 'lists', 'vip');
      const batches = memory.batches.length;
      const dry = await push({ dryRun: true });
      expect(dry.segments[0]).toMatchObject({ added: 0, updated: 1, removed: 0 });
      expect(dry.segments[0]?.sample).toEqual([
        {
          op: 'update',
          contactId: String(contactId(1)),
          email: 'person1@example.com',
          externalIds: ['c1'],
          traits: { churn_risk: 0.75, country: 'FR', tier: 'loyal' },
        },
      ]);
      expect(memory.batches).toHaveLength(batches);
      expect(await storeDigest(store)).toBe(digest);
      expect(await readDeliveredState(store, 'lists', 'vip')).toEqual(stateBefore);
    });

    it('maps traits onto members delivered before the push mapped any: one update each, once', async () => {
      await push({ traits: {} });
      expect(sent().every((c) => c.traits === undefined)).toBe(true);
      const outcome = await push();
      expect(outcome.segments[0]).toMatchObject({ added: 0, updated: PEOPLE });
      expect(traitsHeld(1)).toEqual({ churn_risk: 0.1, tier: 'loyal', country: 'FR' });
      expect((await push()).segments[0]?.updated).toBe(0);
    });

    it('a rejected update is recorded and not sent again until the values change; a suppressed member gets none', async () => {
      memory = createMemoryDestination({
        batchSize: 4,
        reject: (c: MembershipChange) =>
          c.op === 'update' && c.traits?.churn_risk === 0.99 ? 'churn_risk out of range' : undefined,
      });
      await push();
      await score(2, 'churn', 'risk', 0.99);
      await score(4, 'churn', 'risk', 0.8);
      await addSuppression(store, { email: 'person4@example.com', reason: 'erasure request' });
      const runId = await startRun(store, 'push-vip');
      const outcome = await push({ runId });
      expect(outcome.segments[0]).toMatchObject({ updated: 0, rejected: 1, skippedBy: { suppressed: 1 } });
      expect((await readRunErrors(store, runId)).map((e) => e.reason)).toEqual([
        expect.stringMatching(/^update rejected: churn_risk out of range/),
      ]);
      const row2 = (await readDeliveredState(store, 'lists', 'vip')).find((r) => r.contactId === contactId(2));
      expect(row2).toMatchObject({ status: 'delivered', lastError: expect.stringMatching(/out of range/) });
      const before = sent().length;
      expect((await push()).segments[0]).toMatchObject({ updated: 0, rejected: 0 });
      expect(
        sent()
          .slice(before)
          .map((c) => c.contact.externalIds[0]),
      ).toEqual([]);
    });

    it('a retryable update is retried in the run and recorded once accepted', async () => {
      let failures = 1;
      memory = createMemoryDestination({
        batchSize: 4,
        retry: (c) => (c.op === 'update' && failures-- > 0 ? 'tool busy' : undefined),
      });
      await push();
      await score(6, 'churn', 'risk', 0.3);
      const outcome = await push();
      expect(outcome.segments[0]).toMatchObject({ updated: 1, retried: 1, pending: 0 });
      expect(traitsHeld(6)).toMatchObject({ churn_risk: 0.3 });
      expect((await push()).segments[0]?.updated).toBe(0);
    });
  });

  describe('mapped traits reach Segment', () => {
    let sandbox: SegmentSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ seed: 'push-traits' });
    });
    afterAll(() => sandbox.close());

    it('as identify traits with the add, and an update as an identify alone', async () => {
      const config = segmentDestination.spec.parse(sandboxConfig(sandbox));
      const toSegment = async (overrides: Partial<PushSegmentsOptions> = {}) =>
        await push({
          destination: segmentDestination,
          config,
          connection: 'segment',
          identitiesFrom: 'nowhere',
          ctx: createContext({ connection: 'segment', logger: quiet, retry: { baseDelayMs: 1, maxDelayMs: 2 } }),
          ...overrides,
        });
      expect((await toSegment()).segments[0]).toMatchObject({ added: PEOPLE, updated: 0 });
      const userId = String(contactId(3));
      expect(sandbox.workspace.profile(userId)?.traits).toMatchObject({
        vip: true,
        churn_risk: 0.3,
        tier: 'loyal',
        country: 'FR',
        email: 'person3@example.com',
      });
      const messages = sandbox.workspace.messages.length;

      await score(3, 'churn', 'risk', 0.65);
      expect((await toSegment()).segments[0]).toMatchObject({ added: 0, updated: 1 });
      const newer = sandbox.workspace.messages.slice(messages);
      expect(newer.map((m) => [m.type, m.userId])).toEqual([['identify', userId]]);
      expect(sandbox.workspace.profile(userId)?.traits).toMatchObject({ vip: true, churn_risk: 0.65 });
      expect(sandbox.workspace.profile(userId)?.events.map((e) => e.event)).toEqual(['Segment Entered']);
    });
  });
});
