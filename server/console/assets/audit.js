// Audit: the data audit and fairness report from GET /audit, one section per part of the report, findings first.
// The server answers the last report it kept at once; "Run a fresh audit" builds a new one. Shares read as
// percentages and lags as durations; nothing is shown as raw JSON.
import { api, duration, el, fill, load, percent, status, when } from './console.js';

load(() => show(false));

document.getElementById('audit-fresh').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  status('Building a fresh audit: it reads the whole store…');
  try {
    await show(true);
    status('');
  } catch (error) {
    status(error instanceof Error ? error.message : String(error), 'error');
  } finally {
    button.disabled = false;
  }
});

async function show(fresh) {
  const { body: report, headers } = await api(fresh ? '/audit?fresh=true' : '/audit', { headers: true });
  const builtAt = headers.get('X-Audit-Built-At');
  const tookMs = Number(headers.get('X-Audit-Took-Ms'));
  fill(
    'audit-built',
    `Measured at ${when(report.generatedAt)}; built ${when(builtAt)} in ${duration(tookMs)}${headers.get('X-Audit-Fresh') === 'true' ? ' (just now)' : ''}.`,
  );
  const sections = [];
  const findings = report.findings ?? [];
  sections.push(
    el(
      'section',
      { 'aria-labelledby': 'findings-title' },
      el('h2', { id: 'findings-title' }, 'Findings'),
      findings.length ? el('p', { id: 'findings-summary' }, summary(findings)) : null,
      findings.length
        ? el(
            'ul',
            { id: 'findings', class: 'findings' },
            findings.map((f) =>
              el(
                'li',
                {
                  class: `alert${f.severity === 'notice' ? ' notice' : ''}`,
                  'data-severity': f.severity ?? '',
                  'data-code': f.code ?? '',
                },
                el('strong', { class: 'severity' }, f.severity === 'notice' ? 'Notice' : 'Warning'),
                f.section ? el('span', { class: 'badge' }, title(f.section)) : null,
                el('span', { class: 'message' }, text(f)),
              ),
            ),
          )
        : el('p', { class: 'empty' }, 'No findings.'),
    ),
  );
  for (const [name, part] of Object.entries(report)) {
    if (name === 'findings' || name === 'generatedAt' || part === null || typeof part !== 'object') continue;
    const id = `audit-${name.replace(/[^a-z0-9_-]/gi, '')}`;
    sections.push(el('section', { 'aria-labelledby': id }, el('h2', { id }, title(name)), render(part, 0)));
  }
  fill('audit-report', sections);
}

// The report's severities: `warning` (the data or a segment is likely wrong or unfair) and `notice` (worth knowing).
function summary(findings) {
  const warnings = findings.filter((f) => f.severity !== 'notice').length;
  const notices = findings.length - warnings;
  return `${warnings} warning${warnings === 1 ? '' : 's'}, ${notices} notice${notices === 1 ? '' : 's'}`;
}

function text(finding) {
  if (typeof finding === 'string') return finding;
  return finding.message ?? finding.title ?? JSON.stringify(finding);
}

function title(name) {
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Any JSON: a list of like objects as a table, an object as a definition list, nested parts as subsections. */
function render(value, depth, key = '') {
  if (Array.isArray(value)) {
    if (value.length === 0) return el('p', { class: 'empty' }, 'None.');
    if (value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v)))];
      return el(
        'div',
        { class: 'table-wrap' },
        el(
          'table',
          {},
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              columns.map((c) => el('th', { scope: 'col' }, title(c))),
            ),
          ),
          el(
            'tbody',
            {},
            value.map((row) =>
              el(
                'tr',
                {},
                columns.map((c) => el('td', { 'data-label': title(c) }, scalar(row[c], c))),
              ),
            ),
          ),
        ),
      );
    }
    return el('p', {}, value.map((v) => scalar(v, key)).join(', '));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return el('p', { class: 'empty' }, 'None.');
    return el(
      'dl',
      { class: depth === 0 ? 'audit' : 'audit nested' },
      entries.flatMap(([k, v]) => [
        el('dt', {}, title(k)),
        el(
          'dd',
          {},
          v !== null && typeof v === 'object' ? render(v, depth + 1, k) : scalar(v, SHARE_MAPS.test(key) ? 'share' : k),
        ),
      ]),
    );
  }
  return el('p', {}, scalar(value, key));
}

/** Shares and ratios (0–1) read as percentages, lags and durations (…Ms) as durations. */
const SHARE = /(share|rate|ratio|jaccard|shares|fields)$/i;
const MILLISECONDS = /Ms$/;
/** Objects whose every value is a share (completeness per field). */
const SHARE_MAPS = /^(overall|fields)$/;

function scalar(v, key = '') {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (MILLISECONDS.test(key)) return duration(v);
    if (SHARE.test(key) && v >= 0 && v <= 1) return percent(v);
    return Number.isInteger(v) ? v.toLocaleString('en') : v.toLocaleString('en', { maximumFractionDigits: 3 });
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.map((x) => scalar(x, key)).join(', ') : '—';
  // an object in a table cell: its entries as words, each value formatted by the cell's column (a share per field)
  if (typeof v === 'object')
    return (
      Object.entries(v)
        .map(([k, x]) => `${k} ${scalar(x, x !== null && typeof x === 'object' ? k : key || k)}`)
        .join(', ') || '—'
    );
  return String(v);
}
