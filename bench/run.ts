/**
 * `npm run bench -- <name|all> [--toy] [--minutes N] [--contacts N --seconds N --rate N --ids random]`: runs
 * benchmarks from bench/<name>.ts. At full scale each writes its figures to BENCHMARKS.md, under the command with its
 * flags; `--toy` runs them small (as CI does, so none rots) and writes nothing.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { provenance, writeSection } from './report.js';

/** What a file in bench/ exports. */
export interface Benchmark {
  /** Runs the benchmark and returns its figures as Markdown (a table and a sentence on the target). */
  run(options: { toy: boolean; log: (line: string) => void }): Promise<string>;
}

/** Modules here that are not benchmarks: the runner, the report writer and a helper the benches share. */
const SKIP = new Set(['run', 'report', 'postgres-cpu']);
/** Flags that take a value as the next argument. */
const VALUE_FLAGS = new Set(['--minutes', '--contacts', '--seconds', '--rate', '--ids']);

export function benchmarkNames(): string[] {
  return readdirSync(fileURLToPath(new URL('.', import.meta.url)))
    .filter((f) => f.endsWith('.ts') && !SKIP.has(f.slice(0, -3)))
    .map((f) => f.slice(0, -3))
    .sort();
}

export async function runBenchmark(name: string, toy: boolean, log: (line: string) => void): Promise<string> {
  const { benchmark } = (await import(/* @vite-ignore */ `./${name}.ts`)) as { benchmark: Benchmark };
  return benchmark.run({ toy, log });
}

/**
 * The command that runs benchmark `name` with the flags of `argv` (the runner's own arguments), as a section of
 * BENCHMARKS.md names it, so that a figure taken with a flag says so.
 *
 * @example
 * benchCommand('realtime', ['realtime', '--ids', 'random']); // 'npm run bench -- realtime --ids random'
 */
export function benchCommand(name: string, argv: readonly string[]): string {
  const flags = argv.filter((a, i) => a.startsWith('--') || VALUE_FLAGS.has(argv[i - 1] ?? ''));
  return ['npm run bench --', name, ...flags].join(' ');
}

async function cli(argv: string[]): Promise<number> {
  const toy = argv.includes('--toy');
  // `--minutes 10` (the soak's length), `--rate 2000` (realtime's) are flags with a value, not a benchmark's name
  const asked = argv.filter((a, i) => !a.startsWith('--') && !VALUE_FLAGS.has(argv[i - 1] ?? ''));
  const names = benchmarkNames();
  const chosen = asked.length === 0 || asked.includes('all') ? names : asked;
  const unknown = chosen.filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark: ${unknown.join(', ')}; known: ${names.join(', ')}\n`);
    return 2;
  }
  for (const name of chosen) {
    process.stdout.write(`\n== ${name}${toy ? ' (toy scale)' : ''} ==\n`);
    const figures = await runBenchmark(name, toy, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`${figures}\n`);
    if (!toy) writeSection(name, `## ${name}\n\n${provenance(benchCommand(name, argv))}\n\n${figures}`);
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await cli(process.argv.slice(2));
}
