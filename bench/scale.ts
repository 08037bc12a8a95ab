/**
 * Workers and incremental compute on one store (issue #26), in phases that can run separately.
 *
 * Read (phase `read`): HubSpot (contacts, email events), Salesforce (contacts, call tasks) and Mailchimp (members)
 * sandboxes filled in bulk, in this process, with `--contacts` contact records (40% HubSpot, 30% Salesforce, 30%
 * Mailchimp; 5% of them shared by HubSpot and Salesforce, 5% by Salesforce and Mailchimp, by email) and ten times as
 * many events (6 per contact record in HubSpot, 4 in Salesforce), read through the
 * connectors by a job's read step into one `segflow run` child on SQLite, then PostgreSQL with one and with two
 * `segflow worker` processes (a read task per stream). The vendors' limits are raised (sandboxes and job) and the
 * section says so. Each case must read every record the sandboxes hold and resolve them to the people behind them,
 * and the three stores must hold equal contacts, identities and events (counts, and a digest up to 200,000 contact
 * records or with SCALE_BENCH_DIGEST=1), else the bench throws. The
 * sandboxes hold about 235 MiB of heap per 100,000 contact records (Salesforce's rows most of it), and a stream's
 * Salesforce query holds its rows' snapshot besides: at 1,000,000 give this process room
 * (`NODE_OPTIONS=--max-old-space-size=8192`).
 *
 * Compute (phases `sqlite`, `postgres`, `workers`): full vs incremental compute of features and segments (the starter
 * segments) after new events for 1% of the contacts, an hour later, on SQLite (`sqlite`), on PostgreSQL in one process
 * (`postgres`) and on PostgreSQL as two workers compute (`workers`: slices side by side). The store is generated with
 * raw inserts (bench/segments' generator: 10 events per contact over two years); the 1% arrive through the load path
 * (`loadPage`), which marks them dirty. `--contacts=N` sets the contacts (default 100,000; toy 2,000; the issue's
 * scale is 1,000,000). CPU is this process's (all its threads) and PostgreSQL's server processes' (from /proc).
 *
 * Push (phase `push`): a job's two HubSpot pushes (one segment each, contacts created by email) run by 1 and 2
 * `segflow worker` child processes on PostgreSQL, (a) at HubSpot's real rolling limit, 100 requests per 10 s, where the
 * workers share one budget through the store and should use at least 90% of it without ever going over (read from
 * the sandbox's own counters), and (b) with the limit raised and 100 ms of latency added to every request, where the
 * tool's latency is the bottleneck and 2 workers should reach at least 1.6× one worker's throughput.
 * `--push-contacts=N` sets the people pushed per segment (default 15,000 whatever `--contacts`: about 600 requests or
 * six windows of the limit; toy 300, with the limit scaled to 10 per second). The HubSpot sandbox runs in this
 * process; CPU is read per process: each worker's, this one's (the sandbox and the run waiting on its tasks) and
 * PostgreSQL's.
 *
 * `--phases=read,sqlite,postgres,workers,push` (or SCALE_BENCH_PHASES) runs some phases only: their figures are kept in
 * .segflow/bench/scale-<contacts>.json, and the section written shows the other phases' figures from their last run
 * at the same scale, each with its date and load average. SCALE_BENCH_PROFILE=<folder> has each push worker write a
 * CPU profile there (`node --cpu-prof`).
 */
import { execSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveWorkers, loadPage, openStore, storeDump, type SegmentDefinition, type Store } from '../core/index.js';
import type { EventRecord } from '../plugins/model/index.js';
import {
  computeAll,
  computeFeatureSlice,
  computeSegmentsPart,
  prepareCompute,
  type ComputeInput,
  type ComputeReport,
} from '../sync/compute/index.js';
import { postmasterPid, serverCpuSeconds } from './postgres-cpu.js';
import { generate, SERVER_SETTINGS } from './segments.js';
import { BUILTIN_CONNECTORS } from '../cli/builtins.js';
import { loadConfig } from '../config/index.js';
import { sandboxConfig, startSandbox, type HubSpotSandbox } from '../connectors/hubspot/index.js';
import { createRegistry } from '../plugins/index.js';
import { runJob, type JobResult } from '../sync/index.js';
import { sandboxConfig as salesforceConfig, startSandbox as startSalesforce } from '../connectors/salesforce/index.js';
import { renderBulk as renderSalesforceBulk } from '../connectors/salesforce/sandbox/index.js';
import { sandboxConfig as mailchimpConfig, startSandbox as startMailchimp } from '../connectors/mailchimp/index.js';
import { renderBulk as renderMailchimpBulk } from '../connectors/mailchimp/sandbox/index.js';
import { tempDir } from '../test/support/temp.js';
import type { Benchmark } from './run.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The parts of the bench, in the order a full run takes them. */
const PHASES = ['read', 'sqlite', 'postgres', 'workers', 'push'] as const;
type Phase = (typeof PHASES)[number];

interface Case {
  label: string;
  workers: number;
  limit: { requestsPerInterval: number; intervalMs: number };
  latencyMs: number;
}

interface Measured {
  requests: number;
  refused: number;
  peakInWindow: number;
  /** From the first request the sandbox admitted to the last, ms. */
  spanMs: number;
  /** CPU over that span, ms: each worker process's, this process's (the sandbox, the run) and PostgreSQL's. */
  cpuMs: { workers: number[]; bench: number; server?: number };
  status: string;
}

/** Fresh PostgreSQL databases, one per case (SEGFLOW_TEST_DATABASE_URL's server, else a throw-away embedded one). */
async function postgresDatabases(
  log: (line: string) => void,
): Promise<{ fresh(): Promise<string>; remove(): Promise<void> }> {
  const { admin, databaseUrl, startPostgres } = await import('../test/support/postgres.js');
  const given = process.env.SEGFLOW_TEST_DATABASE_URL;
  let server: { url: string; stop(): Promise<void> } | undefined;
  const made: string[] = [];
  const serverUrl = async (): Promise<string> => {
    if (given !== undefined) return given;
    if (!server) {
      // Sized as the segments bench sizes its server: with the tests' settings a million contacts' compute spills.
      server = await startPostgres(SERVER_SETTINGS);
      const settings = Object.entries(SERVER_SETTINGS).map(([name, value]) => `${name}=${value}`);
      log(
        `PostgreSQL: started a throw-away embedded server, ${settings.join(', ')} (or set SEGFLOW_TEST_DATABASE_URL)`,
      );
    }
    return server.url;
  };
  return {
    async fresh() {
      const url = await serverUrl();
      const name = `segflow_bench_scale_${process.pid}_${made.length}`;
      await admin(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin(url, `CREATE DATABASE ${name}`);
      made.push(name);
      return databaseUrl(url, name);
    },
    async remove() {
      if (made.length > 0) {
        const url = await serverUrl();
        for (const name of made) await admin(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
      await server?.stop();
    },
  };
}

/** CPU ms a process has used (user + system, from /proc), or undefined once it is gone. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** `segflow worker` on `file` as a child process (stopped with SIGTERM, as an operator stops one). */
function startWorker(file: string): {
  pid: number | undefined;
  alive(): boolean;
  stop(): Promise<void>;
  output(): string;
} {
  // SCALE_BENCH_PROFILE=<folder>: each worker writes a CPU profile there when it stops.
  const profile = process.env.SCALE_BENCH_PROFILE;
  const node = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${resolve(profile)}`];
  const child = spawn(process.execPath, [...node, 'bin/segflow.js', 'worker', file, '--poll-ms', '50'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    pid: child.pid,
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function runCase(c: Case, dir: string, database: string, log: (line: string) => void): Promise<Measured> {
  const sandbox: HubSpotSandbox = await startSandbox({
    seed: 'scale',
    people: 10,
    limits: c.limit,
    recordBodies: false,
  });
  const workers: ReturnType<typeof startWorker>[] = [];
  try {
    sandbox.latency.set(c.latencyMs);
    const hubspot = JSON.stringify({ ...sandboxConfig(sandbox), createMissingContacts: true });
    const file = join(dir, `${c.label.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(
      file,
      `store:
  url: ${JSON.stringify(database)}
sources:
  shop:
    connector: file
    config: { source: shop, contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} } }
destinations:
  crm:
    connector: hubspot
    config: ${hubspot}
    rate_limit: { requests: ${c.limit.requestsPerInterval}, interval: ${c.limit.intervalMs}ms }
segments:
  - { key: everyone, name: Everyone, rule: { trait: email, contains: '@' } }
  - { key: everyone_too, name: Everyone too, rule: { trait: email, contains: 'example' } }
jobs:
  nightly:
    steps:
      - read: { sources: [shop] }
      - compute: {}
      - push: { destination: crm, segments: [everyone, everyone_too] }
`,
    );
    const registry = createRegistry([...BUILTIN_CONNECTORS]);
    const config = await loadConfig(file, { registry, env: {} });
    const store = await openStore(database);
    const postmaster = await postmasterPid(database);
    for (let i = 0; i < c.workers; i++) workers.push(startWorker(file));
    try {
      while ((await liveWorkers(store)).length < c.workers) {
        if (workers.some((w) => !w.alive()))
          throw new Error(`a worker exited before it started:\n${workers.map((w) => w.output()).join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await store.close();
    }
    // CPU read every 500 ms, to take each process's CPU between the first request and the last; the reading's own CPU
    // (a scan of /proc for PostgreSQL's processes) is left out of this process's.
    const cpu: { at: number; bench: number; workers: (number | undefined)[]; server: number | undefined }[] = [];
    let sampling = 0;
    const sample = () => {
      const start = process.cpuUsage();
      const server = serverCpuSeconds(postmaster);
      cpu.push({
        at: Date.now(),
        bench: (start.user + start.system) / 1000 - sampling,
        workers: workers.map((w) => processCpuMs(w.pid)),
        server: server === undefined ? undefined : server * 1000,
      });
      const used = process.cpuUsage(start);
      sampling += (used.user + used.system) / 1000;
    };
    sample();
    const sampler = setInterval(sample, 500);
    const result = await runJob(config, 'nightly', { registry, workers: true, taskPollMs: 250 }).finally(() => {
      sample();
      clearInterval(sampler);
    });
    const times = sandbox.recorder.requests.map((r) => r.at).sort((a, b) => a - b);
    const [first, last] = [times[0] ?? 0, times[times.length - 1] ?? 0];
    // The last sample at or before the first request, and the first at or after the last one.
    const before = [...cpu].reverse().find((s) => s.at <= first) ?? cpu[0]!;
    const after = cpu.find((s) => s.at >= last) ?? cpu[cpu.length - 1]!;
    const counts = sandbox.limiter.counts();
    const measured: Measured = {
      requests: counts.admitted,
      refused: counts.refused,
      peakInWindow: counts.peakInWindow,
      spanMs: last - first,
      cpuMs: {
        workers: workers.map((_, i) => (after.workers[i] ?? 0) - (before.workers[i] ?? 0)),
        bench: after.bench - before.bench,
        ...(after.server === undefined || before.server === undefined ? {} : { server: after.server - before.server }),
      },
      status: result.status,
    };
    log(`${c.label}: ${JSON.stringify(measured)}`);
    return measured;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await sandbox.close();
  }
}

const NOW = new Date('2026-03-01T00:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CURRENCY = { reporting: 'EUR', rates: { USD: 0.92, GBP: 1.17 } };

/** Wall and CPU ms of one compute: this process (all threads), and the PostgreSQL server's when it is local. */
interface Clocked {
  wall: number;
  cpu: number;
  server?: number;
}

/** What one engine's compute measured, by run, and the incremental run's scope. */
interface ComputeFigures {
  engine: string;
  full: Clocked;
  incremental: Clocked;
  scope: ComputeReport['scope'];
  load: Clocked;
}

/** Wall and CPU time of fn, in ms: this process's (all its threads), and the server's under `postmaster`. */
async function clocked<T>(fn: () => Promise<T>, postmaster?: number): Promise<[T, Clocked]> {
  const cpu = process.cpuUsage();
  const server = serverCpuSeconds(postmaster);
  const start = performance.now();
  const out = await fn();
  const used = process.cpuUsage(cpu);
  const serverAfter = serverCpuSeconds(postmaster);
  return [
    out,
    {
      wall: performance.now() - start,
      cpu: (used.user + used.system) / 1000,
      ...(server === undefined || serverAfter === undefined ? {} : { server: (serverAfter - server) * 1000 }),
    },
  ];
}

async function starterSegments(dir: string): Promise<SegmentDefinition[]> {
  const file = join(dir, 'starter.yaml');
  writeFileSync(file, `segments:\n  - include: ${JSON.stringify(resolve('config/segments/starter.yaml'))}\n`);
  return (await loadConfig(file, { registry: createRegistry([...BUILTIN_CONNECTORS]), env: {} })).segments;
}

/**
 * A compute as `workers` workers run it: the prepare part, the slices side by side (each on its own connection, as
 * each worker has; on PostgreSQL each in its own server process), then the segments part.
 */
async function slicedCompute(location: string, input: ComputeInput, workers: number): Promise<ComputeReport> {
  const stores = await Promise.all(Array.from({ length: workers }, () => openStore(location)));
  try {
    const [first] = stores as [Store];
    const plan = await prepareCompute(first, input, workers);
    const slices = await Promise.all(stores.map((store, i) => computeFeatureSlice(store, input, plan, i)));
    return await computeSegmentsPart(first, input, plan, slices);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

/**
 * Full, then (after 1% of the contacts got a purchase) incremental compute on `store`: in one process, or split
 * across `workers` workers.
 */
async function computeOn(
  store: Store,
  engine: string,
  segments: SegmentDefinition[],
  options: { contacts: number; at: Date; workers: number; postmaster?: number | undefined; batch: string },
  log: (line: string) => void,
): Promise<ComputeFigures> {
  const { contacts, at, workers, postmaster } = options;
  const input = (now: Date, mode?: 'full'): ComputeInput => ({
    storePath: store.path,
    now: now.toISOString(),
    currency: CURRENCY,
    segments,
    ...(mode ? { mode } : {}),
  });
  const run = async (now: Date, mode?: 'full'): Promise<[ComputeReport, Clocked]> =>
    await clocked(
      () => (workers > 1 ? slicedCompute(store.path, input(now, mode), workers) : computeAll(store, input(now, mode))),
      postmaster,
    );
  const [, full] = await run(at, 'full');
  log(`${engine}: full compute ${(full.wall / 1000).toFixed(2)} s`);
  // 1% of the contacts, spread over the ids, get a purchase through the load path an hour later.
  const later = new Date(at.getTime() + HOUR);
  const touched = Math.max(1, Math.round(contacts / 100));
  const step = Math.floor(contacts / touched);
  const records: EventRecord[] = Array.from({ length: touched }, (_, i) => ({
    kind: 'event',
    source: 'bench',
    sourceEventId: `${options.batch}-${i}`,
    type: 'purchase',
    occurredAt: new Date(later.getTime() - HOUR / 2).toISOString(),
    contact: { externalId: `b${1 + i * step}` },
    value: 40,
    properties: { currency: 'EUR' },
  }));
  const [, load] = await clocked(async () => {
    for (let i = 0; i < records.length; i += 1000)
      await loadPage(store, {
        connection: 'bench',
        stream: 'events',
        records: records.slice(i, i + 1000),
        checkpoint: null,
        now: later,
      });
  }, postmaster);
  const [report, incremental] = await run(later);
  log(`${engine}: incremental compute ${(incremental.wall / 1000).toFixed(2)} s (${JSON.stringify(report.scope)})`);
  return { engine, full, incremental, scope: report.scope, load };
}

/** `--name=N` or `--name N` from the command line. */
function knob(name: string): number | undefined {
  const at = process.argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return undefined;
  const given = process.argv[at] as string;
  const value = Number(given.includes('=') ? given.slice(name.length + 1) : process.argv[at + 1]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The phases asked for: `--phases=a,b` or SCALE_BENCH_PHASES, else all of them. */
function phasesAsked(): Phase[] {
  const flag = process.argv.find((a) => a.startsWith('--phases='))?.slice('--phases='.length);
  const given = flag ?? process.env.SCALE_BENCH_PHASES;
  if (given === undefined || given.trim() === '') return [...PHASES];
  const names = given.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(PHASES as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new Error(
      `scale bench: unknown phase ${unknown.join(', ')}; pass some of ${PHASES.join(', ')}, comma-separated`,
    );
  return PHASES.filter((p) => names.includes(p));
}

/** What one phase measured, when, and under which load: kept so that phases run apart make one section. */
interface PhaseRecord {
  date: string;
  commit: string;
  /** Wall seconds of the whole phase (the store's generation included). */
  seconds: number;
  load: { before: number[]; after: number[] };
  compute?: ComputeFigures[];
  push?: { contacts: number; limited: Measured[]; slow: Measured[]; latencyMs: number };
  read?: ReadFigures;
}

type PhaseRecords = Partial<Record<Phase, PhaseRecord>>;

const recordsFile = (contacts: number): string => join(ROOT, '.segflow', 'bench', `scale-${contacts}.json`);

function readRecords(contacts: number): PhaseRecords {
  const file = recordsFile(contacts);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PhaseRecords) : {};
}

function writeRecords(contacts: number, records: PhaseRecords): void {
  const file = recordsFile(contacts);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(records, null, 1)}\n`);
}

function commitNow(): string {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

/** Runs `fn` as a phase: its figures with its wall time, date and the load average around it. */
async function phase(fn: () => Promise<Pick<PhaseRecord, 'compute' | 'push' | 'read'>>): Promise<PhaseRecord> {
  const before = loadavg();
  const start = performance.now();
  const figures = await fn();
  return {
    date: new Date().toISOString(),
    commit: commitNow(),
    seconds: (performance.now() - start) / 1000,
    load: { before, after: loadavg() },
    ...figures,
  };
}

/** Full and 1% incremental compute of the phases asked: SQLite, PostgreSQL in one process, PostgreSQL on 2 workers. */
async function computePhases(
  asked: Phase[],
  contacts: number,
  dir: string,
  pg: { fresh(): Promise<string> },
  log: (line: string) => void,
): Promise<PhaseRecords> {
  const out: PhaseRecords = {};
  const segments = await starterSegments(dir);
  const generated = async (location: string, engine: string): Promise<Store> => {
    const store = await openStore(location);
    log(`${engine}: generating ${contacts} contacts and ${contacts * 10} events`);
    const start = performance.now();
    await generate(store, contacts, contacts * 10);
    log(`${engine}: generated in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    return store;
  };
  if (asked.includes('sqlite'))
    out.sqlite = await phase(async () => {
      const store = await generated(join(dir, 'compute.db'), 'SQLite');
      try {
        const options = { contacts, at: NOW, workers: 1, batch: 'later' };
        return { compute: [await computeOn(store, 'SQLite', segments, options, log)] };
      } finally {
        await store.close();
      }
    });
  if (!asked.includes('postgres') && !asked.includes('workers')) return out;
  // One PostgreSQL store for both: `workers` computes it two hours after `postgres` did (full again, another 1%).
  const location = await pg.fresh();
  const postmaster = await postmasterPid(location);
  let store: Store | undefined;
  try {
    const ready = async (): Promise<Store> => (store ??= await generated(location, 'PostgreSQL'));
    if (asked.includes('postgres'))
      out.postgres = await phase(async () => {
        const options = { contacts, at: NOW, workers: 1, postmaster, batch: 'later' };
        return { compute: [await computeOn(await ready(), 'PostgreSQL', segments, options, log)] };
      });
    if (asked.includes('workers'))
      out.workers = await phase(async () => {
        const options = { contacts, at: new Date(NOW.getTime() + 2 * HOUR), workers: 2, postmaster, batch: 'again' };
        return { compute: [await computeOn(await ready(), 'PostgreSQL, 2 workers', segments, options, log)] };
      });
  } finally {
    await (store as Store | undefined)?.close();
  }
  return out;
}

/** Pushes with 1 and 2 workers, at HubSpot's limit and where its latency is the bottleneck. */
async function pushPhase(
  toy: boolean,
  dir: string,
  pg: { fresh(): Promise<string> },
  log: (line: string) => void,
): Promise<NonNullable<PhaseRecord['push']>> {
  const contacts = knob('--push-contacts') ?? (toy ? 300 : 15_000);
  const real = toy ? { requestsPerInterval: 10, intervalMs: 1_000 } : { requestsPerInterval: 100, intervalMs: 10_000 };
  const open = { requestsPerInterval: 1_000_000, intervalMs: 10_000 };
  const latencyMs = toy ? 20 : 100;
  const people = Array.from({ length: contacts }, (_, i) => `c${i},p${i}@example.com,2026-01-01T00:00:00Z`);
  writeFileSync(join(dir, 'contacts.csv'), `id,email,updated_at\n${people.join('\n')}\n`);
  const limited: Measured[] = [];
  const slow: Measured[] = [];
  for (const workers of [1, 2]) {
    const limitCase = { label: `limit ${workers} worker(s)`, workers, limit: real, latencyMs: 0 };
    limited.push(await runCase(limitCase, dir, await pg.fresh(), log));
    const latencyCase = { label: `latency ${workers} worker(s)`, workers, limit: open, latencyMs };
    slow.push(await runCase(latencyCase, dir, await pg.fresh(), log));
  }
  return { contacts, limited, slow, latencyMs };
}

/** What one case of the read phase measured. */
export interface ReadCase {
  label: string;
  workers: number;
  wallMs: number;
  /** CPU ms: each segflow process's (the `segflow run` child, or each worker), this one's (the sandboxes, and on
   * PostgreSQL the run waiting on its tasks) and PostgreSQL's server's. */
  cpuMs: { segflow: number[]; bench: number; server?: number };
  /** Records the connectors read (the streams' `read` counts) and the rows they inserted or updated. */
  read: number;
  loaded: number;
  contacts: number;
  identities: number;
  events: number;
  /**
   * sha256 of the store's contacts, identities and events (storeDump without checkpoints; equal across engines), or
   * '' where it was not taken (see {@link digestWanted}).
   */
  digest: string;
  status: string;
}

/** The read phase: what the sandboxes held, how long filling them took, and each case. */
export interface ReadFigures {
  contacts: number;
  sandboxes: {
    hubspotContacts: number;
    emailEvents: number;
    salesforceContacts: number;
    tasks: number;
    mailchimpMembers: number;
  };
  /** People behind the contact records: HubSpot's and Salesforce's bulk contacts share `overlap` emails. */
  people: number;
  fillMs: number;
  cases: ReadCase[];
}

/** Records the sandboxes hold, all streams read. */
export const heldBy = (s: ReadFigures['sandboxes']): number =>
  s.hubspotContacts + s.emailEvents + s.salesforceContacts + s.tasks + s.mailchimpMembers;

/** CPU ms of this process's waited-for children (cutime + cstime, from /proc): a `segflow run` child once it exited. */
function childrenCpuMs(): number {
  const fields = (readFileSync('/proc/self/stat', 'utf8').split(') ')[1] ?? '').split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** sha256 of what a store holds, without stream checkpoints (they carry the read's own clock). */
async function readDigest(store: Store): Promise<string> {
  const hash = createHash('sha256');
  for await (const line of storeDump(store)) {
    if (line[0] === 'checkpoints') continue;
    hash.update(JSON.stringify(line));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/**
 * Whether the read phase digests its stores: a dump of every event, ordered by the engine, takes about half a minute
 * per 1,000,000 events under load, so by default only up to 200,000 contact records; SCALE_BENCH_DIGEST=1 always,
 * SCALE_BENCH_DIGEST=0 never (the counts are compared either way).
 */
function digestWanted(contacts: number): boolean {
  const asked = process.env.SCALE_BENCH_DIGEST;
  return asked === undefined || asked === '' ? contacts <= 200_000 : asked !== '0';
}

/** Counts and (when `digest`) digest of the store a read case filled. */
async function readStoreFigures(
  location: string,
  digest: boolean,
): Promise<Pick<ReadCase, 'contacts' | 'identities' | 'events' | 'digest'>> {
  const store = await openStore(location);
  try {
    const count = async (table: string) =>
      Number(((await store.get(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: number | string }).n);
    return {
      contacts: await count('contacts'),
      identities: await count('identities'),
      events: await count('events'),
      digest: digest ? await readDigest(store) : '',
    };
  } finally {
    await store.close();
  }
}

/** Records read and rows loaded over a job result's read steps. */
function readCounts(result: JobResult): { read: number; loaded: number; failed: string[]; streams: string } {
  const streams = result.steps.flatMap((s) =>
    s.kind === 'read' ? s.sources.flatMap((x) => x.streams.map((o) => ({ ...o, source: x.source }))) : [],
  );
  return {
    read: streams.reduce((n, s) => n + s.counts.read, 0),
    loaded: streams.reduce((n, s) => n + s.counts.inserted + s.counts.updated, 0),
    streams: streams.map((s) => `${s.source}.${s.stream} ${s.counts.read}`).join(', '),
    failed: streams
      .filter((s) => s.status !== 'succeeded')
      .map((s) => `${s.source}.${s.stream}: ${s.error ?? s.status}`),
  };
}

/**
 * The read phase: HubSpot (contacts, email events) and Salesforce (contacts, call tasks) sandboxes filled in bulk
 * with `contacts` contact records and ten times as many events, read through the connectors by a job's read step
 * into one SQLite `segflow run`, then PostgreSQL with one and with two `segflow worker` processes.
 */
async function readPhase(
  contacts: number,
  dir: string,
  pg: { fresh(): Promise<string> },
  log: (line: string) => void,
): Promise<ReadFigures> {
  // Emails bulk.<i>: HubSpot [0, 40%), Salesforce from 35% (5% shared with HubSpot), Mailchimp from 60% (5% shared
  // with Salesforce): 90% of the contact records are distinct people.
  const hubspotContacts = Math.round(contacts * 0.4);
  const salesforceContacts = Math.round(contacts * 0.3);
  const mailchimpMembers = contacts - hubspotContacts - salesforceContacts;
  const overlap = Math.round(contacts * 0.05);
  const emailEvents = contacts * 6;
  const tasks = contacts * 4;
  const spanMs = 300 * DAY;
  const fillStart = performance.now();
  const raised = { requestsPerInterval: 1_000_000_000, searchPerSecond: 1_000_000, daily: 1_000_000_000 };
  const hubspot = await startSandbox({
    bulk: { contacts: hubspotContacts, emailEvents, start: NOW.getTime() - spanMs, spanMs },
    limits: raised,
    recordBodies: false,
  });
  const salesforce = await startSalesforce({ seed: 'scale', people: 1, limits: { dailyRequests: 1_000_000_000 } });
  const mailchimp = await startMailchimp({ seed: 'scale', people: 1 });
  try {
    renderMailchimpBulk(mailchimp.account, {
      listId: mailchimp.world.audiences[0]!.id,
      members: mailchimpMembers,
      emailFrom: hubspotContacts - overlap + salesforceContacts - overlap,
      start: mailchimp.account.now() - spanMs - DAY,
      spanMs,
    });
    renderSalesforceBulk(salesforce.org, {
      contacts: salesforceContacts,
      tasks,
      emailFrom: hubspotContacts - overlap,
      start: salesforce.org.now() - spanMs - DAY,
      spanMs,
    });
    const fillMs = performance.now() - fillStart;
    log(
      `read: sandboxes filled in ${(fillMs / 1000).toFixed(1)} s; this process's heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
    );
    // What the sandboxes hold, counted in them (the Salesforce org and Mailchimp account also render their world's
    // few people).
    const live = (type: string) => [...salesforce.org.table(type).values()].filter((row) => !row.IsDeleted);
    const salesforceRows = live('Contact');
    const sandboxes = {
      hubspotContacts: hubspot.portal.byId('contacts').filter((c) => !c.archived).length,
      emailEvents: hubspot.portal.emailEvents.count,
      salesforceContacts: salesforceRows.length,
      tasks: live('Task').filter((row) => /^00[3Q]/.test(String(row.WhoId))).length,
      mailchimpMembers: mailchimp.account.lists().reduce((n, l) => n + mailchimp.account.listMembers(l.id).length, 0),
    };
    const expected = heldBy(sandboxes);
    const emails = new Set<string>();
    for (const c of hubspot.portal.byId('contacts'))
      if (!c.archived) emails.add(String(c.properties.email).toLowerCase());
    for (const row of salesforceRows) emails.add(String(row.Email).toLowerCase());
    for (const list of mailchimp.account.lists())
      for (const entry of mailchimp.account.listMembers(list.id))
        emails.add(String(mailchimp.account.member(list.id, entry.hash)?.email).toLowerCase());
    const people = emails.size;
    emails.clear();
    const open = `rate_limit: { requests: 1000000, interval: 1s, daily: 1000000000 }`;
    const configFile = (name: string, store: string): string => {
      const file = join(dir, `read-${name}.yaml`);
      writeFileSync(
        file,
        `store:
  ${store}
sources:
  hubspot:
    connector: hubspot
    config: ${JSON.stringify({ ...sandboxConfig(hubspot), searchPerSecond: 1_000_000 })}
    ${open}
    streams: [contacts, email_events]
  salesforce:
    connector: salesforce
    config: ${JSON.stringify(salesforceConfig(salesforce))}
    ${open}
    streams: [contacts, tasks]
  mailchimp:
    connector: mailchimp
    config: ${JSON.stringify(mailchimpConfig(mailchimp))}
    ${open}
    streams: [members]
jobs:
  read:
    steps:
      - read: { sources: [hubspot, salesforce, mailchimp] }
`,
      );
      return file;
    };
    const cases: ReadCase[] = [];
    const digested = digestWanted(contacts);
    const check = (c: ReadCase, { failed, streams }: { failed: string[]; streams: string }): void => {
      log(`read ${c.label}: ${JSON.stringify(c)} (${streams})`);
      if (failed.length > 0 || c.status !== 'succeeded')
        throw new Error(`scale bench read ${c.label}: ${c.status}; ${failed.join('; ')}`);
      if (c.read !== expected)
        throw new Error(`scale bench read ${c.label}: ${c.read} records read, the sandboxes hold ${expected}`);
      if (c.contacts !== people)
        throw new Error(
          `scale bench read ${c.label}: ${c.contacts} contacts after identity resolution, ${people} people`,
        );
      const first = cases[0];
      if (
        first &&
        (first.digest !== c.digest ||
          first.contacts !== c.contacts ||
          first.identities !== c.identities ||
          first.events !== c.events)
      )
        throw new Error(
          `scale bench read ${c.label}: the store differs from ${first.label}'s (contacts ${c.contacts} vs ${first.contacts}, identities ${c.identities} vs ${first.identities}, events ${c.events} vs ${first.events})`,
        );
      cases.push(c);
    };

    // (a) One `segflow run` process on SQLite; its CPU is this process's waited-for children's once it exits.
    {
      const location = join(dir, 'read.db');
      const file = configFile('sqlite', `path: ${JSON.stringify(location)}`);
      const bench = process.cpuUsage();
      const children = childrenCpuMs();
      const start = performance.now();
      const child = spawn(process.execPath, ['bin/segflow.js', 'run', file, 'read', '--json'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      const wallMs = performance.now() - start;
      const used = process.cpuUsage(bench);
      const segflow = childrenCpuMs() - children;
      let result: JobResult;
      try {
        result = JSON.parse(stdout) as JobResult;
      } catch {
        throw new Error(`scale bench read: segflow run exited ${code}:\n${stdout}\n${stderr}`);
      }
      const counts = readCounts(result);
      check(
        {
          label: 'SQLite, one process',
          workers: 0,
          wallMs,
          cpuMs: { segflow: [segflow], bench: (used.user + used.system) / 1000 },
          read: counts.read,
          loaded: counts.loaded,
          ...(await readStoreFigures(location, digested)),
          status: result.status,
        },
        counts,
      );
    }

    // (b), (c) PostgreSQL with one and two `segflow worker` processes; the run waits on their read tasks here.
    for (const count of [1, 2]) {
      const database = await pg.fresh();
      const file = configFile(`postgres-${count}`, `url: ${JSON.stringify(database)}`);
      const registry = createRegistry([...BUILTIN_CONNECTORS]);
      const config = await loadConfig(file, { registry, env: {} });
      const postmaster = await postmasterPid(database);
      const workers = Array.from({ length: count }, () => startWorker(file));
      try {
        const store = await openStore(database);
        try {
          while ((await liveWorkers(store)).length < count) {
            if (workers.some((w) => !w.alive()))
              throw new Error(`a worker exited before it started:\n${workers.map((w) => w.output()).join('\n')}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        } finally {
          await store.close();
        }
        const before = { workers: workers.map((w) => processCpuMs(w.pid) ?? 0), server: serverCpuSeconds(postmaster) };
        const bench = process.cpuUsage();
        const start = performance.now();
        const result = await runJob(config, 'read', { registry, workers: true, taskPollMs: 100 });
        const wallMs = performance.now() - start;
        const used = process.cpuUsage(bench);
        const server = serverCpuSeconds(postmaster);
        const segflow = workers.map((w, i) => (processCpuMs(w.pid) ?? 0) - (before.workers[i] ?? 0));
        const counts = readCounts(result);
        check(
          {
            label: `PostgreSQL, ${count} worker${count > 1 ? 's' : ''}`,
            workers: count,
            wallMs,
            cpuMs: {
              segflow,
              bench: (used.user + used.system) / 1000,
              ...(server === undefined || before.server === undefined
                ? {}
                : { server: (server - before.server) * 1000 }),
            },
            read: counts.read,
            loaded: counts.loaded,
            ...(await readStoreFigures(database, digested)),
            status: result.status,
          },
          counts,
        );
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    }
    return { contacts, sandboxes, people, fillMs, cases };
  } finally {
    await Promise.all([hubspot.close(), salesforce.close(), mailchimp.close()]);
  }
}

/**
 * The read phase alone at `contacts` contact records, in a temporary folder and throw-away PostgreSQL databases (the
 * toy run's test asserts its counts).
 *
 * @example
 * const { cases, people } = await readAtScale(500, console.log);
 */
export async function readAtScale(contacts: number, log: (line: string) => void): Promise<ReadFigures> {
  const dir = tempDir('segflow-bench-scale-read-');
  const pg = await postgresDatabases(log);
  try {
    return await readPhase(contacts, dir, pg, log);
  } finally {
    await pg.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadText = (l: number[] | undefined): string => (l ?? []).map((x) => x.toFixed(1)).join(' / ');

/** When and under which load a phase ran, and how long it took. */
function provenanceOf(name: string, r: PhaseRecord, now: boolean): string {
  return `${name}: ${r.seconds.toFixed(0)} s${now ? '' : ` (an earlier run: ${r.date.slice(0, 16).replace('T', ' ')} UTC, commit ${r.commit})`}, load average ${loadText(r.load.before)} before, ${loadText(r.load.after)} after`;
}

function readMarkdown(record: PhaseRecord, fresh: boolean, toy: boolean): string {
  const { contacts, sandboxes, people, fillMs, cases } = record.read!;
  const n = (x: number): string => x.toLocaleString('en');
  const s = (ms: number | undefined): string => (ms === undefined ? '—' : (ms / 1000).toFixed(1));
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const records = heldBy(sandboxes);
  // The full scale's records (1,000,000 contacts, 10,000,000 events) at each case's measured rate: an estimate only.
  const full = 11_000_000;
  const rows = [
    '| case | wall s | records/s | CPU s: segflow | CPU s: sandboxes (this process) | CPU s: PostgreSQL | records read | rows loaded | contacts after identity resolution | identities | events | CPU µs per record: segflow + PostgreSQL | estimate at 1M / 10M: at this rate; from CPU on 2 idle cores |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...cases.map((c) => {
      const rate = c.read / (c.wallMs / 1000);
      const each = c.cpuMs.segflow.length > 1 ? ` (${c.cpuMs.segflow.map((x) => s(x)).join(' + ')})` : '';
      const client = (sum(c.cpuMs.segflow) * 1000) / c.read;
      const server = ((c.cpuMs.server ?? 0) * 1000) / c.read;
      // One process waits for each statement, so its client and server CPU add up; two workers use both cores.
      const idle = ((client + server) * full) / 1e6 / Math.min(2, Math.max(1, c.workers));
      return `| ${c.label} | ${s(c.wallMs)} | ${n(Math.round(rate))} | ${s(sum(c.cpuMs.segflow))}${each} | ${s(c.cpuMs.bench)} | ${s(c.cpuMs.server)} | ${n(c.read)} | ${n(c.loaded)} | ${n(c.contacts)} | ${n(c.identities)} | ${n(c.events)} | ${client.toFixed(0)} + ${server.toFixed(0)} | ${(full / rate / 60).toFixed(0)} min; ${(idle / 60).toFixed(0)} min |`;
    }),
  ];
  const one = cases.find((c) => c.workers === 1);
  const two = cases.find((c) => c.workers === 2);
  const speedup = one && two ? `${(one.wallMs / two.wallMs).toFixed(2)}×` : '—';
  const same = (c: ReadCase, d: ReadCase | undefined): boolean =>
    d !== undefined &&
    c.digest === d.digest &&
    c.contacts === d.contacts &&
    c.identities === d.identities &&
    c.events === d.events;
  const equal = cases.every((c) => same(c, cases[0]));
  const digested = cases[0]?.digest !== '';
  const hubspotRequests = Math.ceil(sandboxes.hubspotContacts / 100) + Math.ceil(sandboxes.emailEvents / 1000);
  return `### Read through the connectors

${rows.join('\n')}

The sandboxes (in this process) hold ${n(records)} records, filled in bulk in ${s(fillMs)} s (no request per record):
HubSpot ${n(sandboxes.hubspotContacts)} contacts and ${n(sandboxes.emailEvents)} email events, Salesforce
${n(sandboxes.salesforceContacts)} contacts and ${n(sandboxes.tasks)} call tasks, Mailchimp ${n(sandboxes.mailchimpMembers)}
members: ${n(contacts)} contact records, ten times as many events, for ${n(people)} people (some are in two tools,
matched by email). A job's read step reads them through the connectors (the official SDKs: @hubspot/api-client,
jsforce, @mailchimp/mailchimp_marketing; streams contacts + email_events, contacts + tasks, members) into one
\`segflow run\` process on SQLite, then into PostgreSQL with one and with two \`segflow worker\` processes (a read
task per stream; the run waits on them here). **The vendors' rate limits are raised for this phase** (sandboxes and
job): at HubSpot's real 100 requests per 10 s its ${n(hubspotRequests)} requests alone would take
${(((hubspotRequests / 100) * 10) / 60).toFixed(0)} min; this measures segflow, not the vendors. SQLite's wall time
includes the child's start. CPU: each segflow process's (the \`segflow run\` child's from this process's waited-for
children; each worker's from /proc), this process's (the sandboxes; on PostgreSQL also the run waiting on its tasks)
and PostgreSQL's server processes'. Every case read every record in the sandboxes and resolved them to ${n(people)}
contacts (checked); the stores' contacts, identities and events ${equal ? (digested ? 'are equal in all three cases (one digest over them, engine-neutral)' : 'number the same in all three cases (counts compared; no digest at this scale)') : 'DIFFER'}; 2 workers vs 1: ${speedup} on wall time. The estimates divide
11,000,000 records by each case's measured rate: estimates, not measurements: the first at each case's
measured rate (under this run's load), the second from its CPU per record alone, as if the machine's 2 cores were
idle (one process: segflow's and PostgreSQL's CPU add up, as each statement waits for the server; two workers: their
sum over two cores, a lower bound, as a stream is one task and HubSpot's email events are 55% of the records). ${provenanceOf('Read phase', record, fresh)}${toy ? '; toy scale' : ''}.`;
}

function computeMarkdown(records: PhaseRecords, contacts: number, fresh: Set<Phase>, toy: boolean): string {
  const phases = (['sqlite', 'postgres', 'workers'] as const).filter((p) => records[p]?.compute !== undefined);
  if (phases.length === 0) return '';
  const figures = phases.flatMap((p) => records[p]?.compute ?? []);
  const s = (ms: number): string => (ms / 1000).toFixed(2);
  const c = (x: Clocked): string => `${s(x.wall)} (${s(x.cpu)}${x.server === undefined ? '' : ` + ${s(x.server)}`})`;
  const rows = [
    '| engine | full: wall s (CPU s) | 1% load: wall s (CPU s) | incremental: wall s (CPU s) | full / incremental (wall) | contacts recomputed | memberships evaluated |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...figures.map(
      (f) =>
        `| ${f.engine} | ${c(f.full)} | ${c(f.load)} | ${c(f.incremental)} | ${(f.full.wall / f.incremental.wall).toFixed(1)}× | ${f.scope.features.toLocaleString('en')} (${f.scope.dirty.toLocaleString('en')} dirty, ${f.scope.crossed.toLocaleString('en')} crossed a window edge) | ${f.scope.segments === undefined ? 'all' : f.scope.segments.toLocaleString('en')} |`,
    ),
  ];
  const names = { sqlite: 'SQLite', postgres: 'PostgreSQL', workers: 'PostgreSQL, 2 workers' };
  return `### Compute: full vs incremental

${rows.join('\n')}

${contacts.toLocaleString('en')} contacts and ${(contacts * 10).toLocaleString('en')} events (raw-generated over two
years), the starter segments; then 1% of the contacts get a purchase through the load path and the
compute runs an hour later: incremental recomputes the dirty contacts and those with an event crossing a window
edge in that hour, moves every contact's day counts with the clock and rescores RFM where it moved, and evaluates
memberships for those contacts and the ones whose features moved. Both runs include models and voice features (none
configured here) and account features. "2 workers": the same PostgreSQL store two hours later, computed as two
workers do (a prepare part, the features of two slices of contacts side by side on two connections, then the
segments part), full again and after another 1%. PostgreSQL is a throw-away embedded server on this machine sized as
the segments bench sizes its own (shared_buffers 2 GB, work_mem 128 MB; fsync off) unless SEGFLOW_TEST_DATABASE_URL
names one. CPU is this process's, all threads, plus PostgreSQL's server processes' (from /proc) after the +. Phases (wall time, generation of the store included; other work shares the
machine, 2 cores): ${phases.map((p) => provenanceOf(names[p], records[p]!, fresh.has(p))).join('; ')}${toy ? '; toy scale' : ''}.`;
}

function pushMarkdown(record: PhaseRecord, fresh: boolean, toy: boolean): string {
  const { contacts, limited, slow, latencyMs } = record.push!;
  const real = toy ? { requestsPerInterval: 10, intervalMs: 1_000 } : { requestsPerInterval: 100, intervalMs: 10_000 };
  // The earliest the last request could go under the limit (the first `requests` at once, each further `requests`
  // one interval later), over when it went: 100% is as fast as the limit allows.
  const share = (m: Measured) =>
    m.spanMs === 0 ? 0 : (Math.floor((m.requests - 1) / real.requestsPerInterval) * real.intervalMs) / m.spanMs;
  const perSecond = (m: Measured) => (m.spanMs === 0 ? 0 : (m.requests - 1) / (m.spanMs / 1000));
  const per = (ms: number | undefined, m: Measured) =>
    ms === undefined || m.requests === 0 ? '—' : (ms / m.requests).toFixed(1);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const cpu = (m: Measured) =>
    `${per(sum(m.cpuMs.workers), m)}${m.cpuMs.workers.length > 1 ? ` (${m.cpuMs.workers.map((w) => per(w, m)).join(' + ')})` : ''} | ${per(m.cpuMs.bench, m)} | ${per(m.cpuMs.server, m)}`;
  const rows = [
    '| case | workers | requests | refused (429) | most in one rolling window | span s | requests/s | share of the limit | CPU ms per request: workers | sandbox | PostgreSQL |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...limited.map(
      (m, i) =>
        `| HubSpot limit ${real.requestsPerInterval} per ${real.intervalMs / 1000} s | ${i + 1} | ${m.requests} | ${m.refused} | ${m.peakInWindow} | ${(m.spanMs / 1000).toFixed(1)} | ${perSecond(m).toFixed(2)} | ${(share(m) * 100).toFixed(0)}% | ${cpu(m)} |`,
    ),
    ...slow.map(
      (m, i) =>
        `| ${latencyMs} ms latency, limit raised | ${i + 1} | ${m.requests} | ${m.refused} | ${m.peakInWindow} | ${(m.spanMs / 1000).toFixed(1)} | ${perSecond(m).toFixed(2)} | — | ${cpu(m)} |`,
    ),
  ];
  const speedup = perSecond(slow[0]!) === 0 ? 0 : perSecond(slow[1]!) / perSecond(slow[0]!);
  const two = limited[1]!;
  const requests = Math.ceil(contacts / 100) * 4 + 4;
  return `### Pushes with 1 and 2 workers

${rows.join('\n')}

${contacts.toLocaleString('en')} people pushed to each of two HubSpot lists (each person created by email, then
added: about ${requests} requests, ${((requests / real.requestsPerInterval) * (real.intervalMs / 1000)).toFixed(0)} s at the limit), one push task per segment, by \`segflow worker\` child processes on PostgreSQL (the
same push set at every \`--contacts\`: the compute phases' store is not pushed); "share of the limit" is the earliest
the last request could have gone under the limit (the first ${real.requestsPerInterval} at once, each further
${real.requestsPerInterval} one window later) over when it went, the whole push (ramp and tail, the last task alone at
the end) included: 100% is as fast as the limit allows. The workers share the limit through an exact rolling window in
the store, each request counted from when its answer came back (no later than it reached HubSpot). CPU per request
is each process's over the push (from /proc): the workers (their sum, then each), this process (the HubSpot sandbox,
which runs here, and the run waiting on its tasks) and PostgreSQL's server. ${provenanceOf('Push phase', record, fresh)}. Targets: the workers together never above ${real.requestsPerInterval} requests per rolling
${real.intervalMs / 1000} s (refused: ${limited.map((m) => m.refused).join(' and ')}; most in one window:
${limited.map((m) => m.peakInWindow).join(' and ')}), and 2 workers reaching at least 90% of it (busiest window
${((two.peakInWindow / real.requestsPerInterval) * 100).toFixed(0)}%, ${(share(two) * 100).toFixed(0)}% over the
whole push); where latency is the bottleneck, 2 workers at least 1.6× one (${speedup.toFixed(2)}×). Run statuses:
${[...limited, ...slow].map((m) => m.status).join(', ')}.`;
}

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const asked = phasesAsked();
    const contacts = knob('--contacts') ?? (toy ? 2_000 : 100_000);
    const dir = tempDir('segflow-bench-scale-');
    const pg = await postgresDatabases(log);
    const ran: PhaseRecords = {};
    try {
      if (asked.includes('read'))
        ran.read = await phase(async () => ({ read: await readPhase(contacts, dir, pg, log) }));
      Object.assign(ran, await computePhases(asked, contacts, dir, pg, log));
      if (asked.includes('push')) ran.push = await phase(async () => ({ push: await pushPhase(toy, dir, pg, log) }));
    } finally {
      await pg.remove();
      rmSync(dir, { recursive: true, force: true });
    }
    // A full-scale run keeps its phases' figures, and shows the phases it did not run from their last run.
    const records: PhaseRecords = toy ? ran : { ...readRecords(contacts), ...ran };
    if (!toy) writeRecords(contacts, records);
    const fresh = new Set(Object.keys(ran) as Phase[]);
    log(
      `phases: ${(Object.keys(ran) as Phase[]).map((p) => `${p} ${ran[p]!.seconds.toFixed(0)} s`).join(', ')} (load average now ${loadText(loadavg())})`,
    );
    return [
      records.read ? readMarkdown(records.read, fresh.has('read'), toy) : '',
      computeMarkdown(records, contacts, fresh, toy),
      records.push ? pushMarkdown(records.push, fresh.has('push'), toy) : '',
    ]
      .filter((part) => part !== '')
      .join('\n\n');
  },
};
