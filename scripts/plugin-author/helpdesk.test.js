// The plugin author's whole test, in JavaScript: a stand-in for the helpdesk API served by the sandbox kit, and one
// call to the conformance kit.
import { serveSandbox } from 'segflow/plugins/sandbox';
import { runSourceConformance } from 'segflow/plugins/conformance';
import { helpdeskApi } from './helpdesk-api.js';
import { source } from './helpdesk.js';

runSourceConformance({
  connector: source,
  setup: async () => {
    const server = await serveSandbox(helpdeskApi);
    return {
      config: { baseUrl: server.url, apiKey: 'good-key' },
      badConfig: { baseUrl: server.url, apiKey: 'wrong-key' },
      teardown: () => server.close(),
    };
  },
});
