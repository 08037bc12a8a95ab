/**
 * The YAML config: its schema, the loader (environment interpolation, includes, connector specs, cross-references)
 * and located errors that name file, line and column and never show a secret.
 */
export * from './errors.js';
export type {
  Config,
  DestinationConnection,
  LoadOptions,
  Location,
  Segment,
  SourceConnection,
  StoreLocation,
} from './config.js';
export { rateBudget } from './connections.js';
export { loadConfig } from './load.js';
export { hasEntry, namedEntry } from './lookup.js';
export { configSecrets } from './secrets.js';
export {
  checkTokens,
  checkWriteKeys,
  TOKEN_COMMAND,
  TOKEN_MIN_LENGTH,
  tokenProblems,
  WeakTokenError,
  WRITE_KEY_PATTERN,
  writeKeyProblem,
} from './tokens.js';
export * from './schedule.js';
export { DEFAULT_MIN_SEGMENT_SIZE, DEFAULT_PROTECTED_ATTRIBUTES, durationMs, isTimeZone, OPERATORS } from './schema.js';
export type {
  Comparison,
  ComputeStep,
  Condition,
  Currency,
  EventCondition,
  Feature,
  Identity,
  Job,
  JobStep,
  Operators,
  PushStep,
  AuditSettings,
  RateLimit,
  ReadStep,
  ServerSettings,
} from './schema.js';
