/**
 * Rule segments: the YAML condition tree compiled to one parameterised SQL query per segment, evaluated into
 * memberships with history, holdout control groups, stability, migration between segments and drift alerts.
 */
export * from './grammar.js';
export type {
  AccountSegmentDefinition,
  CompileOptions,
  CompiledAccountSegment,
  CompiledSegment,
  RuleIssue,
  RuleLocation,
  SegmentDefinition,
} from './compile.js';
export { compileAccountSegments, compileSegments, SegmentRuleError } from './compile.js';
export type { RuleInputs } from './dependencies.js';
export { dependencyLevels, refersTo, ruleInputs, withDependencies } from './dependencies.js';
export type {
  EvaluateOptions,
  Migration as SegmentMigration,
  SegmentPreview,
  SegmentReport,
  SegmentRunReport,
} from './evaluate.js';
export { evaluateSegments, holdoutSalt, inHoldout, lastSegmentRun, previewSegment } from './evaluate.js';
export { segmentEngineMigrations } from './migrations.js';
export type { HoldoutGroup, HoldoutOutcome, HoldoutReport, HoldoutReportOptions } from './holdout.js';
export { holdoutReport } from './holdout.js';
export { accountRuleInWords, ruleInWords } from './words.js';
export type { Interval } from './intervals.js';
export { newcombeInterval, welchInterval } from './intervals.js';
export * from './stored/index.js';
