/**
 * A store holding the voice of a synthetic world, filled the way a deployment fills one: the HubSpot and Salesforce
 * sandboxes render the world (tickets, feedback submissions, Cases and their comments), and a job reads them and
 * computes features, the voice analysis (text kept, redacted; five topics named through their top terms) and the
 * starter segments. The world's truth — each ticket's topic and text, each survey's score — is what tests check the
 * answers against.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinRegistry } from '../../../cli/builtins.js';
import { loadConfig, type Config } from '../../../config/index.js';
import { redactText } from '../../../core/text/index.js';
import {
  createWorld,
  worldVoice,
  type World,
  type WorldTopic,
  type WorldVoice,
} from '../../../plugins/sandbox/index.js';
import { runJob } from '../../../sync/index.js';
import { storeYaml } from '../../support/engines.js';
import { tempDir } from '../../support/temp.js';
import { startWorldSources } from '../../support/world-sources.js';

/**
 * The topics' names, pinned through a top term of each; the world's five topics under their own names. A topic the
 * model found whose top terms hold none of these keeps its generated name, and the tests then say which.
 */
export const TOPIC_NAMES: Record<string, WorldTopic> = {
  invoice: 'billing',
  payment: 'billing',
  parcel: 'delivery',
  delivery: 'delivery',
  tracking: 'delivery',
  login: 'account access',
  password: 'account access',
  app: 'app defects',
  error: 'app defects',
  subscription: 'cancellation',
  renewal: 'cancellation',
};

/** The config's `text:` block: keep text (redacted), five topics named as the world names them. */
export const TEXT_YAML = `text:
  keep: true
  topics:
    count: 5
    names: ${JSON.stringify(TOPIC_NAMES)}
`;

export interface VoiceWorld {
  world: World;
  voice: WorldVoice;
  config: Config;
  env: Record<string, string>;
  now: Date;
  /** The world's people by email (a role address may be shared). */
  peopleByEmail: Map<string, number[]>;
  /** The world topic of each ticket's opening message, as the store keeps it (redacted). */
  topicOfText: Map<string, WorldTopic>;
  close(): Promise<void>;
}

/** The config after its store and sources. */
const CONFIG = `segments:
  - include: ${JSON.stringify(join(process.cwd(), 'config/segments/starter.yaml'))}
jobs:
  nightly:
    steps:
      - read: { sources: [hubspot, salesforce], mode: incremental }
      - compute: {}
server:
  admin_token_env: VOICE_ADMIN_TOKEN
  read_token_env: VOICE_READ_TOKEN
${TEXT_YAML}`;

/** Seeds the store at `location` (a SQLite file or a PostgreSQL URL) from a world of `people`. */
export async function seedVoiceWorld(
  location: string,
  options: { people: number; seed: string; adminToken: string; readToken: string },
): Promise<VoiceWorld> {
  const world = createWorld({ seed: options.seed, people: options.people });
  const voice = worldVoice(world);
  const sources = await startWorldSources(world, ['hubspot', 'salesforce']);
  try {
    const env: Record<string, string> = {
      ...sources.env,
      VOICE_ADMIN_TOKEN: options.adminToken,
      VOICE_READ_TOKEN: options.readToken,
    };
    const dir = tempDir('segflow-voice-');
    writeFileSync(join(dir, 'segflow.yaml'), `store: ${storeYaml(location)}\n${sources.yaml}${CONFIG}`);
    const registry = builtinRegistry();
    const config = await loadConfig(join(dir, 'segflow.yaml'), { registry, env });
    const now = new Date(world.now);
    const run = await runJob(config, 'nightly', { registry, now });
    if (run.status !== 'succeeded') throw new Error(`the seeding job ended ${run.status}`);
    const peopleByEmail = new Map<string, number[]>();
    const topicOfText = new Map<string, WorldTopic>();
    for (let i = 0; i < world.size; i++) {
      const email = world.person(i).email;
      peopleByEmail.set(email, [...(peopleByEmail.get(email) ?? []), i]);
      for (const ticket of voice.tickets(i)) topicOfText.set(redactText(ticket.messages[0]!.text), ticket.topic);
    }
    return { world, voice, config, env, now, peopleByEmail, topicOfText, close: sources.close };
  } catch (error) {
    await sources.close();
    throw error;
  }
}
