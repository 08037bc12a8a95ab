// The segment builder: a rule made of form rows (all/any of traits, features, scores, model outputs, events with a
// count and a window, other segments; each row may be negated), its live count and sample from the preview API as
// you edit, the compiler's errors inline, and save from the version you opened (a stale save shows the other change).
import { api, ApiError, el, fill, load, number, query, status } from './console.js';

const SUBJECTS = ['event', 'feature', 'trait', 'score', 'model', 'in_segment'];
const OPERATORS = ['gte', 'gt', 'lte', 'lt', 'eq', 'ne', 'contains', 'exists', 'within', 'before'];
const state = { key: query('key') ?? '', version: undefined, rows: [], group: 'all', json: undefined };

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

function ruleOf() {
  if (state.json !== undefined) return JSON.parse(state.json);
  return { [state.group]: state.rows.map(conditionOf) };
}

function loadRule(rule) {
  const group = 'all' in rule ? 'all' : 'any' in rule ? 'any' : undefined;
  const rows = group ? rule[group].map(rowOf) : [rowOf(rule)];
  if (rows.some((r) => r === undefined)) {
    state.json = JSON.stringify(rule, null, 2);
    return;
  }
  state.group = group ?? 'all';
  state.rows = rows;
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
  const rows = state.rows.map((row, i) => {
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
    const not = el('input', { type: 'checkbox', checked: row.not, 'aria-label': 'not' });
    not.addEventListener('change', () => ((row.not = not.checked), changed()));
    const remove = el('button', { type: 'button' }, 'Remove');
    remove.addEventListener('click', () => (state.rows.splice(i, 1), renderRows(), changed()));
    return el('li', { class: 'rule-row' }, el('label', {}, not, ' not '), ...parts, ' ', remove);
  });
  fill('rule-rows', el('ol', {}, rows));
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
    fill('save-outcome', el('p', { class: 'ok', role: 'status' }, `Saved version ${saved.version}.`));
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
    state.rows = [{ subject: 'event', field: 'purchase', op: 'gte', value: '', count: '2', within: '90d', not: false }];
  }
  const group = document.getElementById('rule-group');
  group.value = state.group;
  group.addEventListener('change', () => ((state.group = group.value), changed()));
  document.getElementById('add-row').addEventListener('click', () => {
    state.rows.push({ subject: 'feature', field: '', op: 'gt', value: '', count: '', within: '', not: false });
    renderRows();
  });
  const saveButton = document.getElementById('save');
  if (role !== 'admin') saveButton.remove();
  else saveButton.addEventListener('click', save);
  renderRows();
  await preview();
});
