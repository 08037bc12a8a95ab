// The HubSpot sandbox answers in the shapes of @hubspot/api-client's generated models: every field it sends exists in
// the model's attributeTypeMap, with the type the map names (strings, numbers, booleans, ISO date-times, arrays,
// maps and nested models), so a field the real API does not have, or has with another type, fails here.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { sandboxConfig } from '../../../connectors/hubspot/index.js';
import { fast, sandboxForTest } from './fixture.js';

const require = createRequire(import.meta.url);
type Attribute = { baseName: string; type: string };
type Models = Record<string, { attributeTypeMap?: Attribute[] } | undefined>;
const modelsOf = (api: string) => require(`@hubspot/api-client/lib/codegen/crm/${api}/models/all`) as Models;

/** Where `value` departs from the generated type `type` (a model name, a primitive, Array<…>, a map or an enum). */
function departures(value: unknown, type: string, models: Models, at: string): string[] {
  if (value === null) return type.includes('| null') || type === 'any' ? [] : [`${at}: null where ${type}`];
  const t = type.replace(/\s*\|\s*null$/, '').trim();
  if (t === 'any' || t === 'object') return [];
  if (t === 'string') return typeof value === 'string' ? [] : [`${at}: ${typeof value} where string`];
  if (t === 'number') return typeof value === 'number' ? [] : [`${at}: ${typeof value} where number`];
  if (t === 'boolean') return typeof value === 'boolean' ? [] : [`${at}: ${typeof value} where boolean`];
  if (t === 'Date')
    return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? [] : [`${at}: not a date-time`];
  const array = /^Array<(.+)>$/.exec(t);
  if (array?.[1]) {
    if (!Array.isArray(value)) return [`${at}: not an array`];
    return value.flatMap((v, i) => departures(v, array[1]!, models, `${at}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (map?.[1]) {
    if (typeof value !== 'object') return [`${at}: not an object`];
    return Object.entries(value).flatMap(([k, v]) => departures(v, map[1]!, models, `${at}.${k}`));
  }
  const model = models[t];
  if (!model?.attributeTypeMap) return typeof value === 'string' ? [] : [`${at}: not a string (enum ${t})`];
  if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object (${t})`];
  return Object.entries(value).flatMap(([k, v]) => {
    const attribute = model.attributeTypeMap!.find((a) => a.baseName === k);
    return attribute ? departures(v, attribute.type, models, `${at}.${k}`) : [`${at}.${k}: not in ${t}`];
  });
}

describe('the HubSpot sandbox against the SDK’s generated models', () => {
  it('answers CRM, batch, list, property and association calls only with fields and types the models declare', async () => {
    const sandbox = await sandboxForTest({ seed: 'models', people: 200, limits: fast });
    const { accessToken } = sandboxConfig(sandbox);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${sandbox.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(res.ok, `${method} ${path}: ${res.status}`).toBe(true);
      return (await res.json()) as unknown;
    };
    const contacts = modelsOf('contacts');
    const page = (await call('GET', '/crm/v3/objects/contacts?limit=5&archived=false')) as {
      results: { id: string }[];
    };
    const id = page.results[0]!.id;
    const meeting = [...sandbox.portal.engagements.meetings.values()].find((m) => (m.contactIds ?? []).length > 0);
    const listCreated = (await call('POST', '/crm/v3/lists', {
      name: 'Models',
      objectTypeId: '0-1',
      processingType: 'MANUAL',
    })) as { list: { listId: string } };
    const listId = listCreated.list.listId;
    const answers: [unknown, string, Models][] = [
      [page, 'CollectionResponseSimplePublicObjectWithAssociationsForwardPaging', contacts],
      [await call('GET', `/crm/v3/objects/contacts/${id}`), 'SimplePublicObjectWithAssociations', contacts],
      [
        await call('POST', '/crm/v3/objects/contacts/search', {
          filterGroups: [],
          sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
          limit: 5,
        }),
        'CollectionResponseWithTotalSimplePublicObjectForwardPaging',
        contacts,
      ],
      [
        await call('POST', '/crm/v3/objects/contacts/batch/upsert', {
          inputs: [{ id: 'models@example.org', idProperty: 'email', properties: { firstname: 'Model' } }],
        }),
        'BatchResponseSimplePublicUpsertObject',
        contacts,
      ],
      [listCreated, 'ListCreateResponse', modelsOf('lists')],
      [
        await call('PUT', `/crm/v3/lists/${listId}/memberships/add-and-remove`, {
          recordIdsToAdd: [id],
          recordIdsToRemove: [],
        }),
        'MembershipsUpdateResponse',
        modelsOf('lists'),
      ],
      [
        await call('GET', `/crm/v3/lists/${listId}/memberships`),
        'ApiCollectionResponseJoinTimeAndRecordId',
        modelsOf('lists'),
      ],
      [await call('GET', '/crm/v3/properties/contacts/email'), 'Property', modelsOf('properties')],
      [
        await call('POST', '/crm/v4/associations/meetings/contacts/batch/read', { inputs: [{ id: meeting!.id }] }),
        'BatchResponsePublicAssociationMultiWithLabel',
        modelsOf('associations/v4'),
      ],
    ];
    expect(answers.flatMap(([value, type, models]) => departures(value, type, models, type))).toEqual([]);
  });
});
