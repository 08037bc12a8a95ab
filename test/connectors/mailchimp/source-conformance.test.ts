/** The Mailchimp source passes the conformance kit against its sandbox. */
import { runSourceConformance } from '../../../plugins/conformance/index.js';
import { sandboxConfig, source, startSandbox } from '../../../connectors/mailchimp/index.js';

const token = 'conformance-webhook-token';
const body =
  'type=unsubscribe&fired_at=2026-06-29+10%3A00%3A00&data%5Baction%5D=unsub&data%5Breason%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=Ada%40Example.com&data%5Bemail_type%5D=html&data%5Bmerges%5D%5BEMAIL%5D=Ada%40Example.com&data%5Bmerges%5D%5BFNAME%5D=Ada&data%5Bcampaign_id%5D=cb398d21d2';

runSourceConformance({
  connector: source,
  maxRecords: 5_000,
  setup: async () => {
    const sandbox = await startSandbox({ seed: 'conformance', people: 600 });
    return {
      config: { ...sandboxConfig(sandbox), webhookSecret: token },
      badConfig: { ...sandboxConfig(sandbox), apiKey: '0123456789abcdef0123456789abcdef-us21' },
      teardown: () => sandbox.close(),
    };
  },
  webhook: {
    good: {
      method: 'POST',
      url: `https://segflow.example/webhooks/mailchimp?token=${token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    },
    tampered: {
      method: 'POST',
      url: `https://segflow.example/webhooks/mailchimp?token=guessed-token-123`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    },
  },
});
