/**
 * Reading a source into the store: each stream's pages are loaded with their checkpoint in one transaction, so a
 * run killed at any point resumes from the last committed page; one failing stream is reported and the others
 * finish.
 */
export { readSource, type ReadSourceOptions, type StreamOutcome } from './read-source.js';
