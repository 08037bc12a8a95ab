// Account segments written in YAML: loaded with the starter include, checked with located errors, computed by a job's
// compute step and pushed by its push step (HubSpot company lists here), a second run sending nothing.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS, builtinRegistry } from '../../cli/builtins.js';
import { ConfigFileError, loadConfig } from '../../config/index.js';
import {
  destination as hubspot,
  sandboxConfig,
  startSandbox,
  type HubSpotSandbox,
} from '../../connectors/hubspot/index.js';
import { compileAccountSegments, openStore } from '../../core/index.js';
import { createContext, createRegistry } from '../../plugins/index.js';
import { tasksOf } from '../../sync/jobs/index.js';
import { pushOfTask } from '../../sync/jobs/on-workers.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { positionOf } from '../config/helpers.js';
import { tempDir } from '../support/temp.js';
import { quiet } from './tools.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('segflow-account-config-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const write = (text: string) => {
  const file = join(dir, 'segflow.yaml');
  writeFileSync(file, text);
  return file;
};

describe('account segments in the config', () => {
  it('the starter include brings "Expansion-ready accounts" and "Accounts going quiet" as account segments', async () => {
    const file = write(`segments:\n  - include: ${JSON.stringify(resolve('config/segments/starter.yaml'))}\n`);
    const config = await loadConfig(file, { registry: builtinRegistry(), env: {} });
    expect(config.account_segments?.map((s) => [s.key, s.name])).toEqual([
      ['expansion_ready', 'Expansion-ready accounts'],
      ['going_quiet', 'Accounts going quiet'],
    ]);
    expect(config.account_segments?.[0]?.origin.file).toMatch(/starter\.yaml$/);
    const compiled = compileAccountSegments(config.account_segments ?? [], config.segments, { now: new Date() });
    expect(compiled.map((c) => c.key)).toEqual(['expansion_ready', 'going_quiet']);
    expect(compiled[0]?.params).toContain(3);
  });

  it('reports shape mistakes, unknown account segments in pushes and clashing keys at their file:line:col', async () => {
    const text = `segments:
  - key: vip
    rule: { trait: plan, eq: pro }
account_segments:
  - key: big
    rule: { feature: members, gtee: 2 }
  - key: vip
    rule: { trait: industry, eq: Software }
destinations:
  lists: { connector: segment, config: { writeKey: k } }
jobs:
  nightly:
    steps:
      - push: { destination: lists, account_segments: [bigg] }
`;
    const file = write(text);
    const error = await loadConfig(file, { registry: builtinRegistry(), env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    const issues = (error as ConfigFileError).issues.map((i) => ({
      line: i.line,
      column: i.column,
      message: i.message,
    }));
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ...positionOf(text, 'gtee'), message: expect.stringContaining('"gte"') }),
        expect.objectContaining({
          ...positionOf(text, 'vip', 2),
          message: expect.stringContaining('account segment key "vip" is already a segment\'s key'),
        }),
        expect.objectContaining({
          ...positionOf(text, 'bigg'),
          message: expect.stringContaining('"bigg"'),
        }),
      ]),
    );
  });

  it('`segflow validate` names an unknown account feature at its file:line:col', { timeout: 60_000 }, () => {
    const text = `account_segments:
  - key: quiet
    rule:
      all:
        - { feature: members, gte: 2 }
        - { feature: engaged_members_99d, eq: 0 }
`;
    const file = write(text);
    let out = '';
    try {
      execFileSync(process.execPath, [resolve('bin/segflow.js'), 'validate', file, '--json'], { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout);
      expect((e as { status?: number }).status).toBe(2);
    }
    const { valid, errors } = JSON.parse(out) as { valid: boolean; errors: { where: string; message: string }[] };
    expect(valid).toBe(false);
    const at = positionOf(text, 'feature: engaged_members_99d');
    expect(errors).toEqual([
      expect.objectContaining({
        where: expect.stringContaining(`segflow.yaml:${at.line}:`),
        message: expect.stringContaining('engaged_members_99d'),
      }),
    ]);
  });
});

describe('account segment pushes on workers', () => {
  it('are one push task per account segment, each pushing only its account segment', async () => {
    const file = write(`destinations:
  lists: { connector: segment, config: { writeKey: k } }
segments:
  - { key: vip, rule: { trait: plan, eq: pro } }
account_segments:
  - { key: large_firms, rule: { trait: employees, gte: 1000 } }
  - { key: quiet_firms, rule: { feature: engaged_members_30d, eq: 0 } }
jobs:
  nightly:
    steps:
      - push: { destination: lists, segments: [vip], account_segments: [large_firms, quiet_firms] }
`);
    const config = await loadConfig(file, { registry: builtinRegistry(), env: {} });
    const tasks = tasksOf(config, 'nightly', { registry: builtinRegistry() });
    expect(tasks.map((t) => t.spec)).toEqual([
      { destination: 'lists', segment: 'vip' },
      { destination: 'lists', segment: 'large_firms', account: true },
      { destination: 'lists', segment: 'quiet_firms', account: true },
    ]);
    const step = config.jobs.nightly!.steps[0]!;
    if (!('push' in step)) throw new Error('expected a push step');
    const pushes = tasks.map((t) => pushOfTask(step.push, t.spec as never));
    expect(pushes.map((p) => [p.segments, p.account_segments])).toEqual([
      [['vip'], undefined],
      [[], ['large_firms']],
      [[], ['quiet_firms']],
    ]);
  });
});

describe('a job computing and pushing account segments', () => {
  let sandbox: HubSpotSandbox;
  beforeEach(async () => {
    sandbox = await startSandbox({
      seed: 'account-job',
      people: 400,
      limits: { requestsPerInterval: 100_000, searchPerSecond: 100_000 },
    });
  });
  afterEach(async () => {
    await sandbox.close();
  });

  it('reaches the HubSpot company list, and a second run sends nothing', { timeout: 120_000 }, async () => {
    const registry = createRegistry([...BUILTIN_CONNECTORS]);
    const hs = JSON.stringify({ ...sandboxConfig(sandbox), searchPerSecond: 10_000 });
    const file = write(`store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  crm: { connector: hubspot, config: ${hs}, streams: [contacts, companies], rate_limit: { requests: 100000, interval: 10s } }
destinations:
  lists: { connector: hubspot, config: ${hs}, identities_from: crm, rate_limit: { requests: 100000, interval: 10s } }
account_segments:
  - key: large_firms
    name: Large firms
    rule: { trait: employees, gte: 1000 }
jobs:
  nightly:
    steps:
      - read: { sources: [crm], mode: incremental }
      - compute: {}
      - push: { destination: lists, account_segments: [large_firms] }
`);
    const config = await loadConfig(file, { registry, env: {} });
    const pushed = (result: JobResult) =>
      result.steps
        .flatMap((s) => (s.kind === 'push' ? s.outcome.segments : []))
        .find((s) => s.segment === 'large_firms');

    const first = await runJob(config, 'nightly', { registry, computeIn: 'here' });
    expect(first.status, first.error).toBe('succeeded');
    const computed = first.steps.find((s) => s.kind === 'compute');
    const size = computed?.kind === 'compute' ? computed.accountSegments?.[0]?.size : undefined;
    expect(size).toBeGreaterThan(5);
    expect(pushed(first)).toMatchObject({ status: 'succeeded', added: size, removed: 0, rejected: 0 });

    const held = (
      (await hubspot.readAccountMembership?.(
        { key: 'large_firms', name: 'Large firms' },
        hubspot.spec.parse(sandboxConfig(sandbox)) as never,
        createContext({ connection: 'lists', logger: quiet }),
      )) ?? []
    )
      .map((m) => String(m.externalId))
      .sort();
    const store = await openStore(config.store.path);
    try {
      const want = (
        (await store.all(
          `SELECT ai.external_id FROM account_memberships m JOIN account_identities ai ON ai.account_id = m.account_id
           WHERE m.segment_key = 'large_firms' AND ai.source = 'hubspot' AND ai.deleted = 0`,
        )) as { external_id: string }[]
      )
        .map((r) => r.external_id)
        .sort();
      expect(held).toEqual(want);
    } finally {
      await store.close();
    }

    const second = await runJob(config, 'nightly', { registry, computeIn: 'here' });
    expect(second.status, second.error).toBe('succeeded');
    expect(pushed(second)).toMatchObject({ added: 0, removed: 0, rejected: 0 });
  });
});
