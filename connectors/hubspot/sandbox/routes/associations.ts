/**
 * Associations v4 (engagements and companies to contacts): the batch read (the first associationsPerObject per object, the rest paged) and the per-object read.
 */
import type { Hono } from 'hono';
import { ASSOCIATED_TYPES, CONTACT_ASSOCIATION_TYPE, type AssociatedType } from '../portal.js';
import { decodeOffset, encodeOffset, intParam, validation, nextPaging, offsetPage } from '../answers.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * associationRoutes(app, { portal, limits, now, written });
 */
export function associationRoutes(app: Hono, { portal, limits, now }: RouteOptions): void {
  app.post('/crm/v4/associations/:from/:to/batch/read', async (c) => {
    const from = c.req.param('from');
    const to = c.req.param('to');
    if (!ASSOCIATED_TYPES.includes(from as AssociatedType) || to !== 'contacts') {
      return validation(c, `Associations from ${from} to ${to} are not served by this sandbox`);
    }
    const body = (await c.req.json().catch(() => ({}))) as { inputs?: { id?: string }[] };
    const inputs = body.inputs ?? [];
    if (inputs.length > limits.associationBatchSize)
      return validation(c, `Batch input size exceeds the limit of ${limits.associationBatchSize}.`);
    const typeId = CONTACT_ASSOCIATION_TYPE[from as AssociatedType];
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      const record = portal.engagements[from as AssociatedType].get(String(input.id));
      const contactIds = (record?.contactIds ?? [])
        .map((id) => portal.liveContact(id)?.id)
        .filter((id): id is string => !!id);
      if (!record || contactIds.length === 0) {
        errors.push({
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
          message: `No contact is associated with ${from.replace(/s$/, '')} ${String(input.id)}.`,
          context: { fromObjectId: [String(input.id)] },
        });
        continue;
      }
      const linked = [...new Set(contactIds)];
      const first = linked.slice(0, limits.associationsPerObject);
      const more = linked.length > first.length ? encodeOffset(first.length) : undefined;
      results.push({
        from: { id: String(input.id) },
        to: first.map((id) => association(id, typeId)),
        ...nextPaging(c, `/crm/v4/objects/${from}/${String(input.id)}/associations/contacts`, more),
      });
    }
    const payload = {
      status: 'COMPLETE',
      results,
      startedAt: new Date(now()).toISOString(),
      completedAt: new Date(now()).toISOString(),
      ...(errors.length ? { numErrors: errors.length, errors } : {}),
    };
    return c.json(payload, errors.length > 0 ? 207 : 200);
  });

  app.get('/crm/v4/objects/:from/:id/associations/:to', (c) => {
    const from = c.req.param('from');
    if (!ASSOCIATED_TYPES.includes(from as AssociatedType) || c.req.param('to') !== 'contacts')
      return validation(c, `Associations from ${from} to ${c.req.param('to')} are not served by this sandbox`);
    const typeId = CONTACT_ASSOCIATION_TYPE[from as AssociatedType];
    const record = portal.engagements[from as AssociatedType].get(c.req.param('id'));
    const linked = [
      ...new Set((record?.contactIds ?? []).map((id) => portal.liveContact(id)?.id).filter((id): id is string => !!id)),
    ];
    const limit = Math.min(
      Math.max(1, intParam(c.req.query('limit'), limits.associationsPerObject)),
      limits.associationsPerObject,
    );
    const start = decodeOffset(c.req.query('after'));
    if (start === undefined) return validation(c, 'invalid after');
    const { page, next } = offsetPage(linked, start, limit);
    return c.json({
      results: page.map((id) => association(id, typeId)),
      ...nextPaging(c, c.req.path, next),
    });
  });
}

/**
 * One associated object as the SDK's generated model has it (MultiAssociatedObjectWithLabel): `toObjectId` a string,
 * and an unlabelled association type without a `label` (the model's label is a string, never null).
 */
function association(id: string, typeId: number) {
  return { toObjectId: id, associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId }] };
}
