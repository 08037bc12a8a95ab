/**
 * Console segments as YAML, in the shape of a config's segments file (`segments:` as a list, and `account_segments:`
 * for segments of accounts), so an export can be included from a config (`segments: [ { include: console.yaml } ]`),
 * checked by `segflow validate`, and imported back.
 *
 * @example
 * const text = segmentsYaml(await listStoredSegments(store, { kind: 'all' }));
 * segmentsFromYaml(text); // [{ key: 'vip', name: 'VIP', rule: { … } }]
 */
import { parse, stringify } from 'yaml';
import type { StoredSegment, StoredSegmentKind } from './stored.js';

/** An entry of a segments file as written, and the section it was under (`segments:` or `account_segments:`). */
export interface SegmentsFileEntry {
  kind: StoredSegmentKind;
  entry: unknown;
}

/**
 * A segments file holding these segments (key, name, description, tags, rule): people segments under `segments:`,
 * account segments under `account_segments:`. Archived ones are for the caller to leave out.
 */
export function segmentsYaml(segments: readonly StoredSegment[], exportedAt = new Date().toISOString()): string {
  const entryOf = (s: StoredSegment) => ({
    key: s.key,
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    ...(s.tags.length > 0 ? { tags: s.tags } : {}),
    rule: s.rule,
  });
  const people = segments.filter((s) => s.kind !== 'accounts').map(entryOf);
  const accounts = segments.filter((s) => s.kind === 'accounts').map(entryOf);
  const head = [
    `# Segments exported from the segflow console at ${exportedAt}.`,
    '# Include this file from a config (segments: [ { include: <this file> } ]) or import it in the console.',
  ].join('\n');
  const doc = { segments: people, ...(accounts.length > 0 ? { account_segments: accounts } : {}) };
  return `${head}\n${stringify(doc, { lineWidth: 0 })}`;
}

function parsed(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new SyntaxError(`not YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
}

/** A section's entries as written (a list, or a map keyed by segment key), or undefined when it is not one. */
function entriesOf(section: unknown): unknown[] | undefined {
  if (Array.isArray(section)) return section;
  if (typeof section === 'object' && section !== null)
    return Object.entries(section).map(([key, value]) =>
      typeof value === 'object' && value !== null ? { key, ...value } : value,
    );
  return undefined;
}

/**
 * The segment entries of a segments file's text, as written (a list, or a map keyed by segment key), for the caller to
 * validate. Throws a sentence when the text is not YAML or has no `segments:` section.
 */
export function segmentsFromYaml(text: string): unknown[] {
  const entries = entriesOf(parsed(text).segments);
  if (entries) return entries;
  throw new SyntaxError('expected a segments: section (a list of segments, or a map keyed by segment key)');
}

/**
 * Every entry of a segments file's text, people segments (`segments:`) then account segments (`account_segments:`),
 * each with its kind, for the caller to validate. Throws a sentence when the text is not YAML or has neither section.
 */
export function segmentsFileFromYaml(text: string): SegmentsFileEntry[] {
  const doc = parsed(text);
  const people = entriesOf(doc.segments);
  const accounts = entriesOf(doc.account_segments);
  if (!people && !accounts)
    throw new SyntaxError(
      'expected a segments: or account_segments: section (a list of segments, or a map keyed by segment key)',
    );
  return [
    ...(people ?? []).map((entry) => ({ kind: 'contacts' as const, entry })),
    ...(accounts ?? []).map((entry) => ({ kind: 'accounts' as const, entry })),
  ];
}
