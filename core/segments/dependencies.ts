/**
 * Which segments a segment depends on: the keys its rule names with `in_segment`, anywhere under `all`, `any` and
 * `not`. A compute step that names some segments, and the real-time pipeline that recomputes the pushed ones, take
 * them together with everything they refer to.
 *
 * @example
 * refersTo({ all: [{ in_segment: 'buyers' }, { not: { in_segment: 'churned' } }] }); // ['buyers', 'churned']
 * withDependencies(config.segments, ['vip']); // vip and the segments its rule refers to, in config order
 */
import { VOICE_FEATURE_NAMES } from '../text/migrations.js';
import { durationMs, RULE_GROUPS } from './grammar.js';

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

/**
 * The segments' keys in levels: first those that refer to no other segment, then those that refer only to the
 * levels before, and so on; config order within a level. A segment's stored membership is up to date before any
 * segment that refers to it is evaluated. (Cycles are refused by the compiler before this is asked.)
 *
 * @example
 * dependencyLevels([{ key: 'vip', rule: { in_segment: 'buyers' } }, { key: 'buyers', rule: {...} }]); // [['buyers'], ['vip']]
 */
export function dependencyLevels(segments: readonly { key: string; rule?: unknown }[]): string[][] {
  const byKey = new Map(segments.map((s) => [s.key, s]));
  const level = new Map<string, number>();
  const levelOf = (key: string, seen: Set<string>): number => {
    const known = level.get(key);
    if (known !== undefined) return known;
    const segment = byKey.get(key);
    if (!segment || seen.has(key)) return -1;
    seen.add(key);
    const n = Math.max(-1, ...refersTo(segment.rule).map((k) => levelOf(k, seen))) + 1;
    seen.delete(key);
    level.set(key, n);
    return n;
  };
  const levels: string[][] = [];
  for (const s of segments) (levels[levelOf(s.key, new Set())] ??= []).push(s.key);
  return levels.filter((l) => l.length > 0);
}

/** What a rule reads besides contacts' traits, features and events, as an incremental compute needs to know. */
export interface RuleInputs {
  /** The windows (ms) of its event conditions (`within`, `before`, and the same on `occurred_at` filters). */
  windows: number[];
  /** Where it compares a trait, feature or event property with a time relative to now (it moves with the clock). */
  clockBound: string[];
  /** It reads model outputs (`model:`). */
  models: boolean;
  /** It reads accounts (`account:`): other contacts' features and account features. */
  accounts: boolean;
  /** It reads voice features (computed apart from contact features). */
  voice: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Adds the windows of `within`/`before` in `ops`; false when there is none. */
function windowsOf(ops: Record<string, unknown>, into: number[]): boolean {
  let found = false;
  for (const op of ['within', 'before'])
    if (typeof ops[op] === 'string') {
      into.push(durationMs(ops[op]));
      found = true;
    }
  return found;
}

/**
 * What the rules of `segments` read that can change a contact's membership without a change to the contact: event
 * windows whose edges events cross, times relative to now, model outputs, accounts, voice features.
 *
 * @example
 * ruleInputs([{ key: 'active', rule: { event: 'email_open', within: '30d' } }]).windows; // [2592000000]
 */
export function ruleInputs(segments: readonly { key: string; rule?: unknown }[]): RuleInputs {
  const out: RuleInputs = { windows: [], clockBound: [], models: false, accounts: false, voice: false };
  const visit = (cond: unknown, key: string): void => {
    if (Array.isArray(cond)) return cond.forEach((c) => visit(c, key));
    if (!isRecord(cond)) return;
    for (const group of NESTING) if (group in cond) visit(cond[group], key);
    if ('account' in cond) out.accounts = true;
    if ('event' in cond) {
      windowsOf(cond, out.windows);
      const where = isRecord(cond.where) ? cond.where : {};
      for (const [property, filter] of Object.entries(where)) {
        if (!isRecord(filter)) continue;
        if (property === 'occurred_at') windowsOf(filter, out.windows);
        else if ('within' in filter || 'before' in filter)
          out.clockBound.push(`segment ${key}: event property ${property} compared with a time relative to now`);
      }
      return;
    }
    if ('model' in cond) out.models = true;
    if (typeof cond.feature === 'string' && VOICE_FEATURE_NAMES.includes(cond.feature)) out.voice = true;
    for (const subject of ['trait', 'feature', 'score', 'model'])
      if (subject in cond && ('within' in cond || 'before' in cond))
        out.clockBound.push(`segment ${key}: ${subject} ${String(cond[subject])} compared with a time relative to now`);
  };
  for (const s of segments) visit(s.rule, s.key);
  out.windows = [...new Set(out.windows)].sort((a, b) => a - b);
  return out;
}
