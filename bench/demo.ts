/**
 * `npm run bench -- demo`: what `npm start` costs at its default size — the whole demo job (the four sandboxes on one
 * world of 20,000 people, read through the SDKs, identity resolution, features, models and segments, the pushes to
 * every tool) run in this process as `segflow demo --no-serve` runs it, then a second, incremental run. Target: the
 * first run under 2 minutes on this 2-core machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from '../cli/commands/demo.js';
import type { Benchmark } from './run.js';

const TARGET_S = 120;

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const people = toy ? 300 : 20_000;
    const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-demo-'));
    const store = join(dir, 'demo.db');
    const rows: string[] = [];
    const load = [loadavg()[0]!.toFixed(1)];
    try {
      for (const label of ['first run (empty store)', 'second run (nothing changed)']) {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const exit = await command.run(['--people', String(people), '--store', store, '--no-serve']);
        const wall = (performance.now() - started) / 1000;
        const used = process.cpuUsage(cpu);
        log(`${label}: exit ${exit}, ${wall.toFixed(1)} s`);
        if (exit !== 0) throw new Error(`the demo exited ${exit}`);
        rows.push(`| ${label} | ${wall.toFixed(1)} | ${((used.user + used.system) / 1e6).toFixed(1)} |`);
      }
      load.push(loadavg()[0]!.toFixed(1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rss = Math.round(process.resourceUsage().maxRSS / 1024);
    return [
      `The demo job (\`segflow demo --no-serve\`, ${people.toLocaleString('en')} people, seed demo), in this process.`,
      '',
      '| run | wall (s) | CPU, all threads (s) |',
      '| --- | ---: | ---: |',
      ...rows,
      '',
      `Peak RSS ${rss} MiB. Target: the first run under ${TARGET_S} s. Machine load average (1 min) before / after: ${load.join(' / ')} on 2 cores (other work shares the machine, so wall time depends on it).`,
    ].join('\n');
  },
};
