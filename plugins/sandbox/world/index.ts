/**
 * The sandbox world: a seeded synthetic customer base that every tool's sandbox renders in its own API's shapes.
 * People, tool presence, events and ground truth are generated on demand from (seed, index).
 *
 * @example
 * import { createWorld } from '../../plugins/sandbox/index.js';
 * const world = createWorld({ seed: 'e2e', people: 5_000 });
 * const ids = world.toolIndex('mailchimp');          // Int32Array of people in Mailchimp
 * const member = world.person(ids[0]!).tools.mailchimp; // their audience memberships
 */
export * from './types.js';
export * from './world.js';
export * from './ids.js';
export { Rng, hashSeed, uniformAt } from './random.js';
export * from './voice.js';
