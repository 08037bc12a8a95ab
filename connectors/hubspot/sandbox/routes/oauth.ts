/**
 * OAuth: the refresh-token grant that issues 30-minute access tokens, and the Bearer check every API request goes
 * through (a private-app token, or an issued OAuth token that has not expired).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { hubspotError } from '../answers.js';

/**
 * The portal's app credentials: the private-app token, and the OAuth app's client and refresh token.
 *
 * @example
 * const client = new Client({ accessToken: credentials.accessToken, basePath: sandbox.url });
 */
export interface Credentials {
  /** The private-app token. */
  accessToken: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

/** The token endpoint; it is not counted against the API limits and never gets a fault. */
export const TOKEN_PATH = '/oauth/v1/token';

/**
 * The OAuth access tokens the sandbox issued, with their expiry.
 *
 * @example
 * const tokens = new OAuthTokens(Date.now, 1800);
 * tokens.expireAll(); // every token issued so far answers 401 EXPIRED_AUTHENTICATION from now on
 */
export class OAuthTokens {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    /** Lifetime of an issued token, seconds (HubSpot: 1800). */
    readonly lifetimeSeconds: number,
  ) {}

  issue(): string {
    const token = `oauth-${randomUUID()}`;
    this.expiries.set(token, this.now() + this.lifetimeSeconds * 1000);
    return token;
  }

  /** When the token expires (epoch ms), or undefined when the sandbox never issued it. */
  expiry(token: string): number | undefined {
    return this.expiries.get(token);
  }

  /** Ends every token issued so far, as their expiry would. */
  expireAll(): void {
    const at = this.now();
    for (const [token, expires] of this.expiries) this.expiries.set(token, Math.min(expires, at));
  }
}

/**
 * The 401 of an expired OAuth token.
 *
 * @example
 * return expired(c, Date.now() - 60_000);
 */
export function expired(c: Context, expiredAt: number, now: number): Response {
  const ago = Math.max(1, Math.round((now - expiredAt) / 60_000));
  return c.json(
    hubspotError(`The OAuth token used to make this call expired ${ago} minute(s) ago.`, 'EXPIRED_AUTHENTICATION'),
    401,
  );
}

/**
 * Mounts the token endpoint.
 *
 * @example
 * oauthRoutes(app, credentials, tokens);
 */
export function oauthRoutes(app: Hono, credentials: Credentials, tokens: OAuthTokens): void {
  const refused = (c: Context, status: string, message: string) =>
    c.json({ status, message, correlationId: randomUUID() }, 400);
  app.post(TOKEN_PATH, async (c) => {
    const form = new URLSearchParams(await c.req.text());
    if (form.get('grant_type') !== 'refresh_token')
      return refused(c, 'BAD_GRANT_TYPE', 'grant_type must be refresh_token');
    if (form.get('client_id') !== credentials.clientId || form.get('client_secret') !== credentials.clientSecret)
      return refused(c, 'BAD_CLIENT_ID', 'missing or unknown client id');
    if (form.get('refresh_token') !== credentials.refreshToken)
      return refused(c, 'BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
    return c.json({
      token_type: 'bearer',
      refresh_token: credentials.refreshToken,
      access_token: tokens.issue(),
      expires_in: tokens.lifetimeSeconds,
    });
  });
}

/**
 * The Bearer check: the private-app token, or an issued OAuth token before its expiry.
 *
 * @example
 * app.use('*', bearerAuth(credentials, tokens, Date.now));
 */
export function bearerAuth(credentials: Credentials, tokens: OAuthTokens, now: () => number): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.path === TOKEN_PATH) return next();
    const auth = c.req.header('authorization') ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const expires = tokens.expiry(token);
    if (!token || (token !== credentials.accessToken && expires === undefined)) {
      return c.json(
        hubspotError(
          'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
          'INVALID_AUTHENTICATION',
        ),
        401,
      );
    }
    if (expires !== undefined && expires <= now()) return expired(c, expires, now());
    await next();
    return undefined;
  };
}
