import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  defineDestination,
  normaliseEmail,
  secret,
  type MemberRef,
  type MembershipChange,
  type RowResult,
} from '../../plugins/index.js';
import {
  ConformanceError,
  DESTINATION_CHECKS,
  destinationChecks,
  runDestinationConformance,
  type DestinationCheckName,
  type DestinationChecks,
} from '../../plugins/conformance/index.js';

// An in-memory destination that behaves, unless one `flaw` is switched on: each flaw is a way real connectors go wrong.
type Flaw =
  | 'duplicatesOnReAdd'
  | 'batchFailsOnBadRow'
  | 'ignoresRemoves'
  | 'checkThrows'
  | 'unmarkedSecret'
  | 'dropsRowResults'
  | 'badRowRetryable'
  | 'removeAbsentRejected'
  | 'badRowSkippedSilently';
// Not a flaw: a tool that does not hold the person answers skipped instead of rejected.
type Behaviour = Flaw | 'badRowSkipped';

function memoryDestination(flaw?: Behaviour) {
  const lists = new Map<string, MemberRef[]>();
  const spec =
    flaw === 'unmarkedSecret'
      ? z.object({ token: secret(z.string()), password: z.string().optional() })
      : z.object({ token: secret(z.string()) });
  return defineDestination({
    name: 'memory-list',
    spec,
    batchSize: 10,
    async check(config) {
      if (config.token === 'good-token') return { ok: true };
      if (flaw === 'checkThrows') throw new Error('socket hang up');
      throw new ConfigError('the token was refused');
    },
    async write(batch) {
      const list = lists.get(batch.segment.key) ?? [];
      lists.set(batch.segment.key, list);
      const results = batch.changes.map((change: MembershipChange): RowResult => {
        const email = normaliseEmail(change.contact.email);
        if (!email) {
          if (flaw === 'batchFailsOnBadRow') throw new Error(`400 Bad Request: invalid email ${change.contact.email}`);
          if (flaw === 'badRowRetryable') return { status: 'retryable', reason: 'invalid email' };
          if (flaw === 'badRowSkipped')
            return { status: 'skipped', reason: 'not in the list tool', code: 'NOT_IN_TOOL' };
          if (flaw === 'badRowSkippedSilently') return { status: 'skipped', reason: '' };
          return { status: 'rejected', reason: `invalid email "${change.contact.email}"`, code: 'invalid_email' };
        }
        const index = list.findIndex((m) => m.email === email);
        if (change.op === 'add') {
          if (index < 0 || flaw === 'duplicatesOnReAdd')
            list.push({ email, externalId: null, destinationRecordId: `m-${email}` });
          return { status: 'accepted', destinationRecordId: `m-${email}` };
        }
        if (index < 0 && flaw === 'removeAbsentRejected') return { status: 'rejected', reason: 'not a member' };
        if (index >= 0 && flaw !== 'ignoresRemoves') list.splice(index, 1);
        return { status: 'accepted' };
      });
      return flaw === 'dropsRowResults' ? results.slice(1) : results;
    },
    async readMembership(segment) {
      return [...(lists.get(segment.key) ?? [])];
    },
  });
}

const config = { token: 'good-token' };
const badConfig = { token: 'wrong-token' };
const badRow: MembershipChange = { op: 'add', contact: { contactId: 'bad', email: 'not-an-email', externalIds: [] } };

let open: DestinationChecks[] = [];
function checksFor(flaw?: Behaviour): DestinationChecks {
  const checks = destinationChecks({ connector: memoryDestination(flaw), config, badConfig, badRow });
  open.push(checks);
  return checks;
}
afterEach(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  open = [];
});

describe('destination conformance checks', () => {
  it('a correct in-memory destination passes every check', async () => {
    const checks = checksFor();
    for (const name of Object.keys(DESTINATION_CHECKS) as DestinationCheckName[]) {
      await expect(checks[name](), name).resolves.toBeUndefined();
    }
  });

  it.each<[Flaw, DestinationCheckName, RegExp]>([
    ['duplicatesOnReAdd', 'idempotentAdd', /writing the same batch twice changed the membership/],
    [
      'batchFailsOnBadRow',
      'badRowIsolated',
      /write threw on a batch with one bad row: Error: 400 Bad Request.*one bad row must come back rejected, not fail its batch/,
    ],
    ['badRowRetryable', 'badRowIsolated', /the bad row came back retryable, expected rejected/],
    ['badRowSkippedSilently', 'badRowIsolated', /the bad row was skipped without a reason/],
    ['ignoresRemoves', 'removesMembers', /conformance.1@example.com is still in the segment after being removed/],
    [
      'removeAbsentRejected',
      'removesMembers',
      /removing a member the segment may not hold: remove of conformance.1@example.com came back rejected \(not a member\)/,
    ],
    ['checkThrows', 'checkRefusesBadCredentials', /check crashed on bad credentials .*socket hang up/],
    ['unmarkedSecret', 'secretsMarked', /spec field "password" looks like a secret but is not marked/],
    ['dropsRowResults', 'addsMembers', /write returned 2 row results for 3 changes/],
  ])('a destination with flaw %s fails %s', async (flaw, check, message) => {
    await expect(checksFor()[check]()).resolves.toBeUndefined();
    const failure = checksFor(flaw)[check]();
    await expect(failure).rejects.toThrow(ConformanceError);
    await expect(failure).rejects.toThrow(message);
  });

  it('a destination that answers skipped, with a reason, for a person it does not hold passes the bad-row check', async () => {
    await expect(checksFor('badRowSkipped').badRowIsolated()).resolves.toBeUndefined();
  });

  it('the bad-row check is skipped, with its reason, when no bad row is given', async () => {
    const checks = destinationChecks({ connector: memoryDestination(), config });
    open.push(checks);
    await expect(checks.badRowIsolated()).rejects.toThrow(/no badRow given: pass a change the tool must reject/);
  });
});

// The vitest layer over the same checks, as a connector's own test file would call it.
runDestinationConformance({ connector: memoryDestination(), config, badConfig, badRow });
