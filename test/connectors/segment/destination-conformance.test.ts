/**
 * The Segment destination passes the conformance kit against its sandbox, with Segment's 24-hour messageId
 * deduplication on: the kit gives each entry and exit its own id and repeats it only for a replayed batch. Segment
 * cannot list a segment's members, so the run reads the members it wrote back per profile, and says so. It runs with
 * the membership track ("Segment Entered") and without it (`sendTrack: false`, the identify alone).
 */
import { runDestinationConformance } from '../../../plugins/conformance/index.js';
import { destination, readProfilesMembership, sandboxConfig, startSandbox } from '../../../connectors/segment/index.js';

for (const sendTrack of [true, false])
  runDestinationConformance({
    connector: destination,
    readBack: {
      how: `per profile, through Segment's Profile API${sendTrack ? '' : ' (identify only: sendTrack false)'}`,
      read: readProfilesMembership,
    },
    badRow: {
      op: 'add',
      contact: { contactId: 'bad', email: 'big@example.com', externalIds: [] },
      traits: { notes: 'x'.repeat(40_000) },
      messageId: 'conformance-bad',
    },
    setup: async () => {
      const sandbox = await startSandbox({ seed: 'dest-conformance' });
      return {
        config: { ...sandboxConfig(sandbox), sendTrack },
        badConfig: { ...sandboxConfig(sandbox), sendTrack, writeKey: 'not-the-write-key' },
        teardown: () => sandbox.close(),
      };
    },
  });
