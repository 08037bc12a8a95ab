/**
 * The sandbox worker's entry (see startSandboxesInWorker): draws the world, starts the asked sandboxes on it, posts
 * back where they listen, and closes them (saving their state) when told to.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { createWorld } from '../plugins/sandbox/index.js';
import { SANDBOXES, type RunningSandbox, type SandboxThreadMessage, type SandboxThreadOptions } from './sandboxes.js';

const port = parentPort;
if (!port) throw new Error('cli/sandbox-worker.ts runs as a worker thread');
const post = (message: SandboxThreadMessage) => port.postMessage(message);
const options = workerData as SandboxThreadOptions;
const running: RunningSandbox[] = [];

port.on('message', (message: unknown) => {
  if (message !== 'close') return;
  void Promise.all(running.map((s) => s.close())).finally(() => {
    post({ type: 'closed' });
    port.close();
  });
});

try {
  const world = createWorld({ seed: options.seed, people: options.people });
  for (const tool of options.tools) {
    const start = SANDBOXES[tool];
    if (!start) throw new Error(`no sandbox for "${tool}" (there are: ${Object.keys(SANDBOXES).join(', ')})`);
    running.push(
      await start({
        world,
        ...(options.stateDir === undefined ? {} : { statePath: join(options.stateDir, `${tool}.json`) }),
        ...(options.limits?.[tool] === undefined ? {} : { limits: options.limits[tool] }),
        ...(options.recordBodies === undefined ? {} : { recordBodies: options.recordBodies }),
      }),
    );
  }
  post({ type: 'started', sandboxes: running.map(({ tool, url, credentials, config }) => ({ tool, url, credentials, config })) });
} catch (error) {
  await Promise.all(running.map((s) => s.close()));
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  port.close();
}
