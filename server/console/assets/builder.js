// The segment builder: a rule made of form rows (all/any of traits, features, scores, model outputs, events with a
// count and a window, other segments; each row may be negated) and of nested all/any groups (each may be negated too),
// its live count and sample from the preview API as you edit, the compiler's errors inline, and save from the version
// you opened (a stale save shows the other change). `?rule=<JSON>&name=` opens a new segment with a rule filled in
// (the predictions and clustering pages' "make a segment from this").
import { api, ApiError, el, fill, load, number, query, status } from './console.js';

const SUBJECTS = ['event', 'feature', 'trait', 'score', 'model', 'in_segment'];
const OPERATORS = ['gte', 'gt', 'lte', 'lt', 'eq', 'ne', 'contains', 'exists', 'within', 'before'];
/** The rule as the form holds it: a group `{ group: 'all' | 'any', not, items }` of rows and groups. */
const state = {
  key: query('key') ?? '',
  version: undefined,
  root: { group: 'all', not: false, items: [] },
  json: undefined,
};
const newRow = () => ({ subject: 'feature', field: '', op: 'gt', value: '', count: '', within: '', not: false });

const scalar = (text) =>
  text !== '' && !Number.isNaN(Number(text)) ? Number(text) : text === 'true' ? true : text === 'false' ? false : text;

function conditionOf(row) {
  let condition;
  if (row.subject === 'in_segment') condition = { in_segment: row.field };
  else if (row.subject === 'event') {
    condition = { event: row.field };
    if (row.count !== '') condition.count = { gte: Number(row.count) };
    if (row.within !== '') condition.within = row.within;
  } else condition = { [row.subject]: row.field, [row.op]: row.op === 'exists' ? true : scalar(row.value) };
  return row.not ? { not: condition } : condition;
}

function rowOf(condition) {
  const not = 'not' in condition;
  const c = not ? condition.not : condition;
  const subject = SUBJECTS.find((s) => s in c);
  if (!subject || typeof c !== 'object') return undefined;
  const row = { subject, field: String(c[subject]), op: 'gte', value: '', count: '', within: '', not };
  if (subject === 'event') {
    if (c.where !== undefined || c.before !== undefined) return undefined;
    const count = typeof c.count === 'number' ? c.count : c.count?.gte;
    if (c.count !== undefined && count === undefined) return undefined;
    row.count = count === undefined ? '' : String(count);
    row.within = c.within ?? '';
  } else if (subject !== 'in_segment') {
    const ops = Object.keys(c).filter((k) => k !== subject);
    if (ops.length !== 1) return undefined;
    row.op = ops[0];
    row.value = String(c[row.op]);
  }
  return row;
}

const isGroup = (c) => typeof c === 'object' && c !== null && (Array.isArray(c.all) || Array.isArray(c.any));

/** A form node of a condition: a group (also a negated one), or a row; undefined when the form cannot show it. */
function nodeOf(condition) {
  const negated = typeof condition === 'object' && condition !== null && 'not' in condition && isGroup(condition.not);
  const c = negated ? condition.not : condition;
  if (isGroup(c)) {
    const group = Array.isArray(c.all) ? 'all' : 'any';
    if (Object.keys(c).length !== 1) return undefined;
    const items = c[group].map(nodeOf);
    return items.some((i) => i === undefined) ? undefined : { group, not: negated, items };
  }
  return rowOf(condition);
}

function conditionOfNode(node) {
  if (!node.items) return conditionOf(node);
  const group = { [node.group]: node.items.map(conditionOfNode) };
  return node.not ? { not: group } : group;
}

function ruleOf() {
  if (state.json !== undefined) return JSON.parse(state.json);
  return conditionOfNode(state.root);
}

function loadRule(rule) {
  const node = nodeOf(rule);
  if (node === undefined) {
    state.json = JSON.stringify(rule, null, 2);
    return;
  }
  state.root = node.items && !node.not ? node : { group: 'all', not: false, items: [node] };
}

function input(row, name, attributes = {}) {
  const node = el('input', { value: row[name], 'aria-label': name, name, ...attributes });
  node.addEventListener('input', () => {
    row[name] = node.value;
    changed();
  });
  return node;
}

function select(options, value, onChange, label) {
  const node = el(
    'select',
    { 'aria-label': label },
    options.map((o) => el('option', { value: o, selected: o === value }, o)),
  );
  node.addEventListener('change', () => onChange(node.value));
  return node;
}

function renderRows() {
  if (state.json !== undefined) {
    const area = el('textarea', { id: 'rule-json', rows: 12, cols: 80, 'aria-label': 'rule as JSON' }, state.json);
    area.addEventListener('input', () => {
      state.json = area.value;
      changed();
    });
    fill('rule-rows', el('p', { class: 'hint' }, 'This rule has parts the form does not show; edit it as JSON.'), area);
    return;
  }
  fill('rule-rows', itemsOf(state.root));
}

/** A group's items as a list: rows and nested groups, each removable from the group. */
function itemsOf(group) {
  return el(
    'ol',
    {},
    group.items.map((node) => {
      const remove = el('button', { type: 'button', class: 'secondary' }, 'Remove');
      remove.addEventListener(
        'click',
        () => (group.items.splice(group.items.indexOf(node), 1), renderRows(), changed()),
      );
      return node.items ? groupItem(node, remove) : rowItem(node, remove);
    }),
  );
}

function notBox(node) {
  const not = el('input', { type: 'checkbox', checked: node.not, 'aria-label': 'not' });
  not.addEventListener('change', () => ((node.not = not.checked), changed()));
  return el('label', {}, not, ' not ');
}

function groupItem(group, remove) {
  const kind = select(['all', 'any'], group.group, (v) => ((group.group = v), changed()), 'group kind');
  return el(
    'li',
    { class: 'rule-group' },
    el('p', {}, notBox(group), kind, ' of these:'),
    itemsOf(group),
    el('p', { class: 'actions' }, ...addButtons(group), remove),
  );
}

/** "Add a condition" and "Add a group" for a nested group (the top level has its own buttons in the page). */
function addButtons(group) {
  const row = el('button', { type: 'button', class: 'secondary' }, 'Add a condition');
  row.addEventListener('click', () => (group.items.push(newRow()), renderRows()));
  const nested = el('button', { type: 'button', class: 'secondary' }, 'Add a group');
  nested.addEventListener(
    'click',
    () => (group.items.push({ group: 'any', not: false, items: [newRow()] }), renderRows()),
  );
  return [row, nested];
}

function rowItem(row, remove) {
  const parts = [
    select(SUBJECTS, row.subject, (v) => ((row.subject = v), renderRows(), changed()), 'condition kind'),
    input(row, 'field', { placeholder: row.subject === 'event' ? 'purchase' : 'name' }),
  ];
  if (row.subject === 'event')
    parts.push(
      ' at least ',
      input(row, 'count', { size: 4, placeholder: '1' }),
      ' times within ',
      input(row, 'within', { size: 5, placeholder: '90d' }),
    );
  else if (row.subject !== 'in_segment')
    parts.push(
      select(OPERATORS, row.op, (v) => ((row.op = v), changed()), 'operator'),
      input(row, 'value', { size: 10 }),
    );
  return el('li', { class: 'rule-row' }, notBox(row), ...parts, ' ', remove);
}

let timer;
function changed() {
  window.clearTimeout(timer);
  timer = window.setTimeout(preview, 300);
}

async function preview() {
  let rule;
  try {
    rule = ruleOf();
  } catch (error) {
    fill('rule-errors', el('p', { class: 'error' }, `not JSON: ${error.message}`));
    return;
  }
  try {
    const result = await api('/segments/preview', { method: 'POST', body: { rule, sample: 10 } });
    fill('rule-errors');
    fill('preview-count', number(result.count));
    fill(
      'preview-sample',
      el(
        'ul',
        {},
        result.sample.map((m) => el('li', {}, m.email ?? `contact ${m.contactId ?? m.id}`)),
      ),
    );
    document.body.dataset.previewed = 'yes';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    fill('preview-count', '—');
    fill('rule-errors', el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

async function save() {
  const body = { name: document.getElementById('segment-name').value || state.key, rule: ruleOf() };
  try {
    const saved =
      state.version === undefined
        ? await api('/library/segments', {
            method: 'POST',
            body: { key: document.getElementById('segment-key').value, ...body },
          })
        : await api(`/library/segments/${encodeURIComponent(state.key)}`, {
            method: 'POST',
            body: { ...body, version: state.version },
          });
    state.key = saved.key;
    state.version = saved.version;
    document.getElementById('segment-key').disabled = true;
    status(`Saved version ${saved.version}.`);
    fill(
      'save-outcome',
      el(
        'p',
        { class: 'ok', role: 'status' },
        `Saved version ${saved.version}. `,
        el('a', { href: `/console/segment?key=${encodeURIComponent(saved.key)}` }, 'Open its page'),
      ),
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    fill('save-outcome', el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

load(async () => {
  const [{ role }] = await Promise.all([api('/library/role')]);
  if (state.key) {
    const segment = await api(`/library/segments/${encodeURIComponent(state.key)}`);
    document.getElementById('segment-key').value = segment.key;
    document.getElementById('segment-key').disabled = true;
    document.getElementById('segment-name').value = segment.name;
    state.version = segment.readOnly ? undefined : segment.version;
    loadRule(segment.rule);
    if (segment.readOnly)
      fill('save-outcome', el('p', { class: 'hint' }, `From ${segment.file}:${segment.line} (read-only).`));
  } else {
    const prefilled = query('rule');
    if (prefilled) {
      loadRule(JSON.parse(prefilled));
      document.getElementById('segment-name').value = query('name') ?? '';
      document.getElementById('segment-key').value = (query('name') ?? '')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^[^a-z]+|_+$/g, '');
    } else
      state.root.items = [
        { subject: 'event', field: 'purchase', op: 'gte', value: '', count: '2', within: '90d', not: false },
      ];
  }
  const group = document.getElementById('rule-group');
  group.value = state.root.group;
  group.addEventListener('change', () => ((state.root.group = group.value), changed()));
  document.getElementById('add-row').addEventListener('click', () => {
    state.root.items.push(newRow());
    renderRows();
  });
  document.getElementById('add-group').addEventListener('click', () => {
    state.root.items.push({ group: 'any', not: false, items: [newRow()] });
    renderRows();
  });
  const saveButton = document.getElementById('save');
  if (role !== 'admin') saveButton.remove();
  else saveButton.addEventListener('click', save);
  renderRows();
  await preview();
});
