import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSecrets, formatConfigErrors, loadConfig, rateBudget, type Config } from '../../config/index.js';
import { eventCounts, openStore, toolOverlap } from '../../core/index.js';
import { createContext, type Logger } from '../../plugins/index.js';
import { createWorld, type World } from '../../plugins/sandbox/index.js';
import { readSource, type StreamOutcome } from '../../sync/index.js';
import { intFlag, parseArgs, UsageError } from '../args.js';
import { builtinRegistry } from '../builtins.js';
import { EXIT, type Command } from '../main.js';
import { SANDBOXES, type RunningSandbox } from '../sandboxes.js';

const USAGE = 'demo [--people N] [--seed S] [--store file]';
const DEMO_CONFIG = fileURLToPath(new URL('../../config/examples/demo.yaml', import.meta.url));
const TOOLS = ['hubspot', 'salesforce', 'mailchimp'] as const;

/**
 * `npm start`: starts the HubSpot, Salesforce and Mailchimp sandboxes on one seeded synthetic world, points
 * config/examples/demo.yaml at them through its environment variables, and runs its read job through the same code a
 * deployment runs: every record through the official SDKs, identity resolution, the store. A second run resumes from
 * the stored checkpoints and the sandboxes' saved state under .segflow/.
 */
export const command: Command = {
  summary: 'run the demo: tool sandboxes on one synthetic world, read into a local store',
  usage: USAGE,
  async run(argv) {
    let people: number;
    let args;
    try {
      args = parseArgs(argv);
      people = intFlag(args, 'people', 20_000)!;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`segflow demo: ${error.message}\nusage: segflow ${USAGE}\n`);
      return EXIT.usage;
    }
    const seed = typeof args.flags.get('seed') === 'string' ? String(args.flags.get('seed')) : 'demo';
    const storePath = resolve(
      typeof args.flags.get('store') === 'string' ? String(args.flags.get('store')) : '.segflow/demo.db',
    );
    const stateDir = join(dirname(storePath), 'sandboxes', `${seed}-${people}`);
    mkdirSync(stateDir, { recursive: true });

    const say = (line: string) => process.stdout.write(`${line}\n`);
    say(`segflow demo: a synthetic world of ${people.toLocaleString('en')} people (seed ${seed})`);
    const world = createWorld({ seed, people });
    const sandboxes: RunningSandbox[] = [];
    try {
      for (const tool of TOOLS) {
        sandboxes.push(await SANDBOXES[tool]!({ world, statePath: join(stateDir, `${tool}.json`) }));
        say(`  ${tool.padEnd(11)} sandbox on ${sandboxes.at(-1)!.url}`);
      }
      pointConfigAt(sandboxes, storePath);
      let config: Config;
      try {
        config = await loadConfig(DEMO_CONFIG, { registry: builtinRegistry() });
      } catch (error) {
        process.stderr.write(`${formatConfigErrors(error)}\n`);
        return EXIT.usage;
      }
      return await readEverything(config, world, say);
    } finally {
      await Promise.all(sandboxes.map((s) => s.close()));
    }
  },
};

/** Sets the variables demo.yaml reads, from the running sandboxes. */
function pointConfigAt(sandboxes: RunningSandbox[], storePath: string): void {
  const config = (tool: string) => sandboxes.find((s) => s.tool === tool)!.config as Record<string, string>;
  const hubspot = config('hubspot');
  const salesforce = config('salesforce');
  const mailchimp = config('mailchimp');
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
  });
}

async function readEverything(config: Config, world: World, say: (line: string) => void): Promise<number> {
  mkdirSync(dirname(config.store.path), { recursive: true });
  const store = openStore(config.store.path);
  const registry = builtinRegistry();
  const logger = terminalLogger();
  const outcomes: { source: string; streams: StreamOutcome[]; requests: number; seconds: number }[] = [];
  try {
    const job = config.jobs.demo!;
    const reading = new Map<string, number>();
    const show = () =>
      progress(`  reading: ${[...reading].map(([k, n]) => `${k} ${n.toLocaleString('en')}`).join(' · ')}`);
    for (const step of job.steps) {
      if (!('read' in step)) continue;
      // The sources are independent tools, so they are read side by side; each keeps its own rate budget.
      const read = step.read.sources.map(async (name) => {
        const connection = config.sources[name]!;
        const source = registry.source(connection.connector);
        const ctx = createContext({
          connection: name,
          budget: rateBudget(source, connection.rate_limit),
          secrets: configSecrets(config),
          logger,
        });
        const started = performance.now();
        reading.set(name, 0);
        const streams = await readSource({
          store,
          connection: name,
          source,
          config: connection.config,
          ...(connection.streams ? { streams: connection.streams } : {}),
          mode: step.read.mode === 'full' ? 'full' : 'incremental',
          ctx,
          onPage: (_stream, page) => {
            reading.set(name, (reading.get(name) ?? 0) + page.read);
            show();
          },
        });
        return { source: name, streams, requests: ctx.stats.requests, seconds: (performance.now() - started) / 1000 };
      });
      outcomes.push(...(await Promise.all(read)));
      progress('');
    }

    say('\nRecords read per source');
    say('  source       stream           read   inserted  updated  status');
    for (const { source, streams } of outcomes) {
      for (const s of streams) {
        say(
          `  ${source.padEnd(12)} ${s.stream.padEnd(14)} ${num(s.counts.read, 7)} ${num(s.counts.inserted, 10)} ${num(s.counts.updated, 8)}  ${s.status}${s.error ? `: ${s.error}` : ''}`,
        );
      }
    }
    for (const { source, requests, seconds } of outcomes) {
      say(`  ${source}: ${requests.toLocaleString('en')} API requests in ${seconds.toFixed(1)} s`);
    }

    const overlap = toolOverlap(store);
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
    say('\nEvents in the store');
    for (const { source, type, events } of eventCounts(store))
      say(`  ${source.padEnd(12)} ${type.padEnd(18)} ${num(events, 9)}`);
    say(`\nStore: ${config.store.path}  (run again to read incrementally from the saved checkpoints)`);
    const failed = outcomes.some((o) => o.streams.some((s) => s.status !== 'succeeded'));
    return failed ? EXIT.failed : EXIT.ok;
  } finally {
    store.close();
  }
}

const num = (n: number, width: number) => n.toLocaleString('en').padStart(width);

function progress(line: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${line}`);
}

/** Warnings and errors as short lines; the rate-limit waits of a healthy sync are not worth a line each. */
function terminalLogger(): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    if (message === 'rate limited, waiting') return;
    process.stderr.write(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  };
  return { debug: () => {}, info: () => {}, warn: write('warn'), error: write('error') };
}
