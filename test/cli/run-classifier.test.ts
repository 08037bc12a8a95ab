// `segflow run` as a user runs it, against a HubSpot sandbox whose daily API limit runs out mid-read: the run stops at
// once with HubSpot's own reason (the connector's classifier reads HubSpot's DAILY policy), instead of waiting the
// 429 out as if it were the ten-second window (the default classifier's reading, which ends after minutes).
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandboxConfig, startSandbox, type HubSpotSandbox } from '../../connectors/hubspot/index.js';
import { tempDir } from '../support/temp.js';

const ROOT = resolve(import.meta.dirname, '../..');

let dir: string;
let sandbox: HubSpotSandbox;

beforeEach(async () => {
  dir = tempDir('segflow-run-classifier-');
  // the portal has used up its day: every API call is answered 429 with HubSpot's DAILY policy
  sandbox = await startSandbox({
    seed: 'run-classifier',
    people: 40,
    limits: { requestsPerInterval: 100_000, searchPerSecond: 100_000, daily: 0 },
  });
});

afterEach(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI in a child process (asynchronously: the sandbox answers from this process). */
function segflow(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/segflow.js'), ...args],
      { cwd: ROOT, encoding: 'utf8', timeout: 90_000 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('segflow run against a HubSpot sandbox out of its daily limit', () => {
  it('stops the read with HubSpot’s daily-limit reason', { timeout: 120_000 }, async () => {
    const hubspot = JSON.stringify(sandboxConfig(sandbox));
    const file = join(dir, 'segflow.yaml');
    writeFileSync(
      file,
      `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  hubspot: { connector: hubspot, config: ${hubspot} }
jobs:
  pull:
    steps:
      - read: { sources: [hubspot], mode: full }
`,
    );
    const run = await segflow(['run', file, 'pull']);

    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toContain('HubSpot daily limit reached');
    expect(sandbox.limiter.counts().refusedBy.daily).toBeGreaterThan(0);
  });
});
