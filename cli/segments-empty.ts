/**
 * `segflow segments empty <config.yaml> <segment-key> [--dry-run] [--json]`: removes an archived console segment's
 * members from every tool that holds them (the exits a job would send), or with --dry-run shows what it would remove.
 */
import { configSecrets } from '../config/index.js';
import { emptiedSummary, emptySegment, emptyableSegment } from '../sync/index.js';
import { parseArgs, UsageError } from './args.js';
import { builtinRegistry } from './builtins.js';
import { loadCommandConfig, withStore } from './config-store.js';
import { commandLogger } from './log.js';
import { EXIT } from './main.js';

export const EMPTY_HELP = `usage: segflow segments empty <config.yaml> <segment-key> [--dry-run] [--json]

Empties an archived console segment in the tools: every destination whose delivered state holds members of the
segment is sent their removal, the way a member's exit is sent (HubSpot list membership removed, the Salesforce
campaign member or field cleared, the Mailchimp tag removed, a Segment identify with the trait false), at each tool's
batch size and rate limit. Rejected rows are recorded with the run (segflow runs shows it, as job empty:<key>).
Running it again sends nothing: the removes are recorded in the delivered state.

options:
  --dry-run   send nothing: print per destination how many members would be removed, with a sample of people
  --json      print the outcome as JSON: { segment, name, dryRun, status, runId, removed, rejected,
              destinations: [{ destination, held, status, removed, rejected, pending, error?, sample }], notInConfig }

exit codes:
  0  emptied (or nothing to remove), or the dry run was planned
  1  a destination failed or left removes to retry, or there is no store yet (nothing was ever pushed)
  2  the config is invalid, the segment is unknown, from the config file or not archived, or the command was used wrongly
`;

function usageError(message: string): number {
  process.stderr.write(`segflow segments empty: ${message}\n\n${EMPTY_HELP}`);
  return EXIT.usage;
}

/** Runs `segflow segments empty` with the arguments after `empty`. */
export async function emptyCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(EMPTY_HELP);
    return EXIT.ok;
  }
  let args;
  try {
    args = parseArgs(argv, { booleans: ['dry-run', 'json'] });
    if (args.positional.length !== 2) throw new UsageError('name the config file and the archived segment');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(error.message);
  }
  const [file, key] = args.positional as [string, string];
  const registry = builtinRegistry();
  const config = await loadCommandConfig(file, registry);
  if (!config) return EXIT.usage;
  const dryRun = args.flags.has('dry-run');
  const json = args.flags.has('json');
  return withStore(config, 'segflow segments empty', async (store) => {
    const found = await emptyableSegment(store, config, key);
    if (!found.ok) {
      process.stderr.write(`segflow segments empty: ${found.message}\n`);
      return EXIT.usage;
    }
    const outcome = emptiedSummary(
      await emptySegment({
        store,
        config,
        registry,
        segment: found.segment,
        dryRun,
        logger: commandLogger('warn', configSecrets(config)),
      }),
    );
    if (json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    else process.stdout.write(`${describeEmptying(outcome).join('\n')}\n`);
    return outcome.status === 'partial' || outcome.status === 'failed' || outcome.status === 'cancelled'
      ? EXIT.failed
      : EXIT.ok;
  });
}

/** The lines `segflow segments empty` prints. */
export function describeEmptying(outcome: ReturnType<typeof emptiedSummary>): string[] {
  const num = (n: number) => n.toLocaleString('en');
  const lines: string[] = [];
  const name = outcome.name && outcome.name !== outcome.segment ? ` (${outcome.name})` : '';
  if (outcome.status === 'nothing') lines.push(`segment ${outcome.segment}${name}: no tool holds its members`);
  else if (outcome.dryRun)
    lines.push(`dry run: emptying segment ${outcome.segment}${name} in the tools would remove (nothing was sent)`);
  else
    lines.push(
      `segment ${outcome.segment}${name} emptied in the tools${outcome.runId === null ? '' : ` (run ${outcome.runId})`}: ${outcome.status}`,
    );
  for (const d of outcome.destinations) {
    const parts = [outcome.dryRun ? `${num(d.removed)} to remove of ${num(d.held)} held` : `${num(d.removed)} removed`];
    if (d.rejected) parts.push(`${num(d.rejected)} rejected`);
    if (d.pending) parts.push(`${num(d.pending)} left to retry`);
    lines.push(`  ${d.destination}: ${parts.join(', ')}${d.error ? ` (${d.error})` : ''}`);
    if (outcome.dryRun) for (const p of d.sample) lines.push(`    - ${p.email ?? p.externalIds[0] ?? p.contactId}`);
  }
  for (const d of outcome.notInConfig)
    lines.push(`  ${d}: holds members but is no longer in the config; left as it is`);
  if (outcome.dryRun && outcome.status !== 'nothing') lines.push('run it again without --dry-run to remove them');
  return lines;
}
