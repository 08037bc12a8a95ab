/** A small RFC 4180 CSV reader for the analyst commands and tests (quoted fields, doubled quotes, CRLF). */

export interface Table {
  header: string[];
  rows: string[][];
  /** The line of the file each row starts on (1 is the header), for errors that say where. */
  lines: number[];
}

/**
 * @example
 * const { header, rows } = parseCsv('id,spend\n1,"1,200"\n'); // rows: [['1', '1,200']]
 */
export function parseCsv(text: string): Table {
  const records: string[][] = [];
  const starts: number[] = [];
  let line = 1;
  let recordLine = 1;
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
      const chunk = text.slice(i, end);
      for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) line++;
      field += chunk;
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
      if (!(record.length === 1 && record[0] === '')) {
        records.push(record);
        starts.push(recordLine);
      }
      record = [];
      i += ch === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      line++;
      recordLine = line;
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
    starts.push(recordLine);
  }
  const [header = [], ...rows] = records;
  return { header: header.map((h) => h.trim()), rows, lines: starts.slice(1) };
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

/**
 * A cell that must hold a plain decimal number (`12`, `-3.5`, `1e3`): empty cells, `NaN`, `Infinity`, hexadecimal
 * (`0x10`), thousands separators and stray text are refused with a sentence; the caller says where.
 *
 * @example
 * numberCell('12.50'); // 12.5
 */
export function numberCell(text: string | undefined): number {
  const t = (text ?? '').trim();
  if (t === '') throw new Error('the cell is empty');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw new Error(`"${t}" is not a decimal number`);
  const v = Number(t);
  if (!Number.isFinite(v)) throw new Error(`"${t}" is too large`);
  return v;
}

/** `file:line, column "name"`: where a cell is, for error messages. */
export function cellAt(file: string, table: Table, row: number, column: string): string {
  return `${file}:${table.lines[row] ?? row + 2}, column "${column}"`;
}
