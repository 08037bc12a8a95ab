/**
 * Where Salesforce's real API is stricter than a naive sandbox, and the connector must still work: the JWT bearer
 * flow's audience with a My Domain login URL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createContext, type Logger } from '../../../plugins/index.js';
import {
  classifySalesforceError,
  destination,
  salesforceSpec,
  sandboxConfig,
  startSandbox,
  type SalesforceSandbox,
} from '../../../connectors/salesforce/index.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const open: SalesforceSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sandboxOf(options: Parameters<typeof startSandbox>[0]): Promise<SalesforceSandbox> {
  const sandbox = await startSandbox(options);
  open.push(sandbox);
  return sandbox;
}

const contextOf = () =>
  createContext({
    connection: 'salesforce-test',
    logger: quiet,
    classifyError: classifySalesforceError,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });

describe('Salesforce JWT bearer flow', () => {
  it('signs for https://login.salesforce.com when the login URL is the org’s own (My Domain) URL', async () => {
    const sandbox = await sandboxOf({ seed: 'jwt', people: 20 });
    // The sandbox's URL stands in for https://acme.my.salesforce.com: the token is posted there, the audience is not it.
    const config = salesforceSpec.parse(sandboxConfig(sandbox, 'jwt'));
    expect(await destination.check(config, contextOf())).toEqual({ ok: true });
  });

  it('signs for the configured audience (a sandbox org’s https://test.salesforce.com), and says why a wrong one fails', async () => {
    const sandbox = await sandboxOf({ seed: 'jwt', people: 20, jwtAudience: 'https://test.salesforce.com' });
    const base = sandboxConfig(sandbox, 'jwt');
    const wrong = await destination.check(salesforceSpec.parse(base), contextOf());
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.reason).toMatch(/audience is invalid/);
    const right = salesforceSpec.parse({ ...base, audience: 'https://test.salesforce.com' });
    expect(await destination.check(right, contextOf())).toEqual({ ok: true });
  });
});
