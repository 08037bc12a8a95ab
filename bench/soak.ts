/**
 * Soak: `segflow serve` as one process on one store (API, console, ingestion with its real-time pipeline, scheduler)
 * under mixed load for `--minutes=N` (default 30; toy scale: one minute): Segment-spec batches into /v1/batch at
 * 1,000 events/s (toy 100/s), a scheduled job recomputing and pushing the segments every 5 minutes (toy every 20 s),
 * and API and console reads twice a second. Figures: RSS every minute, p99 latency per request kind, and after the
 * load stops and the queues drain, events accepted versus stored, and members of the pushed segments versus what the
 * destination (the Segment sandbox, in the same process) holds as delivered, and the changes it received twice.
 *
 * The sender and the sandbox run in the server's process, so its RSS counts them too; they hold nothing that grows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinRegistry } from '../cli/builtins.js';
import { loadConfig } from '../config/index.js';
import { sandboxConfig, startSandbox } from '../connectors/segment/index.js';
import { openStore } from '../core/index.js';
import { startServing } from '../server/index.js';
import { percentile } from './report.js';
import type { Benchmark } from './run.js';

const WRITE_KEY = 'wk_soak_website_0123456789abcdef';
const ADMIN = 'soak-admin-token-9f3e7c1a5b2d8e4f6a0c';
const PUSHED = ['buyers', 'browsers'];

/** `--minutes=N` or `--minutes N` from the command line, else undefined. */
function minutesFlag(argv: readonly string[]): number | undefined {
  const i = argv.findIndex((a) => a === '--minutes' || a.startsWith('--minutes='));
  if (i === -1) return undefined;
  const text = argv[i]!.includes('=') ? argv[i]!.slice('--minutes='.length) : argv[i + 1];
  const n = Number(text);
  if (!(n > 0)) throw new Error(`--minutes expects a number of minutes above 0, got ${JSON.stringify(text)}`);
  return n;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const minutes = toy ? 1 : (minutesFlag(process.argv) ?? 30);
    const rate = toy ? 100 : 1000;
    const people = toy ? 500 : 20_000;
    const sampleMs = toy ? 10_000 : 60_000;
    const loadAtStart = loadavg()[0] ?? 0;
    const dir = mkdtempSync(join(tmpdir(), 'segflow-soak-'));
    const sandbox = await startSandbox({ port: 0, recordBodies: false, limits: { dedupWindowMs: 24 * 3_600_000 } });
    const saved = { ...process.env };
    process.env.SEGFLOW_WRITE_KEY_WEBSITE = WRITE_KEY;
    process.env.SEGFLOW_ADMIN_TOKEN = ADMIN;
    delete process.env.SEGFLOW_READ_TOKEN;
    try {
      const file = join(dir, 'segflow.yaml');
      writeFileSync(
        file,
        `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
destinations:
  cdp:
    connector: segment
    config: ${JSON.stringify(sandboxConfig(sandbox))}
segments:
  - key: buyers
    rule: { event: purchase, within: 1d }
  - key: browsers
    rule: { event: page_view, count: { gte: 3 }, within: 1d }
jobs:
  refresh:
    schedule: "${toy ? '*/20 * * * * *' : '0 */5 * * * *'}"
    steps:
      - compute: { segments: [buyers, browsers] }
      - push: { destination: cdp, segments: [buyers, browsers], mode: mirror }
server:
  write_keys: { website: SEGFLOW_WRITE_KEY_WEBSITE }
`,
      );
      const config = await loadConfig(file, { registry: builtinRegistry() });
      const quiet = { debug() {}, info() {}, warn() {}, error() {} };
      const serving = await startServing(config, {
        registry: builtinRegistry(),
        logger: { ...quiet, error: (m, f) => log(`server error: ${m} ${JSON.stringify(f ?? {})}`) },
        port: 0,
      });
      const url = serving.url;
      const latency = new Map<string, number[]>();
      const timed = async (kind: string, request: () => Promise<Response>): Promise<Response | undefined> => {
        const started = performance.now();
        try {
          const res = await request();
          await res.arrayBuffer();
          (latency.get(kind) ?? latency.set(kind, []).get(kind)!).push(performance.now() - started);
          return res;
        } catch {
          failures.set(kind, (failures.get(kind) ?? 0) + 1);
          return undefined;
        }
      };
      const failures = new Map<string, number>();
      const admin = { Authorization: `Bearer ${ADMIN}` };
      const session = await fetch(`${url}/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: ADMIN }),
      });
      const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

      // the load
      const endAt = Date.now() + minutes * 60_000;
      const started = Date.now();
      let sent = 0;
      let accepted = 0;
      let refusedOrFailed = 0;
      const inFlight = new Set<Promise<unknown>>();
      const rss: { minute: number; bytes: number }[] = [];
      const sampler = setInterval(() => {
        rss.push({ minute: (Date.now() - started) / 60_000, bytes: process.memoryUsage().rss });
        log(
          `${((Date.now() - started) / 60_000).toFixed(1)} min: RSS ${mib(process.memoryUsage().rss)}, ${accepted} events accepted`,
        );
      }, sampleMs);
      const perTick = Math.max(1, Math.round(rate / 10));
      const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
      const sending = (async () => {
        for (let tick = 0; Date.now() < endAt; tick++) {
          await sleep(started + tick * 100 - Date.now());
          const batch = Array.from({ length: perTick }, (_, i) => {
            const n = sent + i;
            const userId = `user${(n * 7919) % people}`;
            // every person signs in (an identify with their email) once in the first ten messages per person
            if (n % 10 === 0) {
              const who = `user${Math.floor(n / 10) % people}`;
              return { type: 'identify', userId: who, messageId: `i${n}`, traits: { email: `${who}@example.com` } };
            }
            return n % 2
              ? {
                  type: 'page',
                  userId,
                  messageId: `p${n}`,
                  name: 'Home',
                  properties: { url: `https://shop.example.com/${n % 50}` },
                }
              : {
                  type: 'track',
                  userId,
                  messageId: `t${n}`,
                  event: 'Order Completed',
                  properties: { revenue: 10 + (n % 90), currency: 'USD', orderId: `o${n}` },
                };
          });
          sent += batch.length;
          const post = timed('POST /v1/batch', () =>
            fetch(`${url}/v1/batch`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Authorization: auth },
              body: JSON.stringify({ batch }),
            }),
          ).then(async (res) => {
            if (res?.ok) accepted += batch.length;
            else refusedOrFailed += batch.length;
          });
          inFlight.add(post);
          void post.finally(() => inFlight.delete(post));
          if (inFlight.size > 50) await Promise.race(inFlight);
        }
        await Promise.allSettled([...inFlight]);
      })();
      const reading = (async () => {
        for (let n = 0; Date.now() < endAt; n++) {
          await sleep(500);
          await timed('GET /segments', () => fetch(`${url}/segments`, { headers: admin }));
          await timed('GET /contacts?email=', () =>
            fetch(`${url}/contacts?email=user${n % people}%40example.com`, { headers: admin }),
          );
          if (n % 4 === 0) await timed('GET /jobs', () => fetch(`${url}/jobs`, { headers: admin }));
          if (n % 4 === 2) await timed('GET / (console)', () => fetch(`${url}/`, { headers: { Cookie: cookie } }));
          await timed('GET /health', () => fetch(`${url}/health`));
        }
      })();
      await Promise.all([sending, reading]);
      clearInterval(sampler);
      rss.push({ minute: (Date.now() - started) / 60_000, bytes: process.memoryUsage().rss });
      log(`load stopped after ${((Date.now() - started) / 60_000).toFixed(1)} min; draining`);

      // drain: the inbox loaded, the real-time changes flushed; then one last scheduled-style run
      const store = await openStore(config.store.path);
      const drainStart = Date.now();
      const waiting = async () =>
        (
          (await store.get(
            'SELECT (SELECT COUNT(*) FROM realtime_inbox WHERE loaded_at IS NULL) + (SELECT COUNT(*) FROM realtime_touched) + (SELECT COUNT(*) FROM realtime_pending) AS n',
          )) as { n: number }
        ).n;
      while ((await waiting()) > 0 && Date.now() - drainStart < 300_000) await sleep(500);
      // A request may meet a keep-alive connection the server is just closing (ECONNRESET): ask again.
      const ask = async (path: string, init: RequestInit): Promise<Response> => {
        for (let attempt = 1; ; attempt++)
          try {
            return await fetch(`${url}${path}`, init);
          } catch (error) {
            if (attempt >= 10) throw error;
            await sleep(500);
          }
      };
      let runId: number | undefined;
      for (let i = 0; i < 600 && runId === undefined; i++) {
        const last = await ask('/jobs/refresh/run', { method: 'POST', headers: admin });
        runId = ((await last.json()) as { runId?: number }).runId; // 409 while a scheduled run holds the job
        if (runId === undefined) await sleep(500);
      }
      for (let i = 0; i < 600 && runId !== undefined; i++) {
        const run = (await (await ask(`/runs/${runId}`, { headers: admin })).json()) as { status?: string };
        if (run.status && run.status !== 'running') break;
        await sleep(500);
      }
      await serving.stop();

      const count = async (sql: string) => Number(((await store.get(sql)) as { n: number | string }).n);
      // every write key's events are recorded under the tracking source (workspace-wide ids, the default)
      const stored = await count(`SELECT COUNT(*) AS n FROM events WHERE source = '${config.server.tracking.source}'`);
      const identifies = Math.ceil(accepted / 10);
      const keys = PUSHED.map((k) => `'${k}'`).join(', ');
      const members = await count(`SELECT COUNT(*) AS n FROM memberships WHERE segment_key IN (${keys})`);
      const undelivered = await count(
        `SELECT COUNT(*) AS n FROM memberships m LEFT JOIN delivered_state d
           ON d.destination = 'cdp' AND d.segment_key = m.segment_key AND d.contact_id = m.contact_id
         WHERE m.segment_key IN (${keys}) AND (d.status IS NULL OR d.status <> 'delivered')`,
      );
      const stale = await count(
        `SELECT COUNT(*) AS n FROM delivered_state d WHERE d.destination = 'cdp' AND d.status = 'delivered'
           AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.segment_key = d.segment_key AND m.contact_id = d.contact_id)`,
      );
      const runs = await count("SELECT COUNT(*) AS n FROM sync_runs WHERE job = 'refresh'");
      await store.close();

      // RSS is a saw-tooth (the collector frees in steps): one sample against another measures where each fell on a
      // tooth. A leak raises the teeth, so the target compares the highest RSS of the first fifth of the settled time
      // with the highest of its last fifth; the single samples are shown too.
      const settleAt = toy ? 0.3 : 5;
      const settled = rss.filter((s) => s.minute >= settleAt);
      const first = settled[0]?.bytes ?? Number.NaN;
      const end = rss[rss.length - 1]?.bytes ?? Number.NaN;
      const growth = ((end - first) / first) * 100;
      const fifth = (minutes - settleAt) / 5;
      const peak = (from: number, to: number) =>
        Math.max(...settled.filter((s) => s.minute >= from && s.minute <= to).map((s) => s.bytes));
      const earlyPeak = peak(settleAt, settleAt + fifth);
      const latePeak = peak(minutes - fifth, Infinity);
      const peakGrowth = ((latePeak - earlyPeak) / earlyPeak) * 100;
      const label = toy
        ? 'toy scale (1 minute, 100 events/s)'
        : `${minutes} minutes${minutes < 30 ? ' (shorter than the 30-minute soak: the machine was busy)' : ''} at ${rate} events/s`;
      const machine = `${cpus().length} cores, load average ${loadAtStart.toFixed(1)} at the start`;
      const lines = [
        `Soak, ${label}, on one SQLite store (${machine}); ${runs} runs of the job (scheduled every ${toy ? '20 s' : '5 minutes'}, and one after the drain).`,
        '',
        '| RSS at minute | MiB |',
        '| ---: | ---: |',
        ...rss.map((s) => `| ${s.minute.toFixed(1)} | ${(s.bytes / 2 ** 20).toFixed(0)} |`),
        '',
        '| request | count | p99 | failed |',
        '| --- | ---: | ---: | ---: |',
        ...[...latency].map(
          ([kind, list]) =>
            `| ${kind} | ${list.length} | ${percentile(list, 0.99).toFixed(0)} ms | ${failures.get(kind) ?? 0} |`,
        ),
        '',
        '| outcome | figure | target |',
        '| --- | ---: | ---: |',
        `| RSS growth, highest of minutes ${settleAt}–${(settleAt + fifth).toFixed(1)} (${mib(earlyPeak)}) to highest of the last ${fifth.toFixed(1)} (${mib(latePeak)}) | ${peakGrowth.toFixed(1)}% | < 10% |`,
        `| RSS growth, the single samples at minute ${settleAt} and at the end | ${growth.toFixed(1)}% | — |`,
        `| events sent / accepted / refused or failed | ${sent} / ${accepted} / ${refusedOrFailed} | — |`,
        `| events accepted but not stored (identifies, one in ten, store no event) | ${accepted - identifies - stored} | 0 |`,
        `| members of the pushed segments not delivered | ${undelivered} of ${members} | 0 |`,
        `| delivered to the destination but no longer members | ${stale} | 0 |`,
        `| changes the destination received twice (same messageId) | ${sandbox.workspace.duplicates} | 0 |`,
      ];
      return lines.join('\n');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
