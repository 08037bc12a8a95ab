/**
 * Real-time path under load: a second process sends Segment-spec batches to /v1/batch at a steady rate (full scale:
 * 2,000 events/s for 60 s over a store of 1,000,000 contacts, each with an earlier visit on record; half "Order
 * Completed", half page views) while a third process runs scheduled computations (all features and the starter
 * segments) over a store of as many contacts. The server process accepts, loads, recomputes and flushes to the
 * Segment sandbox (a process of its own, as Segment is remote). Figures: server CPU per accepted event (all its
 * threads, and the HTTP thread alone), accept to delivery latency p50/p99 per destination, events lost (accepted but
 * not in the store), changes left undelivered, /health latency seen by the sender during the run, peak RSS and CPU
 * time of each process.
 *
 * Options (after `npm run bench -- realtime`): `--contacts N` (the stores' size), `--seconds N`, `--rate N` (events
 * per second), `--ids random` (message ids as random as a UUID's, as RudderStack's SDK and the legacy analytics-node
 * send them; by default they follow the order they are sent in, as the current Segment libraries' time-prefixed ids
 * do); `--toy` defaults them to 2,000 contacts, 3 s and 200 events/s. REALTIME_BENCH_PROFILE=<folder> writes a
 * CPU profile of the server's main thread over the measured window there.
 *
 * The same file is also the sender, the scheduled process and the sandbox (chosen by SEGFLOW_BENCH_REALTIME_ROLE), so nothing
 * else in bench/ is mistaken for a benchmark. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session } from 'node:inspector';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { builtinRegistry } from '../cli/builtins.js';
import { runJob } from '../sync/index.js';
import { loadConfig } from '../config/index.js';
import { startSandbox } from '../connectors/segment/index.js';
import { BACKGROUND_NICE, loadPage, openStore, type Store } from '../core/index.js';
import type { ContactRecord } from '../plugins/index.js';
import { ingestRoutes, startRealtime } from '../server/ingest/index.js';
import { computeInWorker } from '../sync/compute/index.js';
import { percentile } from './report.js';
import type { Benchmark } from './run.js';
import { generate } from './segments.js';

const WRITE_KEY = 'wk_bench_realtime_0123456789';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const stepLog = (log: (line: string) => void) => ({
  ...quiet,
  debug: (message: string, fields?: Record<string, unknown>) => {
    if (process.env.REALTIME_BENCH_VERBOSE) log(`${message} ${JSON.stringify(fields)}`);
  },
  warn: (message: string, fields?: Record<string, unknown>) => log(`${message} ${JSON.stringify(fields)}`),
  error: (message: string, fields?: Record<string, unknown>) => log(`${message} ${JSON.stringify(fields)}`),
});
const ROLE = process.env.SEGFLOW_BENCH_REALTIME_ROLE;

/** The value of `--name=value` or `--name value` on the command line, or undefined when the flag is not there. */
function flagText(argv: readonly string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i === -1) return undefined;
  return argv[i]!.includes('=') ? argv[i]!.slice(name.length + 3) : (argv[i + 1] ?? '');
}

/** `--name=N` or `--name N` from the command line (a positive number), else `fallback`. */
export function numberFlag(argv: readonly string[], name: string, fallback: number): number {
  const text = flagText(argv, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0)) throw new Error(`--${name} expects a number above 0, got ${JSON.stringify(text)}`);
  return n;
}

/** `--ids ordered|random` (default ordered). */
function idsFlag(argv: readonly string[]): 'ordered' | 'random' {
  const text = flagText(argv, 'ids') ?? 'ordered';
  if (text !== 'ordered' && text !== 'random')
    throw new Error(`--ids expects ordered or random, got ${JSON.stringify(text)}`);
  return text;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '—');
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
const sec = (cpu: number) => `${(cpu / 1000).toFixed(1)} s`;

interface SenderReport {
  sent: number;
  accepted: number;
  refused: number;
  failedRequests: number;
  post: number[];
  health: number[];
  healthFailures: number;
  maxRssKb: number;
  cpuMs: number;
}

/**
 * The sender: `rate` events/s for `seconds`, in batches every 100 ms, and a /health probe every 100 ms. Message ids
 * are `bench-<n>`, or with `randomIds` `bench-<uuid>`.
 */
async function sender(url: string, rate: number, seconds: number, contacts: number, randomIds: boolean): Promise<void> {
  const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  const report: SenderReport = {
    sent: 0,
    accepted: 0,
    refused: 0,
    failedRequests: 0,
    post: [],
    health: [],
    healthFailures: 0,
    maxRssKb: 0,
    cpuMs: 0,
  };
  const cpuAtStart = cpuMs();
  const perTick = Math.max(1, Math.round(rate / 10));
  const start = Date.now();
  let running = true;
  const probe = (async () => {
    while (running) {
      const at = performance.now();
      try {
        const res = await fetch(`${url}/health`);
        await res.arrayBuffer();
        if (res.ok) report.health.push(performance.now() - at);
        else report.healthFailures++;
      } catch {
        report.healthFailures++;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const inFlight: Promise<void>[] = [];
  let n = 0;
  for (let tick = 0; Date.now() - start < seconds * 1000; tick++) {
    const batch = Array.from({ length: perTick }, () => {
      const who = 1 + ((n * 7919 + 13) % contacts);
      const i = n++;
      const common = {
        userId: `person${who}`,
        messageId: `bench-${randomIds ? randomUUID() : i}`,
        context: { traits: { email: `person${who}@example.com` } },
      };
      return i % 2 === 0
        ? {
            type: 'track',
            event: 'Order Completed',
            properties: { revenue: 10 + (i % 90), currency: 'EUR', order_id: `o-${i}` },
            ...common,
          }
        : { type: 'page', properties: { url: `https://shop.example.com/p/${i % 500}` }, ...common };
    });
    report.sent += batch.length;
    const at = performance.now();
    inFlight.push(
      fetch(`${url}/v1/batch`, {
        method: 'POST',
        body: JSON.stringify({ batch }),
        headers: { authorization: auth, 'content-type': 'application/json' },
      })
        .then(async (res) => {
          const body = (await res.json()) as { accepted?: number; refused?: unknown[] };
          report.post.push(performance.now() - at);
          if (!res.ok) report.failedRequests++;
          report.accepted += body.accepted ?? 0;
          report.refused += body.refused?.length ?? 0;
        })
        .catch(() => {
          report.failedRequests++;
        }),
    );
    const next = start + (tick + 1) * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  await Promise.all(inFlight);
  running = false;
  await probe;
  report.maxRssKb = process.resourceUsage().maxRSS;
  report.cpuMs = cpuMs() - cpuAtStart;
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * Makes the real-time store look like one that has run for a while: every customer's earlier visit, 40 days ago, is
 * on record (a purchase for every other one, a page view for the rest) under their website identity, with the spell
 * it gave them in the matching pushed segment and the state that spell left at the destination (delivered, then
 * removed). The run then writes where a live store writes: into indexes that already hold every customer (an
 * identity's events, a segment's history, the destination's delivered state), not onto empty ones, whose few pages
 * every step would find in memory.
 */
async function seedEarlierVisits(store: Store): Promise<void> {
  const visit = new Date(Date.now() - 40 * 86_400_000).toISOString();
  const left = new Date(Date.parse(visit) + 86_400_000).toISOString();
  await store.transaction(async (tx) => {
    // Every tracking identity's visit, listed once by contact for the three inserts below.
    await tx.exec(
      `CREATE TEMP TABLE earlier_visits AS SELECT i.id AS identity_id, i.identity_key, i.contact_id,
        CASE i.id % 2 WHEN 0 THEN 'purchase' ELSE 'page_view' END AS type,
        CASE i.id % 2 WHEN 0 THEN 'bought_today' ELSE 'visited_today' END AS segment_key
        FROM identities i WHERE i.source = 'tracking' ORDER BY i.contact_id`,
    );
    await tx.run(
      `INSERT INTO events (source, source_event_id, contact_id, identity_id, identity_key, type, occurred_at, value, properties, loaded_at)
         SELECT 'tracking', 'earlier-' || v.identity_id, v.contact_id, v.identity_id, v.identity_key, v.type, ?,
           CASE v.type WHEN 'purchase' THEN 25 END, '{}', ? FROM temp.earlier_visits v`,
      [visit, visit],
    );
    await tx.run(
      `INSERT INTO membership_history (segment_key, contact_id, segment_version, entered_at, exited_at)
         SELECT v.segment_key, v.contact_id, 1, ?, ? FROM temp.earlier_visits v`,
      [visit, left],
    );
    await tx.run(
      `INSERT INTO delivered_state (destination, segment_key, contact_id, delivered_at, status, attempts)
         SELECT 'cdp', v.segment_key, v.contact_id, ?, 'removed', 1 FROM temp.earlier_visits v`,
      [left],
    );
    await tx.exec('DROP TABLE temp.earlier_visits');
  });
}

/** CPU time of this process so far, every thread included (user + system). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The Segment sandbox in a process of its own (Segment is remote: its work is not the server's); `stop` ends it. */
async function sandboxProcess(): Promise<void> {
  const sandbox = await startSandbox({ seed: 'bench-realtime', recordBodies: false });
  const atStart = cpuMs();
  process.stdout.write(`${JSON.stringify({ url: sandbox.url, writeKey: sandbox.credentials.writeKey })}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line === 'stop') break;
  const used = cpuMs() - atStart;
  await sandbox.close();
  process.stdout.write(`${JSON.stringify({ cpuMs: used, maxRssKb: process.resourceUsage().maxRSS })}\n`);
  process.exit(0);
}

/**
 * The scheduled process: generates its store, says `ready`, computes in a loop from `go` to `stop`, reports. Each run
 * goes through the compute worker, as a job's compute step does under `segflow serve` (so at its lower priority).
 */
async function scheduled(dir: string, contacts: number, events: number): Promise<void> {
  const storePath = join(dir, 'scheduled.db');
  const store = await openStore(storePath);
  await generate(store, contacts, events);
  await store.close();
  const file = join(dir, 'scheduled.yaml');
  writeFileSync(file, `segments:\n  - include: ${JSON.stringify(resolve('config/segments/starter.yaml'))}\n`);
  const segments = (await loadConfig(file, { registry: builtinRegistry(), env: {} })).segments;
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  let go = false;
  let stop = false;
  lines.on('line', (line) => {
    if (line === 'go') go = true;
    if (line === 'stop') stop = true;
  });
  while (!go) await new Promise((r) => setTimeout(r, 20));
  const cpuAtGo = cpuMs();
  const atGo = threadTimes();
  const seen = new Map(atGo);
  const sampler = setInterval(() => threadTimes().forEach((t, tid) => seen.set(tid, t)), 250);
  const runs: number[] = [];
  while (!stop) {
    const at = performance.now();
    await computeInWorker({ storePath, now: new Date().toISOString(), segments });
    runs.push(performance.now() - at);
  }
  clearInterval(sampler);
  threadTimes().forEach((t, tid) => seen.set(tid, t));
  let background = 0;
  let total = 0;
  for (const [tid, t] of seen) {
    const used = t.ticks - (atGo.get(tid)?.ticks ?? 0);
    total += used;
    if (t.nice >= BACKGROUND_NICE) background += used;
  }
  const backgroundShare = total > 0 ? background / total : Number.NaN;
  process.stdout.write(
    `${JSON.stringify({ runs, maxRssKb: process.resourceUsage().maxRSS, cpuMs: cpuMs() - cpuAtGo, backgroundShare })}\n`,
  );
  lines.close();
}

/**
 * With REALTIME_BENCH_PROFILE set to a folder, a CPU profile of this (the server's) main thread from the first batch
 * to the end of the drain, written there as realtime-main.cpuprofile (the step worker's: run with `node --cpu-prof`).
 */
async function startProfile(dir: string | undefined): Promise<{ stop(): Promise<void> } | undefined> {
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((ok, fail) =>
      session.post(method, params ?? {}, (error, result) => (error ? fail(error) : ok(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(join(dir, 'realtime-main.cpuprofile'), JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** CPU time of this process's main thread so far (Linux; 10 ms ticks), or NaN where /proc is missing. */
function mainThreadMs(): number {
  const main = threadTimes().get(String(process.pid));
  return main === undefined ? Number.NaN : main.ticks * 10;
}

/** This process's threads (Linux): name, CPU ticks used so far (user + system) and nice value, from /proc. */
function threadTimes(): Map<string, { name: string; ticks: number; nice: number }> {
  const threads = new Map<string, { name: string; ticks: number; nice: number }>();
  if (!existsSync('/proc/self/task')) return threads;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(tid, {
        name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        ticks: Number(fields[11]) + Number(fields[12]),
        nice: Number(fields[16]),
      });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}

function child(
  env: Record<string, string>,
  args: string[] = [],
): { process: ChildProcess; lines: AsyncIterator<string> } {
  // The young-generation size segflow's own command runs with (bin/segflow.js), passed on from `npm run bench`.
  const flags = process.execArgv.filter((a) => a.startsWith('--max-semi-space-size'));
  const p = spawn(process.execPath, [...flags, '--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return { process: p, lines: createInterface({ input: p.stdout! })[Symbol.asyncIterator]() };
}

async function nextLine(lines: AsyncIterator<string>, what: string): Promise<string> {
  const next = await lines.next();
  if (next.done) throw new Error(`${what} ended without answering`);
  return next.value;
}

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const contacts = Math.round(numberFlag(process.argv, 'contacts', toy ? 2000 : 1_000_000));
    const baseEvents = contacts * 2;
    const scheduledContacts = contacts;
    const scheduledEvents = scheduledContacts * 2;
    const rate = numberFlag(process.argv, 'rate', toy ? 200 : 2000);
    const seconds = numberFlag(process.argv, 'seconds', toy ? 3 : 60);
    const randomIds = idsFlag(process.argv) === 'random';
    const full = contacts >= 1_000_000 && rate >= 2000 && seconds >= 60;
    const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-realtime-'));
    const children: ChildProcess[] = [];
    const segment = child({ SEGFLOW_BENCH_REALTIME_ROLE: 'sandbox' });
    children.push(segment.process);
    const sandbox = JSON.parse(await nextLine(segment.lines, 'the Segment sandbox process')) as {
      url: string;
      writeKey: string;
    };
    try {
      const file = join(dir, 'segflow.yaml');
      writeFileSync(
        file,
        `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
destinations:
  cdp:
    connector: segment
    config: { writeKey: ${sandbox.writeKey}, host: ${JSON.stringify(sandbox.url)}, sendTrack: false }
segments:
  - { key: bought_today, name: Bought today, rule: { event: purchase, within: 1d } }
  - { key: visited_today, name: Visited today, rule: { event: page_view, within: 1d } }
jobs:
  nightly:
    steps:
      - compute: {}
      - push: { destination: cdp, segments: [bought_today, visited_today], mode: mirror }
server:
  write_keys: { website: SEGFLOW_BENCH_WRITE_KEY }
`,
      );
      const registry = builtinRegistry();
      const config = await loadConfig(file, { registry, env: {} });
      log(
        `scheduled store: generating ${scheduledContacts} contacts and ${scheduledEvents} events in a second process`,
      );
      const sched = child({ SEGFLOW_BENCH_REALTIME_ROLE: 'scheduled' }, [
        dir,
        String(scheduledContacts),
        String(scheduledEvents),
      ]);
      children.push(sched.process);
      const ready = nextLine(sched.lines, 'the scheduled process');

      log(`real-time store: generating ${contacts} contacts and ${baseEvents} events`);
      const base = await openStore(config.store.path);
      await generate(base, contacts, baseEvents);
      // The website has identified every customer once (userId and email), as a site does at sign-in.
      for (let from = 1; from <= contacts; from += 5000) {
        const records: ContactRecord[] = [];
        for (let i = from; i < Math.min(contacts + 1, from + 5000); i++) {
          records.push({
            kind: 'contact',
            source: 'tracking',
            externalId: `person${i}`,
            traits: { email: `person${i}@example.com`, updated_at: '2026-01-01T00:00:00.000Z' },
          });
        }
        await loadPage(base, { connection: 'website', stream: 'identify', records, checkpoint: null });
      }
      await seedEarlierVisits(base);
      await base.close();
      const first = await runJob(config, 'nightly', { registry });
      log(`first scheduled run over the real-time store: ${first.status}`);
      await ready;

      const store = await openStore(config.store.path);
      const deps = {
        config,
        store,
        registry,
        logger: stepLog(log),
        env: { SEGFLOW_BENCH_WRITE_KEY: WRITE_KEY },
        startJob: () => Promise.resolve({ status: 'no' }),
      };
      const latencies = new Map<string, number[]>();
      let delivered = 0;
      const realtime = await startRealtime(deps, {
        onFlush: (report) => {
          const list = latencies.get(report.destination) ?? [];
          for (const d of report.delivered) list.push(d.deliveredAt - Date.parse(d.receivedAt));
          delivered += report.delivered.length;
          latencies.set(report.destination, list);
        },
      });
      const app = new Hono();
      app.get('/health', async (c) => {
        await store.get('SELECT 1');
        return c.json({ ok: true });
      });
      app.route('/', ingestRoutes(deps));
      const server = await new Promise<{ close(): void; port: number }>((ok) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
          ok({ close: () => s.close(), port: info.port }),
        );
      });

      // Traffic starts once the server is up, its real-time worker included (its boot is not what is measured).
      await realtime.ready;
      log(`sending ${rate} events/s for ${seconds} s while the scheduled process computes`);
      const profile = await startProfile(process.env.REALTIME_BENCH_PROFILE);
      const serverCpuAtStart = cpuMs();
      const serverSystemAtStart = process.cpuUsage().system / 1000;
      const mainCpuAtStart = mainThreadMs();
      // Per-thread CPU, sampled: the step worker's thread is gone once the pipeline stops.
      const threadsAtStart = threadTimes();
      const threadsSeen = new Map(threadsAtStart);
      // …and the write-ahead log's file, which each checkpoint should start over (SQLite).
      let largestWal = 0;
      const sampleThreads = () => {
        threadTimes().forEach((t, tid) => threadsSeen.set(tid, t));
        try {
          largestWal = Math.max(largestWal, statSync(`${config.store.path}-wal`).size);
        } catch {
          // no log file (yet, or any more)
        }
      };
      const threadSampler = setInterval(sampleThreads, 250);
      const loadAtStart = loadavg()[0] ?? 0;
      sched.process.stdin!.write('go\n');
      const send = child({ SEGFLOW_BENCH_REALTIME_ROLE: 'sender' }, [
        `http://127.0.0.1:${server.port}`,
        String(rate),
        String(seconds),
        String(contacts),
        String(randomIds),
      ]);
      children.push(send.process);
      const sent = JSON.parse(await nextLine(send.lines, 'the sender')) as SenderReport;
      sched.process.stdin!.write('stop\n');

      const drainStart = Date.now();
      const waiting = async () =>
        (await store.get(
          'SELECT (SELECT COUNT(*) FROM realtime_inbox WHERE loaded_at IS NULL) + (SELECT COUNT(*) FROM realtime_touched) + (SELECT COUNT(*) FROM realtime_pending) AS n',
        )) as { n: number };
      // A loaded machine drains slowly: up to five times the sending time, at least two minutes.
      const drainLimitMs = Math.max(120_000, seconds * 5000);
      while ((await waiting()).n > 0 && Date.now() - drainStart < drainLimitMs)
        await new Promise((r) => setTimeout(r, 100));
      const drainMs = Date.now() - drainStart;
      sampleThreads();
      await realtime.stop();
      server.close();
      const serverCpu = cpuMs() - serverCpuAtStart;
      const serverSystem = process.cpuUsage().system / 1000 - serverSystemAtStart;
      const mainCpu = mainThreadMs() - mainCpuAtStart;
      clearInterval(threadSampler);
      await profile?.stop();
      // The busiest thread besides the main one is the step worker (inbox commits, load, recompute).
      const otherThreads = [...threadsSeen]
        .filter(([tid]) => tid !== String(process.pid))
        .map(([tid, t]) => (t.ticks - (threadsAtStart.get(tid)?.ticks ?? 0)) * 10)
        .sort((a, b) => b - a);
      const workerCpu = otherThreads[0] ?? 0;
      if (process.env.REALTIME_BENCH_VERBOSE)
        log(
          `CPU ms of the other threads: ${[...threadsSeen]
            .filter(([tid]) => tid !== String(process.pid))
            .map(([tid, t]): [string, number] => [t.name, (t.ticks - (threadsAtStart.get(tid)?.ticks ?? 0)) * 10])
            .filter(([, used]) => used > 0)
            .sort((a, b) => b[1] - a[1])
            .map(([name, used]) => `${name} ${used}`)
            .join(', ')}`,
        );
      const loadAtEnd = loadavg()[0] ?? 0;
      segment.process.stdin!.write('stop\n');
      const segmentReport = JSON.parse(await nextLine(segment.lines, 'the Segment sandbox process')) as {
        cpuMs: number;
        maxRssKb: number;
      };

      // The sender's messages only (their ids are bench-<n>), not the earlier visits the store was seeded with.
      const senderEvents =
        "SELECT COUNT(*) AS n FROM events WHERE source = 'tracking' AND source_event_id LIKE 'bench-%'";
      const stored = ((await store.get(senderEvents)) as { n: number }).n;
      const inbox = (
        (await store.get('SELECT COUNT(*) AS n FROM realtime_inbox WHERE loaded_at IS NULL')) as { n: number }
      ).n;
      const undelivered = (
        (await store.get(`SELECT COUNT(*) AS n FROM memberships m LEFT JOIN delivered_state d
             ON d.destination = 'cdp' AND d.segment_key = m.segment_key AND d.contact_id = m.contact_id
           WHERE m.segment_key IN ('bought_today', 'visited_today') AND (d.status IS NULL OR d.status <> 'delivered')`)) as {
          n: number;
        }
      ).n;
      const members = (
        (await store.get(
          "SELECT COUNT(*) AS n FROM memberships WHERE segment_key IN ('bought_today', 'visited_today')",
        )) as { n: number }
      ).n;
      await store.close();
      const schedReport = JSON.parse(await nextLine(sched.lines, 'the scheduled process')) as {
        runs: number[];
        maxRssKb: number;
        cpuMs: number;
        backgroundShare: number | null;
      };

      const post = [...sent.post].sort((a, b) => a - b);
      const health = [...sent.health].sort((a, b) => a - b);
      const rows = [...latencies].map(([destination, list]) => {
        const sorted = [...list].sort((a, b) => a - b);
        return `| ${destination} (Segment sandbox) | ${sorted.length} | ${ms(percentile(sorted, 0.5))} | ${ms(percentile(sorted, 0.99))} | ${ms(sorted[sorted.length - 1] ?? Number.NaN)} | p99 < 1000 ms |`;
      });
      const lost = sent.accepted - stored - inbox;
      const perEvent = (cpu: number) => (cpu / Math.max(1, stored)).toFixed(3);
      const scale = full ? 'Full scale' : 'Not full scale (full: --contacts 1000000 --rate 2000 --seconds 60)';
      return [
        `${rate} events/s for ${seconds} s into /v1/batch from a second process (${sent.sent} events in batches every 100 ms, ${randomIds ? 'message ids random, as a UUID v4 is' : "message ids in the order sent, as the Segment libraries' time-prefixed ones are"}), spread over ${contacts.toLocaleString('en')} contacts (each with an earlier visit, its spell in the pushed segment and its delivered state on record); a third process ran ${schedReport.runs.length} scheduled computation(s) (all features + starter segments, in the compute worker as a job's compute step runs) over ${scheduledContacts.toLocaleString('en')} contacts meanwhile (${schedReport.runs.map((r) => `${(r / 1000).toFixed(1)} s`).join(', ') || 'none finished'}). The Segment destination sends each change as one identify carrying the membership trait (\`sendTrack: false\`). ${scale}.`,
        '',
        '| destination | changes delivered | accept → delivered p50 | p99 | max | target |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows,
        '',
        '| measure | value | target |',
        '| --- | --- | --- |',
        `| events accepted (200) / refused / failed requests | ${sent.accepted} / ${sent.refused} / ${sent.failedRequests} | — |`,
        `| events lost (accepted, neither in the store nor waiting in the inbox) | ${lost} | 0 |`,
        `| events still waiting in the inbox when the drain stopped (after ${(drainLimitMs / 1000).toFixed(0)} s at most) | ${inbox} | 0 |`,
        `| members of the pushed segments not delivered after the drain | ${undelivered} of ${members} | 0 |`,
        `| drain after the last batch | ${drainMs} ms | — |`,
        `| POST /v1/batch latency p50 / p99 | ${ms(percentile(post, 0.5))} / ${ms(percentile(post, 0.99))} | — |`,
        `| /health latency during the run p50 / p99 / max (${health.length} probes, ${sent.healthFailures} failed) | ${ms(percentile(health, 0.5))} / ${ms(percentile(health, 0.99))} / ${ms(health[health.length - 1] ?? Number.NaN)} | — |`,
        `| largest write-ahead log file of the real-time store during the run (sampled every 250 ms; each checkpoint starts it over) | ${mib(largestWal / 1024)} | — |`,
        `| peak RSS: server / sender / scheduled process / Segment sandbox | ${mib(process.resourceUsage().maxRSS)} / ${mib(sent.maxRssKb)} / ${mib(schedReport.maxRssKb)} / ${mib(segmentReport.maxRssKb)} | — |`,
        `| CPU time from the first batch to the end of the drain: server (all threads) / sender / scheduled process / Segment sandbox | ${sec(serverCpu)} / ${sec(sent.cpuMs)} / ${sec(schedReport.cpuMs)} / ${sec(segmentReport.cpuMs)} | — |`,
        `| share of the scheduled process's CPU time on threads at nice ${BACKGROUND_NICE} (the compute worker and the threads it starts) | ${schedReport.backgroundShare === null ? '—' : `${(schedReport.backgroundShare * 100).toFixed(0)}%`} | — |`,
        `| server CPU per event loaded (accept, load, recompute, flush; all threads; over the ${stored} events loaded) | ${perEvent(serverCpu)} ms | ≤ 0.20 ms |`,
        `| of which the HTTP thread (parse, map, flush to the destination) / the other threads (step worker: inbox commits, load, recompute; GC and I/O threads) | ${perEvent(mainCpu)} ms / ${perEvent(serverCpu - mainCpu)} ms | — |`,
        `| of the other threads: the step worker (the busiest) / the rest (GC helpers, I/O; sampled every 250 ms) | ${perEvent(workerCpu)} ms / ${perEvent(serverCpu - mainCpu - workerCpu)} ms | — |`,
        `| of all that, time in the kernel (system time: SQLite's page reads, log writes and checkpoints; sockets) | ${perEvent(serverSystem)} ms (${((100 * serverSystem) / serverCpu).toFixed(0)}%) | — |`,
        `| machine load average (1 min) at the start / end of sending, ${cpus().length} cores | ${loadAtStart.toFixed(1)} / ${loadAtEnd.toFixed(1)} | — |`,
        '',
        `Latency is measured from the server's receipt of the message (the 200 follows the inbox commit) to the recorded batch at the destination; delivered changes counted: ${delivered}. The scheduled computation runs on its own store file: on the same SQLite file its whole-base write transaction would hold the single writer lock for the length of the run.`,
      ].join('\n');
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (ROLE === 'sender') {
  const [url, rate, seconds, contacts, randomIds] = process.argv.slice(2);
  await sender(url as string, Number(rate), Number(seconds), Number(contacts), randomIds === 'true');
} else if (ROLE === 'sandbox') {
  await sandboxProcess();
} else if (ROLE === 'scheduled') {
  const [dir, contacts, events] = process.argv.slice(2);
  await scheduled(dir as string, Number(contacts), Number(events));
}
