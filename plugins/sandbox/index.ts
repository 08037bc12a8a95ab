/**
 * The sandbox kit: what every tool's sandbox is built from — the seeded synthetic world it renders, and the
 * server, rate-limit, fault, recorder and persisted-state helpers. Plugin authors build their own sandboxes from it
 * too. Imports only `plugins/model` and libraries. Mount the recorder first (so refused requests are recorded),
 * then faults, then the limiters, then the tool's routes.
 *
 * @example
 * import { createWorld, createRecorder, rateLimit, serveSandbox } from '../../plugins/sandbox/index.js';
 * const world = createWorld({ seed: 'demo', people: 10_000 });
 * const app = new Hono().use('*', createRecorder()).get('/contacts/:i', (c) => c.json(world.person(Number(c.req.param('i')))));
 * const { url, close } = await serveSandbox(app);
 */
export * from './world/index.js';
export * from './server/index.js';
