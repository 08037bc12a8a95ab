/**
 * How the Segment SDK's requests travel: over HTTPS to an `https://` host, with its certificate checked, and over one
 * kept-alive connection from request to request.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { segmentClient } from '../../../connectors/segment/client.js';
import { createContext, reasonOf } from '../../../plugins/index.js';
import { quiet } from './fixture.js';

const tls = new URL('../../fixtures/tls/', import.meta.url);
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function listening(s: Server): Promise<number> {
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
}

/** Sends one identify through a fresh SDK instance (as the destination does per request) and resolves its error. */
async function identify(host: string): Promise<unknown> {
  const ctx = createContext({ connection: 'cdp', logger: quiet });
  const analytics = segmentClient({ writeKey: 'wk', host, timeoutMs: 5000, flushAt: 1 }, ctx);
  let failure: unknown;
  analytics.on('error', (error) => (failure = (error as { reason?: unknown }).reason ?? error));
  analytics.identify({ userId: 'u1', traits: { vip: true } });
  await analytics.closeAndFlush({ timeout: 0 });
  return failure;
}

it('speaks TLS to an https host and refuses a certificate nobody vouches for', async () => {
  let served = 0;
  const https = createHttpsServer(
    { key: readFileSync(new URL('self-signed.key', tls)), cert: readFileSync(new URL('self-signed.crt', tls)) },
    (_req, res) => {
      served++;
      res.end('{}');
    },
  );
  const port = await listening(https);
  // The client read the server's certificate (so the two spoke TLS) and would not send over it.
  const failure = await identify(`https://127.0.0.1:${port}`);
  expect(reasonOf(failure)).toMatch(/self-signed certificate/);
  expect(served).toBe(0);
});

it('sends request after request over one kept-alive connection', async () => {
  let connections = 0;
  const bodies: string[] = [];
  const http = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.setHeader('content-type', 'application/json');
      res.end('{"success":true}');
    });
  });
  http.on('connection', () => connections++);
  const port = await listening(http);
  for (let i = 0; i < 3; i++) expect(await identify(`http://127.0.0.1:${port}`)).toBeUndefined();
  expect(bodies.map((b) => (JSON.parse(b) as { batch: { userId: string }[] }).batch[0]?.userId)).toEqual([
    'u1',
    'u1',
    'u1',
  ]);
  expect(connections).toBe(1);
});
