/**
 * `segflow segments preview <config.yaml> <segment-key|file>`: counts a segment's members over the store and prints a
 * sample, saving nothing. `segflow segments report <config.yaml>`: the last run's size, entered, exited, stability and
 * drift alerts per segment, and each holdout's treated-against-control comparison. `segflow segments show <config.yaml>
 * <segment-key|file>`: a segment's rule in words (the renderer the console's segment page uses).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Config } from '../../config/index.js';
import {
  contactsWithFeatures,
  holdoutReport,
  lastSegmentRun,
  previewSegment,
  ruleInWords,
  SegmentRuleError,
  type SegmentDefinition,
  type Store,
} from '../../core/index.js';
import { builtinRegistry } from '../builtins.js';
import { loadCommandConfig, withStore } from '../config-store.js';
import { EXIT, type Command } from '../main.js';
import { emptyCommand } from '../segments-empty.js';

const HELP = `usage: segflow segments preview <config.yaml> <segment-key|segments.yaml> [--sample 10] [--now <ISO time>] [--json]
       segflow segments report <config.yaml> [--now <ISO time>] [--json]
       segflow segments show <config.yaml> <segment-key|segments.yaml>
       segflow segments empty <config.yaml> <segment-key> [--dry-run] [--json]   (see segflow segments empty --help)

show prints a segment's rule in words, one line per condition (the console's segment page shows the same lines).

report prints the last segment run: per segment its size, entered, exited and stability, the drift alerts, and for
segments with a holdout the outcome of treated against control members with a 95% confidence interval.

Counts the members of a segment defined in the config (by key), or of every segment in a YAML file holding a
segments: section (which may refer to the config's segments), over the store the config names, and prints a sample
of members. Nothing is saved: memberships, history and destinations are untouched. Rules on features read the
features as last computed.

options:
  --sample <n>    how many members to show (default 10)
  --now <time>    evaluate relative times (within: 30d) as of this moment instead of now
  --json          print JSON instead: preview { segments: [{ key, name, count, sample: [{ contactId, email }] }],
                  featuresComputed }; report { run: null } before the first segment run, else { run: the last
                  segment run (runId, evaluatedAt, incremental, segments, driftAlerts), holdouts: [...] }

exit codes:
  0  the preview or report was printed
  1  the store could not be read
  2  the config or the segment is invalid, or the command was used wrongly
`;

function usageError(message: string): number {
  process.stderr.write(`segflow segments: ${message}\n\n${HELP}`);
  return EXIT.usage;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  return args.splice(i, 2)[1] ?? '';
}

function segmentsFromFile(path: string): SegmentDefinition[] {
  const doc = parse(readFileSync(path, 'utf8')) as unknown;
  const list =
    doc && typeof doc === 'object' && 'segments' in doc ? (doc as { segments: unknown }).segments : undefined;
  const entries = Array.isArray(list)
    ? list
    : list && typeof list === 'object'
      ? Object.entries(list).map(([key, s]) => ({ key, ...(s as object) }))
      : [];
  return entries.filter(
    (s): s is SegmentDefinition =>
      typeof s === 'object' && s !== null && typeof (s as { key?: unknown }).key === 'string' && 'rule' in s,
  );
}

/** What every subcommand starts from: the loaded config, and the segments named when the subcommand takes some. */
interface Preamble {
  config: Config;
  /** The segments named on the command line: the config's one with that key, or every segment of the file. */
  named: SegmentDefinition[];
  /** Every segment a rule may refer to: the config's, with the file's in place of those of the same key. */
  segments: SegmentDefinition[];
}

/**
 * The preamble `preview`, `report` and `show` share: checks the arguments after the subcommand (the config file, then
 * a segment key or a segments file when `segment` is set, nothing more), loads the config and finds the segments
 * named. Returns the exit code to stop with, having said why, when any of it fails.
 */
async function preamble(rest: readonly string[], segment: boolean): Promise<Preamble | number> {
  const [file, target] = rest;
  const wanted = segment ? 2 : 1;
  if (rest.length > wanted) return usageError(`unexpected argument "${rest[wanted]}"`);
  if (!file || (segment && !target))
    return usageError(segment ? 'name the config file and a segment key or file' : 'name the config file');
  const config = await loadCommandConfig(file, builtinRegistry());
  if (!config) return EXIT.usage;
  if (!target) return { config, named: [], segments: config.segments };
  if (/\.ya?ml$/i.test(target)) {
    if (!existsSync(target)) return usageError(`cannot read ${target}: no such file`);
    const named = segmentsFromFile(target);
    if (named.length === 0)
      return usageError(`${target} holds no segments (expected a segments: section of entries with key and rule)`);
    const keys = new Set(named.map((s) => s.key));
    return { config, named, segments: [...config.segments.filter((s) => !keys.has(s.key)), ...named] };
  }
  const named = config.segments.filter((s) => s.key === target);
  if (named.length === 0)
    return usageError(
      `unknown segment "${target}" (the config defines: ${config.segments.map((s) => s.key).join(', ') || 'none'})`,
    );
  return { config, named, segments: config.segments };
}

export const command: Command = {
  summary: 'preview a segment: its count and a sample of members, without saving',
  usage: 'segments preview <config.yaml> <segment-key|file> | segments report <config.yaml> | segments show …',
  async run(argv) {
    if (argv[0] === 'empty') return emptyCommand(argv.slice(1));
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    const json = argv.includes('--json');
    const args = argv.filter((a) => a !== '--json');
    const sampleText = option(args, '--sample');
    const nowText = option(args, '--now');
    const sample = sampleText === undefined ? 10 : Number(sampleText);
    if (!Number.isInteger(sample) || sample < 0)
      return usageError(`--sample expects a whole number, got ${JSON.stringify(sampleText)}`);
    const now = nowText === undefined ? new Date() : new Date(nowText);
    if (Number.isNaN(now.getTime()))
      return usageError(`--now expects a time like 2026-03-01T00:00:00Z, got ${JSON.stringify(nowText)}`);
    const [sub, ...rest] = args;
    if (sub !== 'preview' && sub !== 'report' && sub !== 'show')
      return usageError(
        sub
          ? `unknown subcommand "${sub}" (expected preview, report, show or empty)`
          : 'name a subcommand: preview, report, show or empty',
      );
    const start = await preamble(rest, sub !== 'report');
    if (typeof start === 'number') return start;
    if (sub === 'show') return show(start);
    if (sub === 'report')
      return withStore(start.config, 'segflow segments', (store) => report(store, start.config, now, json));
    return withStore(start.config, 'segflow segments', (store) => previewNamed(store, start, { now, sample, json }));
  },
};

async function previewNamed(
  store: Store,
  { config, named, segments }: Preamble,
  { now, sample, json }: { now: Date; sample: number; json: boolean },
): Promise<number> {
  try {
    const featuresComputed = (await contactsWithFeatures(store)) > 0;
    if (!featuresComputed && !json)
      process.stdout.write('note: features have not been computed yet, so rules on features match nobody\n');
    const options = {
      now,
      sample,
      customFeatures: Object.keys(config.features),
      protectedAttributes: config.protected_attributes,
      models: Object.keys(config.models),
    };
    const previews = [];
    for (const { key } of named) {
      const preview = await previewSegment(store, key, segments, options);
      const name = segments.find((s) => s.key === key)?.name;
      previews.push({ key, name: name ?? key, count: preview.count, sample: preview.sample });
      if (json) continue;
      process.stdout.write(
        `segment ${key}${name && name !== key ? ` (${name})` : ''}: ${preview.count} contact${preview.count === 1 ? '' : 's'}\n`,
      );
      for (const m of preview.sample)
        process.stdout.write(`  ${String(m.contactId).padStart(8)}  ${m.email ?? '(no email)'}\n`);
      if (preview.count > preview.sample.length)
        process.stdout.write(`  … and ${preview.count - preview.sample.length} more\n`);
    }
    if (json) process.stdout.write(`${JSON.stringify({ segments: previews, featuresComputed }, null, 2)}\n`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof SegmentRuleError) {
      process.stderr.write(`${error.issues.map((i) => `${i.where}: ${i.message}`).join('\n')}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

const percent = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const figure = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2);

function show({ named }: Preamble): number {
  const out: string[] = [];
  for (const s of named) {
    const name = (s as { name?: string }).name;
    out.push(
      `segment ${s.key}${name && name !== s.key ? ` (${name})` : ''}`,
      ...ruleInWords(s.rule).map((l) => `  ${l}`),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}

async function report(store: Store, config: Config, now: Date, json: boolean): Promise<number> {
  const last = await lastSegmentRun(store);
  if (!last) {
    process.stdout.write(
      json ? `${JSON.stringify({ run: null })}\n` : 'no segment run yet: run a job with a compute step (segflow run)\n',
    );
    return EXIT.ok;
  }
  const held = config.segments.filter((s) => s.holdout > 0);
  const holdouts = [];
  for (const s of held)
    holdouts.push({
      segment: s.key,
      ...(await holdoutReport(store, s.key, { ...s.holdout_outcome, now, currency: config.currency })),
    });
  if (json) {
    process.stdout.write(`${JSON.stringify({ run: last, holdouts }, null, 2)}\n`);
    return EXIT.ok;
  }
  const out: string[] = [
    `segment run ${last.runId} at ${last.evaluatedAt}${last.incremental ? ' (incremental)' : ''}`,
    '',
  ];
  const width = Math.max(7, ...last.segments.map((s) => s.key.length));
  out.push(
    `${'segment'.padEnd(width)}  ${'size'.padStart(9)}  ${'control'.padStart(7)}  ${'entered'.padStart(8)}  ${'exited'.padStart(8)}  ${'stability'.padStart(9)}  drift`,
  );
  for (const s of last.segments) {
    out.push(
      `${s.key.padEnd(width)}  ${String(s.size).padStart(9)}  ${String(s.control).padStart(7)}  ${String(s.entered).padStart(8)}  ${String(s.exited).padStart(8)}  ${percent(s.stability).padStart(9)}  ${s.drift ? 'ALERT' : '-'}`,
    );
  }
  out.push('', last.driftAlerts.length === 0 ? 'no drift alerts' : `drift alerts (${last.driftAlerts.length}):`);
  for (const alert of last.driftAlerts) out.push(`  ${alert}`);
  if (held.length > 0) out.push('', 'holdouts (treated − control, 95% interval):');
  for (const h of holdouts) {
    const per = h.outcome === 'churn' ? 'churned share' : `${h.outcome} per member`;
    const d = h.difference;
    const diff = d
      ? `${figure(d.estimate)} [${figure(d.low)}, ${figure(d.high)}]${d.low > 0 || d.high < 0 ? '' : ' (not significant)'}`
      : 'not enough members yet';
    out.push(
      `  ${h.segment}: ${per} over ${h.days} days: treated ${figure(h.treated.mean)} (n=${h.treated.members}), control ${figure(h.control.mean)} (n=${h.control.members}); difference ${diff}${h.treated.pending + h.control.pending > 0 ? `; ${h.treated.pending + h.control.pending} still in their window` : ''}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}
