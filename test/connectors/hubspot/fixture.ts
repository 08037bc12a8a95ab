/**
 * What the HubSpot connector tests share: a quiet logger, limits that never slow a test, a sandbox per test, and an
 * incremental read of one stream.
 */
import { onTestFinished } from 'vitest';
import { createContext, systemClock, type Clock, type ContactRecord } from '../../../plugins/index.js';
import {
  classifyHubSpotError,
  hubspotSpec,
  source,
  startSandbox,
  type HubSpotSandbox,
} from '../../../connectors/hubspot/index.js';

export const quiet = { debug() {}, info() {}, warn() {}, error() {} };
/** HubSpot's rate limits raised (page sizes, batch limits and the search cap stay HubSpot's). */
export const fast = { requestsPerInterval: 100_000, searchPerSecond: 100_000, daily: 10_000_000 };

/** Starts a sandbox that closes when the current test finishes. */
export async function sandboxForTest(options: Parameters<typeof startSandbox>[0]): Promise<HubSpotSandbox> {
  const sandbox = await startSandbox(options);
  onTestFinished(() => sandbox.close());
  return sandbox;
}

/** Reads one stream incrementally from `state` through the real SDK; its records, checkpoints and context. */
export async function readStream(
  name: string,
  raw: Record<string, unknown>,
  state: Record<string, unknown> | undefined,
  budget = { requests: 100_000, intervalMs: 10_000 },
  clock: Clock = systemClock,
) {
  const config = hubspotSpec.parse(raw);
  const ctx = createContext({
    connection: 'test',
    budget,
    clock,
    classifyError: classifyHubSpotError,
    logger: quiet,
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
  });
  const stream = source.streams(config).find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name}`);
  const records: ContactRecord[] = [];
  const states: Record<string, unknown>[] = [];
  for await (const message of stream.read({ config, mode: 'incremental', state }, ctx)) {
    if (message.type === 'record') records.push(message.record as ContactRecord);
    else states.push(message.state);
  }
  return { records, states, ctx };
}
