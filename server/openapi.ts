/**
 * The OpenAPI 3.1 document served at GET /openapi.json, built from the same zod schemas the routes validate with.
 */
import { z } from 'zod';
import {
  activityQuery,
  auditQuery,
  contactsQuery,
  errorResponse,
  historyQuery,
  membersCsvQuery,
  membersQuery,
  migrationQuery,
  peopleQuery,
  previewBody,
  runJobBody,
  runQuery,
  runsQuery,
  sessionBody,
  unlockJobBody,
} from './routes/schemas.js';
import {
  archiveSegmentBody,
  createSegmentBody,
  exportQuery,
  libraryQuery,
  saveSegmentBody,
} from './routes/segment-library.js';
import { emptySegmentBody } from './routes/segments.js';
import { accountsQuery } from './routes/accounts.js';
import { voiceMessagesQuery, voicePeopleQuery, voiceTopicsQuery, voiceTrendQuery } from './routes/voice.js';

type Access = 'none' | 'read' | 'admin';

interface Operation {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  access: Access;
  body?: z.ZodType;
  query?: z.ZodObject;
  params?: string[];
  status?: number;
}

/** Every endpoint of the API (the console's pages and ingestion document themselves elsewhere). */
export const OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Whether the store answers, the scheduler is alive and real time runs',
    access: 'none',
  },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', access: 'read' },
  { method: 'get', path: '/openapi.json', summary: 'This document', access: 'read' },
  {
    method: 'post',
    path: '/session',
    summary: 'Open a console session from a token (sets an HttpOnly cookie)',
    access: 'none',
    body: sessionBody,
    status: 201,
  },
  {
    method: 'get',
    path: '/session',
    summary: "The console session's role (401 without one)",
    access: 'none',
  },
  { method: 'delete', path: '/session', summary: 'Close the console session', access: 'none', status: 204 },
  {
    method: 'get',
    path: '/connections',
    summary: 'Sources and destinations with their last check (secrets left out)',
    access: 'read',
  },
  {
    method: 'post',
    path: '/connections/{name}/check',
    summary: "Run a connection's check",
    access: 'admin',
    params: ['name'],
  },
  { method: 'get', path: '/jobs', summary: 'Jobs with schedule, last and next run', access: 'read' },
  {
    method: 'post',
    path: '/jobs/{name}/run',
    summary: 'Start a run (or plan a dry run)',
    access: 'admin',
    params: ['name'],
    body: runJobBody,
    status: 202,
  },
  {
    method: 'post',
    path: '/jobs/{name}/unlock',
    summary: "Clear a job's lock whose holder will not come back, marking its unfinished runs abandoned",
    access: 'admin',
    params: ['name'],
    body: unlockJobBody,
  },
  { method: 'get', path: '/runs', summary: 'Runs, newest first, paged', access: 'read', query: runsQuery },
  {
    method: 'get',
    path: '/runs/{id}',
    summary: 'One run: status, counts, timings and rejected rows (paged)',
    access: 'read',
    params: ['id'],
    query: runQuery,
  },
  {
    method: 'post',
    path: '/runs/{id}/cancel',
    summary: 'Ask a running run to stop after its current page or batch',
    access: 'admin',
    params: ['id'],
    status: 202,
  },
  {
    method: 'post',
    path: '/runs/{id}/retry',
    summary: "Put a run's rejected push rows back in line and run its job again to send them",
    access: 'admin',
    params: ['id'],
    status: 202,
  },
  {
    method: 'get',
    path: '/runs/{id}/events',
    summary: 'A run as it goes, as server-sent events (`run` on every change, `end` when it finishes)',
    access: 'read',
    params: ['id'],
  },
  { method: 'get', path: '/segments', summary: 'Segments with size and trend', access: 'read', query: historyQuery },
  {
    method: 'get',
    path: '/segments/migration',
    summary: 'Migration between segments from one evaluation to another',
    access: 'read',
    query: migrationQuery,
  },
  {
    method: 'post',
    path: '/segments/preview',
    summary: 'Count and sample of an unsaved rule',
    access: 'read',
    body: previewBody,
  },
  { method: 'get', path: '/library/role', summary: 'The role of the token or session asking', access: 'read' },
  {
    method: 'get',
    path: '/library/names',
    summary: 'The names a rule may use (event types, features, traits, scores, models, segments, account features)',
    access: 'read',
  },
  {
    method: 'get',
    path: '/library/segments',
    summary: 'Config segments (read-only, with file and line) and console segments (versioned)',
    access: 'read',
    query: libraryQuery,
  },
  {
    method: 'post',
    path: '/library/segments',
    summary: 'Create a console segment (its key unique across config and console)',
    access: 'admin',
    body: createSegmentBody,
    status: 201,
  },
  {
    method: 'get',
    path: '/library/segments.yaml',
    summary: 'Console segments as a config segments file (YAML)',
    access: 'read',
    query: exportQuery,
  },
  {
    method: 'post',
    path: '/library/segments/import',
    summary: 'Create or update console segments from a segments file (YAML body)',
    access: 'admin',
  },
  {
    method: 'get',
    path: '/library/segments/{key}',
    summary: 'One segment; a console segment with its versions (who, when)',
    access: 'read',
    params: ['key'],
  },
  {
    method: 'post',
    path: '/library/segments/{key}',
    summary: 'Save a console segment from the version the editor started at (409 with the current one when stale)',
    access: 'admin',
    body: saveSegmentBody,
    params: ['key'],
  },
  {
    method: 'post',
    path: '/library/segments/{key}/archive',
    summary: 'Archive (or restore) a console segment: an archived segment is neither computed nor pushed',
    access: 'admin',
    body: archiveSegmentBody,
    params: ['key'],
  },
  {
    method: 'post',
    path: '/segments/{key}/empty',
    summary:
      'Empty an archived console segment in the tools: remove its members from every destination holding them (dryRun: the plan)',
    access: 'admin',
    body: emptySegmentBody,
    params: ['key'],
  },
  {
    method: 'get',
    path: '/segments/{key}',
    summary: 'Definition, profile, latest report (stability, drift) and, with a holdout, treated against control',
    access: 'read',
    params: ['key'],
  },
  {
    method: 'get',
    path: '/segments/{key}/members',
    summary: 'Current members, paged and searchable (an account segment answers its accounts, with kind: accounts)',
    access: 'read',
    params: ['key'],
    query: membersQuery,
  },
  {
    method: 'get',
    path: '/segments/{key}/members.csv',
    summary: 'Every current member (or those matching q) as CSV',
    access: 'read',
    params: ['key'],
    query: membersCsvQuery,
  },
  { method: 'get', path: '/models', summary: 'Models and what they wrote', access: 'read' },
  { method: 'get', path: '/models/{name}', summary: "One model's outputs", access: 'read', params: ['name'] },
  {
    method: 'get',
    path: '/models/{name}/people',
    summary: 'People the model scored (an output range or label), ranked by churn risk × lifetime value',
    access: 'read',
    params: ['name'],
    query: peopleQuery,
  },
  {
    method: 'get',
    path: '/contacts',
    summary: 'Unified profiles of the contacts with an email',
    access: 'read',
    query: contactsQuery,
  },
  {
    method: 'get',
    path: '/contacts/{id}',
    summary: 'Unified profile: identities, traits, features, scores, segments, recent events',
    access: 'read',
    params: ['id'],
  },
  {
    method: 'delete',
    path: '/contacts/{id}',
    summary: 'Erasure request: erase in every destination, remove from the store, suppress',
    access: 'admin',
    params: ['id'],
  },
  {
    method: 'get',
    path: '/accounts',
    summary: 'Accounts whose name or domain contains the search, largest first',
    access: 'read',
    query: accountsQuery,
  },
  {
    method: 'get',
    path: '/accounts/{id}',
    summary: 'An account: traits, tool records, features, members, the account segments it is in, merges',
    access: 'read',
    params: ['id'],
  },
  {
    method: 'get',
    path: '/audit',
    summary: 'Data audit and fairness report: the last one kept, or a fresh one (X-Audit-Built-At says when)',
    access: 'read',
    query: auditQuery,
  },
  {
    method: 'get',
    path: '/overview',
    summary: 'Contacts (once each), contacts in any segment, runs needing attention, the last audit',
    access: 'read',
  },
  {
    method: 'get',
    path: '/activity',
    summary: 'Every change and action made through the API or the console, with the role and time, newest first',
    access: 'read',
    query: activityQuery,
  },
  {
    method: 'get',
    path: '/voice/topics',
    summary: 'Topics of the tickets: size, people, sentiment, example messages (only when the config keeps text)',
    access: 'read',
    query: voiceTopicsQuery,
  },
  {
    method: 'get',
    path: '/voice/people',
    summary: 'People with a ticket on a topic, most tickets first, with the rule that selects them',
    access: 'read',
    query: voicePeopleQuery,
  },
  {
    method: 'get',
    path: '/voice/segments',
    summary: 'Per segment: members, NPS answers (promoters, passives, detractors), NPS and mean 90-day sentiment',
    access: 'read',
  },
  {
    method: 'get',
    path: '/voice/trend',
    summary: 'Per month: tickets, messages scored, mean sentiment, NPS answers and NPS',
    access: 'read',
    query: voiceTrendQuery,
  },
  {
    method: 'get',
    path: '/voice/contacts/{id}',
    summary: "A contact's voice features and latest messages, tickets and survey answers with their sentiment",
    access: 'read',
    params: ['id'],
    query: voiceMessagesQuery,
  },
];

const json = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' });

/** The OpenAPI 3.1 document. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorSchema = { $ref: '#/components/schemas/Error' };
  const errorResponseOf = (description: string) => ({
    description,
    content: { 'application/json': { schema: errorSchema } },
  });
  for (const op of OPERATIONS) {
    const parameters: unknown[] = (op.params ?? []).map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (op.query) {
      const schema = json(op.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: property });
      }
    }
    const responses: Record<string, unknown> = { [String(op.status ?? 200)]: { description: 'success' } };
    if (op.body || op.query)
      responses['400'] = errorResponseOf('malformed JSON or an invalid body or query (the field is named)');
    if (op.access !== 'none') {
      responses['401'] = errorResponseOf('no token or session, or a wrong one');
      if (op.access === 'admin') responses['403'] = errorResponseOf('the read-only token on an admin action');
    }
    if (op.params) responses['404'] = errorResponseOf('nothing by that name or id');
    if (op.body) responses['413'] = errorResponseOf('the body is over the size limit');
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      ...(op.access === 'none' ? { security: [] } : {}),
      ...(op.access === 'admin' ? { 'x-segflow-access': 'admin' } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: json(op.body, 'input') } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'segflow admin API',
      version: '1',
      description: 'Bearer tokens: the admin token may do everything, the read-only token may only read.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: 'segflow_session' },
      },
      schemas: { Error: json(errorResponse, 'output') },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths,
  };
}
