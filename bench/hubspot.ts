/**
 * HubSpot connector benchmark. Throughput (sandbox limits raised, and saying so): contacts and email events in,
 * membership changes out through the store and the real planner (sync/ pushSegments), write calls against the
 * minimum the batch caps allow, and the write calls of a second unchanged push. Rate discipline (HubSpot's real
 * 100 requests / 10 s): the request rate achieved against the limit, with no request over it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@hubspot/api-client';
import type { Benchmark } from './run.js';
import { enterSegment, findContactByExternalId, loadPage, openStore } from '../core/index.js';
import { createContext, type ContactRecord } from '../plugins/index.js';
import { pushSegments } from '../sync/index.js';
import {
  classifyHubSpotError,
  destination,
  HUBSPOT_BUDGET,
  hubspotSpec,
  sandboxConfig,
  source,
  startSandbox,
} from '../connectors/hubspot/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const contacts = toy ? 2_000 : 100_000;
    const events = toy ? 20_000 : 1_000_000;
    const changes = toy ? 2_000 : 100_000;
    const start = Date.parse('2026-01-01T00:00:00Z');
    const raised = { requestsPerInterval: 1_000_000, searchPerSecond: 1_000_000, daily: 100_000_000 };
    const sandbox = await startSandbox({
      bulk: { contacts, emailEvents: events, start, spanMs: 86_400_000 * 30 },
      limits: raised,
      recordBodies: false,
    });
    const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-hubspot-'));
    const rows: string[] = [];
    try {
      const config = hubspotSpec.parse({ ...sandboxConfig(sandbox), searchPerSecond: 1_000_000 });
      const ctx = createContext({
        connection: 'bench',
        budget: { concurrency: 4 },
        classifyError: classifyHubSpotError,
        logger: quiet,
      });
      const contactRecords: ContactRecord[] = [];
      for (const name of ['contacts', 'email_events']) {
        const stream = source.streams(config).find((s) => s.name === name);
        if (!stream) continue;
        const began = performance.now();
        let count = 0;
        for await (const message of stream.read({ config, mode: 'full_refresh', state: undefined }, ctx)) {
          if (message.type !== 'record') continue;
          count++;
          if (message.record.kind === 'contact') contactRecords.push(message.record);
        }
        const seconds = (performance.now() - began) / 1000;
        log(`${name}: ${count} records in ${seconds.toFixed(1)} s`);
        rows.push(
          `| read ${name} | ${count.toLocaleString('en')} | ${seconds.toFixed(1)} s | ${Math.round(count / seconds).toLocaleString('en')} rec/s | |`,
        );
      }

      // Membership goes out the way a job pushes it: contacts in the store, members entered, the planner diffing
      // them against delivered state, pushSegments batching them to the destination.
      const store = await openStore(join(dir, 'bench.db'));
      try {
        for (let i = 0; i < contactRecords.length; i += 1_000) {
          await loadPage(store, {
            connection: 'hubspot',
            stream: 'contacts',
            records: contactRecords.slice(i, i + 1_000),
            checkpoint: null,
          });
        }
        const segment = { key: 'bench', name: 'Bench segment' };
        await store.transaction(async (tx) => {
          for (const record of contactRecords.slice(0, changes)) {
            const contact = await findContactByExternalId(tx, 'hubspot', record.externalId);
            if (contact) await enterSegment(tx, segment.key, contact.id, 1);
          }
        });
        const push = () =>
          pushSegments({
            store,
            destination,
            config,
            ctx,
            connection: 'hubspot_lists',
            segments: [segment],
            identitiesFrom: 'hubspot',
            mode: 'mirror',
            maxRetries: 0,
          });
        const before = sandbox.recorder.count();
        const began = performance.now();
        const first = await push();
        const seconds = (performance.now() - began) / 1000;
        const outcome = first.segments[0];
        if (!outcome || outcome.rejected > 0 || outcome.pending > 0)
          throw new Error(`bench push did not deliver every change: ${JSON.stringify(outcome)}`);
        const calls = sandbox.recorder.count() - before;
        const minimum = Math.ceil(outcome.added / 100);
        log(`membership: ${outcome.added} changes, ${calls} calls (minimum ${minimum}) in ${seconds.toFixed(1)} s`);
        rows.push(
          `| push membership adds (planner → destination) | ${outcome.added.toLocaleString('en')} | ${seconds.toFixed(1)} s | ${Math.round(outcome.added / seconds).toLocaleString('en')} rows/s | ${calls} calls vs minimum ${minimum} (${(calls / minimum).toFixed(3)}×, incl. list lookup + create) |`,
        );
        const members = sandbox.portal.lists.values().next().value?.members.size ?? 0;
        rows.push(`| list members read back in the sandbox | ${members.toLocaleString('en')} | | | |`);
        const againFrom = sandbox.recorder.count();
        const again = await push();
        const againCalls = sandbox.recorder.count() - againFrom;
        log(`second unchanged push: ${again.segments[0]?.added ?? 0} changes, ${againCalls} calls`);
        rows.push(
          `| second unchanged push | ${(again.segments[0]?.added ?? 0) + (again.segments[0]?.removed ?? 0)} | | | ${againCalls} calls (target 0) |`,
        );
      } finally {
        await store.close();
      }
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }

    // Rate discipline with HubSpot's real limits.
    // Toy scale keeps the shape but shrinks the window to 1 s (20 requests) so CI takes seconds.
    const durationMs = toy ? 3_000 : 30_000;
    const limit = toy ? 20 : 100;
    const intervalMs = toy ? 1_000 : 10_000;
    const real = await startSandbox({
      seed: 'rate',
      people: 400,
      recordBodies: false,
      limits: { requestsPerInterval: limit, intervalMs },
    });
    let discipline = '';
    try {
      const config = hubspotSpec.parse(sandboxConfig(real));
      const budget = toy ? { ...HUBSPOT_BUDGET, requests: limit, intervalMs: intervalMs * 1.02 } : HUBSPOT_BUDGET;
      const ctx = createContext({ connection: 'rate', budget, classifyError: classifyHubSpotError, logger: quiet });
      const client = new Client({
        accessToken: config.accessToken as string,
        basePath: real.url,
        numberOfApiCallRetries: 0,
      });
      await client.crm.contacts.basicApi.getPage(1); // warm-up (module loading, keep-alive socket), as `check` does in a sync
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const began = Date.now();
      const workers = Array.from({ length: 4 }, async () => {
        while (Date.now() - began < durationMs) {
          await ctx.call('contacts.list', async () => {
            if (Date.now() - began < durationMs) await client.crm.contacts.basicApi.getPage(1);
          });
        }
      });
      await Promise.all(workers);
      const served = real.recorder.requests.filter((r) => r.status === 200 && r.at >= began);
      const maxWindow = real.limiter.counts().peakInWindow;
      const ours429 = real.overLimit();
      const elapsed = (Date.now() - began) / 1000;
      const inRun = served.filter((r) => r.at - began < durationMs);
      const steady = inRun.filter((r) => r.at - began >= intervalMs).length;
      const steadyRate = steady / (durationMs / 1000 - intervalMs / 1000);
      const limitRate = limit / (intervalMs / 1000);
      log(
        `rate: ${served.length} requests in ${elapsed.toFixed(1)} s, busiest 10 s window ${maxWindow}, 429s caused by us ${ours429}`,
      );
      discipline = [
        '',
        `Rate discipline (${toy ? 'toy: 20 requests per rolling 1 s' : "HubSpot's real limit, 100 requests per rolling 10 s"}; ${(durationMs / 1000).toFixed(0)} s run, 4 concurrent callers, connector budget ${budget.requests} per ${budget.intervalMs} ms):`,
        '',
        '| measure | value | target |',
        '| --- | --- | --- |',
        `| requests served | ${served.length} | |`,
        `| busiest rolling window | ${maxWindow} of ${limit} (${Math.round((maxWindow / limit) * 100)}%) | never over ${limit} |`,
        `| steady-state rate after the first window | ${steadyRate.toFixed(2)} req/s of ${limitRate} (${Math.round((steadyRate / limitRate) * 100)}%) | ≥ 90% |`,
        `| 429s caused by our own traffic | ${ours429} | 0 |`,
      ].join('\n');
    } finally {
      await real.close();
    }

    return [
      `Throughput, with the sandbox's rate limits raised (real HubSpot would hold this to 100 requests / 10 s); ${contacts.toLocaleString('en')} contacts, ${events.toLocaleString('en')} email events${toy ? ' (toy scale)' : ''}:`,
      '',
      '| step | records | time | rate | write calls |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
      'Target: write calls at most 1.05 × the minimum the 100-per-call membership cap allows, and none on a second unchanged push. Membership goes out as a job pushes it: contacts loaded into a SQLite store, the members entered in a segment, the planner diffing them against delivered state and pushSegments batching them to the destination.',
      discipline,
    ].join('\n');
  },
};
