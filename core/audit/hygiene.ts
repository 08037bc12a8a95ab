import type { Queryable } from '../store/store.js';
import { percent, plural, type AuditFinding } from './findings.js';

export interface SegmentHygiene {
  /** The active segments with their current members (holdout excluded). */
  segments: { key: string; name: string; members: number }[];
  maxActive: number;
  minSize: number;
  tooSmall: { key: string; name: string; members: number }[];
  /** Pairs whose Jaccard index (shared / either) reaches the threshold. */
  overlapping: { a: string; b: string; shared: number; jaccard: number }[];
  overlapJaccard: number;
}

/** Too many segments, segments under the minimum size, pairs overlapping almost entirely. */
export async function auditSegments(
  store: Queryable,
  configured: readonly { key: string; name?: string }[] | undefined,
  limits: { maxActive: number; minSize: number; overlapJaccard: number },
): Promise<{ segments: SegmentHygiene; findings: AuditFinding[] }> {
  const counts = new Map(
    (
      (await store.all('SELECT segment_key AS key, COUNT(*) AS n FROM memberships GROUP BY segment_key')) as {
        key: string;
        n: number;
      }[]
    ).map((r) => [r.key, r.n]),
  );
  const active: readonly { key: string; name?: string }[] =
    configured ?? [...counts.keys()].sort().map((key) => ({ key }));
  const segments = active.map((s) => ({ key: s.key, name: s.name ?? s.key, members: counts.get(s.key) ?? 0 }));
  const tooSmall = segments.filter((s) => s.members < limits.minSize);
  const keys = new Set(segments.map((s) => s.key));

  const pairs = (await store.all(`SELECT a.segment_key AS a, b.segment_key AS b, COUNT(*) AS shared
         FROM memberships a JOIN memberships b ON b.contact_id = a.contact_id AND b.segment_key > a.segment_key
        GROUP BY a.segment_key, b.segment_key`)) as { a: string; b: string; shared: number }[];
  const overlapping = pairs
    .filter((p) => keys.has(p.a) && keys.has(p.b))
    .map((p) => ({ ...p, jaccard: p.shared / ((counts.get(p.a) ?? 0) + (counts.get(p.b) ?? 0) - p.shared) }))
    .filter((p) => p.jaccard >= limits.overlapJaccard)
    .sort((x, y) => y.jaccard - x.jaccard || x.a.localeCompare(y.a) || x.b.localeCompare(y.b));

  const findings: AuditFinding[] = [];
  if (segments.length > limits.maxActive) {
    findings.push({
      section: 'segments',
      code: 'too_many_segments',
      severity: 'notice',
      message: `${plural(segments.length, 'active segment')}, more than ${limits.maxActive}: overlapping audiences are hard to act on and to keep apart`,
      count: segments.length,
      names: segments.map((s) => s.key),
    });
  }
  for (const s of tooSmall) {
    findings.push({
      section: 'segments',
      code: 'segment_too_small',
      severity: 'warning',
      message: `${s.key}${s.name !== s.key ? ` (${s.name})` : ''} has ${plural(s.members, 'member')}, under the minimum of ${limits.minSize}`,
      count: s.members,
      names: [s.key],
    });
  }
  for (const p of overlapping) {
    findings.push({
      section: 'segments',
      code: 'segments_overlap',
      severity: 'warning',
      message: `${p.a} and ${p.b} overlap almost entirely: ${plural(p.shared, 'shared member')} (Jaccard ${percent(p.jaccard)})`,
      count: p.shared,
      names: [p.a, p.b],
    });
  }
  return {
    segments: {
      segments,
      maxActive: limits.maxActive,
      minSize: limits.minSize,
      tooSmall,
      overlapping,
      overlapJaccard: limits.overlapJaccard,
    },
    findings,
  };
}
