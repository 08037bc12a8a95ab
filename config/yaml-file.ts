/**
 * One YAML file as the loader sees it: parsed with positions, and able to say where any key path sits (line and
 * column) and whether the value there must be hidden.
 */
import { readFile, stat } from 'node:fs/promises';
import { relative, isAbsolute } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node } from 'yaml';

export type Path = (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export interface YamlFile {
  /** Absolute path. */
  path: string;
  /** How errors name the file: relative to the working directory when inside it. */
  display: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** Nodes whose value must never be shown: it came from the environment, or sits in a secret field. */
  hidden: Set<Node>;
  /** Values taken from the environment, for scrubbing messages. */
  envValues: string[];
  /** Where each interpolated value that used the environment ended up. */
  fromEnv: { path: Path; value: unknown }[];
}

/** A problem found while reading a file, at an offset in its text. */
export interface SyntaxProblem {
  offset: number;
  message: string;
  path?: Path;
}

export function displayName(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** The largest config or segments file read: a config is kilobytes; a 50 MB file took 36 s and 2.3 GB to parse. */
export const MAX_CONFIG_BYTES = 4 * 2 ** 20;

/**
 * Reads and parses a file; one larger than {@link MAX_CONFIG_BYTES} is refused before it is read. A syntax error comes back as a problem, and the file is then unusable; `${VAR}` is left
 * for env.ts to interpolate.
 */
export async function readYamlFile(
  path: string,
): Promise<{ file: YamlFile; problems: SyntaxProblem[]; usable: boolean }> {
  const { size } = await stat(path);
  if (size > MAX_CONFIG_BYTES) {
    throw new Error(
      `the file is ${(size / 2 ** 20).toFixed(1)} MiB, over the ${MAX_CONFIG_BYTES / 2 ** 20} MiB a config file may be (is it the right file?)`,
    );
  }
  const text = await readFile(path, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const file: YamlFile = {
    path,
    display: displayName(path),
    text,
    doc,
    lines,
    hidden: new Set(),
    envValues: [],
    fromEnv: [],
  };
  // after the first syntax error the parser's later complaints are mostly echoes of it
  const problems: SyntaxProblem[] = doc.errors.slice(0, 1).map((error) => ({
    offset: error.pos[0],
    message: `${yamlMessage(error.code, error.message)} (expected valid YAML)`,
  }));
  if (problems.length === 0) {
    // an alias without its anchor, or aliases that multiply beyond reason, only show when the document is built
    try {
      doc.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      let offset = 0;
      visit(doc, {
        Alias(_, node) {
          offset = node.range?.[0] ?? 0;
          return visit.BREAK;
        },
      });
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
      problems.push({ offset, message: `YAML alias error: ${reason} (expected each *alias after its &anchor)` });
    }
  }
  return { file, problems, usable: problems.length === 0 };
}

function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: map keys must be unique';
  const firstLine = message.split('\n')[0] ?? message;
  return `YAML syntax error: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`;
}

/** The node at a key path (aliases followed), or the nearest enclosing one. `key` asks for the key of the last step. */
export function nodeAt(
  file: YamlFile,
  path: Path,
  options: { key?: boolean } = {},
): { node: Node | null; offset: number; exact: boolean } {
  let node: unknown = file.doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(file.doc) ?? null;
    const step = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) return { node: node as Node, offset, exact: false };
      const keyNode = pair.key as Node;
      if (i === path.length - 1 && options.key)
        return { node: keyNode, offset: keyNode.range?.[0] ?? offset, exact: true };
      const value = pair.value as Node | null;
      if (!value || !value.range || (isScalar(value) && value.value === null && value.range[0] === value.range[1])) {
        return { node: value, offset: keyNode.range?.[0] ?? offset, exact: i === path.length - 1 };
      }
      node = value;
      offset = value.range[0];
    } else if (isSeq(node) && Number.isInteger(Number(step))) {
      const item = node.items[Number(step)] as Node | undefined;
      if (!item) return { node: node as Node, offset, exact: false };
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      return { node: node as Node | null, offset, exact: false };
    }
  }
  return { node: node as Node | null, offset, exact: true };
}

export function positionOf(file: YamlFile, offset: number): Position {
  const { line, col } = file.lines.linePos(offset);
  return { line: Math.max(1, line), column: Math.max(1, col) };
}

/** Every node under `path`, keyed by its path relative to `path`'s parent, with its position. */
export function positionsUnder(file: YamlFile, path: Path): Map<Path, Position> {
  const out = new Map<Path, Position>();
  const start = nodeAt(file, path);
  if (!start.exact) return out;
  const last = path[path.length - 1];
  const walk = (node: unknown, at: Path) => {
    if (isAlias(node)) node = node.resolve(file.doc);
    const range = (node as Node | null)?.range;
    if (range) out.set(at, positionOf(file, range[0]));
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key)) walk(pair.value, [...at, String(pair.key.value)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...at, i]));
    }
  };
  walk(start.node, last === undefined ? [] : [last]);
  return out;
}

/** The value at a node, for quoting in a message; `[redacted]` when hidden. */
export function shownValue(file: YamlFile, node: Node | null): string {
  if (node && file.hidden.has(node)) return '[redacted]';
  const value: unknown = isScalar(node) ? node.value : node?.toJSON();
  return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value));
}
