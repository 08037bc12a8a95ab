import { planPush } from '../planner/plan.js';
import type { Queryable } from '../store/store.js';
import { plural, type AuditFinding } from './findings.js';
import type { AuditOptions } from './options.js';

export interface StreamFreshness {
  connection: string;
  stream: string;
  /** When the stream's last page was committed (its last successful read), null when never read. */
  lastRead: string | null;
  /** The newest cursor committed, as an ISO time, when the cursor is a time. */
  cursor: string | null;
  /** How far the newest cursor is behind now (ms): how old the freshest change the store has from the tool is. */
  lagMs: number | null;
  /** Rows the store refused from this stream since its last successful read. */
  failuresSince: number;
  /** Runs of the jobs reading this stream that failed or were partial since its last successful read. */
  failedRunsSince: number;
}

export interface DestinationFreshness {
  destination: string;
  /** The newest delivery recorded, null when nothing was ever delivered. */
  lastDelivery: string | null;
  /** Rows delivered (members now in the tool, as last pushed). */
  delivered: number;
  /** Rows the tool refused at the last try, and rows waiting to be retried. */
  rejected: number;
  retryable: number;
  /** Changes the next push would send (adds and removes), as the planner counts them; null when no push is configured. */
  waiting: { adds: number; removes: number } | null;
}

export interface Freshness {
  streams: StreamFreshness[];
  destinations: DestinationFreshness[];
  staleAfterMs: number;
}

/** A cursor as milliseconds: ISO text, or a number of milliseconds (seconds when it is too small to be ms). */
function cursorMs(cursor: unknown): number | null {
  if (typeof cursor === 'number' && Number.isFinite(cursor)) return cursor < 1e11 ? cursor * 1000 : cursor;
  if (typeof cursor === 'string' && /^\d{4}-\d{2}-\d{2}/.test(cursor)) {
    const ms = Date.parse(cursor);
    return Number.isFinite(ms) ? ms : null;
  }
  if (typeof cursor === 'string' && /^\d{10,13}$/.test(cursor)) return cursorMs(Number(cursor));
  return null;
}

interface FinishedRun {
  job: string;
  status: string;
  /** When it finished (started, when it has no finish time). */
  at: string;
  /** Per stream (`connection\u0000stream`) its outcome, from the run's report; null when the run stored none. */
  outcomes: Map<string, string> | null;
}

/** Finished sync runs with the per-stream outcomes of their read steps (the report `runJob` stores). */
async function readRuns(store: Queryable): Promise<FinishedRun[]> {
  const rows = (await store.all(
    "SELECT job, status, started_at, finished_at, report FROM sync_runs WHERE status <> 'running' ORDER BY started_at",
  )) as { job: string; status: string; started_at: string; finished_at: string | null; report: string | null }[];
  return rows.map((r) => {
    let outcomes: Map<string, string> | null = null;
    const report = r.report === null ? null : (JSON.parse(r.report) as { steps?: unknown } | null);
    if (report && Array.isArray(report.steps)) {
      outcomes = new Map();
      for (const step of report.steps as { kind?: unknown; sources?: unknown }[]) {
        if (step?.kind !== 'read' || !Array.isArray(step.sources)) continue;
        for (const source of step.sources as { source?: unknown; streams?: unknown }[]) {
          if (typeof source?.source !== 'string' || !Array.isArray(source.streams)) continue;
          for (const stream of source.streams as { stream?: unknown; status?: unknown }[]) {
            if (typeof stream?.stream === 'string' && typeof stream.status === 'string')
              outcomes.set(`${source.source}\u0000${stream.stream}`, stream.status);
          }
        }
      }
    }
    return { job: r.job, status: r.status, at: r.finished_at ?? r.started_at, outcomes };
  });
}

function days(ms: number): string {
  const d = ms / 86_400_000;
  return d >= 1 ? plural(Math.floor(d), 'day') : plural(Math.floor(ms / 3_600_000), 'hour');
}

/** Per stream the last successful read, its lag and the failures since; per destination the last delivery and what waits. */
export async function auditFreshness(
  store: Queryable,
  options: AuditOptions,
  now: Date,
): Promise<{ freshness: Freshness; findings: AuditFinding[] }> {
  const staleAfterMs = options.staleAfterMs ?? 2 * 86_400_000;
  const checkpoints = (await store.all(
    'SELECT connection, stream, state, updated_at FROM stream_checkpoints ORDER BY connection, stream',
  )) as {
    connection: string;
    stream: string;
    state: string;
    updated_at: string;
  }[];
  const key = (c: string, s: string) => `${c}\u0000${s}`;
  const wanted = new Map<string, { connection: string; stream: string; jobs: readonly string[] }>();
  for (const s of options.streams ?? [])
    wanted.set(key(s.connection, s.stream), { connection: s.connection, stream: s.stream, jobs: s.jobs ?? [] });
  for (const c of checkpoints)
    if (!wanted.has(key(c.connection, c.stream)))
      wanted.set(key(c.connection, c.stream), { connection: c.connection, stream: c.stream, jobs: [] });

  const errorsSince = 'SELECT COUNT(*) AS n FROM run_errors WHERE connection = ? AND stream = ? AND created_at > ?';
  const runs = await readRuns(store);
  const streams: StreamFreshness[] = [];
  for (const s of [...wanted.values()].sort(
    (a, b) => a.connection.localeCompare(b.connection) || a.stream.localeCompare(b.stream),
  )) {
    const checkpoint = checkpoints.find((c) => c.connection === s.connection && c.stream === s.stream);
    const state = checkpoint ? (JSON.parse(checkpoint.state) as { cursor?: unknown } | null) : null;
    const ms = cursorMs(state?.cursor);
    const streamKey = key(s.connection, s.stream);
    // A committed page, or a run whose report says the stream succeeded (an empty stream commits no page).
    const succeeded = runs.filter((r) => r.outcomes?.get(streamKey) === 'succeeded').map((r) => r.at);
    const lastRead =
      [checkpoint?.updated_at, ...succeeded]
        .filter((t): t is string => t !== undefined)
        .sort()
        .pop() ?? null;
    const since = lastRead ?? '';
    const failedRuns = runs.filter((r) => {
      if (r.at <= since) return false;
      // A run with a report says per stream; an older run without one counts when its job reads the stream and it failed.
      if (r.outcomes) return r.outcomes.get(streamKey) === 'failed';
      return (r.status === 'failed' || r.status === 'partial') && s.jobs.includes(r.job);
    });
    streams.push({
      connection: s.connection,
      stream: s.stream,
      lastRead,
      cursor: ms === null ? null : new Date(ms).toISOString(),
      lagMs: ms === null ? null : Math.max(0, now.getTime() - ms),
      failuresSince: ((await store.get(errorsSince, [s.connection, s.stream, since])) as { n: number }).n,
      failedRunsSince: failedRuns.length,
    });
  }

  const deliveredRows = (await store.all(`SELECT destination, MAX(delivered_at) AS last,
              SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS delivered,
              SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
              SUM(CASE WHEN status = 'retryable' THEN 1 ELSE 0 END) AS retryable
         FROM delivered_state GROUP BY destination ORDER BY destination`)) as {
    destination: string;
    last: string | null;
    delivered: number;
    rejected: number;
    retryable: number;
  }[];
  const names = [
    ...new Set([...(options.destinations ?? []).map((d) => d.name), ...deliveredRows.map((d) => d.destination)]),
  ].sort();
  const destinations: DestinationFreshness[] = [];
  for (const name of names) {
    destinations.push(
      await (async (): Promise<DestinationFreshness> => {
        const row = deliveredRows.find((d) => d.destination === name);
        const pushes = options.destinations?.find((d) => d.name === name)?.pushes ?? [];
        let waiting: DestinationFreshness['waiting'] = null;
        if (pushes.length > 0) {
          waiting = { adds: 0, removes: 0 };
          for (const push of pushes) {
            const plans = await planPush(store, {
              destination: name,
              segments: push.segments,
              mode: push.mode,
              maxRetries: push.maxRetries ?? 3,
              ...(push.identitiesFrom !== undefined ? { identitiesFrom: push.identitiesFrom } : {}),
              ...(push.requireConsent !== undefined ? { requireConsent: push.requireConsent } : {}),
            });
            for (const plan of plans)
              for (const change of plan.changes) waiting[change.op === 'add' ? 'adds' : 'removes']++;
          }
        }
        return {
          destination: name,
          lastDelivery: row?.last ?? null,
          delivered: row?.delivered ?? 0,
          rejected: row?.rejected ?? 0,
          retryable: row?.retryable ?? 0,
          waiting,
        };
      })(),
    );
  }

  const findings: AuditFinding[] = [];
  const named = (s: StreamFreshness) => `${s.connection}.${s.stream}`;
  const never = streams.filter((s) => s.lastRead === null);
  if (never.length > 0) {
    findings.push({
      section: 'freshness',
      code: 'stream_never_read',
      severity: 'warning',
      message: `${plural(never.length, 'stream')} never read: ${never.map(named).join(', ')}`,
      count: never.length,
      names: never.map(named),
    });
  }
  for (const s of streams) {
    if (s.lagMs !== null && s.lagMs > staleAfterMs) {
      findings.push({
        section: 'freshness',
        code: 'stream_stale',
        severity: 'warning',
        message: `${named(s)} is ${days(s.lagMs)} behind the tool (newest change read ${s.cursor ?? '?'}; stale after ${days(staleAfterMs)})`,
        count: 1,
        names: [named(s)],
      });
    }
    if (s.failuresSince > 0 || s.failedRunsSince > 0) {
      const parts = [
        ...(s.failuresSince > 0 ? [`${plural(s.failuresSince, 'row')} refused`] : []),
        ...(s.failedRunsSince > 0 ? [`${plural(s.failedRunsSince, 'failed or partial run')}`] : []),
      ];
      findings.push({
        section: 'freshness',
        code: 'stream_failures',
        severity: 'warning',
        message: `${named(s)}: ${parts.join(' and ')} since its last successful read${s.lastRead ? ` (${s.lastRead})` : ''}`,
        count: s.failuresSince + s.failedRunsSince,
        names: [named(s)],
      });
    }
  }
  for (const d of destinations) {
    if (d.lastDelivery === null && d.waiting !== null) {
      findings.push({
        section: 'freshness',
        code: 'destination_never_delivered',
        severity: 'warning',
        message: `${d.destination} has never received a delivery`,
        count: 1,
        names: [d.destination],
      });
    }
    if (d.waiting !== null && d.waiting.adds + d.waiting.removes > 0) {
      findings.push({
        section: 'freshness',
        code: 'changes_waiting',
        severity: 'notice',
        message: `${plural(d.waiting.adds + d.waiting.removes, 'change')} waiting for ${d.destination} (${d.waiting.adds} adds, ${d.waiting.removes} removes)${d.lastDelivery ? `; last delivery ${d.lastDelivery}` : ''}`,
        count: d.waiting.adds + d.waiting.removes,
        names: [d.destination],
      });
    }
    if (d.rejected > 0) {
      findings.push({
        section: 'freshness',
        code: 'delivery_rejected',
        severity: 'warning',
        message: `${d.destination} refused ${plural(d.rejected, 'row')} at the last try${d.retryable > 0 ? `; ${d.retryable} more wait for a retry` : ''}`,
        count: d.rejected,
        names: [d.destination],
      });
    }
  }
  return { freshness: { streams, destinations, staleAfterMs }, findings };
}
