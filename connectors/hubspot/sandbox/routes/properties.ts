/**
 * Contact property definitions: list, read one, create (409 when the name is taken).
 */
import type { Hono } from 'hono';
import { hubspotError, notFound, validation } from '../answers.js';
import type { PropertyDefinition } from '../portal.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * propertyRoutes(app, { portal, limits, now, written });
 */
export function propertyRoutes(app: Hono, { portal, now, written }: RouteOptions): void {
  const renderProperty = (p: PropertyDefinition) => ({
    name: p.name,
    label: p.label,
    type: p.type,
    fieldType: p.fieldType,
    groupName: p.groupName,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.createdAt).toISOString(),
    archived: false,
    hasUniqueValue: false,
    hidden: false,
    formField: true,
    description: '',
    displayOrder: -1,
    options: [],
    modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
  });
  app.get('/crm/v3/properties/contacts', (c) =>
    c.json({ results: [...portal.properties.values()].map(renderProperty) }),
  );
  app.get('/crm/v3/properties/contacts/:name', (c) => {
    const property = portal.properties.get(c.req.param('name'));
    return property ? c.json(renderProperty(property)) : notFound(c, `Unable to find property ${c.req.param('name')}`);
  });
  app.post('/crm/v3/properties/contacts', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as {
      name?: string;
      label?: string;
      type?: string;
      fieldType?: string;
      groupName?: string;
    };
    if (!body.name || !body.label || !body.type || !body.fieldType || !body.groupName)
      return validation(c, 'name, label, type, fieldType and groupName are required');
    if (portal.properties.has(body.name)) {
      return c.json(hubspotError(`Property named '${body.name}' already exists.`, 'OBJECT_ALREADY_EXISTS'), 409);
    }
    const property = {
      name: body.name,
      label: body.label,
      type: body.type,
      fieldType: body.fieldType,
      groupName: body.groupName,
      createdAt: now(),
    };
    portal.properties.set(body.name, property);
    written();
    return c.json(renderProperty(property), 201);
  });
}
