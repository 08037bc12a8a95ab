/**
 * The Salesforce connector against the conformance kit, with the sandbox org on port 0.
 */
import { runDestinationConformance, runSourceConformance } from '../../../plugins/conformance/index.js';
import {
  destination,
  outboundMessage,
  sandboxConfig,
  source,
  startSandbox,
  type SalesforceSandbox,
} from '../../../connectors/salesforce/index.js';
import { salesforceId } from '../../../plugins/sandbox/index.js';

const bad = (sandbox: SalesforceSandbox) => ({ ...sandboxConfig(sandbox), password: 'not-the-password' });

runSourceConformance({
  connector: source,
  async setup() {
    const sandbox = await startSandbox({ seed: 'conformance', people: 300 });
    const organizationId = sandbox.credentials.organizationId as string;
    const body = (org: string) =>
      outboundMessage({
        organizationId: org,
        type: 'Contact',
        records: [{ Id: salesforceId('003', 1), Email: 'Ada@Example.com', LastName: 'Lovelace' }],
      });
    const request = (org: string) => ({
      method: 'POST',
      url: 'https://segflow.example/webhooks/salesforce',
      headers: { 'content-type': 'text/xml' },
      body: body(org),
    });
    return {
      config: sandboxConfig(sandbox),
      badConfig: bad(sandbox),
      webhook: { good: request(organizationId), tampered: request(salesforceId('00D', 999)) },
      teardown: () => sandbox.close(),
    };
  },
});

runDestinationConformance({
  connector: destination,
  badRow: { op: 'add', contact: { contactId: 'ghost', email: null, externalIds: [salesforceId('003', 99_999_999)] } },
  async setup() {
    const sandbox = await startSandbox({ seed: 'conformance-dest', people: 100 });
    return {
      config: { ...sandboxConfig(sandbox), createLeads: true },
      badConfig: bad(sandbox),
      teardown: () => sandbox.close(),
    };
  },
});
