/** `segflow serve` as a user starts it: it prints its URL, answers /health and the API, and stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = tempDir('segflow-serve-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segflow serve', () => {
  it('serves the API with the scheduler, and exits 0 on SIGTERM', async () => {
    writeFileSync(join(dir, 'contacts.csv'), 'id,email,updated_at\nc1,ada@example.com,2026-01-01T00:00:00Z\n');
    writeFileSync(
      join(dir, 'segflow.yaml'),
      `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
sources:
  shop:
    connector: file
    config: { source: shop, contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} } }
jobs:
  nightly:
    schedule: "0 2 * * *"
    steps: [{ read: { sources: [shop] } }]
`,
    );
    const child = spawn(process.execPath, ['bin/segflow.js', 'serve', join(dir, 'segflow.yaml'), '--port', '0'], {
      cwd: root,
      env: { ...process.env, SEGFLOW_ADMIN_TOKEN: 'serve-admin-token-6a1f3c9e0b7d5e2a' },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 40_000);
      child.stdout.on('data', () => {
        const match = /segflow serving (http:\/\/\S+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ status: 'ok', store: 'reachable', scheduler: 'alive', realtime: 'running' });
    expect((await fetch(`${url}/jobs`)).status).toBe(401);
    const jobs = (await (
      await fetch(`${url}/jobs`, { headers: { Authorization: 'Bearer serve-admin-token-6a1f3c9e0b7d5e2a' } })
    ).json()) as { jobs: { name: string; nextRun: string }[] };
    expect(jobs.jobs.map((j) => j.name)).toEqual(['nightly']);
    expect(jobs.jobs[0]?.nextRun).toMatch(/T02:00:00\.000Z$/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
