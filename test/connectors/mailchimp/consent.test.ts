/**
 * Consent is per audience in Mailchimp: a person on two audiences can be unsubscribed on one and subscribed on the
 * other. Pinned against the sandbox with the real SDK: a push requiring consent never tags a member unsubscribed or
 * cleaned on the destination's audience, and the members read gives the person the first audience's consent on
 * every record, whichever audience was read last.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  destination,
  destinationSpec,
  sandboxConfig,
  source,
  sourceSpec,
  startSandbox,
  type MailchimpSandbox,
} from '../../../connectors/mailchimp/index.js';
import { createContext, type ContactRecord, type MembershipChange, type StreamState } from '../../../plugins/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const context = () =>
  createContext({
    connection: 'consent',
    budget: { concurrency: 10 },
    classifyError: (e) => destination.classifyError?.(e),
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    logger: quiet,
  });

let sandbox: MailchimpSandbox;
let main: string;
let second: string;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'consent', people: 600 });
  main = sandbox.world.audiences[0]!.id;
  second = sandbox.world.audiences[1]!.id;
});
afterAll(() => sandbox.close());

/** A world person on both audiences with these statuses, as (email, hash). */
function personWith(onMain: string, onSecond: string): { email: string; hash: string } {
  for (let i = 0; i < sandbox.world.size; i++) {
    const audiences = sandbox.world.person(i).tools.mailchimp?.audiences ?? [];
    const a = audiences.find((m) => m.listId === main);
    const b = audiences.find((m) => m.listId === second);
    if (a?.status === onMain && b?.status === onSecond)
      return { email: a.email.trim().toLowerCase(), hash: a.subscriberHash };
  }
  throw new Error(`no person ${onMain} on the main audience and ${onSecond} on the second`);
}

const add = (email: string, i: number): MembershipChange => ({
  op: 'add',
  contact: { contactId: `c-${i}`, email, externalIds: [], emailConsent: 'unknown' },
});
const tagsConfig = () => destinationSpec.parse({ ...sandboxConfig(sandbox), audienceId: main, membershipAs: 'tags' });

async function readMembers(state?: StreamState) {
  const config = sourceSpec.parse({ ...sandboxConfig(sandbox), audienceIds: [main, second] });
  const stream = source.streams(config).find((s) => s.name === 'members')!;
  const records: ContactRecord[] = [];
  let last: StreamState | undefined;
  for await (const m of stream.read({ config, mode: state ? 'incremental' : 'full_refresh', state }, context())) {
    if (m.type === 'record') records.push(m.record as ContactRecord);
    else last = m.state;
  }
  return { records, state: last };
}

describe('mailchimp consent across two audiences', () => {
  it('a push requiring consent leaves out members unsubscribed or cleaned on its audience, whatever they are on the other', async () => {
    const optedOut = personWith('unsubscribed', 'subscribed');
    const bounced = personWith('cleaned', 'cleaned');
    const welcome = personWith('subscribed', 'unsubscribed');
    const segment = { key: 'new_customers', name: 'New Customers' };
    const results = await destination.write(
      {
        segment,
        changes: [add(optedOut.email, 1), add(welcome.email, 2), add(bounced.email, 3)],
        requireConsent: 'email',
      },
      tagsConfig(),
      context(),
    );
    expect(results).toEqual([
      expect.objectContaining({ status: 'rejected', code: 'no_consent' }),
      { status: 'accepted', destinationRecordId: welcome.hash },
      expect.objectContaining({ status: 'rejected', code: 'no_consent' }),
    ]);
    const held = await destination.readMembership(segment, tagsConfig(), context());
    expect(held.map((m) => m.externalId)).toEqual([welcome.hash]);
    expect(sandbox.account.member(main, optedOut.hash)!.status).toBe('unsubscribed');

    // One change goes through the member tags call: refused the same way.
    const [single] = await destination.write(
      { segment: { key: 'solo', name: 'Solo' }, changes: [add(optedOut.email, 1)], requireConsent: 'email' },
      tagsConfig(),
      context(),
    );
    expect(single).toMatchObject({ status: 'rejected', code: 'no_consent' });
    expect(sandbox.account.tagsOf(main, optedOut.hash).map((s) => s.name)).toEqual([]);
  });

  it('a large batch checks consent by listing the audience’s unsubscribed and cleaned members, not one read per member', async () => {
    const members = sandbox.account.listMembers(main).map((e) => sandbox.account.member(main, e.hash)!);
    const refused = members.filter((m) => m.status === 'unsubscribed' || m.status === 'cleaned').slice(0, 10);
    const welcome = members.filter((m) => m.status === 'subscribed').slice(0, 40);
    expect(refused.length).toBeGreaterThan(1);
    const batch = [...refused, ...welcome];
    sandbox.recorder.clear();
    const results = await destination.write(
      {
        segment: { key: 'bulk', name: 'Bulk' },
        changes: batch.map((m, i) => add(m.email.trim().toLowerCase(), i)),
        requireConsent: 'email',
      },
      tagsConfig(),
      context(),
    );
    expect(results.slice(0, refused.length).every((r) => r.status === 'rejected' && r.code === 'no_consent')).toBe(
      true,
    );
    expect(results.slice(refused.length)).toEqual(
      welcome.map((m) => ({ status: 'accepted', destinationRecordId: m.hash })),
    );
    const reads = sandbox.recorder.requests.filter((r) => r.method === 'GET' && r.path.includes('/members'));
    expect(reads.filter((r) => /\/members\/[0-9a-f]{32}$/.test(r.path))).toEqual([]);
    expect(reads.length).toBe(2);
  });

  it('the batches of one push share the listing for a minute, then list again and see a new unsubscribe', async () => {
    let now = Date.parse('2026-11-24T00:00:00Z');
    const ctx = createContext({
      connection: 'consent',
      budget: { concurrency: 10 },
      clock: { now: () => now, sleep: async () => {} },
      classifyError: (e) => destination.classifyError?.(e),
      logger: quiet,
    });
    const subscribed = sandbox.account
      .listMembers(main)
      .map((e) => sandbox.account.member(main, e.hash)!)
      .filter((m) => m.status === 'subscribed');
    const batch = (from: number) => ({
      segment: { key: 'shared', name: 'Shared' },
      changes: subscribed.slice(from, from + 40).map((m, i) => add(m.email.trim().toLowerCase(), i)),
      requireConsent: 'email' as const,
    });
    const listings = () =>
      sandbox.recorder.requests.filter((r) => r.method === 'GET' && /\/members$/.test(r.path)).length;
    sandbox.recorder.clear();
    await destination.write(batch(0), tagsConfig(), ctx);
    expect(listings()).toBe(2);
    await destination.write(batch(40), tagsConfig(), ctx);
    expect(listings()).toBe(2);
    const leaving = subscribed[80]!;
    sandbox.account.put({ ...leaving, status: 'unsubscribed' });
    now += 61_000;
    const results = await destination.write(batch(80), tagsConfig(), ctx);
    expect(listings()).toBe(4);
    expect(results[0]).toMatchObject({ status: 'rejected', code: 'no_consent' });
    expect(results.slice(1).every((r) => r.status === 'accepted')).toBe(true);
  });

  it('without require_consent the same member is tagged, and their status is left as it is', async () => {
    const optedOut = personWith('unsubscribed', 'subscribed');
    const segment = { key: 'churned', name: 'Churned' };
    const [result] = await destination.write(
      { segment, changes: [add(optedOut.email, 1), add(personWith('subscribed', 'subscribed').email, 2)] },
      tagsConfig(),
      context(),
    );
    expect(result).toEqual({ status: 'accepted', destinationRecordId: optedOut.hash });
    expect(sandbox.account.member(main, optedOut.hash)!.status).toBe('unsubscribed');
  });

  it('every record of a member on two audiences carries the first audience’s consent, on full and incremental reads', async () => {
    const optedOut = personWith('unsubscribed', 'subscribed');
    const welcome = personWith('subscribed', 'unsubscribed');
    const full = await readMembers();
    for (const [person, consent] of [
      [optedOut, 'unsubscribed'],
      [welcome, 'subscribed'],
    ] as const) {
      const records = full.records.filter((r) => r.externalId === person.hash);
      expect(records.map((r) => r.raw?.list_id).sort()).toEqual([main, second].sort());
      // The store keeps the last record of an identity: it must hold the first audience's consent.
      expect(records.at(-1)!.traits.email_consent).toBe(consent);
      expect(records.filter((r) => r.traits.email_consent !== undefined && r.traits.email_consent !== consent)).toEqual(
        [],
      );
    }

    // Only the second audience's membership changes: the incremental read still gives the first audience's consent.
    const stored = sandbox.account.member(second, optedOut.hash)!;
    sandbox.account.put({ ...stored, mergeFields: { ...stored.mergeFields, FNAME: 'Renamed' } });
    const next = await readMembers(full.state);
    const changed = next.records.filter((r) => r.externalId === optedOut.hash);
    expect(changed.map((r) => [r.raw?.list_id, r.traits.first_name, r.traits.email_consent])).toEqual([
      [second, 'Renamed', 'unsubscribed'],
    ]);
  });
});
