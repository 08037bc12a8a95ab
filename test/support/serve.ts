/** Serving an app (the admin API and console) on a free loopback port for tests that reach it over HTTP. */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';

/**
 * Serves `app` on 127.0.0.1 at a free port: the server (to close) and its base URL.
 *
 * @example
 * ({ server, base } = await serveOnLoopback(createServer({ ... })));
 */
export async function serveOnLoopback(app: {
  fetch: (request: Request) => Response | Promise<Response>;
}): Promise<{ server: ServerType; base: string }> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
