/**
 * The data audit: is the data fit to segment (complete, deduplicated, fresh, valid), are the segments tidy, and do
 * segments and clusters treat protected groups evenly? `buildAudit` gives one JSON-able report that the CLI, GET /audit
 * and the console show. Re-exports only.
 */
export { toolOverlap, eventCounts, type ToolOverlap } from './overlap.js';
export { buildAudit, type AuditReport } from './report.js';
export { buildAuditInWorker } from './in-worker.js';
export { auditOptions, type AuditedConfig, type AuditedStep, type StreamDeclarations } from './from-config.js';
export { fieldsUsedBy, traitsInRule, type AuditOptions, type AuditPush, type FieldUse } from './options.js';
export { AUDIT_SECTIONS, type AuditFinding, type AuditSection, type FindingCode } from './findings.js';
export type { Completeness, FieldShares } from './completeness.js';
export type { IdentityAudit, JoinedRecords } from './identity.js';
export type { DestinationFreshness, Freshness, StreamFreshness } from './freshness.js';
export type { Validity } from './validity.js';
export type { SegmentHygiene } from './hygiene.js';
export { FOUR_FIFTHS, groupOf, type Fairness, type GroupRate, type SelectionFairness } from './fairness.js';
export { auditOptionsKey, lastAuditReport, saveAuditReport, type StoredAudit } from './stored.js';
export { auditMigrations } from './migrations.js';
