/**
 * The Segment destination against its sandbox: replayed deliveries deduplicated by Segment while the raw requests
 * show both, genuine re-entries delivered as new messages, oversized events rejected alone, throttling and server
 * errors handled by the connection (not the SDK), requests under 500 KB, and no erase.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  destination,
  ENTERED,
  EXITED,
  readProfilesMembership,
  sandboxConfig,
  startSandbox,
  type DestinationConfig,
  type SegmentSandbox,
} from '../../../connectors/segment/index.js';
import { ConfigError, type MembershipChange, type SegmentRef } from '../../../plugins/index.js';
import { contextOf, openSandbox } from './fixture.js';

let sandbox: SegmentSandbox;
let config: DestinationConfig;

beforeAll(async () => ({ sandbox, config } = await openSandbox('segment-destination')));
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.recorder.clear();
  sandbox.faults.clear();
});

const context = () => contextOf(4, { withBudget: true, maxDelayMs: 50 });

const vip: SegmentRef = { key: 'vip', name: 'VIP customers' };

const change = (
  op: 'add' | 'remove',
  id: string,
  history: string,
  extra: Partial<MembershipChange> = {},
): MembershipChange => ({
  op,
  contact: { contactId: id, email: `${id}@example.com`, externalIds: [] },
  messageId: history,
  ...extra,
});

const tracks = (userId: string) => sandbox.workspace.profile(userId)?.events.map((e) => e.event) ?? [];
const batchRequests = () => sandbox.recorder.requests.filter((r) => r.path === '/v1/batch');

describe('Segment destination: what it sends', () => {
  it('sends an identify with the membership, email and mapped traits, and a Segment Entered track with key and name', async () => {
    const rows = await destination.write(
      { segment: vip, changes: [change('add', 'shape-1', 'h-shape-1', { traits: { churn_risk: 0.82, rfm: '555' } })] },
      config,
      context(),
    );
    expect(rows).toEqual([{ status: 'accepted' }]);
    const profile = sandbox.workspace.profile('shape-1');
    expect(profile?.traits).toEqual({ vip: true, email: 'shape-1@example.com', churn_risk: 0.82, rfm: '555' });
    expect(profile?.events.map((e) => [e.event, e.properties])).toEqual([
      [ENTERED, { segment_key: 'vip', segment_name: 'VIP customers' }],
    ]);
    const sent = JSON.parse(batchRequests()[0]?.body ?? '{}') as { batch: { messageId: string }[] };
    expect(new Set(sent.batch.map((m) => m.messageId)).size).toBe(2);
  });

  it('with sendTrack false, sends the identify alone: the membership as a trait, entering and leaving', async () => {
    const identifyOnly = { ...config, sendTrack: false };
    await destination.write(
      { segment: vip, changes: [change('add', 'trait-only', 'h-trait-only-in')] },
      identifyOnly,
      context(),
    );
    expect(sandbox.workspace.profile('trait-only')?.traits).toEqual({ vip: true, email: 'trait-only@example.com' });
    const rows = await destination.write(
      { segment: vip, changes: [change('remove', 'trait-only', 'h-trait-only-out')] },
      identifyOnly,
      context(),
    );
    expect(rows).toEqual([{ status: 'accepted' }]);
    expect(sandbox.workspace.profile('trait-only')?.traits).toMatchObject({ vip: false });
    expect(tracks('trait-only')).toEqual([]);
    const sent = batchRequests().flatMap((r) => (JSON.parse(r.body ?? '{}') as { batch: { type: string }[] }).batch);
    expect(sent.map((m) => m.type)).toEqual(['identify', 'identify']);
  });

  it("uses the contact's id in Segment when it has one, else segflow's contact id", async () => {
    const known = change('add', 'c-77', 'h-known', {
      contact: { contactId: 'c-77', email: null, externalIds: ['crm-user-9'] },
    });
    const rows = await destination.write(
      { segment: vip, changes: [known, change('add', 'c-78', 'h-unknown')] },
      config,
      context(),
    );
    expect(rows.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect(sandbox.workspace.profile('crm-user-9')?.traits.vip).toBe(true);
    expect(sandbox.workspace.profile('c-78')?.traits.vip).toBe(true);
    expect(sandbox.workspace.profile('c-77')).toBeUndefined();
  });

  it('declares no erase: Segment’s tracking API cannot delete people', () => {
    expect(destination.erase).toBeUndefined();
  });
});

describe('Segment destination: deduplication', () => {
  it('a replayed batch adds no duplicate to what Segment keeps, while the raw requests show both deliveries', async () => {
    const batch = {
      segment: vip,
      changes: [change('add', 'replay-1', 'h-replay-1'), change('add', 'replay-2', 'h-replay-2')],
    };
    await destination.write(batch, config, context());
    const before = sandbox.workspace.messages.length;
    const rows = await destination.write(batch, config, context());
    expect(rows.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect(sandbox.workspace.messages.length).toBe(before);
    expect(tracks('replay-1')).toEqual([ENTERED]);
    const requests = batchRequests();
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => r.status)).toEqual([200, 200]);
    expect(requests[1]?.body.length).toBeGreaterThan(0);
    const ids = (i: number) =>
      (JSON.parse(requests[i]?.body ?? '{}') as { batch: { messageId: string }[] }).batch.map((m) => m.messageId);
    expect(ids(1)).toEqual(ids(0));
  });

  it('a genuine re-entry (a new history row) is a new message: entered, exited, entered again', async () => {
    const ctx = context();
    await destination.write({ segment: vip, changes: [change('add', 'again', 'h-again-1')] }, config, ctx);
    await destination.write({ segment: vip, changes: [change('remove', 'again', 'h-again-2')] }, config, ctx);
    expect(sandbox.workspace.profile('again')?.traits.vip).toBe(false);
    await destination.write({ segment: vip, changes: [change('add', 'again', 'h-again-3')] }, config, ctx);
    expect(tracks('again')).toEqual([ENTERED, EXITED, ENTERED]);
    expect(sandbox.workspace.profile('again')?.traits.vip).toBe(true);
    const members = await readProfilesMembership(vip, [change('add', 'again', '').contact], config, ctx);
    expect(members.some((m) => m.externalId === 'again' && m.email === 'again@example.com')).toBe(true);
  });
});

describe('Segment destination: limits and errors', () => {
  it('rejects an event over 32 KB with its reason and delivers the rest of the batch', async () => {
    const changes = [
      change('add', 'fits-1', 'h-fits-1'),
      change('add', 'huge', 'h-huge', { traits: { notes: 'n'.repeat(40_000) } }),
      change('add', 'fits-2', 'h-fits-2'),
    ];
    const rows = await destination.write({ segment: vip, changes }, config, context());
    expect(rows[0]).toEqual({ status: 'accepted' });
    expect(rows[2]).toEqual({ status: 'accepted' });
    expect(rows[1]).toMatchObject({ status: 'rejected', code: 'EVENT_TOO_LARGE' });
    expect(rows[1]?.status === 'rejected' && rows[1].reason).toMatch(/32 KB/);
    expect(sandbox.workspace.profile('huge')).toBeUndefined();
    expect(tracks('fits-2')).toEqual([ENTERED]);
    expect(batchRequests().every((r) => r.status === 200)).toBe(true);
  });

  it('fills requests up to the 500 KB cap, never over it, and delivers all of a 2,000-change batch', async () => {
    const changes = Array.from({ length: destination.batchSize }, (_, i) =>
      change('add', `bulk-${i}`, `h-bulk-${i}`, { traits: { bio: 'b'.repeat(600) } }),
    );
    const rows = await destination.write({ segment: { key: 'bulk', name: 'Bulk' }, changes }, config, context());
    expect(rows.every((r) => r.status === 'accepted')).toBe(true);
    const requests = batchRequests();
    const bytes = requests.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0);
    for (const r of requests) {
      expect(r.status).toBe(200);
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(500 * 1024);
    }
    expect(requests.length).toBeLessThanOrEqual(Math.ceil(bytes / (500 * 1024)) + 1);
    expect(tracks('bulk-1999')).toEqual([ENTERED]);
  });

  it('waits out a 429 with Retry-After in the connection (not the SDK) and then delivers', async () => {
    sandbox.faults.set({ script: ['rate_limited'], retryAfterSeconds: 1, match: '/v1/batch' });
    const ctx = context();
    const rows = await destination.write(
      { segment: vip, changes: [change('add', 'patient', 'h-patient')] },
      config,
      ctx,
    );
    expect(rows).toEqual([{ status: 'accepted' }]);
    expect(batchRequests().map((r) => r.status)).toEqual([429, 200]);
    expect(ctx.stats.rateLimited).toBe(1);
    expect(ctx.stats.byOperation.batch).toBe(2);
  });

  it('retries 5xx through the connection with the SDK’s retries off, then delivers', async () => {
    sandbox.faults.set({ script: ['server_error', 'server_error'], serverErrorStatus: 503, match: '/v1/batch' });
    const ctx = context();
    const rows = await destination.write(
      { segment: vip, changes: [change('add', 'retried', 'h-retried')] },
      config,
      ctx,
    );
    expect(rows).toEqual([{ status: 'accepted' }]);
    expect(batchRequests().map((r) => r.status)).toEqual([503, 503, 200]);
    expect(ctx.stats.retries).toBe(2);
  });

  it('gives back rows as retryable when 5xx outlasts the retries', async () => {
    sandbox.faults.set({ script: Array(4).fill('server_error'), match: '/v1/batch' });
    const rows = await destination.write(
      { segment: vip, changes: [change('add', 'unlucky', 'h-unlucky')] },
      config,
      context(),
    );
    expect(rows[0]?.status).toBe('retryable');
    expect(sandbox.workspace.profile('unlucky')).toBeUndefined();
  });

  it('rejects the rows of a request Segment answers 400, without retrying it', async () => {
    const strict = await startSandbox({ seed: 'strict', limits: { eventBytes: 400 } });
    try {
      const rows = await destination.write(
        { segment: vip, changes: [change('add', 'strict-1', 'h-strict-1', { traits: { bio: 'b'.repeat(500) } })] },
        destination.spec.parse(sandboxConfig(strict)),
        context(),
      );
      expect(rows[0]).toMatchObject({ status: 'rejected' });
      expect(rows[0]?.status === 'rejected' && rows[0].reason).toMatch(/400/);
      expect(strict.recorder.count('/v1/batch')).toBe(1);
    } finally {
      await strict.close();
    }
  });

  it('stops with a config error when the endpoint refuses the write key (401)', async () => {
    const refusing = await startSandbox({ seed: 'segment-refusing', refuseWrongWriteKey: true });
    try {
      const wrong = destination.spec.parse({ ...sandboxConfig(refusing), writeKey: 'nope' });
      await expect(
        destination.write({ segment: vip, changes: [change('add', 'x', 'h-x')] }, wrong, context()),
      ).rejects.toBeInstanceOf(ConfigError);
      expect(refusing.recorder.requests.filter((r) => r.path === '/v1/batch')).toHaveLength(1);
    } finally {
      await refusing.close();
    }
  });
});
