/** The Mailchimp destination passes the conformance kit against its sandbox, as tags and as static segments. */
import { runDestinationConformance } from '../../../plugins/conformance/index.js';
import { destination, sandboxConfig, startSandbox } from '../../../connectors/mailchimp/index.js';

for (const membershipAs of ['tags', 'static_segments'] as const) {
  runDestinationConformance({
    connector: destination,
    segment: { key: `conformance_${membershipAs}`, name: `Conformance ${membershipAs}` },
    badRow: { op: 'add', contact: { contactId: 'bad', email: 'not-an-email', externalIds: [] } },
    setup: async () => {
      const sandbox = await startSandbox({ seed: 'dest-conformance', people: 300 });
      const audienceId = sandbox.world.audiences[0]!.id;
      const hashes = sandbox.account.listMembers(audienceId).slice(0, 3);
      const members = hashes.map((entry, i) => {
        const member = sandbox.account.member(audienceId, entry.hash)!;
        return {
          contactId: `c${i}`,
          email: member.email.toLowerCase(),
          externalIds: [member.hash],
          emailConsent: member.status,
        };
      });
      return {
        config: { ...sandboxConfig(sandbox), audienceId, membershipAs },
        badConfig: { ...sandboxConfig(sandbox), audienceId, apiKey: '0123456789abcdef0123456789abcdef-us21' },
        members,
        teardown: () => sandbox.close(),
      };
    },
  });
}
