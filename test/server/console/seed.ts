/**
 * A small store for the console's browser test, seeded the way a deployment fills one: the HubSpot, Salesforce and
 * Mailchimp sandboxes render one synthetic world, and a job reads them, computes features, segments and models, and
 * pushes to HubSpot lists. The job runs twice (60 days before the world's clock, then at it) so segments have a
 * history and a migration between runs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinRegistry } from '../../../cli/builtins.js';
import { runJob, type JobResult } from '../../../sync/index.js';
import { SANDBOXES, type RunningSandbox } from '../../../cli/sandboxes.js';
import * as hubspot from '../../../connectors/hubspot/index.js';
import { loadConfig, type Config } from '../../../config/index.js';
import { createWorld } from '../../../plugins/sandbox/index.js';
import { tempDir } from '../../support/temp.js';

export interface SeededStore {
  dir: string;
  config: Config;
  env: Record<string, string>;
  runs: JobResult[];
  /** Values that must never reach a page: the connector secrets in the config. */
  secrets: string[];
  now: Date;
  /** The HubSpot sandbox itself: its portal (contacts, lists) and its faults. */
  hubspot: hubspot.HubSpotSandbox;
  close(): Promise<void>;
}

const CONFIG = `
store:
  path: \${SEGFLOW_STORE}
sources:
  hubspot:
    connector: hubspot
    config:
      accessToken: \${HUBSPOT_TOKEN}
      basePath: \${HUBSPOT_BASE_PATH}
  salesforce:
    connector: salesforce
    config:
      loginUrl: \${SF_LOGIN_URL}
      clientId: \${SF_CLIENT_ID}
      clientSecret: \${SF_CLIENT_SECRET}
      username: \${SF_USERNAME}
      password: \${SF_PASSWORD}
  mailchimp:
    connector: mailchimp
    config:
      apiKey: \${MAILCHIMP_API_KEY}
      basePath: \${MAILCHIMP_BASE_PATH}
destinations:
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
\${CAMPAIGN_JOB}server:
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
  const hub = await hubspot.startSandbox({ world });
  const sandboxes: RunningSandbox[] = [
    { tool: 'hubspot', url: hub.url, credentials: {}, config: hubspot.sandboxConfig(hub), close: () => hub.close() },
  ];
  for (const tool of ['salesforce', 'mailchimp']) sandboxes.push(await SANDBOXES[tool]!({ world }));
  const of = (tool: string) => sandboxes.find((s) => s.tool === tool)!.config as Record<string, string>;
  const env: Record<string, string> = {
    SEGFLOW_STORE: join(dir, 'segflow.db'),
    HUBSPOT_TOKEN: of('hubspot').accessToken!,
    HUBSPOT_BASE_PATH: of('hubspot').basePath!,
    SF_LOGIN_URL: of('salesforce').loginUrl!,
    SF_CLIENT_ID: of('salesforce').clientId!,
    SF_CLIENT_SECRET: of('salesforce').clientSecret!,
    SF_USERNAME: of('salesforce').username!,
    SF_PASSWORD: of('salesforce').password!,
    MAILCHIMP_API_KEY: of('mailchimp').apiKey!,
    MAILCHIMP_BASE_PATH: of('mailchimp').basePath!,
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
  writeFileSync(join(dir, 'segflow.yaml'), CONFIG.replace('${CAMPAIGN_JOB}', campaign) + (options.text ?? ''));
  const registry = builtinRegistry();
  const config = await loadConfig(join(dir, 'segflow.yaml'), { registry, env });
  const now = new Date(world.now + (options.daysAfterWorld ?? 0) * 86_400_000);
  const runs: JobResult[] = [];
  for (const at of [new Date(now.getTime() - 60 * 86_400_000), now]) {
    runs.push(await runJob(config, 'nightly', { registry, now: at }));
  }
  return {
    dir,
    config,
    env,
    runs,
    now,
    hubspot: hub,
    secrets: [env.HUBSPOT_TOKEN!, env.SF_CLIENT_SECRET!, env.SF_PASSWORD!, env.MAILCHIMP_API_KEY!],
    close: async () => {
      await Promise.all(sandboxes.map((s) => s.close()));
    },
  };
}
