/** The world's Mailchimp audiences and the weekly email campaigns sent across its history. */
import { DAY, S, type WorldBasis } from './basis.js';
import { mix32 } from './random.js';
import type { WorldAudience, WorldCampaign } from './types.js';

/** The two audiences: `[0]` the newsletter, `[1]` product updates. */
export function worldAudiences(basis: WorldBasis): WorldAudience[] {
  return [
    { id: hex10(basis.seedHash, 1), name: 'Newsletter' },
    { id: hex10(basis.seedHash, 2), name: 'Product updates' },
  ];
}

/** One campaign every `campaignEveryDays` from the start of history, oldest first. */
export function worldCampaigns(basis: WorldBasis): WorldCampaign[] {
  const { seedHash, start, now, proc, rng } = basis;
  const campaigns: WorldCampaign[] = [];
  for (let k = 0, at = start + 15 * 3_600_000; at < now; k++, at += proc.campaignEveryDays * DAY) {
    const r = rng(k, S.Campaign);
    campaigns.push({
      index: k,
      mailchimpId: hex10(seedHash, 1000 + k),
      hubspotId: String(5_000_001 + k),
      sentAt: at,
      subject: `${r.pick(['Weekly picks', 'New arrivals', 'Last chance', 'Members only', 'Tips & news'])} #${k + 1}`,
    });
  }
  return campaigns;
}

function hex10(seedHash: number, n: number): string {
  const a = mix32(seedHash ^ mix32(n * 0x9e3779b1 + 17))
    .toString(16)
    .padStart(8, '0');
  const b = mix32(seedHash ^ mix32(n * 0x85ebca6b + 91))
    .toString(16)
    .padStart(8, '0');
  return (a + b).slice(0, 10);
}
