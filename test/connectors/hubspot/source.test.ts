// What the HubSpot source must get right against HubSpot's real limits: the 10,000-result search cap, records
// sharing one millisecond, archived and merged contacts, a 429 storm, and an OAuth token expiring mid-sync.
import { describe, expect, it } from 'vitest';
import {
  createContext,
  systemClock,
  type Clock,
  type ContactRecord,
  type EventRecord,
} from '../../../plugins/index.js';
import { classifyHubSpotError, hubspotSpec, sandboxConfig, source } from '../../../connectors/hubspot/index.js';
import { quiet, fast, readStream, sandboxForTest } from './fixture.js';

describe('HubSpot source', () => {
  it(
    'reads 25,000 contacts modified in one window completely, past the 10,000 search cap',
    { timeout: 60_000 },
    async () => {
      const start = Date.parse('2026-03-01T00:00:00Z');
      const sandbox = await sandboxForTest({
        bulk: { contacts: 25_000, emailEvents: 0, start, spanMs: 60_000 },
        limits: fast,
      });
      const { records } = await readStream(
        'contacts',
        { ...sandboxConfig(sandbox), searchPerSecond: 10_000 },
        { cursor: '2026-02-01T00:00:00Z' },
      );
      const ids = new Set(records.map((r) => r.externalId));
      expect(ids.size).toBe(25_000);
      expect(sandbox.recorder.requests.filter((r) => r.status === 400)).toHaveLength(0);
    },
  );

  it(
    'reads 12,000 contacts sharing one lastmodifieddate millisecond without looping or losing any',
    { timeout: 60_000 },
    async () => {
      const start = Date.parse('2026-03-01T00:00:00Z');
      const sandbox = await sandboxForTest({
        bulk: { contacts: 15_000, emailEvents: 0, start, spanMs: 3_600_000 },
        limits: fast,
      });
      const ids = [...sandbox.portal.contacts.keys()];
      const tied = Date.parse('2026-03-01T00:30:00.123Z');
      sandbox.portal.touchContacts(ids.slice(1_000, 13_000), tied);
      const { records, states } = await readStream(
        'contacts',
        { ...sandboxConfig(sandbox), searchPerSecond: 10_000 },
        { cursor: '2026-02-01T00:00:00Z' },
      );
      const atTie = records.filter((r) => r.traits.updated_at === new Date(tied).toISOString());
      expect(new Set(atTie.map((r) => r.externalId)).size).toBe(12_000);
      expect(new Set(records.map((r) => r.externalId)).size).toBe(15_000);
      const searches = sandbox.recorder.requests.filter((r) => r.path.endsWith('/search')).length;
      // About one search per 200 records: each page re-reads its last timestamp (HubSpot sorts by one key only and
      // orders ties as it likes), and one page finds the crowd before it is walked by id.
      expect(searches).toBeLessThanOrEqual(Math.ceil(15_000 / 199) + 3);
      expect(states.at(-1)?.cursor).toBe(
        new Date(Math.max(...records.map((r) => Date.parse(String(r.traits.updated_at))))).toISOString(),
      );
    },
  );

  it('marks an archived contact deleted and folds a merged contact’s ids into linkedIds', async () => {
    const sandbox = await sandboxForTest({ seed: 'identity', people: 400, limits: fast });
    const config = sandboxConfig(sandbox);
    const live = [...sandbox.portal.contacts.values()].filter((c) => !c.archived);
    const [survivor, loser, doomed] = live;
    sandbox.portal.mergeContacts(survivor?.id as string, loser?.id as string);
    sandbox.portal.archiveContact(doomed?.id as string);
    const contacts = await readStream('contacts', config, { cursor: '2020-01-01T00:00:00Z' });
    const merged = contacts.records.find((r) => r.externalId === survivor?.id);
    expect(merged?.linkedIds).toContain(loser?.id);
    expect(contacts.records.some((r) => r.externalId === loser?.id)).toBe(false);
    expect(contacts.records.some((r) => r.externalId === doomed?.id)).toBe(false);
    const archived = await readStream('archived_contacts', config, undefined);
    const gone = archived.records.find((r) => r.externalId === doomed?.id);
    expect(gone?.deleted).toBe(true);
    expect(gone?.traits.email).toBe(doomed?.properties.email);
  });

  it(
    'waits out a 429 storm without failing and without going over the sandbox’s limit',
    { timeout: 60_000 },
    async () => {
      const sandbox = await sandboxForTest({
        seed: 'storm',
        people: 600,
        limits: { requestsPerInterval: 30, intervalMs: 2_000, searchPerSecond: 1_000 },
      });
      sandbox.faults.set({ rate: 1, kinds: ['rate_limited'], until: Date.now() + 1_500 });
      const { records, ctx } = await readStream(
        'contacts',
        { ...sandboxConfig(sandbox), searchPerSecond: 1_000 },
        { cursor: '2020-01-01T00:00:00Z' },
        { requests: 30, intervalMs: 2_100 },
      );
      const expected = [...sandbox.portal.contacts.values()].filter((c) => !c.archived).length;
      expect(new Set(records.map((r) => r.externalId)).size).toBe(expected);
      expect(sandbox.faults.counts().rate_limited > 0).toBe(true);
      expect(sandbox.overLimit()).toBe(0);
      expect(ctx.stats.rateLimited).toBeGreaterThan(0);
    },
  );

  it('refreshes an OAuth token that expires mid-sync, once, and finishes the read', { timeout: 30_000 }, async () => {
    const sandbox = await sandboxForTest({ seed: 'oauth', people: 800, limits: fast });
    const config = hubspotSpec.parse({ ...sandboxConfig(sandbox, { oauth: true }), searchPerSecond: 1_000 });
    const ctx = createContext({
      connection: 'oauth',
      budget: { requests: 100_000, intervalMs: 10_000 },
      classifyError: classifyHubSpotError,
      logger: quiet,
    });
    const stream = source.streams(config).find((s) => s.name === 'contacts');
    const ids = new Set<string>();
    let pages = 0;
    for await (const message of stream?.read(
      { config, mode: 'incremental', state: { cursor: '2020-01-01T00:00:00Z' } },
      ctx,
    ) ?? []) {
      if (message.type === 'record') ids.add(message.record.kind === 'contact' ? message.record.externalId : '');
      else if (++pages === 1) sandbox.faults.storm(1, 'unauthorized');
    }
    const expected = [...sandbox.portal.contacts.values()].filter((c) => !c.archived).length;
    expect(ids.size).toBe(expected);
    const refreshes = sandbox.recorder.requests.filter((r) => r.path === '/oauth/v1/token');
    expect(refreshes).toHaveLength(2);
    expect(sandbox.recorder.requests.filter((r) => r.status === 401)).toHaveLength(1);
  });

  it(
    'reads a GDPR-deleted contact as deleted at the next id reconciliation, once, and not merged-away ids',
    { timeout: 30_000 },
    async () => {
      const sandbox = await sandboxForTest({ seed: 'gdpr', people: 400, limits: fast });
      let now = Date.now();
      const clock: Clock = { now: () => now, sleep: systemClock.sleep };
      const config = { ...sandboxConfig(sandbox), reconcileEveryHours: 24 };
      const archived = new Set([...sandbox.portal.contacts.values()].filter((c) => c.archived).map((c) => c.id));
      const first = await readStream('archived_contacts', config, undefined, undefined, clock);
      expect(first.records.every((r) => r.deleted === true && archived.has(r.externalId))).toBe(true);

      const [doomed, survivor, loser] = [...sandbox.portal.contacts.values()].filter((c) => !c.archived);
      const purge = await fetch(`${sandbox.url}/crm/v3/objects/contacts/gdpr-delete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sandbox.credentials.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ objectId: doomed?.id }),
      });
      expect(purge.status).toBe(204);
      sandbox.portal.mergeContacts(survivor?.id as string, loser?.id as string);
      const vanishedIn = (records: ContactRecord[]) => records.filter((r) => !archived.has(r.externalId));

      now += 3_600_000;
      const early = await readStream('archived_contacts', config, first.states.at(-1), undefined, clock);
      expect(vanishedIn(early.records)).toEqual([]);

      now += 24 * 3_600_000;
      const due = await readStream('archived_contacts', config, early.states.at(-1), undefined, clock);
      const gone = vanishedIn(due.records);
      expect(gone.map((r) => [r.externalId, r.deleted])).toEqual([[doomed?.id, true]]);
      expect(due.states.at(-1)?.cursor).toBe(new Date(now).toISOString());

      now += 25 * 3_600_000;
      const after = await readStream('archived_contacts', config, due.states.at(-1), undefined, clock);
      expect(vanishedIn(after.records)).toEqual([]);
    },
  );

  it(
    'reads sign-up form submissions as form_submit events for the people who submitted them, and only newer ones incrementally',
    { timeout: 30_000 },
    async () => {
      const sandbox = await sandboxForTest({ seed: 'forms', people: 500, limits: fast });
      const world = sandbox.world!;
      const truth = new Map<string, string>();
      for (const index of world.toolIndex('hubspot')) {
        const presence = world.person(index).tools.hubspot;
        for (const event of world.events(index))
          if (event.tool === 'hubspot' && event.type === 'form_submit')
            truth.set(event.id, `${presence?.email}@${Math.round(event.at)}`);
      }
      expect(truth.size).toBeGreaterThan(50);
      const all = await readStream('form_submissions', sandboxConfig(sandbox), undefined);
      const events = all.records as unknown as EventRecord[];
      expect(events.every((e) => e.type === 'form_submit')).toBe(true);
      expect(events.map((e) => `${e.contact.email}@${Date.parse(e.occurredAt)}`).sort()).toEqual(
        [...truth.values()].sort(),
      );

      const times = events.map((e) => Date.parse(e.occurredAt)).sort((a, b) => a - b);
      const cursor = new Date(times[Math.floor(times.length / 2)] as number).toISOString();
      const newer = await readStream('form_submissions', sandboxConfig(sandbox), { cursor });
      const expected = times.filter((t) => t >= Date.parse(cursor) - 5 * 60_000).length;
      expect(newer.records).toHaveLength(expected);
      expect(newer.states.at(-1)?.cursor).toBe(new Date(times.at(-1) as number).toISOString());
    },
  );

  it(
    'yields form submissions page by page as they arrive, not after reading every page (a form can hold a million)',
    { timeout: 30_000 },
    async () => {
      const sandbox = await sandboxForTest({ seed: 'forms', people: 500, limits: fast });
      const config = hubspotSpec.parse(sandboxConfig(sandbox));
      const ctx = createContext({ connection: 'test', classifyError: classifyHubSpotError, logger: quiet });
      const stream = source.streams(config).find((s) => s.name === 'form_submissions')!;
      const pagesAsked = () =>
        sandbox.recorder.requests.filter((r) => r.path.startsWith('/form-integrations/v1/submissions/forms/')).length;
      let atFirstRecord = 0;
      let records = 0;
      for await (const message of stream.read({ config, mode: 'incremental', state: undefined }, ctx)) {
        if (message.type !== 'record') continue;
        if (records++ === 0) atFirstRecord = pagesAsked();
      }
      expect(pagesAsked()).toBeGreaterThan(2);
      expect(atFirstRecord).toBe(1);
    },
  );

  it(
    'reads custom behavioural events where the portal has them, and nothing (without failing) where it does not',
    { timeout: 30_000 },
    async () => {
      const sandbox = await sandboxForTest({ seed: 'behaviour', people: 500, limits: fast, customEvents: true });
      const world = sandbox.world!;
      const truth: string[] = [];
      for (const index of world.toolIndex('hubspot')) {
        const presence = world.person(index).tools.hubspot;
        if (!presence || presence.archived) continue;
        for (const event of world.events(index))
          if (event.type === 'page_view' && String(event.properties.url).endsWith('/pricing'))
            truth.push(`${presence.id}@${Math.round(event.at)}`);
      }
      expect(truth.length).toBeGreaterThan(100);
      const read = await readStream('behavioral_events', sandboxConfig(sandbox), undefined);
      const events = read.records as unknown as EventRecord[];
      expect(events.every((e) => e.type === 'custom' && String(e.properties?.name).endsWith('_viewed_pricing'))).toBe(
        true,
      );
      expect(events.map((e) => `${e.contact.externalId}@${Date.parse(e.occurredAt)}`).sort()).toEqual(truth.sort());
      await sandbox.close();

      const withoutEvents = await sandboxForTest({ seed: 'behaviour', people: 500, limits: fast });
      const none = await readStream('behavioral_events', sandboxConfig(withoutEvents), {
        cursor: '2026-01-01T00:00:00.000Z',
      });
      expect(none.records).toEqual([]);
      expect(none.states.at(-1)).toEqual({ cursor: '2026-01-01T00:00:00.000Z' });
    },
  );
});
