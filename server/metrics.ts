/**
 * GET /metrics in the Prometheus text format: runs by job and status, records read and changes sent, rejected rows,
 * API calls, retries and 429s per connection, changes waiting per destination, queue depth, store sizes; and the
 * process's own (memory, CPU, event-loop lag, handles, garbage collection) from prom-client's default collectors.
 */
import { Hono } from 'hono';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { runTotals } from '../core/index.js';
import { storeTotals } from '../core/views/index.js';
import type { CallStats } from '../plugins/index.js';
import { addCallStats } from './call-counts.js';
import type { Shared } from './routes/shared.js';

const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

class Exposition {
  private readonly lines: string[] = [];
  metric(name: string, type: 'counter' | 'gauge', help: string, samples: [Record<string, string>, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${label(v)}"`)
        .join(',');
      this.lines.push(`${name}${text ? `{${text}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

let processRegistry: Registry | undefined;

/**
 * One registry of process metrics per process: the default collectors sample the event loop's delay continuously from
 * the first /metrics app on, and registering them twice would make duplicate series.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });
  }
  return processRegistry;
}

export function metricsRoutes(shared: Shared): Hono {
  const registry = processMetrics();
  const { deps } = shared;
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const runs = await runTotals(deps.store);
    const totals = await storeTotals(deps.store);
    // job runs and the real-time flusher (deps.connectionStats) plus the server's own checks and erasures
    const stats: Record<string, CallStats> = { ...(deps.connectionStats?.() ?? {}) };
    for (const ctx of shared.contexts.values()) stats[ctx.connection] = addCallStats(stats[ctx.connection], ctx.stats);
    const connections = Object.entries(stats).sort(([a], [b]) => a.localeCompare(b));
    const m = new Exposition();
    m.metric(
      'segflow_runs_total',
      'counter',
      'Sync runs recorded, by job and status.',
      runs.byJobStatus.map((r) => [{ job: r.job, status: r.status }, r.runs]),
    );
    m.metric('segflow_records_read_total', 'counter', 'Records read from sources by all runs.', [
      [{}, runs.counts.read ?? 0],
    ]);
    m.metric('segflow_records_loaded_total', 'counter', 'Records inserted or updated in the store by all runs.', [
      [{ outcome: 'inserted' }, runs.counts.inserted ?? 0],
      [{ outcome: 'updated' }, runs.counts.updated ?? 0],
    ]);
    m.metric('segflow_changes_sent_total', 'counter', 'Membership changes accepted by destinations, by operation.', [
      [{ op: 'add' }, runs.counts.added ?? 0],
      [{ op: 'remove' }, runs.counts.removed ?? 0],
    ]);
    m.metric('segflow_rejected_rows_total', 'counter', 'Rows rejected by the store or a destination.', [
      [{}, runs.counts.rejected ?? 0],
    ]);
    m.metric('segflow_run_errors', 'gauge', 'Per-row errors kept in the store.', [[{}, runs.rejectedRows]]);
    m.metric(
      'segflow_api_calls_total',
      'counter',
      'API requests made, per connection.',
      connections.map(([name, s]) => [{ connection: name }, s.requests]),
    );
    m.metric(
      'segflow_api_retries_total',
      'counter',
      'API requests retried, per connection.',
      connections.map(([name, s]) => [{ connection: name }, s.retries]),
    );
    m.metric(
      'segflow_api_rate_limited_total',
      'counter',
      'API requests answered 429 (rate limited), per connection.',
      connections.map(([name, s]) => [{ connection: name }, s.rateLimited]),
    );
    m.metric(
      'segflow_changes_waiting',
      'gauge',
      'Changes left retryable per destination, waiting for the next run.',
      Object.entries(totals.waiting).map(([d, n]) => [{ destination: d }, n]),
    );
    m.metric(
      'segflow_queue_depth',
      'gauge',
      'Items waiting in in-memory queues (real-time flusher).',
      Object.entries((await deps.queueDepth?.()) ?? {}).map(([q, n]) => [{ queue: q }, n]),
    );
    m.metric('segflow_contacts', 'gauge', 'Contacts in the store.', [[{}, totals.contacts]]);
    m.metric('segflow_events', 'gauge', 'Events in the store.', [[{}, totals.events]]);
    m.metric('segflow_suppressions', 'gauge', 'Suppressed identities (erased contacts).', [[{}, totals.suppressions]]);
    return c.body(`${m.toString()}${await registry.metrics()}`, 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    });
  });
  return app;
}
