import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildAudit,
  finishRun,
  recordDelivery,
  recordRunErrors,
  startRun,
  writeRunReport,
  type AuditFinding,
  type AuditOptions,
  type Store,
} from '../../core/index.js';
import { contact } from '../store/fixtures.js';
import { engines } from '../support/engines.js';
import { storeOn } from '../features/fixture.js';
import { READ_AT, cleanOptions, cleanWorld, contactOf, enter, load, person, purchase, range } from './world.js';

describe.each(engines)('on $name', (engine) => {
  let store: Store;
  beforeEach(async () => {
    store = await storeOn(engine);
    await cleanWorld(store);
  });
  afterEach(() => store.close());

  const audit = async (options: Partial<AuditOptions> = {}) =>
    await buildAudit(store, { ...cleanOptions(), ...options });
  /** The report's only finding (the clean world has none, so a defect shows as exactly one). */
  async function only(options: Partial<AuditOptions> = {}): Promise<AuditFinding> {
    const { findings } = await audit(options);
    expect(findings.map((f) => f.code)).toHaveLength(1);
    return findings[0] as AuditFinding;
  }

  describe('a clean store', () => {
    it('reports nothing, and says what it measured', async () => {
      const report = await audit();
      expect(report.findings).toEqual([]);
      expect(report.completeness.contacts).toBe(100);
      expect(report.completeness.overall.country).toBe(1);
      expect(report.completeness.bySource).toEqual([expect.objectContaining({ source: 'hubspot', records: 100 })]);
      expect(report.freshness.streams.map((s) => [s.stream, s.lagMs])).toEqual([
        ['contacts', 13 * 3_600_000],
        ['deals', 38 * 3_600_000],
      ]);
      expect(report.freshness.destinations).toEqual([
        {
          destination: 'hubspot_lists',
          lastDelivery: READ_AT.toISOString(),
          delivered: 60,
          rejected: 0,
          retryable: 0,
          waiting: { adds: 0, removes: 0 },
        },
      ]);
      expect(report.segments.segments).toEqual([
        { key: 'fr_buyers', name: 'French buyers', members: 40 },
        { key: 'vip', name: 'VIP', members: 20 },
      ]);
      expect(report.fairness.notPresent).toEqual(['religion']);
      expect(
        report.fairness.selections.find((s) => s.key === 'fr_buyers')?.groups.map((g) => [g.group, g.rate]),
      ).toEqual([
        ['female', 0.4],
        ['male', 0.4],
      ]);
    });
  });

  describe('completeness', () => {
    it('calls out a field a rule depends on that most contacts lack, by name', async () => {
      await load(
        store,
        range(0, 20).map((p) => person(p, { loyalty_tier: 'gold', updated_at: '2026-06-15T00:00:00.000Z' })),
      );
      const fieldsUsed = [...(cleanOptions().fieldsUsed ?? []), { field: 'loyalty_tier', usedBy: ['segment gold'] }];
      const f = await only({ fieldsUsed });
      expect(f).toMatchObject({
        code: 'field_mostly_empty',
        section: 'completeness',
        count: 80,
        names: ['loyalty_tier'],
      });
      expect(f.message).toContain('segment gold');
      const { completeness } = await audit({ fieldsUsed });
      expect(completeness.bySource[0]?.fields.loyalty_tier).toBe(0.2);
      expect(completeness.mostlyEmpty).toEqual([
        { field: 'loyalty_tier', share: 0.2, contacts: 20, usedBy: ['segment gold'] },
      ]);
    });
  });

  describe('duplicates and identity', () => {
    it('counts records joined by the same email in another case and by a linked id, and merges with their reason', async () => {
      await load(store, [
        contact('salesforce', 's1', { email: ' P1@Example.COM ' }),
        contact('salesforce', 's2', { email: 'p2@example.com' }),
      ]);
      await load(store, [contact('salesforce', 'lead9', { email: 'old9@example.com' })]);
      await load(store, [contact('salesforce', 's9', { email: 'p9@example.com' }, { linkedIds: ['lead9'] })]);
      const { identity, findings } = await audit();
      expect(findings).toEqual([]);
      expect(identity.joined).toEqual({ contacts: 3, sameEmail: 2, sameEmailOtherCase: 1, linkedId: 1 });
      expect(identity.merges).toEqual({ total: 1, byReason: { 'linked id': 1 } });
      expect(identity.overlap.byCombination).toEqual({ hubspot: 97, 'hubspot+salesforce': 3 });
    });

    it('reports role addresses held back from merging, and leaves those people apart', async () => {
      await load(store, [
        contact('mailchimp', 'm1', { email: 'info@acme.example' }),
        contact('mailchimp', 'm2', { email: 'Info@acme.example' }),
      ]);
      const f = await only();
      expect(f).toMatchObject({ code: 'role_address_held_back', count: 2, names: ['info@acme.example'] });
      expect((await audit()).identity.overlap.contacts).toBe(102);
    });

    it('reports an email shared by more records than the limit', async () => {
      const family = ['f1', 'f2', 'f3'].map((id) => contact('mailchimp', id, { email: 'family@home.example' }));
      await load(store, family, 'members', '2026-06-29T11:00:00.000Z', { identity: { sharedEmailLimit: 2 } });
      const f = await only({ identity: { sharedEmailLimit: 2 } });
      expect(f).toMatchObject({ code: 'shared_email_held_back', count: 3, names: ['family@home.example'] });
    });

    it('reports people with the same name and phone left apart under different emails', async () => {
      await load(store, [
        contact('salesforce', 's5', {
          email: 'first5.work@example.com',
          first_name: ' first5',
          last_name: 'LAST5',
          phone: '(555) 010-0005',
        }),
      ]);
      const f = await only();
      expect(f).toMatchObject({ code: 'likely_duplicates', count: 2 });
      const other = (
        (await store.get("SELECT contact_id AS id FROM identities WHERE external_id = 's5'")) as { id: number }
      ).id;
      expect(f.names).toEqual([String(await contactOf(store, 5)), String(other)]);
    });
  });

  describe('freshness', () => {
    it('reports a configured stream that was never read', async () => {
      const streams = [...(cleanOptions().streams ?? []), { connection: 'hubspot', stream: 'meetings' }];
      expect(await only({ streams })).toMatchObject({
        code: 'stream_never_read',
        count: 1,
        names: ['hubspot.meetings'],
      });
    });

    it('reports a stream whose newest change is older than the staleness limit, with its lag', async () => {
      await load(
        store,
        [contact('mailchimp', 'm1', { email: 'p1@example.com' })],
        'members',
        '2026-06-20T00:00:00.000Z',
      );
      const f = await only();
      expect(f).toMatchObject({ code: 'stream_stale', names: ['mailchimp.members'] });
      expect(f.message).toContain('10 days behind');
      expect((await audit()).freshness.streams.find((s) => s.connection === 'mailchimp')?.lagMs).toBe(10 * 86_400_000);
    });

    it('counts rows refused and failed runs since the last successful read', async () => {
      await recordRunErrors(
        store,
        null,
        [
          { connection: 'hubspot', stream: 'contacts', recordKey: 'h7', reason: 'bad row' },
          { connection: 'hubspot', stream: 'contacts', recordKey: 'h8', reason: 'bad row' },
        ],
        '2026-06-29T13:00:00.000Z',
      );
      await recordRunErrors(
        store,
        null,
        [{ connection: 'hubspot', stream: 'contacts', recordKey: 'h6', reason: 'before' }],
        '2026-06-29T11:00:00.000Z',
      );
      await finishRun(
        store,
        await startRun(store, 'nightly', '2026-06-29T14:00:00.000Z'),
        'failed',
        {},
        'boom',
        '2026-06-29T14:01:00.000Z',
      );
      await finishRun(
        store,
        await startRun(store, 'other_job', '2026-06-29T14:00:00.000Z'),
        'failed',
        {},
        'boom',
        '2026-06-29T14:01:00.000Z',
      );
      const { findings } = await audit();
      expect(findings.map((f) => [f.code, f.names, f.count])).toEqual([
        ['stream_failures', ['hubspot.contacts'], 3],
        ['stream_failures', ['hubspot.deals'], 1],
      ]);
    });

    it('reads per-stream outcomes from run reports: a failed stream counts, an empty stream that succeeded was read', async () => {
      const runId = await startRun(store, 'nightly', '2026-06-29T14:00:00.000Z');
      const streams = [
        { stream: 'contacts', status: 'succeeded' },
        { stream: 'deals', status: 'failed', error: 'HTTP 500' },
        { stream: 'meetings', status: 'succeeded' },
      ];
      await writeRunReport(store, runId, {
        steps: [{ kind: 'read', skipped: false, sources: [{ source: 'hubspot', streams }] }],
      });
      await finishRun(store, runId, 'partial', {}, null, '2026-06-29T14:05:00.000Z');
      const configured = [
        ...(cleanOptions().streams ?? []),
        { connection: 'hubspot', stream: 'meetings', jobs: ['nightly'] },
      ];
      const { findings, freshness } = await audit({ streams: configured });
      expect(findings.map((f) => [f.code, f.names, f.count])).toEqual([['stream_failures', ['hubspot.deals'], 1]]);
      expect(freshness.streams.map((s) => [s.stream, s.lastRead, s.failedRunsSince])).toEqual([
        ['contacts', '2026-06-29T14:05:00.000Z', 0],
        ['deals', READ_AT.toISOString(), 1],
        ['meetings', '2026-06-29T14:05:00.000Z', 0],
      ]);
    });

    it('counts the changes waiting for a destination as the planner would send them', async () => {
      await enter(store, 'vip', [40, 41]);
      expect(await only()).toMatchObject({ code: 'changes_waiting', count: 2, names: ['hubspot_lists'] });
    });

    it('reports a destination that never received anything, with everything waiting', async () => {
      const destinations = [
        ...(cleanOptions().destinations ?? []),
        { name: 'segment_io', pushes: [{ segments: ['fr_buyers', 'vip'], mode: 'mirror' as const }] },
      ];
      const { findings } = await audit({ destinations });
      expect(findings.map((f) => [f.code, f.names, f.count])).toEqual([
        ['destination_never_delivered', ['segment_io'], 1],
        ['changes_waiting', ['segment_io'], 60],
      ]);
    });

    it('reports rows a destination refused', async () => {
      await recordDelivery(store, {
        destination: 'hubspot_lists',
        segmentKey: 'old',
        contactId: await contactOf(store, 3),
        status: 'rejected',
        error: 'no such list',
      });
      expect(await only()).toMatchObject({ code: 'delivery_rejected', count: 1, names: ['hubspot_lists'] });
    });
  });

  describe('validity', () => {
    it('reports records whose email is not an address', async () => {
      await load(store, [contact('hubspot', 'h-bad', { email: 'not-an-email', country: 'FR' })]);
      const f = await only();
      expect(f).toMatchObject({ code: 'invalid_emails', count: 1, names: ['hubspot'] });
      expect(f.message).toContain('hubspot:h-bad');
    });

    it('reports events in currencies without a rate, per currency', async () => {
      await load(
        store,
        [
          purchase('g1', { externalId: 'h1' }, 'GBP'),
          purchase('g2', { externalId: 'h2' }, 'GBP'),
          purchase('j1', { externalId: 'h3' }, 'JPY'),
        ],
        'deals',
      );
      const f = await only();
      expect(f).toMatchObject({ code: 'unknown_currency', count: 3, names: ['GBP', 'JPY'] });
      expect((await audit()).validity.unknownCurrencies).toEqual([
        { currency: 'GBP', events: 2 },
        { currency: 'JPY', events: 1 },
      ]);
    });

    it('reports events dated after now', async () => {
      await load(store, [purchase('late', { externalId: 'h1' }, 'USD', '2026-07-05T00:00:00.000Z')], 'deals');
      expect(await only()).toMatchObject({ code: 'future_timestamps', count: 1, names: ['events'] });
    });

    it('reports events of people no tool has a contact record for', async () => {
      await load(
        store,
        [
          purchase('ghost', { email: 'ghost@example.com' }, 'USD'),
          purchase('ghost2', { email: 'ghost@example.com' }, 'USD'),
        ],
        'deals',
      );
      expect(await only()).toMatchObject({ code: 'events_without_contact', count: 2 });
    });
  });

  describe('segment hygiene', () => {
    it('reports more than 15 active segments', async () => {
      const extra = range(0, 14).map((i) => `window_${i}`);
      for (const [i, key] of extra.entries()) await enter(store, key, range(i * 5, i * 5 + 10));
      const segments = [...(cleanOptions().segments ?? []), ...extra.map((key) => ({ key }))];
      expect(await only({ segments })).toMatchObject({ code: 'too_many_segments', count: 16 });
    });

    it('reports segments under the minimum size, empty ones too', async () => {
      await enter(store, 'tiny', [50, 51]);
      const segments = [...(cleanOptions().segments ?? []), { key: 'tiny', name: 'Tiny' }, { key: 'empty' }];
      const { findings } = await audit({ segments });
      expect(findings.map((f) => [f.code, f.names, f.count])).toEqual([
        ['segment_too_small', ['tiny'], 2],
        ['segment_too_small', ['empty'], 0],
      ]);
    });

    it('reports two segments overlapping at a Jaccard index of 0.9, and not at 0.85', async () => {
      await enter(store, 'copy', range(0, 36));
      await enter(store, 'near', range(0, 34));
      // copy and fr_buyers (people 0-39) share 36 of 40 people: 0.9
      const f = await only({ segments: [...(cleanOptions().segments ?? []), { key: 'copy' }] });
      expect(f).toMatchObject({ code: 'segments_overlap', count: 36, names: ['copy', 'fr_buyers'] });
      expect(f.message).toContain('90%');
      // near and fr_buyers share 34 of 40: 0.85
      expect((await audit({ segments: [...(cleanOptions().segments ?? []), { key: 'near' }] })).findings).toEqual([]);
    });
  });
});
