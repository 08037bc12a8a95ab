/**
 * BG/NBD and MBG/NBD purchase models: the calibration summary built from purchases, the maximum-likelihood fit, and
 * P(alive), expected purchases and P(no purchase) for a customer.
 */
export * from './summary.js';
export * from './fit.js';
export * from './predict.js';
export * from './simulate.js';
