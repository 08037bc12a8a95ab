/** Scoring new and changed contacts with a model's latest saved run, without refitting (the real-time path). */
import type { Queryable } from '../../store/store.js';
import { assignClusters } from '../kmeans/index.js';
import { churnSummary, scoreChurn, type SavedChurnModel } from './churn.js';
import type { SavedClusterModel } from './cluster.js';
import { scorePropensity, type SavedPropensityModel } from './propensity.js';
import { latestModelRun } from './runs.js';
import { readFeatures, readPurchases, writeOutputs } from './store.js';

/** One contact's new score: its cluster (number and name) for clustering models, its main value otherwise. */
export interface ContactScore {
  contactId: number;
  /** Cluster number (clustering), P(alive) (churn), or probability (propensity). */
  value: number;
  /** Cluster name (clustering) or the purchase model that scored it (churn). */
  label: string | null;
  /** The model version (run) that scored it, as stored with its outputs. */
  version: number;
}

export interface ScoreOptions {
  /** The moment of the scores (churn and propensity look at events up to it). Default: the current time. */
  now?: Date;
  currency?: { reporting: string; rates?: Record<string, number> };
}

/**
 * Scores the given contacts with the model's latest succeeded run and writes their `model_outputs` rows, stamped with
 * that run's id and version (contacts it cannot score, e.g. with an empty feature or no purchase, lose theirs).
 * Clustering models assign each contact to the nearest saved centroid after the saved preparation, so a new contact is
 * placed exactly as the base was. Features must be up to date for these contacts (recomputeContacts) before a
 * clustering model scores them.
 *
 * @example
 * recomputeContacts(store, [42, 43], { now });
 * scoreContacts(store, 'clusters', [42, 43]); // [{ contactId: 42, value: 2, label: 'High-Value Frequent', version: 3 }, …]
 */
export async function scoreContacts(
  store: Queryable,
  model: string,
  contactIds: readonly number[],
  options: ScoreOptions = {},
): Promise<ContactScore[]> {
  const run = await latestModelRun(store, model);
  if (!run) throw new Error(`model "${model}" has no successful run to score with (run the models first)`);
  const now = options.now ?? new Date();
  let ids: number[];
  let scores: ContactScore[];
  let outputs: Parameters<typeof writeOutputs>[4];
  if (run.kind === 'kmeans' || run.kind === 'hierarchical') {
    const saved = run.saved as unknown as SavedClusterModel;
    const rows = await readFeatures(store, model, saved.features, saved.fill, contactIds);
    const clusters = assignClusters(saved, rows.columns);
    ids = rows.ids;
    const labels = Array.from(clusters, (c) => saved.names[c] ?? String(c));
    outputs = [{ output: 'cluster', values: Array.from(clusters), labels }];
    scores = ids.map((contactId, i) => ({
      contactId,
      value: clusters[i] as number,
      label: labels[i] as string,
      version: run.version,
    }));
  } else if (run.kind === 'churn' || run.kind === 'bgnbd' || run.kind === 'mbgnbd') {
    const saved = run.saved as unknown as SavedChurnModel;
    const wanted = new Set(contactIds);
    const { ids: customers, summary } = churnSummary(
      (await readPurchases(store, now, options.currency)).filter((p) => wanted.has(p.contact)),
      now,
    );
    ids = customers;
    outputs = scoreChurn(saved, summary);
    const alive = outputs[0]?.values ?? [];
    scores = ids.map((contactId, i) => ({
      contactId,
      value: alive[i] as number,
      label: saved.purchases.model,
      version: run.version,
    }));
  } else if (run.kind === 'propensity') {
    const saved = run.saved as unknown as SavedPropensityModel;
    const scored = await scorePropensity(store, saved, saved.preparation.features, now, options.currency, contactIds);
    ids = scored.ids;
    outputs = scored.outputs;
    const values = outputs[0]?.values ?? [];
    scores = ids.map((contactId, i) => ({ contactId, value: values[i] as number, label: null, version: run.version }));
  } else {
    throw new Error(
      `model "${model}" is a ${run.kind} model, which cannot score new contacts without a refit (DBSCAN has no centroids to assign to); run the models again`,
    );
  }
  await store.transaction(async (tx) => {
    await writeOutputs(tx, model, run, contactIds, [], now, false);
    await writeOutputs(tx, model, run, ids, outputs, now, false);
  });
  return scores;
}
