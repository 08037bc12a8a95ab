// Audit: the data audit and fairness report from GET /audit, one section per part of the report, findings first.
import { el, fill, load, api } from './console.js';

load(async () => {
  const report = await api('/audit');
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
    if (name === 'findings' || part === null || typeof part !== 'object') continue;
    const id = `audit-${name.replace(/[^a-z0-9_-]/gi, '')}`;
    sections.push(el('section', { 'aria-labelledby': id }, el('h2', { id }, title(name)), render(part, 0)));
  }
  fill('audit-report', sections);
});

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
function render(value, depth) {
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
                columns.map((c) => el('td', {}, scalar(row[c]))),
              ),
            ),
          ),
        ),
      );
    }
    return el('p', {}, value.map(scalar).join(', '));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return el('p', { class: 'empty' }, 'None.');
    return el(
      'dl',
      { class: depth === 0 ? 'audit' : 'audit nested' },
      entries.flatMap(([k, v]) => [
        el('dt', {}, title(k)),
        el('dd', {}, v !== null && typeof v === 'object' ? render(v, depth + 1) : scalar(v)),
      ]),
    );
  }
  return el('p', {}, scalar(value));
}

function scalar(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number')
    return Number.isInteger(v) ? v.toLocaleString('en') : v.toLocaleString('en', { maximumFractionDigits: 3 });
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
