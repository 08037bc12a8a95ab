/**
 * One synthetic world rendered by the sandboxes of the tools a test reads, for the tests that fill a store the way a
 * deployment does (a config's sources, a job that reads them): the `sources:` YAML naming each tool after itself, with
 * its credentials as `${…}` placeholders, and the env that fills them in.
 */
import * as hubspot from '../../connectors/hubspot/index.js';
import { SANDBOXES, type RunningSandbox } from '../../cli/sandboxes.js';
import type { World } from '../../plugins/sandbox/index.js';

export type SourceTool = 'hubspot' | 'salesforce' | 'mailchimp';

/** Each tool's connector config as placeholders, and the env variable each placeholder reads from its sandbox config. */
const CONFIG_ENV: Record<SourceTool, Record<string, string>> = {
  hubspot: { accessToken: 'HUBSPOT_TOKEN', basePath: 'HUBSPOT_BASE_PATH' },
  salesforce: {
    loginUrl: 'SF_LOGIN_URL',
    clientId: 'SF_CLIENT_ID',
    clientSecret: 'SF_CLIENT_SECRET',
    username: 'SF_USERNAME',
    password: 'SF_PASSWORD',
  },
  mailchimp: { apiKey: 'MAILCHIMP_API_KEY', basePath: 'MAILCHIMP_BASE_PATH' },
};

export interface WorldSources {
  /** The HubSpot sandbox itself (its portal: contacts, lists; its faults), when HubSpot is one of the tools. */
  hubspot?: hubspot.HubSpotSandbox;
  /** `sources:` and an entry per tool, named after the tool. */
  yaml: string;
  /** What the placeholders of `yaml` read (HUBSPOT_TOKEN, SF_PASSWORD, …). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts the sandboxes of `tools` on `world`.
 *
 * @example
 * const sources = await startWorldSources(world, ['hubspot', 'salesforce']);
 * writeFileSync(file, `store: ${storeYaml(location)}\n${sources.yaml}jobs: …`);
 * const config = await loadConfig(file, { registry, env: sources.env });
 */
export async function startWorldSources(world: World, tools: readonly SourceTool[]): Promise<WorldSources> {
  const sandboxes: RunningSandbox[] = [];
  let hub: hubspot.HubSpotSandbox | undefined;
  const close = async () => {
    await Promise.all(sandboxes.map((s) => s.close()));
  };
  try {
    for (const tool of tools) {
      if (tool === 'hubspot') {
        const started = await hubspot.startSandbox({ world });
        hub = started;
        sandboxes.push({
          tool,
          url: started.url,
          credentials: {},
          config: hubspot.sandboxConfig(started),
          close: () => started.close(),
        });
      } else sandboxes.push(await SANDBOXES[tool]!({ world }));
    }
  } catch (error) {
    await close();
    throw error;
  }
  const env: Record<string, string> = {};
  let yaml = 'sources:\n';
  for (const [i, tool] of tools.entries()) {
    const config = sandboxes[i]!.config as Record<string, string>;
    yaml += `  ${tool}:\n    connector: ${tool}\n    config:\n`;
    for (const [field, variable] of Object.entries(CONFIG_ENV[tool])) {
      yaml += `      ${field}: \${${variable}}\n`;
      env[variable] = config[field]!;
    }
  }
  return { ...(hub ? { hubspot: hub } : {}), yaml, env, close };
}
