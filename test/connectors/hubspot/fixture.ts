/** What the HubSpot connector tests share: a quiet logger, limits that never slow a test, a sandbox per test. */
import { onTestFinished } from 'vitest';
import { startSandbox, type HubSpotSandbox } from '../../../connectors/hubspot/index.js';

export const quiet = { debug() {}, info() {}, warn() {}, error() {} };
/** HubSpot's rate limits raised (page sizes, batch limits and the search cap stay HubSpot's). */
export const fast = { requestsPerInterval: 100_000, searchPerSecond: 100_000, daily: 10_000_000 };

/** Starts a sandbox that closes when the current test finishes. */
export async function sandboxForTest(options: Parameters<typeof startSandbox>[0]): Promise<HubSpotSandbox> {
  const sandbox = await startSandbox(options);
  onTestFinished(() => sandbox.close());
  return sandbox;
}
