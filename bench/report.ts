/**
 * Writes a benchmark's figures into BENCHMARKS.md, in a section of its own, with the command, commit and machine.
 */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/** Where each benchmark's figures live. */
export const BENCHMARKS_FILE = new URL('../BENCHMARKS.md', import.meta.url);

/** The command, commit and machine, as one Markdown block. */
export function provenance(command: string): string {
  let commit = 'uncommitted';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execSync('git status --porcelain', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // not a git checkout
  }
  const machine = `${os.cpus().length} × ${processor()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
  return `- command: \`${command}\`\n- commit: ${commit}\n- machine: ${machine}\n- date: ${new Date().toISOString()}`;
}

/**
 * The processor in words: its model name and clock and, on Linux, its family and model numbers, since a cloud
 * machine's name ("AMD EPYC") covers generations whose speeds differ by half.
 */
export function processor(): string {
  const first = os.cpus()[0];
  if (!first) return 'unknown CPU';
  // Virtual machines often report no clock here; /proc/cpuinfo has the one the kernel measured.
  let clock = first.speed;
  let generation = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const family = /^cpu family\s*:\s*(\d+)/m.exec(info)?.[1];
    const model = /^model\s*:\s*(\d+)/m.exec(info)?.[1];
    if (family && model) generation = `, family ${family} model ${model}`;
    const measured = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1]);
    if (!(clock > 0) && measured > 0) clock = Math.round(measured);
  } catch {
    // no /proc: not Linux
  }
  return `${first.model.trim()} (${clock > 0 ? `${clock} MHz` : 'clock unknown'}${generation})`;
}

/** Replaces (or appends) the section of one benchmark in BENCHMARKS.md. */
export function writeSection(name: string, markdown: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const current = existsSync(BENCHMARKS_FILE)
    ? readFileSync(BENCHMARKS_FILE, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench`; do not edit by hand. Each section says how it was measured.\n';
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const at = current.indexOf(start);
  const next =
    at >= 0
      ? current.slice(0, at) + block + current.slice(current.indexOf(end, at) + end.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(BENCHMARKS_FILE, next);
}

/** The nearest-rank `q` quantile (0.5 the median, 0.99 the p99) of `values`, in any order; NaN when there are none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** What `fn` resolved to, and its wall time in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const out = await fn();
  return [out, performance.now() - start];
}
