/**
 * Segment drops a message whose messageId it saw in the last 24 hours, so each membership change pushed through the
 * planner must carry its own id, and a retry of a change the same one: a contact that enters, exits and enters again
 * within the day is told so three times; a change re-sent after a lost answer lands once; a contact entering right
 * after another was erased is not mistaken for them (SQLite hands the erased history row's id out again); trait values
 * that come back (A, B, A, B) are each delivered. On both engines, against the sandbox's 24-hour deduplication.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  destination,
  ENTERED,
  EXITED,
  sandboxConfig,
  startSandbox,
  type DestinationConfig,
  type SegmentSandbox,
} from '../../../connectors/segment/index.js';
import {
  enterSegment,
  exitSegment,
  findContactByExternalId,
  loadPage,
  recordDelivery,
  type Store,
} from '../../../core/index.js';
import { eraseContact } from '../../../core/erasure/index.js';
import { createContext, type ContactRecord, type Logger } from '../../../plugins/index.js';
import { pushSegments, type PushSegmentsOptions } from '../../../sync/index.js';
import { engines } from '../../support/engines.js';
import { storeOn } from '../../features/fixture.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const person = (id: string, traits: Record<string, unknown> = {}): ContactRecord => ({
  kind: 'contact',
  source: 'crm',
  externalId: id,
  traits: { email: `${id}@example.com`, ...traits } as ContactRecord['traits'],
});

describe.each(engines)('Segment message ids through the planner, on $name', (engine) => {
  let store: Store;
  let sandbox: SegmentSandbox;
  let config: DestinationConfig;

  beforeEach(async () => {
    store = await storeOn(engine);
    sandbox = await startSandbox({ seed: `message-ids-${engine.name}` });
    config = destination.spec.parse(sandboxConfig(sandbox));
    await loadPage(store, {
      connection: 'crm',
      stream: 'contacts',
      records: [person('ada'), person('bob')],
      checkpoint: null,
    });
  });
  afterEach(async () => {
    await sandbox.close();
    await store.close();
  });

  const idOf = async (who: string) => (await findContactByExternalId(store, 'crm', who))!.id;
  const push = async (overrides: Partial<PushSegmentsOptions> = {}) =>
    (
      await pushSegments({
        store,
        destination,
        config,
        ctx: createContext({ connection: 'segment', logger: quiet, retry: { baseDelayMs: 1, maxDelayMs: 2 } }),
        connection: 'segment',
        segments: [{ key: 'vip', name: 'VIP' }],
        identitiesFrom: 'crm',
        mode: 'mirror',
        maxRetries: 2,
        retryDelayMs: 1,
        ...overrides,
      })
    ).segments[0];
  const tracks = (who: string) => sandbox.workspace.profile(who)?.events.map((e) => e.event) ?? [];
  /** The messageIds of every message the sandbox received, duplicates included. */
  const received = () =>
    sandbox.recorder.requests
      .filter((r) => r.path === '/v1/batch')
      .flatMap((r) => (JSON.parse(r.body) as { batch: { messageId: string }[] }).batch.map((m) => m.messageId));

  it('enter, exit and enter again within a day: three tracks with three ids, all kept', async () => {
    const ada = await idOf('ada');
    await enterSegment(store, 'vip', ada, 1, '2026-03-01T10:00:00.000Z');
    expect(await push()).toMatchObject({ added: 1 });
    await exitSegment(store, 'vip', ada, '2026-03-01T11:00:00.000Z');
    expect(await push()).toMatchObject({ removed: 1 });
    await enterSegment(store, 'vip', ada, 1, '2026-03-01T12:00:00.000Z');
    expect(await push()).toMatchObject({ added: 1 });

    expect(tracks('ada')).toEqual([ENTERED, EXITED, ENTERED]);
    expect(sandbox.workspace.profile('ada')?.traits.vip).toBe(true);
    expect(sandbox.workspace.duplicates).toBe(0);
    expect(new Set(received()).size).toBe(6); // an identify and a track per change
  });

  it('a change re-sent after its answer was lost carries the same ids and lands once', async () => {
    const ada = await idOf('ada');
    await enterSegment(store, 'vip', ada, 1);
    await push();
    const kept = sandbox.workspace.messages.length;
    // Segment took the messages but the answer never came back: the row stays retryable and is offered again.
    await recordDelivery(store, { destination: 'segment', segmentKey: 'vip', contactId: ada, status: 'retryable' });
    expect(await push()).toMatchObject({ added: 1 });

    const ids = received();
    expect(ids).toHaveLength(4);
    expect(ids.slice(2)).toEqual(ids.slice(0, 2));
    expect(sandbox.workspace.duplicates).toBe(2);
    expect(sandbox.workspace.messages).toHaveLength(kept);
    expect(tracks('ada')).toEqual([ENTERED]);
  });

  it('a contact entering after the last one to enter was erased gets their own messages', async () => {
    await enterSegment(store, 'vip', await idOf('ada'), 1, '2026-03-01T10:00:00.000Z');
    await push();
    await eraseContact(store, await idOf('ada'), { reason: 'erasure request' });
    await enterSegment(store, 'vip', await idOf('bob'), 1, '2026-03-01T10:00:00.000Z');
    expect(await push()).toMatchObject({ added: 1 });

    expect(tracks('bob')).toEqual([ENTERED]);
    expect(sandbox.workspace.profile('bob')?.traits.vip).toBe(true);
    expect(sandbox.workspace.duplicates).toBe(0);
  });

  it('trait values that come back (A, B, A, B) are each delivered', async () => {
    const country = (value: string, day: number) =>
      loadPage(store, {
        connection: 'crm',
        stream: 'contacts',
        records: [person('ada', { country: value, updated_at: `2026-03-0${day}T00:00:00Z` })],
        checkpoint: null,
      });
    const traits = { country: 'trait:country' };
    await country('FR', 1);
    await enterSegment(store, 'vip', await idOf('ada'), 1);
    await push({ traits });
    for (const [day, value] of [
      [2, 'DE'],
      [3, 'FR'],
      [4, 'DE'],
    ] as const) {
      await country(value, day);
      expect(await push({ traits })).toMatchObject({ updated: 1 });
      expect(sandbox.workspace.profile('ada')?.traits.country).toBe(value);
    }
    expect(sandbox.workspace.duplicates).toBe(0);
  });
});
