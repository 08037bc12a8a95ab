/**
 * Destination conformance: spec and secrets, check with good and bad credentials, and writes that are idempotent
 * and isolate a bad row, judged by what `readMembership` reads back from the tool — or, for a tool that cannot list a
 * segment's members (Segment), by the `readBack` the test names, per member; the run's titles say which.
 */
import type { z } from 'zod';
import type { ConnectorContext } from '../contract/context.js';
import type {
  ContactIdentity,
  DestinationDefinition,
  MemberRef,
  MembershipChange,
  RowResult,
  SegmentRef,
} from '../contract/connector.js';
import { registerSuite } from './register.js';
import {
  checkBadCredentials,
  checkGoodCredentials,
  checkSecretsMarked,
  checkSpec,
  ConformanceError,
  ConformanceSkip,
  contextFor,
  fail,
  lifecycle,
  messageOf,
  parseConfig,
  type CommonOptions,
} from './shared.js';

/**
 * What a destination conformance run writes with: a working config, a wrong one, the segment, members and a bad row.
 *
 * @example
 * setup: async (): Promise<Partial<DestinationFixture<typeof spec>>> => ({ config: { baseUrl: sandbox.url } }),
 */
export interface DestinationFixture<Spec extends z.ZodType> {
  config: z.input<Spec>;
  badConfig: z.input<Spec>;
  segment: SegmentRef;
  members: ContactIdentity[];
  badRow: MembershipChange;
}

/**
 * Options of {@link runDestinationConformance} and {@link destinationChecks}.
 *
 * @example
 * const options: DestinationConformanceOptions<typeof spec> = {
 *   connector: destination, config, badConfig,
 *   badRow: { op: 'add', contact: { contactId: 'x', email: 'not-an-email', externalIds: [] } },
 * };
 * runDestinationConformance(options);
 */
export interface DestinationConformanceOptions<Spec extends z.ZodType> extends CommonOptions<
  Spec,
  DestinationFixture<Spec>
> {
  connector: DestinationDefinition<Spec>;
  /** The segment the checks write to. Default `{ key: 'segflow_conformance', name: 'segflow conformance' }`. */
  segment?: SegmentRef;
  /** At least two contacts the tool can hold (ids that exist in a sandbox, say). Default: three email-only contacts. */
  members?: ContactIdentity[];
  /**
   * For a tool that cannot list a segment's members (Segment's Profile API reads one profile at a time, so its
   * `readMembership` throws saying so): how the run reads the tool back instead, given the people it wrote, and in a
   * few words how (`per profile, through Segment's Profile API`). The check titles name it. Default: `readMembership`.
   */
  readBack?: {
    how: string;
    read(
      segment: SegmentRef,
      people: ContactIdentity[],
      config: z.infer<Spec>,
      ctx: ConnectorContext,
    ): Promise<MemberRef[]>;
  };
  /**
   * A change the tool must reject or skip (an invalid email, an unknown id): it must come back `rejected` or
   * `skipped` with a reason while the rest of its batch is accepted. Without it the bad-row check is skipped.
   */
  badRow?: MembershipChange;
}

/**
 * The destination checks, by name, with the title each is reported under.
 *
 * @example
 * DESTINATION_CHECKS.idempotentAdd; // 'writing the same batch twice leaves the same membership'
 */
export const DESTINATION_CHECKS = {
  spec: 'spec is a zod schema and the good config parses',
  secretsMarked: 'spec marks every secret-looking field as secret',
  checkSucceeds: 'check succeeds with the good config',
  checkRefusesBadCredentials: 'check refuses bad credentials with a reason (not a crash)',
  addsMembers: 'added members are in the segment, as readMembership reads it back',
  idempotentAdd: 'writing the same batch twice leaves the same membership',
  removesMembers: 'a remove takes the member out, and removing it again is success',
  badRowIsolated: 'a rejected or skipped row does not fail the rest of its batch',
} as const;

/**
 * The name of one destination check: a key of {@link DESTINATION_CHECKS}.
 *
 * @example
 * const name: DestinationCheckName = 'badRowIsolated';
 */
export type DestinationCheckName = keyof typeof DESTINATION_CHECKS;
/**
 * The destination checks as plain async functions that throw a `ConformanceError`, and `dispose` to tear the fixture
 * down.
 *
 * @example
 * const checks: DestinationChecks = destinationChecks({ connector: destination, config, badConfig });
 * await checks.addsMembers();
 * await checks.dispose();
 */
export type DestinationChecks = Record<DestinationCheckName, () => Promise<void>> & { dispose(): Promise<void> };

const DEFAULT_SEGMENT: SegmentRef = { key: 'segflow_conformance', name: 'segflow conformance' };

const DEFAULT_MEMBERS: ContactIdentity[] = [1, 2, 3].map((i) => ({
  contactId: `conformance-${i}`,
  email: `conformance.${i}@example.com`,
  externalIds: [],
  emailConsent: 'subscribed',
}));

/**
 * The destination checks as plain async functions that throw a `ConformanceError` naming the problem (or a
 * `ConformanceSkip` with the reason a check does not apply). Call `dispose()` after.
 *
 * @example
 * const checks = destinationChecks({ connector: destination, config, badRow });
 * await expect(checks.idempotentAdd()).rejects.toThrow(/same batch twice/);
 */
export function destinationChecks<Spec extends z.ZodType>(
  options: DestinationConformanceOptions<Spec>,
): DestinationChecks {
  const { connector } = options;
  const name = connector.name;
  let episode = 0;
  const statics: Partial<DestinationFixture<Spec>> = {
    segment: options.segment ?? DEFAULT_SEGMENT,
    members: options.members ?? DEFAULT_MEMBERS,
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.badConfig === undefined ? {} : { badConfig: options.badConfig }),
    ...(options.badRow === undefined ? {} : { badRow: options.badRow }),
  };
  const life = lifecycle<DestinationFixture<Spec>>(statics, options.setup, options.teardown);
  /** The destination's own record id of each member, from its last accepted add. */
  const recordIds = new Map<string, string>();

  const session = async () => {
    const fixture = await life.ready();
    const config = parseConfig(connector, fixture.config);
    const segment = fixture.segment ?? DEFAULT_SEGMENT;
    const members = fixture.members ?? DEFAULT_MEMBERS;
    if (members.length < 2) fail(`${name}: give the conformance run at least two members`);
    const ctx = contextFor(connector, config, options.context);
    const where = `${name} segment "${segment.key}"`;

    const write = async (changes: MembershipChange[], what: string): Promise<RowResult[]> => {
      const results: RowResult[] = [];
      for (let start = 0; start < changes.length; start += connector.batchSize) {
        const slice = changes.slice(start, start + connector.batchSize);
        let rows: RowResult[];
        try {
          rows = await connector.write({ segment, changes: slice }, config, ctx);
        } catch (error) {
          fail(`${where}: write threw on ${what}: ${messageOf(error)}`);
        }
        if (!Array.isArray(rows) || rows.length !== slice.length) {
          fail(
            `${where}: write returned ${Array.isArray(rows) ? rows.length : 'no'} row results for ${slice.length} changes (${what})`,
          );
        }
        results.push(...rows);
      }
      return results;
    };

    const expectAccepted = (results: RowResult[], changes: MembershipChange[], what: string) => {
      results.forEach((result, index) => {
        const change = changes[index] as MembershipChange;
        if (result.status !== 'accepted') {
          fail(
            `${where}: ${what}: ${change.op} of ${who(change.contact)} came back ${result.status}${'reason' in result ? ` (${result.reason})` : ''}`,
          );
        }
        if (change.op === 'add' && result.destinationRecordId)
          recordIds.set(change.contact.contactId, result.destinationRecordId);
      });
    };

    const membership = async (): Promise<MemberRef[]> => {
      try {
        const refs = options.readBack
          ? await options.readBack.read(segment, members, config, ctx)
          : await connector.readMembership(segment, config, ctx);
        if (!Array.isArray(refs)) fail(`${where}: readMembership did not return a list`);
        return refs;
      } catch (error) {
        if (error instanceof ConformanceError) throw error;
        return fail(`${where}: readMembership threw: ${messageOf(error)}`);
      }
    };

    const holds = (refs: MemberRef[], member: ContactIdentity) => {
      const email = member.email?.toLowerCase();
      const recordId = recordIds.get(member.contactId);
      return refs.some(
        (ref) =>
          (email !== undefined && ref.email?.toLowerCase() === email) ||
          (ref.externalId !== null && member.externalIds.includes(ref.externalId)) ||
          (recordId !== undefined && ref.destinationRecordId === recordId),
      );
    };

    const change = (op: 'add' | 'remove', member: ContactIdentity, phase = ''): MembershipChange => {
      const recordId = recordIds.get(member.contactId);
      return {
        op,
        contact: member,
        ...(op === 'remove' && recordId !== undefined ? { destinationRecordId: recordId } : {}),
        // One id per entry or exit: a replayed batch repeats it, a new episode (after reset) gets a new one.
        messageId: `conformance-${segment.key}-${member.contactId}-${op}${phase}-${episode}`,
      };
    };

    /** Starts a check from an empty segment, which also proves removing absent members is success. */
    const reset = async () => {
      episode++;
      const removes = members.map((m) => change('remove', m, '-reset'));
      expectAccepted(
        await write(removes, 'removing members to start from an empty segment'),
        removes,
        'removing a member the segment may not hold',
      );
      const refs = await membership();
      const stuck = members.filter((m) => holds(refs, m));
      if (stuck.length > 0)
        fail(`${where}: ${stuck.map(who).join(', ')} still in the segment after removing every member`);
    };

    const addAll = async (what: string) => {
      const adds = members.map((m) => change('add', m));
      expectAccepted(await write(adds, what), adds, what);
      return adds;
    };

    return { members, where, write, expectAccepted, membership, holds, change, reset, addAll, badRow: fixture.badRow };
  };

  const checks: DestinationChecks = {
    async spec() {
      checkSpec(connector, (await life.ready()).config);
    },
    async secretsMarked() {
      checkSecretsMarked(connector);
    },
    async checkSucceeds() {
      await checkGoodCredentials(connector, (await life.ready()).config, options.context);
    },
    async checkRefusesBadCredentials() {
      await checkBadCredentials(connector, (await life.ready()).badConfig, options.context);
    },
    async addsMembers() {
      const s = await session();
      await s.reset();
      await s.addAll('adding members');
      const refs = await s.membership();
      const missing = s.members.filter((m) => !s.holds(refs, m));
      if (missing.length > 0) fail(`${s.where}: after adding, readMembership lacks ${missing.map(who).join(', ')}`);
    },
    async idempotentAdd() {
      const s = await session();
      await s.reset();
      await s.addAll('adding members');
      const once = snapshot(await s.membership());
      await s.addAll('adding the same members again');
      const twice = snapshot(await s.membership());
      if (once !== twice) {
        fail(
          `${s.where}: writing the same batch twice changed the membership:\n  after once:  ${once}\n  after twice: ${twice}`,
        );
      }
    },
    async removesMembers() {
      const s = await session();
      await s.reset();
      await s.addAll('adding members');
      const [gone, ...kept] = s.members as [ContactIdentity, ...ContactIdentity[]];
      const remove = [s.change('remove', gone)];
      s.expectAccepted(await s.write(remove, 'removing one member'), remove, 'removing one member');
      const after = await s.membership();
      if (s.holds(after, gone)) fail(`${s.where}: ${who(gone)} is still in the segment after being removed`);
      const lost = kept.filter((m) => !s.holds(after, m));
      if (lost.length > 0) fail(`${s.where}: removing ${who(gone)} also removed ${lost.map(who).join(', ')}`);
      s.expectAccepted(
        await s.write(remove, 'removing the same member again'),
        remove,
        'removing a member already removed',
      );
      if (snapshot(await s.membership()) !== snapshot(after))
        fail(`${s.where}: removing an absent member changed the membership`);
    },
    async badRowIsolated() {
      const s = await session();
      if (!s.badRow)
        throw new ConformanceSkip('no badRow given: pass a change the tool must reject, such as an invalid email');
      await s.reset();
      const [first, ...rest] = s.members.map((m) => s.change('add', m)) as [MembershipChange, ...MembershipChange[]];
      const batch = [first, s.badRow, ...rest];
      let results: RowResult[];
      try {
        results = await s.write(batch, 'a batch with one bad row');
      } catch (error) {
        if (error instanceof ConformanceError)
          fail(`${error.message} — one bad row must come back rejected, not fail its batch`);
        throw error;
      }
      const bad = results[1] as RowResult;
      // skipped (a person the tool does not hold) isolates the row as rejected does
      if (bad.status !== 'rejected' && bad.status !== 'skipped')
        fail(`${s.where}: the bad row came back ${bad.status}, expected rejected (or skipped) with a reason`);
      if (!bad.reason) fail(`${s.where}: the bad row was ${bad.status} without a reason`);
      const good = [first, ...rest];
      s.expectAccepted(
        [results[0] as RowResult, ...results.slice(2)],
        good,
        'the good rows of a batch with one bad row',
      );
      const refs = await s.membership();
      const missing = s.members.filter((m) => !s.holds(refs, m));
      if (missing.length > 0)
        fail(
          `${s.where}: the good rows of a batch with one bad row are missing from the segment: ${missing.map(who).join(', ')}`,
        );
    },
    dispose: () => life.dispose(),
  };
  return checks;
}

/** A membership as a comparable multiset: duplicates (a non-idempotent add) show up. */
function snapshot(refs: MemberRef[]): string {
  return refs
    .map((ref) => `${ref.email?.toLowerCase() ?? '-'}|${ref.externalId ?? '-'}`)
    .sort()
    .join(', ');
}

function who(contact: ContactIdentity): string {
  return contact.email ?? contact.externalIds[0] ?? contact.contactId;
}

/**
 * Registers the destination conformance suite with vitest: one call in a connector's test file.
 *
 * @example
 * runDestinationConformance({
 *   connector: destination,
 *   config: {},
 *   badRow: { op: 'add', contact: { contactId: 'bad', email: 'not-an-email', externalIds: [] } },
 * });
 */
export function runDestinationConformance<Spec extends z.ZodType>(options: DestinationConformanceOptions<Spec>): void {
  const titles = options.readBack
    ? {
        ...DESTINATION_CHECKS,
        addsMembers: `added members are in the segment, as read back ${options.readBack.how} (the destination cannot list a segment's members)`,
      }
    : DESTINATION_CHECKS;
  registerSuite(`${options.connector.name}: destination conformance`, () => ({
    titles,
    checks: destinationChecks(options),
    skipped: {},
  }));
}
