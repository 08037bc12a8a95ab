/** Customer lifetime value over a horizon with a monthly discount rate, from BG/NBD and Gamma-Gamma. */
export * from './lifetime-value.js';
