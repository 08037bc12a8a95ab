import { describe, expect, it } from 'vitest';
import { heldBy, readAtScale } from '../../bench/scale.js';

// The scale bench's read phase at toy scale: what it measures must be the whole of what the sandboxes hold.
describe('the scale bench read phase', () => {
  it(
    'reads every record of the HubSpot, Salesforce and Mailchimp sandboxes into SQLite and PostgreSQL with 1 and 2 workers, to equal stores',
    { timeout: 300_000 },
    async () => {
      const figures = await readAtScale(500, () => {});
      const { hubspotContacts, emailEvents, salesforceContacts, tasks, mailchimpMembers } = figures.sandboxes;
      expect(hubspotContacts + salesforceContacts + mailchimpMembers).toBeGreaterThanOrEqual(500);
      expect(emailEvents + tasks).toBeGreaterThanOrEqual(5_000);
      expect(figures.people).toBeLessThan(hubspotContacts + salesforceContacts + mailchimpMembers);
      expect(figures.cases.map((c) => [c.label, c.status])).toEqual([
        ['SQLite, one process', 'succeeded'],
        ['PostgreSQL, 1 worker', 'succeeded'],
        ['PostgreSQL, 2 workers', 'succeeded'],
      ]);
      for (const c of figures.cases) {
        expect(c.read).toBe(heldBy(figures.sandboxes));
        expect(c.contacts).toBe(figures.people);
        expect(c.events).toBe(emailEvents + tasks);
      }
      const [single, ...others] = figures.cases;
      expect(single!.digest).toMatch(/^[0-9a-f]{64}$/);
      for (const c of others) {
        expect([c.contacts, c.identities, c.events]).toEqual([single!.contacts, single!.identities, single!.events]);
        expect(c.digest).toBe(single!.digest);
      }
      expect(figures.cases[2]!.cpuMs.segflow).toHaveLength(2);
    },
  );
});
