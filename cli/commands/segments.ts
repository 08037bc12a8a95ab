/**
 * `segflow segments preview <config.yaml> <segment-key|file>`: counts a segment's members over the store and prints a
 * sample, saving nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { formatConfigErrors, loadConfig, type Config } from '../../config/index.js';
import { openStore } from '../../core/index.js';
import { previewSegment, SegmentRuleError, type SegmentDefinition } from '../../core/segments/index.js';
import { builtinRegistry } from '../builtins.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow segments preview <config.yaml> <segment-key|segments.yaml> [--sample 10] [--now <ISO time>]

Counts the members of a segment defined in the config (by key), or of every segment in a YAML file holding a
segments: section (which may refer to the config's segments), over the store the config names, and prints a sample
of members. Nothing is saved: memberships, history and destinations are untouched. Rules on features read the
features as last computed.

options:
  --sample <n>    how many members to show (default 10)
  --now <time>    evaluate relative times (within: 30d) as of this moment instead of now

exit codes:
  0  the preview was printed
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
  const list = doc && typeof doc === 'object' && 'segments' in doc ? (doc as { segments: unknown }).segments : undefined;
  const entries = Array.isArray(list) ? list : list && typeof list === 'object' ? Object.entries(list).map(([key, s]) => ({ key, ...(s as object) })) : [];
  return entries.filter((s): s is SegmentDefinition => typeof s === 'object' && s !== null && typeof (s as { key?: unknown }).key === 'string' && 'rule' in s);
}

export const command: Command = {
  summary: 'preview a segment: its count and a sample of members, without saving',
  usage: 'segments preview <config.yaml> <segment-key|file>',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    const args = [...argv];
    const sampleText = option(args, '--sample');
    const nowText = option(args, '--now');
    const sample = sampleText === undefined ? 10 : Number(sampleText);
    if (!Number.isInteger(sample) || sample < 0) return usageError(`--sample expects a whole number, got ${JSON.stringify(sampleText)}`);
    const now = nowText === undefined ? new Date() : new Date(nowText);
    if (Number.isNaN(now.getTime())) return usageError(`--now expects a time like 2026-03-01T00:00:00Z, got ${JSON.stringify(nowText)}`);
    const [sub, file, target, ...extra] = args;
    if (sub !== 'preview') return usageError(sub ? `unknown subcommand "${sub}" (expected preview)` : 'name a subcommand: preview');
    if (!file || !target || extra.length > 0) return usageError(extra.length ? `unexpected argument "${extra[0]}"` : 'name the config file and a segment key or file');

    let config: Config;
    try {
      config = await loadConfig(file, { registry: builtinRegistry() });
    } catch (error) {
      process.stderr.write(formatConfigErrors(error));
      return EXIT.usage;
    }
    let segments: SegmentDefinition[] = config.segments;
    let keys = [target];
    if (/\.ya?ml$/i.test(target)) {
      if (!existsSync(target)) return usageError(`cannot read ${target}: no such file`);
      const fromFile = segmentsFromFile(target);
      if (fromFile.length === 0) return usageError(`${target} holds no segments (expected a segments: section of entries with key and rule)`);
      keys = fromFile.map((s) => s.key);
      segments = [...config.segments.filter((s) => !keys.includes(s.key)), ...fromFile];
    } else if (!segments.some((s) => s.key === target)) {
      return usageError(`unknown segment "${target}" (the config defines: ${config.segments.map((s) => s.key).join(', ') || 'none'})`);
    }
    if (!existsSync(config.store.path)) {
      process.stderr.write(`segflow segments: no store yet at ${config.store.path}; run a sync first\n`);
      return EXIT.failed;
    }
    const store = openStore(config.store.path);
    try {
      const computed = (store.statement('SELECT COUNT(*) AS n FROM contact_features').get() as { n: number }).n;
      if (computed === 0) process.stdout.write('note: features have not been computed yet, so rules on features match nobody\n');
      const options = { now, sample, customFeatures: Object.keys(config.features), protectedAttributes: config.protected_attributes, models: Object.keys(config.models) };
      for (const key of keys) {
        const preview = previewSegment(store, key, segments, options);
        const name = segments.find((s) => s.key === key)?.name;
        process.stdout.write(`segment ${key}${name && name !== key ? ` (${name})` : ''}: ${preview.count} contact${preview.count === 1 ? '' : 's'}\n`);
        for (const m of preview.sample) process.stdout.write(`  ${String(m.contactId).padStart(8)}  ${m.email ?? '(no email)'}\n`);
        if (preview.count > preview.sample.length) process.stdout.write(`  … and ${preview.count - preview.sample.length} more\n`);
      }
      return EXIT.ok;
    } catch (error) {
      if (error instanceof SegmentRuleError) {
        process.stderr.write(`${error.issues.map((i) => `${i.where}: ${i.message}`).join('\n')}\n`);
        return EXIT.usage;
      }
      throw error;
    } finally {
      store.close();
    }
  },
};
