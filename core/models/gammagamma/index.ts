/** The Gamma-Gamma spend model: fit, and the expected average order value of a customer. */
export * from './fit.js';
