/**
 * POST /session opens a console session from a token (sets the cookie, `Secure` when `server.public_url` is https);
 * GET /session says with which role (the console shows action buttons to the admin role only); DELETE /session closes
 * it. Failed sign-ins are throttled per client address. Each sign-in, accepted or refused, goes in the activity log
 * (the role it opened, or that the token was not valid; never the token itself); refusals while throttled do not.
 */
import { Hono } from 'hono';
import { recordActivity } from '../../core/activity/index.js';
import { setCookie } from 'hono/cookie';
import {
  clientAddress,
  endSession,
  sessionRole,
  SESSION_COOKIE,
  type Sessions,
  type SignInThrottle,
  type Tokens,
} from '../auth.js';
import { ApiError, jsonBody } from './errors.js';
import { sessionBody } from './schemas.js';
import type { Shared } from './shared.js';

export function sessionRoutes(shared: Shared, tokens: Tokens, sessions: Sessions, throttle: SignInThrottle): Hono {
  const app = new Hono();
  const secure = shared.deps.config.server.public_url?.startsWith('https://') === true;
  const signInRecorded = async (role: string | null, status: number) => {
    try {
      await recordActivity(
        shared.deps.store,
        {
          role,
          action: status === 201 ? 'session.sign_in' : 'session.sign_in_refused',
          target: null,
          method: 'POST',
          path: '/session',
          status,
          detail: status === 201 ? null : { reason: 'token not valid' },
        },
        new Date(),
      );
    } catch (error) {
      shared.logger.error('could not record the sign-in', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
  app.post('/session', async (c) => {
    const address = clientAddress(c);
    const wait = throttle.waitMs(address);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      c.header('Retry-After', String(seconds));
      throw new ApiError(
        429,
        'too_many_requests',
        `too many failed sign-ins from this address: try again in ${seconds} s`,
      );
    }
    const { token } = await jsonBody(c, sessionBody);
    const role = tokens.roleOf(token);
    if (!role) {
      const { firstOfBurst } = throttle.failed(address);
      if (firstOfBurst)
        shared.logger.warn('console login refused', {
          reason: 'token not valid',
          address,
          note: 'further failures from this address wait ever longer and are not logged until it has been quiet for 15 minutes',
        });
      await signInRecorded(null, 401);
      throw new ApiError(401, 'unauthorized', 'the token is not valid');
    }
    throttle.succeeded(address);
    await signInRecorded(role, 201);
    const session = sessions.start(role);
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: session.maxAgeSeconds,
      ...(secure ? { secure: true } : {}),
    });
    return c.json({ role, expiresInSeconds: session.maxAgeSeconds }, 201);
  });
  app.get('/session', (c) => {
    const role = sessionRole(c);
    if (!role) throw new ApiError(401, 'unauthorized', 'no console session');
    return c.json({ role, canAct: role === 'admin' });
  });
  app.delete('/session', (c) => {
    endSession(c);
    return c.body(null, 204);
  });
  return app;
}
