/**
 * Located config errors: every issue names the file, line and column, the key path, and what was expected.
 *
 * @example
 * try { await loadConfig('segflow.yaml', { registry }); }
 * catch (error) { if (error instanceof ConfigFileError) console.error(formatConfigErrors(error)); }
 */
import { ConfigError } from '../plugins/contract/errors.js';

/** One mistake in a config file. `path` is the YAML key path, e.g. `jobs.nightly.steps[1].push.segments[0]`. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

/** A config file that could not be loaded; `issues` holds every mistake found, in file order. */
export class ConfigFileError extends ConfigError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const sorted = [...issues].sort(
      (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.path.localeCompare(b.path),
    );
    const first = sorted[0];
    const head = first ? formatIssue(first) : 'invalid config';
    super(sorted.length > 1 ? `${head} (and ${sorted.length - 1} more)` : head, {
      fix: 'correct the config file at the places named',
    });
    this.issues = sorted;
  }
}

/** `file:line:column: path: message`. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

/** Every issue on its own line, then a count. Other errors are shown by their message. */
export function formatConfigErrors(error: unknown): string {
  if (error instanceof ConfigFileError) {
    const n = error.issues.length;
    return `${error.issues.map(formatIssue).join('\n')}\n${n} error${n === 1 ? '' : 's'} in config\n`;
  }
  return `${error instanceof Error ? error.message : String(error)}\n`;
}

/** Joins a key path the way YAML users read it: `jobs.nightly.steps[1].push`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part),
    '',
  );
}

/** The closest candidate to a misspelt word, when it is close enough to be what was meant. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const tolerance = Math.max(1, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= tolerance ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      // a swap of two neighbours counts as one edit
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j] ?? 0, (beforePrevious[j - 2] ?? 0) + 1);
      }
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}
