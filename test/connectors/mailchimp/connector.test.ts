/**
 * What the Mailchimp connector promises its users, pinned against the sandbox with the real SDK: consent is never
 * overridden, one person on two audiences is one contact, email case does not split a subscriber, the connection
 * limit holds under parallel writers, over-500 changes split, two accounts live in one process, throttles are
 * waited out, row errors are per row, webhooks are checked and parsed, incremental reads pick up changes.
 */
import mailchimp from '@mailchimp/mailchimp_marketing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  destination,
  destinationSpec,
  sandboxConfig,
  source,
  sourceSpec,
  startSandbox,
  subscriberHash,
  type MailchimpSandbox,
} from '../../../connectors/mailchimp/index.js';
import {
  ConfigError,
  createContext,
  type ContactIdentity,
  type ContactRecord,
  type MembershipChange,
  type StreamState,
} from '../../../plugins/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const context = (name = 'test') =>
  createContext({
    connection: name,
    budget: destination.rateBudget ?? {},
    classifyError: (e) => destination.classifyError?.(e),
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    logger: quiet,
  });

let sandbox: MailchimpSandbox;
let audience: string;
let second: string;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'pinned', people: 1_500 });
  audience = sandbox.world.audiences[0]!.id;
  second = sandbox.world.audiences[1]!.id;
});
afterAll(() => sandbox.close());

const destConfig = (extra: Record<string, unknown> = {}) =>
  destinationSpec.parse({ ...sandboxConfig(sandbox), audienceId: audience, ...extra });
const member = (listId: string, hash: string) => sandbox.account.member(listId, hash);
const entriesWith = (status: string) => sandbox.account.listMembers(audience).filter((e) => e.status === status);
const identity = (email: string, i: number | string): ContactIdentity => ({
  contactId: `c-${i}`,
  email,
  externalIds: [],
});
const add = (email: string, i: number | string): MembershipChange => ({ op: 'add', contact: identity(email, i) });

async function readAll(streamName: string, config: ReturnType<typeof sourceSpec.parse>, state?: StreamState) {
  const stream = source.streams(config).find((s) => s.name === streamName)!;
  const records = [];
  let last: StreamState | undefined;
  for await (const m of stream.read(
    { config, mode: state ? 'incremental' : 'full_refresh', state },
    context('source'),
  )) {
    if (m.type === 'record') records.push(m.record);
    else last = m.state;
  }
  return { records, state: last };
}

describe('mailchimp connector', () => {
  it('never re-subscribes an unsubscribed or cleaned member in a target segment, even when adding missing contacts', async () => {
    const unsub = member(audience, entriesWith('unsubscribed')[0]!.hash)!;
    const cleaned = member(audience, entriesWith('cleaned')[0]!.hash)!;
    const config = destConfig({ membershipAs: 'static_segments', addMissingAs: 'subscribed' });
    const results = await destination.write(
      {
        segment: { key: 'winback', name: 'Win back' },
        changes: [add(unsub.email, 1), add(cleaned.email, 2), add('brand.new@example.com', 3)],
      },
      config,
      context(),
    );
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(member(audience, unsub.hash)!.status).toBe('unsubscribed');
    expect(member(audience, cleaned.hash)!.status).toBe('cleaned');
    expect(member(audience, subscriberHash('brand.new@example.com'))!.status).toBe('subscribed');
    const held = await destination.readMembership({ key: 'winback', name: 'Win back' }, config, context());
    expect(held.map((m) => m.externalId).sort()).toEqual(
      [unsub.hash, cleaned.hash, subscriberHash('brand.new@example.com')].sort(),
    );
  });

  it('does not add contacts missing from the audience unless the config says so', async () => {
    const results = await destination.write(
      {
        segment: { key: 'vip', name: 'VIP' },
        changes: [add('not.here@example.com', 1), add('nor.here@example.com', 2)],
      },
      destConfig(),
      context(),
    );
    expect(results).toEqual([
      expect.objectContaining({
        status: 'skipped',
        code: 'not_in_audience',
        reason: expect.stringContaining('not.here@example.com'),
      }),
      expect.objectContaining({
        status: 'skipped',
        code: 'not_in_audience',
        reason: expect.stringContaining('nor.here@example.com'),
      }),
    ]);
    expect(member(audience, subscriberHash('not.here@example.com'))).toBeUndefined();
  });

  it('reads a member on two audiences as one contact, keeping each audience membership', async () => {
    const config = sourceSpec.parse({ ...sandboxConfig(sandbox) });
    const { records } = await readAll('members', config);
    const contacts = records as ContactRecord[];
    const byHash = new Map<string, ContactRecord[]>();
    for (const c of contacts) byHash.set(c.externalId, [...(byHash.get(c.externalId) ?? []), c]);
    const both = [...byHash.values()].find((rs) => rs.length === 2)!;
    expect(both).toBeDefined();
    const [a, b] = both as [ContactRecord, ContactRecord];
    expect(a.externalId).toBe(b.externalId);
    expect(String(a.traits.email).trim().toLowerCase()).toBe(String(b.traits.email).trim().toLowerCase());
    const statuses = both.flatMap((r) => Object.keys(r.traits).filter((k) => k.endsWith('_status')));
    expect(statuses.sort()).toEqual([`mailchimp_${audience}_status`, `mailchimp_${second}_status`].sort());
    const people = new Set(contacts.map((c) => sandbox.world.findByToolId('mailchimp', c.externalId)));
    expect(people.size).toBe(byHash.size);
  });

  it('treats an email changed in case or whitespace as the same subscriber hash', async () => {
    const entry = sandbox.account.listMembers(audience).find((e) => {
      const m = member(audience, e.hash)!;
      return m.email !== m.email.toLowerCase() && m.status === 'subscribed';
    })!;
    const written = member(audience, entry.hash)!.email;
    const variant = `  ${written.toUpperCase()} `;
    expect(subscriberHash(variant)).toBe(entry.hash);
    const config = destConfig({ membershipAs: 'tags' });
    const [result] = await destination.write(
      { segment: { key: 'case', name: 'Case test' }, changes: [add(variant, 1)] },
      config,
      context(),
    );
    expect(result).toEqual({ status: 'accepted', destinationRecordId: entry.hash });
    const held = await destination.readMembership({ key: 'case', name: 'Case test' }, config, context());
    expect(held.map((m) => m.externalId)).toEqual([entry.hash]);
  });

  it('keeps 12 parallel writers of one account within 10 connections, and every row succeeds', async () => {
    sandbox.latency.set(25);
    sandbox.recorder.clear();
    sandbox.connections.reset();
    const emails = sandbox.account
      .listMembers(audience)
      .slice(0, 60)
      .map((e) => member(audience, e.hash)!.email);
    try {
      const writers = Array.from({ length: 12 }, (_, w) =>
        destination.write(
          {
            segment: { key: `par${w}`, name: `Parallel ${w}` },
            changes: emails.slice(w * 5, w * 5 + 5).map((e, i) => add(e, `${w}-${i}`)),
          },
          destConfig({ membershipAs: 'static_segments' }),
          context(`writer-${w}`),
        ),
      );
      const results = (await Promise.all(writers)).flat();
      expect(results).toHaveLength(60);
      expect(results.every((r) => r.status === 'accepted')).toBe(true);
      expect(sandbox.connections.counts().peak).toBeLessThanOrEqual(10);
      expect(sandbox.connections.counts().refused).toBe(0);
      expect(sandbox.recorder.requests.length).toBeGreaterThan(12);
    } finally {
      sandbox.latency.set(0);
    }
  });

  it('splits over-500 changes into calls of at most 500 per side, and the segment ends up right', async () => {
    const all = sandbox.account.listMembers(audience).filter((e) => e.status !== 'archived');
    expect(all.length).toBeGreaterThan(620);
    const emailOf = (k: number) => member(audience, all[k]!.hash)!.email;
    const segment = { key: 'big', name: 'Big segment' };
    const config = destConfig({ membershipAs: 'static_segments' });
    sandbox.recorder.clear();
    const first = await destination.write(
      { segment, changes: all.slice(0, 600).map((_, k) => add(emailOf(k), k)) },
      config,
      context(),
    );
    expect(first.every((r) => r.status === 'accepted')).toBe(true);
    const changes: MembershipChange[] = [
      ...all.slice(0, 550).map((_, k): MembershipChange => ({ op: 'remove', contact: identity(emailOf(k), k) })),
      ...all.slice(600).map((_, i) => add(emailOf(600 + i), 600 + i)),
    ];
    const second = await destination.write({ segment, changes }, config, context());
    expect(second.every((r) => r.status === 'accepted')).toBe(true);
    const calls = sandbox.recorder.requests.filter((r) => r.method === 'POST' && /\/segments\/\d+$/.test(r.path));
    expect(calls).toHaveLength(2 + 2);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    const held = new Set((await destination.readMembership(segment, config, context())).map((m) => m.externalId));
    expect([...held].sort()).toEqual([...all.slice(550, 600), ...all.slice(600)].map((e) => e.hash).sort());
  });

  it('runs two Mailchimp accounts in one process without mixing keys, and leaves the SDK singleton alone', async () => {
    const other = await startSandbox({ seed: 'other-account', people: 400 });
    try {
      mailchimp.setConfig({ apiKey: 'singleton-key-us1', server: 'us1' });
      const configA = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [audience] });
      const configB = sourceSpec.parse({ ...sandboxConfig(other), audienceIds: [other.world.audiences[0]!.id] });
      sandbox.recorder.clear();
      other.recorder.clear();
      const [a, b] = await Promise.all([readAll('members', configA), readAll('members', configB)]);
      const hashesA = new Set(sandbox.account.listMembers(audience).map((e) => e.hash));
      const hashesB = new Set(other.account.listMembers(other.world.audiences[0]!.id).map((e) => e.hash));
      expect(a.records.length).toBe(hashesA.size);
      expect(b.records.length).toBe(hashesB.size);
      expect(a.records.every((r) => r.kind === 'contact' && hashesA.has(r.externalId))).toBe(true);
      expect(b.records.every((r) => r.kind === 'contact' && hashesB.has(r.externalId))).toBe(true);
      expect(sandbox.recorder.requests.every((r) => r.status === 200)).toBe(true);
      expect(other.recorder.requests.every((r) => r.status === 200)).toBe(true);
      expect((mailchimp as unknown as { config: { apiKey: string } }).config.apiKey).toBe('singleton-key-us1');
    } finally {
      await other.close();
    }
  });

  it('waits out 429s and bare 403 throttles', async () => {
    sandbox.faults.set({ script: ['rate_limited', 'rate_limited', { kind: 'rate_limited', variant: 'bare403' }] });
    const ctx = context();
    const emails = sandbox.account
      .listMembers(audience)
      .slice(0, 3)
      .map((e) => member(audience, e.hash)!.email);
    const results = await destination.write(
      { segment: { key: 'throttle', name: 'Throttle' }, changes: emails.map((e, i) => add(e, i)) },
      destConfig(),
      ctx,
    );
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(ctx.stats.rateLimited).toBe(3);
  });

  it('fails with a configuration error naming a block when bare 403s never stop, after waiting out a few', async () => {
    const bare403s = () => sandbox.faults.fired().filter((f) => f.variant === 'bare403').length;
    const before = bare403s();
    sandbox.faults.set({ script: Array(30).fill({ kind: 'rate_limited', variant: 'bare403' }) });
    try {
      const config = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [audience] });
      const failure = await readAll('members', config).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toMatch(/bare 403.*blocked/);
      expect(bare403s() - before).toBe(12);
    } finally {
      sandbox.faults.set({});
    }
  });

  it('records batch-subscribe row errors with Mailchimp code, and delivers the rest', async () => {
    sandbox.account.badEmails.add('refused@example.com');
    const forgotten = 'forgotten.person@example.com';
    const config = destConfig({ addMissingAs: 'pending', membershipAs: 'static_segments' });
    await destination.write(
      { segment: { key: 'f', name: 'Forget' }, changes: [add(forgotten, 0), add('x@example.com', 9)] },
      config,
      context(),
    );
    expect(await destination.erase!([identity(forgotten, 0)], config, context())).toEqual([{ status: 'erased' }]);
    const results = await destination.write(
      {
        segment: { key: 'rows', name: 'Rows' },
        changes: [
          add('fine.one@example.com', 1),
          add('refused@example.com', 2),
          add(forgotten, 3),
          add('fine.two@example.com', 4),
        ],
      },
      config,
      context(),
    );
    expect(results[0]!.status).toBe('accepted');
    expect(results[1]).toMatchObject({ status: 'rejected', code: 'ERROR_GENERIC' });
    expect(results[2]).toMatchObject({ status: 'rejected', code: 'ERROR_GENERIC' });
    expect((results[2] as { reason: string }).reason).toMatch(/permanently deleted/);
    expect(results[3]!.status).toBe('accepted');
    expect(member(audience, subscriberHash('fine.one@example.com'))!.status).toBe('pending');
    expect(member(audience, subscriberHash(forgotten))).toBeUndefined();
  });

  it('answers the webhook verification GET, refuses a wrong token, and parses form-encoded events', () => {
    const config = sourceSpec.parse({ ...sandboxConfig(sandbox), webhookSecret: 'a-long-secret-token' });
    const hook = source.webhook!;
    const get = { method: 'GET', url: 'https://h.example/hooks/mc?token=a-long-secret-token', headers: {}, body: '' };
    expect(hook.verify(get, config, Date.now())).toEqual({ ok: true });
    expect(hook.parse(get, config).response?.status).toBe(200);
    expect(hook.verify({ ...get, url: 'https://h.example/hooks/mc?token=nope' }, config, Date.now()).ok).toBe(false);
    const body = new URLSearchParams({
      type: 'upemail',
      fired_at: '2026-06-29 10:00:00',
      'data[list_id]': audience,
      'data[new_id]': 'x',
      'data[new_email]': 'New@Example.com',
      'data[old_email]': 'old@example.com',
    }).toString();
    const { records } = hook.parse({ ...get, method: 'POST', body }, config);
    expect(records).toEqual([
      expect.objectContaining({
        kind: 'contact',
        externalId: subscriberHash('new@example.com'),
        linkedIds: [subscriberHash('old@example.com')],
      }),
    ]);
    const unsub = new URLSearchParams({
      type: 'unsubscribe',
      fired_at: '2026-06-29 10:00:00',
      'data[list_id]': audience,
      'data[email]': 'a@example.com',
      'data[campaign_id]': 'c1',
    }).toString();
    const parsed = hook.parse({ ...get, method: 'POST', body: unsub }, config).records;
    expect(parsed.map((r) => (r.kind === 'event' ? r.type : r.traits.email_consent))).toEqual([
      'unsubscribed',
      'email_unsubscribe',
    ]);
  });

  it('picks up a changed member on the next incremental read, without re-reading the audience', async () => {
    const config = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [second] });
    const full = await readAll('members', config);
    const entry = sandbox.account.listMembers(second)[0]!;
    const changed = member(second, entry.hash)!;
    sandbox.account.put({ ...changed, mergeFields: { ...changed.mergeFields, FNAME: 'Renamed' } });
    const next = await readAll('members', config, full.state);
    expect(next.records.length).toBeLessThan(20);
    const record = next.records.find((r) => r.kind === 'contact' && r.externalId === entry.hash) as ContactRecord;
    expect(record.traits.first_name).toBe('Renamed');
    const again = await readAll('members', config, next.state);
    expect(again.records.filter((r) => r.kind === 'contact' && r.externalId === entry.hash)).toHaveLength(0);
  });

  it('reads every member exactly once when more members than a page share one last_changed second', async () => {
    const config = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [second], pageSize: 10 });
    // A bulk edit lands in one second: Mailchimp keeps last_changed to the second and no order among ties.
    for (const entry of sandbox.account.listMembers(second).slice(0, 45)) {
      const changed = member(second, entry.hash)!;
      sandbox.account.put({ ...changed, mergeFields: { ...changed.mergeFields, LNAME: 'Bulk' } });
    }
    const { records } = await readAll('members', config);
    const ids = records.filter((r) => r.kind === 'contact').map((r) => r.externalId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(sandbox.account.listMembers(second).map((e) => e.hash)));
  });

  it('reads an audience in about one request per page when members changed in different seconds', async () => {
    const config = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [second], pageSize: 10 });
    const asked = () => sandbox.recorder.requests.filter((r) => r.path.endsWith(`/lists/${second}/members`)).length;
    const before = asked();
    const { records } = await readAll('members', config);
    const members = records.filter((r) => r.kind === 'contact').length;
    expect(members).toBe(sandbox.account.listMembers(second).length);
    // each full page gives all but its last second (read again at the head of the next page), so about members / 9
    // pages, plus a last short page for the subscribed and for the archived members; never a second request per page
    expect(asked() - before).toBeLessThanOrEqual(Math.ceil(members / 8) + 2);
  });

  it('reads an archived member as a deleted contact, keeping its email and id, on full and incremental reads', async () => {
    const config = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [second] });
    const full = await readAll('members', config);
    const [live, later] = sandbox.account.listMembers(second).filter((e) => e.status === 'subscribed');
    const archive = (hash: string) => sandbox.account.put({ ...member(second, hash)!, status: 'archived' });
    const archived = archive(live!.hash);
    const next = await readAll('members', config, full.state);
    const record = next.records.find((r) => r.kind === 'contact' && r.externalId === live!.hash) as
      ContactRecord | undefined;
    expect(record).toMatchObject({
      deleted: true,
      externalId: subscriberHash(archived.email),
      traits: { email: archived.email },
    });
    archive(later!.hash);
    const fresh = await readAll('members', config);
    const both = fresh.records.filter(
      (r) => r.kind === 'contact' && (r.externalId === live!.hash || r.externalId === later!.hash),
    ) as ContactRecord[];
    expect(both.map((r) => r.deleted)).toEqual([true, true]);
  });

  it('reads opens, clicks, sends and unsubscribes of the world’s campaigns for its people', async () => {
    const config = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [audience] });
    const campaign = sandbox.world.campaigns.at(-5)!;
    const expected = sandbox.account.campaignActivity(campaign.mailchimpId);
    const { records } = await readAll('email_activity', config, {
      cursor: new Date(campaign.sentAt - 1000).toISOString(),
      latest: undefined,
    } as StreamState);
    const ofCampaign = records.filter((r) => r.kind === 'event' && r.properties?.campaign_id === campaign.mailchimpId);
    const count = (t: string) => expected.filter((a) => a.type === t).length;
    expect(ofCampaign.filter((r) => r.kind === 'event' && r.type === 'email_open')).toHaveLength(count('email_open'));
    expect(ofCampaign.filter((r) => r.kind === 'event' && r.type === 'email_click')).toHaveLength(count('email_click'));
    const clicks = ofCampaign.filter((r) => r.kind === 'event' && r.type === 'email_click');
    expect(clicks.every((r) => r.kind === 'event' && typeof r.properties?.url === 'string')).toBe(true);
  });

  it('reads every store order as a purchase, yielded as pages arrive, and only the newer ones (less a day) incrementally', async () => {
    const config = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [audience], pageSize: 100 });
    const orders = sandbox.account.storeOrders();
    expect(orders.length).toBeGreaterThan(config.pageSize);
    const full = await readAll('orders', config);
    expect(full.records.map((r) => (r.kind === 'event' ? r.properties?.order_id : null)).sort()).toEqual(
      orders.map((o) => o.id).sort(),
    );
    const newest = Math.max(...orders.map((o) => o.at));
    expect(full.state?.cursor).toBe(new Date(newest).toISOString());

    const middle = [...orders].sort((a, b) => a.at - b.at)[Math.floor(orders.length / 2)]!.at;
    const next = await readAll('orders', config, { cursor: new Date(middle).toISOString() });
    expect(next.records).toHaveLength(orders.filter((o) => o.at >= middle - 86_400_000).length);

    // The first order comes before the second page is asked for: a store's orders are never all held at once.
    const stream = source.streams(config).find((s) => s.name === 'orders')!;
    sandbox.recorder.clear();
    const pagesAsked = () => sandbox.recorder.requests.filter((r) => r.path.includes('/orders')).length;
    let atFirst = 0;
    for await (const m of stream.read({ config, mode: 'full_refresh', state: undefined }, context('source'))) {
      if (m.type === 'record' && atFirst === 0) atFirst = pagesAsked();
    }
    expect(atFirst).toBe(1);
    expect(pagesAsked()).toBeGreaterThan(1);
  });
});
