// The segment builder's form and the rule grammar (core/segments/grammar.ts), both ways and without a DOM: a rule,
// of people or of accounts, becomes a tree of form nodes the builder draws, and the nodes become the rule again, equal
// to the one loaded. A node is a group `{ kind: 'group', group: 'all' | 'any', not, single, items }` (`single`: it
// stands for its one item written bare, so `{ feature: x, gt: 1 }` does not come back as `{ all: [ … ] }`) or a row
// `{ kind: 'row', scope, subject, not, … }` whose other fields depend on its subject. Values are shown as text: a
// string that would read as another type (`"42"`, `"true"`, `" FR"`) is shown in double quotes, so every value comes
// back with its type.

/** The operators a comparison or a `where` filter may use (grammar.ts RULE_OPERATORS), in the order they are offered. */
export const OPERATORS = [
  'gt',
  'gte',
  'lt',
  'lte',
  'eq',
  'ne',
  'in',
  'contains',
  'exists',
  'between',
  'within',
  'before',
];
/** The operators of an event or member count (grammar.ts COUNT_OPERATORS), in the order they are offered. */
export const COUNT_OPERATORS = ['gte', 'lte', 'eq', 'gt', 'lt', 'ne', 'between'];

export const OPERATOR_WORDS = {
  eq: 'is',
  ne: 'is not',
  gt: 'is above',
  gte: 'is at least',
  lt: 'is below',
  lte: 'is at most',
  in: 'is one of',
  contains: 'contains',
  exists: 'is set',
  between: 'is between',
  within: 'is within the last',
  before: 'is more than … ago',
};
export const COUNT_WORDS = {
  gte: 'at least',
  lte: 'at most',
  eq: 'exactly',
  gt: 'more than',
  lt: 'fewer than',
  ne: 'other than',
  between: 'between',
};

/** The row kinds of each scope: a contact rule's conditions, and an account rule's. */
export const SUBJECTS = {
  contacts: ['event', 'feature', 'trait', 'score', 'model', 'in_segment', 'account'],
  accounts: ['feature', 'trait', 'members', 'all_members'],
};
export const SUBJECT_WORDS = {
  contacts: {
    event: 'event',
    feature: 'feature',
    trait: 'trait',
    score: 'score',
    model: 'model output',
    in_segment: 'in segment',
    account: 'their account',
  },
  accounts: { feature: 'account feature', trait: 'account trait', members: 'members', all_members: 'every member' },
};
const COMPARED = { contacts: ['trait', 'feature', 'score', 'model'], accounts: ['trait', 'feature'] };

export const isComparison = (row) => COMPARED[row.scope].includes(row.subject);

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** A scalar as the form shows it; in a list, a string with a comma is quoted too. */
export function textOf(value, inList = false) {
  if (typeof value !== 'string') return value === null ? 'null' : String(value);
  const ambiguous =
    value === '' ||
    value !== value.trim() ||
    /^(true|false|null)$/.test(value) ||
    NUMBER.test(value) ||
    value.startsWith('"') ||
    (inList && value.includes(','));
  return ambiguous ? JSON.stringify(value) : value;
}

/** A scalar from what the form shows: "quoted" text, true, false, null, a number, or else the text. */
export function valueOf(text) {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      return JSON.parse(t);
    } catch {
      // not a JSON string after all: the text as typed
    }
  }
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (NUMBER.test(t) && Number.isFinite(Number(t))) return Number(t);
  return t;
}

/** A list (`in`) as comma-separated values. */
export const listText = (values) => values.map((v) => textOf(v, true)).join(', ');

/** The values of comma-separated text; a "quoted" value may hold commas. */
export function listOf(text) {
  const items = [];
  let rest = text;
  for (;;) {
    const m = /^\s*(?:("(?:[^"\\]|\\.)*")\s*(?=,|$)|([^,]*))(,?)/.exec(rest);
    items.push(valueOf(m[1] ?? m[2]));
    rest = rest.slice(m[0].length);
    if (m[3] === '') return items;
  }
}

/** One operator of a comparison, filter or count as the form holds it: `{ op, value, to }` (`to`: between's upper bound). */
function entryOf(op, operand) {
  switch (op) {
    case 'between':
      return Array.isArray(operand) && operand.length === 2 && operand.every((v) => isScalar(v))
        ? { op, value: textOf(operand[0]), to: textOf(operand[1]) }
        : undefined;
    case 'in':
      return Array.isArray(operand) && operand.length > 0 && operand.every((v) => isScalar(v))
        ? { op, value: listText(operand), to: '' }
        : undefined;
    case 'exists':
      return typeof operand === 'boolean' ? { op, value: String(operand), to: '' } : undefined;
    case 'within':
    case 'before':
      return typeof operand === 'string' && operand === operand.trim() ? { op, value: operand, to: '' } : undefined;
    default:
      return isScalar(operand) ? { op, value: textOf(operand), to: '' } : undefined;
  }
}

function operandOf(entry) {
  switch (entry.op) {
    case 'between':
      return [valueOf(entry.value), valueOf(entry.to)];
    case 'in':
      return listOf(entry.value);
    case 'exists':
      return entry.value !== 'false';
    case 'within':
    case 'before':
      return entry.value.trim();
    default:
      return valueOf(entry.value);
  }
}

/** Operator entries of the keys of `c` other than `skip`, each in `allowed`; undefined when one is not. */
function entriesOf(c, allowed, skip = []) {
  const entries = [];
  for (const [op, operand] of Object.entries(c)) {
    if (skip.includes(op)) continue;
    const entry = allowed.includes(op) ? entryOf(op, operand) : undefined;
    if (!entry) return undefined;
    entries.push(entry);
  }
  return entries;
}

const operatorsOf = (entries) => Object.fromEntries(entries.map((e) => [e.op, operandOf(e)]));

/** A count (`count: 2` or `count: { gte: 2 }`) as the form holds it: its operators, and whether it was a bare number. */
function countOf(count) {
  if (count === undefined) return { number: false, ops: [] };
  if (typeof count === 'number') return { number: true, ops: [{ op: 'eq', value: textOf(count), to: '' }] };
  if (!isObject(count)) return undefined;
  const ops = entriesOf(count, COUNT_OPERATORS);
  return ops && ops.length > 0 ? { number: false, ops } : undefined;
}

function countCondition(count) {
  if (count.ops.length === 0) return undefined;
  if (count.number && count.ops.length === 1 && count.ops[0].op === 'eq') return operandOf(count.ops[0]);
  return operatorsOf(count.ops);
}

const onlyKeys = (c, allowed) => Object.keys(c).every((k) => allowed.includes(k));

/** A new row of `subject` in `scope`, with what the form starts it with. */
export function newRow(scope, subject = 'feature') {
  const row = { kind: 'row', scope, subject, not: false, field: '' };
  if (COMPARED[scope].includes(subject)) row.ops = [{ op: 'gte', value: '', to: '' }];
  if (subject === 'event')
    Object.assign(row, { count: { number: false, ops: [] }, within: '', before: '', where: [], whereShown: false });
  // a row's own conditions: one is written bare ({ account: { feature: members, gte: 2 } }), more make an `all`
  const inner = (of) => ({ ...newGroup(of), single: true });
  if (subject === 'account') row.inner = inner('accounts');
  if (subject === 'members') Object.assign(row, { count: { number: false, ops: [] }, inner: inner('contacts') });
  if (subject === 'all_members') row.inner = inner('contacts');
  return row;
}

/** A new group of `scope` holding one new row. */
export const newGroup = (scope, group = 'all') => ({
  kind: 'group',
  group,
  not: false,
  single: false,
  items: [newRow(scope)],
});

/** A new `where` filter: `property is value`, written bare (`campaign: spring`) while it stays one `is`. */
export const newFilter = () => ({ property: '', scalar: true, ops: [{ op: 'eq', value: '', to: '' }] });

function filterOf(property, test) {
  if (isScalar(test)) return { property, scalar: true, ops: [{ op: 'eq', value: textOf(test), to: '' }] };
  if (!isObject(test)) return undefined;
  const ops = entriesOf(test, OPERATORS);
  return ops && ops.length > 0 ? { property, scalar: false, ops } : undefined;
}

function filterCondition(filter) {
  if (filter.scalar && filter.ops.length === 1 && filter.ops[0].op === 'eq') return operandOf(filter.ops[0]);
  return operatorsOf(filter.ops);
}

/** A row of condition `c` in `scope`, or undefined when the form has no row for it. */
function rowOf(c, scope) {
  const row = { kind: 'row', scope, not: false, field: '' };
  if (scope === 'contacts' && 'in_segment' in c) {
    if (!onlyKeys(c, ['in_segment']) || typeof c.in_segment !== 'string') return undefined;
    return { ...row, subject: 'in_segment', field: c.in_segment };
  }
  if (scope === 'contacts' && 'event' in c) {
    if (!onlyKeys(c, ['event', 'count', 'within', 'before', 'where']) || typeof c.event !== 'string') return undefined;
    const count = countOf(c.count);
    if (!count) return undefined;
    for (const window of ['within', 'before'])
      if (window in c && (typeof c[window] !== 'string' || c[window] === '' || c[window] !== c[window].trim()))
        return undefined;
    if ('where' in c && !isObject(c.where)) return undefined;
    const where = Object.entries(c.where ?? {}).map(([property, test]) => filterOf(property, test));
    if (where.some((f) => f === undefined)) return undefined;
    return {
      ...row,
      subject: 'event',
      field: c.event,
      count,
      within: c.within ?? '',
      before: c.before ?? '',
      where,
      whereShown: 'where' in c,
    };
  }
  if (scope === 'contacts' && 'account' in c) {
    if (!onlyKeys(c, ['account'])) return undefined;
    const inner = groupOf(c.account, 'accounts');
    return inner && { ...row, subject: 'account', inner };
  }
  if (scope === 'accounts' && 'members' in c) {
    if (!onlyKeys(c, ['members', 'count'])) return undefined;
    const count = countOf(c.count);
    const inner = groupOf(c.members, 'contacts');
    return count && inner && { ...row, subject: 'members', count, inner };
  }
  if (scope === 'accounts' && 'all_members' in c) {
    if (!onlyKeys(c, ['all_members'])) return undefined;
    const inner = groupOf(c.all_members, 'contacts');
    return inner && { ...row, subject: 'all_members', inner };
  }
  const subjects = COMPARED[scope].filter((s) => s in c);
  if (subjects.length !== 1 || typeof c[subjects[0]] !== 'string') return undefined;
  const ops = entriesOf(c, OPERATORS, subjects);
  if (!ops || ops.length === 0) return undefined;
  return { ...row, subject: subjects[0], field: c[subjects[0]], ops };
}

/** The form node of condition `c` in `scope` (a negation marks its node), or undefined when the form cannot show it. */
export function nodeOf(c, scope) {
  if (!isObject(c)) return undefined;
  const keys = Object.keys(c);
  if (keys.length === 1 && keys[0] === 'not') {
    const inner = nodeOf(c.not, scope);
    if (!inner) return undefined;
    return inner.not
      ? { kind: 'group', group: 'all', not: true, single: true, items: [inner] }
      : { ...inner, not: true };
  }
  if (keys.length === 1 && (keys[0] === 'all' || keys[0] === 'any')) {
    if (!Array.isArray(c[keys[0]])) return undefined;
    const items = c[keys[0]].map((item) => nodeOf(item, scope));
    if (items.some((i) => i === undefined)) return undefined;
    return { kind: 'group', group: keys[0], not: false, single: false, items };
  }
  return rowOf(c, scope);
}

/** A group node for condition `c`: the group itself, or a `single` group around any other condition. */
export function groupOf(c, scope) {
  const node = nodeOf(c, scope);
  if (!node) return undefined;
  return node.kind === 'group' && !node.not
    ? node
    : { kind: 'group', group: 'all', not: false, single: true, items: [node] };
}

function rowCondition(row) {
  switch (row.subject) {
    case 'in_segment':
      return { in_segment: row.field };
    case 'account':
      return { account: conditionOf(row.inner) };
    case 'all_members':
      return { all_members: conditionOf(row.inner) };
    case 'members': {
      const count = countCondition(row.count);
      return { members: conditionOf(row.inner), ...(count === undefined ? {} : { count }) };
    }
    case 'event': {
      const count = countCondition(row.count);
      const where = Object.fromEntries(row.where.map((f) => [f.property, filterCondition(f)]));
      return {
        event: row.field,
        ...(count === undefined ? {} : { count }),
        ...(row.within.trim() === '' ? {} : { within: row.within.trim() }),
        ...(row.before.trim() === '' ? {} : { before: row.before.trim() }),
        ...(row.where.length > 0 || row.whereShown ? { where } : {}),
      };
    }
    default:
      return { [row.subject]: row.field, ...operatorsOf(row.ops) };
  }
}

/** The rule of a form node. */
export function conditionOf(node) {
  let c;
  if (node.kind === 'group')
    c =
      node.single && node.items.length === 1
        ? conditionOf(node.items[0])
        : { [node.group]: node.items.map(conditionOf) };
  else c = rowCondition(node);
  return node.not ? { not: c } : c;
}

/** Whether two rules are the same (keys in any order). */
export function sameRule(a, b) {
  if (Array.isArray(a) || Array.isArray(b))
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameRule(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameRule(a[k], b[k]));
  }
  return Object.is(a, b);
}

/**
 * The form of a whole rule of `scope` (`contacts` or `accounts`): its top group, or undefined when the form cannot
 * show it exactly (the rule it would give back differs), for the builder to fall back to JSON.
 */
export function formOf(rule, scope) {
  const root = groupOf(rule, scope);
  return root && sameRule(conditionOf(root), rule) ? root : undefined;
}

const blank = (text) => String(text ?? '').trim() === '';
const entryBlank = (e) => e.op !== 'exists' && (blank(e.value) || (e.op === 'between' && blank(e.to)));

/**
 * Whether a form node still has a name or a value to fill in (a new row, a filter without its property): such a rule
 * is not previewed yet, rather than refused for a half-typed part (or, compared with a number column, failing).
 */
export function incomplete(node) {
  if (node.kind === 'group') return node.items.some(incomplete);
  if (
    'field' in node &&
    node.subject !== 'account' &&
    !['members', 'all_members'].includes(node.subject) &&
    blank(node.field)
  )
    return true;
  if (node.ops?.some(entryBlank) || node.count?.ops.some(entryBlank)) return true;
  if (node.where?.some((f) => blank(f.property) || f.ops.some(entryBlank))) return true;
  return node.inner ? incomplete(node.inner) : false;
}
