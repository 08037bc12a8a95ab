/**
 * The Segment destination passes the conformance kit against its sandbox. The kit reuses one messageId per member
 * and operation across its checks (a second "remove" after a re-add carries the first one's id), which Segment
 * would drop as a replay; so this run's sandbox keeps no deduplication window. Deduplication is pinned in
 * destination.test.ts.
 */
import { runDestinationConformance } from '../../../plugins/conformance/index.js';
import { destination, sandboxConfig, startSandbox } from '../../../connectors/segment/index.js';

runDestinationConformance({
  connector: destination,
  badRow: { op: 'add', contact: { contactId: 'bad', email: 'big@example.com', externalIds: [] }, traits: { notes: 'x'.repeat(40_000) }, messageId: 'conformance-bad' },
  setup: async () => {
    const sandbox = await startSandbox({ seed: 'dest-conformance', limits: { dedupWindowMs: 0 } });
    return {
      config: sandboxConfig(sandbox),
      badConfig: { ...sandboxConfig(sandbox), writeKey: 'not-the-write-key' },
      teardown: () => sandbox.close(),
    };
  },
});
