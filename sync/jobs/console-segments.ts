/**
 * A job sees the console's segments as it sees the config's: before a run, the live (not archived) console segments
 * are added to the config's segments, so compute evaluates them, and each push step's `console_segments` (keys or
 * `tag:<tag>`) become segment keys it pushes. Console segments of accounts join `account_segments:` the same way (a
 * push step's names that pick them become its `account_segments`). An archived segment is neither computed nor pushed.
 *
 * @example
 * const effective = await withConsoleSegments(store, config);
 */
import type { Config, Segment } from '../../config/index.js';
import { listStoredSegments, storedSegmentsNamed, type Queryable, type StoredSegment } from '../../core/index.js';

function asConfigSegment(s: StoredSegment): Segment {
  return {
    key: s.key,
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    rule: s.rule as Segment['rule'],
    holdout: 0,
    holdout_outcome: { outcome: 'revenue', days: 30 },
    allow_protected_attributes: {},
    origin: { file: `console segment ${s.key} (version ${s.version})`, line: 1, column: 1 },
    locations: {},
  };
}

type AccountSegment = NonNullable<Config['account_segments']>[number];

function asAccountSegment(s: StoredSegment): AccountSegment {
  return {
    key: s.key,
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    rule: s.rule as unknown as AccountSegment['rule'],
    origin: { file: `console segment ${s.key} (version ${s.version})`, line: 1, column: 1 },
    locations: {},
  };
}

/** The config with the console's live segments added and every push step's `console_segments` resolved. */
export async function withConsoleSegments(store: Queryable, config: Config): Promise<Config> {
  const configKeys = new Set([...config.segments, ...(config.account_segments ?? [])].map((s) => s.key));
  const all = (await listStoredSegments(store, { kind: 'all' })).filter((s) => !configKeys.has(s.key));
  const stored = all.filter((s) => s.kind !== 'accounts');
  const accounts = all.filter((s) => s.kind === 'accounts');
  const named = (names: readonly string[]) => storedSegmentsNamed(stored, names).map((s) => s.key);
  const namedAccounts = (names: readonly string[]) => storedSegmentsNamed(accounts, names).map((s) => s.key);
  if (all.length === 0 && !Object.values(config.jobs).some((j) => j.steps.some((s) => 'push' in s))) return config;
  const jobs = Object.fromEntries(
    Object.entries(config.jobs).map(([name, job]) => [
      name,
      {
        ...job,
        steps: job.steps.map((step) =>
          'push' in step && step.push.console_segments
            ? {
                push: {
                  ...step.push,
                  segments: [...new Set([...step.push.segments, ...named(step.push.console_segments)])],
                  ...(namedAccounts(step.push.console_segments).length > 0
                    ? {
                        account_segments: [
                          ...new Set([
                            ...(step.push.account_segments ?? []),
                            ...namedAccounts(step.push.console_segments),
                          ]),
                        ],
                      }
                    : {}),
                },
              }
            : step,
        ),
      },
    ]),
  ) as Config['jobs'];
  return {
    ...config,
    segments: [...config.segments, ...stored.map(asConfigSegment)],
    ...(accounts.length > 0
      ? { account_segments: [...(config.account_segments ?? []), ...accounts.map(asAccountSegment)] }
      : {}),
    jobs,
  };
}
