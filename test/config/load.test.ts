/**
 * What a valid file loads to: environment interpolation (defaults, escapes, types), defaults, segments from
 * includes, secrets kept out of every message, and the shipped example configs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { builtinRegistry } from '../../cli/builtins.js';
import { ConfigFileError, configSecrets, formatConfigErrors, loadConfig, nextRuns } from '../../config/index.js';
import { positionOf, testRegistry, writeFiles } from './helpers.js';

const load = (files: Record<string, string>, env: Record<string, string> = {}) =>
  loadConfig(join(writeFiles(files), 'segflow.yaml'), { registry: testRegistry(), env });

describe('environment interpolation', () => {
  it('fills ${VAR}, falls back to ${VAR:-default} when unset or empty, and keeps $${...} literal', async () => {
    const config = await load(
      {
        'segflow.yaml': `sources:
  shop:
    connector: file
    config:
      contacts: { path: "\${DATA_DIR}/contacts.csv" }
      source: \${SHOP_NAME:-shopify}
      pageSize: \${PAGE_SIZE:-250}
segments:
  - key: vip
    description: "costs $\${PRICE} and \${EMPTY:-nothing}"
    rule: { feature: monetary_365d, gt: 1000 }
server:
  port: \${PORT:-9090}
  host: \${HOST}
`,
      },
      { DATA_DIR: '/srv/data', EMPTY: '', HOST: '0.0.0.0' },
    );
    expect(config.sources.shop?.config).toMatchObject({
      contacts: { path: '/srv/data/contacts.csv' },
      source: 'shopify',
      pageSize: 250,
    });
    expect(config.segments[0]?.description).toBe('costs ${PRICE} and nothing');
    expect(config.server).toMatchObject({ port: 9090, host: '0.0.0.0' });
  });

  it('an unquoted value keeps its YAML type; a quoted one stays text', async () => {
    const text =
      'sources:\n  shop:\n    connector: file\n    config:\n      contacts: { path: c.csv }\n      pageSize: PAGE\n';
    const plain = await load({ 'segflow.yaml': text.replace('PAGE', '${PAGE_SIZE}') }, { PAGE_SIZE: '50' });
    expect(plain.sources.shop?.config.pageSize).toBe(50);
    const quoted = await load({ 'segflow.yaml': text.replace('PAGE', '"${PAGE_SIZE}"') }, { PAGE_SIZE: '50' }).catch(
      (e: unknown) => e,
    );
    expect(formatConfigErrors(quoted)).toContain('sources.shop.config.pageSize: expected a number, got a string');
  });
});

const OPENERS =
  'segments:\n  openers:\n    name: Openers\n    rule: { event: email_open, count: { gte: 3 }, within: 30d }\n';

describe('defaults and includes', () => {
  it('fills documented defaults and expands segment includes relative to the including file', async () => {
    const config = await load({
      'segflow.yaml': `segments:
  - include: segments/engagement.yaml
  - key: vip
    rule: { feature: monetary_365d, gt: 1000 }
    holdout: 10%
jobs:
  nightly:
    schedule: "30 1 * * *"
    steps:
      - compute:
`,
      'segments/engagement.yaml': OPENERS,
    });
    expect(config.segments.map((s) => [s.key, s.name, s.holdout])).toEqual([
      ['openers', 'Openers', 0],
      ['vip', 'vip', 0.1],
    ]);
    expect(config.segments[0]?.origin.file).toMatch(/segments\/engagement\.yaml$/);
    expect(config.segments[0]?.locations['rule.count.gte']).toMatchObject(positionOf(OPENERS, '3 }'));
    expect(config.jobs.nightly).toMatchObject({ timezone: 'UTC', steps: [{ compute: {} }] });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      body_limit: 1024 * 1024,
      admin_token_env: 'SEGFLOW_ADMIN_TOKEN',
      read_token_env: 'SEGFLOW_READ_TOKEN',
      write_keys: {},
      tracking: {
        cors_origins: [],
        ids: 'workspace',
        source: 'tracking',
        rate_limit: { per_second: 5000 },
        inbox: { partition: '1h', retention: '24h' },
      },
    });
    expect(config.store.path).toBe(resolve('.segflow/segflow.db'));
    expect(config.protected_attributes).toContain('religion');
    const next = nextRuns(config.jobs.nightly!, 2);
    expect(next).toHaveLength(2);
    expect(next.map((d) => [d.getUTCHours(), d.getUTCMinutes()])).toEqual([
      [1, 30],
      [1, 30],
    ]);
    expect((next[1]?.getTime() ?? 0) - (next[0]?.getTime() ?? 0)).toBe(86_400_000);
  });

  it('a destination writes back the ids of the source using the same connector unless told otherwise', async () => {
    const config = await load(
      {
        'segflow.yaml': `sources:
  accounts:
    connector: vault
    config: { apiKey: "\${VAULT_KEY}" }
destinations:
  lists:
    connector: vault
    config: { apiKey: "\${VAULT_KEY}", list: members }
    rate_limit: { requests: 10, interval: 1m }
`,
      },
      { VAULT_KEY: 'vk_live_0123456789' },
    );
    expect(config.destinations.lists?.identities_from).toBe('accounts');
    expect(config.sources.accounts?.config).toEqual({ apiKey: 'vk_live_0123456789', region: 'eu' });
    expect(configSecrets(config)).toContain('vk_live_0123456789');
  });
});

describe('secrets', () => {
  it('a secret planted in the environment appears in no error message, wherever it lands', async () => {
    const secret = 'vk_PLANTED_s3cr3t_9f8e7d';
    const files = {
      'segflow.yaml': `sources:
  accounts:
    connector: vault
    config:
      apiKey: \${VAULT_KEY}
      region: \${VAULT_KEY}
      bogus: \${VAULT_KEY}
  other:
    connector: vault
    config: { apiKey: "prefix-\${VAULT_KEY}" }
destinations:
  lists:
    connector: vault
    config: { apiKey: "\${VAULT_KEY}", list: 7 }
jobs:
  j:
    schedule: \${VAULT_KEY}
    timezone: \${VAULT_KEY}
    steps:
      - push: { destination: "\${VAULT_KEY}", segments: ["\${VAULT_KEY}"], mode: "\${VAULT_KEY}" }
server:
  host: \${VAULT_KEY}
  port: \${VAULT_KEY}
  admin_token_env: \${VAULT_KEY}
`,
    };
    const error = await load(files, { VAULT_KEY: secret }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    const issues = (error as ConfigFileError).issues;
    expect(issues.length).toBeGreaterThanOrEqual(8);
    const everything = [formatConfigErrors(error), (error as Error).message, JSON.stringify(issues)].join('\n');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain('PLANTED');
    expect(everything).toContain('[redacted]');
  });

  it('a secret written literally in a secret field is not quoted back either', async () => {
    const secret = 'not-a-vault-key-LITERAL-1234';
    const error = await load({
      'segflow.yaml': `sources:\n  accounts:\n    connector: vault\n    config: { apiKey: ${secret} }\n`,
    }).catch((e: unknown) => e);
    const text = formatConfigErrors(error);
    expect(text).toContain('sources.accounts.config.apiKey: expected a key starting vk_');
    expect(text).not.toContain(secret);
  });
});

describe('the example configs', () => {
  const dir = resolve('config/examples');
  const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  const registry = builtinRegistry();
  for (const example of examples) {
    const text = readFileSync(join(dir, example), 'utf8');
    const raw = parse(text) as {
      sources?: Record<string, { connector?: string }>;
      destinations?: Record<string, { connector?: string }>;
      jobs?: Record<string, unknown>;
    };
    const needed = [
      ...Object.values(raw.sources ?? {}).map((s) => [s.connector, 'source'] as const),
      ...Object.values(raw.destinations ?? {}).map((d) => [d.connector, 'destination'] as const),
    ];
    const missing = [
      ...new Set(
        needed.filter(([name, kind]) => name && !registry.has(name, kind)).map(([name, kind]) => `${kind} ${name}`),
      ),
    ];
    const reason = missing.length
      ? ` (skipped: connector${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not registered in cli/builtins.ts yet)`
      : '';
    it.skipIf(missing.length > 0)(`${example} validates with the built-in connectors${reason}`, async () => {
      const env = new Proxy({} as Record<string, string>, {
        get: (_target, name) => (typeof name === 'string' && name.endsWith('PORT') ? '8080' : undefined),
      });
      const config = await loadConfig(join(dir, example), {
        registry: builtinRegistry(),
        env: { ...placeholders(text), ...env },
      });
      expect(Object.keys(config.sources)).toEqual(Object.keys(raw.sources ?? {}));
      expect(Object.keys(config.destinations)).toEqual(Object.keys(raw.destinations ?? {}));
      expect(Object.keys(config.jobs)).toEqual(Object.keys(raw.jobs ?? {}));
    });
  }
});

/** A plausible value for every ${VAR} without a default in an example, so only the example's shape is judged. */
function placeholders(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const name = match[1] as string;
    env[name] = name.includes('MAILCHIMP_API_KEY')
      ? 'placeholderkey-us21'
      : /(URL|BASE_PATH|HOST)$/.test(name)
        ? 'http://127.0.0.1:9'
        : `placeholder-${name.toLowerCase()}`;
  }
  return env;
}
