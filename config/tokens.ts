/**
 * The API tokens a server accepts are strong enough: each at least 24 characters, and the admin and read-only tokens
 * different. The server refuses to start otherwise, with the command that makes a good one. Ingestion write keys are
 * held to the same length, to characters that travel in URLs and Basic auth, and to differ from the API tokens; a
 * config naming a weak one fails to load, at the key's place in the file.
 */
import type { Issues } from './issues.js';
import type { ServerSettings } from './schema.js';
import type { YamlFile } from './yaml-file.js';

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

/**
 * The characters a write key may have: it travels in URL paths (the settings analytics.js loads) and as the Basic
 * auth username, where a `:` would end it.
 */
export const WRITE_KEY_PATTERN = /^[A-Za-z0-9_-]+$/;

/**
 * What is wrong with the write key `variable` holds (undefined when nothing is, or when it is unset: that key then
 * accepts nothing). Names the variable, never the key.
 *
 * @example
 * writeKeyProblem('SEGFLOW_WRITE_KEY_WEBSITE', 'wk_1');
 * // 'SEGFLOW_WRITE_KEY_WEBSITE is 4 characters long: a write key needs at least 24'
 */
export function writeKeyProblem(variable: string, key: string | undefined): string | undefined {
  if (key === undefined || key === '') return undefined;
  if (key.length < TOKEN_MIN_LENGTH)
    return `${variable} is ${key.length} character${key.length === 1 ? '' : 's'} long: a write key needs at least ${TOKEN_MIN_LENGTH}`;
  if (!WRITE_KEY_PATTERN.test(key))
    return `${variable} holds a character other than letters, digits, "-" and "_": a write key travels in URLs and as the Basic auth username`;
  return undefined;
}

/**
 * Adds an issue at `server.write_keys.<name>` of `file` for each write key `env` holds that breaks
 * {@link writeKeyProblem} or repeats the admin or read-only token (a write key is public: browsers send it).
 *
 * @example
 * checkWriteKeys(root.server, env, main, issues); // while loading the config
 */
export function checkWriteKeys(
  settings: Pick<ServerSettings, 'admin_token_env' | 'read_token_env' | 'write_keys'>,
  env: Readonly<Record<string, string | undefined>>,
  file: YamlFile,
  issues: Issues,
): void {
  const tokens = [settings.admin_token_env, settings.read_token_env];
  for (const [name, variable] of Object.entries(settings.write_keys)) {
    const key = env[variable];
    const reused = tokens.find((token) => key !== undefined && key !== '' && env[token] === key);
    const problem =
      writeKeyProblem(variable, key) ??
      (reused === undefined
        ? undefined
        : `${variable} holds the same value as ${reused}: a write key is public (browsers send it), so it would give the API token away`);
    if (problem !== undefined)
      issues.add(
        file,
        ['server', 'write_keys', name],
        `write key "${name}": ${problem}; make one with: ${TOKEN_COMMAND}`,
      );
  }
}
