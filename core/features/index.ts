/**
 * Per-contact features computed in SQL over contacts and events (recency, frequency, monetary value, engagement
 * counts and rates, trend, tenure, support, discounts, categories, RFM scores and segments, and expression features
 * from config), for the whole base or for a set of contacts.
 */
export type { FeatureColumn } from './catalog.js';
export {
  FEATURE_COLUMNS,
  FEATURE_NAMES,
  ENGAGEMENT_TYPES,
  RFM_SEGMENTS,
  SCORE_NAMES,
  quintileScore,
  rfmSegmentName,
} from './catalog.js';
export type { ExpressionFeature, FeatureOptions, FeatureRun, IncrementalFeatureRun } from './compute.js';
export {
  computeFeatures,
  computeFeaturesIncrementally,
  contactsWithFeatures,
  rebuildContactEvents,
  recomputeContacts,
  refreshClockFeatures,
} from './compute.js';
export type { ComputeFingerprints, ComputePlan, ComputeState, PlanOptions } from './incremental.js';
export {
  commitCompute,
  computeState,
  crossingBands,
  FEATURE_WINDOWS_MS,
  lastModelRunId,
  planCompute,
  releaseMarks,
  segmentScope,
} from './incremental.js';
export type { ContactRange, SliceOptions, SliceRun } from './slices.js';
export { boundsOf, clearPending, computeSlice, contactBounds, pendingContacts, rangeOf } from './slices.js';
export { binder, compileEventFilter, compileOperators, fieldName, isFieldName, jsonOperand } from './filters.js';
export type { Binder, Operand } from './filters.js';
export { featureMigrations } from './migrations.js';
