// What every console page shares: reading the JSON API with the session cookie, building markup safely (text nodes,
// never innerHTML with data), number and date formats, and charts drawn with the locally served Chart.js.

export const LOGIN = '/console/login';

/** A request the API refused; `code` is the API's stable error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function toLogin() {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`${LOGIN}?next=${encodeURIComponent(here)}`);
}

/** GETs (or sends) JSON to the API; a lost session goes back to the login page. `headers: true` answers both. */
export async function api(path, options = {}) {
  const init = { method: options.method ?? 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (options.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, 'unauthorized', 'Your session has ended; sign in again.');
  }
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError(
      response.status,
      body?.error?.code ?? 'error',
      body?.error?.message ?? `${path} answered ${response.status}`,
    );
  }
  return options.headers === true ? { body, headers: response.headers } : body;
}

let roleOfSession;
/** The session's role (`admin` or `read`), asked once per page: only the admin role is shown action buttons. */
export async function role() {
  roleOfSession ??= api('/session').then((s) => s.role);
  return roleOfSession;
}

/** A button that runs an async action, disabled while it runs; its failure goes to the status line. */
export function action(label, run, { kind, id, title } = {}) {
  const node = el('button', { type: 'button', class: kind, id, title }, label);
  node.addEventListener('click', async () => {
    node.disabled = true;
    try {
      await run();
    } catch (error) {
      status(error instanceof Error ? error.message : String(error), 'error');
    } finally {
      node.disabled = false;
    }
  });
  return node;
}

/** A duration for people: 850 ms, 12.4 s, 3.2 min, 5.1 h, 2.3 days. */
export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '—';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (abs < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (abs < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

/** An amount of money in the store's currency (a code such as EUR), e.g. €1,234. */
export function money(value, currency, digits = 0) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  try {
    return value.toLocaleString('en', {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  } catch {
    return `${number(value, digits)} ${currency ?? ''}`.trim();
  }
}

/** GETs a text endpoint (the Prometheus /metrics) and returns its samples as name{labels} → value. */
export async function metrics() {
  const response = await fetch('/metrics', { credentials: 'same-origin' });
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, 'unauthorized', 'Your session has ended; sign in again.');
  }
  if (!response.ok) throw new ApiError(response.status, 'error', `/metrics answered ${response.status}`);
  const samples = new Map();
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)$/i.exec(line);
    if (match) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

/**
 * Each segment's latest evaluation from its trend (GET /segments): size, entered, exited, and whether it drifted.
 * Drift and stability are the API's when it gives them; otherwise they follow the documented definitions (stability =
 * share of the previous members still members; drift when (entered + exited) / (previous + entered) > 0.4, never on
 * a first evaluation).
 */
export function latestOf(segment) {
  const trend = segment.trend ?? [];
  const last = trend[trend.length - 1];
  if (!last) return null;
  const previous = trend.length > 1 ? trend[trend.length - 2].size : null;
  const stability =
    last.stability !== undefined ? last.stability : previous ? (previous - last.exited) / previous : null;
  const changedShare =
    last.changedShare !== undefined
      ? last.changedShare
      : previous !== null && previous + last.entered > 0
        ? (last.entered + last.exited) / (previous + last.entered)
        : 0;
  const drift = last.drift !== undefined ? last.drift : previous !== null && changedShare > 0.4;
  return { ...last, stability, changedShare, drift };
}

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

/** Replaces the children of the element with this id. */
export function fill(id, ...children) {
  const target = document.getElementById(id);
  target.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null));
  return target;
}

/**
 * A table from column definitions `{ label, value(row), numeric? }`; an empty list says so instead.
 */
export function table(columns, rows, { caption, empty = 'Nothing yet.' } = {}) {
  if (rows.length === 0) return el('p', { class: 'empty' }, empty);
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      {},
      caption ? el('caption', {}, caption) : null,
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          columns.map((c) => el('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.label)),
        ),
      ),
      el(
        'tbody',
        {},
        rows.map((row) =>
          el(
            'tr',
            {},
            columns.map((c) =>
              el('td', { class: c.numeric ? 'num' : null, 'data-label': c.label }, cell(c.value(row))),
            ),
          ),
        ),
      ),
    ),
  );
}

function cell(value) {
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'number') return number(value);
  return value;
}

/** A definition list of label → value figures. */
export function figures(entries) {
  return entries.flatMap(([label, value]) => [el('dt', {}, label), el('dd', {}, cell(value))]);
}

export function number(value, digits) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  if (digits !== undefined)
    return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return Number.isInteger(value)
    ? value.toLocaleString('en')
    : value.toLocaleString('en', { maximumFractionDigits: 3 });
}

export function percent(share) {
  return share === undefined || share === null ? '—' : `${(share * 100).toFixed(1)}%`;
}

export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

/** A status word as a badge (succeeded, partial, failed, running, cancelled, …). */
export function badge(status) {
  return el('span', { class: `badge badge-${String(status).replace(/[^a-z_-]/gi, '')}` }, String(status));
}

/** Says something in the page's live status line (loading, errors). */
export function status(message, kind = 'info') {
  const line = document.getElementById('status');
  line.textContent = message;
  line.dataset.kind = kind;
}

/** Runs a page's loader, reporting its failure in the status line instead of the console. */
export async function load(loader) {
  status('Loading…');
  try {
    const who = await role();
    document.body.dataset.role = who;
    if (who !== 'admin')
      document
        .querySelector('.top .brand')
        ?.after(el('span', { class: 'role-note' }, 'read-only: you can see everything and change nothing'));
    await loader();
    status('');
    document.body.dataset.state = 'ready';
  } catch (error) {
    document.body.dataset.state = 'failed';
    if (error instanceof ApiError && error.status === 401) return;
    status(error instanceof Error ? error.message : String(error), 'error');
  }
}

/**
 * Twelve colours for series, told apart on white (Tableau-like hues, no two close); a chart plots at most this many
 * series, so no two share a colour.
 */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#4b5563',
  '#bcbd22',
  '#17becf',
  '#0b3d91',
  '#7f1d1d',
];

/** Whether the page is narrow (a phone): charts put their legends below and use fewer ticks. */
export function narrow() {
  return window.matchMedia('(max-width: 40rem)').matches;
}

/** Draws a chart on the canvas with this id (replacing any earlier one); animation off so what is seen is final. */
export function chart(id, config) {
  const canvas = document.getElementById(id);
  const Chart = window.Chart;
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    ...config,
    options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
  });
}

/**
 * Counts of values in equal-width bins between the smallest and largest (or the given bounds); labels name each
 * bin's range.
 */
export function histogram(values, { bins = 20, min, max, format = (v) => number(v, 2) } = {}) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  const lo = min ?? Math.min(...finite);
  const hi = max ?? Math.max(...finite);
  if (finite.length === 0) return { labels: [], counts: [] };
  const width = hi > lo ? (hi - lo) / bins : 1;
  const counts = new Array(bins).fill(0);
  for (const v of finite) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  const labels = counts.map((_, i) => `${format(lo + i * width)}–${format(lo + (i + 1) * width)}`);
  return { labels, counts };
}

/** A select filled with options; calls back with the chosen value (now and on change). */
export function picker(id, options, selected, onChange) {
  const select = document.getElementById(id);
  select.replaceChildren(
    ...options.map((o) => el('option', { value: o.value, selected: o.value === selected }, o.label)),
  );
  select.addEventListener('change', () => onChange(select.value));
  return select.value;
}

export function query(name) {
  return new window.URLSearchParams(window.location.search).get(name);
}

/** Puts a query parameter in the address bar without reloading, so a view can be bookmarked. */
export function remember(name, value) {
  const url = new window.URL(window.location.href);
  url.searchParams.set(name, value);
  window.history.replaceState(null, '', url);
}

/** A delivery row's skipped count and why: "12: 10 suppressed, 2 no consent" (runs and segment pages). */
export function leftOut(row) {
  const by = row.skippedBy ?? {};
  const parts = [
    ['suppressed', by.suppressed],
    ['no consent', by.noConsent],
    ['no identity', by.noIdentity],
    ['out of retries', by.exhausted],
    ['not in the tool', by.notInDestination],
  ].filter(([, n]) => n > 0);
  if (!row.skipped) return '0';
  return `${number(row.skipped)}: ${parts.map(([what, n]) => `${number(n)} ${what}`).join(', ')}`;
}
