/**
 * Fidelity of the Mailchimp sandbox to the facts in API-FACTS.md, checked with raw fetch and the official SDK, on
 * calls the connector does not make the same way. Each test pins one fact the connector relies on.
 */
import { createHash } from 'node:crypto';
import mailchimp from '@mailchimp/mailchimp_marketing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type MailchimpSandbox } from '../../../connectors/mailchimp/index.js';
import { tempDir } from '../../support/temp.js';

let sandbox: MailchimpSandbox;
let auth: string;
let list: string;

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'fidelity', people: 3_000 });
  auth = `Basic ${Buffer.from(`anystring:${sandbox.credentials.apiKey}`).toString('base64')}`;
  list = sandbox.world.audiences[0]!.id;
});
afterAll(() => sandbox.close());

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${sandbox.url}${path}`, {
    ...init,
    headers: { authorization: auth, 'content-type': 'application/json', ...init.headers },
  });

describe('mailchimp sandbox fidelity', () => {
  it('members pages hold at most 1000 (count=1000 works, 1001 is a 400) and offset walks the list', async () => {
    const first = await api(`/lists/${list}/members?count=1000&offset=0`);
    const body = (await first.json()) as { members: { id: string }[]; total_items: number };
    expect(body.total_items).toBeGreaterThan(1000);
    expect(body.members).toHaveLength(1000);
    const rest = (await (await api(`/lists/${list}/members?count=1000&offset=1000`)).json()) as {
      members: { id: string }[];
    };
    expect(rest.members).toHaveLength(body.total_items - 1000);
    const ids = new Set([...body.members, ...rest.members].map((m) => m.id));
    expect(ids.size).toBe(body.total_items);
    const tooMany = await api(`/lists/${list}/members?count=1001`);
    expect(tooMany.status).toBe(400);
  });

  it('since_last_changed is strictly after, and sort_field=last_changed ASC orders the members', async () => {
    const all = (await (
      await api(`/lists/${list}/members?count=1000&sort_field=last_changed&sort_dir=ASC`)
    ).json()) as {
      members: { id: string; last_changed: string }[];
    };
    const times = all.members.map((m) => Date.parse(m.last_changed));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const pivot = all.members[500]!.last_changed;
    const after = (await (
      await api(
        `/lists/${list}/members?count=1000&sort_field=last_changed&sort_dir=ASC&since_last_changed=${encodeURIComponent(pivot)}`,
      )
    ).json()) as {
      members: { last_changed: string }[];
    };
    expect(after.members.length).toBeGreaterThan(0);
    expect(after.members.every((m) => Date.parse(m.last_changed) > Date.parse(pivot))).toBe(true);
  });

  it('a member id is the md5 of the lower-cased email, and the member path accepts it', async () => {
    const body = (await (await api(`/lists/${list}/members?count=50`)).json()) as {
      members: { id: string; email_address: string }[];
    };
    for (const m of body.members) expect(m.id).toBe(md5(m.email_address.toLowerCase()));
    const written = body.members.find((m) => m.email_address !== m.email_address.toLowerCase()) ?? body.members[0]!;
    const one = await api(`/lists/${list}/members/${md5(written.email_address.toLowerCase())}`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as { email_address: string }).email_address).toBe(written.email_address);
  });

  it('static segment calls take at most 500 emails per side; beyond, a 400 "Maximum allowed member items exceeded"', async () => {
    const seg = (await (
      await api(`/lists/${list}/segments`, {
        method: 'POST',
        body: JSON.stringify({ name: 'fidelity cap', static_segment: [] }),
      })
    ).json()) as { id: number };
    const members = (await (await api(`/lists/${list}/members?count=501`)).json()) as {
      members: { email_address: string }[];
    };
    const emails = members.members.map((m) => m.email_address);
    const over = await api(`/lists/${list}/segments/${seg.id}`, {
      method: 'POST',
      body: JSON.stringify({ members_to_add: emails }),
    });
    expect(over.status).toBe(400);
    expect(over.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = (await over.json()) as { title: string; detail: string };
    expect(problem.title).toBe('Invalid Resource');
    expect(problem.detail).toMatch(/^Maximum allowed member items exceeded/);
    const ok = await api(`/lists/${list}/segments/${seg.id}`, {
      method: 'POST',
      body: JSON.stringify({ members_to_add: emails.slice(0, 500) }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { total_added: number }).total_added).toBe(500);
  });

  it('the member tags call answers 204 with an empty body, and the tag is a static segment', async () => {
    mailchimp.setConfig({ apiKey: sandbox.credentials.apiKey, server: sandbox.credentials.server });
    (mailchimp as unknown as { basePath: string }).basePath = sandbox.url;
    const members = (await (await api(`/lists/${list}/members?count=1`)).json()) as { members: { id: string }[] };
    const hash = members.members[0]!.id;
    const res = await api(`/lists/${list}/members/${hash}/tags`, {
      method: 'POST',
      body: JSON.stringify({ tags: [{ name: 'fidelity-vip', status: 'active' }] }),
    });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const viaSdk = await mailchimp.lists.updateListMemberTags(list, hash, {
      tags: [{ name: 'fidelity-vip', status: 'active' }],
    });
    expect(viaSdk).toBeNull();
    const lists = mailchimp.lists as unknown as { listSegments(id: string, opts: object): Promise<unknown> };
    const segments = (await lists.listSegments(list, { type: 'static', count: 1000 })) as {
      segments: { id: number; name: string; member_count: number }[];
    };
    const tag = segments.segments.find((s) => s.name === 'fidelity-vip');
    expect(tag?.member_count).toBe(1);
  });

  it('errors are application/problem+json with type, title, status, detail, instance; the SDK rejects with status and body', async () => {
    const res = await api(`/lists/nope/members`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Object.keys((await res.json()) as object).sort()).toEqual(['detail', 'instance', 'status', 'title', 'type']);
    const bad = await fetch(`${sandbox.url}/ping`, {
      headers: { authorization: `Basic ${Buffer.from('x:wrong-us21').toString('base64')}` },
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { title: string }).title).toBe('API Key Invalid');
    mailchimp.setConfig({ apiKey: sandbox.credentials.apiKey, server: sandbox.credentials.server });
    (mailchimp as unknown as { basePath: string }).basePath = sandbox.url;
    const error = await mailchimp.lists.getListMember(list, 'f'.repeat(32)).catch((e: unknown) => e);
    expect((error as { status: number }).status).toBe(404);
    expect((error as { response: { body: { title: string } } }).response.body.title).toBe('Resource Not Found');
  });

  it('more than 10 simultaneous connections of one key are answered 429', async () => {
    sandbox.latency.set(1500); // long enough that all 14 are open at once even on a loaded machine
    sandbox.recorder.clear();
    try {
      const statuses = await Promise.all(Array.from({ length: 14 }, () => api('/ping').then((r) => r.status)));
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    } finally {
      sandbox.latency.set(0);
    }
  });

  it('batch subscribe answers 200 with per-row errors, and the rest goes through', async () => {
    const res = await api(`/lists/${list}`, {
      method: 'POST',
      body: JSON.stringify({
        members: [
          { email_address: 'new.fidelity@example.com', status: 'subscribed' },
          { email_address: 'not an email', status: 'subscribed' },
        ],
        update_existing: false,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      total_created: number;
      error_count: number;
      errors: { email_address: string; error_code: string }[];
    };
    expect(body.total_created).toBe(1);
    expect(body.error_count).toBe(1);
    expect(body.errors[0]).toMatchObject({ email_address: 'not an email', error_code: 'ERROR_GENERIC' });
  });

  it('a permanently deleted email cannot be re-added', async () => {
    const email = 'forget.me@example.com';
    await api(`/lists/${list}`, {
      method: 'POST',
      body: JSON.stringify({ members: [{ email_address: email, status: 'subscribed' }] }),
    });
    const del = await api(`/lists/${list}/members/${md5(email)}/actions/delete-permanent`, { method: 'POST' });
    expect(del.status).toBe(204);
    expect((await api(`/lists/${list}/members/${md5(email)}`)).status).toBe(404);
    const again = await api(`/lists/${list}/members/${md5(email)}`, {
      method: 'PUT',
      body: JSON.stringify({ email_address: email, status_if_new: 'subscribed' }),
    });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { title: string }).title).toBe('Forgotten Email Not Subscribed');
    const batch = (await (
      await api(`/lists/${list}`, {
        method: 'POST',
        body: JSON.stringify({ members: [{ email_address: email, status: 'subscribed' }] }),
      })
    ).json()) as { error_count: number; errors: { error: string }[] };
    expect(batch.error_count).toBe(1);
    expect(batch.errors[0]!.error).toMatch(/permanently deleted/);
  });
});

describe('mailchimp sandbox state', () => {
  it('keeps written members, tags and permanent deletes across a restart when given a state file', async () => {
    const { join } = await import('node:path');
    const statePath = join(tempDir('mc-state-'), 'mailchimp.json');
    const first = await startSandbox({ seed: 'state', people: 200, statePath });
    const listId = first.world.audiences[0]!.id;
    const headers = {
      authorization: `Basic ${Buffer.from(`x:${first.credentials.apiKey}`).toString('base64')}`,
      'content-type': 'application/json',
    };
    await fetch(`${first.url}/lists/${listId}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ members: [{ email_address: 'kept@example.com', status: 'pending', tags: ['Kept tag'] }] }),
    });
    await first.close();
    const second = await startSandbox({ seed: 'state', people: 200, statePath, apiKey: first.credentials.apiKey });
    try {
      const member = (await (
        await fetch(`${second.url}/lists/${listId}/members/${md5('kept@example.com')}`, { headers })
      ).json()) as { status: string; tags: { name: string }[] };
      expect(member.status).toBe('pending');
      expect(member.tags.map((t) => t.name)).toEqual(['Kept tag']);
    } finally {
      await second.close();
    }
  });
});
