/**
 * The segment tables and their minimal accessors: versioned definitions, current memberships and membership history.
 * The segment engine builds on these.
 */
export type { Membership, SegmentDefinitionRow } from './memberships.js';
export {
  saveSegmentDefinition,
  latestSegmentDefinition,
  readMemberships,
  enterSegment,
  exitSegment,
} from './memberships.js';
export { segmentMigrations } from './migrations.js';
