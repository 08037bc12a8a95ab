/**
 * `npm run bench -- startup`: what a command costs before it does any work, from the sources (through tsx, as a
 * clone runs them) and from the compiled dist/ (as the installed package runs), each as its own `node bin/segflow.js`
 * process: `segflow validate` of the smallest example config, and a small `segflow run` of it (a CSV of contacts and a
 * JSONL of orders read, features and two segments computed in the worker thread) into a fresh store each time.
 * The full run builds dist/ first (`npm run build`), so both sides are the same commit; at toy scale it builds nothing
 * and says so when dist/ is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from './run.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(ROOT, 'config/examples/file-only.yaml');
/** Written by every process of a measured command (main thread) as it exits: its peak RSS in KiB, one per line. */
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  "import{appendFileSync}from'node:fs';import process from'node:process';" +
    "process.on('exit',()=>{if(process.env.SEGFLOW_BENCH_RSS)appendFileSync(process.env.SEGFLOW_BENCH_RSS,process.resourceUsage().maxRSS+'\\n')});",
)}`;

interface Sample {
  wallS: number;
  rssMiB: number;
}

function measure(args: string[], from: 'sources' | 'dist', dir: string): Sample {
  const rssFile = join(dir, 'rss.txt');
  rmSync(rssFile, { force: true });
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--max-semi-space-size=64', join(ROOT, 'bin/segflow.js'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      SEGFLOW_FROM: from === 'dist' ? 'dist' : 'sources',
      SEGFLOW_EXAMPLE_DATA: join(ROOT, 'config/examples/data'),
      SEGFLOW_BENCH_RSS: rssFile,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${RSS_HOOK}`.trim(),
    },
  });
  const wallS = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`segflow ${args.join(' ')} exited ${child.status}: ${child.stderr}`);
  const rssKiB = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').trim().split('\n').map(Number) : [0];
  return { wallS, rssMiB: Math.max(...rssKiB) / 1024 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const repetitions = toy ? 1 : 5;
    if (!toy) {
      log('building dist/');
      const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
      if (build.status !== 0) throw new Error(`npm run build exited ${build.status}`);
    }
    const hasDist = existsSync(join(ROOT, 'dist/cli/main.js'));
    const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-startup-'));
    const config = join(dir, 'segflow.yaml');
    writeFileSync(config, readFileSync(EXAMPLE, 'utf8').replace('path: .segflow/example.db', 'path: store.db'));
    const load = [loadavg()[0]!.toFixed(1)];
    const rows: string[] = [];
    try {
      const commands: { label: string; args: string[]; fresh: boolean }[] = [
        { label: '`segflow validate` file-only.yaml', args: ['validate', config], fresh: false },
        { label: '`segflow run` file-only.yaml nightly (fresh store)', args: ['run', config, 'nightly'], fresh: true },
      ];
      for (const { label, args, fresh } of commands) {
        const cells: string[] = [];
        for (const from of ['sources', 'dist'] as const) {
          if (from === 'dist' && !hasDist) {
            cells.push('not measured: dist/ is not built', '');
            continue;
          }
          const samples: Sample[] = [];
          for (let i = 0; i < repetitions; i++) {
            if (fresh)
              for (const f of ['store.db', 'store.db-wal', 'store.db-shm']) rmSync(join(dir, f), { force: true });
            samples.push(measure(args, from, dir));
          }
          const wall = median(samples.map((s) => s.wallS));
          const rss = Math.max(...samples.map((s) => s.rssMiB));
          log(`${label} from ${from}: median ${wall.toFixed(2)} s, peak RSS ${rss.toFixed(0)} MiB`);
          cells.push(wall.toFixed(2), rss.toFixed(0));
        }
        rows.push(`| ${label} | ${cells.join(' | ')} |`);
      }
      load.push(loadavg()[0]!.toFixed(1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return [
      `Each command as its own \`node --max-semi-space-size=64 bin/segflow.js\` process, ${repetitions} time(s) per cell: the median wall time and the highest peak RSS (main thread's process, workers included). "sources" is a clone running its TypeScript through tsx (\`SEGFLOW_FROM=sources\`); "dist" is the compiled package as installed (\`SEGFLOW_FROM=dist\`).`,
      '',
      '| command | sources: wall (s) | sources: peak RSS (MiB) | dist: wall (s) | dist: peak RSS (MiB) |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `Machine load average (1 min) before / after: ${load.join(' / ')} on 2 cores (other work shares the machine, so wall time depends on it).`,
    ].join('\n');
  },
};
