/**
 * GET /health: whether the store answers, the scheduler (when this process runs one) is alive, and real time's step
 * worker runs (`restarting` while it is started again after it stopped: accepts still commit, nothing loads). No auth.
 */
import { Hono } from 'hono';
import { storeReachable } from '../../core/views/index.js';
import type { Shared } from './shared.js';

export function healthRoutes({ deps }: Shared): Hono {
  const app = new Hono();
  app.get('/health', async (c) => {
    const store = await storeReachable(deps.store);
    const scheduler = deps.scheduler === undefined ? 'absent' : deps.scheduler.alive() ? 'alive' : 'stopped';
    const realtime = deps.realtime === undefined ? 'absent' : deps.realtime.running() ? 'running' : 'restarting';
    const ok = store && scheduler !== 'stopped';
    return c.json(
      { status: ok ? 'ok' : 'unhealthy', store: store ? 'reachable' : 'unreachable', scheduler, realtime },
      ok ? 200 : 503,
    );
  });
  return app;
}
