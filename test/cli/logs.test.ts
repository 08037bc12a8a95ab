/**
 * The logs of a long-running command as an operator collects them: `segflow schedule` with stderr not a terminal
 * writes one JSON object per line with an ISO-8601 time and a level, and `--log-level` chooses what is written.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../config/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Starts `segflow schedule` on a config with one nightly job, stops it with SIGTERM once it is up; its stderr lines. */
async function scheduleLogs(): Promise<{ code: number | null; lines: string[] }> {
  const dir = tempDir();
  const config = join(dir, 'segflow.yaml');
  writeFileSync(
    config,
    `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
sources:
  shop:
    connector: file
    config: { contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} } }
jobs:
  nightly:
    schedule: "0 2 * * *"
    timezone: UTC
    steps:
      - read: { sources: [shop] }
`,
  );
  const child = spawn(process.execPath, [join(ROOT, 'bin/segflow.js'), 'schedule', config], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  // One SIGTERM only: a second one during the graceful stop would end the process at once, as a second Ctrl-C does.
  const up = setInterval(() => {
    if (!stderr.includes('scheduled')) return;
    clearInterval(up);
    child.kill('SIGTERM');
  }, 200);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearInterval(up);
  return { code, lines: stderr.split('\n').filter((line) => line.trim() !== '') };
}

describe('logs', () => {
  it('segflow schedule logs JSON lines with an ISO-8601 time and a level, and stops on SIGTERM', async () => {
    const { code, lines } = await scheduleLogs();
    expect(code).toBe(0);
    const entries = lines.map((line) => JSON.parse(line) as { time: string; level: string; message: string });
    expect(entries.map((e) => e.message)).toEqual(expect.arrayContaining(['scheduled', 'scheduler stopped']));
    for (const entry of entries) {
      expect(entry.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(['debug', 'info', 'warn', 'error']).toContain(entry.level);
    }
    expect(entries.find((e) => e.message === 'scheduled')).toMatchObject({ level: 'info', job: 'nightly' });
  }, 60_000);

  it('segflow run logs a failed stream as an error line, which --log-level silent leaves out', () => {
    const dir = tempDir();
    const config = join(dir, 'segflow.yaml');
    writeFileSync(
      config,
      `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
sources:
  shop:
    connector: file
    config: { contacts: { path: ${JSON.stringify(join(dir, 'missing.csv'))} } }
jobs:
  nightly:
    steps:
      - read: { sources: [shop] }
`,
    );
    const run = (extra: string[]) => {
      const result = spawnSync(process.execPath, [join(ROOT, 'bin/segflow.js'), 'run', config, 'nightly', ...extra], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      // progress lines are text; log entries are the JSON ones
      const entries = result.stderr.split('\n').filter((line) => line.startsWith('{'));
      return { code: result.status, entries: entries.map((line) => JSON.parse(line) as Record<string, unknown>) };
    };
    const logged = run([]);
    expect(logged.code).toBe(1);
    expect(logged.entries).toEqual([
      expect.objectContaining({ level: 'error', message: 'stream failed', connection: 'shop', stream: 'contacts' }),
    ]);
    const silent = run(['--log-level', 'silent']);
    expect(silent.code).toBe(1);
    expect(silent.entries).toEqual([]);
  }, 60_000);

  it('an unknown --log-level exits 2 and names the levels', () => {
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/segflow.js'), 'validate', 'x.yaml', '--log-level=loud'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--log-level expects one of debug, info, warn, error, silent, got "loud"');
  });
});
