// The HubSpot source and destination pass the conformance kit against the sandbox (real SDK, port 0).
import { runDestinationConformance, runSourceConformance } from '../../../plugins/conformance/index.js';
import { destination, sandboxConfig, source, startSandbox } from '../../../connectors/hubspot/index.js';

const limits = { requestsPerInterval: 10_000, searchPerSecond: 1_000 };
const context = { budget: { requests: 10_000, intervalMs: 10_000 } };

runSourceConformance({
  connector: source,
  context,
  setup: async () => {
    const sandbox = await startSandbox({ seed: 'conformance', people: 300, limits, customEvents: true });
    return {
      config: { ...sandboxConfig(sandbox), searchPerSecond: 1_000 },
      badConfig: { accessToken: 'pat-wrong', basePath: sandbox.url },
      teardown: () => sandbox.close(),
    };
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
      members: live.map((c) => ({ contactId: `c-${c.id}`, email: (c.properties.email ?? '').toLowerCase(), externalIds: [c.id] })),
      badRow: { op: 'add', contact: { contactId: 'ghost', email: null, externalIds: ['424242424242'] } },
      teardown: () => sandbox.close(),
    };
  },
});
