/** Worker threads on segflow's own TypeScript modules. */
export { typescriptWorker } from './typescript-worker.js';
