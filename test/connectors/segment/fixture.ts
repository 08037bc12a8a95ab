/** What the Segment destination tests share: a quiet logger, a sandbox and its config, a context. */
import { createContext } from '../../../plugins/index.js';
import {
  destination,
  sandboxConfig,
  startSandbox,
  type DestinationConfig,
  type SegmentSandbox,
} from '../../../connectors/segment/index.js';

export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Starts a sandbox and parses the destination config that points at it. */
export async function openSandbox(seed: string): Promise<{ sandbox: SegmentSandbox; config: DestinationConfig }> {
  const sandbox = await startSandbox({ seed });
  return { sandbox, config: destination.spec.parse(sandboxConfig(sandbox)) };
}

/** A connector context with the destination's classifier, `maxAttempts` attempts and retries of milliseconds. */
export function contextOf(maxAttempts: number, options: { withBudget?: boolean; maxDelayMs?: number } = {}) {
  return createContext({
    connection: 'segment-test',
    ...(options.withBudget && destination.rateBudget ? { budget: destination.rateBudget } : {}),
    classifyError: (error) => destination.classifyError?.(error),
    retry: { maxAttempts, baseDelayMs: options.maxDelayMs === undefined ? 1 : 10, maxDelayMs: options.maxDelayMs ?? 5 },
    logger: quiet,
  });
}
