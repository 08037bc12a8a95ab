/**
 * `serveSandbox`: starts a hono app on 127.0.0.1 (port 0 by default, so tests never collide) and gives back its URL
 * and a `close()` that also drops kept-alive connections, so a test's `afterAll` never hangs.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

/**
 * Anything with a fetch handler: a `Hono` app, or a bare `(request) => Response`.
 *
 * @example
 * await serveSandbox({ fetch: () => new Response('ok') });
 */
export interface FetchApp {
  fetch: (request: Request, ...rest: never[]) => Response | Promise<Response>;
}

/**
 * Options of {@link serveSandbox}.
 *
 * @example
 * const sandbox = await serveSandbox(app, { port: 4010 }); // a fixed port for the demo
 */
export interface ServeOptions {
  /** The port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** The interface to bind; default 127.0.0.1 (never exposed beyond the machine unless asked). */
  hostname?: string;
}

/**
 * A running sandbox server.
 *
 * @example
 * const { url, close } = await serveSandbox(app);
 * afterAll(close);
 */
export interface ServedSandbox {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:53121`. */
  url: string;
  port: number;
  /** Stops listening and closes open connections. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Serves a hono app on a local port for tests, benchmarks and the demo.
 *
 * @example
 * const app = new Hono().get('/ping', (c) => c.text('pong'));
 * const sandbox = await serveSandbox(app);
 * await fetch(`${sandbox.url}/ping`);
 * await sandbox.close();
 */
export async function serveSandbox(app: FetchApp, options: ServeOptions = {}): Promise<ServedSandbox> {
  const hostname = options.hostname ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      { fetch: app.fetch as (request: Request) => Response | Promise<Response>, port: options.port ?? 0, hostname },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      return closing;
    },
  };
}
