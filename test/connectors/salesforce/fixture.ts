/** What the Salesforce connector tests share: a quiet logger, a sandbox org per test, a context with quick retries. */
import { onTestFinished } from 'vitest';
import { createContext, type Logger } from '../../../plugins/index.js';
import { classifySalesforceError, startSandbox, type SalesforceSandbox } from '../../../connectors/salesforce/index.js';

export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Starts a sandbox org that closes when the current test finishes. */
export async function sandboxOf(options: Parameters<typeof startSandbox>[0]): Promise<SalesforceSandbox> {
  const sandbox = await startSandbox(options);
  onTestFinished(() => sandbox.close());
  return sandbox;
}

/** A connector context with Salesforce's error classifier and retries of a few milliseconds. */
export const contextOf = () =>
  createContext({
    connection: 'salesforce-test',
    logger: quiet,
    classifyError: classifySalesforceError,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
