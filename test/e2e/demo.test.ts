import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type WorldTool } from '../../plugins/sandbox/index.js';

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
  const world = createWorld({ seed: SEED, people: PEOPLE });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'segflow-demo-'));
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
