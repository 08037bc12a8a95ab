/** POST /session opens a console session from a token (sets the cookie); DELETE /session closes it. */
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { endSession, SESSION_COOKIE, type Sessions, type Tokens } from '../auth.js';
import { ApiError, jsonBody } from './errors.js';
import { sessionBody } from './schemas.js';
import type { Shared } from './shared.js';

export function sessionRoutes(shared: Shared, tokens: Tokens, sessions: Sessions): Hono {
  const app = new Hono();
  app.post('/session', async (c) => {
    const { token } = await jsonBody(c, sessionBody);
    const role = tokens.roleOf(token);
    if (!role) {
      shared.logger.warn('console login refused', { reason: 'token not valid' });
      throw new ApiError(401, 'unauthorized', 'the token is not valid');
    }
    const session = sessions.start(role);
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: session.maxAgeSeconds,
    });
    return c.json({ role, expiresInSeconds: session.maxAgeSeconds }, 201);
  });
  app.delete('/session', (c) => {
    endSession(c);
    return c.body(null, 204);
  });
  return app;
}
