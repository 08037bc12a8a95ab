/**
 * OAuth: the token endpoint (the password and JWT bearer grants; a JWT's `aud` must be the login host Salesforce
 * documents, never the My Domain URL it is posted to), the sessions it opens, and the Bearer check of every API call.
 */
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import type { Hono, MiddlewareHandler } from 'hono';
import { errorResponse } from '../answers.js';
import { ApiError, type Org } from '../org.js';

/**
 * Who may log in, and how.
 *
 * @example
 * const credentials: OrgCredentials = { clientId, clientSecret, username, password, jwtPublicKey, jwtAudience, accessToken, userId };
 */
export interface OrgCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  /** The password with the security token appended, as the password flow sends it. */
  password: string;
  /** PEM public key the JWT bearer flow's assertions are verified with. */
  jwtPublicKey: string;
  /**
   * The `aud` a JWT assertion must carry: https://login.salesforce.com for a production org, https://test.salesforce.com
   * for a sandbox org (or an Experience Cloud site's URL) — never the My Domain URL the token is posted to.
   */
  jwtAudience: string;
  /** An access token that is valid from the start (for "access token + instance URL" configs). */
  accessToken: string;
  userId: string;
}

/**
 * Mounts the token endpoint; every token it issues is added to `sessions`.
 *
 * @example
 * oauthRoutes(app, org, credentials, sessions, () => sandbox.url);
 */
export function oauthRoutes(
  app: Hono,
  org: Org,
  credentials: OrgCredentials,
  sessions: Set<string>,
  baseUrl: () => string,
): void {
  let publicKey: KeyObject | undefined;
  app.post('/services/oauth2/token', async (c) => {
    const form = new URLSearchParams(await c.req.text());
    const grant = form.get('grant_type');
    const issue = () => {
      const token = `00D!${randomBytes(24).toString('base64url')}`;
      sessions.add(token);
      return c.json({
        access_token: token,
        instance_url: baseUrl(),
        id: `${baseUrl()}/id/${org.organizationId}/${credentials.userId}`,
        token_type: 'Bearer',
        issued_at: String(org.now()),
        signature: randomBytes(32).toString('base64'),
      });
    };
    const oauthError = (error: string, description: string) => c.json({ error, error_description: description }, 400);
    if (grant === 'password') {
      if (form.get('client_id') !== credentials.clientId)
        return oauthError('invalid_client_id', 'client identifier invalid');
      if (form.get('client_secret') !== credentials.clientSecret)
        return oauthError('invalid_client', 'invalid client credentials');
      if (form.get('username') !== credentials.username || form.get('password') !== credentials.password) {
        return oauthError('invalid_grant', 'authentication failure');
      }
      return issue();
    }
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const claims = verifyJwt(form.get('assertion') ?? '', (publicKey ??= createPublicKey(credentials.jwtPublicKey)));
      if (!claims) return oauthError('invalid_grant', 'invalid assertion');
      if (claims.iss !== credentials.clientId) return oauthError('invalid_client_id', 'client identifier invalid');
      if (claims.aud !== credentials.jwtAudience) return oauthError('invalid_grant', 'audience is invalid');
      if (claims.sub !== credentials.username) return oauthError('invalid_grant', "user hasn't approved this consumer");
      if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now())
        return oauthError('invalid_grant', 'expired authorization code');
      return issue();
    }
    return c.json({ error: 'unsupported_grant_type', error_description: 'grant type not supported' }, 400);
  });
}

/**
 * The Bearer check: a session the org opened and has not ended answers; anything else is 401 INVALID_SESSION_ID.
 *
 * @example
 * api.use('*', sessionAuth(sessions));
 */
export function sessionAuth(sessions: Set<string>): MiddlewareHandler {
  return async (c, next) => {
    const auth = c.req.header('authorization') ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!sessions.has(token))
      return errorResponse(c, new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid'));
    await next();
    return undefined;
  };
}

/** Verifies an RS256 JWT against the org's public key; its claims, or undefined. */
function verifyJwt(assertion: string, key: KeyObject): Record<string, unknown> | undefined {
  const [header, payload, signature] = assertion.split('.');
  if (!header || !payload || !signature) return undefined;
  try {
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    if (!verifier.verify(key, Buffer.from(signature, 'base64url'))) return undefined;
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
