/**
 * Located issues: the loader collects every mistake with its file, line and column (zod's issues phrased for YAML
 * users, unknown keys with the closest allowed one) before failing once with a `ConfigFileError`.
 *
 * @example
 * const issues = new Issues();
 * issues.add(file, ['jobs', 'nightly', 'schedule'], '{value} is not a valid cron expression');
 * if (issues.list.length > 0) throw new ConfigFileError(issues.list);
 */
import type { z } from 'zod';
import { closest, formatPath, type ConfigIssue } from './errors.js';
import { UNKNOWN_KEYS_MARK } from './schema.js';
import { nodeAt, positionOf, shownValue, type Path, type YamlFile } from './yaml-file.js';

/** Collects located issues. `{value}` in a message is replaced by the quoted value there, or `[redacted]`. */
export class Issues {
  readonly list: ConfigIssue[] = [];

  add(file: YamlFile, path: Path, message: string, options: { key?: boolean; offset?: number } = {}): void {
    const found = nodeAt(file, path, options);
    const { line, column } = positionOf(file, options.offset ?? found.offset);
    let text = message;
    if (text.includes('{suggest-zone}')) text = text.replace('{suggest-zone}', zoneSuggestion(file, found.node));
    if (text.includes('{value}')) text = text.replaceAll('{value}', shownValue(file, found.node));
    this.list.push({ file: file.display, line, column, path: formatPath(path), message: text });
  }

  /** One issue per zod issue; unknown keys become one issue per key, at the key, with a suggestion. */
  addZod(
    file: YamlFile,
    base: Path,
    issues: readonly z.core.$ZodIssue[],
    value: unknown,
    allowedKeys?: string[],
  ): void {
    for (const issue of issues) {
      const path = [...base, ...(issue.path as (string | number)[])];
      const marked = issue.message.startsWith(UNKNOWN_KEYS_MARK);
      if (issue.code === 'unrecognized_keys' || marked) {
        const allowed = marked ? issue.message.slice(UNKNOWN_KEYS_MARK.length).split(',') : (allowedKeys ?? []);
        const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...path, k]) : [path];
        for (const keyPath of keys) this.unknownKey(file, keyPath, allowed);
        continue;
      }
      this.add(file, path, describeIssue(issue, valueAt(value, issue.path as Path)));
    }
  }

  unknownKey(file: YamlFile, path: Path, allowed: string[]): void {
    const key = String(path[path.length - 1]);
    const suggestion = closest(key, allowed);
    const hint = /^(admin|read)_token$|^token$|^write_key/.test(key)
      ? `; tokens are never written in the file: name the environment variable holding it, e.g. ${key.replace(/s$/, '')}_env`
      : '';
    const expected = allowed.length ? `expected one of: ${allowed.join(', ')}` : 'no keys are allowed here';
    this.add(
      file,
      path,
      `unknown key "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (${expected}${hint})`,
      { key: true },
    );
  }
}

function zoneSuggestion(file: YamlFile, node: Parameters<typeof shownValue>[1]): string {
  const shown = shownValue(file, node);
  if (shown === '[redacted]') return '';
  const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  const suggestion = closest(String(JSON.parse(shown)), zones);
  return suggestion ? ` (did you mean "${suggestion}"?)` : '';
}

function valueAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    value,
  );
}

/** What a value is, in YAML users' words: a list, a mapping, true/false, a number… */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function describeIssue(issue: z.core.$ZodIssue, actual: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (actual === undefined) return `missing (expected ${expected})`;
      if (issue.expected === 'int' && typeof actual === 'number')
        return `{value} is not a whole number (expected ${expected})`;
      return `expected ${expected}, got ${kindOf(actual)}`;
    }
    case 'invalid_value':
      return `{value} is not allowed (expected one of: ${issue.values.map(String).join(', ')})`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const cmp =
        issue.code === 'too_small'
          ? issue.inclusive
            ? 'at least'
            : 'more than'
          : issue.inclusive
            ? 'at most'
            : 'less than';
      if (issue.origin === 'array') return `expected ${cmp} ${String(bound)} item${Number(bound) === 1 ? '' : 's'}`;
      if (issue.origin === 'string')
        return Number(bound) === 1 && issue.code === 'too_small'
          ? 'expected non-empty text'
          : `expected text of ${cmp} ${String(bound)} characters`;
      return `{value} is out of range (expected a number ${cmp} ${String(bound)})`;
    }
    case 'invalid_union':
      return `expected ${
        issue.errors
          .map((branch) => EXPECTED[(branch[0] as { expected?: string } | undefined)?.expected ?? ''] ?? '')
          .filter(Boolean)
          .join(' or ') || 'another kind of value'
      }, got ${kindOf(actual)}`;
    case 'invalid_format':
      if (issue.format === 'url') return '{value} is not a URL (expected one like https://api.example.com)';
      if (issue.format === 'email') return '{value} is not an email address (expected one like ops@example.com)';
      return issue.message;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => describeIssue(i, undefined)).join('; ')}`;
    default:
      return issue.message;
  }
}

/** `unknown <kind> "<name>"`, with the closest known name and the list of known ones. */
export function unknownName(kind: string, name: string, known: string[], where = ''): string {
  const suggestion = closest(name, known);
  const list = known.length ? `expected one of: ${known.join(', ')}` : `no ${kind}s are defined`;
  return `unknown ${kind} "${name}"${where ? ` ${where}` : ''}${suggestion ? `; did you mean "${suggestion}"?` : ''} (${list})`;
}

/** A YAML mapping (not a list, not null). */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
