import type { Queryable } from '../store/store.js';
import { percent, type AuditFinding } from './findings.js';

/** The four-fifths rule: a group selected at less than this share of the best-selected group's rate is flagged. */
export const FOUR_FIFTHS = 4 / 5;

/** One group's selection rate by a segment or cluster. */
export interface GroupRate {
  group: string;
  /** Contacts of the group in the base. */
  contacts: number;
  /** Of them, selected (members of the segment, or in the cluster). */
  selected: number;
  rate: number;
  /** This group's rate over the highest judged group's rate; null when no group was selected. */
  impactRatio: number | null;
  /** Below four-fifths of the highest group's rate. */
  flagged: boolean;
}

/** A segment's or a cluster's selection rates per group of one protected attribute. */
export interface SelectionFairness {
  kind: 'segment' | 'cluster';
  /** Segment key, or `model.output` for a cluster. */
  key: string;
  /** Segment name, or the cluster's label. */
  name: string;
  attribute: string;
  /** Contacts with a value for the attribute (scored by the model, for a cluster), and those selected. */
  base: number;
  selected: number;
  /** Groups large enough to judge, highest rate first. */
  groups: GroupRate[];
}

export interface Fairness {
  /** The protected attributes found in contact traits, with their groups in the base (small groups marked). */
  attributes: { attribute: string; contacts: number; groups: { group: string; contacts: number; judged: boolean }[] }[];
  /** Protected attributes listed in config that no contact carries. */
  notPresent: string[];
  minGroupSize: number;
  selections: SelectionFairness[];
}

const AGE_BANDS: [number, string][] = [
  [18, 'under 18'],
  [25, '18-24'],
  [35, '25-34'],
  [45, '35-44'],
  [55, '45-54'],
  [65, '55-64'],
  [Infinity, '65+'],
];

/** The group a trait value falls in: trimmed lower-case text; ages in years go to the usual bands. */
export function groupOf(attribute: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim().toLowerCase();
  if (text === '') return null;
  if (attribute === 'age' && /^\d+(\.\d+)?$/.test(text)) {
    const age = Number(text);
    return (AGE_BANDS.find(([below]) => age < below) as [number, string])[1];
  }
  return text;
}

/** Adds up rows of (selection, raw value, count) into groups per selection. */
function grouped<R extends { v: unknown; n: number }>(
  rows: readonly R[],
  keyOf: (r: R) => string,
  attribute: string,
): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const group = groupOf(attribute, r.v);
    if (group === null) continue;
    const key = keyOf(r);
    const groups = out.get(key) ?? new Map<string, number>();
    groups.set(group, (groups.get(group) ?? 0) + r.n);
    out.set(key, groups);
  }
  return out;
}

function rates(base: Map<string, number>, selected: Map<string, number>, minGroupSize: number): GroupRate[] {
  const groups = [...base.entries()]
    .filter(([, contacts]) => contacts >= minGroupSize)
    .map(([group, contacts]) => ({
      group,
      contacts,
      selected: selected.get(group) ?? 0,
      rate: (selected.get(group) ?? 0) / contacts,
    }));
  const top = groups.reduce<(typeof groups)[number] | undefined>(
    (best, g) => (!best || g.rate > best.rate ? g : best),
    undefined,
  );
  const highest = top?.rate ?? 0;
  return groups
    .map((g) => ({
      ...g,
      impactRatio: highest > 0 ? g.rate / highest : null,
      // In whole numbers (selected × other group's size), so a rate at exactly four-fifths is not flagged by rounding.
      flagged: top !== undefined && highest > 0 && g.selected * top.contacts * 5 < top.selected * g.contacts * 4,
    }))
    .sort((a, b) => b.rate - a.rate || a.group.localeCompare(b.group));
}

/**
 * Selection rates of every active segment and every cluster per group of each protected attribute present in the
 * data, flagging groups selected at under four-fifths of the highest group's rate.
 */
export async function auditFairness(
  store: Queryable,
  protectedAttributes: readonly string[],
  segments: readonly { key: string; name: string }[],
  minGroupSize: number,
): Promise<{ fairness: Fairness; findings: AuditFinding[] }> {
  const fairness: Fairness = { attributes: [], notPresent: [], minGroupSize, selections: [] };
  const findings: AuditFinding[] = [];
  const segmentKeys = new Set(segments.map((s) => s.key));
  const d = store.dialect;
  const baseQuery = `SELECT v, COUNT(*) AS n FROM (SELECT ${d.jsonFieldAt('traits', '?')} AS v FROM contacts WHERE deleted = 0) AS t WHERE v IS NOT NULL GROUP BY v`;
  const segmentQuery = `SELECT m.segment_key AS k, ${d.jsonFieldAt('c.traits', '?')} AS v, COUNT(*) AS n
       FROM memberships m JOIN contacts c ON c.id = m.contact_id WHERE c.deleted = 0 GROUP BY m.segment_key, v`;
  const clusterQuery = `SELECT o.model || '.' || o.output AS k, o.label AS label, ${d.jsonFieldAt('c.traits', '?')} AS v, COUNT(*) AS n
       FROM model_outputs o JOIN contacts c ON c.id = o.contact_id
      WHERE o.label IS NOT NULL AND c.deleted = 0 GROUP BY o.model, o.output, o.label, v`;

  for (const attribute of [...new Set(protectedAttributes)]) {
    const path = d.jsonKey(attribute);
    const base =
      grouped((await store.all(baseQuery, [path])) as { v: unknown; n: number; k: string }[], () => '', attribute).get(
        '',
      ) ?? new Map<string, number>();
    if (base.size === 0) {
      fairness.notPresent.push(attribute);
      continue;
    }
    const contacts = [...base.values()].reduce((sum, n) => sum + n, 0);
    fairness.attributes.push({
      attribute,
      contacts,
      groups: [...base.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([group, n]) => ({ group, contacts: n, judged: n >= minGroupSize })),
    });

    const members = grouped(
      (await store.all(segmentQuery, [path])) as { v: unknown; n: number; k: string }[],
      (r) => r.k,
      attribute,
    );
    for (const s of segments) {
      if (!segmentKeys.has(s.key)) continue;
      const selected = members.get(s.key) ?? new Map<string, number>();
      fairness.selections.push({
        kind: 'segment',
        key: s.key,
        name: s.name,
        attribute,
        base: contacts,
        selected: [...selected.values()].reduce((sum, n) => sum + n, 0),
        groups: rates(base, selected, minGroupSize),
      });
    }

    const clusterRows = (await store.all(clusterQuery, [path])) as {
      v: unknown;
      n: number;
      k: string;
      label: string;
    }[];
    const byModel = new Map<string, typeof clusterRows>();
    for (const r of clusterRows) byModel.set(r.k, [...(byModel.get(r.k) ?? []), r]);
    for (const [model, rows] of [...byModel.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      const scored = grouped(rows, () => '', attribute).get('') ?? new Map<string, number>();
      const scoredContacts = [...scored.values()].reduce((sum, n) => sum + n, 0);
      const byLabel = grouped(rows, (r) => r.label, attribute);
      for (const [label, selected] of [...byLabel.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
        fairness.selections.push({
          kind: 'cluster',
          key: model,
          name: label,
          attribute,
          base: scoredContacts,
          selected: [...selected.values()].reduce((sum, n) => sum + n, 0),
          groups: rates(scored, selected, minGroupSize),
        });
      }
    }
  }

  for (const s of fairness.selections) {
    const flagged = s.groups.filter((g) => g.flagged);
    const top = s.groups[0];
    if (flagged.length === 0 || !top) continue;
    const what = s.kind === 'segment' ? `segment ${s.key}` : `cluster "${s.name}" of ${s.key}`;
    findings.push({
      section: 'fairness',
      code: 'adverse_impact',
      severity: 'warning',
      message: `${what} selects ${flagged
        .map((g) => `${s.attribute} ${g.group} at ${percent(g.rate)} (ratio ${(g.impactRatio ?? 0).toFixed(2)})`)
        .join(', ')} against ${percent(top.rate)} for ${top.group}: below four-fifths of the highest group's rate`,
      count: flagged.reduce((sum, g) => sum + g.contacts, 0),
      names: [s.kind === 'segment' ? s.key : `${s.key}:${s.name}`, ...flagged.map((g) => `${s.attribute}=${g.group}`)],
    });
  }
  return { fairness, findings };
}
