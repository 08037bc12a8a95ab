/**
 * Segments made in the console: kept in the store with every version (who and when), refused on a stale save, exported
 * to and imported from the YAML of a config's segments file, and picked by key or tag for a job's push.
 */
export type { StoredSegment, StoredSegmentInput, StoredSegmentKind, StoredSegmentVersion } from './stored.js';
export {
  archiveStoredSegment,
  createStoredSegment,
  getStoredSegment,
  listStoredSegments,
  saveStoredSegment,
  SegmentKeyTakenError,
  SEGMENT_KEY_PATTERN,
  STORED_SEGMENT_KINDS,
  StaleSegmentVersionError,
  storedSegmentsNamed,
  storedSegmentVersions,
  UnknownStoredSegmentError,
} from './stored.js';
export { segmentsFileFromYaml, segmentsFromYaml, segmentsYaml, type SegmentsFileEntry } from './yaml.js';
export { storedSegmentMigrations } from './migrations.js';
