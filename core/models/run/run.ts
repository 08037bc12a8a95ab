/** Running the config's models over the store: each one fitted, its outputs written and its run recorded. */
import type { Queryable } from '../../store/store.js';
import { clusterChanges, fitClusterModel } from './cluster.js';
import { fitChurnModel } from './churn.js';
import { fitPropensityModel } from './propensity.js';
import { failModelRun, finishModelRun, startModelRun } from './runs.js';
import { parseModelSettings, type ModelSettings } from './settings.js';
import { readFeatures, readLabels, readPurchases, writeOutputs, type OutputColumn } from './store.js';

export interface RunModelsOptions {
  /** The moment the models describe: features as computed at it, purchases up to it. Default: the current time. */
  now?: Date;
  /** Run only these models (names in the `models:` map); default all. */
  only?: readonly string[];
  /** Reporting currency and rates, to value purchases for CLV as the features do. */
  currency?: { reporting: string; rates?: Record<string, number> };
}

/** The outcome of one model's run. */
export interface ModelRunReport {
  model: string;
  kind: string;
  runId: number;
  version: number;
  status: 'succeeded' | 'failed';
  /** Contacts that received outputs. */
  contacts: number;
  /** Clustering: contacts whose cluster changed since the previous run (of those in both). */
  changed?: number;
  /** A one-line account of the run ("k = 4 (elbow and silhouette agree)", "MBG/NBD: 71% bought once", "AUC 0.81"). */
  summary: string;
  error?: string;
}

interface Fitted {
  ids: readonly number[];
  outputs: OutputColumn[];
  metrics: Record<string, unknown>;
  saved: unknown;
  summary: string;
  changed?: number;
}

async function fit(
  store: Queryable,
  name: string,
  settings: ModelSettings,
  options: RunModelsOptions,
  now: Date,
): Promise<Fitted> {
  if (settings.kind === 'kmeans' || settings.kind === 'dbscan' || settings.kind === 'hierarchical') {
    const rows = await readFeatures(store, name, settings.features, settings.fill);
    const outcome = fitClusterModel(name, settings, rows);
    const changes = clusterChanges(rows.ids, outcome.labels, await readLabels(store, name, 'cluster'));
    const m = outcome.metrics;
    const how = m.choice
      ? ` (${m.choice.reasons[m.choice.reasons.length - 1] ?? ''})`
      : m.noise !== undefined
        ? `, ${m.noise} noise`
        : '';
    return {
      ids: rows.ids,
      outputs: outcome.outputs,
      metrics: { ...m, changed: changes },
      saved: outcome.saved,
      summary: `${m.algorithm} k = ${m.k} on ${m.rows} contacts${how}; ${changes.changed} of ${changes.compared} changed cluster`,
      changed: changes.changed,
    };
  }
  if (settings.kind === 'propensity') {
    const outcome = await fitPropensityModel(store, name, settings, now, options.currency);
    return { ...outcome, metrics: { ...outcome.metrics }, summary: outcome.summary };
  }
  const outcome = fitChurnModel(name, settings, await readPurchases(store, now, options.currency), now);
  return {
    ...outcome,
    metrics: { ...outcome.metrics },
    summary: `${outcome.metrics.reason}; ${outcome.metrics.atRisk.above70} of ${outcome.metrics.customers} customers with churn risk above 0.7`,
  };
}

/**
 * Runs models of the config's `models:` map over the store (after features are computed): every setting is
 * validated first (a {@link ModelSettingsError} names `models.<name>.<field>`), then each model is fitted, its
 * per-contact outputs replace the previous ones in `model_outputs` (read by rules as `model: churn.risk`; each row
 * stamped with the run's id and the model's version), and the
 * run is recorded in `model_runs` with its metrics and saved model. A model that fails is recorded as failed and
 * reported; the others still run.
 *
 * @example
 * const reports = runModels(store, config.models, { now: new Date('2026-06-30T00:00:00Z') });
 * // [{ model: 'clusters', kind: 'kmeans', status: 'succeeded', contacts: 4211, changed: 37, summary: 'kmeans k = 4 …' }, …]
 */
export async function runModels(
  store: Queryable,
  models: Record<string, unknown>,
  options: RunModelsOptions = {},
): Promise<ModelRunReport[]> {
  const now = options.now ?? new Date();
  const names = options.only ?? Object.keys(models);
  for (const name of names)
    if (!Object.hasOwn(models, name))
      throw new Error(
        `no model "${name}" under models: in the config (there are: ${Object.keys(models).join(', ') || 'none'})`,
      );
  const settings = names.map((name) => [name, parseModelSettings(name, models[name])] as const);
  const reports: ModelRunReport[] = [];
  for (const [name, s] of settings) {
    const run = await startModelRun(store, name, s.kind, s, now, new Date());
    try {
      const fitted = await fit(store, name, s, options, now);
      await store.transaction(async (tx) => {
        await writeOutputs(tx, name, run, fitted.ids, fitted.outputs, now, true);
        await finishModelRun(tx, run.id, {
          contacts: fitted.ids.length,
          metrics: fitted.metrics,
          saved: fitted.saved,
          finishedAt: new Date(),
        });
      });
      const report: ModelRunReport = {
        model: name,
        kind: s.kind,
        runId: run.id,
        version: run.version,
        status: 'succeeded',
        contacts: fitted.ids.length,
        summary: fitted.summary,
      };
      if (fitted.changed !== undefined) report.changed = fitted.changed;
      reports.push(report);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await failModelRun(store, run.id, message, new Date());
      reports.push({
        model: name,
        kind: s.kind,
        runId: run.id,
        version: run.version,
        status: 'failed',
        contacts: 0,
        summary: `failed: ${message}`,
        error: message,
      });
    }
  }
  return reports;
}
