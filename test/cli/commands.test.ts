/**
 * `segflow validate`, `segflow check`, `segflow run --json` and `segflow schema` as a user runs them: a child process, its output and its exit code.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../config/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

function segflow(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/segflow.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function fileConfig(contactsPath: string): string {
  const dir = tempDir();
  const path = join(dir, 'segflow.yaml');
  writeFileSync(
    path,
    `sources:
  shop:
    connector: file
    config:
      contacts: { path: ${JSON.stringify(contactsPath)} }
segments:
  - key: everyone
    rule: { trait: email, exists: true }
jobs:
  nightly:
    schedule: "0 2 * * *"
    timezone: Europe/Paris
    steps:
      - read: { sources: [shop] }
`,
  );
  return path;
}

describe('segflow validate', () => {
  it('summarises a valid file and exits 0', () => {
    const { code, stdout } = segflow(['validate', 'config/examples/file-only.yaml']);
    expect(code).toBe(0);
    expect(stdout).toContain('config/examples/file-only.yaml is valid');
    expect(stdout).toMatch(/sources\s+1: shop \(file\)/);
    expect(stdout).toMatch(/segments\s+2: buyers, big_spenders \(holdout 10%\)/);
    expect(stdout).toMatch(/nightly: "0 2 \* \* \*" Europe\/London, next \d{4}-\d{2}-\d{2} 02:00/);
  });

  it('prints every located error of an invalid file and exits 2', () => {
    const dir = tempDir();
    const path = join(dir, 'bad.yaml');
    writeFileSync(
      path,
      'sources:\n  shop:\n    connector: fil\njobs:\n  nightly:\n    schedule: "0 25 * * *"\n    steps:\n      - read: { sources: [shop] }\n',
    );
    const { code, stdout, stderr } = segflow(['validate', path]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      `${path}:3:16: sources.shop.connector: unknown source connector "fil"; did you mean "file"?`,
    );
    expect(stderr).toContain(`${path}:6:15: jobs.nightly.schedule: "0 25 * * *" is not a valid cron expression`);
    expect(stderr).toContain('2 errors in config');
  });

  it('--json prints what the file defines as one JSON object', () => {
    const { code, stdout } = segflow(['validate', 'config/examples/file-only.yaml', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      valid: true,
      sources: [{ name: 'shop', connector: 'file' }],
      segments: [
        { key: 'buyers', holdout: 0 },
        { key: 'big_spenders', holdout: 0.1 },
      ],
      jobs: [{ name: 'nightly', schedule: '0 2 * * *', timezone: 'Europe/London' }],
    });
    expect((summary.jobs as { next: string }[])[0]!.next).toMatch(/^\d{4}-\d{2}-\d{2}T0[12]:00:00\.000Z$/);
  });

  it('--json prints the located errors of an invalid file as JSON and exits 2', () => {
    const path = join(tempDir(), 'segflow.yaml');
    writeFileSync(path, 'sources:\n  shop:\n    connector: fil\n');
    const { code, stdout } = segflow(['validate', path, '--json']);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({
      valid: false,
      errors: [expect.objectContaining({ file: path, line: 3, column: 16, path: 'sources.shop.connector' })],
    });
  });

  it('a file that does not exist exits 2 and says so', () => {
    const { code, stderr } = segflow(['validate', 'no/such/segflow.yaml']);
    expect(code).toBe(2);
    expect(stderr).toContain('no/such/segflow.yaml:1:1: cannot read the config file: no such file');
  });

  it('without a file it prints the usage with the exit codes and exits 2', () => {
    const { code, stderr } = segflow(['validate']);
    expect(code).toBe(2);
    expect(stderr).toContain('usage: segflow validate <config.yaml>');
    expect(stderr).toMatch(/exit codes:\n\s+0 .*\n\s+2 /);
  });
});

describe('segflow check', () => {
  it('a file connection whose file is readable is ok, exit 0', () => {
    const dir = tempDir();
    const contacts = join(dir, 'contacts.csv');
    writeFileSync(contacts, 'id,email,updated_at\n1,ada@example.com,2025-01-01T00:00:00Z\n');
    const { code, stdout } = segflow(['check', fileConfig(contacts)]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok\s+source shop\s+\(file\)\n$/);
  });

  it('a missing file fails with the reason, exit 1', () => {
    const missing = join(tempDir(), 'gone.csv');
    const { code, stdout } = segflow(['check', fileConfig(missing), 'shop']);
    expect(code).toBe(1);
    expect(stdout).toContain(`failed  source shop  (file): ${missing} does not exist`);
  });

  it('a connection the file does not define exits 2 and lists the ones it does', () => {
    const { code, stderr } = segflow(['check', fileConfig('x.csv'), 'crm']);
    expect(code).toBe(2);
    expect(stderr).toContain('no connection "crm"');
    expect(stderr).toContain('(it has: shop)');
  });

  it('an invalid config exits 2 with its located errors, before contacting anything', () => {
    const dir = tempDir();
    const path = join(dir, 'segflow.yaml');
    writeFileSync(path, 'sources:\n  shop:\n    connector: file\n    config: { pageSize: 0 }\n');
    const { code, stdout, stderr } = segflow(['check', path]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${path}:4:`);
  });

  it('--json gives each connection its status and reason, and keeps the exit code', () => {
    const dir = tempDir();
    const contacts = join(dir, 'contacts.csv');
    const missing = segflow(['check', fileConfig(contacts), '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual([
      { kind: 'source', name: 'shop', connector: 'file', status: 'failed', reason: `${contacts} does not exist` },
    ]);
    writeFileSync(contacts, 'id,email,updated_at\n1,ada@example.com,2025-01-01T00:00:00Z\n');
    const ok = segflow(['check', fileConfig(contacts), '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([{ kind: 'source', name: 'shop', connector: 'file', status: 'ok' }]);
  });

  it('--help documents the exit codes and exits 0', () => {
    const { code, stdout } = segflow(['check', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/0 +every connection checked is ok/);
    expect(stdout).toMatch(/1 +at least one connection failed/);
    expect(stdout).toMatch(/2 +the config is invalid/);
  });
});

describe('segflow run --json', () => {
  it("prints the run's result as JSON: its status, run id and what each stream loaded", () => {
    const dir = tempDir();
    const contacts = join(dir, 'contacts.csv');
    writeFileSync(
      contacts,
      'id,email,updated_at\n1,ada@example.com,2025-01-01T00:00:00Z\n2,bo@example.com,2025-01-02T00:00:00Z\n',
    );
    const config = fileConfig(contacts);
    writeFileSync(
      config,
      `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }\n` + readFileSync(config, 'utf8'),
    );
    const { code, stdout } = segflow(['run', config, 'nightly', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { job: string; status: string; runId: number; steps: unknown[] };
    expect(result).toMatchObject({ job: 'nightly', status: 'succeeded', runId: 1 });
    expect(result.steps[0]).toMatchObject({
      kind: 'read',
      sources: [{ source: 'shop', streams: [{ stream: 'contacts', counts: { read: 2, inserted: 2 } }] }],
    });
  });
});

describe('segflow schema', () => {
  it('prints a JSON Schema of the config file and exits 0', () => {
    const { code, stdout } = segflow(['schema']);
    expect(code).toBe(0);
    const schema = JSON.parse(stdout) as { $schema: string; properties: Record<string, unknown> };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['sources', 'segments', 'jobs']));
  });
});
