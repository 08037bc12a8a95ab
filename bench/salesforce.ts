/**
 * Salesforce connector benchmark: contacts and activities in (records/second through jsforce against the sandbox
 * org), membership changes out as CampaignMembers (write calls against the minimum the 200-record collection cap
 * allows), API requests against the org's daily allocation (raised for the run, and said so), and a second
 * unchanged run that must make zero write calls.
 */
import type { Benchmark } from './run.js';
import { createContext, type ContactIdentity, type Logger, type MembershipChange, type StreamState } from '../plugins/index.js';
import { salesforceId } from '../plugins/sandbox/index.js';
import { classifySalesforceError, destination, salesforceSpec, sandboxConfig, source, startSandbox } from '../connectors/salesforce/index.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const contacts = toy ? 5_000 : 100_000;
    const activities = toy ? 20_000 : 1_000_000;
    const changes = toy ? 2_000 : 100_000;
    const allocation = 10_000_000;
    const sandbox = await startSandbox({ seed: 'bench', people: toy ? 200 : 2_000, limits: { dailyRequests: allocation } });
    try {
      const org = sandbox.org;
      const base = org.now() - 200 * 86_400_000;
      const existingContacts = org.table('Contact').size;
      for (let n = existingContacts; n < contacts; n++) {
        const at = base + n * 97;
        org.put('Contact', { Id: salesforceId('003', 90_000_000 + n), IsDeleted: false, CreatedDate: at, LastModifiedDate: at, SystemModstamp: at, FirstName: 'Bench', LastName: `Person ${n}`, Email: `bench.${n}@example.com`, HasOptedOutOfEmail: false });
      }
      const people = [...org.table('Contact').values()].filter((c) => !c.IsDeleted).map((c) => String(c.Id));
      const existingTasks = org.table('Task').size;
      for (let n = existingTasks; n < activities; n++) {
        const at = base + Math.floor(n * 11.3);
        org.put('Task', { Id: salesforceId('00T', 90_000_000 + n), IsDeleted: false, CreatedDate: at, LastModifiedDate: at, SystemModstamp: at, WhoId: people[n % people.length] as string, Subject: 'Call', Status: 'Completed', TaskSubtype: 'Call', Type: 'Call', ActivityDate: at, CallDurationInSeconds: 300 });
      }
      log(`org: ${org.table('Contact').size} contacts, ${org.table('Task').size} tasks (world people plus generated rows)`);
      const config = salesforceSpec.parse(sandboxConfig(sandbox));
      const ctx = createContext({ connection: 'bench-salesforce', logger: quiet, classifyError: classifySalesforceError });
      const streams = source.streams(config);
      const finals = new Map<string, StreamState | undefined>();
      const rows: string[] = [];
      for (const name of ['contacts', 'tasks']) {
        const stream = streams.find((s) => s.name === name);
        if (!stream) continue;
        const started = performance.now();
        let count = 0;
        let last: StreamState | undefined;
        for await (const message of stream.read({ config, mode: 'full_refresh', state: undefined }, ctx)) {
          if (message.type === 'record') count++;
          else last = message.state;
        }
        const seconds = (performance.now() - started) / 1000;
        finals.set(name, last);
        log(`${name}: ${count} records in ${seconds.toFixed(1)} s`);
        rows.push(`| read ${name} | ${count.toLocaleString('en-US')} | ${seconds.toFixed(1)} s | ${Math.round(count / seconds).toLocaleString('en-US')} records/s |`);
      }
      const readRequests = org.requestsToday;

      const segment = { key: 'bench', name: 'Bench segment' };
      const members: ContactIdentity[] = people.slice(0, changes).map((id, k) => ({ contactId: `c${k}`, email: null, externalIds: [id] }));
      sandbox.recorder.clear();
      const started = performance.now();
      let accepted = 0;
      for (let i = 0; i < members.length; i += destination.batchSize) {
        const batch: MembershipChange[] = members.slice(i, i + destination.batchSize).map((contact) => ({ op: 'add', contact }));
        const results = await destination.write({ segment, changes: batch }, config, ctx);
        accepted += results.filter((r) => r.status === 'accepted').length;
      }
      const writeSeconds = (performance.now() - started) / 1000;
      const isWrite = (method: string, path: string) => method !== 'GET' && path.includes('/composite/sobjects');
      const writeCalls = sandbox.recorder.requests.filter((r) => isWrite(r.method, r.path)).length;
      const minimum = Math.ceil(members.length / 200) + 1;
      log(`writes: ${accepted} accepted in ${writeSeconds.toFixed(1)} s, ${writeCalls} write calls (minimum ${minimum})`);

      sandbox.recorder.clear();
      for (const name of ['contacts', 'tasks']) {
        const stream = streams.find((s) => s.name === name);
        if (!stream) continue;
        for await (const message of stream.read({ config, mode: 'incremental', state: finals.get(name) }, ctx)) void message;
      }
      const held = new Set((await destination.readMembership(segment, config, ctx)).map((m) => m.externalId));
      const second = members.filter((m) => !held.has(m.externalIds[0] ?? '')).map((contact): MembershipChange => ({ op: 'add', contact }));
      for (let i = 0; i < second.length; i += destination.batchSize) {
        await destination.write({ segment, changes: second.slice(i, i + destination.batchSize) }, config, ctx);
      }
      const secondWrites = sandbox.recorder.requests.filter((r) => isWrite(r.method, r.path)).length;

      rows.push(`| write membership adds | ${accepted.toLocaleString('en-US')} | ${writeSeconds.toFixed(1)} s | ${Math.round(accepted / writeSeconds).toLocaleString('en-US')} changes/s |`);
      return [
        `Sandbox org with ${contacts.toLocaleString('en-US')} contacts and ${activities.toLocaleString('en-US')} activities (Tasks); daily allocation raised to ${allocation.toLocaleString('en-US')} requests for the run (Salesforce's default is far lower).`,
        '',
        '| step | records | time | rate |',
        '| --- | ---: | ---: | ---: |',
        ...rows,
        '',
        '| figure | value |',
        '| --- | ---: |',
        `| write calls | ${writeCalls} |`,
        `| minimum write calls (200 per collection + 1 campaign create) | ${minimum} |`,
        `| write calls / minimum (target ≤ 1.05) | ${(writeCalls / minimum).toFixed(3)} |`,
        `| API requests for the reads | ${readRequests.toLocaleString('en-US')} |`,
        `| API requests used / allocation | ${org.requestsToday.toLocaleString('en-US')} / ${allocation.toLocaleString('en-US')} |`,
        `| write calls on a second unchanged run | ${secondWrites} |`,
      ].join('\n');
    } finally {
      await sandbox.close();
    }
  },
};
