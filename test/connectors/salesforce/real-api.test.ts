/**
 * Where Salesforce's real API is stricter than a naive sandbox, and the connector must still work: the JWT bearer
 * flow's audience with a My Domain login URL, REQUEST_LIMIT_EXCEEDED for the concurrent-request limit (it passes in
 * seconds), and a query URI that must stay under about 16 KB.
 */
import { Connection } from 'jsforce';
import { describe, expect, it } from 'vitest';
import { type MembershipChange } from '../../../plugins/index.js';
import {
  destination,
  salesforceSpec,
  sandboxConfig,
  type SalesforceSandbox,
} from '../../../connectors/salesforce/index.js';

import { contextOf, sandboxOf } from './fixture.js';

describe('Salesforce JWT bearer flow', () => {
  it('signs for https://login.salesforce.com when the login URL is the org’s own (My Domain) URL', async () => {
    const sandbox = await sandboxOf({ seed: 'jwt', people: 20 });
    // The sandbox's URL stands in for https://acme.my.salesforce.com: the token is posted there, the audience is not it.
    const config = salesforceSpec.parse(sandboxConfig(sandbox, 'jwt'));
    expect(await destination.check(config, contextOf())).toEqual({ ok: true });
  });

  it('signs for the configured audience (a sandbox org’s https://test.salesforce.com), and says why a wrong one fails', async () => {
    const sandbox = await sandboxOf({ seed: 'jwt', people: 20, jwtAudience: 'https://test.salesforce.com' });
    const base = sandboxConfig(sandbox, 'jwt');
    const wrong = await destination.check(salesforceSpec.parse(base), contextOf());
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.reason).toMatch(/audience is invalid/);
    const right = salesforceSpec.parse({ ...base, audience: 'https://test.salesforce.com' });
    expect(await destination.check(right, contextOf())).toEqual({ ok: true });
  });
});

describe('Salesforce limits', () => {
  const contactsOf = (sandbox: SalesforceSandbox, n: number) =>
    [...sandbox.org.table('Contact').values()]
      .filter((c) => !c.IsDeleted)
      .slice(0, n)
      .map((c, k) => ({ contactId: `p${k}`, email: null, externalIds: [String(c.Id)] }));

  it('waits out REQUEST_LIMIT_EXCEEDED for concurrent requests and goes on writing (only TotalRequests stops the run)', async () => {
    const sandbox = await sandboxOf({ seed: 'concurrent', people: 200 });
    const parsed = salesforceSpec.parse(sandboxConfig(sandbox));
    const [first, second] = contactsOf(sandbox, 2);
    const ctx = contextOf();
    sandbox.faults.storm(2);
    const rows = await destination.write(
      { segment: { key: 's', name: 'S' }, changes: [{ op: 'add', contact: first! }] },
      parsed,
      ctx,
    );
    expect(rows).toMatchObject([{ status: 'accepted' }]);
    const later = await destination.write(
      { segment: { key: 's', name: 'S' }, changes: [{ op: 'add', contact: second! }] },
      parsed,
      ctx,
    );
    expect(later).toMatchObject([{ status: 'accepted' }]);
    expect(sandbox.recorder.requests.filter((r) => r.status === 403)).toHaveLength(2);
  });

  it('looks 200 people up by long emails in queries whose URI stays under the request size limit', async () => {
    const sandbox = await sandboxOf({ seed: 'long-query', people: 50 });
    const parsed = salesforceSpec.parse(sandboxConfig(sandbox));
    const changes: MembershipChange[] = Array.from({ length: 200 }, (_, i) => ({
      op: 'add',
      contact: {
        contactId: `l${i}`,
        email: `someone.with.a.rather.long.name.${i}@subsidiary.example-corporation.com`,
        externalIds: [],
      },
    }));
    const rows = await destination.write({ segment: { key: 's', name: 'S' }, changes }, parsed, contextOf());
    expect(rows.every((r) => r.status === 'skipped' && r.code === 'NOT_IN_SALESFORCE')).toBe(true);
    expect(sandbox.recorder.requests.filter((r) => r.status >= 400)).toEqual([]);
  });
});

describe('Salesforce sandbox serves jsforce’s everyday calls', () => {
  it('creates, retrieves, updates and deletes one record through sobject(), and a scanAll query (queryAll) includes it deleted', async () => {
    const sandbox = await sandboxOf({ seed: 'single', people: 100 });
    const conn = new Connection({
      instanceUrl: sandbox.url,
      accessToken: String(sandbox.credentials.accessToken),
      version: '62.0',
    });
    const created = await conn.sobject('Campaign').create({ Name: 'Spring launch', IsActive: true });
    expect(created).toMatchObject({ success: true, errors: [] });
    const id = (created as { id: string }).id;
    expect(await conn.sobject('Campaign').retrieve(id)).toMatchObject({ Id: id, Name: 'Spring launch' });
    expect(await conn.sobject('Campaign').update({ Id: id, Name: 'Spring relaunch' })).toMatchObject({ success: true });
    expect(sandbox.org.table('Campaign').get(id)?.Name).toBe('Spring relaunch');
    expect(await conn.sobject('Campaign').destroy(id)).toMatchObject({ id, success: true });

    const live = await conn.query<{ Id: string }>(`SELECT Id FROM Campaign WHERE Id = '${id}'`);
    expect(live.records).toEqual([]);
    const all = await conn.query<{ Id: string; IsDeleted: boolean }>(
      `SELECT Id, IsDeleted FROM Campaign WHERE Id = '${id}'`,
      { scanAll: true },
    );
    expect(all.records).toMatchObject([{ Id: id, IsDeleted: true }]);
    const missing = await conn
      .sobject('Campaign')
      .retrieve('701000000000000AAA')
      .catch((error: { errorCode?: string }) => error);
    expect(missing).toMatchObject({ errorCode: 'NOT_FOUND' });
  });
});
