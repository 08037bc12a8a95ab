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
import { storeYaml, type TestEngine } from '../support/engines.js';
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

/** One scenario: its config file, its own store (a fresh file or database on the engine) and how to remove it. */
export interface Scenario {
  file: string;
  store: string;
  remove(): Promise<void>;
}

/** Writes the config of one scenario (its own store on `engine`, its own sandbox). */
export async function writeConfig(
  dir: string,
  name: string,
  sandbox: SegmentSandbox,
  engine: TestEngine,
): Promise<Scenario> {
  const place = await engine.fresh();
  return { file: writeConfigAt(dir, name, sandbox, place.location), store: place.location, remove: place.remove };
}

/** Writes the config of one scenario with its store at `location` (a SQLite file or a PostgreSQL URL); returns its path. */
export function writeConfigAt(dir: string, name: string, sandbox: SegmentSandbox, location: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `store: ${storeYaml(location)}
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
export async function digestOf(location: string): Promise<string> {
  const store = await openStore(location);
  try {
    return await storeDigest(store);
  } finally {
    await store.close();
  }
}

/**
 * A digest of what the Segment sandbox counts: its deduplicated messages and every profile's traits and events, with
 * each Segment userId (a contact id) named by the contact's smallest identity, read from the scenario's `store`. Ids
 * are not compared across runs: PostgreSQL does not take back the ids a killed transaction drew (sequences are not
 * rolled back), so after a kill mid-page the same people get other contact ids than in the uninterrupted run; and the
 * messageIds derive from membership-history ids. Each message and event still counts once: the lists are compared
 * whole, duplicates included.
 */
export async function sandboxDigest(sandbox: SegmentSandbox, store: string): Promise<string> {
  const opened = await openStore(store);
  let who: Map<string, string>;
  try {
    const rows = (await opened.all(
      `SELECT contact_id, MIN(source || ':' || COALESCE(external_id, email)) AS label FROM identities GROUP BY contact_id`,
    )) as { contact_id: number; label: string }[];
    who = new Map(rows.map((r) => [String(r.contact_id), r.label]));
  } finally {
    await opened.close();
  }
  const person = (userId: string | null | undefined) => (userId ? (who.get(userId) ?? `unknown ${userId}`) : null);
  const hash = createHash('sha256');
  const messages = sandbox.workspace.messages.map((m) => JSON.stringify([m.type, person(m.userId), m.event ?? null]));
  hash.update(JSON.stringify(messages.sort()));
  const profiles = sandbox.workspace.profileIds().map((id) => {
    const p = sandbox.workspace.profile(id)!;
    const traits = Object.entries(p.traits).sort(([a], [b]) => a.localeCompare(b));
    const events = p.events.map((e) => JSON.stringify([e.event, e.properties])).sort();
    return JSON.stringify([person(id), traits, events]);
  });
  hash.update(JSON.stringify(profiles.sort()));
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

/**
 * Runs the job once, uninterrupted, on `engine` in `dir` (with the shop files written there): the state every resumed
 * run must reach. The digests are engine-neutral, so both engines' references are the same.
 */
export async function referenceRun(dir: string, engine: TestEngine): Promise<Reference> {
  writeShop(dir);
  const sandbox = await segmentSandbox();
  const scenario = await writeConfig(dir, `reference-${engine.name}`, sandbox, engine);
  try {
    const result = await runHere(scenario.file);
    expect(result.status).toBe('succeeded');
    expect(result.counts.added).toBeGreaterThan(0);
    return {
      store: await digestOf(scenario.store),
      sandbox: await sandboxDigest(sandbox, scenario.store),
      messages: sandbox.workspace.messages.length,
    };
  } finally {
    await sandbox.close();
    await scenario.remove();
  }
}
