/* global Response, URL */
// The plugin author's whole test, in JavaScript: a stand-in for the helpdesk API served by the sandbox kit, and one
// call to the conformance kit.
import { serveSandbox } from 'segflow/plugins/sandbox';
import { runSourceConformance } from 'segflow/plugins/conformance';
import { source } from './helpdesk.js';

const tickets = Array.from({ length: 25 }, (_, i) => ({
  id: i + 1,
  requester_email: `customer${i % 7}@example.com`,
  subject: `Ticket ${i + 1}`,
  status: i % 3 === 0 ? 'solved' : 'open',
  updated_at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
}));

const helpdeskApi = {
  fetch(request) {
    if (request.headers.get('authorization') !== 'Bearer good-key')
      return Response.json({ error: 'unauthorised' }, { status: 401 });
    const url = new URL(request.url);
    if (url.pathname === '/me') return Response.json({ name: 'Acme support' });
    const since = url.searchParams.get('updated_since') ?? '';
    const from = Number(url.searchParams.get('cursor') || 0);
    const matching = tickets.filter((t) => t.updated_at >= since);
    const page = matching.slice(from, from + 10);
    return Response.json({ tickets: page, next_cursor: from + 10 < matching.length ? String(from + 10) : null });
  },
};

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
