/**
 * Contacts: the unified profile by id or email (with where each trait came from and the delivery state per tool), and
 * the erasure request (DELETE /contacts/:id): every destination that can erase is asked to, the contact and everything
 * keyed by it leave the store in one transaction, and its emails and tool ids are suppressed so no later read brings
 * it back and no push sends it. Each erasure leaves a record (when, by which role, each destination's answer) that a
 * search by the erased email finds.
 */
import { Hono } from 'hono';
import { deliveriesOfContact } from '../../core/delivery/index.js';
import {
  eraseContact,
  erasuresOf,
  erasureTarget,
  recordErasure,
  type ErasureTarget,
} from '../../core/erasure/index.js';
import { consentByTool, contactIdsByEmail, contactProfile } from '../../core/views/index.js';
import { noteActivity } from '../activity.js';
import { requestRole } from '../auth.js';
import type { ContactIdentity } from '../../plugins/index.js';
import { ApiError, idParam, queryOf } from './errors.js';
import { contactsQuery } from './schemas.js';
import type { Shared } from './shared.js';

export type DestinationErasure =
  | { destination: string; connector: string; status: 'erased' | 'not_found' | 'not_supported' }
  | { destination: string; connector: string; status: 'failed'; reason: string };

/** Events on a contact's timeline. */
const EVENTS = 50;

export function contactRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  const withPriority = { traitPriority: deps.config.identity.trait_priority };

  /** The profile with a longer event timeline and the delivery state per tool. */
  const fullProfile = async (id: number) => {
    const profile = await contactProfile(deps.store, id, { events: EVENTS, ...withPriority });
    if (!profile) return undefined;
    return {
      ...profile,
      consentByTool: await consentByTool(deps.store, id),
      deliveries: await deliveriesOfContact(deps.store, id),
    };
  };

  app.get('/contacts', async (c) => {
    const { email } = queryOf(c, contactsQuery);
    const ids = await contactIdsByEmail(deps.store, email);
    return c.json({
      contacts: (await Promise.all(ids.map(fullProfile))).filter((p) => p !== undefined),
      // what stays of contacts with this email that were erased: when, by which role, each destination's answer
      erasures: await erasuresOf(deps.store, { email }),
    });
  });

  app.get('/contacts/:id', async (c) => {
    const id = idParam(c, 'id');
    const profile = await fullProfile(id);
    if (!profile) {
      const [erased] = await erasuresOf(deps.store, { contactId: id });
      throw new ApiError(
        404,
        'not_found',
        erased ? `contact ${id} was erased on ${erased.erasedAt} by ${erased.erasedBy}` : `no contact ${id}`,
      );
    }
    return c.json(profile);
  });

  app.delete('/contacts/:id', async (c) => {
    const id = idParam(c, 'id');
    const target = await erasureTarget(deps.store, id);
    if (!target) throw new ApiError(404, 'not_found', `no contact ${id}`);
    const requestedAt = shared.now();
    const destinations = await eraseInDestinations(shared, target);
    const erased = await eraseContact(deps.store, id, {
      reason: `erasure request ${requestedAt.toISOString()}`,
      now: requestedAt,
    });
    const complete = destinations.every((d) => d.status !== 'failed');
    const erasedBy = requestRole(c) ?? 'unknown';
    if (erased)
      await recordErasure(deps.store, {
        contactId: id,
        // the wall clock: the record says when someone acted, whatever clock the rules measure from
        erasedAt: new Date().toISOString(),
        erasedBy,
        emails: target.emails,
        destinations: destinations.map((d) => ({
          destination: d.destination,
          status: d.status,
          ...(d.status === 'failed' ? { reason: d.reason } : {}),
        })),
        removed: erased.removed,
      });
    noteActivity(c, {
      complete,
      destinations: Object.fromEntries(destinations.map((d) => [d.destination, d.status])),
    });
    shared.logger.info('erasure request', {
      contactId: id,
      complete,
      destinations: destinations.map((d) => ({ destination: d.destination, status: d.status })),
      removed: erased?.removed ?? {},
    });
    return c.json({
      contactId: id,
      complete,
      store: { removed: erased?.removed ?? {}, suppressed: erased?.suppressed ?? { emails: 0, ids: 0 } },
      destinations,
    });
  });
  return app;
}

/** Asks every destination of the config whose connector can erase to erase the contact, one at a time. */
async function eraseInDestinations(shared: Shared, target: ErasureTarget): Promise<DestinationErasure[]> {
  const { config, registry } = shared.deps;
  const out: DestinationErasure[] = [];
  for (const connection of Object.values(config.destinations)) {
    const definition = registry.destination(connection.connector);
    const base = { destination: connection.name, connector: connection.connector };
    if (typeof definition.erase !== 'function') {
      out.push({ ...base, status: 'not_supported' });
      continue;
    }
    // The same identities the planner addresses this destination with (jobs' push steps).
    const identitiesFrom = connection.identities_from;
    const externalIds = target.identities
      .filter((i) => i.source === identitiesFrom && i.externalId !== null)
      .map((i) => i.externalId as string)
      .sort();
    const identities: ContactIdentity[] = [];
    const emails = target.emails.length ? target.emails : [null];
    emails.forEach((email, i) =>
      identities.push({ contactId: String(target.contactId), email, externalIds: i === 0 ? externalIds : [] }),
    );
    try {
      const results = await definition.erase(
        identities,
        connection.config,
        shared.contextFor('destination', connection.name, definition),
      );
      const failed = results.find((r) => r.status === 'failed');
      if (failed && failed.status === 'failed')
        out.push({ ...base, status: 'failed', reason: shared.scrub(failed.reason) });
      else out.push({ ...base, status: results.some((r) => r.status === 'erased') ? 'erased' : 'not_found' });
    } catch (error) {
      out.push({
        ...base,
        status: 'failed',
        reason: shared.scrub(error instanceof Error ? error.message : String(error)),
      });
    }
  }
  return out;
}
