/**
 * Every benchmark section says which machine measured it, precisely enough to tell two generations of a cloud's
 * processors apart: figures from machines of different speeds are never compared as if they were one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { expect, it } from 'vitest';
import { provenance } from '../../bench/report.js';
import { benchCommand } from '../../bench/run.js';

it('names the command, the commit and the machine with its processor’s clock (and, on Linux, its generation)', () => {
  const block = provenance('npm run bench -- realtime');
  expect(block).toContain('- command: `npm run bench -- realtime`');
  expect(block).toMatch(/^- commit: ([0-9a-f]{7,}|uncommitted)/m);
  expect(block).toContain(`- machine: ${cpus().length} × ${cpus()[0]!.model.trim()} (`);
  // x86 Linux numbers its processors' generations (family, model); other machines say only the model name.
  if (existsSync('/proc/cpuinfo') && /^cpu family/m.test(readFileSync('/proc/cpuinfo', 'utf8')))
    expect(block).toMatch(/ \([1-9]\d* MHz, family \d+ model \d+\), \d+ GiB, Node v/);
});

it('names the flags a figure was taken with, and no other benchmark run alongside', () => {
  const argv = ['realtime', 'inbox', '--seconds', '20', '--ids', 'random'];
  expect(benchCommand('realtime', argv)).toBe('npm run bench -- realtime --seconds 20 --ids random');
  expect(benchCommand('store', ['store'])).toBe('npm run bench -- store');
});
