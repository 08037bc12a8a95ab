/**
 * Mailchimp connector benchmark against its sandbox (real limits: 10 connections, 1000 per page, 500 per segment
 * side). Members and campaign activity in, through the real SDK, with records/second beside a raw-fetch ceiling of
 * the same pages; membership changes out the way a job pushes them — members loaded into the store, segments entered,
 * the planner diffing them against delivered state, sync/ pushSegments batching them to the destination — with write
 * calls against the minimum the caps allow; and a second, unchanged push through the same path, which must make no
 * calls. CPU time is the whole process's, the in-process sandbox included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark } from './run.js';
import { enterSegment, findContactByExternalId, loadPage, openStore } from '../core/index.js';
import { createContext, type ContactRecord } from '../plugins/index.js';
import { pushSegments } from '../sync/index.js';
import { createWorld } from '../plugins/sandbox/index.js';
import {
  classifyMailchimpError,
  destination,
  destinationSpec,
  sandboxConfig,
  SEGMENT_SIDE_CAP,
  source,
  sourceSpec,
  startSandbox,
  type MailchimpSandbox,
} from '../connectors/mailchimp/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const context = (name: string) =>
  createContext({
    connection: name,
    budget: { concurrency: 10 },
    classifyError: classifyMailchimpError,
    logger: quiet,
  });

async function readStream(
  sandbox: MailchimpSandbox,
  name: string,
  keep?: ContactRecord[],
): Promise<{ count: number; seconds: number }> {
  const config = sourceSpec.parse(sandboxConfig(sandbox));
  const stream = source.streams(config).find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name}`);
  const began = performance.now();
  let count = 0;
  for await (const message of stream.read(
    { config, mode: 'full_refresh', state: undefined },
    context(`bench-${name}`),
  )) {
    if (message.type !== 'record') continue;
    count++;
    if (keep && message.record.kind === 'contact') keep.push(message.record);
  }
  return { count, seconds: (performance.now() - began) / 1000 };
}

/** The same member pages fetched raw, without SDK or mapping: the ceiling the sandbox allows. */
async function rawMembers(sandbox: MailchimpSandbox, listId: string): Promise<{ count: number; seconds: number }> {
  const auth = `Basic ${Buffer.from(`x:${sandbox.credentials.apiKey}`).toString('base64')}`;
  const began = performance.now();
  let count = 0;
  for (let offset = 0; ; offset += 1000) {
    const page = (await (
      await fetch(
        `${sandbox.url}/lists/${listId}/members?count=1000&offset=${offset}&sort_field=last_changed&sort_dir=ASC`,
        { headers: { authorization: auth } },
      )
    ).json()) as {
      members: unknown[];
    };
    count += page.members.length;
    if (page.members.length < 1000) break;
  }
  return { count, seconds: (performance.now() - began) / 1000 };
}

const rate = (count: number, seconds: number) => Math.round(count / seconds).toLocaleString('en');

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const memberPeople = toy ? 2_000 : 200_000;
    const activityPeople = toy ? 300 : 45_000;
    const changesWanted = toy ? 2_000 : 100_000;
    const segments = 5;
    const rows: string[] = [];

    const members = await startSandbox({ world: createWorld({ seed: 'bench-members', people: memberPeople }) });
    const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-mailchimp-'));
    let writeFigures: string[] = [];
    try {
      const main = members.world.audiences[0]!.id;
      // Build the sandbox's indexes before timing, so neither reader pays for them.
      for (const a of members.world.audiences) members.account.listMembers(a.id);
      members.world.findByToolId('mailchimp', '0');
      const ceiling = await rawMembers(members, main);
      log(`raw members pages: ${ceiling.count} in ${ceiling.seconds.toFixed(1)} s`);
      const memberRecords: ContactRecord[] = [];
      const read = await readStream(members, 'members', memberRecords);
      log(`members: ${read.count} records in ${read.seconds.toFixed(1)} s`);
      rows.push(
        `| members in (all audiences) | ${read.count.toLocaleString('en')} | ${read.seconds.toFixed(1)} s | ${rate(read.count, read.seconds)} | ${rate(ceiling.count, ceiling.seconds)} (raw fetch of one audience's pages) |`,
      );

      // Out, as a job pushes it: the members in the store, `segments` segments each holding a slice of the main
      // audience, the planner diffing them against delivered state and pushSegments sending them to tags.
      const store = await openStore(join(dir, 'bench.db'));
      try {
        for (let i = 0; i < memberRecords.length; i += 1_000) {
          await loadPage(store, {
            connection: 'mailchimp',
            stream: 'members',
            records: memberRecords.slice(i, i + 1_000),
            checkpoint: null,
          });
        }
        const audience = members.account.listMembers(main).filter((e) => e.status !== 'archived');
        const perSegment = Math.floor(Math.min(changesWanted, audience.length * segments) / segments);
        const refs = Array.from({ length: segments }, (_, s) => ({ key: `seg${s}`, name: `Bench tag ${s}` }));
        let entered = 0;
        await store.transaction(async (tx) => {
          for (const [s, segment] of refs.entries()) {
            const begin =
              audience.length >= perSegment * segments
                ? s * perSegment
                : Math.floor((s * (audience.length - perSegment)) / Math.max(1, segments - 1));
            for (const entry of audience.slice(begin, begin + perSegment)) {
              const contact = await findContactByExternalId(tx, 'mailchimp', entry.hash);
              if (!contact) continue;
              await enterSegment(tx, segment.key, contact.id, 1);
              entered++;
            }
          }
        });
        const config = destinationSpec.parse({ ...sandboxConfig(members), audienceId: main });
        const push = async () => {
          const wall = performance.now();
          const cpu = process.cpuUsage();
          const outcome = await pushSegments({
            store,
            destination,
            config,
            ctx: context('bench-writer'),
            connection: 'mailchimp_tags',
            segments: refs,
            identitiesFrom: 'mailchimp',
            mode: 'mirror',
            maxRetries: 0,
          });
          const used = process.cpuUsage(cpu);
          const sum = (pick: (o: (typeof outcome.segments)[number]) => number) =>
            outcome.segments.reduce((n, o) => n + pick(o), 0);
          const adds = outcome.segments.map((o) => o.added);
          return {
            outcome,
            changes: sum((o) => o.added + o.removed + o.rejected + o.pending + (o.skippedBy.notInDestination ?? 0)),
            accepted: sum((o) => o.added + o.removed),
            problems: sum((o) => o.rejected + o.pending + o.skipped),
            minimum: adds.reduce((n, a) => n + (a > 0 ? Math.ceil(a / SEGMENT_SIDE_CAP) + 1 : 0), 0),
            seconds: (performance.now() - wall) / 1000,
            cpu: (used.user + used.system) / 1e6,
          };
        };
        const writeCalls = () => members.recorder.requests.filter((r) => r.method === 'POST').length;
        members.recorder.clear();
        members.connections.reset();
        const first = await push();
        if (first.outcome.status !== 'succeeded' || first.problems > 0)
          throw new Error(
            `bench push did not deliver every change: ${JSON.stringify(first.outcome.segments.map(({ sample: _, ...o }) => o))}`,
          );
        const firstCalls = writeCalls();
        const maxInFlight = members.connections.counts().peak;
        log(
          `first run: ${first.changes} changes (${entered} entered), ${firstCalls} write calls (minimum ${first.minimum}) in ${first.seconds.toFixed(1)} s (CPU ${first.cpu.toFixed(1)} s)`,
        );
        members.recorder.clear();
        const second = await push();
        const secondCalls = writeCalls();
        const secondRequests = members.recorder.requests.length;
        log(`second, unchanged run: ${second.changes} changes, ${secondCalls} write calls, ${secondRequests} requests`);
        const held = await destination.readMembership(refs[0]!, config, context('bench-check'));
        writeFigures = [
          '',
          '| membership out (planner → pushSegments → tags) | changes | accepted | write calls | minimum calls | calls / minimum | wall time | CPU time | changes/s |',
          '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
          `| first run (${segments} tags) | ${first.changes.toLocaleString('en')} | ${first.accepted.toLocaleString('en')} | ${firstCalls} | ${first.minimum} | ${(firstCalls / Math.max(1, first.minimum)).toFixed(3)} × | ${first.seconds.toFixed(1)} s | ${first.cpu.toFixed(1)} s | ${rate(first.changes, first.seconds)} |`,
          `| second, unchanged run | ${second.changes} | ${second.accepted} | ${secondCalls} | 0 | — | ${second.seconds.toFixed(2)} s | ${second.cpu.toFixed(2)} s | — |`,
          '',
          `Target: write calls at most 1.05 × the minimum (one static-segment call per 500 adds and 500 removes, plus one create per new tag): ` +
            `${firstCalls <= 1.05 * first.minimum ? 'met' : 'NOT met'} (${(firstCalls / Math.max(1, first.minimum)).toFixed(3)} ×). ` +
            `Second unchanged run: ${secondCalls} write calls, ${secondRequests} requests of any kind (target 0). Most requests in flight at once: ${maxInFlight} (limit 10). ` +
            `Read back: tag 0 holds ${held.length.toLocaleString('en')} members (wanted ${perSegment.toLocaleString('en')}). ` +
            "Membership goes out as a job pushes it: the members loaded into a SQLite store, entered in the segments, the planner (core/planner planPush) diffing them against delivered state and pushSegments (sync/push) sending them, segment after segment; the second run is the same push again. CPU time is this process's, the in-process sandbox included.",
        ];
      } finally {
        await store.close();
      }
    } finally {
      await members.close();
      rmSync(dir, { recursive: true, force: true });
    }

    const activity = await startSandbox({ world: createWorld({ seed: 'bench-activity', people: activityPeople }) });
    try {
      const warm = performance.now();
      for (const c of activity.world.campaigns) activity.account.campaignActivity(c.mailchimpId);
      activity.account.storeOrders();
      activity.world.findByToolId('mailchimp', '0');
      log(`activity sandbox indexed in ${((performance.now() - warm) / 1000).toFixed(1)} s`);
      let total = 0;
      let seconds = 0;
      for (const name of ['email_activity', 'sends', 'unsubscribes', 'orders']) {
        const r = await readStream(activity, name);
        log(`${name}: ${r.count} records in ${r.seconds.toFixed(1)} s`);
        rows.push(
          `| ${name} in | ${r.count.toLocaleString('en')} | ${r.seconds.toFixed(1)} s | ${rate(r.count, r.seconds)} | |`,
        );
        if (name !== 'orders') {
          total += r.count;
          seconds += r.seconds;
        }
      }
      rows.push(
        `| activity events in (email activity + sends + unsubscribes) | ${total.toLocaleString('en')} | ${seconds.toFixed(1)} s | ${rate(total, seconds)} | |`,
      );
    } finally {
      await activity.close();
    }

    return [
      `Sandbox with Mailchimp's real limits (10 connections, pages of 1000, 500 per segment side); worlds of ${memberPeople.toLocaleString('en')} people (members) and ${activityPeople.toLocaleString('en')} people (campaign activity).`,
      '',
      '| read | records | time | records/s | ceiling records/s |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows,
      ...writeFigures,
    ].join('\n');
  },
};
