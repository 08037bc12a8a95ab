import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatConfigErrors, loadConfig, type Config } from '../../config/index.js';
import {
  eventCounts,
  isPostgresLocation,
  latestModelRun,
  openStore,
  toolOverlap,
  type Queryable,
} from '../../core/index.js';
import { VOICE_FEATURE_NAMES, voiceSummary } from '../../core/text/index.js';
import type { Logger } from '../../plugins/index.js';
import { createWorld, type World } from '../../plugins/sandbox/index.js';
import { intFlag, parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { runJob } from '../../sync/index.js';
import { describeRun } from './run.js';
import { EXIT, type Command } from '../main.js';
import { startSandboxesInWorker, type RunningSandbox } from '../sandboxes.js';
import { startServing } from '../../server/index.js';
import { startShop, type Shop } from '../shop.js';

const USAGE = 'demo [--people N] [--seed S] [--store file|url] [--port N] [--serve | --no-serve]';
const DEMO_CONFIG = fileURLToPath(new URL('../../config/examples/demo.yaml', import.meta.url));
const TOOLS = ['hubspot', 'salesforce', 'mailchimp'] as const;
const SANDBOX_TOOLS = [...TOOLS, 'segment'] as const;
/** The sandboxes play the tools' top tiers, as demo.yaml's rate limits assume (HubSpot Pro/Enterprise: 190 per 10 s). */
const TOP_TIER_LIMITS = { hubspot: { requestsPerInterval: 190, intervalMs: 10_000 } };

/**
 * `npm start`: starts the HubSpot, Salesforce and Mailchimp sandboxes on one seeded synthetic world, points
 * config/examples/demo.yaml at them through its environment variables, and runs its read job through the same code a
 * deployment runs: every record through the official SDKs, identity resolution, the store. A second run resumes from
 * the stored checkpoints and the sandboxes' saved state under .segflow/.
 */
export const command: Command = {
  summary: 'run the demo: tool sandboxes on one synthetic world, read, compute segments, push to every tool',
  usage: USAGE,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(
        `usage: segflow ${USAGE}\n\nStarts the HubSpot, Salesforce and Mailchimp sandboxes on one seeded synthetic world of --people people\n(20,000 by default), reads every tool into the store (--store, .segflow/demo.db by default), computes the\nsegments, pushes membership back to every tool, and serves the console on --port (8080) unless --no-serve.\nA second run resumes from the stored checkpoints and the sandboxes' saved state.\n`,
      );
      return EXIT.ok;
    }
    let people: number;
    let port: number;
    let args;
    try {
      args = parseArgs(argv, { strings: ['people', 'seed', 'store', 'port'], booleans: ['serve', 'no-serve'] });
      people = intFlag(args, 'people', 20_000)!;
      port = intFlag(args, 'port', 8080)!;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow demo: ${error.message}\nusage: segflow ${USAGE}\n`);
      return EXIT.usage;
    }
    const seed = typeof args.flags.get('seed') === 'string' ? String(args.flags.get('seed')) : 'demo';
    const given = typeof args.flags.get('store') === 'string' ? String(args.flags.get('store')) : '.segflow/demo.db';
    // A PostgreSQL store (--store postgres://…) keeps the sandboxes' saved state and the admin token under .segflow/.
    const onPostgres = isPostgresLocation(given);
    const storePath = onPostgres ? given : resolve(given);
    const beside = onPostgres ? resolve('.segflow') : dirname(storePath);
    const stateDir = join(beside, 'sandboxes', `${seed}-${people}`);
    mkdirSync(stateDir, { recursive: true });

    const say = (line: string) => process.stdout.write(`${line}\n`);
    say(`segflow demo: a synthetic world of ${people.toLocaleString('en')} people (seed ${seed})`);
    const world = createWorld({ seed, people });
    let sandboxes: RunningSandbox[] = [];
    try {
      sandboxes = await startSandboxes(seed, people, stateDir);
      for (const sandbox of sandboxes) say(`  ${sandbox.tool.padEnd(11)} sandbox on ${sandbox.url}`);
      // The store is passed to loadConfig below; demo.yaml's own `path:` names the default SQLite file.
      pointConfigAt(sandboxes, onPostgres ? join(beside, 'demo.db') : storePath, world.audiences[0]!.id);
      // The shop page posts from its own origin, the port after the console's.
      Object.assign(process.env, {
        SEGFLOW_SHOP_WRITE_KEY: `wk_shop_${randomBytes(12).toString('hex')}`,
        SEGFLOW_SHOP_ORIGIN: `http://127.0.0.1:${port + 1}`,
      });
      let config: Config;
      try {
        config = await loadConfig(DEMO_CONFIG, { registry: builtinRegistry(), store: storePath });
      } catch (error) {
        process.stderr.write(`${formatConfigErrors(error)}\n`);
        return EXIT.usage;
      }
      const status = await runDemoJob(config, world, say);
      // On a terminal the demo goes on serving the console; from a script it ends after the run unless asked.
      const serve = args.flags.has('serve') || (!args.flags.has('no-serve') && process.stdout.isTTY === true);
      if (!serve) return status;
      await serveUntilStopped(config, world, beside, port, say);
      return status;
    } finally {
      await Promise.all(sandboxes.map((s) => s.close()));
    }
  },
};

/**
 * The sandboxes answer from worker threads on the same seeded world, so their CPU is on the other core than the sync.
 * Two threads render the world into HubSpot and into Salesforce side by side (seconds each at 20,000 people).
 */
async function startSandboxes(seed: string, people: number, stateDir: string): Promise<RunningSandbox[]> {
  const groups = [['hubspot'], ['salesforce', 'mailchimp', 'segment']];
  const started = await Promise.allSettled(
    groups.map((tools) =>
      startSandboxesInWorker({ tools, seed, people, stateDir, limits: TOP_TIER_LIMITS, recordBodies: false }),
    ),
  );
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((s) => s.close()));
    throw failed.reason;
  }
  return SANDBOX_TOOLS.map((tool) => running.find((s) => s.tool === tool)!);
}

/** Sets the variables demo.yaml reads, from the running sandboxes. */
function pointConfigAt(sandboxes: RunningSandbox[], storePath: string, audienceId: string): void {
  const config = (tool: string) => sandboxes.find((s) => s.tool === tool)!.config as Record<string, string>;
  const hubspot = config('hubspot');
  const salesforce = config('salesforce');
  const mailchimp = config('mailchimp');
  const segment = config('segment');
  Object.assign(process.env, {
    SEGFLOW_STORE: storePath,
    HUBSPOT_TOKEN: hubspot.accessToken,
    HUBSPOT_BASE_PATH: hubspot.basePath,
    SF_LOGIN_URL: salesforce.loginUrl,
    SF_CLIENT_ID: salesforce.clientId,
    SF_CLIENT_SECRET: salesforce.clientSecret,
    SF_USERNAME: salesforce.username,
    SF_PASSWORD: salesforce.password,
    MAILCHIMP_API_KEY: mailchimp.apiKey,
    MAILCHIMP_BASE_PATH: mailchimp.basePath,
    MAILCHIMP_AUDIENCE_ID: audienceId,
    SEGMENT_WRITE_KEY: segment.writeKey,
    SEGMENT_HOST: segment.host,
    SEGMENT_SPACE_ID: segment.spaceId,
    SEGMENT_PROFILES_TOKEN: segment.profilesToken,
  });
}

async function runDemoJob(config: Config, world: World, say: (line: string) => void): Promise<number> {
  say('\nRunning the demo job: read every tool, compute features, models and segments, push to every tool …');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const result = await runJob(config, 'demo', {
    registry: builtinRegistry(),
    // The world stops at its own clock: features and segments are measured from there, not from today.
    now: new Date(world.now),
    logger: terminalLogger(),
    signal: controller.signal,
  });
  for (const line of describeRun(result)) say(line);

  const store = await openStore(config.store.path);
  try {
    const overlap = await toolOverlap(store);
    let inAnyTool = 0;
    for (let i = 0; i < world.size; i++) if (TOOLS.some((tool) => world.isIn(i, tool))) inAnyTool++;
    say('\nPeople after identity resolution');
    say(
      `  ${overlap.contacts.toLocaleString('en')} contacts in the store (the world has ${inAnyTool.toLocaleString('en')} people in at least one tool)`,
    );
    say(
      `  ${overlap.inSeveralTools.toLocaleString('en')} of them were seen by more than one tool and resolved into one contact`,
    );
    for (const [combination, n] of Object.entries(overlap.byCombination).sort((a, b) => b[1] - a[1])) {
      say(`    ${combination.padEnd(32)} ${num(n, 8)}`);
    }
    await describeModels(store, say);
    await describeVoice(store, config, result, say);
    say('\nEvents in the store');
    for (const { source, type, events } of await eventCounts(store))
      say(`  ${source.padEnd(12)} ${type.padEnd(18)} ${num(events, 9)}`);
  } finally {
    await store.close();
  }
  say(`\nStore: ${config.store.shown}  (run again to read incrementally from the saved checkpoints)`);
  return result.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}

/**
 * After the run, what a deployment runs: the admin API, the console, ingestion and the scheduler, on the demo's
 * config, until Ctrl-C. The sandboxes stay up meanwhile, so scheduled runs and the console's actions reach them.
 */
async function serveUntilStopped(
  config: Config,
  world: World,
  /** The folder beside the store where the demo keeps its files (the admin token, the sandboxes' state). */
  stateFolder: string,
  port: number,
  say: (line: string) => void,
) {
  const tokenFile = join(stateFolder, 'admin-token');
  if (!process.env.SEGFLOW_ADMIN_TOKEN) {
    if (!existsSync(tokenFile)) writeFileSync(tokenFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    process.env.SEGFLOW_ADMIN_TOKEN = readFileSync(tokenFile, 'utf8').trim();
  }
  const options = { registry: builtinRegistry(), logger: terminalLogger(), now: () => new Date(world.now) };
  let serving;
  try {
    serving = await startServing(config, { ...options, port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    serving = await startServing(config, { ...options, port: 0 });
  }
  say(
    `\nConsole: ${serving.url}/  (sign in with the admin token ${process.env.SEGFLOW_ADMIN_TOKEN === readToken(tokenFile) ? `in ${tokenFile}` : 'from SEGFLOW_ADMIN_TOKEN'})`,
  );
  say(`API: ${serving.url}/openapi.json   Scheduler: ${serving.scheduledJobs ?? 0} scheduled job(s).   Ctrl-C stops.`);
  let shop: Shop | undefined;
  try {
    shop = await startShop({
      port: Number(new URL(process.env.SEGFLOW_SHOP_ORIGIN ?? 'http://127.0.0.1:0').port),
      segflowUrl: serving.url,
      writeKey: process.env.SEGFLOW_SHOP_WRITE_KEY ?? '',
    });
    say(
      `Shop: ${shop.url}/  (sign in with any email, view Pricing, add to cart: you enter "High intent" in the console within seconds)`,
    );
  } catch (error) {
    say(`Shop: not started (${error instanceof Error ? error.message : String(error)})`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await shop?.close();
  await serving.stop();
}

const readToken = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);

/** The clustering's chosen k and why, its clusters, and the churn model's headline figures. */
async function describeModels(store: Queryable, say: (line: string) => void): Promise<void> {
  const clusters = await latestModelRun(store, 'customers');
  const churn = await latestModelRun(store, 'churn');
  if (!clusters && !churn) return;
  say('\nModels');
  if (clusters) {
    const m = clusters.metrics as {
      k?: number;
      rows?: number;
      choice?: { reasons?: string[] };
      profiles?: { name: string; size: number; share: number }[];
    };
    say(`  customers: k-means over ${num(m.rows ?? 0, 0)} customers, k = ${m.k}`);
    for (const reason of m.choice?.reasons ?? []) say(`    ${reason}`);
    for (const p of m.profiles ?? [])
      say(`    ${p.name.padEnd(36)} ${num(p.size, 7)}  ${(p.share * 100).toFixed(1).padStart(5)}%`);
  }
  if (churn) {
    const m = churn.metrics as {
      reason?: string;
      customers?: number;
      atRisk?: { above70?: number };
      expectedPurchases?: number;
      horizonDays?: number;
      clvHorizonDays?: number;
      totalClv?: number;
    };
    say(`  churn: ${m.reason ?? ''}`);
    say(`    ${num(m.atRisk?.above70 ?? 0, 0)} of ${num(m.customers ?? 0, 0)} customers have a churn risk above 70%`);
    say(
      `    expected purchases in the next ${m.horizonDays} days: ${Math.round(m.expectedPurchases ?? 0).toLocaleString('en')}`,
    );
    say(
      `    customer lifetime value over ${m.clvHorizonDays} days: ${Math.round(m.totalClv ?? 0).toLocaleString('en')} USD in all`,
    );
  }
}

/**
 * The voice of the customer: the topics found in the tickets (named by their top terms, with their sizes), the
 * customer messages scored, contacts per NPS category, and the sizes of the segments whose rules read voice features.
 */
async function describeVoice(
  store: Queryable,
  config: Config,
  result: Awaited<ReturnType<typeof runJob>>,
  say: (line: string) => void,
): Promise<void> {
  const voice = await voiceSummary(store);
  if (voice.topics.length === 0 && voice.scored === 0) return;
  say('\nVoice of the customer');
  if (voice.topics.length > 0) {
    say(`  ticket topics (top terms, tickets):`);
    for (const t of voice.topics) say(`    ${t.name.padEnd(44)} ${num(t.tickets, 7)}`);
  }
  const mean = voice.meanSentiment === null ? '' : `, mean sentiment ${voice.meanSentiment.toFixed(2)}`;
  say(`  ${num(voice.scored, 0)} customer messages and comments scored${mean}`);
  const { promoter, passive, detractor } = voice.nps;
  say(`  NPS: ${num(promoter, 0)} promoters, ${num(passive, 0)} passives, ${num(detractor, 0)} detractors`);
  const reads = new RegExp(`\\b(${VOICE_FEATURE_NAMES.join('|')})\\b`);
  const voiceSegments = new Set(config.segments.filter((s) => reads.test(JSON.stringify(s))).map((s) => s.key));
  const sizes = result.steps.flatMap((step) => (step.kind === 'compute' ? step.segments : []));
  const shown = sizes.filter((s) => voiceSegments.has(s.key));
  if (shown.length > 0) say('  segments on what customers wrote and answered:');
  for (const s of shown) say(`    ${s.key.padEnd(44)} ${num(s.size, 7)}`);
}

const num = (n: number, width: number) => n.toLocaleString('en').padStart(width);

/** Warnings and errors as short lines; the rate-limit waits of a healthy sync are not worth a line each. */
function terminalLogger(): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    if (message === 'rate limited, waiting') return;
    process.stderr.write(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  };
  return { debug: () => {}, info: () => {}, warn: write('warn'), error: write('error') };
}
