/**
 * The `memory` connector: an in-memory destination for tests, holding segment membership in Maps a test can read,
 * with configurable reject and retry rules.
 */
export {
  createMemoryDestination,
  memorySpec,
  type MemoryDestination,
  type MemoryDestinationOptions,
  type MemoryMember,
} from './destination.js';
