/**
 * Segment files: the config's `segments:` section (a list or a map keyed by segment key), the files it includes
 * (relative to the including file, without cycles), and each segment validated with where it and each node of its
 * rule were written. Also how any config file is opened: read, parsed and interpolated, with located problems.
 */
import { dirname, resolve } from 'node:path';
import type { AccountSegment, Location, Segment } from './config.js';
import { interpolate } from './env.js';
import { formatPath } from './errors.js';
import { isObject, kindOf, type Issues } from './issues.js';
import { accountSegmentSchema, segmentSchema } from './schema.js';
import {
  displayName,
  nodeAt,
  positionOf,
  positionsUnder,
  readYamlFile,
  type Path,
  type YamlFile,
} from './yaml-file.js';

/** Environment variables for `${VAR}`. */
export type Env = Record<string, string | undefined>;

/** A segment as written, before validation: its file, key path and value. */
export interface SegmentEntry {
  file: YamlFile;
  path: Path;
  value: unknown;
}

/** A valid segment with the entry it came from. */
export interface LoadedSegment {
  segment: Segment;
  entry: SegmentEntry;
}

/**
 * Opens a config file: read, parsed and interpolated, its problems added as located issues (a file that cannot be
 * read is reported where it was included from). Undefined when the file is unusable.
 */
export async function openFile(
  path: string,
  env: Env,
  issues: Issues,
  files: YamlFile[],
  from?: { file: YamlFile; path: Path },
): Promise<YamlFile | undefined> {
  let read: Awaited<ReturnType<typeof readYamlFile>>;
  try {
    read = await readYamlFile(path);
  } catch (error) {
    const reason = (error as { code?: string }).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    if (from)
      issues.add(
        from.file,
        from.path,
        `cannot read ${JSON.stringify(displayName(path))}: ${reason} (expected a YAML file with a segments: section)`,
      );
    else
      issues.list.push({
        file: displayName(path),
        line: 1,
        column: 1,
        path: '',
        message: `cannot read the config file: ${reason}`,
      });
    return undefined;
  }
  files.push(read.file);
  if (read.usable) read.problems.push(...interpolate(read.file, env));
  for (const problem of read.problems)
    issues.add(read.file, problem.path ?? [], problem.message, { offset: problem.offset });
  return read.usable ? read.file : undefined;
}

/** Where collected entries go: an included file's `segments:` and `account_segments:` each to their own list. */
export interface SegmentOutputs {
  segments: SegmentEntry[];
  account_segments: SegmentEntry[];
}

/**
 * Collects the segment entries of a `segments:` (or `account_segments:`) section, following includes depth first in
 * file order; an included file may hold both sections, each collected into its own list of `outputs`.
 */
export async function collectSegments(
  file: YamlFile,
  section: Path,
  value: unknown,
  chain: string[],
  out: SegmentEntry[],
  issues: Issues,
  env: Env,
  files: YamlFile[],
  outputs: SegmentOutputs = { segments: out, account_segments: [] },
): Promise<void> {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      if (!(isObject(item) && 'include' in item)) {
        out.push({ file, path: [...section, i], value: item });
        continue;
      }
      for (const key of Object.keys(item))
        if (key !== 'include') issues.unknownKey(file, [...section, i, key], ['include']);
      if (typeof item.include !== 'string' || item.include === '') {
        issues.add(
          file,
          [...section, i, 'include'],
          `expected the path of a YAML file of segments, got ${kindOf(item.include)}`,
        );
        continue;
      }
      const target = resolve(dirname(file.path), item.include);
      if (chain.includes(target)) {
        issues.add(
          file,
          [...section, i, 'include'],
          `includes itself through ${[...chain, target].map(displayName).join(' -> ')} (expected files that do not include each other in a cycle)`,
        );
        continue;
      }
      const included = await openFile(target, env, issues, files, { file, path: [...section, i, 'include'] });
      if (!included) continue;
      const content: unknown = included.doc.toJS({ maxAliasCount: 1000 });
      if (!isObject(content)) {
        issues.add(included, [], `expected a mapping with a segments: section, got ${kindOf(content)}`);
        continue;
      }
      for (const key of Object.keys(content))
        if (key !== 'segments' && key !== 'account_segments')
          issues.unknownKey(included, [key], ['segments', 'account_segments']);
      for (const kind of ['segments', 'account_segments'] as const)
        await collectSegments(
          included,
          [kind],
          content[kind],
          [...chain, target],
          outputs[kind],
          issues,
          env,
          files,
          outputs,
        );
    }
    return;
  }
  if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (!isObject(item)) {
        issues.add(
          file,
          [...section, key],
          `expected a segment (a mapping with rule:, and optionally name:, description:, holdout:), got ${kindOf(item)}`,
        );
        continue;
      }
      if (item.key !== undefined && item.key !== key) {
        issues.add(
          file,
          [...section, key, 'key'],
          `{value} differs from its map key "${key}" (expected the same key, or no key: line)`,
        );
        continue;
      }
      out.push({ file, path: [...section, key], value: { key, ...item } });
    }
    return;
  }
  issues.add(file, section, `expected a list of segments or a map keyed by segment key, got ${kindOf(value)}`);
}

/** Validates each segment entry, with where it and each node of its rule were written; a duplicate key is an issue. */
export function validateSegments(entries: SegmentEntry[], issues: Issues): LoadedSegment[] {
  const loaded: LoadedSegment[] = [];
  const seen = new Map<string, LoadedSegment>();
  for (const entry of entries) {
    const parsed = segmentSchema.safeParse(entry.value);
    if (!parsed.success) {
      issues.addZod(entry.file, entry.path, parsed.error.issues, entry.value);
      continue;
    }
    const { file, path } = entry;
    const at = (p: Path): Location => {
      const found = nodeAt(file, p);
      return { file: file.display, ...positionOf(file, found.offset) };
    };
    const locations: Record<string, Location> = {};
    for (const [rel, position] of positionsUnder(file, [...path, 'rule']))
      locations[formatPath(rel)] = { file: file.display, ...position };
    const data = parsed.data;
    const segment: Segment = {
      key: data.key,
      name: data.name ?? data.key,
      ...(data.description === undefined ? {} : { description: data.description }),
      rule: data.rule,
      holdout: data.holdout?.share ?? 0,
      holdout_outcome: { outcome: data.holdout?.outcome ?? 'revenue', days: data.holdout?.days ?? 30 },
      allow_protected_attributes: data.allow_protected_attributes ?? {},
      origin: at(path),
      locations,
    };
    const first = seen.get(segment.key);
    if (first) {
      const o = first.segment.origin;
      issues.add(
        file,
        typeof path[path.length - 1] === 'number' ? [...path, 'key'] : path,
        `duplicate segment key "${segment.key}" (first defined at ${o.file}:${o.line}:${o.column}; expected each key once)`,
      );
      continue;
    }
    seen.set(segment.key, { segment, entry });
    loaded.push({ segment, entry });
  }
  return loaded;
}

/**
 * Validates each account segment entry, with where it and each node of its rule were written; a key used twice, or
 * also used by a segment (both are pushed by key), is an issue.
 */
export function validateAccountSegments(
  entries: SegmentEntry[],
  segments: readonly LoadedSegment[],
  issues: Issues,
): AccountSegment[] {
  const loaded: AccountSegment[] = [];
  const seen = new Map<string, Location>();
  for (const s of segments) seen.set(s.segment.key, s.segment.origin);
  const contactKeys = new Set(seen.keys());
  for (const entry of entries) {
    const parsed = accountSegmentSchema.safeParse(entry.value);
    if (!parsed.success) {
      issues.addZod(entry.file, entry.path, parsed.error.issues, entry.value);
      continue;
    }
    const { file, path } = entry;
    const locations: Record<string, Location> = {};
    for (const [rel, position] of positionsUnder(file, [...path, 'rule']))
      locations[formatPath(rel)] = { file: file.display, ...position };
    const data = parsed.data;
    const origin = { file: file.display, ...positionOf(file, nodeAt(file, path).offset) };
    const first = seen.get(data.key);
    if (first) {
      issues.add(
        file,
        typeof path[path.length - 1] === 'number' ? [...path, 'key'] : path,
        contactKeys.has(data.key)
          ? `account segment key "${data.key}" is already a segment's key (defined at ${first.file}:${first.line}:${first.column}; expected keys distinct across segments and account segments)`
          : `duplicate account segment key "${data.key}" (first defined at ${first.file}:${first.line}:${first.column}; expected each key once)`,
      );
      continue;
    }
    seen.set(data.key, origin);
    loaded.push({
      key: data.key,
      name: data.name ?? data.key,
      ...(data.description === undefined ? {} : { description: data.description }),
      rule: data.rule,
      origin,
      locations,
    });
  }
  return loaded;
}
