import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import { sandboxConfig, startSandbox, type SegmentSandbox } from '../../connectors/segment/index.js';
import { openStore, storeDigest } from '../../core/index.js';
import { createRegistry } from '../../plugins/index.js';
import { createHash } from 'node:crypto';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
export const NOW = '2026-06-01T00:00:00.000Z';
const DAY = 86_400_000;

/**
 * A shop of 150 customers in a CSV and 450 purchases in JSONL, read 40 rows a page, computed into two segments, and
 * pushed to a Segment sandbox: enough pages and batches for a crash to land between any two commits.
 */
export function writeShop(dir: string): void {
  const people = Array.from({ length: 150 }, (_, i) => i);
  writeFileSync(
    join(dir, 'contacts.csv'),
    `id,email,updated_at\n${people.map((i) => `c${i},p${i}@example.com,2026-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`).join('\n')}\n`,
  );
  const events = Array.from({ length: 450 }, (_, k) => {
    const who = (k * 7) % 150;
    const at = new Date(Date.parse(NOW) - ((k * 37) % 700) * DAY).toISOString();
    return JSON.stringify({
      id: `e${k}`,
      type: 'order',
      email: `p${who}@example.com`,
      total: 10 + ((k * 13) % 90),
      occurred_at: at,
    });
  });
  writeFileSync(join(dir, 'events.jsonl'), `${events.join('\n')}\n`);
}

/** Writes the config of one scenario (its own store file, its own sandbox) and returns its path. */
export function writeConfig(dir: string, name: string, sandbox: SegmentSandbox): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `store:
  path: ${JSON.stringify(join(dir, `${name}.db`))}
sources:
  shop:
    connector: file
    config:
      source: shop
      pageSize: 40
      contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} }
      events: { path: ${JSON.stringify(join(dir, 'events.jsonl'))}, emailColumn: email, valueColumn: total, types: { order: purchase } }
destinations:
  segment:
    connector: segment
    config: ${JSON.stringify(sandboxConfig(sandbox))}
segments:
  - key: buyers
    name: Bought in the last year
    rule: { event: purchase, within: 365d }
  - key: lapsed
    name: Bought before, not in the last 200 days
    rule: { all: [{ event: purchase, within: 700d }, { not: { event: purchase, within: 200d } }] }
jobs:
  nightly:
    steps:
      - read: { sources: [shop], mode: incremental }
      - compute: {}
      - push: { destination: segment, segments: [buyers, lapsed], mode: mirror }
`,
  );
  return file;
}

/** Runs the job in this process (the uninterrupted reference, or the resume after a crash). */
export async function runHere(file: string): Promise<JobResult> {
  const registry = createRegistry([...BUILTIN_CONNECTORS]);
  const config = await loadConfig(file, { registry, env: {} });
  return runJob(config, 'nightly', {
    registry,
    holder: 'crash-test',
    now: new Date(NOW),
    computeIn: 'here',
    retryDelayMs: 1,
  });
}

/** The store's content digest (memberships and delivered state included). */
export async function digestOf(storeFile: string): Promise<string> {
  const store = await openStore(storeFile);
  try {
    return await storeDigest(store);
  } finally {
    await store.close();
  }
}

/** A digest of what the Segment sandbox counts: its deduplicated messages and every profile's traits and events. */
export function sandboxDigest(sandbox: SegmentSandbox): string {
  const hash = createHash('sha256');
  const messages = sandbox.workspace.messages.map((m) => [m.messageId, m.type, m.userId, m.event ?? null]);
  messages.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  hash.update(JSON.stringify(messages));
  for (const id of sandbox.workspace.profileIds()) {
    const p = sandbox.workspace.profile(id)!;
    const traits = Object.entries(p.traits).sort(([a], [b]) => a.localeCompare(b));
    const events = p.events
      .map((e) => [e.messageId, e.event, e.properties])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    hash.update(JSON.stringify([id, traits, events]));
  }
  return hash.digest('hex');
}

export async function segmentSandbox(): Promise<SegmentSandbox> {
  return startSandbox({ port: 0, seed: 8, recordBodies: false });
}

/**
 * Runs the job in a child process and SIGKILLs it when it prints `at <point>`, or `delayMs` after it prints
 * `started`. Resolves with what it printed and the signal it died of (null when it finished first).
 */
export function runChild(
  file: string,
  kill: { point: string } | { delayMs: number },
): Promise<{ signal: NodeJS.Signals | null; out: string; ranMs?: number }> {
  const args = ['--import', 'tsx', CHILD, file, 'point' in kill ? kill.point : 'none', NOW];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    let startedAt = 0;
    let ranMs: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (startedAt === 0 && out.includes('started\n')) startedAt = Date.now();
      if (ranMs === undefined && out.includes('finished ')) ranMs = Date.now() - startedAt;
      if ('point' in kill && out.includes(`at ${kill.point}\n`)) child.kill('SIGKILL');
      if ('delayMs' in kill && !armed && out.includes('started\n')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`job child exited ${code}: ${err}`));
      else resolve({ signal, out, ...(ranMs === undefined ? {} : { ranMs }) });
    });
  });
}

/** What an uninterrupted run leaves: the store's digest, the Segment sandbox's digest and how many messages it got. */
export interface Reference {
  store: string;
  sandbox: string;
  messages: number;
}

/** Runs the job once, uninterrupted, in `dir` (with the shop files written there): the state every resumed run must reach. */
export async function referenceRun(dir: string): Promise<Reference> {
  writeShop(dir);
  const sandbox = await segmentSandbox();
  try {
    const result = await runHere(writeConfig(dir, 'reference', sandbox));
    expect(result.status).toBe('succeeded');
    expect(result.counts.added).toBeGreaterThan(0);
    return {
      store: await digestOf(join(dir, 'reference.db')),
      sandbox: sandboxDigest(sandbox),
      messages: sandbox.workspace.messages.length,
    };
  } finally {
    await sandbox.close();
  }
}
