/**
 * A small RFC 4180 CSV reader: quoted fields, `""` escapes, commas and newlines inside quotes, LF or CRLF line ends,
 * a leading byte-order mark, blank lines skipped. Each record carries the line it starts on, for error messages.
 */

export interface CsvRecord {
  /** 1-based line where the record starts (the header is line 1). */
  line: number;
  fields: string[];
}

/** A malformed CSV file, naming the file and line. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${file} line ${line}: ${problem}`);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * Yields the records of a CSV text, one array of fields each, lazily (so reading a header costs one record).
 *
 * @example
 * [...parseCsv('id,name\r\n1,"Lovelace, Ada"\n')] // [{ line: 1, fields: ['id', 'name'] }, { line: 2, fields: ['1', 'Lovelace, Ada'] }]
 */
export function* parseCsv(text: string, file = 'CSV'): Generator<CsvRecord> {
  const end = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < end) {
    const c = text[i];
    if (c === '\n' || c === '\r') {
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    for (;;) {
      if (text[i] === '"') {
        let value = '';
        i++;
        for (;;) {
          const quote = text.indexOf('"', i);
          if (quote < 0) throw new CsvSyntaxError(file, start, 'a quoted field is never closed');
          const chunk = text.slice(i, quote);
          line += countNewlines(chunk);
          value += chunk;
          if (text[quote + 1] === '"') {
            value += '"';
            i = quote + 2;
            continue;
          }
          i = quote + 1;
          break;
        }
        if (i < end && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new CsvSyntaxError(
            file,
            line,
            `unexpected ${JSON.stringify(text[i])} after a closing quote (quotes inside a field are written "")`,
          );
        }
        fields.push(value);
      } else {
        const from = i;
        while (i < end && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') i++;
        fields.push(text.slice(from, i));
      }
      if (i >= end) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      break;
    }
    yield { line: start, fields };
  }
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
