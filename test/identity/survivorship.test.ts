/**
 * Trait survivorship (`identity.trait_priority`): an identify through ingestion carrying a known customer's email no
 * longer overwrites the CRM's name when the config says the CRM wins for it; traits no listed source has, and traits not
 * listed, take the most recent value; the profile says where each trait came from. Scheduled reads (loadPage) and
 * ingestion (the inbox, which webhooks share) go through the same merge, on both engines.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { loadConfig, ConfigFileError, type Config } from '../../config/index.js';
import { findContactsByEmail, identityOptionsOf, loadPage, type Store } from '../../core/index.js';
import { loadWaitingMessages } from '../../core/realtime/index.js';
import { createRegistry, type ContactRecord, type Logger } from '../../plugins/index.js';
import { createServer } from '../../server/index.js';
import { ingestRoutes } from '../../server/ingest/index.js';
import { engines, type OpenedStore } from '../support/engines.js';
import { tempDir } from '../support/temp.js';

const WRITE_KEY = 'wk_survivorship_website_0123456789';
const ADMIN = 'survivorship-admin-token-5e2c8a1f7b3d';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function configWith(identity: string): Promise<Config> {
  const dir = tempDir('segflow-survivorship-');
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `sources:
  crm:
    connector: salesforce
    config: { instanceUrl: "http://127.0.0.1:9", accessToken: token-not-used, organizationId: 00D5g000004ABCDEAA }
server:
  write_keys: { website: SEGFLOW_WRITE_KEY_WEBSITE }
${identity}`,
  );
  return loadConfig(file, { registry: createRegistry(BUILTIN_CONNECTORS), env: {} });
}

const PRIORITY = `identity:
  trait_priority:
    first_name: [crm, website]
    last_name: [crm]
    phone: [website, crm]
`;

const crmRecord = (traits: Record<string, string | null>, updatedAt: string): ContactRecord => ({
  kind: 'contact',
  source: 'salesforce',
  externalId: '003A000001',
  traits: { email: 'ada@example.com', ...traits, updated_at: updatedAt },
  raw: {},
});

describe.each(engines)('on $name', (engine) => {
  let opened: OpenedStore;
  let store: Store;
  beforeEach(async () => {
    opened = await engine.open();
    store = opened.store;
  });
  afterEach(() => opened.close());

  /** The CRM's record, then an identify from the website with the same email, a day later. */
  async function crmThenWebsite(config: Config): Promise<Record<string, unknown>> {
    const identity = identityOptionsOf(config.identity);
    await loadPage(store, {
      connection: 'crm',
      stream: 'contacts',
      records: [crmRecord({ first_name: 'Ada', phone: '+44 20 0000 0000' }, '2026-01-01T00:00:00Z')],
      checkpoint: null,
      identity,
    });
    const deps = {
      config,
      store,
      registry: createRegistry(BUILTIN_CONNECTORS),
      logger: quiet,
      env: { SEGFLOW_WRITE_KEY_WEBSITE: WRITE_KEY },
      startJob: () => Promise.resolve({ status: 'not started' }),
    };
    const res = await ingestRoutes(deps).request('/v1/identify', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      },
      body: JSON.stringify({
        userId: 'u-mallory',
        messageId: 'm1',
        timestamp: '2026-01-02T00:00:00Z',
        traits: { email: 'ada@example.com', firstName: 'Mallory', lastName: 'Mallory', plan: 'pro' },
      }),
    });
    expect(res.status).toBe(200);
    await loadWaitingMessages(store, { identity });
    const [contact] = await findContactsByEmail(store, 'ada@example.com');
    return contact!.traits;
  }

  it('without a priority, the most recent value wins: the identify overwrites the CRM name', async () => {
    const traits = await crmThenWebsite(await configWith(''));
    expect(traits).toMatchObject({ first_name: 'Mallory', last_name: 'Mallory', plan: 'pro' });
  });

  it('with first_name: [crm, website], the CRM name stays; unlisted traits take the newest value', async () => {
    const traits = await crmThenWebsite(await configWith(PRIORITY));
    expect(traits).toMatchObject({ first_name: 'Ada', plan: 'pro', phone: '+44 20 0000 0000' });
    // last_name: [crm], but the CRM has none: the most recent value
    expect(traits.last_name).toBe('Mallory');
  });

  it('a later CRM change wins again', async () => {
    const config = await configWith(PRIORITY);
    await crmThenWebsite(config);
    const identity = identityOptionsOf(config.identity);
    await loadPage(store, {
      connection: 'crm',
      stream: 'contacts',
      records: [crmRecord({ first_name: 'Augusta', phone: null }, '2026-01-03T00:00:00Z')],
      checkpoint: null,
      identity,
    });
    const [contact] = await findContactsByEmail(store, 'ada@example.com');
    expect(contact!.traits).toMatchObject({ first_name: 'Augusta', last_name: 'Mallory' });
  });

  it("the profile says where each trait came from, by the config's priority", async () => {
    const config = await configWith(PRIORITY);
    await crmThenWebsite(config);
    const [contact] = await findContactsByEmail(store, 'ada@example.com');
    const app = createServer({
      config,
      store,
      registry: createRegistry(BUILTIN_CONNECTORS),
      logger: quiet,
      env: { SEGFLOW_ADMIN_TOKEN: ADMIN },
      startJob: () => Promise.resolve({ status: 'not started' }),
    });
    const res = await app.request(`/contacts/${contact!.id}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    const profile = (await res.json()) as { traits: Record<string, unknown>; traitSources: Record<string, string> };
    expect(profile.traits.first_name).toBe('Ada');
    expect(profile.traitSources).toMatchObject({
      first_name: 'salesforce',
      phone: 'salesforce',
      // ids are workspace-wide: what the write keys send is recorded under the shared source
      last_name: 'tracking',
      plan: 'tracking',
    });
  });
});

describe('identity.trait_priority in the config', () => {
  it('names sources the config has: a connection or a write key, else a located error with the closest name', async () => {
    const error = await configWith(`identity:\n  trait_priority:\n    first_name: [crn, website]\n`).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as Error).message).toMatch(/segflow\.yaml:9:\d+: .*unknown source "crn".*did you mean "crm"/);
  });
});
