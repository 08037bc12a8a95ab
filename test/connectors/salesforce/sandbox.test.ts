/**
 * Sandbox fidelity, written from API-FACTS.md and independent of the connector: raw HTTP and jsforce calls the
 * connector does not make, one test per fact the issue lists.
 */
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { salesforceId } from '../../../plugins/sandbox/index.js';
import { startSandbox, type SalesforceSandbox } from '../../../connectors/salesforce/sandbox/index.js';

let sandbox: SalesforceSandbox;
let token: string;
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${sandbox.url}/services/data/v62.0${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(init.headers as Record<string, string>),
    },
  });

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'fidelity', people: 300 });
  token = sandbox.credentials.accessToken as string;
  const at = sandbox.org.now();
  for (let n = 1; n <= 4500; n++) {
    const id = salesforceId('003', 70_000_000 + n);
    sandbox.org.put('Contact', {
      Id: id,
      IsDeleted: false,
      CreatedDate: at,
      LastModifiedDate: at,
      SystemModstamp: at,
      LastName: `Paging ${n}`,
      Email: `paging.${n}@example.com`,
      LeadSource: 'Fidelity',
    });
  }
});
afterAll(() => sandbox.close());

describe('Salesforce sandbox fidelity', () => {
  it('pages query results through nextRecordsUrl in batches of 2,000', async () => {
    const q = encodeURIComponent("SELECT Id FROM Contact WHERE LeadSource = 'Fidelity' ORDER BY Id");
    const first = (await (await api(`/query?q=${q}`)).json()) as {
      totalSize: number;
      done: boolean;
      nextRecordsUrl: string;
      records: unknown[];
    };
    expect(first).toMatchObject({ totalSize: 4500, done: false });
    expect(first.records).toHaveLength(2000);
    expect(first.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g[0-9a-zA-Z]+-2000$/);
    const second = (await (
      await fetch(`${sandbox.url}${first.nextRecordsUrl}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as typeof first;
    expect(second.records).toHaveLength(2000);
    const third = (await (
      await fetch(`${sandbox.url}${second.nextRecordsUrl}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as typeof first;
    expect(third.records).toHaveLength(500);
    expect(third.done).toBe(true);
    expect(third.nextRecordsUrl).toBeUndefined();
    const small = (await (
      await api(`/query?q=${q}`, { headers: { 'Sforce-Query-Options': 'batchSize=200' } })
    ).json()) as typeof first;
    expect(small.records).toHaveLength(200);
  });

  it('jsforce autoFetch stops at maxFetch unless raised, and follows every locator when raised', async () => {
    const conn = new Connection({ instanceUrl: sandbox.url, accessToken: token, version: '62.0' });
    const capped = await conn.query("SELECT Id FROM Contact WHERE LeadSource = 'Fidelity'", {
      autoFetch: true,
      maxFetch: 3000,
    });
    expect(capped.records).toHaveLength(3000);
    const all = await conn.query("SELECT Id FROM Contact WHERE LeadSource = 'Fidelity'", {
      autoFetch: true,
      maxFetch: 100_000,
    });
    expect(all.records).toHaveLength(4500);
  });

  it('refuses a collection of more than 200 records and takes 200', async () => {
    const records = (n: number) =>
      Array.from({ length: n }, (_, k) => ({ attributes: { type: 'Lead' }, LastName: `Bulk ${k}`, Company: 'Acme' }));
    const over = await api('/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({ allOrNone: false, records: records(201) }),
    });
    expect(over.status).toBe(400);
    expect(((await over.json()) as { errorCode: string }[])[0]?.errorCode).toBe('EXCEEDED_ID_LIMIT');
    const ok = await api('/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({ allOrNone: false, records: records(200) }),
    });
    const results = (await ok.json()) as { success: boolean }[];
    expect(results).toHaveLength(200);
    expect(results.every((r) => r.success)).toBe(true);
  });

  it('answers DUPLICATE_VALUE for a second CampaignMember of the same person, per row', async () => {
    const conn = new Connection({ instanceUrl: sandbox.url, accessToken: token, version: '62.0' });
    const campaign = await conn.create('Campaign', [{ Name: 'Dup test' }]);
    const campaignId = campaign[0]?.id as string;
    const contactId = salesforceId('003', 70_000_001);
    const member = { CampaignId: campaignId, ContactId: contactId, Status: 'Sent' };
    const [first] = await conn.create('CampaignMember', [member]);
    expect(first?.success).toBe(true);
    const [again, other] = await conn.create('CampaignMember', [
      member,
      { CampaignId: campaignId, ContactId: salesforceId('003', 70_000_002) },
    ]);
    expect(again).toMatchObject({ success: false, errors: [{ statusCode: 'DUPLICATE_VALUE' }] });
    expect(other?.success).toBe(true);
  });

  it('answers MALFORMED_QUERY for SOQL outside the subset', async () => {
    const res = await api(`/query?q=${encodeURIComponent('SELECT COUNT() FROM Contact GROUP BY LeadSource')}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errorCode: string }[])[0]?.errorCode).toBe('MALFORMED_QUERY');
    const conn = new Connection({ instanceUrl: sandbox.url, accessToken: token, version: '62.0' });
    await expect(conn.query('SELECT Id FROM Contact WHERE Email LIKE')).rejects.toMatchObject({
      errorCode: 'MALFORMED_QUERY',
    });
  });

  it('sends Sforce-Limit-Info with the usage on every API response', async () => {
    const a = await api('/limits');
    const b = await api('/limits');
    const usage = (res: Response) => /^api-usage=(\d+)\/(\d+)$/.exec(res.headers.get('sforce-limit-info') ?? '');
    const [ua, ub] = [usage(a), usage(b)];
    expect(ua?.[2]).toBe('100000');
    expect(Number(ub?.[1])).toBe(Number(ua?.[1]) + 1);
  });

  it('answers 403 REQUEST_LIMIT_EXCEEDED once the daily allocation is used', async () => {
    const small = await startSandbox({ seed: 'limit', people: 20, limits: { dailyRequests: 2 } });
    try {
      const call = () =>
        fetch(`${small.url}/services/data/v62.0/limits`, {
          headers: { authorization: `Bearer ${small.credentials.accessToken}` },
        });
      expect((await call()).status).toBe(200);
      expect((await call()).status).toBe(200);
      const over = await call();
      expect(over.status).toBe(403);
      expect(await over.json()).toEqual([
        { errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' },
      ]);
    } finally {
      await small.close();
    }
  });

  it('shows deleted rows to queryAll with IsDeleted, not to query, and lists them as deleted', async () => {
    const id = salesforceId('003', 70_000_100);
    const del = await api(`/composite/sobjects?ids=${id}`, { method: 'DELETE' });
    expect(((await del.json()) as { success: boolean }[])[0]?.success).toBe(true);
    const q = encodeURIComponent(`SELECT Id, IsDeleted FROM Contact WHERE Id = '${id}'`);
    const live = (await (await api(`/query?q=${q}`)).json()) as { totalSize: number };
    const all = (await (await api(`/queryAll?q=${q}`)).json()) as {
      totalSize: number;
      records: { IsDeleted: boolean }[];
    };
    expect(live.totalSize).toBe(0);
    expect(all.records).toMatchObject([{ IsDeleted: true }]);
    const conn = new Connection({ instanceUrl: sandbox.url, accessToken: token, version: '62.0' });
    const now = new Date(sandbox.org.now() + 1000);
    const deleted = await conn.sobject('Contact').deleted(new Date(now.getTime() - 86_400_000), now);
    expect(deleted.deletedRecords.map((d) => d.id)).toContain(id);
    const again = await api(`/composite/sobjects?ids=${id}`, { method: 'DELETE' });
    expect(((await again.json()) as { errors: { statusCode: string }[] }[])[0]?.errors[0]?.statusCode).toBe(
      'ENTITY_IS_DELETED',
    );
  });

  it('answers 401 INVALID_SESSION_ID after the session expires, and the password flow issues a new one', async () => {
    const own = await startSandbox({ seed: 'session', people: 20 });
    try {
      const conn = new Connection({
        loginUrl: own.url,
        version: '62.0',
        oauth2: {
          clientId: own.credentials.clientId as string,
          clientSecret: own.credentials.clientSecret as string,
          loginUrl: own.url,
        },
      });
      await conn.login(own.credentials.username as string, own.credentials.password as string);
      const bare = new Connection({ instanceUrl: own.url, accessToken: conn.accessToken as string, version: '62.0' });
      await bare.query('SELECT Id FROM Campaign');
      own.expireSessions();
      await expect(bare.query('SELECT Id FROM Campaign')).rejects.toMatchObject({ errorCode: 'INVALID_SESSION_ID' });
      const bad = new Connection({
        loginUrl: own.url,
        version: '62.0',
        oauth2: {
          clientId: own.credentials.clientId as string,
          clientSecret: own.credentials.clientSecret as string,
          loginUrl: own.url,
        },
      });
      await expect(bad.login(own.credentials.username as string, 'wrong')).rejects.toMatchObject({
        name: 'invalid_grant',
      });
    } finally {
      await own.close();
    }
  });

  it('answers UNABLE_TO_LOCK_ROW per row while the lock fault is on', async () => {
    sandbox.org.faults.lockRows = 1;
    const res = await api('/composite/sobjects', {
      method: 'POST',
      body: JSON.stringify({
        allOrNone: false,
        records: [
          { attributes: { type: 'Lead' }, LastName: 'A', Company: 'X' },
          { attributes: { type: 'Lead' }, LastName: 'B', Company: 'X' },
        ],
      }),
    });
    const results = (await res.json()) as { success: boolean; errors: { statusCode: string }[] }[];
    expect(results[0]?.errors[0]?.statusCode).toBe('UNABLE_TO_LOCK_ROW');
    expect(results[1]?.success).toBe(true);
  });

  it('renders the world: a converted lead points at its contact, emails as written', async () => {
    const world = sandbox.world;
    const converted = Array.from(world.toolIndex('salesforce'))
      .map((i) => world.person(i))
      .find((p) => p.tools.salesforce?.converted && !p.tools.salesforce.deleted);
    expect(converted).toBeDefined();
    const sf = converted?.tools.salesforce;
    const conn = new Connection({ instanceUrl: sandbox.url, accessToken: token, version: '62.0' });
    const lead = await conn.query<{ IsConverted: boolean; ConvertedContactId: string; Email: string }>(
      `SELECT IsConverted, ConvertedContactId, Email FROM Lead WHERE Id = '${sf?.leadId}'`,
    );
    expect(lead.records[0]).toMatchObject({ IsConverted: true, ConvertedContactId: sf?.contactId, Email: sf?.email });
  });
  it('answers lookups by id, reference field (15 or 18 characters) and email with what a scan would, after edits too', async () => {
    const conn = new Connection({ instanceUrl: sandbox.url, accessToken: token, version: '62.0' });
    const [a, b] = [...sandbox.org.table('Account').keys()];
    const contacts = [...sandbox.org.table('Contact').values()].filter((c) => !c.IsDeleted);
    const scan = (account: string) =>
      contacts
        .filter((c) => c.AccountId === account)
        .map((c) => String(c.Id))
        .sort();
    const byAccount = async (account: string) =>
      (
        await conn.query<{ Id: string }>(
          `SELECT Id FROM Contact WHERE AccountId IN ('${account.slice(0, 15)}') ORDER BY Id`,
        )
      ).records.map((r) => r.Id);
    expect(await byAccount(a!)).toEqual(scan(a!));
    const moved = contacts.find((c) => c.AccountId === a)!;
    sandbox.org.touch('Contact', String(moved.Id), { AccountId: b! });
    expect(await byAccount(b!)).toContain(moved.Id);
    expect(await byAccount(a!)).not.toContain(moved.Id);
    const byId = await conn.query<{ Id: string }>(
      `SELECT Id FROM Contact WHERE LastName != null AND Id = '${String(moved.Id).slice(0, 15)}'`,
    );
    expect(byId.records.map((r) => r.Id)).toEqual([moved.Id]);
    sandbox.org.touch('Contact', String(moved.Id), { Email: 'Moved.Person@Example.com' });
    const either = await conn.query<{ Id: string }>(
      `SELECT Id FROM Contact WHERE Email IN ('moved.person@example.com') OR AccountId = '${a!}' ORDER BY Id`,
    );
    expect(either.records.map((r) => r.Id)).toEqual(
      [String(moved.Id), ...scan(a!).filter((id) => id !== moved.Id)].sort(),
    );
  });
});
