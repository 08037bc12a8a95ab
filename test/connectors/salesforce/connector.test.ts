/**
 * What the issue pins about the Salesforce connector, against the sandbox org with the real jsforce: ties on
 * SystemModstamp across a kill, records modified during a read, deletes, converted leads, an expiring session, one
 * bad row in a batch, lock retries, the daily limit, and jsforce's own retries switched off.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Connection } from 'jsforce';
import { describe, expect, it } from 'vitest';
import {
  RateLimitedError,
  TransientError,
  type ContactRecord,
  type MembershipChange,
  type StreamRecord,
  type StreamMessage,
  type StreamState,
} from '../../../plugins/index.js';
import { salesforceId } from '../../../plugins/sandbox/index.js';
import { callTask } from '../../../connectors/salesforce/sandbox/index.js';
import {
  classifySalesforceError,
  destination,
  salesforceSpec,
  sandboxConfig,
  source,
  type SalesforceSandbox,
} from '../../../connectors/salesforce/index.js';

import { contextOf, sandboxOf } from './fixture.js';

function streamOf(config: unknown, name: string) {
  const parsed = salesforceSpec.parse(config);
  const stream = source.streams(parsed).find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name}`);
  return { stream, config: parsed };
}

async function readAll(
  config: unknown,
  name: string,
  state?: StreamState,
  stopAfter?: (message: StreamMessage, seen: StreamRecord[]) => boolean,
) {
  const { stream, config: parsed } = streamOf(config, name);
  const records: StreamRecord[] = [];
  const states: StreamState[] = [];
  for await (const message of stream.read(
    { config: parsed, mode: state ? 'incremental' : 'full_refresh', state },
    contextOf(),
  )) {
    if (message.type === 'record') records.push(message.record);
    else states.push(message.state);
    if (stopAfter?.(message, records)) break;
  }
  return { records, states };
}

const ids = (records: StreamRecord[]) => records.map((r) => (r as ContactRecord).externalId);

describe('Salesforce source', () => {
  it('loses nothing of 5,000 records sharing one SystemModstamp when killed after a page ending inside the tie', async () => {
    const sandbox = await sandboxOf({ seed: 'tie', people: 100 });
    const tieAt = sandbox.org.now() + 60_000;
    const tie = Array.from({ length: 5000 }, (_, n) => salesforceId('003', 80_000_000 + ((n * 7919) % 5000)));
    for (const id of tie) {
      sandbox.org.put('Contact', {
        Id: id,
        IsDeleted: false,
        CreatedDate: tieAt,
        LastModifiedDate: tieAt,
        SystemModstamp: tieAt,
        LastName: 'Tie',
        Email: `${id}@example.com`,
      });
    }
    const everyone = [...sandbox.org.table('Contact').keys()];
    const config = sandboxConfig(sandbox);
    const first = await readAll(
      config,
      'contacts',
      undefined,
      (message) =>
        message.type === 'state' &&
        typeof message.state.lastId === 'string' &&
        Date.parse(String(message.state.cursor)) === tieAt,
    );
    const killedAt = first.states.at(-1) as StreamState;
    expect(tie).toContain(killedAt.lastId);
    const readBefore = new Set(ids(first.records));
    expect(tie.filter((id) => !readBefore.has(id)).length).toBeGreaterThan(0);
    const resumed = await readAll(config, 'contacts', killedAt);
    const all = new Set([...readBefore, ...ids(resumed.records)]);
    expect(everyone.filter((id) => !all.has(id))).toEqual([]);
    expect(ids(resumed.records).filter((id) => readBefore.has(id))).toEqual([]);
  });

  it('picks up a record modified during the read on the next run', async () => {
    const sandbox = await sandboxOf({ seed: 'modified', people: 100 });
    for (let n = 0; n < 4500; n++) {
      const at = sandbox.org.now() - 10 * 86_400_000 + n;
      sandbox.org.put('Contact', {
        Id: salesforceId('003', 81_000_000 + n),
        IsDeleted: false,
        CreatedDate: at,
        LastModifiedDate: at,
        SystemModstamp: at,
        LastName: `Bulk ${n}`,
      });
    }
    const config = sandboxConfig(sandbox);
    const { stream, config: parsed } = streamOf(config, 'contacts');
    let changed: string | undefined;
    const states: StreamState[] = [];
    for await (const message of stream.read({ config: parsed, mode: 'full_refresh', state: undefined }, contextOf())) {
      if (message.type === 'record' && !changed) {
        changed = (message.record as ContactRecord).externalId;
        sandbox.org.advance(1000);
        sandbox.org.touch('Contact', changed, { Title: 'Changed mid-read' });
      }
      if (message.type === 'state') states.push(message.state);
    }
    const next = await readAll(config, 'contacts', states.at(-1));
    const again = next.records.find((r) => (r as ContactRecord).externalId === changed) as ContactRecord | undefined;
    expect(again?.traits.job_title).toBe('Changed mid-read');
  });

  it('reads a deleted contact as deleted on the next run, and its campaign memberships are gone', async () => {
    const sandbox = await sandboxOf({ seed: 'deleted', people: 200 });
    const config = sandboxConfig(sandbox);
    const { states, records } = await readAll(config, 'contacts');
    const victim = records.find((r) => !(r as ContactRecord).deleted) as ContactRecord;
    const ctx = contextOf();
    const parsed = salesforceSpec.parse(config);
    const segment = { key: 'vip', name: 'VIP' };
    const added = await destination.write(
      {
        segment,
        changes: [{ op: 'add', contact: { contactId: 'c1', email: null, externalIds: [victim.externalId] } }],
      },
      parsed,
      ctx,
    );
    expect(added[0]?.status).toBe('accepted');
    sandbox.org.advance(1000);
    sandbox.org.softDelete('Contact', victim.externalId);
    const next = await readAll(config, 'contacts', states.at(-1));
    expect(next.records.find((r) => (r as ContactRecord).externalId === victim.externalId)).toMatchObject({
      deleted: true,
    });
    const members = await destination.readMembership(segment, parsed, ctx);
    expect(members.map((m) => m.externalId)).not.toContain(victim.externalId);
  });

  it('reads a contact purged from the recycle bin after the last read as deleted, through the deleted endpoint', async () => {
    const sandbox = await sandboxOf({ seed: 'purged', people: 200 });
    const config = sandboxConfig(sandbox);
    const first = await readAll(config, 'contacts');
    const [victim, binned] = first.records.filter((r) => !(r as ContactRecord).deleted) as ContactRecord[];
    if (!victim || !binned) throw new Error('sandbox has too few contacts');
    sandbox.org.advance(1000);
    sandbox.org.softDelete('Contact', victim.externalId);
    sandbox.org.purge('Contact', victim.externalId);
    sandbox.org.softDelete('Contact', binned.externalId);
    const next = await readAll(config, 'contacts', first.states.at(-1));
    const purged = next.records.filter((r) => (r as ContactRecord).externalId === victim.externalId);
    expect(purged).toHaveLength(1);
    expect(purged[0]).toMatchObject({ kind: 'contact', deleted: true });
    // Still in the recycle bin: read once, with its fields, by queryAll.
    const stillBinned = next.records.filter(
      (r) => (r as ContactRecord).externalId === binned.externalId,
    ) as ContactRecord[];
    expect(stillBinned).toHaveLength(1);
    expect(stillBinned[0]).toMatchObject({ deleted: true, traits: { email: binned.traits.email } });
    const third = await readAll(config, 'contacts', next.states.at(-1));
    expect(ids(third.records).filter((id) => id === victim.externalId).length).toBeLessThanOrEqual(1);
  });

  it('keeps a converted lead one person: the lead links its contact, which carries the same email', async () => {
    const sandbox = await sandboxOf({ seed: 'converted', people: 400 });
    const config = sandboxConfig(sandbox);
    const leads = (await readAll(config, 'leads')).records as ContactRecord[];
    const contacts = (await readAll(config, 'contacts')).records as ContactRecord[];
    const converted = leads.filter((l) => l.linkedIds?.length);
    expect(converted.length).toBeGreaterThan(0);
    for (const lead of converted) {
      const contact = contacts.find((c) => c.externalId === lead.linkedIds?.[0]);
      expect(contact?.traits.email?.trim().toLowerCase()).toBe(lead.traits.email?.trim().toLowerCase());
      const person = sandbox.world.findByToolId('salesforce', lead.externalId);
      expect(person).toBe(sandbox.world.findByToolId('salesforce', contact?.externalId ?? ''));
    }
  });

  it('logs in again once when the session expires mid-sync, and finishes the read', async () => {
    const sandbox = await sandboxOf({ seed: 'session', people: 300 });
    const whoId = String([...sandbox.org.table('Contact').keys()][0]);
    for (let n = 0; n < 4500; n++) {
      sandbox.org.put('Task', callTask(salesforceId('00T', 82_000_000 + n), sandbox.org.now() - 86_400_000 + n, whoId));
    }
    const config = sandboxConfig(sandbox);
    const { stream, config: parsed } = streamOf(config, 'tasks');
    let pages = 0;
    let count = 0;
    for await (const message of stream.read({ config: parsed, mode: 'full_refresh', state: undefined }, contextOf())) {
      if (message.type === 'record') count++;
      else if (++pages === 1) sandbox.expireSessions();
    }
    expect(pages).toBeGreaterThan(1);
    expect(count).toBe(
      [...sandbox.org.table('Task').values()].filter((t) => !t.IsDeleted && /^00[3Q]/.test(String(t.WhoId))).length,
    );
    const requests = sandbox.recorder.requests;
    expect(requests.filter((r) => r.path === '/services/oauth2/token')).toHaveLength(2);
    expect(requests.filter((r) => r.status === 401)).toHaveLength(1);
  });

  it('sends every request on API version 62.0 with jsforce retries off (a 503 is retried once by segflow, not by jsforce)', async () => {
    const sandbox = await sandboxOf({ seed: 'retries', people: 50 });
    const config = sandboxConfig(sandbox);
    await readAll(config, 'contacts');
    sandbox.recorder.clear();
    sandbox.faults.storm(1, 'server_error');
    await readAll(config, 'leads');
    const api = sandbox.recorder.requests.filter((r) => r.path.startsWith('/services/data/'));
    expect(api.every((r) => r.path.startsWith('/services/data/v62.0/'))).toBe(true);
    expect(api.filter((r) => r.status === 503)).toHaveLength(1);
    expect(api.filter((r) => r.path.endsWith('/queryAll'))).toHaveLength(2);
  });

  it('names an answer with no error body by its HTTP status, and retries a 408 request timeout', async () => {
    // Node's HTTP server answers a timed-out or malformed request with an empty 408 or 400, not Salesforce's JSON.
    let status = 400;
    const server = createServer((_req, res) => res.writeHead(status, { connection: 'close' }).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const conn = new Connection({
        instanceUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        accessToken: 'x',
        version: '62.0',
      });
      const failure = async () =>
        classifySalesforceError(
          await conn.query('SELECT Id FROM Lead').then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
      expect((await failure())?.message).toBe('Salesforce answered HTTP 400 with an empty body');
      status = 408;
      expect(await failure()).toBeInstanceOf(TransientError);
    } finally {
      server.close();
    }
  });
});

describe('Salesforce destination', () => {
  const contactsOf = (sandbox: SalesforceSandbox, n: number) =>
    [...sandbox.org.table('Contact').values()]
      .filter((c) => !c.IsDeleted)
      .slice(0, n)
      .map((c, k) => ({ contactId: `p${k}`, email: null, externalIds: [String(c.Id)] }));

  it('delivers the other 199 rows of a batch with one bad row, and records the bad row with its errorCode', async () => {
    const sandbox = await sandboxOf({ seed: 'badrow', people: 1500 });
    const parsed = salesforceSpec.parse(sandboxConfig(sandbox));
    const people = contactsOf(sandbox, 199);
    expect(people).toHaveLength(199);
    const changes: MembershipChange[] = people.map((contact) => ({ op: 'add', contact }));
    changes.splice(57, 0, {
      op: 'add',
      contact: { contactId: 'ghost', email: null, externalIds: [salesforceId('003', 99_000_000)] },
    });
    await destination.write(
      { segment: { key: 'big', name: 'Big spenders' }, changes: changes.slice(0, 1) },
      parsed,
      contextOf(),
    );
    sandbox.org.faults.lockRows = 5;
    const results = await destination.write(
      { segment: { key: 'big', name: 'Big spenders' }, changes },
      parsed,
      contextOf(),
    );
    expect(results[57]).toMatchObject({ status: 'rejected', code: 'INVALID_CROSS_REFERENCE_KEY' });
    const accepted = results.filter((r) => r.status === 'accepted');
    expect(accepted).toHaveLength(199);
    const members = await destination.readMembership({ key: 'big', name: 'Big spenders' }, parsed, contextOf());
    expect(new Set(members.map((m) => m.externalId))).toEqual(new Set(people.map((p) => p.externalIds[0])));
    const again = await destination.write(
      { segment: { key: 'big', name: 'Big spenders' }, changes: changes.slice(0, 3) },
      parsed,
      contextOf(),
    );
    expect(again.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(again.map((r) => (r.status === 'accepted' ? r.destinationRecordId : undefined))).toEqual(
      results.slice(0, 3).map((r) => (r.status === 'accepted' ? r.destinationRecordId : 'x')),
    );
    const writes = sandbox.recorder.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/composite/sobjects'),
    );
    expect(writes.every((w) => (JSON.parse(w.body) as { records: unknown[] }).records.length <= 200)).toBe(true);
  });

  it('removes by CampaignMember id; removing again is success', async () => {
    const sandbox = await sandboxOf({ seed: 'remove', people: 200 });
    const parsed = salesforceSpec.parse(sandboxConfig(sandbox));
    const [person] = contactsOf(sandbox, 1);
    const segment = { key: 'lapsed', name: 'Lapsed' };
    const [added] = await destination.write(
      { segment, changes: [{ op: 'add', contact: person! }] },
      parsed,
      contextOf(),
    );
    const recordId = added?.status === 'accepted' ? added.destinationRecordId : undefined;
    expect(recordId).toMatch(/^00v/);
    const remove: MembershipChange = { op: 'remove', contact: person!, destinationRecordId: recordId as string };
    expect(await destination.write({ segment, changes: [remove] }, parsed, contextOf())).toEqual([
      { status: 'accepted' },
    ]);
    expect(await destination.write({ segment, changes: [remove] }, parsed, contextOf())).toEqual([
      { status: 'accepted' },
    ]);
    expect(await destination.readMembership(segment, parsed, contextOf())).toEqual([]);
  });

  it('stops writing to the org for the run once Salesforce answers REQUEST_LIMIT_EXCEEDED', async () => {
    const sandbox = await sandboxOf({ seed: 'limit', people: 200, limits: { dailyRequests: 10_000 } });
    const parsed = salesforceSpec.parse(sandboxConfig(sandbox));
    const people = contactsOf(sandbox, 2);
    const ctx = contextOf();
    await destination.write(
      { segment: { key: 's', name: 'S' }, changes: [{ op: 'add', contact: people[0]! }] },
      parsed,
      ctx,
    );
    sandbox.limiter.consume(sandbox.org.limits.dailyRequests);
    await expect(
      destination.write(
        { segment: { key: 's', name: 'S' }, changes: [{ op: 'add', contact: people[1]! }] },
        parsed,
        ctx,
      ),
    ).rejects.toMatchObject({ scope: 'daily' });
    const before = sandbox.recorder.requests.length;
    const third = destination.write(
      { segment: { key: 's', name: 'S' }, changes: [{ op: 'add', contact: people[1]! }] },
      parsed,
      ctx,
    );
    await expect(third).rejects.toBeInstanceOf(RateLimitedError);
    expect(sandbox.recorder.requests.length).toBe(before);
  });
});
