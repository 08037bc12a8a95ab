import type { SourceRecord } from '../../plugins/model/index.js';
import { contact, event, seeded } from './fixtures.js';

/** A deterministic source for crash tests: page i is always the same records, with overlap across pages. */
export const PAGES = 20;
export const PAGE_SIZE = 100;
export const CONNECTION = 'generated';
export const STREAM = 'everything';

export function generatedPage(index: number): SourceRecord[] {
  const random = seeded(1000 + index);
  const records: SourceRecord[] = [];
  const people = 300;
  for (let i = 0; i < PAGE_SIZE; i++) {
    const p = Math.floor(random() * people);
    const email = `person${p}@example.com`;
    const roll = random();
    if (roll < 0.25) {
      records.push(
        contact('hubspot', `h${p}`, {
          email: random() < 0.5 ? email.toUpperCase() : email,
          first_name: `P${p}`,
          lifecycle_stage: random() < 0.5 ? 'lead' : 'customer',
          updated_at: new Date(Date.UTC(2026, 0, 1 + index, 0, i)).toISOString(),
        }),
      );
    } else if (roll < 0.35) {
      records.push(
        contact(
          'salesforce',
          `lead${p}`,
          { email: `old${p}@example.com` },
          random() < 0.5 ? { linkedIds: [`s${p}`] } : {},
        ),
      );
    } else if (roll < 0.45) {
      records.push(contact('salesforce', `s${p}`, { email: ` ${email}`, city: `City${p % 7}` }));
    } else {
      const who = random() < 0.5 ? { email } : { externalId: random() < 0.5 ? `h${p}` : `s${p}` };
      const source = 'externalId' in who ? (who.externalId.startsWith('h') ? 'hubspot' : 'salesforce') : 'mailchimp';
      // Event ids repeat across pages now and then: re-reads that idempotent loads must absorb.
      const id = `ev-${Math.floor(random() * PAGES * PAGE_SIZE * 0.6)}`;
      records.push(
        event(
          source,
          id,
          who,
          'purchase',
          new Date(Date.UTC(2026, 1, 1 + (index % 20), i)).toISOString(),
          Math.round(random() * 100),
        ),
      );
    }
  }
  return records;
}

/** The checkpoint committed with page i. */
export function checkpointAfter(index: number): { page: number } {
  return { page: index };
}

/** The first page to load given a committed checkpoint. */
export function nextPage(checkpoint: unknown): number {
  return checkpoint && typeof checkpoint === 'object' && 'page' in checkpoint ? Number(checkpoint.page) + 1 : 0;
}
