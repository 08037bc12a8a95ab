/** A small RFC 4180 CSV reader for the analyst commands and tests (quoted fields, doubled quotes, CRLF). */

export interface Table {
  header: string[];
  rows: string[][];
}

/**
 * @example
 * const { header, rows } = parseCsv('id,spend\n1,"1,200"\n'); // rows: [['1', '1,200']]
 */
export function parseCsv(text: string): Table {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;
  let quoted = false;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (quoted) {
      if (ch === 34) {
        if (text.charCodeAt(i + 1) === 34) {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      const next = text.indexOf('"', i);
      const end = next === -1 ? n : next;
      field += text.slice(i, end);
      i = end;
      continue;
    }
    if (ch === 34 && field === '') {
      quoted = true;
      i++;
    } else if (ch === 44) {
      record.push(field);
      field = '';
      i++;
    } else if (ch === 10 || ch === 13) {
      record.push(field);
      field = '';
      if (!(record.length === 1 && record[0] === '')) records.push(record);
      record = [];
      i += ch === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
    } else {
      let end = i;
      while (end < n) {
        const c = text.charCodeAt(end);
        if (c === 44 || c === 10 || c === 13) break;
        end++;
      }
      field += text.slice(i, end);
      i = end;
    }
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const [header = [], ...rows] = records;
  return { header: header.map((h) => h.trim()), rows };
}

/** The index of a named column, or an error that lists the columns there are. */
export function columnIndex(table: Table, name: string): number {
  const i = table.header.indexOf(name);
  if (i === -1) throw new Error(`no column "${name}"; the columns are: ${table.header.join(', ')}`);
  return i;
}

/** Writes rows as CSV, quoting where needed. */
export function formatCsv(header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number): string => {
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
