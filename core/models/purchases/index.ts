/**
 * The purchase models side by side: BG/NBD, MBG/NBD and Pareto/NBD fitted and used by name, and the choice among
 * them by holdout (lifetimes' calibration-versus-holdout table per frequency bucket).
 */
export * from './model.js';
export * from './holdout.js';
