/**
 * A person's events, in time order: sign-up, orders (deals for business buyers in a CRM, purchases otherwise), the
 * campaigns they were sent with opens and clicks that fade before dropout, an unsubscribe or bounce when their consent
 * changed, page views, CRM calls and meetings, and support tickets.
 */
import { DAY, S, type WorldBasis } from './basis.js';
import type { Behaviour, Order } from './behaviour.js';
import type { Identity } from './people.js';
import { mix32, streamKey } from './random.js';
import { PAGES, TICKET_SUBJECTS } from './tables.js';
import type { EventTool, Person, WorldAudience, WorldCampaign, WorldEvent } from './types.js';

/** Person `i`'s events, given what was already derived of them. */
export type EventGenerator = (i: number, id: Identity, b: Behaviour, p: Person, spend: Order[]) => WorldEvent[];

/** The event generator of a world. */
export function eventGenerator(
  basis: WorldBasis,
  audiences: readonly WorldAudience[],
  campaigns: readonly WorldCampaign[],
): EventGenerator {
  const { seedHash, now, rng } = basis;
  return (i, id, b, p, spend) => {
    const wid = p.worldId;
    const list: Omit<WorldEvent, 'id'>[] = [];
    const add = (
      type: WorldEvent['type'],
      at: number,
      tool: EventTool,
      value: number | null,
      properties: WorldEvent['properties'],
    ) => {
      if (at < now) list.push({ type, at: Math.floor(at), tool, value, properties });
    };
    /** Engagement relative to dropout: full until `decayMs` before it, then falling linearly, then a trickle. */
    const engagement = (t: number) => {
      if (b.dropoutAt === null) return 1;
      if (t >= b.dropoutAt) return 0.08;
      return Math.min(1, Math.max(0.08, (b.dropoutAt - t) / b.decayMs));
    };
    const { hubspot, salesforce, mailchimp } = p.tools;
    const crm: EventTool | null = salesforce ? 'salesforce' : hubspot ? 'hubspot' : null;

    add('signup', p.createdAt, 'web', null, { url: 'https://shop.example/signup' });
    if (hubspot)
      add('form_submit', p.createdAt + 60_000, 'hubspot', null, { form: 'signup', url: 'https://shop.example/signup' });

    b.purchaseTimes.forEach((at, k) => {
      const order = spend[k]!;
      const props = {
        currency: p.currency,
        discount: order.discount,
        category: order.category,
        order_id: `${wid}-o${k}`,
      };
      if (p.b2b && crm) {
        const opened = Math.max(p.createdAt, at - (7 + (mix32(streamKey(seedHash, i, 100 + k)) % 24)) * DAY);
        add('deal_created', opened, crm, order.value, { ...props, stage: 'open' });
        add('deal_won', at, crm, order.value, { ...props, stage: 'closedwon' });
      } else {
        const tool: EventTool = mailchimp ? 'mailchimp' : hubspot ? 'hubspot' : 'web';
        add('purchase', at, tool, order.value, props);
      }
    });

    const mainMember = mailchimp?.audiences.find((m) => m.listId === audiences[0]!.id && m.status !== 'archived');
    const emailTool: EventTool | null = mainMember ? 'mailchimp' : hubspot ? 'hubspot' : null;
    if (emailTool && id.consent !== 'pending') {
      const r = rng(i, S.Email);
      const stopAt = b.consentChangedAt ?? now;
      let last: WorldCampaign | undefined;
      for (const c of campaigns) {
        if (c.sentAt < p.createdAt) continue;
        if (c.sentAt >= stopAt) break;
        last = c;
        const campaign = emailTool === 'mailchimp' ? c.mailchimpId : c.hubspotId;
        const sentAt = c.sentAt + r.int(3_600_000);
        add('email_sent', sentAt, emailTool, null, { campaign_id: campaign, subject: c.subject });
        if (r.chance(b.openProbability * engagement(sentAt))) {
          const openedAt = sentAt + r.exponential(1 / 6) * 3_600_000;
          add('email_open', openedAt, emailTool, null, { campaign_id: campaign });
          if (r.chance(b.clickProbability)) {
            const url = `https://shop.example${r.pick(PAGES)}?utm_campaign=${campaign}`;
            add('email_click', openedAt + r.int(600_000), emailTool, null, { campaign_id: campaign, url });
          }
        }
      }
      if (b.consentChangedAt !== null && last) {
        const campaign = emailTool === 'mailchimp' ? last.mailchimpId : last.hubspotId;
        if (id.consent === 'unsubscribed')
          add('email_unsubscribe', b.consentChangedAt, emailTool, null, { campaign_id: campaign });
        else add('email_bounce', b.consentChangedAt, emailTool, null, { campaign_id: campaign, bounce_type: 'hard' });
      }
    }

    const web = rng(i, S.Web);
    for (
      let t = p.createdAt + web.exponential(0.05) * DAY, n = 0;
      t < now && n < 2000;
      t += web.exponential(0.05) * DAY, n++
    ) {
      if (web.chance(engagement(t)))
        add('page_view', t, 'web', null, { url: `https://shop.example${web.pick(PAGES)}` });
    }

    if (p.b2b && crm) {
      const r = rng(i, S.Crm);
      for (
        let t = p.createdAt + r.exponential(1 / 30) * DAY, n = 0;
        t < now && n < 500;
        t += r.exponential(1 / 30) * DAY, n++
      ) {
        if (!r.chance(engagement(t))) continue;
        const call = r.chance(0.6);
        add(call ? 'call' : 'meeting', t, crm, null, {
          subject: call ? 'Follow-up call' : r.pick(['Demo', 'Quarterly review', 'Discovery meeting']),
          duration_s: 300 + r.int(3300),
        });
      }
    }

    const s = rng(i, S.Support);
    for (let t = p.createdAt + s.exponential(1 / 180) * DAY; t < now; t += s.exponential(1 / 180) * DAY) {
      const status = t < now - 14 * DAY ? 'closed' : s.pick(['open', 'pending']);
      add('support_ticket', t, hubspot ? 'hubspot' : 'web', null, { subject: s.pick(TICKET_SUBJECTS), status });
    }

    list.sort((x, y) => x.at - y.at);
    return list.map((e, n) => ({ id: `${wid}-e${n}`, ...e }));
  };
}
