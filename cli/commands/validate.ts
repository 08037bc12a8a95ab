/**
 * `segflow validate <config.yaml>`: loads the config as every other command would, and prints what it defines or
 * every mistake with its file, line and column.
 */
import { relative } from 'node:path';
import {
  ConfigFileError,
  formatConfigErrors,
  loadConfig,
  nextRuns,
  type Config,
  type ConfigIssue,
  type JobStep,
} from '../../config/index.js';
import { compileAccountSegments, compileSegments, SegmentRuleError } from '../../core/segments/index.js';
import { builtinRegistry } from '../builtins.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow validate <config.yaml> [--json]

Reads the config file and the segment files it includes, fills in \${VAR} from the environment, checks each
connection's config against its connector and every reference between sections, compiles every segment rule and account segment rule
(unknown features, scores and models, cycles between segments, protected attributes), then prints what the file
defines (sources, destinations, segments, jobs with their next run) or every mistake with file:line:column.
Nothing is contacted: use \`segflow check\` to try the connections.

options:
  --json  print one JSON object on stdout instead: { valid: true, store, sources, destinations, segments, features,
          models, jobs } or { valid: false, errors: [{ file, line, column, path, message }] } (a segment rule's
          mistake: { segment, path, where, message })

exit codes:
  0  the config is valid
  2  the config is invalid, or the command was used wrongly
`;

export const command: Command = {
  summary: 'check a config file and summarise what it defines',
  usage: 'validate <config.yaml> [--json]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    const json = argv.includes('--json');
    const [file, ...extra] = argv.filter((a) => a !== '--json');
    if (!file || extra.length > 0 || file.startsWith('-')) {
      process.stderr.write(
        `segflow validate: ${file ? `unexpected argument "${extra[0] ?? file}"` : 'name the config file'}\n\n${HELP}`,
      );
      return EXIT.usage;
    }
    let config: Config;
    try {
      config = await loadConfig(file, { registry: builtinRegistry() });
    } catch (error) {
      if (json && error instanceof ConfigFileError) return invalid(error.issues);
      process.stderr.write(formatConfigErrors(error));
      return EXIT.usage;
    }
    try {
      const options = {
        customFeatures: Object.keys(config.features),
        protectedAttributes: config.protected_attributes,
        models: Object.keys(config.models),
      };
      compileSegments(config.segments, options);
      compileAccountSegments(config.account_segments ?? [], config.segments, options);
    } catch (error) {
      if (!(error instanceof SegmentRuleError)) throw error;
      if (json) {
        return invalid(error.issues.map(({ segment, path, where, message }) => ({ segment, path, where, message })));
      }
      process.stderr.write(`${error.issues.map((i) => `${i.where}: ${i.message}`).join('\n')}\n`);
      return EXIT.usage;
    }
    process.stdout.write(json ? `${JSON.stringify(summaryJson(config), null, 2)}\n` : summary(file, config));
    return EXIT.ok;
  },
};

/** Config mistakes carry file, line, column and path; segment rule mistakes their segment, path and where. */
function invalid(errors: (ConfigIssue | { segment: string; path: string; where: string; message: string })[]): number {
  process.stdout.write(`${JSON.stringify({ valid: false, errors }, null, 2)}\n`);
  return EXIT.usage;
}

/** What `--json` prints for a valid config: the same facts as the text summary, with the jobs' next runs in UTC. */
function summaryJson(config: Config) {
  return {
    valid: true,
    store: config.store.path,
    sources: Object.values(config.sources).map((s) => ({
      name: s.name,
      connector: s.connector,
      ...(s.streams ? { streams: s.streams } : {}),
    })),
    destinations: Object.values(config.destinations).map((d) => ({
      name: d.name,
      connector: d.connector,
      ...(d.identities_from ? { identitiesFrom: d.identities_from } : {}),
    })),
    segments: config.segments.map((s) => ({ key: s.key, holdout: s.holdout })),
    accountSegments: (config.account_segments ?? []).map((s) => s.key),
    features: Object.keys(config.features),
    models: Object.entries(config.models).map(([name, m]) => ({
      name,
      ...(typeof m.kind === 'string' ? { kind: m.kind } : {}),
    })),
    jobs: Object.entries(config.jobs).map(([name, job]) => ({
      name,
      schedule: job.schedule ?? null,
      timezone: job.timezone,
      next: nextRuns(job)[0]?.toISOString() ?? null,
      steps: job.steps.map(stepLabel),
    })),
  };
}

function list(names: string[]): string {
  return names.length === 0 ? 'none' : `${names.length}: ${names.join(', ')}`;
}

function stepLabel(step: JobStep): string {
  if ('read' in step) return `read ${step.read.sources.join(', ')}${step.read.mode === 'full' ? ' (full)' : ''}`;
  if ('compute' in step) return 'compute';
  const accounts = step.push.account_segments?.length ? ` (accounts: ${step.push.account_segments.join(', ')})` : '';
  return `push ${step.push.segments.join(', ')}${accounts} to ${step.push.destination} (${step.push.mode})`;
}

function localTime(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(date);
}

function summary(file: string, config: Config): string {
  const lines = [`${file} is valid`];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(13)} ${text}`);
  row(
    'store',
    config.store.engine === 'sqlite'
      ? relative(process.cwd(), config.store.path) || config.store.path
      : config.store.shown,
  );
  row(
    'sources',
    list(
      Object.values(config.sources).map(
        (s) => `${s.name} (${s.connector}${s.streams ? `: ${s.streams.join(', ')}` : ''})`,
      ),
    ),
  );
  row(
    'destinations',
    list(
      Object.values(config.destinations).map(
        (d) => `${d.name} (${d.connector}${d.identities_from ? `, ids from ${d.identities_from}` : ''})`,
      ),
    ),
  );
  row(
    'segments',
    list(
      config.segments.map((s) => (s.holdout > 0 ? `${s.key} (holdout ${Math.round(s.holdout * 1000) / 10}%)` : s.key)),
    ),
  );
  if (config.account_segments?.length) row('accounts', list(config.account_segments.map((s) => s.key)));
  row('features', list(Object.keys(config.features)));
  row(
    'models',
    list(Object.entries(config.models).map(([name, m]) => (typeof m.kind === 'string' ? `${name} (${m.kind})` : name))),
  );
  const jobs = Object.entries(config.jobs);
  row('jobs', jobs.length === 0 ? 'none' : String(jobs.length));
  for (const [name, job] of jobs) {
    const next = nextRuns(job)[0];
    const when =
      job.schedule === undefined
        ? 'on demand'
        : `"${job.schedule}" ${job.timezone}, next ${next ? localTime(next, job.timezone) : 'never'}`;
    lines.push(`    ${name}: ${when}`);
    lines.push(`      ${job.steps.map(stepLabel).join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
