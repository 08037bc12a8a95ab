import { afterEach, describe, expect, it } from 'vitest';
import { contactPartition, loadPage, storeDigest, type Store } from '../../core/index.js';
import type { ContactRecord, SourceRecord } from '../../plugins/model/index.js';
import { engines, postgres, sqlite, type TestEngine } from '../support/engines.js';
import { contact, event, seeded, shuffle } from '../store/fixtures.js';

const LIMIT = 3;
const ROLES = new Set(['info', 'sales']);

/** People seen by several tools, with case variants, linked ids, shared inboxes, role addresses and events. */
function world(): SourceRecord[] {
  const random = seeded(7);
  const records: SourceRecord[] = [];
  for (let p = 0; p < 60; p++) {
    const email = `person${p}@example.com`;
    const variant = random() < 0.5 ? email.toUpperCase() : ` ${email}`;
    const stamp = `2026-0${1 + Math.floor(random() * 8)}-0${1 + Math.floor(random() * 8)}T00:00:00Z`;
    records.push(contact('hubspot', `h${p}`, { email, first_name: `P${p}`, updated_at: stamp }));
    if (random() < 0.6)
      records.push(contact('salesforce', `s${p}`, { email: variant, city: `C${p % 5}`, updated_at: stamp }));
    if (random() < 0.3) {
      // a converted lead with an old email, linked to the contact
      records.push(contact('salesforce', `lead${p}`, { email: `old${p}@example.com` }, { linkedIds: [`s${p}`] }));
    }
    if (random() < 0.3)
      records.push(contact('hubspot', `h${p}`, { email, first_name: `P${p}bis`, updated_at: '2026-09-01T00:00:00Z' }));
    if (p % 10 === 0) records.push(contact('mailchimp', `m${p}`, { email: 'info@example.com' }));
    if (p % 15 === 0) records.push(contact('mailchimp', `f${p}`, { email: 'family@home.example' }));
    if (p % 25 === 0) records.push(contact('zendesk', `z${p}`, { email: 'couple@home.example' }));
    for (let e = 0; e < 3; e++) {
      const who = random() < 0.5 ? { email: variant } : { externalId: `h${p}` };
      records.push(
        event(
          random() < 0.5 ? 'mailchimp' : 'hubspot',
          `ev-${p}-${e}`,
          who,
          'email_click',
          `2026-01-0${1 + e}T10:00:00Z`,
        ),
      );
    }
  }
  return records;
}

/** An independent reference: union-find straight over the records, as the rules state them. */
function expectedPartition(records: SourceRecord[]): string[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    if (!parent.has(x)) parent.set(x, x);
    const p = parent.get(x) as string;
    if (p === x) return x;
    const r = find(p);
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string) => parent.set(find(a), find(b));
  const latest = new Map<string, ContactRecord>();
  const emailOf = new Map<string, string>();
  for (const r of records) {
    if (r.kind === 'contact') {
      const key = `${r.source}:${r.externalId}`;
      const prev = latest.get(key);
      if (!prev || String(r.traits.updated_at ?? '') >= String(prev.traits.updated_at ?? '')) latest.set(key, r);
      for (const l of r.linkedIds ?? []) union(key, `${r.source}:${l}`);
      find(key);
    } else {
      const key = r.contact.externalId
        ? `${r.source}:${r.contact.externalId}`
        : `${r.source}:<${String(r.contact.email).trim().toLowerCase()}>`;
      find(key);
      if (!r.contact.externalId) emailOf.set(key, String(r.contact.email).trim().toLowerCase());
    }
  }
  for (const [key, r] of latest) emailOf.set(key, String(r.traits.email).trim().toLowerCase());
  const holders = new Map<string, string[]>();
  for (const [key, email] of emailOf) holders.set(email, [...(holders.get(email) ?? []), key]);
  for (const [email, keys] of holders) {
    if (ROLES.has(email.split('@')[0] as string) || keys.length > LIMIT) continue;
    for (const k of keys) union(k, keys[0] as string);
  }
  const groups = new Map<string, string[]>();
  for (const key of parent.keys()) groups.set(find(key), [...(groups.get(find(key)) ?? []), key]);
  return [...groups.values()].map((g) => g.sort()).sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
}

async function loadShuffled(store: Store, records: SourceRecord[], seed: number): Promise<void> {
  const random = seeded(seed);
  const shuffled = shuffle(records, random);
  for (let i = 0; i < shuffled.length;) {
    const size = 1 + Math.floor(random() * 40);
    await loadPage(store, {
      connection: 'test',
      stream: 'all',
      records: shuffled.slice(i, i + size),
      checkpoint: 'done',
      identity: { sharedEmailLimit: LIMIT, roleAddresses: [...ROLES] },
    });
    i += size;
  }
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

/** A migrated store on a fresh location of `engine`, closed (and its location removed) after the test. */
async function fresh(engine: TestEngine): Promise<Store> {
  const opened = await engine.open();
  closers.push(opened.close);
  return opened.store;
}

for (const engine of engines)
  describe(`identity resolution on ${engine.name} does not depend on arrival order`, () => {
    const records = world();
    const expected = expectedPartition(records);

    it('the reference world exercises merges, shared inboxes and role addresses', () => {
      expect(expected.some((g) => g.length >= 3)).toBe(true);
      expect(expected.filter((g) => g.some((k) => k.startsWith('mailchimp:f'))).length).toBeGreaterThan(1);
    });

    for (const seed of [1, 2, 3, 4, 5]) {
      it(`gives the reference partition and the same store for shuffle seed ${seed}`, async () => {
        const inOrder = await fresh(engine);
        const shuffled = await fresh(engine);
        await loadShuffled(inOrder, records, 1000);
        await loadShuffled(shuffled, records, seed);
        expect(await contactPartition(shuffled)).toEqual(expected);
        // Same partition, same traits per contact, same identities and events: the whole content digests equal.
        expect(await storeDigest(shuffled)).toBe(await storeDigest(inOrder));
      });
    }
  });

describe('identity resolution on both engines', () => {
  it('gives the same store on SQLite and PostgreSQL for the same pages', async () => {
    const records = world();
    const [onSqlite, onPostgres] = [await fresh(sqlite), await fresh(postgres)];
    await loadShuffled(onSqlite, records, 3);
    await loadShuffled(onPostgres, records, 3);
    expect(await contactPartition(onPostgres)).toEqual(expectedPartition(records));
    expect(await storeDigest(onPostgres)).toBe(await storeDigest(onSqlite));
  });
});
