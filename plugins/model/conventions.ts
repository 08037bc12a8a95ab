/**
 * The conventions of the canonical model that its types cannot say, which features and rules rely on:
 *
 * - **Timestamps** (`occurredAt`, the `created_at` and `updated_at` traits) are ISO-8601 in UTC, with `Z` (or
 *   `+00:00`): `2026-01-05T10:00:00.000Z`. Convert a tool's local or offset times before yielding them.
 * - **Currency** is `properties.currency` on an event with money (`purchase`, `deal_won`): an upper-case ISO 4217
 *   code, `USD`, never `usd` or `$`. An event without one is in the config's reporting currency. Money features
 *   convert through `currency.rates`, and leave out a purchase whose currency has no rate.
 * - **Values**: `value` is a finite amount in that currency. A `purchase`'s is the order total after discount and a
 *   `deal_won`'s the deal amount, neither negative (a refund is not a purchase: send it as a `custom` event named
 *   `refund`); `properties.discount`, when given, is the amount taken off, not negative either.
 *
 * A leaf module like the rest of the model; the conformance kit runs {@link conventionProblems} on every record.
 */
import type { StreamRecord } from './index.js';

/**
 * An upper-case ISO 4217 currency code: three letters A–Z.
 *
 * @example
 * CURRENCY_CODE.test('USD'); // true
 * CURRENCY_CODE.test('usd'); // false
 */
export const CURRENCY_CODE = /^[A-Z]{3}$/;

const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]00:?00)$/;

/**
 * Whether `text` is an ISO-8601 timestamp in UTC (ending in `Z` or `+00:00`) that names a real instant.
 *
 * @example
 * isUtcTimestamp('2026-01-05T10:00:00.000Z'); // true
 * isUtcTimestamp('2026-01-05T11:00:00+01:00'); // false: convert it to UTC first
 */
export function isUtcTimestamp(text: string): boolean {
  return UTC_TIMESTAMP.test(text) && Number.isFinite(Date.parse(text));
}

const MONEY_EVENTS = new Set(['purchase', 'deal_won']);

/**
 * Every way `record` breaks the conventions above, as sentences naming the field and what was expected; empty when
 * it keeps them.
 *
 * @example
 * conventionProblems({ kind: 'event', source: 'shop', sourceEventId: 'o1', type: 'purchase',
 *   occurredAt: '2026-01-05T10:00:00Z', contact: { email: 'ada@example.com' }, value: 40,
 *   properties: { currency: 'usd' } });
 * // ['properties.currency "usd" is not an upper-case ISO 4217 code (expected e.g. "USD")']
 */
export function conventionProblems(record: StreamRecord): string[] {
  const problems: string[] = [];
  const timestamp = (field: string, value: unknown) => {
    if (typeof value === 'string' && !isUtcTimestamp(value))
      problems.push(
        `${field} ${JSON.stringify(value)} is not an ISO-8601 time in UTC (expected e.g. "2026-01-05T10:00:00.000Z")`,
      );
  };
  if (record.kind === 'contact' || record.kind === 'account') {
    timestamp('traits.created_at', record.traits.created_at);
    timestamp('traits.updated_at', record.traits.updated_at);
    return problems;
  }
  timestamp('occurredAt', record.occurredAt);
  const currency = record.properties?.currency;
  if (currency !== undefined && currency !== null && !(typeof currency === 'string' && CURRENCY_CODE.test(currency)))
    problems.push(
      `properties.currency ${JSON.stringify(currency)} is not an upper-case ISO 4217 code (expected e.g. "USD")`,
    );
  const { value } = record;
  if (typeof value === 'number' && !Number.isFinite(value)) problems.push(`value ${value} is not a finite amount`);
  if (MONEY_EVENTS.has(record.type) && typeof value === 'number' && value < 0)
    problems.push(
      `value ${value} of a ${record.type} is negative (expected the amount, 0 or more; a refund is a custom event)`,
    );
  const discount = record.properties?.discount;
  if (typeof discount === 'number' && !(discount >= 0))
    problems.push(`properties.discount ${discount} is negative (expected the amount taken off, 0 or more)`);
  return problems;
}
