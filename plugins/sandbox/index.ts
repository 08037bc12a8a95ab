/**
 * The sandbox kit: what every tool's sandbox is built from — the seeded synthetic world it renders, and (next to
 * it) the server, rate-limit, fault, recorder and persisted-state helpers. Plugin authors build their own sandboxes
 * from it too. Imports only `plugins/model` and libraries.
 *
 * @example
 * import { createWorld } from 'segflow/plugins/sandbox';
 * const world = createWorld({ seed: 'demo', people: 10_000 });
 */
export * from './world/index.js';
