/** What the console's actions leave in the store: the activity log, erasure records, kept audits, requeued rows. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listActivity, recordActivity } from '../../core/activity/index.js';
import { deliveriesOfContact, requeueRejectedRows } from '../../core/delivery/index.js';
import { erasuresOf, recordErasure } from '../../core/erasure/index.js';
import {
  auditOptionsKey,
  lastAuditReport,
  recordPushOutcomes,
  saveAuditReport,
  startRun,
  type AuditReport,
  type Store,
} from '../../core/index.js';
import { engines } from '../support/engines.js';
import { fixtureRecords, idOf, load, storeOn } from '../features/fixture.js';

describe.each(engines)('what console actions record, on $name', (engine) => {
  let store: Store;
  beforeEach(async () => {
    store = await storeOn(engine);
  });
  afterEach(() => store.close());

  it('keeps every action with its role and outcome, newest first, filtered by action or target', async () => {
    const at = new Date('2026-12-06T10:00:00.000Z');
    await recordActivity(
      store,
      {
        role: 'admin',
        action: 'job.run',
        target: 'nightly',
        method: 'POST',
        path: '/jobs/nightly/run',
        status: 202,
        detail: { runId: 3 },
      },
      at,
    );
    await recordActivity(
      store,
      { role: 'read', action: 'run.cancel', target: '3', method: 'POST', path: '/runs/3/cancel', status: 403 },
      new Date(at.getTime() + 1000),
    );
    const all = await listActivity(store, { limit: 10, offset: 0 });
    expect(all.total).toBe(2);
    expect(all.entries.map((e) => [e.action, e.role, e.status, e.target])).toEqual([
      ['run.cancel', 'read', 403, '3'],
      ['job.run', 'admin', 202, 'nightly'],
    ]);
    expect(all.entries[1]).toMatchObject({ at: at.toISOString(), detail: { runId: 3 } });
    const runs = await listActivity(store, { limit: 10, offset: 0, action: 'job.run' });
    expect(runs.entries.map((e) => e.target)).toEqual(['nightly']);
    expect((await listActivity(store, { limit: 10, offset: 0, target: '3' })).total).toBe(1);
  });

  it('finds an erasure by the erased email (kept only as a digest) and by contact id', async () => {
    await recordErasure(store, {
      contactId: 42,
      erasedAt: '2026-12-06T10:00:00.000Z',
      erasedBy: 'admin',
      emails: ['ada@example.com'],
      destinations: [{ destination: 'hubspot_lists', status: 'erased' }],
      removed: { events: 3 },
    });
    const [byEmail] = await erasuresOf(store, { email: ' ADA@example.com ' });
    expect(byEmail).toEqual({
      contactId: 42,
      erasedAt: '2026-12-06T10:00:00.000Z',
      erasedBy: 'admin',
      destinations: [{ destination: 'hubspot_lists', status: 'erased' }],
      removed: { events: 3 },
    });
    expect(await erasuresOf(store, { contactId: 42 })).toEqual([byEmail]);
    expect(await erasuresOf(store, { email: 'bob@example.com' })).toEqual([]);
    const kept = (await store.all('SELECT * FROM erasure_records')) as Record<string, unknown>[];
    expect(JSON.stringify(kept)).not.toContain('ada@example.com');
  });

  it('answers the last audit built with the same options', async () => {
    const report = (generatedAt: string) => ({ generatedAt, findings: [] }) as unknown as AuditReport;
    const small = auditOptionsKey({ minSegmentSize: 10, now: new Date('2026-01-01') });
    const sameSmall = auditOptionsKey({ minSegmentSize: 10, now: new Date('2026-06-01') });
    const large = auditOptionsKey({ minSegmentSize: 100 });
    expect(sameSmall).toBe(small);
    expect(await lastAuditReport(store, small)).toBeUndefined();
    await saveAuditReport(store, small, { report: report('2026-01-01T00:00:00.000Z'), builtAt: 'a', tookMs: 10 });
    await saveAuditReport(store, small, { report: report('2026-01-02T00:00:00.000Z'), builtAt: 'b', tookMs: 20 });
    await saveAuditReport(store, large, { report: report('2026-01-03T00:00:00.000Z'), builtAt: 'c', tookMs: 30 });
    expect(await lastAuditReport(store, small)).toEqual({
      report: report('2026-01-02T00:00:00.000Z'),
      builtAt: 'b',
      tookMs: 20,
    });
    expect((await lastAuditReport(store))?.builtAt).toBe('c');
  });

  it("puts a run's rejected rows back in line, and only those still rejected", async () => {
    await load(store, fixtureRecords());
    const ada = await idOf(store, 'ada');
    const bob = await idOf(store, 'bob');
    const runId = await startRun(store, 'nightly');
    await recordPushOutcomes(store, {
      destination: 'crm',
      segmentKey: 'vip',
      runId,
      outcomes: [
        { contactId: ada, op: 'add', status: 'rejected', reason: 'invalid email' },
        { contactId: bob, op: 'add', status: 'rejected', reason: 'invalid email' },
      ],
    });
    // bob was delivered since (by a later run): his row stays as it is
    await recordPushOutcomes(store, {
      destination: 'crm',
      segmentKey: 'vip',
      outcomes: [{ contactId: bob, op: 'add', status: 'accepted', destinationRecordId: 'b1' }],
    });
    expect(await requeueRejectedRows(store, runId)).toBe(1);
    expect(await deliveriesOfContact(store, ada)).toEqual([
      expect.objectContaining({ destination: 'crm', segmentKey: 'vip', status: 'retryable', attempts: 0 }),
    ]);
    expect((await deliveriesOfContact(store, bob))[0]).toMatchObject({
      status: 'delivered',
      destinationRecordId: 'b1',
    });
    expect(await requeueRejectedRows(store, runId)).toBe(0);
  });
});
