/**
 * Ingestion write keys are held to the API tokens' length, to characters that travel in URLs and Basic auth, and must
 * not repeat an API token: a config naming a weak key fails to load with the key's place in the file and the command
 * that makes a good one, never showing the key.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigFileError, formatConfigErrors, loadConfig, TOKEN_COMMAND, WeakTokenError } from '../../config/index.js';
import { writeKeys } from '../../server/ingest/write-keys.js';
import { positionOf, testRegistry, writeFiles } from './helpers.js';

const TEXT = `server:
  write_keys:
    website: SEGFLOW_WRITE_KEY_WEBSITE
    backend: SEGFLOW_WRITE_KEY_BACKEND
`;
const GOOD = 'wk_website_5c1e0d7a9b3f2e84';
const ADMIN = 'admin-token-9f8e7d6c5b4a3210fedc';

async function load(env: Record<string, string>): Promise<unknown> {
  const file = join(writeFiles({ 'segflow.yaml': TEXT }), 'segflow.yaml');
  return loadConfig(file, { registry: testRegistry(), env }).then(
    () => 'loaded',
    (error: unknown) => error,
  );
}

describe('write keys at config load', () => {
  it('loads keys of 24 or more letters, digits, "-" and "_", and a key left unset (it accepts nothing)', async () => {
    expect(await load({ SEGFLOW_WRITE_KEY_WEBSITE: GOOD })).toBe('loaded');
  });

  it('refuses a short key at its place in the file, naming the variable and the fix, never the key', async () => {
    const error = await load({ SEGFLOW_WRITE_KEY_WEBSITE: GOOD, SEGFLOW_WRITE_KEY_BACKEND: 'wk_backend_1' });
    expect(error).toBeInstanceOf(ConfigFileError);
    const [issue, ...more] = (error as ConfigFileError).issues;
    expect(more).toEqual([]);
    expect(issue).toMatchObject({
      ...positionOf(TEXT, 'SEGFLOW_WRITE_KEY_BACKEND'),
      path: 'server.write_keys.backend',
      message: `write key "backend": SEGFLOW_WRITE_KEY_BACKEND is 12 characters long: a write key needs at least 24; make one with: ${TOKEN_COMMAND}`,
    });
    expect(formatConfigErrors(error)).toMatch(/segflow\.yaml:4:14: server\.write_keys\.backend: /);
    expect(formatConfigErrors(error)).not.toContain('wk_backend_1');
  });

  it('refuses a key with a character that cannot travel as a Basic auth username or in a URL', async () => {
    const error = await load({ SEGFLOW_WRITE_KEY_WEBSITE: `${GOOD}:password` });
    const [issue] = (error as ConfigFileError).issues;
    expect(issue).toMatchObject({
      ...positionOf(TEXT, 'SEGFLOW_WRITE_KEY_WEBSITE'),
      path: 'server.write_keys.website',
    });
    expect(issue?.message).toContain('SEGFLOW_WRITE_KEY_WEBSITE holds a character other than letters, digits');
  });

  it('refuses a key that is also the admin token: browsers send write keys, so it would give the token away', async () => {
    const error = await load({ SEGFLOW_WRITE_KEY_WEBSITE: ADMIN, SEGFLOW_ADMIN_TOKEN: ADMIN });
    const [issue] = (error as ConfigFileError).issues;
    expect(issue?.path).toBe('server.write_keys.website');
    expect(issue?.message).toContain('SEGFLOW_WRITE_KEY_WEBSITE holds the same value as SEGFLOW_ADMIN_TOKEN');
    expect(formatConfigErrors(error)).not.toContain(ADMIN);
  });
});

describe('write keys at server start', () => {
  it('refuses an environment whose key has become weak since the config loaded', () => {
    const names = { website: 'SEGFLOW_WRITE_KEY_WEBSITE' };
    expect(() => writeKeys(names, { SEGFLOW_WRITE_KEY_WEBSITE: 'short' })).toThrow(WeakTokenError);
    const keys = writeKeys(names, { SEGFLOW_WRITE_KEY_WEBSITE: GOOD });
    expect(keys.sourceOf(`Basic ${Buffer.from(`${GOOD}:`).toString('base64')}`)).toBe('website');
  });
});
