import { execFile, spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireJobLock,
  fencedByLease,
  jobLockHolder,
  LeaseLostError,
  loadPage,
  readCheckpoint,
  listRuns,
  openStore,
  runTotals,
  startRun,
  thisProcess,
  type LeaseProcess,
  type Store,
} from '../../core/index.js';
import { tempDir } from '../support/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const segflow = (...args: string[]) => run(process.execPath, ['bin/segflow.js', ...args], { cwd: ROOT });

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = tempDir('segflow-leases-');
  store = await openStore(join(dir, 'segflow.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A process of this host that has exited: its pid and start time, as its lease would have recorded them. */
function deadProcess(): LeaseProcess {
  const child = spawnSync(process.execPath, [
    '-e',
    'process.stdout.write(require("fs").readFileSync("/proc/self/stat", "utf8"))',
  ]);
  const stat = child.stdout.toString();
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { host: thisProcess().host, pid: Number(stat.split(' ')[0]), started: fields[19] ?? null };
}

describe('job leases', () => {
  it('are taken over at once from a holder process on this host that has exited', async () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    expect(await acquireJobLock(store, 'nightly', 'killed-run', 600_000, t0, deadProcess())).toBe(true);
    expect(await acquireJobLock(store, 'nightly', 'next-run', 600_000, new Date(t0.getTime() + 1000))).toBe(true);
    expect((await jobLockHolder(store, 'nightly'))?.holder).toBe('next-run');
  });

  it('are not taken from a live holder on this host, nor from a live lease on another host', async () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    expect(await acquireJobLock(store, 'a', 'live-here', 600_000, t0)).toBe(true);
    expect(await acquireJobLock(store, 'a', 'other', 600_000, new Date(t0.getTime() + 1000))).toBe(false);
    const elsewhere: LeaseProcess = { host: 'other-machine/boot', pid: 1, started: '1' };
    expect(await acquireJobLock(store, 'b', 'remote', 60_000, t0, elsewhere)).toBe(true);
    expect(await acquireJobLock(store, 'b', 'other', 60_000, new Date(t0.getTime() + 30_000))).toBe(false);
    // Once its heartbeats stop for the lease's time, the remote holder is taken over.
    expect(await acquireJobLock(store, 'b', 'other', 60_000, new Date(t0.getTime() + 61_000))).toBe(true);
  });

  it('do not mistake a later process that reused the pid for the holder', async () => {
    const reused: LeaseProcess = { ...thisProcess(), started: 'an earlier start' };
    if (thisProcess().started === null) throw new Error('this test needs /proc (Linux)');
    expect(await acquireJobLock(store, 'nightly', 'killed-run', 600_000, new Date(), reused)).toBe(true);
    expect(await acquireJobLock(store, 'nightly', 'next-run', 600_000)).toBe(true);
  });
});

describe('a run paused past its lease', () => {
  it('cannot commit when it wakes after another run took the job over', async () => {
    const page = (n: number) => ({
      connection: 'shop',
      stream: 'contacts',
      records: [
        { kind: 'contact' as const, source: 'shop', externalId: `c${n}`, traits: { email: `p${n}@example.com` } },
      ],
      checkpoint: n,
    });
    const t0 = new Date('2026-01-01T00:00:00Z');
    await acquireJobLock(store, 'nightly', 'paused-run', 60_000, t0);
    const fenced = fencedByLease(store, 'nightly', 'paused-run');
    await loadPage(fenced, page(1));
    // The paused run's heartbeats stop; a minute later another run takes the job over.
    expect(await acquireJobLock(store, 'nightly', 'next-run', 60_000, new Date(t0.getTime() + 61_000))).toBe(true);
    await expect(loadPage(fenced, page(2))).rejects.toThrow(LeaseLostError);
    expect(await store.all('SELECT external_id FROM identities ORDER BY external_id')).toEqual([{ external_id: 'c1' }]);
    expect(await readCheckpoint(store, 'shop', 'contacts')).toBe(1);
  });
});

/** A job reading 5,000 contacts 40 a page: long enough to be killed mid-read. */
function writeConfig(): string {
  const rows = Array.from({ length: 5_000 }, (_, i) => `c${i},p${i}@example.com,2026-01-01T00:00:00Z`);
  writeFileSync(join(dir, 'contacts.csv'), `id,email,updated_at\n${rows.join('\n')}\n`);
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  shop:
    connector: file
    config:
      source: shop
      pageSize: 40
      contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} }
segments:
  - key: everyone
    name: Everyone
    rule: { trait: email, exists: true }
jobs:
  nightly:
    steps:
      - read: { sources: [shop], mode: full }
      - compute: {}
`,
  );
  return file;
}

/** Starts `segflow run` and SIGKILLs it once its run is recorded and it has loaded some pages. */
async function killMidRun(file: string): Promise<void> {
  const child = spawn(process.execPath, ['bin/segflow.js', 'run', file, 'nightly'], { cwd: ROOT, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_, signal) => resolve(signal)));
  for (;;) {
    const [r] = await listRuns(store, { job: 'nightly', limit: 1 });
    const loaded = (await store.get('SELECT COUNT(*) AS n FROM contacts')) as { n: number };
    if (r?.status === 'running' && loaded.n > 0) break;
    if (child.exitCode !== null) throw new Error('segflow run finished before it could be killed');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

// These start segflow's CLI as child processes: a few seconds each on a quiet machine, far more on a loaded one.
describe('a killed segflow run', { timeout: 240_000 }, () => {
  it('does not block the next run, which marks it abandoned', async () => {
    const file = writeConfig();
    await killMidRun(file);
    expect((await jobLockHolder(store, 'nightly'))?.holder).toBeDefined();

    const { stdout } = await segflow('run', file, 'nightly');
    expect(stdout).toMatch(/status: succeeded/);
    const [latest, killed] = await listRuns(store, { job: 'nightly' });
    expect(latest?.status).toBe('succeeded');
    expect(killed?.status).toBe('abandoned');
    expect(killed?.error).toMatch(/abandoned: its process \(pid \d+\) stopped without finishing/);
    expect(killed?.finishedAt).not.toBeNull();
    expect(await jobLockHolder(store, 'nightly')).toBeUndefined();
    expect((await store.get('SELECT COUNT(*) AS n FROM contacts')) as { n: number }).toEqual({ n: 5_000 });
    expect((await runTotals(store)).byStatus).toEqual({ abandoned: 1, succeeded: 1 });

    const { stdout: listed } = await segflow('runs', file, '--json');
    expect((JSON.parse(listed) as { status: string }[]).map((r) => r.status)).toEqual(['succeeded', 'abandoned']);
  });
});

describe('segflow runs unlock', { timeout: 240_000 }, () => {
  it("clears a lock held on another machine and marks the job's unfinished run abandoned", async () => {
    const file = writeConfig();
    const runId = await startRun(store, 'nightly');
    await acquireJobLock(store, 'nightly', 'remote', 600_000, new Date(), { host: 'other/boot', pid: 7, started: '1' });
    const refused = (await segflow('run', file, 'nightly').catch((e: { stderr: string }) => e)) as { stderr: string };
    expect(refused.stderr).toMatch(
      /already running \(process 7 on other.*`segflow runs \S+segflow\.yaml unlock nightly`/,
    );

    const { stdout } = await segflow('runs', file, 'unlock', 'nightly');
    expect(stdout).toBe(`cleared the lock of job "nightly"\nmarked abandoned: run ${runId}\n`);
    expect(await jobLockHolder(store, 'nightly')).toBeUndefined();
    const [r] = await listRuns(store, { job: 'nightly' });
    expect(r).toMatchObject({ id: runId, status: 'abandoned', error: 'abandoned: its lock was cleared by hand' });
  });

  it('refuses while the holder is a live process on this machine, unless --force', async () => {
    const file = writeConfig();
    await acquireJobLock(store, 'nightly', 'this-test', 600_000);
    const refused = await segflow('runs', file, 'unlock', 'nightly').catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(
      `job "nightly" is held by process ${process.pid} on this machine, which is still running: stop it, or pass --force`,
    );
    expect((await jobLockHolder(store, 'nightly'))?.holder).toBe('this-test');
    await segflow('runs', file, 'unlock', 'nightly', '--force');
    expect(await jobLockHolder(store, 'nightly')).toBeUndefined();
  });
});
