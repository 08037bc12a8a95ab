/**
 * Workers and incremental compute on one store (issue #26), in two parts.
 *
 * Compute: full vs incremental compute of features and segments (the starter segments) after new events for 1% of
 * the contacts, an hour later, on SQLite and on PostgreSQL side by side. The store is generated with raw inserts
 * (bench/segments' generator: 10 events per contact over two years); the 1% arrive through the load path
 * (`loadPage`), which marks them dirty. `--contacts=N` sets the contacts (default 100,000; toy 2,000; the issue's
 * scale is 1,000,000); PostgreSQL also computed as two workers do (slices side by side). CPU is this process's (all
 * its threads) and PostgreSQL's server processes' (from /proc).
 *
 * Push: a job's two HubSpot pushes (one segment each, contacts created by
 * email) run by 1 and 2 `runWorker` workers, (a) at HubSpot's real rolling limit, 100 requests per 10 s, where the
 * workers share one budget through the store and should use at least 90% of it without ever going over (read from
 * the sandbox's own counters), and (b) with the limit raised and 100 ms of latency added to every request, where the
 * tool's latency is the bottleneck and 2 workers should reach at least 1.6× one worker's throughput.
 * `--push-contacts=N` sets the people pushed per segment (default 10,000, about 400 requests or four windows of the
 * limit; toy 300, with the limit scaled to 10 per second). The workers run in this process, each with its own store connection and connector contexts (as separate
 * processes would have).
 */
import { loadavg } from 'node:os';
import { writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPage, openStore, type SegmentDefinition, type Store } from '../core/index.js';
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
import { generate } from './segments.js';
import { BUILTIN_CONNECTORS } from '../cli/builtins.js';
import { loadConfig } from '../config/index.js';
import { sandboxConfig, startSandbox, type HubSpotSandbox } from '../connectors/hubspot/index.js';
import { createRegistry } from '../plugins/index.js';
import { runJob, runWorker } from '../sync/index.js';
import { tempDir } from '../test/support/temp.js';
import type { Benchmark } from './run.js';

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
  /** This process's CPU over that span (the workers, their store connections and the sandbox), ms. */
  cpuMs: number;
  status: string;
}

/** Fresh PostgreSQL databases, one per case (SEGFLOW_TEST_DATABASE_URL's server, else a throw-away embedded one). */
async function postgresDatabases(
  log: (line: string) => void,
): Promise<{ fresh(): Promise<string>; remove(): Promise<void> }> {
  const { admin, databaseUrl, startPostgres } = await import('../test/support/postgres.js');
  const given = process.env.SEGFLOW_TEST_DATABASE_URL;
  const server = given === undefined ? await startPostgres() : undefined;
  if (server) log('PostgreSQL: started a throw-away embedded server (set SEGFLOW_TEST_DATABASE_URL to use another)');
  const serverUrl = given ?? (server as { url: string }).url;
  const made: string[] = [];
  return {
    async fresh() {
      const name = `segflow_bench_scale_${process.pid}_${made.length}`;
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin(serverUrl, `CREATE DATABASE ${name}`);
      made.push(name);
      return databaseUrl(serverUrl, name);
    },
    async remove() {
      for (const name of made) await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server?.stop();
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
    const stop = new AbortController();
    // CPU read every 200 ms, to take this process's CPU between the first request and the last.
    const cpu: [number, number][] = [];
    const sample = () => {
      const used = process.cpuUsage();
      cpu.push([Date.now(), (used.user + used.system) / 1000]);
    };
    const sampler = setInterval(sample, 200);
    const workers = Array.from({ length: c.workers }, (_, i) =>
      runWorker(config, { registry, holder: `bench-${i}`, signal: stop.signal, pollMs: 20, computeIn: 'here' }),
    );
    const result = await runJob(config, 'nightly', { registry, workers: true, taskPollMs: 50 });
    stop.abort();
    await Promise.all(workers);
    clearInterval(sampler);
    sample();
    const times = sandbox.recorder.requests.map((r) => r.at).sort((a, b) => a - b);
    const [first, last] = [times[0] ?? 0, times[times.length - 1] ?? 0];
    const cpuAt = (t: number): number => (cpu.find(([at]) => at >= t) ?? cpu[cpu.length - 1] ?? [0, 0])[1];
    const counts = sandbox.limiter.counts();
    const measured: Measured = {
      requests: counts.admitted,
      refused: counts.refused,
      peakInWindow: counts.peakInWindow,
      spanMs: last - first,
      cpuMs: cpuAt(last) - cpuAt(first),
      status: result.status,
    };
    log(`${c.label}: ${JSON.stringify(measured)}`);
    return measured;
  } finally {
    await sandbox.close();
  }
}

const NOW = new Date('2026-03-01T00:00:00.000Z');
const HOUR = 3_600_000;
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

/** Full and 1% incremental compute on SQLite, and on PostgreSQL in one process and on 2 workers; the Markdown. */
async function computePart(
  toy: boolean,
  dir: string,
  pg: { fresh(): Promise<string> },
  log: (line: string) => void,
): Promise<string> {
  const contacts = knob('--contacts') ?? (toy ? 2_000 : 100_000);
  const segments = await starterSegments(dir);
  const before = loadavg();
  const figures: ComputeFigures[] = [];
  for (const [engine, location] of [
    ['SQLite', join(dir, 'compute.db')],
    ['PostgreSQL', await pg.fresh()],
  ] as const) {
    const store = await openStore(location);
    try {
      const postmaster = engine === 'PostgreSQL' ? await postmasterPid(location) : undefined;
      log(`${engine}: generating ${contacts} contacts and ${contacts * 10} events`);
      await generate(store, contacts, contacts * 10);
      figures.push(
        await computeOn(store, engine, segments, { contacts, at: NOW, workers: 1, postmaster, batch: 'later' }, log),
      );
      if (engine === 'PostgreSQL')
        // The same store two hours on: full again, then another 1%, computed by two workers.
        figures.push(
          await computeOn(
            store,
            'PostgreSQL, 2 workers',
            segments,
            { contacts, at: new Date(NOW.getTime() + 2 * HOUR), workers: 2, postmaster, batch: 'again' },
            log,
          ),
        );
    } finally {
      await store.close();
    }
  }
  const after = loadavg();
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
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' / ');
  return `### Compute: full vs incremental

${rows.join('\n')}

${contacts.toLocaleString('en')} contacts and ${(contacts * 10).toLocaleString('en')} events (raw-generated over two
years), the ${segments.length} starter segments; then 1% of the contacts get a purchase through the load path and the
compute runs an hour later: incremental recomputes the dirty contacts and those with an event crossing a window
edge in that hour, moves every contact's day counts with the clock and rescores RFM where it moved, and evaluates
memberships for those contacts and the ones whose features moved. Both runs include models and voice features (none
configured here) and account features. "2 workers": the same PostgreSQL store two hours later, computed as two
workers do (a prepare part, the features of two slices of contacts side by side on two connections, then the
segments part), full again and after another 1%. CPU is this process's, all threads, plus PostgreSQL's server
processes' (from /proc) after the +. Load average ${load(before)} before, ${load(after)} after (other work shares the
machine, 2 cores)${toy ? '; toy scale' : ''}.`;
}

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    // Two segments of 10,000 people are about 400 requests: four windows of HubSpot's limit, so the ramp (the first
    // request waits for the compute) and the tail (the last push alone) weigh little. (The HubSpot sandbox finds a
    // contact by email with a scan of every contact it holds, in this process: more people cost it quadratically.)
    const contacts = knob('--push-contacts') ?? (toy ? 300 : 10_000);
    const real = toy
      ? { requestsPerInterval: 10, intervalMs: 1_000 }
      : { requestsPerInterval: 100, intervalMs: 10_000 };
    const open = { requestsPerInterval: 1_000_000, intervalMs: 10_000 };
    const latencyMs = toy ? 20 : 100;
    const dir = tempDir('segflow-bench-scale-');
    const pg = await postgresDatabases(log);
    try {
      const computed = await computePart(toy, dir, pg, log);
      const people = Array.from({ length: contacts }, (_, i) => `c${i},p${i}@example.com,2026-01-01T00:00:00Z`);
      writeFileSync(join(dir, 'contacts.csv'), `id,email,updated_at\n${people.join('\n')}\n`);
      const limited: Measured[] = [];
      const slow: Measured[] = [];
      const pushLoad: number[][] = [loadavg()];
      for (const workers of [1, 2]) {
        limited.push(
          await runCase(
            { label: `limit ${workers} worker(s)`, workers, limit: real, latencyMs: 0 },
            dir,
            await pg.fresh(),
            log,
          ),
        );
        slow.push(
          await runCase(
            { label: `latency ${workers} worker(s)`, workers, limit: open, latencyMs },
            dir,
            await pg.fresh(),
            log,
          ),
        );
      }
      pushLoad.push(loadavg());
      const load = (l: number[] | undefined): string => (l ?? []).map((x) => x.toFixed(1)).join(' / ');
      // The earliest the last request could go under the limit (the first `requests` at once, each further
      // `requests` one interval later), over when it went: 100% is as fast as the limit allows.
      const share = (m: Measured) =>
        m.spanMs === 0 ? 0 : (Math.floor((m.requests - 1) / real.requestsPerInterval) * real.intervalMs) / m.spanMs;
      const perSecond = (m: Measured) => (m.spanMs === 0 ? 0 : (m.requests - 1) / (m.spanMs / 1000));
      const cpuPer = (m: Measured) => (m.requests === 0 ? 0 : m.cpuMs / m.requests).toFixed(1);
      const rows = [
        '| case | workers | requests | refused (429) | most in one rolling window | span s | requests/s | share of the limit | CPU ms per request |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...limited.map(
          (m, i) =>
            `| HubSpot limit ${real.requestsPerInterval} per ${real.intervalMs / 1000} s | ${i + 1} | ${m.requests} | ${m.refused} | ${m.peakInWindow} | ${(m.spanMs / 1000).toFixed(1)} | ${perSecond(m).toFixed(2)} | ${(share(m) * 100).toFixed(0)}% | ${cpuPer(m)} |`,
        ),
        ...slow.map(
          (m, i) =>
            `| ${latencyMs} ms latency, limit raised | ${i + 1} | ${m.requests} | ${m.refused} | ${m.peakInWindow} | ${(m.spanMs / 1000).toFixed(1)} | ${perSecond(m).toFixed(2)} | — | ${cpuPer(m)} |`,
        ),
      ];
      const speedup = perSecond(slow[0]!) === 0 ? 0 : perSecond(slow[1]!) / perSecond(slow[0]!);
      const two = limited[1]!;
      return `${computed}

### Pushes with 1 and 2 workers

${rows.join('\n')}

${contacts.toLocaleString('en')} people pushed to each of two HubSpot lists (each person created by email, then
added: about ${Math.ceil(contacts / 100) * 4 + 4} requests, ${(((Math.ceil(contacts / 100) * 4 + 4) / real.requestsPerInterval) * (real.intervalMs / 1000)).toFixed(0)} s at the limit), one push task per segment, on PostgreSQL;
"share of the limit" is the earliest the last request could have gone under the limit (the first
${real.requestsPerInterval} at once, each further ${real.requestsPerInterval} one window later) over when it went, the
whole push (ramp and tail, the last task alone at the end) included: 100% is as fast as the limit allows. The workers
share the limit through an exact rolling window in the store, each request counted from when its answer came back
(no later than it reached HubSpot), so the whole limit is usable; the token bucket it replaces refilled at 95% of
it. CPU per request is this process's over the push: the workers, their store connections and the sandbox, which
runs here too. Load average ${load(pushLoad[0])} before the pushes, ${load(pushLoad[1])} after. Targets: the workers together never above ${real.requestsPerInterval} requests per rolling
${real.intervalMs / 1000} s (refused: ${limited.map((m) => m.refused).join(' and ')}; most in one window:
${limited.map((m) => m.peakInWindow).join(' and ')}), and 2 workers reaching at least 90% of it (busiest window
${((two.peakInWindow / real.requestsPerInterval) * 100).toFixed(0)}%, ${(share(two) * 100).toFixed(0)}% over the
whole push); where latency is the bottleneck, 2 workers at least 1.6× one (${speedup.toFixed(2)}×). Run statuses:
${[...limited, ...slow].map((m) => m.status).join(', ')}.`;
    } finally {
      await pg.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
