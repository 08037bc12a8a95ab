/**
 * The admin server: the JSON API (bearer tokens or a console session), the console's pages, and ingestion (write
 * keys), with a body limit (413) and one error shape, `{ error: { code, message } }`, that never carries a stack trace
 * or a secret.
 *
 * @example
 * const app = createServer(deps);
 * const res = await app.request('/segments', { headers: { Authorization: `Bearer ${token}` } });
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { checkTokens } from '../config/index.js';
import { activityLog } from './activity.js';
import { provideSessions, requireAuth, Sessions, SignInThrottle, Tokens } from './auth.js';
import { consoleRoutes } from './console/index.js';
import type { ServerDeps } from './deps.js';
import { ingestRoutes } from './ingest/index.js';
import { metricsRoutes } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { activityRoutes } from './routes/activity.js';
import { accountRoutes } from './routes/accounts.js';
import { auditRoutes } from './routes/audit.js';
import { connectionRoutes } from './routes/connections.js';
import { contactRoutes } from './routes/contacts.js';
import { ApiError } from './routes/errors.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { overviewRoutes } from './routes/overview.js';
import { segmentLibraryRoutes } from './routes/segment-library.js';
import { segmentRoutes } from './routes/segments.js';
import { sessionRoutes } from './routes/session.js';
import { voiceRoutes } from './routes/voice.js';
import { createShared } from './routes/shared.js';

/** Path prefixes of the API that need a token or a session. */
const PROTECTED = [
  '/metrics',
  '/openapi.json',
  '/connections',
  '/jobs',
  '/runs',
  '/segments',
  '/models',
  '/contacts',
  '/accounts',
  '/audit',
  '/overview',
  '/activity',
  '/library',
  '/voice',
];

const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export function createServer(deps: ServerDeps): Hono {
  const settings = deps.config.server;
  checkTokens(settings, deps.env);
  const shared = createShared(deps);
  const tokens = new Tokens(deps.env[settings.admin_token_env], deps.env[settings.read_token_env]);
  const sessions = new Sessions(deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS);
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      const { field } = error.details;
      const issues = error.details.issues;
      return c.json(
        {
          error: {
            code: error.code,
            message: shared.scrub(error.message),
            ...(field !== undefined ? { field } : {}),
            ...(issues ? { issues } : {}),
          },
        },
        error.status,
      );
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json(
        {
          error: {
            code: error.status === 413 ? 'payload_too_large' : 'bad_request',
            message: shared.scrub(error.message || 'bad request'),
          },
        },
        error.status,
      );
    }
    shared.logger.error('request failed', {
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? error.message : String(error),
    });
    return c.json({ error: { code: 'internal', message: 'internal error (see the server log)' } }, 500);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path.slice(0, 200)}` } }, 404),
  );

  app.use('*', provideSessions(sessions));
  app.use(
    '*',
    bodyLimit({
      maxSize: settings.body_limit,
      onError: (c) =>
        c.json(
          { error: { code: 'payload_too_large', message: `the body is over the ${settings.body_limit}-byte limit` } },
          413,
        ),
    }),
  );
  // before the token check, so that a read token's refused action is recorded too
  app.use('*', activityLog(shared, PROTECTED));
  const auth = requireAuth(tokens);
  for (const prefix of PROTECTED) {
    app.use(prefix, auth);
    app.use(`${prefix}/*`, auth);
  }

  app.route('/', healthRoutes(shared));
  app.route('/', sessionRoutes(shared, tokens, sessions, deps.signInThrottle ?? new SignInThrottle()));
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.route('/', metricsRoutes(shared));
  app.route('/', connectionRoutes(shared));
  app.route('/', jobRoutes(shared));
  app.route('/', segmentRoutes(shared));
  app.route('/', segmentLibraryRoutes(shared));
  app.route('/', modelRoutes(shared));
  app.route('/', contactRoutes(shared));
  app.route('/', accountRoutes(shared));
  app.route('/', auditRoutes(shared));
  app.route('/', overviewRoutes(shared));
  app.route('/', activityRoutes(shared));
  app.route('/', voiceRoutes(shared));
  app.route('/', ingestRoutes(deps));
  app.route('/', consoleRoutes(deps));
  if (!tokens.configured) {
    shared.logger.warn('no API token is set: every API request will be refused', {
      admin_token_env: settings.admin_token_env,
      read_token_env: settings.read_token_env,
    });
  }
  return app;
}
