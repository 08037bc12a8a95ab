/**
 * A small store for the console's browser test, seeded the way a deployment fills one: the HubSpot, Salesforce and
 * Mailchimp sandboxes render one synthetic world, and a job reads them, computes features, segments and models, and
 * pushes to HubSpot lists. The job runs twice (60 days before the world's clock, then at it) so segments have a
 * history and a migration between runs. The store is handed over open, with what a server over it is built from.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinRegistry } from '../../../cli/builtins.js';
import { runJob, type JobResult } from '../../../sync/index.js';
import type * as hubspot from '../../../connectors/hubspot/index.js';
import { loadConfig, type Config } from '../../../config/index.js';
import { openStore, type Store } from '../../../core/index.js';
import { createWorld } from '../../../plugins/sandbox/index.js';
import { tempDir } from '../../support/temp.js';
import { startWorldSources } from '../../support/world-sources.js';

export interface SeededStore {
  dir: string;
  config: Config;
  env: Record<string, string>;
  /** The store, open (closed by `close`). */
  store: Store;
  /** What a server over the store is built from, but its `startJob`: the config, the store, the env, the clock. */
  server: { config: Config; store: Store; env: Record<string, string>; now: () => Date };
  runs: JobResult[];
  /** Values that must never reach a page: the connector secrets in the config. */
  secrets: string[];
  now: Date;
  /** The HubSpot sandbox itself: its portal (contacts, lists) and its faults. */
  hubspot: hubspot.HubSpotSandbox;
  /** Closes the store and the sandboxes. */
  close(): Promise<void>;
}

/** The config, given its `sources:` YAML and any extra jobs' YAML. */
const configYaml = (sources: string, jobs: string) => `
store:
  path: \${SEGFLOW_STORE}
${sources}destinations:
  hubspot_lists:
    connector: hubspot
    config:
      accessToken: \${HUBSPOT_TOKEN}
      basePath: \${HUBSPOT_BASE_PATH}
      listPrefix: "segflow: "
      createMissingContacts: \${HUBSPOT_CREATE_MISSING}
    identities_from: hubspot
segments:
  - include: ${JSON.stringify(join(process.cwd(), 'config/segments/starter.yaml'))}
models:
  clusters:
    kind: kmeans
    features: [days_since_last_purchase, frequency_365d, monetary_365d]
    log1p: [frequency_365d, monetary_365d]
    fill: { days_since_last_purchase: 3650 }
    k: 2..6
  churn:
    kind: churn
jobs:
  nightly:
    steps:
      - read: { sources: [hubspot, salesforce, mailchimp], mode: incremental }
      - compute: {}
      - push: { destination: hubspot_lists, segments: [churned, new_customers], mode: mirror }
${jobs}server:
  admin_token_env: CONSOLE_ADMIN_TOKEN
  read_token_env: CONSOLE_READ_TOKEN
`;

export async function seedStore(options: {
  people: number;
  seed: string;
  adminToken: string;
  readToken: string;
  /** HubSpot lists create a contact missing from HubSpot by its email (default false: it is skipped). */
  createMissingContacts?: boolean;
  /** Adds the job `campaign`: compute, then push these console segments (keys or tag:<tag>) to HubSpot lists. */
  campaignSegments?: string[];
  /**
   * Runs the job (and reports `now`) this many days after the world's last day, as a marketer looking at the base a
   * while after it last bought: recent repeat buyers who have gone quiet then score a high churn risk. Default 0.
   */
  daysAfterWorld?: number;
  /** A top-level `text:` block (YAML) for the config: what is kept of what customers write, and its topics. */
  text?: string;
}): Promise<SeededStore> {
  const dir = tempDir('segflow-console-');
  const world = createWorld({ seed: options.seed, people: options.people });
  const sources = await startWorldSources(world, ['hubspot', 'salesforce', 'mailchimp']);
  try {
    const env: Record<string, string> = {
      ...sources.env,
      SEGFLOW_STORE: join(dir, 'segflow.db'),
      CONSOLE_ADMIN_TOKEN: options.adminToken,
      CONSOLE_READ_TOKEN: options.readToken,
      HUBSPOT_CREATE_MISSING: String(options.createMissingContacts === true),
    };
    const campaign = options.campaignSegments
      ? `  campaign:
    steps:
      - compute: {}
      - push: { destination: hubspot_lists, console_segments: ${JSON.stringify(options.campaignSegments)}, mode: mirror }
`
      : '';
    writeFileSync(join(dir, 'segflow.yaml'), configYaml(sources.yaml, campaign) + (options.text ?? ''));
    const registry = builtinRegistry();
    const config = await loadConfig(join(dir, 'segflow.yaml'), { registry, env });
    const now = new Date(world.now + (options.daysAfterWorld ?? 0) * 86_400_000);
    const runs: JobResult[] = [];
    for (const at of [new Date(now.getTime() - 60 * 86_400_000), now]) {
      runs.push(await runJob(config, 'nightly', { registry, now: at }));
    }
    const store = await openStore(config.store.path);
    return {
      dir,
      config,
      env,
      store,
      server: { config, store, env, now: () => now },
      runs,
      now,
      hubspot: sources.hubspot!,
      secrets: [env.HUBSPOT_TOKEN!, env.SF_CLIENT_SECRET!, env.SF_PASSWORD!, env.MAILCHIMP_API_KEY!],
      close: async () => {
        await store.close();
        await sources.close();
      },
    };
  } catch (error) {
    await sources.close();
    throw error;
  }
}
