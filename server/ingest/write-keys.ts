/**
 * Ingestion write keys: each is named in `config.server.write_keys` (name → environment variable); a request
 * authenticates as Segment sources do, with HTTP Basic auth whose username is the key (or, as older analytics.js
 * does, the body's `writeKey`). Keys are held to config/tokens.ts's rule (24 characters or more, URL-safe), which the
 * config loader checks at each key's place in the file.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { WeakTokenError, writeKeyProblem } from '../../config/index.js';

export interface WriteKeys {
  /** The name of the key the Authorization header carries, or undefined when it carries none we know. */
  sourceOf(authorization: string | undefined): string | undefined;
  /** The name of a key given as it is (a body's `writeKey`, a settings URL), or undefined when we know none such. */
  nameOf(key: string): string | undefined;
  /** How many keys are usable (named and present in the environment). */
  readonly size: number;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Reads the keys from the environment once; a name whose variable is unset or empty accepts nothing. Throws
 * `WeakTokenError` when a key is too short or has characters a write key may not (the config loader reports the same
 * at the key's place; this guards an environment that changed since).
 *
 * @example
 * const keys = writeKeys({ website: 'SEGFLOW_WRITE_KEY_WEBSITE' }, process.env);
 * keys.sourceOf(`Basic ${Buffer.from('wk_website_5c1e0d7a9b3f2e84:').toString('base64')}`); // 'website'
 */
export function writeKeys(
  names: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
): WriteKeys {
  const problems = Object.values(names).flatMap((variable) => writeKeyProblem(variable, env[variable]) ?? []);
  if (problems.length > 0) throw new WeakTokenError(problems);
  const keys = Object.entries(names)
    .map(([name, variable]) => ({ name, key: env[variable] }))
    .filter((k): k is { name: string; key: string } => typeof k.key === 'string' && k.key !== '')
    .map((k) => ({ name: k.name, digest: digest(k.key) }));
  const nameOf = (key: string): string | undefined => {
    if (key === '') return undefined;
    const given = digest(key);
    let found: string | undefined;
    // Compare against every key (no early exit), so timing says nothing about which key came close.
    for (const k of keys) if (timingSafeEqual(k.digest, given) && found === undefined) found = k.name;
    return found;
  };
  return {
    size: keys.length,
    nameOf,
    sourceOf(authorization) {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
      if (!match?.[1]) return undefined;
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return nameOf(colon === -1 ? decoded : decoded.slice(0, colon));
    },
  };
}
