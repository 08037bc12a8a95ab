// The HubSpot source and destination pass the conformance kit against the sandbox (real SDK, port 0).
import { runDestinationConformance, runSourceConformance } from '../../../plugins/conformance/index.js';
import { Signature } from '@hubspot/api-client';
import { destination, sandboxConfig, source, startSandbox } from '../../../connectors/hubspot/index.js';

const limits = { requestsPerInterval: 10_000, searchPerSecond: 1_000 };
const context = { budget: { requests: 10_000, intervalMs: 10_000 } };

const clientSecret = 'conformance-app-secret';
const hookUrl = 'https://segflow.example/webhooks/hubspot';
const at = 1_780_000_000_000;
const events = JSON.stringify([
  {
    eventId: 1,
    subscriptionId: 9,
    portalId: 62515,
    appId: 1,
    occurredAt: at - 2_000,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: 1000001,
    changeSource: 'CRM',
    propertyName: 'firstname',
    propertyValue: 'Ada',
  },
  {
    eventId: 2,
    subscriptionId: 10,
    portalId: 62515,
    appId: 1,
    occurredAt: at - 1_000,
    subscriptionType: 'contact.deletion',
    attemptNumber: 0,
    objectId: 1000002,
    changeSource: 'CRM',
  },
]);
// Signed by the official SDK's v3 implementation, not ours.
const sign = (secret: string) =>
  Signature.getSignature('POST', 'v3', {
    signature: '',
    clientSecret: secret,
    requestBody: events,
    url: hookUrl,
    timestamp: at,
  });
const hookHeaders = (signature: string) => ({
  'content-type': 'application/json',
  'x-hubspot-request-timestamp': String(at),
  'x-hubspot-signature-v3': signature,
});

runSourceConformance({
  connector: source,
  context,
  setup: async () => {
    const sandbox = await startSandbox({ seed: 'conformance', people: 300, limits, customEvents: true });
    return {
      config: { ...sandboxConfig(sandbox), searchPerSecond: 1_000, clientSecret },
      badConfig: { accessToken: 'pat-wrong', basePath: sandbox.url },
      teardown: () => sandbox.close(),
    };
  },
  webhook: {
    now: at + 1_000,
    good: { method: 'POST', url: hookUrl, headers: hookHeaders(sign(clientSecret)), body: events },
    tampered: { method: 'POST', url: hookUrl, headers: hookHeaders(sign('guessed-secret')), body: events },
  },
});

runDestinationConformance({
  connector: destination,
  context,
  setup: async () => {
    const sandbox = await startSandbox({ seed: 'conformance-out', people: 300, limits });
    const live = [...sandbox.portal.contacts.values()].filter((c) => !c.archived).slice(0, 3);
    return {
      config: sandboxConfig(sandbox),
      badConfig: { accessToken: 'pat-wrong', basePath: sandbox.url },
      members: live.map((c) => ({
        contactId: `c-${c.id}`,
        email: (c.properties.email ?? '').toLowerCase(),
        externalIds: [c.id],
      })),
      badRow: { op: 'add', contact: { contactId: 'ghost', email: null, externalIds: ['424242424242'] } },
      teardown: () => sandbox.close(),
    };
  },
});
