import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type WorldTool } from '../../plugins/sandbox/index.js';
import { tempDir } from '../support/temp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PEOPLE = 400;
const SEED = 'e2e';

/**
 * Runs `segflow demo` as a user would (a child process, the real SDKs against the sandboxes), then checks the store
 * against the synthetic world's ground truth rather than against our own queries.
 */
describe('the demo, end to end, against the world it was drawn from', () => {
  let dir: string;
  let first: ReturnType<typeof spawnSync>;
  let identities: { contact_id: number; source: string; external_id: string | null; email: string | null }[];
  let members: Map<string, Set<number>>;
  const world = createWorld({ seed: SEED, people: PEOPLE });

  beforeAll(() => {
    dir = tempDir('segflow-demo-');
    first = spawnSync(
      process.execPath,
      ['bin/segflow.js', 'demo', '--people', String(PEOPLE), '--seed', SEED, '--store', join(dir, 'demo.db')],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    const db = new Database(join(dir, 'demo.db'), { readonly: true });
    identities = db.prepare('SELECT contact_id, source, external_id, email FROM identities').all() as typeof identities;
    members = new Map();
    for (const row of db.prepare('SELECT segment_key, contact_id FROM memberships').all() as {
      segment_key: string;
      contact_id: number;
    }[]) {
      members.set(row.segment_key, (members.get(row.segment_key) ?? new Set()).add(row.contact_id));
    }
    db.close();
  }, 300_000);

  function personOf(row: (typeof identities)[number]): number | undefined {
    if (row.external_id) return world.findByToolId(row.source as WorldTool, row.external_id.split(':').pop()!);
    return row.email ? world.findByEmail(row.email)[0] : undefined;
  }

  it('reads every source, computes segments and pushes them to every tool', () => {
    expect(first.status, String(first.stderr)).toBe(0);
    expect(first.stdout).toMatch(/People after identity resolution/);
    for (const stream of ['hubspot/contacts', 'salesforce/contacts', 'salesforce/leads', 'mailchimp/members']) {
      expect(first.stdout).toMatch(new RegExp(`${stream}: succeeded, [\\d,]+ read`));
    }
    for (const destination of ['hubspot_lists', 'salesforce_campaigns', 'mailchimp_tags', 'segment']) {
      expect(first.stdout).toMatch(new RegExp(`push to ${destination}: succeeded`));
    }
    expect(first.stdout).toMatch(/churned: succeeded, [1-9][\d,]* added/);
  });

  it('reads tickets, survey answers, cases and comments, and prints the topics of the world’s tickets', () => {
    for (const stream of [
      'hubspot/tickets',
      'hubspot/feedback_submissions',
      'salesforce/cases',
      'salesforce/case_comments',
    ])
      expect(first.stdout).toMatch(new RegExp(`${stream}: succeeded, [1-9][\\d,]* read`));
    const voice = String(first.stdout).split('Voice of the customer')[1]?.split('\n\n')[0] ?? '';
    // The world writes tickets on five topics; each is found, named by words only its tickets use.
    for (const words of [
      /\b(invoice|payment)\b/,
      /\b(parcel|delivery)\b/,
      /\b(login|password)\b/,
      /\b(error|app)\b/,
      /\b(subscription|cancel)\b/,
    ])
      expect(voice, String(first.stdout)).toMatch(words);
    expect(voice).toMatch(/NPS: [\d,]+ promoters, [\d,]+ passives, [\d,]+ detractors/);
    for (const key of ['engaged_advocates', 'frustrated_high_value', 'detractors_at_risk'])
      expect(voice).toMatch(new RegExp(`${key} +[\\d,]+`));
  });

  it('every record read traces back to a person of the world', () => {
    expect(identities.length).toBeGreaterThan(PEOPLE / 2);
    expect(identities.filter((row) => personOf(row) === undefined)).toEqual([]);
  });

  it('never puts two people of the world into one contact', () => {
    const peopleOf = new Map<number, Set<number>>();
    for (const row of identities) {
      const people = peopleOf.get(row.contact_id) ?? new Set<number>();
      people.add(personOf(row)!);
      peopleOf.set(row.contact_id, people);
    }
    const chained = [...peopleOf.values()].filter((people) => people.size > 1);
    expect(chained).toEqual([]);
  });

  it('makes one contact of each person seen by several tools (role addresses excepted, by design)', () => {
    const contactsOf = new Map<number, Set<number>>();
    for (const row of identities) {
      const person = personOf(row)!;
      const contacts = contactsOf.get(person) ?? new Set<number>();
      contacts.add(row.contact_id);
      contactsOf.set(person, contacts);
    }
    const severalTools = [...contactsOf.keys()].filter((p) => Object.keys(world.person(p).tools).length > 1);
    expect(severalTools.length).toBeGreaterThan(PEOPLE / 10);
    const split = severalTools.filter((p) => contactsOf.get(p)!.size > 1 && !world.person(p).roleAddress);
    expect(split).toEqual([]);
  });

  /** What a sandbox saved of what was written to it (the demo keeps it beside the store). */
  function sandboxState<T>(tool: string): T {
    return JSON.parse(readFileSync(join(dir, 'sandboxes', `${SEED}-${PEOPLE}`, `${tool}.json`), 'utf8')) as T;
  }

  /**
   * The people of the world each tool should now hold in a segment's list: everyone the tool holds (by the world's own
   * record of who is where) whose contact is a member, less, in Mailchimp (pushed with require_consent), anyone the
   * world says unsubscribed or bounced. Role addresses are left out on both sides: colleagues share them by design.
   */
  function expectedInTool(tool: WorldTool, segment: string): Set<number> {
    const contactOf = new Map<number, number>();
    for (const row of identities) {
      if (row.source !== tool) continue;
      const person = personOf(row);
      if (person !== undefined) contactOf.set(person, row.contact_id);
    }
    const expected = new Set<number>();
    for (const [person, contact] of contactOf) {
      const p = world.person(person);
      if (p.roleAddress || !members.get(segment)?.has(contact)) continue;
      if (tool === 'hubspot' && p.tools.hubspot?.archived) continue;
      if (tool === 'salesforce' && p.tools.salesforce?.deleted) continue;
      if (tool === 'mailchimp') {
        const audience = p.tools.mailchimp?.audiences.find((a) => a.listId === world.audiences[0]!.id);
        if (!audience || audience.status === 'archived' || p.consent === 'unsubscribed' || p.consent === 'cleaned')
          continue;
      }
      expected.add(person);
    }
    return expected;
  }

  const withoutRoleAddresses = (people: Iterable<number | undefined>) =>
    new Set([...people].filter((p): p is number => p !== undefined && !world.person(p).roleAddress));

  const PUSHED = {
    churned: 'Churned',
    new_customers: 'New Customers',
    engaged_advocates: 'Engaged Advocates',
    rfm_champions: 'RFM: Champions',
  } as const;

  it('each tool holds exactly the right people in each pushed segment, found through the world’s own ids', () => {
    const hubspot = sandboxState<{ lists: { name: string; members: [string, number][] }[] }>('hubspot');
    const salesforce = sandboxState<{ rows: { type: string; row: Record<string, unknown> }[] }>('salesforce');
    const mailchimp = sandboxState<{ segments: { name: string; listId: string; members: string[] }[] }>('mailchimp');
    const hashes = new Map<string, number>();
    for (let i = 0; i < world.size; i++) {
      for (const a of world.person(i).tools.mailchimp?.audiences ?? []) hashes.set(a.subscriberHash, i);
    }
    for (const [key, name] of Object.entries(PUSHED)) {
      if (key === 'churned' || key === 'new_customers') expect(members.get(key)?.size ?? 0, key).toBeGreaterThan(0);
      const list = hubspot.lists.find((l) => l.name === `segflow: ${name}`);
      expect(list, `HubSpot list for ${key}`).toBeDefined();
      const inHubSpot = withoutRoleAddresses(list!.members.map(([id]) => world.findByToolId('hubspot', id)));
      expect(inHubSpot, `HubSpot ${key}`).toEqual(expectedInTool('hubspot', key));

      const campaign = salesforce.rows.find((r) => r.type === 'Campaign' && r.row.Name === name);
      expect(campaign, `Salesforce campaign for ${key}`).toBeDefined();
      const inSalesforce = withoutRoleAddresses(
        salesforce.rows
          .filter((r) => r.type === 'CampaignMember' && r.row.CampaignId === campaign!.row.Id && !r.row.IsDeleted)
          .map((r) => world.findByToolId('salesforce', String(r.row.ContactId ?? r.row.LeadId))),
      );
      expect(inSalesforce, `Salesforce ${key}`).toEqual(expectedInTool('salesforce', key));

      const tag = mailchimp.segments.find((t) => t.name === name && t.listId === world.audiences[0]!.id);
      expect(tag, `Mailchimp tag for ${key}`).toBeDefined();
      const inMailchimp = withoutRoleAddresses(tag!.members.map((hash) => hashes.get(hash)));
      expect(inMailchimp, `Mailchimp ${key}`).toEqual(expectedInTool('mailchimp', key));
    }
  });

  it('nobody the world says unsubscribed was tagged or re-subscribed in Mailchimp', () => {
    const mailchimp = sandboxState<{
      members: { email_address?: string; status?: string }[];
      segments: { members: string[] }[];
    }>('mailchimp');
    const optedOut = new Set<string>();
    for (let i = 0; i < world.size; i++) {
      const p = world.person(i);
      if (p.consent !== 'unsubscribed' && p.consent !== 'cleaned') continue;
      for (const a of p.tools.mailchimp?.audiences ?? []) optedOut.add(a.subscriberHash);
    }
    expect(optedOut.size).toBeGreaterThan(0);
    expect(mailchimp.segments.flatMap((s) => s.members).filter((hash) => optedOut.has(hash))).toEqual([]);
    const resubscribed = mailchimp.members.filter((m) => m.status === 'subscribed' && m.email_address !== undefined);
    expect(
      resubscribed.filter((m) =>
        world.findByEmail(m.email_address!).some((i) => world.person(i).consent !== 'subscribed'),
      ),
    ).toEqual([]);
  });

  it('Segment received each member’s entry, with traits that name the person the world knows', () => {
    const segment = sandboxState<{ profiles: Record<string, { traits: Record<string, unknown> }> }>('segment');
    for (const key of Object.keys(PUSHED)) {
      const flagged = Object.entries(segment.profiles).filter(([, profile]) => profile.traits[key] === true);
      // a contact known only by a shared role address, with no tool id, has nothing of its own to identify it by
      const identifiable = [...(members.get(key) ?? [])].filter((contact) =>
        identities.some(
          (r) => r.contact_id === contact && (r.external_id !== null || !world.person(personOf(r)!).roleAddress),
        ),
      );
      expect(new Set(flagged.map(([userId]) => Number(userId))), key).toEqual(new Set(identifiable));
      for (const [userId, profile] of flagged) {
        const people = world.findByEmail(String(profile.traits.email));
        expect(people.length, `profile ${userId}`).toBeGreaterThan(0);
        const contacts = new Set(identities.filter((r) => people.includes(personOf(r)!)).map((r) => r.contact_id));
        expect(contacts.has(Number(userId)), `profile ${userId} is a contact of ${String(profile.traits.email)}`).toBe(
          true,
        );
      }
    }
  });

  it('a second run resumes from the checkpoints and the sandboxes’ saved state: nobody duplicated, nothing re-sent', () => {
    const second = spawnSync(
      process.execPath,
      ['bin/segflow.js', 'demo', '--people', String(PEOPLE), '--seed', SEED, '--store', join(dir, 'demo.db')],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    expect(second.status, String(second.stderr)).toBe(0);
    const db = new Database(join(dir, 'demo.db'), { readonly: true });
    const after = db.prepare('SELECT COUNT(*) AS n FROM identities').get() as { n: number };
    db.close();
    expect(after.n).toBe(identities.length);
    const contacts = (text: string) => Number(/([\d,]+) contacts in the store/.exec(text)?.[1]?.replace(/,/g, ''));
    expect(contacts(second.stdout)).toBe(contacts(String(first.stdout)));
    // nothing changed in the tools, so nothing is pushed again
    const pushed = [...second.stdout.matchAll(/(\d[\d,]*) added, (\d[\d,]*) removed/g)].map((m) => `${m[1]}/${m[2]}`);
    expect(pushed.length).toBeGreaterThan(0);
    expect(new Set(pushed)).toEqual(new Set(['0/0']));
  }, 300_000);
});
