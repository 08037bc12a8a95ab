/**
 * Models: the config's models with what they wrote per contact; one model's outputs in detail; the people a model
 * scored (a histogram bar's, a cluster's), ranked by churn risk × lifetime value.
 */
import { Hono } from 'hono';
import { namedEntry } from '../../config/index.js';
import { latestModelRun, listModelRuns } from '../../core/index.js';
import { modelOutputHistogram, modelOutputSummaries, scoredPeople } from '../../core/views/index.js';
import { ApiError, queryOf } from './errors.js';
import { peopleQuery } from './schemas.js';
import { paging, type Shared } from './shared.js';

export function modelRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  app.get('/models', async (c) => {
    const outputs = await modelOutputSummaries(deps.store);
    return c.json({
      models: await Promise.all(
        Object.entries(deps.config.models).map(async ([name, settings]) => ({
          name,
          kind: typeof settings.kind === 'string' ? settings.kind : null,
          settings,
          outputs: outputs.filter((o) => o.model === name),
          lastRun: (await listModelRuns(deps.store, { model: name, limit: 1 }))[0] ?? null,
        })),
      ),
    });
  });
  app.get('/models/:name', async (c) => {
    const name = c.req.param('name');
    const settings = namedEntry(deps.config.models, name);
    if (!settings) throw new ApiError(404, 'not_found', `no model "${name.slice(0, 80)}"`);
    // The latest successful run's metrics: inertia and silhouette per k, the chosen k and why, AUC, cluster profiles.
    const latest = await latestModelRun(deps.store, name);
    const kind = typeof settings.kind === 'string' ? settings.kind : null;
    const churn = kind === 'churn' || kind === 'bgnbd' || kind === 'mbgnbd';
    return c.json({
      name,
      kind,
      settings,
      outputs: await modelOutputSummaries(deps.store, name),
      run: latest ? { ...latest, saved: undefined } : null,
      // the currency monetary values (CLV, spend) are in
      currency: deps.config.currency.reporting,
      runs: await listModelRuns(deps.store, { model: name, limit: 50 }),
      // contacts per bin of churn risk (twenty 5% bins) and of lifetime value, for the console's histograms
      distributions: churn
        ? {
            risk: { bins: await modelOutputHistogram(deps.store, name, 'risk', { bins: 20, min: 0, max: 1 }) },
            clv: { bins: await modelOutputHistogram(deps.store, name, 'clv', { bins: 20 }) },
          }
        : {},
    });
  });
  app.get('/models/:name/people', async (c) => {
    const name = c.req.param('name');
    if (!namedEntry(deps.config.models, name)) throw new ApiError(404, 'not_found', `no model "${name.slice(0, 80)}"`);
    const q = queryOf(c, peopleQuery);
    const { people, total } = await scoredPeople(deps.store, name, {
      output: q.output,
      ...(q.from === undefined ? {} : { from: q.from }),
      ...(q.to === undefined ? {} : { to: q.to }),
      toInclusive: q.to_inclusive === 'true',
      ...(q.label === undefined ? {} : { label: q.label }),
      limit: q.per_page,
      offset: (q.page - 1) * q.per_page,
    });
    return c.json({ model: name, output: q.output, people, ...paging(q.page, q.per_page, total) });
  });
  return app;
}
