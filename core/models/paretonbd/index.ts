/**
 * The Pareto/NBD purchase model: purchases at a Poisson rate while alive, an exponential lifetime, both rates
 * gamma-distributed across customers. Maximum-likelihood fit, P(alive), expected purchases and the conditional
 * expectation for a customer with a given history.
 */
export * from './fit.js';
export * from './predict.js';
