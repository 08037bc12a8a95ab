// A complete small source plugin: support tickets from a helpdesk's REST API, as `support_ticket` events.
// Published as an npm package, it is used from YAML with `plugin: "@acme/segflow-helpdesk"`.
import { z } from 'zod';
import { ConfigError, defineSource, secret, TransientError } from 'segflow/plugins';

const spec = z.object({
  baseUrl: z.string().url(),
  apiKey: secret(z.string().min(1)),
});

interface TicketPage {
  tickets: { id: number; requester_email: string; subject: string; status: string; updated_at: string }[];
  next_cursor: string | null;
}

export const source = defineSource({
  name: 'helpdesk',
  spec,
  rateBudget: { requests: 50, intervalMs: 60_000 }, // the helpdesk allows 50 requests a minute

  async check(config, ctx) {
    const response = await ctx.call('me', () => fetch(`${config.baseUrl}/me`, { headers: auth(config.apiKey) }));
    return response.ok
      ? { ok: true }
      : { ok: false, reason: `the helpdesk refused the API key (HTTP ${response.status})` };
  },

  classifyError(error) {
    const status = (error as { status?: number }).status;
    if (status === 401) return new ConfigError('the helpdesk refused the API key', { fix: 'set HELPDESK_API_KEY' });
    if (status === 429 || (status ?? 0) >= 500) return new TransientError(`helpdesk answered ${status}`);
    return undefined;
  },

  streams: () => [
    {
      name: 'tickets',
      recordKind: 'event',
      primaryKey: 'sourceEventId',
      cursorField: 'occurredAt',
      modes: ['full_refresh', 'incremental'],
      async *read({ config, state }, ctx) {
        let cursor = typeof state?.cursor === 'string' ? state.cursor : '1970-01-01T00:00:00.000Z';
        // Pages of one query: the cursor moves as tickets arrive, but the query keeps the time it started from.
        const since = cursor;
        let page: string | null = '';
        while (page !== null) {
          const url = `${config.baseUrl}/tickets?updated_since=${encodeURIComponent(since)}&cursor=${page}`;
          const body: TicketPage = await ctx.call('tickets.list', async () => {
            const response = await fetch(url, { headers: auth(config.apiKey) });
            if (!response.ok) throw Object.assign(new Error(await response.text()), { status: response.status });
            return (await response.json()) as TicketPage;
          });
          for (const ticket of body.tickets) {
            yield {
              type: 'record',
              record: {
                kind: 'event',
                source: 'helpdesk',
                sourceEventId: `${ticket.id}@${ticket.updated_at}`,
                type: 'support_ticket',
                occurredAt: ticket.updated_at,
                contact: { email: ticket.requester_email },
                properties: { subject: ticket.subject, status: ticket.status },
              },
            };
            if (ticket.updated_at > cursor) cursor = ticket.updated_at;
          }
          yield { type: 'state', state: { cursor } };
          page = body.next_cursor;
        }
      },
    },
  ],
});

const auth = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });
