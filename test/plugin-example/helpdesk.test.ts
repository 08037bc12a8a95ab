import { Hono } from 'hono';
import { serveSandbox } from 'segflow/plugins/sandbox';
import { runSourceConformance } from 'segflow/plugins/conformance';
import { source } from './helpdesk.js';

// A plugin author's whole test: a tiny stand-in for the helpdesk API, and one call to the conformance kit.
function helpdesk() {
  const tickets = Array.from({ length: 25 }, (_, i) => ({
    id: i + 1,
    requester_email: `customer${i % 7}@example.com`,
    subject: `Ticket ${i + 1}`,
    status: i % 3 === 0 ? 'solved' : 'open',
    updated_at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
  }));
  const app = new Hono()
    .use('*', async (c, next) =>
      c.req.header('authorization') === 'Bearer good-key' ? next() : c.json({ error: 'unauthorised' }, 401),
    )
    .get('/me', (c) => c.json({ name: 'Acme support' }))
    .get('/tickets', (c) => {
      const since = c.req.query('updated_since') ?? '';
      const from = Number(c.req.query('cursor') || 0);
      const matching = tickets.filter((t) => t.updated_at >= since);
      const page = matching.slice(from, from + 10);
      return c.json({ tickets: page, next_cursor: from + 10 < matching.length ? String(from + 10) : null });
    });
  return serveSandbox(app);
}

runSourceConformance({
  connector: source,
  setup: async () => {
    const server = await helpdesk();
    return {
      config: { baseUrl: server.url, apiKey: 'good-key' },
      badConfig: { baseUrl: server.url, apiKey: 'wrong-key' },
      teardown: () => server.close(),
    };
  },
});
