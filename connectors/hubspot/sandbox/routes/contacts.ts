/**
 * Contacts in batches (read, create, upsert, update, archive) and the GDPR delete. Create and upsert refuse the whole request when one row is invalid, as HubSpot does.
 */
import type { Hono } from 'hono';
import { hubspotError, notFound, validation } from '../answers.js';
import { renderObject } from '../search.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * contactRoutes(app, { portal, limits, now, written });
 */
export function contactRoutes(app: Hono, { portal, limits, now, written }: RouteOptions): void {
  app.post('/crm/v3/objects/contacts/batch/:action', async (c) => {
    const action = c.req.param('action');
    const body = (await c.req.json().catch(() => ({}))) as { inputs?: BatchInput[]; properties?: string[] };
    const inputs = body.inputs ?? [];
    if (inputs.length > limits.batchSize)
      return validation(c, `Batch input size (${inputs.length}) exceeds the limit of ${limits.batchSize}.`);
    const started = new Date(now()).toISOString();
    const results: unknown[] = [];
    const errors: unknown[] = [];
    const reject = (message: string, category: string, context: Record<string, string[]>) =>
      errors.push({ status: 'error', category, message, context });
    const refuseBatch = (kind: 'upsert' | 'create', all: BatchInput[]) => {
      const seen = new Set<string>();
      for (const input of all) {
        const email = kind === 'upsert' ? String(input.id ?? '') : (input.properties?.email ?? undefined);
        if (email !== undefined && email !== '' && (!EMAIL.test(email) || portal.badEmails.has(email.toLowerCase())))
          return { message: invalidEmail(email), category: 'VALIDATION_ERROR' };
        const unknown = Object.keys(input.properties ?? {}).find((p) => !portal.properties.has(p));
        if (unknown) return { message: missingProperty(unknown), category: 'VALIDATION_ERROR' };
        const key = (email ?? '').toLowerCase();
        if (kind === 'upsert' && seen.has(key))
          return {
            message: `Duplicate IDs found in batch input: [${email}]. IDs must be unique`,
            category: 'VALIDATION_ERROR',
          };
        seen.add(key);
        const existing = kind === 'create' && email ? portal.findContactByEmail(email) : undefined;
        if (existing) return { message: `Contact already exists. Existing ID: ${existing.id}`, category: 'CONFLICT' };
      }
      return undefined;
    };
    if (action === 'read') {
      for (const input of inputs) {
        const contact = portal.liveContact(String(input.id));
        if (contact) results.push(renderObject(contact, body.properties ?? [], 'contacts'));
        else
          reject(
            `Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.`,
            'OBJECT_NOT_FOUND',
            { ids: [String(input.id)] },
          );
      }
    } else if (action === 'upsert' || action === 'create' || action === 'update') {
      // Create and upsert validate the whole request first: one invalid value or one conflict fails it with a 400
      // naming the first offender, and nothing is written (HubSpot/hubspot-api-python#51). Update answers 207.
      if (action !== 'update') {
        const refusal = refuseBatch(action, inputs);
        if (refusal) return c.json(hubspotError(refusal.message, refusal.category), 400);
      }
      for (const input of inputs) {
        const properties = { ...(input.properties ?? {}) };
        const email = action === 'upsert' ? String(input.id ?? '') : (properties.email ?? undefined);
        if (email !== undefined && email !== '' && (!EMAIL.test(email) || portal.badEmails.has(email.toLowerCase()))) {
          reject(invalidEmail(email), 'VALIDATION_ERROR', { email: [email] });
          continue;
        }
        const unknown = Object.keys(properties).filter((p) => !portal.properties.has(p));
        if (unknown.length > 0) {
          reject(missingProperty(String(unknown[0])), 'VALIDATION_ERROR', { properties: unknown });
          continue;
        }
        let contact =
          action === 'update'
            ? portal.liveContact(String(input.id))
            : email
              ? portal.findContactByEmail(email)
              : undefined;
        if (action === 'update' && !contact) {
          reject('Object not found.  objectId are usually numeric.', 'OBJECT_NOT_FOUND', { ids: [String(input.id)] });
          continue;
        }
        if (action === 'create' && contact) {
          reject(`Contact already exists. Existing ID: ${contact.id}`, 'CONFLICT', { email: [email ?? ''] });
          continue;
        }
        const isNew = !contact;
        if (!contact) {
          const at = now();
          contact = {
            id: portal.newId(),
            properties: { email: email ?? null },
            createdAt: at,
            updatedAt: at,
            archived: false,
          };
        }
        Object.assign(contact.properties, properties);
        contact.updatedAt = now();
        portal.putContact(contact);
        portal.written.add(contact.id);
        results.push({
          ...renderObject(contact, Object.keys(properties), 'contacts'),
          ...(action === 'upsert' ? { new: isNew } : {}),
        });
      }
      written();
    } else if (action === 'archive') {
      for (const input of inputs) portal.archiveContact(String(input.id));
      written();
      return c.body(null, 204);
    } else {
      return notFound(c, `Unknown batch action ${action}`);
    }
    const payload = {
      status: 'COMPLETE',
      results,
      startedAt: started,
      completedAt: new Date(now()).toISOString(),
      ...(errors.length > 0 ? { numErrors: errors.length, errors } : {}),
    };
    return c.json(payload, errors.length > 0 ? 207 : action === 'create' ? 201 : 200);
  });

  app.post('/crm/v3/objects/contacts/gdpr-delete', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { objectId?: string; idProperty?: string };
    const id =
      body.idProperty === 'email' ? portal.findContactByEmail(String(body.objectId))?.id : String(body.objectId);
    if (!id || !portal.gdprDelete(id)) return notFound(c, 'Object not found.  objectId are usually numeric.');
    written();
    return c.body(null, 204);
  });
}

interface BatchInput {
  id?: string | number;
  idProperty?: string;
  properties?: Record<string, string | null>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function invalidEmail(email: string): string {
  return `Property values were not valid: [{"isValid":false,"message":"Email address ${email} is invalid","error":"INVALID_EMAIL","name":"email"}]`;
}

function missingProperty(name: string): string {
  return `Property values were not valid: [{"isValid":false,"message":"Property \\"${name}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${name}"}]`;
}
