/**
 * An in-memory destination: segment membership kept in Maps that a test can read, each member with the mapped traits
 * its adds and updates carried, and rules to reject a row or answer it retryable. The sync engine's tests deliver to
 * it; it passes the destination conformance kit.
 */
import { z } from 'zod';
import {
  defineDestination,
  normaliseEmail,
  secret,
  type ContactIdentity,
  type DestinationDefinition,
  type MemberRef,
  type MembershipBatch,
  type MembershipChange,
  type RowResult,
} from '../../plugins/index.js';

export const memorySpec = z.object({
  /** When the destination was created with a token, `check` accepts only that one. */
  token: secret(z.string()).optional(),
});

export interface MemoryDestinationOptions {
  /** The connector name; default `memory`. */
  name?: string;
  /** Changes per `write`; default 100. */
  batchSize?: number;
  /** The token `check` expects; without one any config passes. */
  token?: string;
  /** A reason to reject a change, or undefined. Default: a contact with neither a valid email nor an external id. */
  reject?: (change: MembershipChange) => string | undefined;
  /** A reason to answer a change retryable (a flaky tool), or undefined. Default: never. */
  retry?: (change: MembershipChange) => string | undefined;
}

/** A member as the memory destination holds it. */
export interface MemoryMember extends MemberRef {
  destinationRecordId: string;
  /** The mapped traits, as the latest add or update left them (an update's values are laid over the earlier ones). */
  traits: Record<string, unknown>;
}

export interface MemoryDestination {
  destination: DestinationDefinition<typeof memorySpec>;
  /** segment key → destination record id → member. */
  segments: Map<string, Map<string, MemoryMember>>;
  /** Every batch written, in order. */
  batches: MembershipBatch[];
}

/**
 * Creates an in-memory destination with its own state.
 *
 * @example
 * const memory = createMemoryDestination({ reject: (c) => (c.contact.email?.endsWith('@blocked.test') ? 'blocked' : undefined) });
 * registry.add(memory.destination);
 * // … run a sync …
 * [...memory.segments.get('vip')!.values()].map((m) => m.email);
 */
export function createMemoryDestination(options: MemoryDestinationOptions = {}): MemoryDestination {
  const segments = new Map<string, Map<string, MemoryMember>>();
  const batches: MembershipBatch[] = [];
  const reject = options.reject ?? defaultReject;

  const apply = (members: Map<string, MemoryMember>, segmentKey: string, change: MembershipChange): RowResult => {
    const rejected = reject(change);
    if (rejected !== undefined) return { status: 'rejected', reason: rejected, code: 'invalid_contact' };
    const retryable = options.retry?.(change);
    if (retryable !== undefined) return { status: 'retryable', reason: retryable };
    const recordId = `${segmentKey}/${memberKey(change.contact)}`;
    if (change.op === 'remove') {
      members.delete(change.destinationRecordId ?? recordId);
      members.delete(recordId);
      return { status: 'accepted' };
    }
    if (change.op === 'update' && !members.has(recordId)) {
      return {
        status: 'skipped',
        reason: `not in the ${segmentKey} list: an update needs a member`,
        code: 'NOT_A_MEMBER',
      };
    }
    const email = normaliseEmail(change.contact.email);
    const traits = { ...members.get(recordId)?.traits, ...change.traits };
    members.set(recordId, {
      email,
      externalId: change.contact.externalIds[0] ?? null,
      destinationRecordId: recordId,
      traits,
    });
    return { status: 'accepted', destinationRecordId: recordId };
  };

  const destination = defineDestination({
    name: options.name ?? 'memory',
    spec: memorySpec,
    batchSize: options.batchSize ?? 100,
    async check(config) {
      if (options.token === undefined || config.token === options.token) return { ok: true };
      return { ok: false, reason: config.token === undefined ? 'no token given' : 'the token was refused' };
    },
    async write(batch) {
      batches.push(structuredClone(batch));
      const members = segments.get(batch.segment.key) ?? new Map<string, MemoryMember>();
      segments.set(batch.segment.key, members);
      return batch.changes.map((change) => apply(members, batch.segment.key, change));
    },
    async readMembership(segment) {
      return [...(segments.get(segment.key)?.values() ?? [])].map(({ email, externalId, destinationRecordId }) => ({
        email,
        externalId,
        destinationRecordId,
      }));
    },
    async erase(identities: ContactIdentity[]) {
      return identities.map((identity) => {
        let found = false;
        for (const [key, members] of segments) found = members.delete(`${key}/${memberKey(identity)}`) || found;
        return found ? { status: 'erased' as const } : { status: 'not_found' as const };
      });
    },
  });
  return { destination, segments, batches };
}

/** The tool's key for a contact: its first external id, else its normalised email, else segflow's id. */
function memberKey(contact: ContactIdentity): string {
  const id = contact.externalIds[0];
  if (id !== undefined) return `id:${id}`;
  const email = normaliseEmail(contact.email);
  return email === null ? `contact:${contact.contactId}` : `email:${email}`;
}

function defaultReject(change: MembershipChange): string | undefined {
  if (change.op === 'remove') return undefined;
  if (change.contact.externalIds.length === 0 && normaliseEmail(change.contact.email) === null) {
    return `no valid email (${JSON.stringify(change.contact.email)}) and no id to address the contact by`;
  }
  return undefined;
}
