/**
 * How the sandbox's CRM search reads a request: filters compared as HubSpot compares them (dates as epoch ms,
 * numbers as numbers, the rest case-blind), one sort rule whose ties come in a scramble of ids, and the shape a CRM
 * object is answered in.
 */
import { tieOrder, type StoredObject } from './portal.js';

export interface SearchFilter {
  propertyName?: string;
  operator?: string;
  value?: string | number;
  values?: (string | number)[];
}
export interface SearchBody {
  filterGroups?: { filters?: SearchFilter[] }[];
  sorts?: { propertyName?: string; direction?: string }[];
  properties?: string[];
  limit?: number;
  after?: string | number;
}

const DATE_PROPERTIES = new Set([
  'lastmodifieddate',
  'hs_lastmodifieddate',
  'createdate',
  'hs_createdate',
  'closedate',
  'hs_timestamp',
]);

/** A property value as search compares it: dates as epoch ms, numbers as numbers, the rest as strings. */
function comparable(record: StoredObject, name: string): number | string | null {
  if (name === 'hs_object_id') return Number(record.id);
  if (name === 'lastmodifieddate' || name === 'hs_lastmodifieddate') return record.updatedAt;
  const value = record.properties[name];
  if (value === null || value === undefined) return null;
  if (DATE_PROPERTIES.has(name)) return Date.parse(value);
  const n = Number(value);
  return value !== '' && Number.isFinite(n) ? n : value.toLowerCase();
}

function filterValue(name: string, value: string | number | undefined): number | string | null {
  if (value === undefined) return null;
  if (typeof value === 'number') return value;
  const n = Number(value);
  if (value !== '' && Number.isFinite(n)) return n;
  if (DATE_PROPERTIES.has(name)) return Date.parse(value);
  return value.toLowerCase();
}

export function matches(record: StoredObject, filter: SearchFilter): boolean {
  const name = filter.propertyName ?? '';
  const actual = comparable(record, name);
  const wanted = filterValue(name, filter.value);
  switch (filter.operator) {
    case 'EQ':
      return actual === wanted;
    case 'NEQ':
      return actual !== wanted;
    case 'GT':
      return actual !== null && wanted !== null && actual > wanted;
    case 'GTE':
      return actual !== null && wanted !== null && actual >= wanted;
    case 'LT':
      return actual !== null && wanted !== null && actual < wanted;
    case 'LTE':
      return actual !== null && wanted !== null && actual <= wanted;
    case 'HAS_PROPERTY':
      return actual !== null;
    case 'NOT_HAS_PROPERTY':
      return actual === null;
    case 'IN':
      return (filter.values ?? []).some((v) => filterValue(name, v) === actual);
    default:
      return false;
  }
}

export function comparator(sorts: { propertyName?: string; direction?: string }[]) {
  return (a: StoredObject, b: StoredObject): number => {
    for (const sort of sorts) {
      const x = comparable(a, sort.propertyName ?? '');
      const y = comparable(b, sort.propertyName ?? '');
      if (x === y) continue;
      const order = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return sort.direction === 'DESCENDING' ? -order : order;
    }
    return tieOrder(a.id) - tieOrder(b.id);
  };
}

export function renderObject(record: StoredObject, names: string[], type: string) {
  const system =
    type === 'contacts'
      ? ['hs_object_id', 'createdate', 'lastmodifieddate']
      : ['hs_object_id', 'hs_createdate', 'hs_lastmodifieddate'];
  const wanted =
    names.length > 0
      ? [...new Set([...names, ...system])]
      : type === 'contacts'
        ? [...system, 'email', 'firstname', 'lastname']
        : system;
  const properties: Record<string, string | null> = {};
  for (const name of wanted) {
    properties[name] =
      name === 'hs_createdate'
        ? new Date(record.createdAt).toISOString()
        : name === 'hs_lastmodifieddate'
          ? new Date(record.updatedAt).toISOString()
          : (record.properties[name] ?? null);
  }
  return {
    id: record.id,
    properties,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archived,
    ...(record.archived && record.archivedAt !== undefined
      ? { archivedAt: new Date(record.archivedAt).toISOString() }
      : {}),
  };
}
