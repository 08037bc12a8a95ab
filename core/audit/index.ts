/**
 * The data audit: is the data fit to segment? Today: how the tools overlap after identity resolution, and event
 * counts per source. Re-exports only.
 */
export { toolOverlap, eventCounts, type ToolOverlap } from './overlap.js';
