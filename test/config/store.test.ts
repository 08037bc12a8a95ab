/**
 * The `store:` section: a SQLite file by default, `url:` (usually `${SEGFLOW_DATABASE_URL}`) selects PostgreSQL, and a
 * mistake is a located error that never shows the URL's password; at run time the password stays out of every
 * message too.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigFileError, configSecrets, loadConfig, type ConfigIssue } from '../../config/index.js';
import { positionOf, testRegistry, writeFiles } from './helpers.js';

const load = (yaml: string, env: Record<string, string> = {}) =>
  loadConfig(join(writeFiles({ 'segflow.yaml': yaml }), 'segflow.yaml'), { registry: testRegistry(), env });

async function issuesOf(yaml: string, env: Record<string, string> = {}): Promise<ConfigIssue[]> {
  const error = await load(yaml, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigFileError);
  return (error as ConfigFileError).issues;
}

describe('the store section', () => {
  it('defaults to a SQLite file under the working directory', async () => {
    const config = await load('segments: []\n');
    expect(config.store).toEqual({
      engine: 'sqlite',
      path: resolve('.segflow/segflow.db'),
      shown: resolve('.segflow/segflow.db'),
    });
  });

  it('selects PostgreSQL with url from the environment, showing it without its password', async () => {
    const url = 'postgres://segflow:p%40ss-w0rd@db.internal:5432/segflow';
    const config = await load('store:\n  url: ${SEGFLOW_DATABASE_URL}\n', { SEGFLOW_DATABASE_URL: url });
    expect(config.store).toEqual({
      engine: 'postgres',
      path: url,
      shown: 'postgres://segflow:***@db.internal:5432/segflow',
    });
    expect(configSecrets(config)).toContain('p@ss-w0rd');
  });

  it('refuses path and url together, at the store section', async () => {
    const yaml = 'store:\n  path: store.db\n  url: postgres://db/segflow\n';
    const issues = await issuesOf(yaml);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'store', message: expect.stringMatching(/one of `path`.*and `url`/) });
  });

  it.each([
    ['mysql://app:hunter22@db/segflow', /expected a PostgreSQL URL/],
    ['postgres://app:hunter22@db', /names no database/],
    ['postgres://app:hunter22@db:notaport/segflow', /is not a valid URL/],
  ])('locates a bad url (%s) without repeating its password', async (url, message) => {
    const yaml = `segments: []\nstore:\n  url: ${url}\n`;
    const issues = await issuesOf(yaml);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'store.url', message: expect.stringMatching(message) });
    expect(issues[0]).toMatchObject(positionOf(yaml, url));
    expect(JSON.stringify(issues)).not.toContain('hunter22');
  });

  it('takes the connections a PostgreSQL computation may use, and refuses them for a SQLite file', async () => {
    const url = 'postgres://segflow@db.internal:5432/segflow';
    const config = await load(`segments: []\nstore:\n  url: ${url}\n  compute_connections: 1\n`);
    expect(config.store).toMatchObject({ engine: 'postgres', computeConnections: 1 });
    const yaml = 'segments: []\nstore:\n  path: store.db\n  compute_connections: 2\n';
    const issues = await issuesOf(yaml);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      path: 'store.compute_connections',
      message: expect.stringMatching(/is for a PostgreSQL store.*this machine's cores/),
    });
    const tooMany = await issuesOf(`segments: []\nstore:\n  url: ${url}\n  compute_connections: 8\n`);
    expect(tooMany[0]).toMatchObject({ path: 'store.compute_connections' });
  });

  it('points a PostgreSQL URL written under path to url', async () => {
    const issues = await issuesOf('store: { path: "postgres://db/segflow" }\n');
    expect(issues[0]).toMatchObject({ path: 'store.path', message: 'a PostgreSQL URL goes in `url:`, not `path:`' });
  });
});
