import type { Queryable } from '../store/store.js';
import { plural, type AuditFinding } from './findings.js';
import type { AuditOptions } from './options.js';

export interface Validity {
  /** Tool records whose email trait is not a usable address, per source (the record keys of a few as examples). */
  invalidEmails: { total: number; bySource: Record<string, number>; examples: string[] };
  /** Events with a value in a currency that has no rate to the reporting currency, per currency. */
  unknownCurrencies: { currency: string; events: number }[];
  /** Events dated after now, and tool records updated after now. */
  futureEvents: number;
  futureRecords: number;
  /** Events whose person no tool has a contact record for (only named by an event), or whose contact was deleted. */
  eventsWithoutContact: number;
}

const EXAMPLES = 5;

/** Invalid emails, unknown currencies, timestamps in the future, events with no contact. */
export async function auditValidity(
  store: Queryable,
  options: AuditOptions,
  now: Date,
): Promise<{ validity: Validity; findings: AuditFinding[] }> {
  const d = store.dialect;
  const invalid = (await store.all(`SELECT source, external_id AS "externalId" FROM identities
        WHERE seen = 1 AND deleted = 0 AND email IS NULL AND NULLIF(TRIM(CAST(${d.jsonField('traits', 'email')} AS TEXT)), '') IS NOT NULL
        ORDER BY source, id`)) as { source: string; externalId: string | null }[];
  const bySource: Record<string, number> = {};
  for (const r of invalid) bySource[r.source] = (bySource[r.source] ?? 0) + 1;

  const known = new Set([options.currency?.reporting ?? 'USD', ...Object.keys(options.currency?.rates ?? {})]);
  // One pass over the events table for both (it is the largest table by far).
  const scan = (await store.get(
    `SELECT SUM(CASE WHEN occurred_at > ? THEN 1 ELSE 0 END) AS future,
              ${d.jsonGroupArray(d.jsonMember('properties', 'currency'), `value IS NOT NULL AND ${d.jsonField('properties', 'currency')} IS NOT NULL`)} AS currencies
         FROM events`,
    [now.toISOString()],
  )) as { future: number | null; currencies: string | null };
  const perCurrency = new Map<string, number>();
  for (const c of JSON.parse(scan.currencies ?? '[]') as unknown[]) {
    const code = typeof c === 'string' ? c : JSON.stringify(c);
    perCurrency.set(code, (perCurrency.get(code) ?? 0) + 1);
  }
  const unknownCurrencies = [...perCurrency.entries()]
    .filter(([currency]) => !known.has(currency))
    .map(([currency, events]) => ({ currency, events }))
    .sort((a, b) => b.events - a.events || a.currency.localeCompare(b.currency));

  const iso = now.toISOString();
  const futureEvents = scan.future ?? 0;
  const futureRecords = (
    (await store.get('SELECT COUNT(*) AS n FROM identities WHERE record_updated_ms > ?', [now.getTime()])) as {
      n: number;
    }
  ).n;
  const eventsWithoutContact = (
    (await store.get(`SELECT COUNT(*) AS n FROM contact_events WHERE contact_id IN (
           SELECT c.id FROM contacts c WHERE c.deleted = 1 OR NOT EXISTS (SELECT 1 FROM identities i WHERE i.contact_id = c.id AND i.seen = 1))`)) as {
      n: number;
    }
  ).n;

  const validity: Validity = {
    invalidEmails: {
      total: invalid.length,
      bySource,
      examples: invalid.slice(0, EXAMPLES).map((r) => `${r.source}:${r.externalId ?? ''}`),
    },
    unknownCurrencies,
    futureEvents,
    futureRecords,
    eventsWithoutContact,
  };

  const findings: AuditFinding[] = [];
  if (invalid.length > 0) {
    const sources = Object.entries(bySource).map(([source, n]) => `${n} in ${source}`);
    findings.push({
      section: 'validity',
      code: 'invalid_emails',
      severity: 'warning',
      message: `${plural(invalid.length, 'record')} with an email that is not a valid address (${sources.join(', ')}; e.g. ${validity.invalidEmails.examples.join(', ')})`,
      count: invalid.length,
      names: Object.keys(bySource),
    });
  }
  if (unknownCurrencies.length > 0) {
    const events = unknownCurrencies.reduce((sum, c) => sum + c.events, 0);
    findings.push({
      section: 'validity',
      code: 'unknown_currency',
      severity: 'warning',
      message: `${plural(events, 'event')} in ${unknownCurrencies.map((c) => `${c.currency} (${c.events})`).join(', ')}, which ${unknownCurrencies.length === 1 ? 'has' : 'have'} no rate to ${options.currency?.reporting ?? 'USD'}: left out of money features (add it to currency.rates)`,
      count: events,
      names: unknownCurrencies.map((c) => c.currency),
    });
  }
  if (futureEvents + futureRecords > 0) {
    const parts = [
      ...(futureEvents > 0 ? [plural(futureEvents, 'event')] : []),
      ...(futureRecords > 0 ? [plural(futureRecords, 'tool record')] : []),
    ];
    findings.push({
      section: 'validity',
      code: 'future_timestamps',
      severity: 'warning',
      message: `${parts.join(' and ')} dated after ${iso} (features ignore events in the future)`,
      count: futureEvents + futureRecords,
      names: [...(futureEvents > 0 ? ['events'] : []), ...(futureRecords > 0 ? ['records'] : [])],
    });
  }
  if (eventsWithoutContact > 0) {
    findings.push({
      section: 'validity',
      code: 'events_without_contact',
      severity: 'notice',
      message: `${plural(eventsWithoutContact, 'event')} belong to people no tool has a contact record for (or whose contact was deleted)`,
      count: eventsWithoutContact,
      names: [],
    });
  }
  return { validity, findings };
}
