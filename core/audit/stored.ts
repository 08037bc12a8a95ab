import { createHash } from 'node:crypto';
import type { Queryable } from '../store/store.js';
import type { AuditOptions } from './options.js';
import type { AuditReport } from './report.js';

/**
 * What a report was built with, but its moment: a kept report answers only a request with the same options (the
 * config's segments, limits and protected attributes; a minimum segment size).
 */
export function auditOptionsKey(options: AuditOptions): string {
  const { now: _now, ...rest } = options;
  return createHash('sha256').update(JSON.stringify(rest), 'utf8').digest('hex');
}

/** An audit report as saved: the report, when it was built and how long that took. */
export interface StoredAudit {
  report: AuditReport;
  builtAt: string;
  tookMs: number;
}

/** How many saved reports are kept; older ones are dropped when a new one is saved. */
const KEEP = 20;

/**
 * Saves a built report; the last {@link KEEP} are kept.
 *
 * @example
 * await saveAuditReport(store, auditOptionsKey(options), { report, builtAt: new Date().toISOString(), tookMs: 4200 });
 */
export async function saveAuditReport(store: Queryable, optionsKey: string, saved: StoredAudit): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.run(
      'INSERT INTO audit_reports (options_key, generated_at, built_at, took_ms, report) VALUES (?, ?, ?, ?, ?)',
      [optionsKey, saved.report.generatedAt, saved.builtAt, Math.round(saved.tookMs), JSON.stringify(saved.report)],
    );
    await tx.run(
      'DELETE FROM audit_reports WHERE id NOT IN (SELECT id FROM (SELECT id FROM audit_reports ORDER BY id DESC LIMIT ?) AS kept)',
      [KEEP],
    );
  });
}

/** The last saved report built with these options (their {@link auditOptionsKey}), if any. */
export async function lastAuditReport(store: Queryable, optionsKey?: string): Promise<StoredAudit | undefined> {
  const row = (await store.get(
    `SELECT built_at, took_ms, report FROM audit_reports${optionsKey === undefined ? '' : ' WHERE options_key = ?'} ORDER BY id DESC LIMIT 1`,
    optionsKey === undefined ? [] : [optionsKey],
  )) as { built_at: string; took_ms: number; report: string } | undefined;
  if (!row) return undefined;
  return { report: JSON.parse(row.report) as AuditReport, builtAt: row.built_at, tookMs: Number(row.took_ms) };
}
