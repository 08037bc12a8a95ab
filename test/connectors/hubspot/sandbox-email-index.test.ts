// The HubSpot sandbox finds a contact by email through an index (a batch upsert of 100 emails against a portal of
// many contacts must not scan them all per email); it must answer exactly what a scan of every contact would.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Portal, startSandbox, type HubSpotSandbox } from '../../../connectors/hubspot/sandbox/index.js';
import { fast } from './fixture.js';

/** What the portal answered before it had an index: the first live contact in its order with that email. */
function scan(portal: Portal, email: string) {
  const wanted = email.trim().toLowerCase();
  for (const contact of portal.contacts.values())
    if (!contact.archived && contact.properties.email?.toLowerCase() === wanted) return contact;
  return undefined;
}

const EMAILS = ['ann@example.com', 'ANN@example.com', 'bob@example.com', 'cy@example.com'];

type Op =
  | { kind: 'put'; id: number; email: number | null }
  | { kind: 'archive'; id: number }
  | { kind: 'merge'; survivor: number; loser: number }
  | { kind: 'delete'; id: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    id: fc.integer({ min: 1, max: 6 }),
    email: fc.option(fc.integer({ min: 0, max: EMAILS.length - 1 })),
  }),
  fc.record({ kind: fc.constant('archive' as const), id: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    kind: fc.constant('merge' as const),
    survivor: fc.integer({ min: 1, max: 6 }),
    loser: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 1, max: 6 }) }),
);

describe('HubSpot sandbox: contacts by email', () => {
  it('answers what a scan of every contact answers, through puts, email changes, archives, merges and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const portal = new Portal(() => 1_700_000_000_000);
        for (const o of ops) {
          if (o.kind === 'put') {
            const id = String(o.id);
            const existing = portal.contacts.get(id);
            const email = o.email === null ? null : (EMAILS[o.email] as string);
            // A contact put again is changed in place, as the batch update route does.
            const contact = existing ?? { id, properties: {}, createdAt: 1, updatedAt: 1, archived: false };
            contact.properties.email = email;
            portal.putContact(contact);
          } else if (o.kind === 'archive') portal.archiveContact(String(o.id));
          else if (o.kind === 'merge') {
            if (
              o.survivor !== o.loser &&
              portal.contacts.has(String(o.survivor)) &&
              portal.contacts.has(String(o.loser))
            )
              portal.mergeContacts(String(o.survivor), String(o.loser));
          } else portal.gdprDelete(String(o.id));
          for (const email of [...EMAILS, ' bob@example.com ', 'nobody@example.com'])
            expect(portal.findContactByEmail(email)?.id).toBe(scan(portal, email)?.id);
        }
      }),
      { numRuns: 300 },
    );
  });

  describe('over HTTP', () => {
    let sandbox: HubSpotSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ seed: 'email-index', people: 50, limits: fast });
    });
    afterAll(async () => {
      await sandbox.close();
    });

    it('upserts by an email a batch update gave a contact, and creates anew under the address it left', async () => {
      const post = async (action: string, inputs: unknown[]) =>
        (await (
          await fetch(`${sandbox.url}/crm/v3/objects/contacts/batch/${action}`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${sandbox.credentials.accessToken}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ inputs }),
          })
        ).json()) as { results: { id: string; new?: boolean }[] };
      const [made] = (await post('upsert', [{ idProperty: 'email', id: 'moving@example.com', properties: {} }]))
        .results;
      expect(made?.new).toBe(true);
      await post('update', [{ id: made?.id, properties: { email: 'moved@example.com' } }]);
      const [found] = (await post('upsert', [{ idProperty: 'email', id: 'MOVED@example.com', properties: {} }]))
        .results;
      expect(found).toMatchObject({ id: made?.id, new: false });
      const [fresh] = (await post('upsert', [{ idProperty: 'email', id: 'moving@example.com', properties: {} }]))
        .results;
      expect(fresh?.new).toBe(true);
      expect(fresh?.id).not.toBe(made?.id);
    });
  });
});
