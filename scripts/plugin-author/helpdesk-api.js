/* global Response, URL */
// A stand-in for the helpdesk's REST API, shared by the plugin author's conformance test (served by the sandbox kit)
// and by scripts/plugin-author-check.sh's `segflow run` from YAML: 25 tickets from 7 requesters, 10 per page.

export const tickets = Array.from({ length: 25 }, (_, i) => ({
  id: i + 1,
  requester_email: `customer${i % 7}@example.com`,
  subject: `Ticket ${i + 1}`,
  status: i % 3 === 0 ? 'solved' : 'open',
  updated_at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
}));

export const helpdeskApi = {
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
