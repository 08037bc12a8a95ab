/**
 * Jobs (schedule, last and next run; start one; clear a stuck lock) and runs (paged list, one run with its rejected
 * rows, cancel, retry its rejected rows, and its progress as server-sent events).
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { hasEntry, nextRuns } from '../../config/index.js';
import { requeueRejectedRows } from '../../core/delivery/index.js';
import { lastRunOf, listRunPage, readRun, readRunErrorPage, requestCancel, unlockJob } from '../../core/index.js';
import { noteActivity } from '../activity.js';
import { ApiError, idParam, jsonBody, queryOf } from './errors.js';
import { runJobBody, runQuery, runsQuery, unlockJobBody } from './schemas.js';
import { paging, type Shared } from './shared.js';

export function jobRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();

  app.get('/jobs', async (c) =>
    c.json({
      scheduler: deps.scheduler === undefined ? 'absent' : deps.scheduler.alive() ? 'alive' : 'stopped',
      jobs: await Promise.all(
        Object.entries(deps.config.jobs).map(async ([name, job]) => {
          const last = await lastRunOf(deps.store, name);
          return {
            name,
            ...(job.description ? { description: job.description } : {}),
            schedule: job.schedule ?? null,
            timezone: job.timezone,
            steps: job.steps.map((s) => Object.keys(s)[0]),
            lastRun: last
              ? { id: last.id, status: last.status, startedAt: last.startedAt, finishedAt: last.finishedAt }
              : null,
            nextRun: nextRuns(job, 1)[0]?.toISOString() ?? null,
          };
        }),
      ),
    }),
  );

  app.post('/jobs/:name/run', async (c) => {
    const name = c.req.param('name');
    if (!hasEntry(deps.config.jobs, name)) throw new ApiError(404, 'not_found', `no job "${name.slice(0, 80)}"`);
    const { dryRun } = await jsonBody(c, runJobBody);
    noteActivity(c, { dryRun: dryRun === true });
    const started = await deps.startJob(name, dryRun ? { dryRun: true } : {});
    noteActivity(c, { status: started.status, ...(started.runId === undefined ? {} : { runId: started.runId }) });
    shared.logger.info('job run requested', {
      job: name,
      dryRun: dryRun === true,
      status: started.status,
      runId: started.runId,
    });
    if (started.status === 'locked') throw new ApiError(409, 'conflict', `job "${name}" is already running`);
    if (dryRun) return c.json({ job: name, dryRun: true, status: started.status, plan: started.plan ?? null });
    return c.json({ job: name, runId: started.runId ?? null, status: started.status }, 202);
  });

  app.post('/jobs/:name/unlock', async (c) => {
    const name = c.req.param('name');
    if (!hasEntry(deps.config.jobs, name)) throw new ApiError(404, 'not_found', `no job "${name.slice(0, 80)}"`);
    const { force } = await jsonBody(c, unlockJobBody);
    const outcome = await unlockJob(deps.store, name, { force: force === true });
    if (outcome.live)
      throw new ApiError(
        409,
        'conflict',
        `job "${name}" is held by process ${outcome.live.pid} on this host, which is still running: stop it, or send {"force": true}`,
      );
    shared.logger.info('job lock cleared', { job: name, abandonedRuns: outcome.abandonedRuns });
    noteActivity(c, { cleared: outcome.cleared, abandonedRuns: outcome.abandonedRuns.length });
    return c.json({ job: name, cleared: outcome.cleared, abandonedRuns: outcome.abandonedRuns });
  });

  app.get('/runs', async (c) => {
    const q = queryOf(c, runsQuery);
    const { runs, total } = await listRunPage(deps.store, {
      ...(q.job ? { job: q.job } : {}),
      limit: q.per_page,
      offset: (q.page - 1) * q.per_page,
    });
    return c.json({ runs: runs.map(withTimings), ...paging(q.page, q.per_page, total) });
  });

  app.get('/runs/:id', async (c) => {
    const id = idParam(c, 'id');
    const q = queryOf(c, runQuery);
    const run = await readRun(deps.store, id);
    if (!run) throw new ApiError(404, 'not_found', `no run ${id}`);
    const { errors, total } = await readRunErrorPage(deps.store, id, {
      limit: q.errors_per_page,
      offset: (q.errors_page - 1) * q.errors_per_page,
    });
    return c.json({
      ...withTimings(run),
      rejected: { rows: errors, ...paging(q.errors_page, q.errors_per_page, total) },
    });
  });

  app.post('/runs/:id/cancel', async (c) => {
    const id = idParam(c, 'id');
    const run = await readRun(deps.store, id);
    if (!run) throw new ApiError(404, 'not_found', `no run ${id}`);
    if (run.status !== 'running') throw new ApiError(409, 'conflict', `run ${id} is not running (it is ${run.status})`);
    if (!(await requestCancel(deps.store, id))) throw new ApiError(409, 'conflict', `run ${id} is no longer running`);
    shared.logger.info('run cancel requested', { runId: id });
    return c.json({ runId: id, status: 'cancelling' }, 202);
  });

  // The rows a run's pushes rejected go back in line (retryable, no attempt counted), and the job runs again to send
  // them: for after their cause is fixed (a field the tool refused, a missing list, a permission).
  app.post('/runs/:id/retry', async (c) => {
    const id = idParam(c, 'id');
    const run = await readRun(deps.store, id);
    if (!run) throw new ApiError(404, 'not_found', `no run ${id}`);
    if (run.status === 'running') throw new ApiError(409, 'conflict', `run ${id} is still running`);
    if (!hasEntry(deps.config.jobs, run.job))
      throw new ApiError(409, 'conflict', `job "${run.job}" is no longer in the config`);
    const requeued = await requeueRejectedRows(deps.store, id);
    noteActivity(c, { requeued });
    if (requeued === 0) throw new ApiError(409, 'conflict', `run ${id} has no rejected push rows left to retry`);
    const started = await deps.startJob(run.job, {});
    noteActivity(c, { status: started.status, ...(started.runId === undefined ? {} : { runId: started.runId }) });
    shared.logger.info('rejected rows requeued', { runId: id, requeued, retryRunId: started.runId });
    if (started.status === 'locked')
      return c.json(
        { runId: null, requeued, status: 'queued', message: `job "${run.job}" is running; its next run sends them` },
        202,
      );
    return c.json({ job: run.job, runId: started.runId ?? null, requeued, status: started.status }, 202);
  });

  // A run as it goes: a `run` event whenever its status, counts or report change, until it finishes (then the stream
  // ends). The store is the source, so it works for runs of any process (the scheduler, a worker, the CLI).
  app.get('/runs/:id/events', async (c) => {
    const id = idParam(c, 'id');
    const first = await readRun(deps.store, id);
    if (!first) throw new ApiError(404, 'not_found', `no run ${id}`);
    return streamSSE(c, async (stream) => {
      let closed = false;
      stream.onAbort(() => {
        closed = true;
      });
      let last = '';
      let run = first;
      let beat = 0;
      for (;;) {
        const data = JSON.stringify(withTimings(run));
        if (data !== last) {
          last = data;
          await stream.writeSSE({ event: 'run', data, id: String(beat) });
        } else if (beat % 20 === 0) {
          await stream.writeSSE({ event: 'ping', data: '{}' });
        }
        if (closed || run.status !== 'running') break;
        await stream.sleep(RUN_EVENT_POLL_MS);
        beat += 1;
        const next = await readRun(deps.store, id);
        if (!next) break;
        run = next;
      }
      if (!closed) await stream.writeSSE({ event: 'end', data: JSON.stringify({ status: run.status }) });
    });
  });
  return app;
}

/** How often a run's event stream looks at the run in the store. */
const RUN_EVENT_POLL_MS = 250;

function withTimings<R extends { startedAt: string; finishedAt: string | null }>(run: R) {
  const durationMs = run.finishedAt === null ? null : Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  return { ...run, durationMs };
}
