/**
 * Console segments as YAML, in the shape of a config's segments file (`segments:` as a list), so an export can be
 * included from a config (`segments: [ { include: console.yaml } ]`), checked by `segflow validate`, and imported back.
 *
 * @example
 * const text = segmentsYaml(await listStoredSegments(store));
 * segmentsFromYaml(text); // [{ key: 'vip', name: 'VIP', rule: { … } }]
 */
import { parse, stringify } from 'yaml';
import type { StoredSegment } from './stored.js';

/** A segments file holding these segments (key, name, description, tags, rule; archived ones are for the caller to leave out). */
export function segmentsYaml(segments: readonly StoredSegment[], exportedAt = new Date().toISOString()): string {
  const entries = segments.map((s) => ({
    key: s.key,
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    ...(s.tags.length > 0 ? { tags: s.tags } : {}),
    rule: s.rule,
  }));
  const head = [
    `# Segments exported from the segflow console at ${exportedAt}.`,
    '# Include this file from a config (segments: [ { include: <this file> } ]) or import it in the console.',
  ].join('\n');
  return `${head}\n${stringify({ segments: entries }, { lineWidth: 0 })}`;
}

/**
 * The segment entries of a segments file's text, as written (a list, or a map keyed by segment key), for the caller to
 * validate. Throws a sentence when the text is not YAML or has no `segments:` section.
 */
export function segmentsFromYaml(text: string): unknown[] {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new SyntaxError(`not YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  const section = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).segments : undefined;
  if (Array.isArray(section)) return section;
  if (typeof section === 'object' && section !== null)
    return Object.entries(section).map(([key, value]) =>
      typeof value === 'object' && value !== null ? { key, ...value } : value,
    );
  throw new SyntaxError('expected a segments: section (a list of segments, or a map keyed by segment key)');
}
