/**
 * `segflow audit <config.yaml> [--json]`: the data audit and fairness report over the store the config names — is the
 * data complete, deduplicated, fresh and valid enough to segment, are the segments tidy, and do segments and clusters
 * select protected groups evenly. Findings first, then one section per part. `--json` prints the report GET /audit
 * serves (core/audit's AuditReport).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MIN_SEGMENT_SIZE } from '../../config/index.js';
import { auditOptions, buildAudit, type AuditReport } from '../../core/index.js';
import { builtinRegistry } from '../builtins.js';
import { loadCommandConfig, withStore } from '../config-store.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow audit <config.yaml> [--json] [--min-size N] [--now <ISO time>]

Audits the store the config names and prints findings first, then completeness (per source and canonical field),
duplicates and identity, freshness (streams and destinations), validity, segment hygiene and fairness (the
four-fifths rule over the config's protected_attributes, for segments and clusters). Reads only; changes nothing.

options:
  --json           print the report as JSON (the same as GET /audit)
  --min-size <n>   report segments with fewer members (default: the config's audit.min_segment_size, else ${DEFAULT_MIN_SEGMENT_SIZE})
  --now <time>     measure freshness and "in the future" from this moment instead of now
  --strict         exit 1 when there is any warning

exit codes:
  0  the report was printed (findings or not), 1 the store could not be read (or --strict and warnings),
  2  the config is invalid or the command was used wrongly
`;

function usage(message: string): number {
  process.stderr.write(`segflow audit: ${message}\n\n${HELP}`);
  return EXIT.usage;
}

export const command: Command = {
  summary: 'audit the data (completeness, duplicates, freshness, validity) and the segments (hygiene, fairness)',
  usage: 'audit <config.yaml> [--json]',
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          json: { type: 'boolean', default: false },
          'min-size': { type: 'string' },
          now: { type: 'string' },
          strict: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      return usage((error as Error).message);
    }
    const { values: o, positionals } = parsed;
    if (o.help) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    const [file, ...extra] = positionals;
    if (!file) return usage('name the config file');
    if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
    const minSegmentSize = o['min-size'] === undefined ? undefined : Number(o['min-size']);
    if (minSegmentSize !== undefined && (!Number.isInteger(minSegmentSize) || minSegmentSize < 0)) {
      return usage(`--min-size expects a whole number, got ${JSON.stringify(o['min-size'])}`);
    }
    const now = o.now === undefined ? new Date() : new Date(o.now);
    if (Number.isNaN(now.getTime()))
      return usage(`--now expects a time like 2026-03-01T00:00:00Z, got ${JSON.stringify(o.now)}`);

    const registry = builtinRegistry();
    const config = await loadCommandConfig(file, registry);
    if (!config) return EXIT.usage;
    return withStore(config, 'segflow audit', async (store) => {
      const report = await buildAudit(
        store,
        auditOptions(config, registry, { now, ...(minSegmentSize === undefined ? {} : { minSegmentSize }) }),
      );
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatAudit(report));
      return o.strict && report.findings.some((f) => f.severity === 'warning') ? EXIT.failed : EXIT.ok;
    });
  },
};

const n = (value: number) => value.toLocaleString('en');
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

function duration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} d`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.round(ms / 60_000)} min`;
}

/** Rows as aligned columns, the first row a header. */
function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    `  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')}`.trimEnd(),
  );
}

/** The report as text: findings, then a section per part. */
export function formatAudit(r: AuditReport): string {
  const out: string[] = [`Data audit at ${r.generatedAt}`, ''];
  const warnings = r.findings.filter((f) => f.severity === 'warning').length;
  out.push(
    r.findings.length === 0
      ? 'Findings: none'
      : `Findings: ${warnings} warning${warnings === 1 ? '' : 's'}, ${r.findings.length - warnings} notice${r.findings.length - warnings === 1 ? '' : 's'}`,
  );
  for (const f of r.findings)
    out.push(`  ${f.severity === 'warning' ? 'warning' : 'notice '}  [${f.section}] ${f.message}`);

  const c = r.completeness;
  out.push('', `Completeness (share of records holding each field; ${n(c.contacts)} contacts)`);
  const sources = c.bySource.map((s) => s.source);
  const used = new Set(c.mostlyEmpty.map((m) => m.field));
  out.push(
    ...table([
      ['field', 'contacts', ...sources],
      ['(records)', n(c.contacts), ...c.bySource.map((s) => n(s.records))],
      ...c.fields.map((f) => [
        `${f}${used.has(f) ? ' *' : ''}`,
        pct(c.overall[f] ?? 0),
        ...c.bySource.map((s) => pct(s.fields[f] ?? 0)),
      ]),
    ]),
  );
  if (used.size > 0) out.push('  * rules or features depend on it, and it is mostly empty');

  const i = r.identity;
  out.push('', 'Duplicates and identity');
  out.push(
    `  ${n(i.joined.contacts)} contacts joined from several tool records: ${n(i.joined.sameEmail)} by the same email, ${n(i.joined.sameEmailOtherCase)} by the same email written differently, ${n(i.joined.linkedId)} by a linked tool id`,
  );
  out.push(
    `  ${n(i.merges.total)} merges of contacts created apart${
      i.merges.total > 0
        ? ` (${Object.entries(i.merges.byReason)
            .map(([why, k]) => `${n(k)} ${why}`)
            .join(', ')})`
        : ''
    }`,
  );
  out.push(
    `  held back from merging: ${n(i.heldBack.roleAddresses.length)} role addresses, ${n(i.heldBack.sharedEmails.length)} emails shared by more than ${i.heldBack.sharedEmailLimit} records`,
  );
  out.push(
    `  likely duplicates not merged (same name and phone): ${n(i.likelyDuplicates.contacts)} contacts in ${n(i.likelyDuplicates.groups)} groups`,
  );
  out.push(`  tool overlap (${n(i.overlap.contacts)} contacts, ${n(i.overlap.inSeveralTools)} in several tools):`);
  out.push(
    ...table(
      Object.entries(i.overlap.byCombination)
        .sort((a, b) => b[1] - a[1])
        .map(([tools, k]) => [`  ${tools}`, n(k)]),
    ),
  );

  const fr = r.freshness;
  out.push('', 'Freshness');
  if (fr.streams.length > 0) {
    out.push(
      ...table([
        ['stream', 'last read', 'newest change', 'lag', 'failures since'],
        ...fr.streams.map((s) => [
          `${s.connection}.${s.stream}`,
          s.lastRead ?? 'never',
          s.cursor ?? '-',
          duration(s.lagMs),
          n(s.failuresSince + s.failedRunsSince),
        ]),
      ]),
    );
  }
  if (fr.destinations.length > 0) {
    out.push(
      ...table([
        ['destination', 'last delivery', 'delivered', 'rejected', 'retrying', 'waiting'],
        ...fr.destinations.map((d) => [
          d.destination,
          d.lastDelivery ?? 'never',
          n(d.delivered),
          n(d.rejected),
          n(d.retryable),
          d.waiting ? n(d.waiting.adds + d.waiting.removes) : '-',
        ]),
      ]),
    );
  }

  const v = r.validity;
  out.push('', 'Validity');
  out.push(
    `  invalid emails: ${n(v.invalidEmails.total)}; events in currencies without a rate: ${n(v.unknownCurrencies.reduce((s, x) => s + x.events, 0))}`,
  );
  out.push(
    `  in the future: ${n(v.futureEvents)} events, ${n(v.futureRecords)} records; events with no contact record: ${n(v.eventsWithoutContact)}`,
  );

  const s = r.segments;
  out.push('', `Segments (${s.segments.length} active; minimum size ${n(s.minSize)})`);
  out.push(...table([['segment', 'members'], ...s.segments.map((x) => [x.key, n(x.members)])]));

  const fa = r.fairness;
  out.push('', `Fairness (four-fifths rule; groups under ${fa.minGroupSize} contacts are not judged)`);
  if (fa.attributes.length === 0) out.push('  no protected attribute listed in config is present in contact traits');
  for (const a of fa.attributes) {
    out.push(
      `  ${a.attribute}: ${a.groups.map((g) => `${g.group} ${n(g.contacts)}${g.judged ? '' : ' (too small)'}`).join(', ')}`,
    );
    for (const sel of fa.selections.filter((x) => x.attribute === a.attribute)) {
      const label = sel.kind === 'segment' ? sel.key : `${sel.key}: ${sel.name}`;
      out.push(
        `    ${label}: ${sel.groups.map((g) => `${g.group} ${pct(g.rate)}${g.flagged ? ' !' : ''}`).join(', ') || 'no group large enough'}`,
      );
    }
  }
  if (fa.notPresent.length > 0) out.push(`  not in the data: ${fa.notPresent.join(', ')}`);

  const ac = r.accounts;
  if (ac !== undefined) {
    out.push('', 'Accounts');
    out.push(
      `  ${n(ac.contactsWithAccount)} of ${n(ac.contacts)} contacts (${pct(ac.contactShare)}) belong to one of ${n(ac.accounts)} accounts; ${n(ac.withoutMembers)} accounts have no members${ac.withoutMembersSample.length ? ` (${ac.withoutMembersSample.join(', ')})` : ''}`,
    );
  }
  return `${out.join('\n')}\n`;
}
