/**
 * The whole pipeline: the demo job (config/examples/demo.yaml) against the HubSpot, Salesforce, Mailchimp and Segment
 * sandboxes rendering one seeded world — read every tool, compute features, models and segments, push to every tool —
 * then the same job again with nothing changed. Time per phase, records per second and peak RSS.
 *
 * Full scale is a world of 1,000,000 people with 90 days of history (about ten events each). The sandboxes run in
 * child processes, so the peak RSS is segflow's alone; their rate limits, and the config's, are raised so the figures
 * measure segflow rather than a vendor's quota — page sizes, batch sizes and Mailchimp's ten connections stay real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinRegistry } from '../cli/builtins.js';
import { runJob, type JobResult } from '../sync/index.js';
import { startSandboxesInWorker, type RunningSandbox } from '../cli/sandboxes.js';
import { loadConfig } from '../config/index.js';
import { createWorld } from '../plugins/sandbox/index.js';
import type { Benchmark } from './run.js';

const DEMO_CONFIG = fileURLToPath(new URL('../config/examples/demo.yaml', import.meta.url));
const RAISED = { requests: 1_000_000, interval: '1s' };
/** The sandboxes' rate limits, raised (their page and batch limits stay the tools' own). */
const SANDBOX_LIMITS = {
  hubspot: { requestsPerInterval: 1e9, daily: 1e12, searchPerSecond: 1e6 },
  salesforce: { dailyRequests: 1e12 },
};
const HISTORY_DAYS = 90;

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const people = toy ? 300 : Number(process.env.SEGFLOW_BENCH_PEOPLE ?? 1_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-pipeline-'));
    const seed = 'bench-pipeline';
    const world = createWorld({ seed, people, historyDays: HISTORY_DAYS });
    const sandboxes: RunningSandbox[] = [];
    try {
      const started = await Promise.allSettled(
        [['hubspot'], ['salesforce'], ['mailchimp', 'segment']].map((tools) =>
          startSandboxesInWorker({
            tools,
            seed,
            people,
            historyDays: HISTORY_DAYS,
            limits: SANDBOX_LIMITS,
            recordBodies: false,
            process: true,
          }),
        ),
      );
      for (const s of started) if (s.status === 'fulfilled') sandboxes.push(...s.value);
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      log(`sandboxes up: ${sandboxes.map((s) => s.tool).join(', ')}`);
      const env = environment(sandboxes, join(dir, 'bench.db'), world.audiences[0]!.id);
      const registry = builtinRegistry();
      const config = await loadConfig(DEMO_CONFIG, { registry, env });
      for (const c of [...Object.values(config.sources), ...Object.values(config.destinations)]) {
        Object.assign(c, { rate_limit: { ...(c.rate_limit ?? {}), ...RAISED } });
      }
      Object.assign(config.sources.hubspot!.config, { searchPerSecond: SANDBOX_LIMITS.hubspot.searchPerSecond });
      const now = new Date(world.now);
      const timed = async (label: string): Promise<{ result: JobResult; ms: number }> => {
        const started = performance.now();
        const result = await runJob(config, 'demo', {
          registry,
          now,
          onProgress: (p) => {
            if (p.kind === 'step') log(`${label}: step ${p.index + 1}/${p.total} ${p.step} ${p.name}`);
          },
        });
        const ms = performance.now() - started;
        log(`${label}: ${result.status} in ${(ms / 1000).toFixed(1)} s ${JSON.stringify(result.counts)}`);
        for (const line of stepLines(result)) log(`${label}: ${line}`);
        return { result, ms };
      };
      const first = await timed('first run');
      const second = await timed('unchanged run');
      const peakMiB = process.resourceUsage().maxRSS / 1024;
      const rows = [phaseRow('first run', first), phaseRow('second run, nothing changed', second)];
      const read = first.result.counts.read ?? 0;
      const readMs = stepMs(first.result, 'read');
      return [
        `World of ${people.toLocaleString('en')} people (seed "${seed}", ${HISTORY_DAYS} days of history) in four sandboxes running in three child processes; ` +
          `the demo job reads HubSpot, Salesforce and Mailchimp, computes features, models and the starter segments, and pushes five segments to all four tools. ` +
          `Rate limits raised for the run: the config's to ${RAISED.requests.toLocaleString('en')} requests per ${RAISED.interval}, the sandboxes' to ` +
          `${JSON.stringify(SANDBOX_LIMITS)} (page sizes, batch sizes and Mailchimp's 10 connections stay the tools' own).`,
        '',
        '| run | status | read | compute | push | total | records read | records/s (read) | inserted + updated | added + removed |',
        '|---|---|---|---|---|---|---|---|---|---|',
        ...rows,
        '',
        ...[first, second].flatMap(({ result }, n) => {
          const failed = failedStreams(result);
          return failed.length ? [`${n === 0 ? 'First' : 'Second'} run: ${failed.join('; ')}.`, ''] : [];
        }),
        `Steps of the first run: ${stepLines(first.result).join('; ')}.`,
        '',
        `Peak RSS of segflow's process (main thread and compute worker; the sandboxes run in their own processes): ${peakMiB.toFixed(0)} MiB (target under 1,536 MiB). ` +
          `First read: ${read.toLocaleString('en')} records at ${Math.round(read / Math.max(0.001, readMs / 1000)).toLocaleString('en')} records/s. ` +
          `The second run reads only the incremental overlap (${(second.result.counts.read ?? 0).toLocaleString('en')} records) and writes ` +
          `${((second.result.counts.inserted ?? 0) + (second.result.counts.updated ?? 0)).toLocaleString('en')} rows and sends ` +
          `${((second.result.counts.added ?? 0) + (second.result.counts.removed ?? 0)).toLocaleString('en')} changes.`,
      ].join('\n');
    } finally {
      await Promise.all(sandboxes.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function stepMs(result: JobResult, kind: 'read' | 'compute' | 'push'): number {
  return result.steps.filter((s) => s.kind === kind).reduce((sum, s) => sum + (s.ms ?? 0), 0);
}

/** Each step's time and what it did: streams read per source, changes sent per destination. */
function stepLines(result: JobResult): string[] {
  const s = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`;
  return result.steps.map((step) => {
    if (step.kind === 'read') {
      const read = step.sources.map(
        (source) =>
          `${source.source} ${source.streams.reduce((n, o) => n + o.counts.read, 0).toLocaleString('en')} records`,
      );
      return `read ${s(step.ms)} (${read.join(', ')})`;
    }
    if (step.kind === 'compute') return `compute ${s(step.ms)}`;
    const sum = (key: 'added' | 'removed' | 'rejected') =>
      step.outcome.segments.reduce((n, o) => n + o[key], 0).toLocaleString('en');
    return `push to ${step.destination} ${s(step.ms)} (${sum('added')} added, ${sum('removed')} removed, ${sum('rejected')} rejected)`;
  });
}

/** Streams that did not succeed, with their errors. */
function failedStreams(result: JobResult): string[] {
  return result.steps.flatMap((step) =>
    step.kind === 'read'
      ? step.sources.flatMap((source) =>
          source.streams
            .filter((o) => o.status !== 'succeeded')
            .map((o) => `${source.source}/${o.stream} ${o.status}: ${o.error ?? ''}`),
        )
      : [],
  );
}

function phaseRow(label: string, { result, ms }: { result: JobResult; ms: number }): string {
  const s = (n: number) => `${(n / 1000).toFixed(1)} s`;
  const c = result.counts;
  const readMs = stepMs(result, 'read');
  return `| ${label} | ${result.status} | ${s(readMs)} | ${s(stepMs(result, 'compute'))} | ${s(stepMs(result, 'push'))} | ${s(ms)} | ${(c.read ?? 0).toLocaleString('en')} | ${Math.round((c.read ?? 0) / Math.max(0.001, readMs / 1000)).toLocaleString('en')} | ${((c.inserted ?? 0) + (c.updated ?? 0)).toLocaleString('en')} | ${((c.added ?? 0) + (c.removed ?? 0)).toLocaleString('en')} |`;
}

/** The variables demo.yaml reads, pointing it at the running sandboxes and the bench's store. */
function environment(sandboxes: RunningSandbox[], storePath: string, audienceId: string): Record<string, string> {
  const config = (tool: string) => sandboxes.find((s) => s.tool === tool)!.config as Record<string, string>;
  const hubspot = config('hubspot');
  const salesforce = config('salesforce');
  const mailchimp = config('mailchimp');
  const segment = config('segment');
  return {
    SEGFLOW_STORE: storePath,
    HUBSPOT_TOKEN: hubspot.accessToken!,
    HUBSPOT_BASE_PATH: hubspot.basePath!,
    SF_LOGIN_URL: salesforce.loginUrl!,
    SF_CLIENT_ID: salesforce.clientId!,
    SF_CLIENT_SECRET: salesforce.clientSecret!,
    SF_USERNAME: salesforce.username!,
    SF_PASSWORD: salesforce.password!,
    MAILCHIMP_API_KEY: mailchimp.apiKey!,
    MAILCHIMP_BASE_PATH: mailchimp.basePath!,
    MAILCHIMP_AUDIENCE_ID: audienceId,
    SEGMENT_WRITE_KEY: segment.writeKey!,
    SEGMENT_HOST: segment.host!,
    SEGMENT_SPACE_ID: segment.spaceId!,
    SEGMENT_PROFILES_TOKEN: segment.profilesToken!,
  };
}
