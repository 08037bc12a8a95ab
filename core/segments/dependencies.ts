/**
 * Which segments a segment depends on: the keys its rule names with `in_segment`, anywhere under `all`, `any` and
 * `not`. A compute step that names some segments, and the real-time pipeline that recomputes the pushed ones, take
 * them together with everything they refer to.
 *
 * @example
 * refersTo({ all: [{ in_segment: 'buyers' }, { not: { in_segment: 'churned' } }] }); // ['buyers', 'churned']
 * withDependencies(config.segments, ['vip']); // vip and the segments its rule refers to, in config order
 */
import { RULE_GROUPS } from './grammar.js';

const NESTING: readonly string[] = [...RULE_GROUPS, 'not'];

/** The segment keys a rule refers to with `in_segment` (not those of the segments they refer to in turn). */
export function refersTo(rule: unknown): string[] {
  if (Array.isArray(rule)) return rule.flatMap(refersTo);
  if (!rule || typeof rule !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(rule)) {
    if (k === 'in_segment' && typeof v === 'string') out.push(v);
    else if (NESTING.includes(k)) out.push(...refersTo(v));
  }
  return out;
}

/**
 * The segments named by `keys` (all of them when `keys` is undefined) and every segment they refer to, directly or
 * through others, in the order of `segments`. Keys that name no segment are left out.
 */
export function withDependencies<S extends { key: string; rule?: unknown }>(
  segments: readonly S[],
  keys: Iterable<string> | undefined,
): S[] {
  if (keys === undefined) return [...segments];
  const byKey = new Map(segments.map((s) => [s.key, s]));
  const wanted = new Set<string>();
  const visit = (key: string): void => {
    const segment = byKey.get(key);
    if (wanted.has(key) || !segment) return;
    wanted.add(key);
    refersTo(segment.rule).forEach(visit);
  };
  for (const key of keys) visit(key);
  return segments.filter((s) => wanted.has(s.key));
}
