/**
 * Models over the store, as jobs run them: the config's `models:` entries validated, fitted on features and purchase
 * events, their per-contact outputs written to `model_outputs`, every run recorded in `model_runs` (metrics and the
 * saved model), and new or changed contacts scored with the latest saved run.
 */
export type { ClusterMetrics, SavedClusterModel } from './cluster.js';
export type { ChurnMetrics, SavedChurnModel } from './churn.js';
export type { PropensityMetrics, PropensityRows, SavedPropensityModel } from './propensity.js';
export { POINT_IN_TIME_FEATURES, propensityRows } from './propensity.js';
export type { ModelRun, ModelRunStatus, ModelRunSummary } from './runs.js';
export { latestModelRun, listModelRuns, readModelRun } from './runs.js';
export type { ModelRunReport, RunModelsOptions } from './run.js';
export { runModels } from './run.js';
export type { ContactScore, ScoreOptions } from './score.js';
export { scoreContacts } from './score.js';
export type { ChurnSettings, ClusterSettings, ModelSettings, PropensitySettings } from './settings.js';
export { ModelSettingsError, parseModelSettings } from './settings.js';
export { modelMigrations } from './migrations.js';
