/**
 * "Empty it in the tools" after archiving (#30), end to end against the sandboxes on both engines: a console segment
 * pushed by a job to HubSpot lists, a Salesforce campaign, Mailchimp tags and Segment is archived; the dry run of its
 * emptying plans one remove per member each tool holds and sends nothing; emptying leaves every tool holding none of
 * them (recorded as a run and in the activity log); a second call, through the API and the CLI, sends nothing.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { loadConfig, type Config } from '../../../config/index.js';
import * as hubspot from '../../../connectors/hubspot/index.js';
import * as mailchimp from '../../../connectors/mailchimp/index.js';
import * as salesforce from '../../../connectors/salesforce/index.js';
import * as segment from '../../../connectors/segment/index.js';
import { listActivity } from '../../../core/activity/index.js';
import { archiveStoredSegment, createStoredSegment, openStore, readRun, type Store } from '../../../core/index.js';
import { createContext, type DestinationDefinition } from '../../../plugins/index.js';
import { createWorld } from '../../../plugins/sandbox/index.js';
import { createServer } from '../../../server/index.js';
import { runJob } from '../../../sync/index.js';
import { engines, storeYaml, type StoreLocation } from '../../support/engines.js';
import { tempDir } from '../../support/temp.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const ADMIN = 'empty-admin-token-4f1c8a2e9d3b7a60';
const READ = 'empty-read-token-9b2d6e1f0c5a8e47';
const KEY = 'recent_buyers';
const NAME = 'Recent buyers';
const RULE = { event: 'purchase', count: { gte: 1 }, within: '365d' };
const DESTINATIONS = ['hubspot_lists', 'mailchimp_tags', 'salesforce_campaigns', 'segment'];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface EmptyAnswer {
  status: string;
  dryRun: boolean;
  runId: number | null;
  removed: number;
  rejected: number;
  destinations: {
    destination: string;
    held: number;
    status: string;
    removed: number;
    rejected: number;
    pending: number;
    sample: { email: string | null }[];
  }[];
  notInConfig: string[];
}

for (const engine of engines) {
  describe(`emptying an archived segment in the tools (${engine.name})`, () => {
    const world = createWorld({ seed: 'empty-segment', people: 300 });
    let place: StoreLocation;
    let dir: string;
    let file: string;
    let config: Config;
    let store: Store;
    let hs: hubspot.HubSpotSandbox;
    let sf: salesforce.SalesforceSandbox;
    let mc: mailchimp.MailchimpSandbox;
    let sg: segment.SegmentSandbox;
    let app: ReturnType<typeof createServer>;
    const registry = builtinRegistry();

    const recorders = () => [hs.recorder, sf.recorder, mc.recorder, sg.recorder];
    const requestsSeen = () => recorders().reduce((n, r) => n + r.count(), 0);
    const clearRecorders = () => recorders().forEach((r) => r.clear());

    const empty = async (body: object, token = ADMIN, key = KEY) =>
      app.request(`/segments/${key}/empty`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });

    /** Contacts each destination holds of the segment, as its delivered state says. */
    const held = async (): Promise<Record<string, number>> => {
      const rows = (await store.all(
        `SELECT destination, COUNT(*) AS n FROM delivered_state WHERE segment_key = ? AND status = 'delivered'
         GROUP BY destination ORDER BY destination`,
        [KEY],
      )) as { destination: string; n: number | string }[];
      return Object.fromEntries(rows.map((r) => [r.destination, Number(r.n)]));
    };

    /** What each tool itself holds of the segment: list members, campaign members, tagged members, true traits. */
    const inTools = async (): Promise<Record<string, number>> => {
      const readBack = async (name: string) => {
        const connection = config.destinations[name]!;
        const destination = registry.destination(connection.connector) as DestinationDefinition;
        const members = await destination.readMembership?.(
          { key: KEY, name: NAME },
          connection.config as never,
          createContext({ connection: name, logger: quiet }),
        );
        return members?.length ?? 0;
      };
      const list = [...hs.portal.lists.values()].find((l) => l.name === `segflow: ${NAME}`);
      return {
        hubspot_lists: list?.members.size ?? 0,
        mailchimp_tags: await readBack('mailchimp_tags'),
        salesforce_campaigns: await readBack('salesforce_campaigns'),
        segment: sg.workspace.profileIds().filter((id) => sg.workspace.profile(id)?.traits[KEY] === true).length,
      };
    };

    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin/segflow.js'), 'segments', 'empty', file, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });

    beforeAll(async () => {
      hs = await hubspot.startSandbox({
        world,
        limits: { requestsPerInterval: 100_000, searchPerSecond: 100_000, daily: 10_000_000 },
      });
      sf = await salesforce.startSandbox({ world });
      mc = await mailchimp.startSandbox({ world });
      sg = await segment.startSandbox({ seed: 'empty-segment' });
      place = await engine.fresh();
      dir = tempDir('segflow-empty-');
      const fast = '{ requests: 100000, interval: 10s }';
      const hsConfig = JSON.stringify({ ...hubspot.sandboxConfig(hs), searchPerSecond: 10_000 });
      const mcConfig = JSON.stringify(mailchimp.sandboxConfig(mc));
      const sfConfig = JSON.stringify(salesforce.sandboxConfig(sf));
      file = join(dir, 'segflow.yaml');
      writeFileSync(
        file,
        `store: ${storeYaml(place.location)}
sources:
  hubspot: { connector: hubspot, config: ${hsConfig}, rate_limit: ${fast} }
  salesforce: { connector: salesforce, config: ${sfConfig} }
  mailchimp: { connector: mailchimp, config: ${mcConfig} }
destinations:
  hubspot_lists:
    connector: hubspot
    config: ${JSON.stringify({ ...hubspot.sandboxConfig(hs), listPrefix: 'segflow: ' })}
    identities_from: hubspot
    rate_limit: ${fast}
  salesforce_campaigns: { connector: salesforce, config: ${sfConfig}, identities_from: salesforce }
  mailchimp_tags:
    connector: mailchimp
    config: ${JSON.stringify({ ...mailchimp.sandboxConfig(mc), audienceId: world.audiences[0]!.id, membershipAs: 'tags' })}
    identities_from: mailchimp
  segment: { connector: segment, config: ${JSON.stringify(segment.sandboxConfig(sg))} }
segments:
  - { key: subscribed, name: Subscribed, rule: { trait: email_consent, eq: subscribed } }
jobs:
  nightly:
    steps:
      - read: { sources: [hubspot, salesforce, mailchimp], mode: incremental }
      - compute: {}
${DESTINATIONS.map((d) => `      - push: { destination: ${d}, console_segments: [${KEY}], mode: mirror }`).join('\n')}
server:
  admin_token_env: EMPTY_ADMIN_TOKEN
  read_token_env: EMPTY_READ_TOKEN
`,
      );
      config = await loadConfig(file, { registry, env: {} });
      store = await openStore(place.location);
      await createStoredSegment(store, { key: KEY, name: NAME, rule: RULE, tags: [] }, 'admin');
      const run = await runJob(config, 'nightly', { registry, now: new Date(world.now), computeIn: 'here' });
      expect(run.status, run.error ?? JSON.stringify(run.steps.filter((s) => s.kind === 'push'))).toBe('succeeded');
      app = createServer({
        config,
        store,
        registry,
        logger: quiet,
        env: { EMPTY_ADMIN_TOKEN: ADMIN, EMPTY_READ_TOKEN: READ },
        now: () => new Date(world.now),
        startJob: () => Promise.reject(new Error('no job runs in this test')),
      });
    }, 300_000);

    afterAll(async () => {
      await store?.close();
      for (const tool of [hs, sf, mc, sg]) await tool?.close();
      await place?.remove();
    }, 60_000);

    it('refuses a live segment, a config segment, an unknown one and the read token, sending nothing', async () => {
      clearRecorders();
      const live = await empty({ dryRun: true });
      expect(live.status).toBe(409);
      expect(((await live.json()) as { error: { message: string } }).error.message).toContain('not archived');
      const fromConfig = await empty({}, ADMIN, 'subscribed');
      expect(fromConfig.status).toBe(409);
      expect(((await fromConfig.json()) as { error: { message: string } }).error.message).toContain('config file');
      expect((await empty({}, ADMIN, 'no_such_segment')).status).toBe(404);
      expect((await empty({ dryRun: true }, READ)).status).toBe(403);
      expect(requestsSeen()).toBe(0);
    });

    it('archived: the dry run plans a remove for each member every tool holds, and sends nothing', async () => {
      const before = await held();
      expect(Object.keys(before)).toEqual(DESTINATIONS);
      for (const d of DESTINATIONS) expect(before[d], d).toBeGreaterThan(0);
      // the tools hold what the delivered state says
      expect(await inTools()).toEqual(before);
      await archiveStoredSegment(store, KEY, 1, 'admin', { archived: true });

      clearRecorders();
      const response = await empty({ dryRun: true });
      expect(response.status).toBe(200);
      const plan = (await response.json()) as EmptyAnswer;
      expect(plan).toMatchObject({ status: 'planned', dryRun: true, runId: null, notInConfig: [] });
      expect(Object.fromEntries(plan.destinations.map((d) => [d.destination, d.removed]))).toEqual(before);
      expect(Object.fromEntries(plan.destinations.map((d) => [d.destination, d.held]))).toEqual(before);
      expect(plan.removed).toBe(Object.values(before).reduce((a, b) => a + b, 0));
      for (const d of plan.destinations) expect(d.sample.length, d.destination).toBe(Math.min(10, d.removed));
      // the CLI's dry run says the same, destination by destination, with some of the people
      const fromCli = cli(KEY, '--dry-run');
      expect(fromCli.status, fromCli.stderr).toBe(0);
      const lines = fromCli.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`dry run: emptying segment ${KEY} (${NAME}) in the tools would remove (nothing was sent)`);
      for (const d of DESTINATIONS) expect(lines).toContain(`  ${d}: ${before[d]} to remove of ${before[d]} held`);
      expect(lines.filter((l) => l.startsWith('    - ')).length).toBe(
        plan.destinations.reduce((n, d) => n + d.sample.length, 0),
      );
      expect(requestsSeen(), 'a dry run sends nothing').toBe(0);
      expect(await held()).toEqual(before);
    });

    it('empties every tool, records the run and the activity, and a second call sends nothing', async () => {
      const before = await held();
      const response = await empty({});
      expect(response.status).toBe(200);
      const done = (await response.json()) as EmptyAnswer;
      expect(done).toMatchObject({ status: 'succeeded', dryRun: false, rejected: 0 });
      expect(Object.fromEntries(done.destinations.map((d) => [d.destination, d.removed]))).toEqual(before);
      expect(await inTools()).toEqual(Object.fromEntries(DESTINATIONS.map((d) => [d, 0])));
      // Segment saw the exit as the trait set false on each member's profile
      expect(sg.workspace.profileIds().filter((id) => sg.workspace.profile(id)?.traits[KEY] === false).length).toBe(
        before.segment,
      );
      expect(await held()).toEqual({});

      const run = await readRun(store, done.runId!);
      expect(run).toMatchObject({ job: `empty:${KEY}`, status: 'succeeded' });
      expect(run?.counts.removed).toBe(done.removed);
      const actions = (await listActivity(store, { limit: 20, offset: 0 })).entries.map((e) => [e.action, e.target]);
      expect(actions).toEqual(
        expect.arrayContaining([
          ['segment.empty', KEY],
          ['segment.empty_dry_run', KEY],
        ]),
      );
      // the segment's page shows the emptying as each destination's last delivery
      const page = (await (
        await app.request(`/segments/${KEY}`, { headers: { Authorization: `Bearer ${READ}` } })
      ).json()) as { deliveries: { destination: string; removed: number; runId: number }[] };
      expect(page.deliveries.map((d) => [d.destination, d.removed, d.runId]).sort()).toEqual(
        DESTINATIONS.map((d) => [d, before[d], done.runId]),
      );

      clearRecorders();
      const again = (await (await empty({})).json()) as EmptyAnswer;
      expect(again).toMatchObject({ status: 'nothing', removed: 0, runId: null, destinations: [] });
      const fromCli = cli(KEY, '--json');
      expect(fromCli.status, fromCli.stderr).toBe(0);
      expect(JSON.parse(fromCli.stdout)).toMatchObject({ status: 'nothing', removed: 0, destinations: [] });
      expect(requestsSeen(), 'a second emptying sends nothing').toBe(0);
    });
  });
}
