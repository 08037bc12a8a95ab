/** Reading and writing CSV tables for the analyst commands. */
export * from './csv.js';
