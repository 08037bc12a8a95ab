/**
 * One scenario per kind of mistake a user makes in a config file: each error must name the file, the line and the
 * column where the mistake is, and say what was expected.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigFileError, formatConfigErrors, loadConfig, type ConfigIssue } from '../../config/index.js';
import { MAX_CONFIG_BYTES } from '../../config/yaml-file.js';
import { ConfigError } from '../../plugins/index.js';
import { positionOf, testRegistry, writeFiles } from './helpers.js';

const SHOP = `sources:
  shop:
    connector: file
    config:
      contacts: { path: contacts.csv }
`;

async function issuesOf(
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<{ dir: string; issues: ConfigIssue[]; error: ConfigFileError }> {
  const dir = writeFiles(files);
  const error = await loadConfig(join(dir, 'segflow.yaml'), { registry: testRegistry(), env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigFileError);
  expect(error).toBeInstanceOf(ConfigError);
  return { dir, issues: (error as ConfigFileError).issues, error: error as ConfigFileError };
}

/** The one issue at the position of `needle` in `text`. */
function issueAt(issues: ConfigIssue[], text: string, needle: string, file = 'segflow.yaml'): ConfigIssue {
  const { line, column } = positionOf(text, needle);
  const found = issues.filter((i) => i.file.endsWith(file) && i.line === line && i.column === column);
  expect(found, `an issue at ${line}:${column} among ${JSON.stringify(issues, null, 1)}`).toHaveLength(1);
  return found[0] as ConfigIssue;
}

describe('located config errors', () => {
  it('an unknown key names its position and suggests the key that was meant', async () => {
    const text = `${SHOP}    stremas: [contacts]\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, 'stremas');
    expect(issue.file).toMatch(/segflow\.yaml$/);
    expect(issue.path).toBe('sources.shop.stremas');
    expect(issue.message).toContain('unknown key "stremas"');
    expect(issue.message).toContain('did you mean "streams"?');
    expect(issue.message).toContain('expected one of: connector, plugin, config, rate_limit, streams');
  });

  it('a value of the wrong type says what type was expected', async () => {
    const text = `server:\n  port: eighty\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, 'eighty');
    expect(issue.path).toBe('server.port');
    expect(issue.message).toMatch(/expected a (whole )?number, got a string/);
  });

  it('a CORS origin with a path is refused at its position, saying what an origin is', async () => {
    const text = `server:\n  tracking:\n    cors_origins: ["https://shop.example.com/cart"]\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, '"https://shop.example.com/cart"');
    expect(issue.path).toBe('server.tracking.cors_origins[0]');
    expect(issue.message).toMatch(/origin like https:\/\/shop\.example\.com \(scheme and host, no path\)/);
  });

  it('a missing environment variable is named, at the ${ that refers to it', async () => {
    const text = `sources:\n  shop:\n    connector: file\n    config:\n      contacts: { path: "\${SHOP_DIR}/contacts.csv" }\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, '${SHOP_DIR}');
    expect(issue.message).toContain('environment variable SHOP_DIR is not set');
    expect(issue.message).toContain('${SHOP_DIR:-value}');
    expect(issue.path).toBe('sources.shop.config.contacts.path');
  });

  it('a bad cron expression is quoted with the shape a valid one has', async () => {
    const text = `${SHOP}jobs:\n  nightly:\n    schedule: "0 25 * * *"\n    steps:\n      - read: { sources: [shop] }\n`;
    const { issues, dir } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, '"0 25 * * *"');
    expect(issue.path).toBe('jobs.nightly.schedule');
    expect(issue.message).toContain('"0 25 * * *" is not a valid cron expression');
    expect(issue.message).toContain('(expected 5 or 6 fields like "0 2 * * *")');
    expect(issue.message).toContain('hour');
    expect(issue.file).toBe(join(dir, 'segflow.yaml').replace(`${process.cwd()}/`, ''));
  });

  it('a cron expression with too few fields says how many it has', async () => {
    const text = `${SHOP}jobs:\n  nightly:\n    schedule: "0 2 *"\n    steps:\n      - read: { sources: [shop] }\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    expect(issueAt(issues, text, '"0 2 *"').message).toContain('has 3 fields');
  });

  it('a time zone that does not exist suggests the closest IANA name', async () => {
    const text = `${SHOP}jobs:\n  nightly:\n    schedule: "0 2 * * *"\n    timezone: Europe/Pariss\n    steps:\n      - read: { sources: [shop] }\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, 'Europe/Pariss');
    expect(issue.path).toBe('jobs.nightly.timezone');
    expect(issue.message).toContain('"Europe/Pariss" is not a time zone');
    expect(issue.message).toContain('expected an IANA name');
    expect(issue.message).toContain('did you mean "Europe/Paris"?');
  });

  it('an unknown connector lists the registered ones and suggests the closest', async () => {
    const text = `sources:\n  shop:\n    connector: fiel\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, 'fiel');
    expect(issue.path).toBe('sources.shop.connector');
    expect(issue.message).toContain('unknown source connector "fiel"');
    expect(issue.message).toContain('did you mean "file"?');
    expect(issue.message).toContain('expected one of: file, vault');
  });

  it('a destination-only connector used as a source says so', async () => {
    const registry = testRegistry();
    expect(registry.has('vault', 'destination')).toBe(true);
    const text = `destinations:\n  out:\n    connector: file\n    config: {}\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    expect(issueAt(issues, text, 'file').message).toContain('connector "file" is a source, not a destination');
  });

  it('a plugin package that is not installed is located at plugin: with the npm command to fix it', async () => {
    const text = `sources:\n  desk:\n    plugin: "@acme/segflow-nonexistent-zendesk"\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, '"@acme/segflow-nonexistent-zendesk"');
    expect(issue.path).toBe('sources.desk.plugin');
    expect(issue.message).toContain('plugin package "@acme/segflow-nonexistent-zendesk" is not installed');
    expect(issue.message).toContain('npm install @acme/segflow-nonexistent-zendesk');
  });

  it('an installed package that exports no connector is refused at plugin:', async () => {
    const text = `sources:\n  desk:\n    plugin: yaml\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, 'yaml\n');
    expect(issue.message).toContain('plugin package "yaml" exports no connector');
    expect(issue.message).toContain('defineSource()');
  });

  it("a connector config that fails the connector's spec is located inside config:", async () => {
    const text = `sources:\n  shop:\n    connector: file\n    config:\n      contacts: { path: contacts.csv }\n      pageSize: -5\n      formt: csv\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const size = issueAt(issues, text, '-5');
    expect(size.path).toBe('sources.shop.config.pageSize');
    expect(size.message).toContain('expected a number more than 0');
    const typo = issueAt(issues, text, 'formt');
    expect(typo.message).toContain('unknown key "formt"');
    expect(typo.message).toContain('contacts, events, accounts, source, pageSize');
  });

  it("a rule of the connector's spec that spans fields is reported at the config block", async () => {
    const text = `sources:\n  shop:\n    connector: file\n    config:\n      source: shopify\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, 'source: shopify');
    expect(issue.message).toContain('name a contacts file, an events file, an accounts file, or several');
  });

  it('a job that pushes an unknown segment names it and suggests the closest key', async () => {
    const text = `${SHOP}segments:\n  - key: vip\n    rule: { feature: monetary_365d, gt: 1000 }\njobs:\n  nightly:\n    steps:\n      - read: { sources: [shop] }\n      - compute: { segments: [vpi] }\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issueAt(issues, text, 'vpi');
    expect(issue.path).toBe('jobs.nightly.steps[1].compute.segments[0]');
    expect(issue.message).toContain('unknown segment "vpi"; did you mean "vip"? (expected one of: vip)');
  });

  it('a job naming unknown sources and destinations, and a destination with unknown identities_from, are all reported', async () => {
    const text = `${SHOP}destinations:\n  lists:\n    connector: vault\n    config: { apiKey: k, list: l }\n    identities_from: shp\njobs:\n  nightly:\n    steps:\n      - read: { sources: [shopp] }\n      - push: { destination: list, segments: [] }\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    expect(issueAt(issues, text, 'shp').message).toContain('unknown source "shp"; did you mean "shop"?');
    expect(issueAt(issues, text, 'shopp').message).toContain('unknown source "shopp"; did you mean "shop"?');
    expect(issueAt(issues, text, 'list,').message).toContain('unknown destination "list"; did you mean "lists"?');
    expect(issueAt(issues, text, '[]').message).toContain('expected at least 1 item');
  });

  it('a YAML syntax error is located and reported alone', async () => {
    const text = `sources:\n  shop:\n    connector: file\n   config: {}\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    expect(issues).toHaveLength(1);
    const issue = issues[0] as ConfigIssue;
    expect(issue.line).toBe(4);
    expect(issue.message).toContain('expected valid YAML');
  });

  it('a key written twice is a located error', async () => {
    const text = `jobs: {}\nsources: {}\njobs: {}\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    expect(issues[0]?.message).toContain('duplicate key');
    expect(issues[0]?.line).toBe(3);
  });

  it('a missing required key names what is missing', async () => {
    const text = `${SHOP}jobs:\n  nightly:\n    schedule: "0 2 * * *"\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const issue = issues.find((i) => i.path === 'jobs.nightly.steps');
    expect(issue?.message).toBe('missing (expected a list)');
    expect(issue?.line).toBe(positionOf(text, 'nightly').line + 1);
  });

  it('mistakes in a rule tree are located at the node, with the operators that are allowed', async () => {
    const text = `segments:\n  vip:\n    rule:\n      all:\n        - { feature: monetary_365d, greater: 1000 }\n        - { event: email_open, count: { lt: 2 }, within: 30 days }\n        - { trait: country, in: FR }\n  vip2:\n    rule: { not: { in_segment: churnd } }\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    const greater = issueAt(issues, text, 'greater');
    expect(greater.path).toBe('segments.vip.rule.all[0].greater');
    expect(greater.message).toContain('unknown key "greater"');
    expect(greater.message).toContain('eq, ne, gt, gte, lt, lte, in, contains, exists, between, within, before');
    expect(issueAt(issues, text, '30 days').message).toContain('expected a duration like 30d');
    expect(issueAt(issues, text, 'FR').message).toContain('expected a non-empty list of values');
    expect(issueAt(issues, text, 'churnd').message).toContain('unknown segment "churnd"');
  });

  it('mistakes in an included segment file name that file', async () => {
    const main = `segments:\n  - include: segments/more.yaml\n  - key: vip\n    rule: { feature: monetary_365d, gt: 1000 }\n  - include: segments/missing.yaml\n`;
    const more = `segments:\n  - key: vip\n    rule: { score: rfm, gte: 4 }\n  - key: quiet\n    holdout: 150%\n    rule: { event: email_open, count: 0, within: 60d }\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': main, 'segments/more.yaml': more });
    const holdout = issues.find((i) => i.file.endsWith('more.yaml') && i.path === 'segments[1].holdout');
    expect(holdout).toMatchObject(positionOf(more, '150%'));
    expect(holdout?.message).toContain('expected a share like 10%');
    const duplicate = issues.find((i) => i.message.includes('duplicate segment key "vip"'));
    expect(duplicate?.file).toMatch(/segflow\.yaml$/);
    expect(duplicate?.message).toMatch(/first defined at .*more\.yaml:2:/);
    const missing = issueAt(issues, main, 'segments/missing.yaml');
    expect(missing.message).toContain('cannot read "');
    expect(missing.message).toContain('no such file');
  });

  it('an include cycle is refused', async () => {
    const { issues } = await issuesOf({
      'segflow.yaml': 'segments:\n  - include: a.yaml\n',
      'a.yaml': 'segments:\n  - include: segflow.yaml\n',
    });
    expect(issues.some((i) => i.file.endsWith('a.yaml') && i.message.includes('includes itself'))).toBe(true);
  });

  it('reports every mistake at once, in file order, and formats them one per line', async () => {
    const text = `sourcs: {}\nserver:\n  port: 99999\njobs:\n  a:\n    schedule: "bad"\n    steps: [{ compute: {} }]\n`;
    const { issues, error } = await issuesOf({ 'segflow.yaml': text });
    expect(issues.map((i) => i.line)).toEqual([1, 3, 6]);
    const lines = formatConfigErrors(error).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/segflow\.yaml:1:1: sourcs: unknown key "sourcs"; did you mean "sources"\?/);
    expect(lines[1]).toMatch(
      /segflow\.yaml:3:9: server\.port: 99999 is out of range \(expected a number at most 65535\)/,
    );
    expect(lines[3]).toBe('3 errors in config');
  });

  it('a token written in the server section is refused with a pointer to the _env form', async () => {
    const text = `server:\n  admin_token: hunter22hunter22\n`;
    const { issues, error } = await issuesOf({ 'segflow.yaml': text });
    expect(issueAt(issues, text, 'admin_token').message).toContain('admin_token_env');
    expect(formatConfigErrors(error)).not.toContain('hunter22hunter22');
  });

  it('a config file over the size limit is refused before it is read, at its first line', async () => {
    const text = `# ${'x'.repeat(MAX_CONFIG_BYTES)}\nsources: {}\n`;
    const { issues } = await issuesOf({ 'segflow.yaml': text });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 1, column: 1 });
    expect(issues[0]!.message).toMatch(
      /cannot read the config file: the file is 4\.0 MiB, over the 4 MiB a config file may be/,
    );
  });

  it('a segments file over the size limit is reported where it is included', async () => {
    const text = 'segments:\n  - include: huge.yaml\n';
    const { issues } = await issuesOf({ 'segflow.yaml': text, 'huge.yaml': `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n` });
    expect(issueAt(issues, text, 'huge.yaml').message).toContain('over the 4 MiB a config file may be');
  });
});
