/**
 * The API tokens a server accepts are strong enough: each at least 24 characters, and the admin and read-only tokens
 * different. The server refuses to start otherwise, with the command that makes a good one.
 */
import type { ServerSettings } from './schema.js';

/** The fewest characters an admin or read-only token may have. */
export const TOKEN_MIN_LENGTH = 24;

/** A command that prints a good token (64 hex characters from the system's random source). */
export const TOKEN_COMMAND = `node -e "console.log(require('node:crypto').randomBytes(32).toString('hex'))"`;

/** The server's tokens are weak or reused; `problems` names each, by its environment variable, never its value. */
export class WeakTokenError extends Error {
  readonly code = 'weak_token';
  constructor(readonly problems: string[]) {
    super(`${problems.join('\n')}\nmake one with: ${TOKEN_COMMAND}`);
    this.name = 'WeakTokenError';
  }
}

/**
 * What is wrong with the admin and read-only tokens `env` holds for `settings` (empty when nothing is). An unset token
 * is no problem: the API then refuses what it would have allowed.
 *
 * @example
 * tokenProblems(config.server, { SEGFLOW_ADMIN_TOKEN: 'a' });
 * // ['SEGFLOW_ADMIN_TOKEN is 1 character long: an API token needs at least 24']
 */
export function tokenProblems(
  settings: Pick<ServerSettings, 'admin_token_env' | 'read_token_env'>,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const problems: string[] = [];
  const admin = env[settings.admin_token_env] || undefined;
  const read = env[settings.read_token_env] || undefined;
  for (const [variable, token] of [
    [settings.admin_token_env, admin],
    [settings.read_token_env, read],
  ] as const) {
    if (token !== undefined && token.length < TOKEN_MIN_LENGTH)
      problems.push(
        `${variable} is ${token.length} character${token.length === 1 ? '' : 's'} long: an API token needs at least ${TOKEN_MIN_LENGTH}`,
      );
  }
  if (admin !== undefined && admin === read)
    problems.push(
      `${settings.admin_token_env} and ${settings.read_token_env} hold the same token: the read-only token would grant admin rights`,
    );
  return problems;
}

/**
 * Throws {@link WeakTokenError} when {@link tokenProblems} finds any.
 *
 * @example
 * checkTokens(config.server, process.env); // before the server listens
 */
export function checkTokens(
  settings: Pick<ServerSettings, 'admin_token_env' | 'read_token_env'>,
  env: Readonly<Record<string, string | undefined>>,
): void {
  const problems = tokenProblems(settings, env);
  if (problems.length > 0) throw new WeakTokenError(problems);
}
