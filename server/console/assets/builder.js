// The segment builder: a segment of people or of accounts, its rule made of form rows for every part of the grammar
// (traits, features, scores, model outputs, other segments; events with a count, windows and property filters; the
// contact's accounts; an account's traits, features and members) in nested all/any groups, any of them negated; its
// tags; its live count and sample from the preview API as you edit, the compiler's errors inline, and save from the
// version you opened (a stale save shows the other change). rule-form.js turns rules into form nodes and back; a rule
// the form cannot show exactly is edited as JSON. `?rule=<JSON>&name=&kind=` opens a new segment with a rule filled
// in (the predictions and clustering pages' "make a segment from this").
import { api, ApiError, el, fill, load, number, query, status } from './console.js';
import {
  COUNT_OPERATORS,
  COUNT_WORDS,
  OPERATORS,
  OPERATOR_WORDS,
  SUBJECTS,
  SUBJECT_WORDS,
  conditionOf,
  formOf,
  incomplete,
  isComparison,
  newFilter,
  newGroup,
  newRow,
} from './rule-form.js';

/** The segment being edited: its kind (`contacts` or `accounts`), its top group, or its rule as JSON text. */
const state = {
  key: query('key') ?? '',
  kind: query('kind') === 'accounts' ? 'accounts' : 'contacts',
  version: undefined,
  root: newGroup('contacts'),
  json: undefined,
};

const PLACEHOLDERS = {
  event: 'purchase',
  feature: 'monetary_365d',
  trait: 'country',
  score: 'rfm_segment',
  model: 'churn.risk',
  in_segment: 'segment key',
};
const ACCOUNT_PLACEHOLDERS = { feature: 'engaged_members_30d', trait: 'industry' };

function ruleOf() {
  if (state.json !== undefined) return JSON.parse(state.json);
  return conditionOf(state.root);
}

function loadRule(rule) {
  const root = formOf(rule, state.kind);
  if (root === undefined) state.json = JSON.stringify(rule, null, 2);
  else {
    state.root = root;
    state.json = undefined;
  }
}

/** Per scope and subject, the datalist (filled from GET /library/names) a row's name field offers. */
const NAME_LISTS = {
  contacts: {
    event: 'events',
    feature: 'features',
    trait: 'traits',
    score: 'scores',
    model: 'models',
    in_segment: 'segments',
  },
  accounts: { feature: 'accountFeatures', trait: 'accountTraits' },
};

function nameLists(names) {
  document.body.append(
    ...Object.entries(names).map(([list, values]) =>
      el(
        'datalist',
        { id: `names-${list}` },
        values.map((v) => el('option', { value: v })),
      ),
    ),
  );
}

/** A text input bound to `holder[name]`. */
function input(holder, name, attributes = {}, field = name) {
  const node = el('input', {
    value: holder[field],
    'aria-label': attributes['aria-label'] ?? name,
    name,
    ...attributes,
  });
  node.addEventListener('input', () => {
    holder[field] = node.value;
    changed();
  });
  return node;
}

/** A select of `options` (values, shown as `words[value]`), calling `onChange` with the chosen value. */
function select(options, value, onChange, label, words = {}) {
  const node = el(
    'select',
    { 'aria-label': label },
    options.map((o) => el('option', { value: o, selected: o === value }, words[o] ?? o)),
  );
  node.addEventListener('change', () => onChange(node.value));
  return node;
}

function button(text, onClick, attributes = {}) {
  const node = el('button', { type: 'button', class: 'secondary', ...attributes }, text);
  node.addEventListener('click', onClick);
  return node;
}

const rerender = () => (renderRows(), changed());

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
  document.getElementById('rule-group').value = state.root.group;
  fill('rule-rows', itemsOf(state.root, state.kind));
}

/** A group's items as a list: rows and nested groups, each removable from the group. */
function itemsOf(group, scope) {
  return el(
    'ol',
    {},
    group.items.map((node) => {
      const remove = button('Remove', () => (group.items.splice(group.items.indexOf(node), 1), rerender()));
      return node.kind === 'group' ? groupItem(node, scope, remove) : rowItem(node, remove);
    }),
  );
}

function notBox(node) {
  const not = el('input', { type: 'checkbox', checked: node.not, 'aria-label': 'not' });
  not.addEventListener('change', () => ((node.not = not.checked), changed()));
  return el('label', {}, not, ' not ');
}

const groupKind = (group) =>
  select(['all', 'any'], group.group, (v) => ((group.group = v), changed()), 'group kind', {
    all: 'all of',
    any: 'any of',
  });

function groupItem(group, scope, remove) {
  return el(
    'li',
    { class: 'rule-group' },
    el('p', {}, notBox(group), groupKind(group), ' these:'),
    itemsOf(group, scope),
    el('p', { class: 'actions' }, ...addButtons(group, scope), remove),
  );
}

/** "Add a condition" and "Add a group" for a nested group (the top level has its own buttons in the page). */
function addButtons(group, scope) {
  const what = scope === 'accounts' ? 'Add an account condition' : 'Add a condition';
  return [
    button(what, () => (group.items.push(newRow(scope)), rerender())),
    button('Add a group', () => (group.items.push(newGroup(scope, 'any')), rerender())),
  ];
}

/** A group inside a row (an account's conditions, its members' conditions), with its own add buttons. */
function innerGroup(group, scope) {
  return el(
    'div',
    { class: `rule-group ${scope === 'accounts' ? 'account-group' : 'member-group'}` },
    el('p', {}, groupKind(group), ' these:'),
    itemsOf(group, scope),
    el('p', { class: 'actions' }, ...addButtons(group, scope)),
  );
}

/**
 * Operator rows (`{ op, value, to }`): each an operator and its operand (two bounds for between, true/false for
 * exists), removable while more than `min` remain; "and" adds another operator, as `{ gte: 2, lt: 10 }` has two.
 */
function operatorsEditor(entries, { operators, words, label, valueName, min }) {
  const parts = entries.map((entry, i) => {
    const op = select(
      operators,
      entry.op,
      (v) => {
        entry.op = v;
        if (v === 'exists') entry.value = 'true';
        rerender();
      },
      label,
      words,
    );
    const operand =
      entry.op === 'exists'
        ? select(['true', 'false'], entry.value, (v) => ((entry.value = v), changed()), `${label} value`, {
            true: 'yes',
            false: 'no (not set)',
          })
        : entry.op === 'between'
          ? [
              input(entry, valueName, { size: 8, 'aria-label': `${valueName} from` }, 'value'),
              ' and ',
              input(entry, `${valueName}-to`, { size: 8, 'aria-label': `${valueName} to` }, 'to'),
            ]
          : input(
              entry,
              valueName,
              { size: entry.op === 'in' ? 20 : 10, placeholder: placeholderOf(entry.op) },
              'value',
            );
    const remove =
      entries.length > min
        ? button('×', () => (entries.splice(i, 1), rerender()), { 'aria-label': `remove ${label}`, title: 'remove' })
        : null;
    return el('span', { class: 'operator' }, i > 0 ? ' and ' : '', op, ' ', operand, remove ? ' ' : '', remove);
  });
  const more = button('and…', () => (entries.push({ op: operators[0], value: '', to: '' }), rerender()), {
    'aria-label': `add ${label}`,
    title: 'add another operator',
  });
  return [...parts, ' ', more];
}

const placeholderOf = (op) => (op === 'in' ? 'FR, DE' : op === 'within' || op === 'before' ? '30d' : '');

/** A count (events, or members): "at least once" when it has no operator, else its operators. */
function countEditor(count, noun) {
  if (count.ops.length === 0)
    return [
      el('span', { class: 'hint' }, noun === 'times' ? 'at least once' : 'at least one'),
      ' ',
      button('count…', () => (count.ops.push({ op: 'gte', value: '2', to: '' }), rerender()), {
        'aria-label': 'add count operator',
        title: 'how many',
      }),
    ];
  return [
    ...operatorsEditor(count.ops, {
      operators: COUNT_OPERATORS,
      words: COUNT_WORDS,
      label: 'count operator',
      valueName: 'count',
      min: 0,
    }),
    ` ${noun}`,
  ];
}

function filterEditor(row, filter) {
  return el(
    'li',
    { class: 'filter' },
    input(filter, 'property', { size: 12, placeholder: 'value, url, campaign…' }),
    ' ',
    ...operatorsEditor(filter.ops, {
      operators: OPERATORS,
      words: OPERATOR_WORDS,
      label: 'filter operator',
      valueName: 'filter-value',
      min: 1,
    }),
    ' ',
    button('Remove filter', () => (row.where.splice(row.where.indexOf(filter), 1), rerender())),
  );
}

function eventParts(row) {
  return [
    ' ',
    ...countEditor(row.count, 'times'),
    el('label', {}, ' within the last ', input(row, 'within', { size: 5, placeholder: '90d' })),
    el('label', {}, ' more than ', input(row, 'before', { size: 5, placeholder: '' }), ' ago'),
    el(
      'div',
      { class: 'filters' },
      row.where.length > 0 ? el('span', { class: 'hint' }, 'where ') : null,
      el(
        'ul',
        {},
        row.where.map((f) => filterEditor(row, f)),
      ),
      button('Add a filter', () => (row.where.push(newFilter()), rerender()), { title: 'a property of the event' }),
    ),
  ];
}

function rowItem(row, remove) {
  const words = SUBJECT_WORDS[row.scope];
  const kind = select(
    SUBJECTS[row.scope],
    row.subject,
    (v) => {
      const next = newRow(row.scope, v);
      if ('field' in next && next.subject !== 'event' && row.subject !== 'event') next.field = row.field;
      next.not = row.not;
      for (const k of Object.keys(row)) delete row[k];
      Object.assign(row, next);
      rerender();
    },
    'condition kind',
    words,
  );
  const placeholder = (row.scope === 'accounts' ? ACCOUNT_PLACEHOLDERS : PLACEHOLDERS)[row.subject];
  const parts = [kind];
  const list = NAME_LISTS[row.scope][row.subject];
  if (placeholder) parts.push(' ', input(row, 'field', { placeholder, list: list && `names-${list}` }));
  if (isComparison(row))
    parts.push(
      ' ',
      ...operatorsEditor(row.ops, {
        operators: OPERATORS,
        words: OPERATOR_WORDS,
        label: 'operator',
        valueName: 'value',
        min: 1,
      }),
    );
  else if (row.subject === 'event') parts.push(...eventParts(row));
  else if (row.subject === 'account') parts.push(' matches', innerGroup(row.inner, 'accounts'));
  else if (row.subject === 'members')
    parts.push(' ', ...countEditor(row.count, 'of them'), ' match', innerGroup(row.inner, 'contacts'));
  else if (row.subject === 'all_members')
    parts.push(' matches (and it has members)', innerGroup(row.inner, 'contacts'));
  return el('li', { class: 'rule-row', 'data-subject': row.subject }, notBox(row), ...parts, ' ', remove);
}

let timer;
function changed() {
  window.clearTimeout(timer);
  timer = window.setTimeout(preview, 300);
}

function sampleItem(member) {
  if (state.kind === 'accounts') {
    const label = member.name ?? member.domain ?? `account ${member.accountId}`;
    return el(
      'li',
      {},
      el('a', { href: `/console/accounts?id=${encodeURIComponent(member.accountId)}` }, label),
      member.domain && member.name ? ` (${member.domain})` : '',
    );
  }
  return el('li', {}, member.email ?? `contact ${member.contactId ?? member.id}`);
}

/** Previews asked so far: only the answer to the latest one is shown, whatever order the answers come back in. */
let asked = 0;

async function preview() {
  const mine = ++asked;
  let rule;
  try {
    rule = ruleOf();
  } catch (error) {
    fill('rule-errors', el('p', { class: 'error' }, `not JSON: ${error.message}`));
    return;
  }
  if (state.json === undefined && incomplete(state.root)) {
    fill('preview-count', '—');
    fill('rule-errors', el('p', { class: 'hint' }, 'Fill in every name and value to see the count.'));
    return;
  }
  try {
    const result = await api('/segments/preview', { method: 'POST', body: { kind: state.kind, rule, sample: 10 } });
    if (mine !== asked) return;
    fill('rule-errors');
    fill('preview-count', number(result.count));
    // the rule this count and sample are of, for whoever checks the page shows the rule it was given
    fill('preview-sample', el('ul', {}, result.sample.map(sampleItem))).dataset.rule = JSON.stringify(rule);
    document.body.dataset.previewed = 'yes';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (mine !== asked) return;
    fill('preview-count', '—');
    fill('rule-errors', el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

/** The tags field's tags: words separated by commas or spaces. */
const tagsOf = () =>
  document
    .getElementById('segment-tags')
    .value.split(/[\s,]+/)
    .filter(Boolean);

async function save() {
  const body = { name: document.getElementById('segment-name').value || state.key, rule: ruleOf(), tags: tagsOf() };
  try {
    const saved =
      state.version === undefined
        ? await api('/library/segments', {
            method: 'POST',
            body: { key: document.getElementById('segment-key').value, kind: state.kind, ...body },
          })
        : await api(`/library/segments/${encodeURIComponent(state.key)}`, {
            method: 'POST',
            body: { ...body, version: state.version },
          });
    state.key = saved.key;
    state.version = saved.version;
    document.getElementById('segment-key').disabled = true;
    document.getElementById('segment-kind').disabled = true;
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

/** Shows the segment's kind: what the count counts, and the kind picker (fixed once the segment exists). */
function showKind(fixed) {
  const picker = document.getElementById('segment-kind');
  picker.value = state.kind;
  picker.disabled = fixed;
  fill('preview-unit', state.kind === 'accounts' ? 'accounts' : 'members');
  document.querySelector('label[for="rule-group"]').textContent =
    state.kind === 'accounts' ? 'Accounts match' : 'Members match';
}

load(async () => {
  const [{ role }, names] = await Promise.all([api('/library/role'), api('/library/names')]);
  nameLists(names);
  if (state.key) {
    const segment = await api(`/library/segments/${encodeURIComponent(state.key)}`);
    document.getElementById('segment-key').value = segment.key;
    document.getElementById('segment-key').disabled = true;
    document.getElementById('segment-name').value = segment.name;
    document.getElementById('segment-tags').value = (segment.tags ?? []).join(', ');
    state.kind = segment.kind === 'accounts' ? 'accounts' : 'contacts';
    state.version = segment.readOnly ? undefined : segment.version;
    loadRule(segment.rule);
    showKind(true);
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
    } else if (state.kind === 'contacts') {
      const start = newRow('contacts', 'event');
      Object.assign(start, { field: 'purchase', within: '90d' });
      start.count.ops.push({ op: 'gte', value: '2', to: '' });
      state.root.items = [start];
    } else state.root = newGroup('accounts');
    showKind(false);
    document.getElementById('segment-kind').addEventListener('change', (event) => {
      state.kind = event.target.value === 'accounts' ? 'accounts' : 'contacts';
      state.root = newGroup(state.kind);
      state.json = undefined;
      showKind(false);
      rerender();
    });
  }
  const group = document.getElementById('rule-group');
  group.addEventListener('change', () => ((state.root.group = group.value), changed()));
  document.getElementById('add-row').addEventListener('click', () => {
    if (state.json !== undefined) return;
    state.root.items.push(newRow(state.kind));
    rerender();
  });
  document.getElementById('add-group').addEventListener('click', () => {
    if (state.json !== undefined) return;
    state.root.items.push(newGroup(state.kind, 'any'));
    rerender();
  });
  const saveButton = document.getElementById('save');
  if (role !== 'admin') saveButton.remove();
  else saveButton.addEventListener('click', save);
  renderRows();
  await preview();
});
