/**
 * The tool sandboxes the CLI can start — for the demo, for plugin authors, and for trying a connector by hand.
 * Each renders the same seeded world, so one person is seen consistently by every tool.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { nodeFlagsFor, runnableEntry, typescriptWorker } from '../core/index.js';
import * as hubspot from '../connectors/hubspot/index.js';
import * as mailchimp from '../connectors/mailchimp/index.js';
import * as salesforce from '../connectors/salesforce/index.js';
import * as segment from '../connectors/segment/index.js';
import type { World } from '../plugins/sandbox/index.js';

export interface StartOptions {
  port?: number;
  seed?: number | string;
  people?: number;
  world?: World;
  statePath?: string;
  limits?: Record<string, number>;
  recordBodies?: boolean;
}

/** A running sandbox, described for a person and for a connector config. */
export interface RunningSandbox {
  tool: string;
  url: string;
  /** Credentials the sandbox accepts (sandbox-only values, safe to print). */
  credentials: Record<string, unknown>;
  /** The connector config that points at this sandbox. */
  config: Record<string, unknown>;
  close(): Promise<void>;
}

type Starter = (options: StartOptions) => Promise<RunningSandbox>;

const definedOnly = (options: StartOptions) =>
  Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as StartOptions;

/** The sandboxes by tool name. */
export const SANDBOXES: Record<string, Starter> = {
  async hubspot(options) {
    const sandbox = await hubspot.startSandbox(definedOnly(options));
    return {
      tool: 'hubspot',
      url: sandbox.url,
      credentials: sandbox.credentials,
      config: hubspot.sandboxConfig(sandbox),
      close: () => sandbox.close(),
    };
  },
  async salesforce(options) {
    const sandbox = await salesforce.startSandbox(definedOnly(options));
    return {
      tool: 'salesforce',
      url: sandbox.url,
      credentials: { ...sandbox.credentials, privateKey: '(RSA key for the JWT flow; see sandboxConfig)' },
      config: salesforce.sandboxConfig(sandbox),
      close: () => sandbox.close(),
    };
  },
  async mailchimp(options) {
    const sandbox = await mailchimp.startSandbox(definedOnly(options));
    return {
      tool: 'mailchimp',
      url: sandbox.url,
      credentials: sandbox.credentials,
      config: mailchimp.sandboxConfig(sandbox),
      close: () => sandbox.close(),
    };
  },
  async segment(options) {
    const { people: _people, world: _world, ...rest } = definedOnly(options);
    const sandbox = await segment.startSandbox(rest);
    return {
      tool: 'segment',
      url: sandbox.url,
      credentials: sandbox.credentials,
      config: segment.sandboxConfig(sandbox),
      close: () => sandbox.close(),
    };
  },
};

/** What {@link startSandboxesInWorker} starts: tools on one world drawn from seed and people. */
export interface SandboxThreadOptions {
  tools: readonly string[];
  seed: string;
  people: number;
  /** Each tool persists what was written to it in `<stateDir>/<tool>.json`. */
  stateDir?: string;
  /** Limits per tool, passed to its sandbox as `limits` (e.g. a paid tier's rate limit). */
  limits?: Record<string, Record<string, number>>;
  /** Keep request bodies in the recorders (default true); nobody reads them in a worker, so the demo turns it off. */
  recordBodies?: boolean;
  /** Days of the world's history (default 730); a shorter history holds fewer events per person. */
  historyDays?: number;
  /**
   * Run them in a child process instead of a worker thread: their memory then counts apart from this process's, as
   * the pipeline benchmark needs to measure segflow's own peak RSS beside a world of a million people.
   */
  process?: boolean;
}

/** What the sandbox worker posts back. */
export type SandboxThreadMessage =
  | {
      type: 'started';
      sandboxes: { tool: string; url: string; credentials: Record<string, unknown>; config: Record<string, unknown> }[];
    }
  | { type: 'closed' }
  | { type: 'failed'; message: string };

/**
 * Starts sandboxes in a worker thread (or a child process) on the same seeded world, so the HTTP handling of every
 * tool runs on another core than the sync reading from it. Closing any of them closes them all and ends the thread (after each has saved
 * its state).
 *
 * @example
 * const sandboxes = await startSandboxesInWorker({ tools: ['hubspot', 'mailchimp'], seed: 'demo', people: 20_000 });
 * sandboxes[0].config; // the connector config pointing at the HubSpot sandbox
 * await Promise.all(sandboxes.map((s) => s.close()));
 */
export async function startSandboxesInWorker(options: SandboxThreadOptions): Promise<RunningSandbox[]> {
  const entry = new URL('./sandbox-worker.ts', import.meta.url);
  const peer: Worker | ChildProcess = options.process
    ? spawn(process.execPath, [...nodeFlagsFor(entry), fileURLToPath(runnableEntry(entry)), JSON.stringify(options)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
    : typescriptWorker(entry, options);
  const tell = (message: string) => (peer instanceof Worker ? peer.postMessage(message) : peer.send(message));
  const where = options.process ? 'process' : 'worker';
  const exited = new Promise<void>((resolve) => peer.once('exit', () => resolve()));
  const started = await new Promise<Extract<SandboxThreadMessage, { type: 'started' }>>((resolve, reject) => {
    peer.once('error', reject);
    peer.once('exit', (code) =>
      reject(new Error(`the sandbox ${where} exited (code ${code}) before its sandboxes started`)),
    );
    peer.once('message', (message: SandboxThreadMessage) => {
      if (message.type === 'started') resolve(message);
      else
        reject(
          new Error(message.type === 'failed' ? message.message : `the sandbox ${where} closed before it started`),
        );
    });
  });
  // A sandbox that crashes its thread after the start ends the demo's calls to it with connection errors; say why.
  peer.on('error', (error: Error) => process.stderr.write(`sandbox ${where} failed: ${error.message}\n`));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      tell('close');
      await exited;
    })());
  return started.sandboxes.map((s) => ({ ...s, close }));
}
