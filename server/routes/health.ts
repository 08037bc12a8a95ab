/** GET /health: whether the store answers and the scheduler (when this process runs one) is alive. No auth. */
import { Hono } from 'hono';
import { storeReachable } from '../../core/views/index.js';
import type { Shared } from './shared.js';

export function healthRoutes({ deps }: Shared): Hono {
  const app = new Hono();
  app.get('/health', async (c) => {
    const store = await storeReachable(deps.store);
    const scheduler = deps.scheduler === undefined ? 'absent' : deps.scheduler.alive() ? 'alive' : 'stopped';
    const ok = store && scheduler !== 'stopped';
    return c.json(
      { status: ok ? 'ok' : 'unhealthy', store: store ? 'reachable' : 'unreachable', scheduler },
      ok ? 200 : 503,
    );
  });
  return app;
}
