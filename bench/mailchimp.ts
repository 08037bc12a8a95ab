/**
 * Mailchimp connector benchmark against its sandbox (real limits: 10 connections, 1000 per page, 500 per segment
 * side). Members and campaign activity in, through the real SDK, with records/second beside a raw-fetch ceiling of
 * the same pages; membership changes out, with write calls against the minimum the caps allow; and a second,
 * unchanged run, diffed against what was delivered (the planner's job, stood in for here), which must make no calls.
 */
import type { Benchmark } from './run.js';
import { createContext, type MembershipChange, type RowResult } from '../plugins/index.js';
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
const context = (name: string) => createContext({ connection: name, budget: { concurrency: 10 }, classifyError: classifyMailchimpError, logger: quiet });

async function readStream(sandbox: MailchimpSandbox, name: string, audienceIds?: string[]): Promise<{ count: number; seconds: number }> {
  const config = sourceSpec.parse({ ...sandboxConfig(sandbox), ...(audienceIds ? { audienceIds } : {}) });
  const stream = source.streams(config).find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name}`);
  const began = performance.now();
  let count = 0;
  for await (const message of stream.read({ config, mode: 'full_refresh', state: undefined }, context(`bench-${name}`))) if (message.type === 'record') count++;
  return { count, seconds: (performance.now() - began) / 1000 };
}

/** The same member pages fetched raw, without SDK or mapping: the ceiling the sandbox allows. */
async function rawMembers(sandbox: MailchimpSandbox, listId: string): Promise<{ count: number; seconds: number }> {
  const auth = `Basic ${Buffer.from(`x:${sandbox.credentials.apiKey}`).toString('base64')}`;
  const began = performance.now();
  let count = 0;
  for (let offset = 0; ; offset += 1000) {
    const page = (await (await fetch(`${sandbox.url}/lists/${listId}/members?count=1000&offset=${offset}&sort_field=last_changed&sort_dir=ASC`, { headers: { authorization: auth } })).json()) as {
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
    let writeFigures: string[] = [];
    try {
      const main = members.world.audiences[0]!.id;
      // Build the sandbox's indexes before timing, so neither reader pays for them.
      for (const a of members.world.audiences) members.account.listMembers(a.id);
      members.world.findByToolId('mailchimp', '0');
      const ceiling = await rawMembers(members, main);
      log(`raw members pages: ${ceiling.count} in ${ceiling.seconds.toFixed(1)} s`);
      const read = await readStream(members, 'members');
      log(`members: ${read.count} records in ${read.seconds.toFixed(1)} s`);
      rows.push(`| members in (all audiences) | ${read.count.toLocaleString('en')} | ${read.seconds.toFixed(1)} s | ${rate(read.count, read.seconds)} | ${rate(ceiling.count, ceiling.seconds)} (raw fetch of one audience's pages) |`);

      // Out: `segments` tags, each given a slice of the main audience; all segments written in parallel.
      const audience = members.account.listMembers(main).filter((e) => e.status !== 'archived');
      const perSegment = Math.floor(Math.min(changesWanted, audience.length * segments) / segments);
      const config = destinationSpec.parse({ ...sandboxConfig(members), audienceId: main });
      const delivered = new Map<string, Set<string>>();
      const target = (s: number) => {
        const begin = audience.length >= perSegment * segments ? s * perSegment : Math.floor((s * (audience.length - perSegment)) / Math.max(1, segments - 1));
        return audience.slice(begin, begin + perSegment);
      };
      const emailOf = new Map<string, string>();
      const plan = (s: number): MembershipChange[] => {
        const have = delivered.get(`seg${s}`) ?? new Set<string>();
        const want = target(s);
        const wantSet = new Set(want.map((e) => e.hash));
        const changes: MembershipChange[] = [];
        for (const e of want) {
          if (have.has(e.hash)) continue;
          let email = emailOf.get(e.hash);
          if (!email) emailOf.set(e.hash, (email = members.account.member(main, e.hash)!.email));
          changes.push({ op: 'add', contact: { contactId: e.hash, email: email.toLowerCase(), externalIds: [e.hash] } });
        }
        for (const hash of have) if (!wantSet.has(hash)) changes.push({ op: 'remove', contact: { contactId: hash, email: emailOf.get(hash) ?? null, externalIds: [hash] } });
        return changes;
      };
      const push = async (): Promise<{ changes: number; accepted: number; minimum: number; seconds: number }> => {
        const began = performance.now();
        let changes = 0;
        let accepted = 0;
        let minimum = 0;
        await Promise.all(
          Array.from({ length: segments }, async (_, s) => {
            const segment = { key: `seg${s}`, name: `Bench tag ${s}` };
            const all = plan(s);
            changes += all.length;
            const adds = all.filter((c) => c.op === 'add').length;
            const removes = all.length - adds;
            minimum += Math.ceil(Math.max(adds, removes) / SEGMENT_SIDE_CAP) + (delivered.has(segment.key) || all.length === 0 ? 0 : 1);
            const ctx = context(`bench-writer-${s}`);
            const have = delivered.get(segment.key) ?? new Set<string>();
            for (let k = 0; k < all.length; k += destination.batchSize) {
              const batch = all.slice(k, k + destination.batchSize);
              const results: RowResult[] = await destination.write({ segment, changes: batch }, config, ctx);
              results.forEach((r, i) => {
                const change = batch[i]!;
                if (r.status !== 'accepted') return;
                accepted++;
                if (change.op === 'add') have.add(change.contact.contactId);
                else have.delete(change.contact.contactId);
              });
            }
            delivered.set(segment.key, have);
          }),
        );
        return { changes, accepted, minimum, seconds: (performance.now() - began) / 1000 };
      };
      const writeCalls = () => members.recorder.requests.filter((r) => r.method === 'POST').length;
      members.recorder.clear();
      const first = await push();
      const firstCalls = writeCalls();
      const maxInFlight = members.recorder.maxInFlight;
      log(`first run: ${first.changes} changes, ${firstCalls} write calls (minimum ${first.minimum}) in ${first.seconds.toFixed(1)} s`);
      members.recorder.clear();
      const second = await push();
      const secondCalls = writeCalls();
      log(`second, unchanged run: ${second.changes} changes, ${secondCalls} write calls`);
      const held = await destination.readMembership({ key: 'seg0', name: 'Bench tag 0' }, config, context('bench-check'));
      writeFigures = [
        '',
        '| membership out | changes | accepted | write calls | minimum calls | calls / minimum | time | changes/s |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        `| first run (${segments} tags) | ${first.changes.toLocaleString('en')} | ${first.accepted.toLocaleString('en')} | ${firstCalls} | ${first.minimum} | ${(firstCalls / Math.max(1, first.minimum)).toFixed(3)} × | ${first.seconds.toFixed(1)} s | ${rate(first.changes, first.seconds)} |`,
        `| second, unchanged run | ${second.changes} | ${second.accepted} | ${secondCalls} | 0 | — | ${second.seconds.toFixed(2)} s | — |`,
        '',
        `Target: write calls at most 1.05 × the minimum (one static-segment call per 500 adds and 500 removes, plus one create per new tag): ` +
          `${firstCalls <= 1.05 * first.minimum ? 'met' : 'NOT met'} (${(firstCalls / Math.max(1, first.minimum)).toFixed(3)} ×). ` +
          `Second unchanged run: ${secondCalls} write calls. Most requests in flight at once: ${maxInFlight} (limit 10). ` +
          `Read back: tag 0 holds ${held.length.toLocaleString('en')} members (wanted ${perSegment.toLocaleString('en')}).`,
      ];
    } finally {
      await members.close();
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
        rows.push(`| ${name} in | ${r.count.toLocaleString('en')} | ${r.seconds.toFixed(1)} s | ${rate(r.count, r.seconds)} | |`);
        if (name !== 'orders') {
          total += r.count;
          seconds += r.seconds;
        }
      }
      rows.push(`| activity events in (email activity + sends + unsubscribes) | ${total.toLocaleString('en')} | ${seconds.toFixed(1)} s | ${rate(total, seconds)} | |`);
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
