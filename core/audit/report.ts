import { auditAccounts, type AccountCoverage } from '../accounts/coverage.js';
import type { Queryable } from '../store/store.js';
import { auditCompleteness, type Completeness } from './completeness.js';
import { auditFairness, type Fairness } from './fairness.js';
import { AUDIT_SECTIONS, type AuditFinding } from './findings.js';
import { auditFreshness, type Freshness } from './freshness.js';
import { auditSegments, type SegmentHygiene } from './hygiene.js';
import { auditIdentity, type IdentityAudit } from './identity.js';
import type { AuditOptions } from './options.js';
import { auditValidity, type Validity } from './validity.js';

/** The data audit and fairness report: plain JSON-able data, the same for the CLI, GET /audit and the console. */
export interface AuditReport {
  /** The moment the report was measured at (`now`). */
  generatedAt: string;
  /** Everything worth a look, warnings first, then by section. Empty when the data is clean. */
  findings: AuditFinding[];
  completeness: Completeness;
  identity: IdentityAudit;
  freshness: Freshness;
  validity: Validity;
  segments: SegmentHygiene;
  fairness: Fairness;
  /** How far accounts cover the contacts, and accounts without members. */
  accounts: AccountCoverage;
}

/**
 * Audits the store: is the data complete, deduplicated, fresh and valid enough to segment, are the segments tidy,
 * and do segments and clusters select the groups of each protected attribute evenly (the four-fifths rule)?
 * Reads only; changes nothing.
 *
 * @example
 * const report = buildAudit(store, { protectedAttributes: ['gender'], minSegmentSize: 100, now: new Date() });
 * for (const f of report.findings) console.log(`${f.severity}: ${f.message}`);
 */
export async function buildAudit(store: Queryable, options: AuditOptions = {}): Promise<AuditReport> {
  const now = options.now ?? new Date();
  const { completeness, findings: f1 } = await auditCompleteness(
    store,
    options.fieldsUsed ?? [],
    options.mostlyEmptyShare ?? 0.5,
  );
  const { identity, findings: f2 } = await auditIdentity(store, options);
  const { freshness, findings: f3 } = await auditFreshness(store, options, now);
  const { validity, findings: f4 } = await auditValidity(store, options, now);
  const { segments, findings: f5 } = await auditSegments(store, options.segments, {
    maxActive: options.maxActiveSegments ?? 15,
    minSize: options.minSegmentSize ?? 100,
    overlapJaccard: options.overlapJaccard ?? 0.9,
  });
  const { fairness, findings: f6 } = await auditFairness(
    store,
    options.protectedAttributes ?? [],
    segments.segments,
    options.minGroupSize ?? 30,
  );
  const { accounts, findings: f7 } = await auditAccounts(store);
  const findings = [...f1, ...f2, ...f3, ...f4, ...f5, ...f6, ...f7].sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'warning' ? -1 : 1) ||
      AUDIT_SECTIONS.indexOf(a.section) - AUDIT_SECTIONS.indexOf(b.section),
  );
  return {
    generatedAt: now.toISOString(),
    findings,
    completeness,
    identity,
    freshness,
    validity,
    segments,
    fairness,
    accounts,
  };
}
