/**
 * Tool-shaped ids: Salesforce 15/18-character ids (with the real case-safe checksum), Mailchimp subscriber hashes.
 * Each id is derived from a number so a sandbox can map it back without a lookup table.
 */
import { createHash } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CHECKSUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * Salesforce key prefixes of the objects the sandboxes render.
 *
 * @example
 * salesforceId(SALESFORCE_PREFIX.Lead, 42); // a Lead id, '00Q8d…'
 */
export const SALESFORCE_PREFIX = {
  Account: '001',
  Contact: '003',
  User: '005',
  Opportunity: '006',
  Lead: '00Q',
  Task: '00T',
  Event: '00U',
  CampaignMember: '00v',
  Campaign: '701',
  Organization: '00D',
} as const;

/**
 * The 18-character Salesforce id for object number `n` with a key prefix (`003` Contact, `00Q` Lead…), checksum
 * included, so `id.slice(0, 15)` is the case-sensitive 15-character form.
 *
 * @example
 * salesforceId('003', 42) // '0038d000000000g' + checksum → '0038d000000000gAAA'-like
 */
export function salesforceId(prefix: string, n: number): string {
  if (prefix.length !== 3) throw new Error(`salesforceId: prefix must be 3 characters, got "${prefix}"`);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`salesforceId: n must be a non-negative integer, got ${n}`);
  let body = '';
  let rest = n;
  for (let i = 0; i < 9; i++) {
    body = BASE62[rest % 62] + body;
    rest = Math.floor(rest / 62);
  }
  const id15 = `${prefix}8d0${body}`;
  return id15 + salesforceChecksum(id15);
}

/**
 * The 3-character case-safe suffix Salesforce appends to a 15-character id.
 *
 * @example
 * salesforceChecksum('0038d0000000001'); // 'AAA': no upper-case letter in any of its three 5-character chunks
 */
export function salesforceChecksum(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0;
    for (let j = 0; j < 5; j++) {
      const c = id15.charCodeAt(chunk * 5 + j);
      if (c >= 65 && c <= 90) flags |= 1 << j;
    }
    suffix += CHECKSUM[flags];
  }
  return suffix;
}

/**
 * Reads back the prefix and number of an id made by {@link salesforceId} (15 or 18 characters); undefined when the
 * id is not one of ours or its checksum is wrong.
 *
 * @example
 * parseSalesforceId(salesforceId('00Q', 7)) // { prefix: '00Q', n: 7 }
 */
export function parseSalesforceId(id: string): { prefix: string; n: number } | undefined {
  if (id.length !== 15 && id.length !== 18) return undefined;
  const id15 = id.slice(0, 15);
  if (id.length === 18 && salesforceChecksum(id15) !== id.slice(15)) return undefined;
  if (id15.slice(3, 6) !== '8d0') return undefined;
  let n = 0;
  for (let i = 6; i < 15; i++) {
    const v = BASE62.indexOf(id15.charAt(i));
    if (v < 0) return undefined;
    n = n * 62 + v;
  }
  return { prefix: id15.slice(0, 3), n };
}

/**
 * Mailchimp's subscriber hash: the md5 of the lower-cased email address.
 *
 * @example
 * subscriberHash('Ada@Example.com') === subscriberHash('ada@example.com') // true
 */
export function subscriberHash(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}
