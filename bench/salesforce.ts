/**
 * Salesforce connector benchmark: contacts and activities in (records/second through jsforce against the sandbox
 * org), membership changes out as CampaignMembers the way a job pushes them — contacts in the store, the planner
 * diffing the segment against delivered state, sync/ pushSegments batching to the destination — with write calls
 * against the minimum the 200-record collection cap allows, API requests against the org's daily allocation (raised
 * for the run, and said so), and a second unchanged run (incremental reads, then the same push) that must make zero
 * write calls. CPU time is the whole process's, the in-process sandbox org included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark } from './run.js';
import { enterSegment, findContactByExternalId, loadPage, openStore, type Store } from '../core/index.js';
import {
  createContext,
  type ContactRecord,
  type ConnectorContext,
  type Logger,
  type StreamState,
} from '../plugins/index.js';
import { salesforceId } from '../plugins/sandbox/index.js';
import { callTask } from '../connectors/salesforce/sandbox/index.js';
import { pushSegments } from '../sync/index.js';
import {
  classifySalesforceError,
  destination,
  salesforceSpec,
  sandboxConfig,
  source,
  startSandbox,
  type SalesforceConfig,
} from '../connectors/salesforce/index.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const PAGE = 1_000;

/** Wall and CPU seconds of `work` (CPU: user + system time of this process). */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; cpu: number }> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { value, seconds: (performance.now() - wall) / 1000, cpu: (used.user + used.system) / 1e6 };
}

/** Reads one stream through the connector, keeping its contact records and its last state. */
async function readStream(
  name: string,
  mode: 'full_refresh' | 'incremental',
  state: StreamState | undefined,
  config: SalesforceConfig,
  ctx: ConnectorContext,
): Promise<{ count: number; contacts: ContactRecord[]; state: StreamState | undefined }> {
  const stream = source.streams(config).find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name}`);
  const contacts: ContactRecord[] = [];
  let count = 0;
  let last = state;
  for await (const message of stream.read({ config, mode, state }, ctx)) {
    if (message.type === 'record') {
      count++;
      if (message.record.kind === 'contact') contacts.push(message.record);
    } else last = message.state;
  }
  return { count, contacts, state: last };
}

/** Loads contacts into the store a page at a time, the stream's checkpoint with the last page; timed apart from the read. */
async function load(
  store: Store,
  stream: string,
  contacts: readonly ContactRecord[],
  checkpoint: StreamState | undefined,
): Promise<void> {
  for (let i = 0; i < contacts.length; i += PAGE) {
    const last = i + PAGE >= contacts.length;
    await loadPage(store, {
      connection: 'salesforce',
      stream,
      records: contacts.slice(i, i + PAGE),
      checkpoint: last ? (checkpoint ?? null) : null,
    });
  }
}

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const contacts = toy ? 5_000 : 100_000;
    const activities = toy ? 20_000 : 1_000_000;
    const changes = toy ? 2_000 : 100_000;
    const allocation = 10_000_000;
    const sandbox = await startSandbox({
      seed: 'bench',
      people: toy ? 200 : 2_000,
      limits: { dailyRequests: allocation },
    });
    const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-salesforce-'));
    try {
      const org = sandbox.org;
      const apiRequests = () => sandbox.limiter.counts().dailyUsed;
      const base = org.now() - 200 * 86_400_000;
      const existingContacts = org.table('Contact').size;
      for (let n = existingContacts; n < contacts; n++) {
        const at = base + n * 97;
        org.put('Contact', {
          Id: salesforceId('003', 90_000_000 + n),
          IsDeleted: false,
          CreatedDate: at,
          LastModifiedDate: at,
          SystemModstamp: at,
          FirstName: 'Bench',
          LastName: `Person ${n}`,
          Email: `bench.${n}@example.com`,
          HasOptedOutOfEmail: false,
        });
      }
      const people = [...org.table('Contact').values()].filter((c) => !c.IsDeleted).map((c) => String(c.Id));
      const existingTasks = org.table('Task').size;
      for (let n = existingTasks; n < activities; n++) {
        const at = base + Math.floor(n * 11.3);
        org.put('Task', callTask(salesforceId('00T', 90_000_000 + n), at, people[n % people.length] as string));
      }
      log(
        `org: ${org.table('Contact').size} contacts, ${org.table('Task').size} tasks (world people plus generated rows)`,
      );
      const config = salesforceSpec.parse(sandboxConfig(sandbox));
      const ctx = createContext({
        connection: 'bench-salesforce',
        logger: quiet,
        classifyError: classifySalesforceError,
      });
      const store = await openStore(join(dir, 'bench.db'));
      const rows: string[] = [];
      const row = (step: string, count: number, t: { seconds: number; cpu: number }, unit: string) =>
        rows.push(
          `| ${step} | ${count.toLocaleString('en-US')} | ${t.seconds.toFixed(1)} s | ${t.cpu.toFixed(1)} s | ${Math.round(count / t.seconds).toLocaleString('en-US')} ${unit}/s |`,
        );
      try {
        const states = new Map<string, StreamState | undefined>();
        let contactRecords: ContactRecord[] = [];
        for (const name of ['contacts', 'tasks']) {
          const read = await timed(() => readStream(name, 'full_refresh', undefined, config, ctx));
          states.set(name, read.value.state);
          if (name === 'contacts') contactRecords = read.value.contacts;
          log(`${name}: ${read.value.count} records in ${read.seconds.toFixed(1)} s (CPU ${read.cpu.toFixed(1)} s)`);
          row(`read ${name}`, read.value.count, read, 'records');
        }
        const readRequests = apiRequests();
        const loaded = await timed(async () => await load(store, 'contacts', contactRecords, states.get('contacts')));
        row('load contacts into the store', contactRecords.length, loaded, 'records');

        // Membership goes out the way a job pushes it: the members entered in a segment, the planner diffing them
        // against delivered state, pushSegments batching them to the destination in collections of 200.
        const segment = { key: 'bench', name: 'Bench segment' };
        await store.transaction(async (tx) => {
          for (const record of contactRecords.slice(0, changes)) {
            if (record.deleted === true) continue; // in the recycle bin: a segment never holds them
            const contact = await findContactByExternalId(tx, 'salesforce', record.externalId);
            if (contact) await enterSegment(tx, segment.key, contact.id, 1);
          }
        });
        const deleted = contactRecords.slice(0, changes).filter((r) => r.deleted === true).length;
        const push = () =>
          pushSegments({
            store,
            destination,
            config,
            ctx,
            connection: 'salesforce_campaigns',
            segments: [segment],
            identitiesFrom: 'salesforce',
            mode: 'mirror',
            maxRetries: 0,
          });
        const isWrite = (method: string, path: string) => method !== 'GET' && path.includes('/composite/sobjects');
        const writeCalls = () => sandbox.recorder.requests.filter((r) => isWrite(r.method, r.path)).length;

        sandbox.recorder.clear();
        const pushRequestsFrom = apiRequests();
        const first = await timed(push);
        const outcome = first.value.segments[0];
        if (
          !outcome ||
          outcome.status !== 'succeeded' ||
          outcome.rejected > 0 ||
          outcome.pending > 0 ||
          outcome.skipped > 0
        ) {
          throw new Error(`bench push did not deliver every change: ${JSON.stringify(outcome)}`);
        }
        const firstWrites = writeCalls();
        const pushRequests = apiRequests() - pushRequestsFrom;
        const minimum = Math.ceil(outcome.added / 200) + 1;
        log(
          `push: ${outcome.added} added in ${first.seconds.toFixed(1)} s (CPU ${first.cpu.toFixed(1)} s), ${firstWrites} write calls (minimum ${minimum}), ${pushRequests} requests`,
        );
        row('push membership adds (planner → CampaignMembers)', outcome.added, first, 'changes');
        const campaign = [...org.table('Campaign').values()].find((c) => c.Name === segment.name && !c.IsDeleted);
        const held = [...org.table('CampaignMember').values()].filter(
          (m) => m.CampaignId === campaign?.Id && !m.IsDeleted,
        ).length;

        // A second run with nothing changed: each stream reads incrementally from its checkpoint, the contacts it
        // returns (the overlap) are loaded again, and the same push plans against delivered state.
        sandbox.recorder.clear();
        const secondFrom = apiRequests();
        const second = await timed(async () => {
          let records = 0;
          for (const name of ['contacts', 'tasks']) {
            const read = await readStream(name, 'incremental', states.get(name), config, ctx);
            records += read.count;
            if (name === 'contacts') await load(store, 'contacts', read.contacts, read.state);
          }
          const readRequests = apiRequests() - secondFrom;
          return { records, readRequests, outcome: await push() };
        });
        const again = second.value.outcome.segments[0];
        const secondWrites = writeCalls();
        const secondRequests = apiRequests() - secondFrom;
        const secondPushRequests = secondRequests - second.value.readRequests;
        log(
          `second unchanged run: ${second.value.records} records re-read, ${(again?.added ?? 0) + (again?.removed ?? 0)} changes, ${secondWrites} write calls, ${secondRequests} requests in ${second.seconds.toFixed(1)} s (CPU ${second.cpu.toFixed(1)} s)`,
        );

        return [
          `Sandbox org with ${contacts.toLocaleString('en-US')} contacts and ${activities.toLocaleString('en-US')} activities (Tasks)${toy ? ' (toy scale)' : ''}; daily allocation raised to ${allocation.toLocaleString('en-US')} requests for the run (Salesforce's default is far lower). CPU is this process's user + system time, the in-process sandbox org included; the machine is shared, so CPU time is the steadier figure.`,
          '',
          '| step | records | wall time | CPU time | rate |',
          '| --- | ---: | ---: | ---: | ---: |',
          ...rows,
          '',
          '| figure | value |',
          '| --- | ---: |',
          `| write calls (first push) | ${firstWrites} |`,
          `| minimum write calls (200 per collection + 1 campaign create) | ${minimum} |`,
          `| write calls / minimum (target ≤ 1.05) | ${(firstWrites / minimum).toFixed(3)} |`,
          `| contacts read that are deleted in the org (left out of the segment) | ${deleted} |`,
          `| campaign members read back in the org | ${held.toLocaleString('en-US')} |`,
          `| API requests for the reads / for the first push | ${readRequests.toLocaleString('en-US')} / ${pushRequests.toLocaleString('en-US')} |`,
          `| second unchanged run: records re-read (overlap) / changes planned | ${second.value.records.toLocaleString('en-US')} / ${(again?.added ?? 0) + (again?.removed ?? 0)} |`,
          `| second unchanged run: API requests for the reads / for the push | ${second.value.readRequests.toLocaleString('en-US')} / ${secondPushRequests.toLocaleString('en-US')} |`,
          `| write calls on a second unchanged run (target 0) | ${secondWrites} |`,
          `| API requests used / allocation | ${apiRequests().toLocaleString('en-US')} / ${allocation.toLocaleString('en-US')} |`,
          '',
          'Membership goes out as a job pushes it: contacts loaded into a SQLite store, the members entered in a segment, the planner (core/planner planPush) diffing them against delivered state and pushSegments (sync/push) batching them to the destination; the second run reads incrementally from the checkpoints and pushes again through the same path.',
        ].join('\n');
      } finally {
        await store.close();
      }
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
