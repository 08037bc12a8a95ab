import {
  planAccountPush,
  recordAccountDelivery,
  recordSourcesOf,
  type PlannedAccountChange,
  type Queryable,
} from '../../core/index.js';
import {
  ConfigError,
  reasonOf,
  type AccountMembershipChange,
  type ConnectorContext,
  type DestinationDefinition,
  type RowResult,
  type SegmentRef,
} from '../../plugins/index.js';

/** What pushing account segments to a destination is given. */
export interface PushAccountSegmentsOptions {
  store: Queryable;
  destination: DestinationDefinition;
  /** The connector config, already parsed by the connector's spec. */
  config: unknown;
  ctx: ConnectorContext;
  /** The destination's name in the config; delivered state is kept per connection. */
  connection: string;
  /** Account segments, with the display name the tool sees (a list name, a field value). */
  segments: readonly SegmentRef[];
  /** The source connection whose account ids address an account in this destination (the same tool, read). */
  identitiesFrom: string;
  now?: Date;
  /** Plan only: the adds and removes each segment would get, with a sample; nothing sent and nothing written. */
  dryRun?: boolean;
  /** Changes shown per segment in a dry run's outcome. Default 5. */
  sampleSize?: number;
}

/** What one account segment's push did. */
export interface AccountPushOutcome {
  segment: string;
  added: number;
  removed: number;
  /** Rows the tool did not take (no record of the account there, or rejected): offered again next time. */
  skipped: number;
  rejected: number;
  /** Members the tool holds no record of, so they were not offered. */
  notInTool: number;
  /** In a dry run: the first planned changes. */
  sample?: PlannedAccountChange[];
  error?: string;
}

/**
 * Pushes account segments to a destination that declares `writeAccounts`: the planner's adds and removes against the
 * account delivered state, at the destination's batch size, each batch's accepted rows recorded. A second push with
 * nothing changed sends nothing. A segment whose writes fail is reported and the others go on. A dry run plans the
 * same changes and counts them (adds and removes the tool would be offered), sending and writing nothing.
 *
 * @example
 * const outcomes = await pushAccountSegments({ store, destination, config, ctx, connection: 'crm_lists',
 *   segments: [{ key: 'expansion_ready', name: 'Expansion-ready accounts' }], identitiesFrom: 'hubspot' });
 */
export async function pushAccountSegments(options: PushAccountSegmentsOptions): Promise<AccountPushOutcome[]> {
  const { store, destination, config, ctx, connection } = options;
  const writeAccounts = destination.writeAccounts;
  if (!writeAccounts)
    throw new ConfigError(`destination ${connection} (${destination.name}) cannot hold accounts`, {
      fix: 'push account segments to a destination whose tool has companies or accounts (hubspot, salesforce, segment)',
    });
  const sources = await recordSourcesOf(store, options.identitiesFrom);
  const now = options.now ?? new Date();
  const outcomes: AccountPushOutcome[] = [];
  for (const segment of options.segments) {
    const outcome: AccountPushOutcome = {
      segment: segment.key,
      added: 0,
      removed: 0,
      skipped: 0,
      rejected: 0,
      notInTool: 0,
    };
    outcomes.push(outcome);
    try {
      const plan = await planAccountPush(store, connection, segment.key, sources, {
        createsAccounts: destination.createsAccounts === true,
      });
      outcome.notInTool = plan.notInTool;
      if (options.dryRun === true) {
        outcome.added = plan.changes.filter((c) => c.op === 'add').length;
        outcome.removed = plan.changes.length - outcome.added;
        outcome.sample = plan.changes.slice(0, options.sampleSize ?? 5);
        continue;
      }
      for (let start = 0; start < plan.changes.length; start += destination.batchSize) {
        const planned = plan.changes.slice(start, start + destination.batchSize);
        const results = await writeAccounts({ segment, changes: planned.map(toChange) }, config as never, ctx);
        const recorded = planned.map((change, i) => {
          const result: RowResult = results[i] ?? { status: 'retryable', reason: 'no result for this row' };
          if (result.status === 'accepted') {
            if (change.op === 'add') outcome.added++;
            else outcome.removed++;
          } else if (result.status === 'rejected') outcome.rejected++;
          else outcome.skipped++;
          return {
            change,
            accepted: result.status === 'accepted',
            ...(result.status === 'accepted' && result.destinationRecordId
              ? { destinationRecordId: result.destinationRecordId }
              : {}),
          };
        });
        await recordAccountDelivery(store, connection, segment.key, recorded, now);
      }
    } catch (error) {
      outcome.error = reasonOf(error);
      ctx.logger.error('account segment push failed', { connection, segment: segment.key, error: outcome.error });
    }
  }
  return outcomes;
}

function toChange(change: PlannedAccountChange): AccountMembershipChange {
  return {
    op: change.op,
    account: {
      accountId: String(change.accountId),
      name: change.name,
      domain: change.domain,
      externalIds: change.externalIds,
    },
    ...(change.destinationRecordId === undefined ? {} : { destinationRecordId: change.destinationRecordId }),
    ...(change.messageId === undefined ? {} : { messageId: change.messageId }),
    ...(change.member === undefined
      ? {}
      : {
          member: {
            contactId: String(change.member.contactId),
            email: change.member.email,
            externalIds: change.member.externalIds,
          },
        }),
  };
}
