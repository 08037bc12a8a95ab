/**
 * Reads a CSV or JSONL file into rows keyed by column name, each with the line it came from.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ConfigError } from '../../plugins/index.js';
import { CsvSyntaxError, parseCsv } from './csv.js';

export type FileFormat = 'csv' | 'jsonl';

export interface FileRow {
  line: number;
  values: Record<string, unknown>;
}

export interface FileRows {
  /** The CSV header, or the keys of the first JSONL object. */
  columns: string[];
  rows: FileRow[];
}

/** The format named in config, or the one the extension says (.csv, .jsonl, .ndjson). */
export function formatOf(path: string, format: FileFormat | undefined): FileFormat {
  if (format) return format;
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new ConfigError(`cannot tell the format of ${path} from its extension`, {
    fix: "set format: 'csv' or 'jsonl'",
  });
}

/** Reads every row (or, with `headerOnly`, just the columns). Malformed content is a ConfigError naming file and line. */
export async function readRows(path: string, format: FileFormat | undefined, headerOnly = false): Promise<FileRows> {
  const text = await readFile(path, 'utf8');
  try {
    return formatOf(path, format) === 'csv' ? csvRows(text, path, headerOnly) : jsonlRows(text, path, headerOnly);
  } catch (error) {
    if (error instanceof CsvSyntaxError)
      throw new ConfigError(error.message, { cause: error, fix: 'fix the file, or export it again as standard CSV' });
    throw error;
  }
}

function csvRows(text: string, path: string, headerOnly: boolean): FileRows {
  const records = parseCsv(text, path);
  const header = records.next();
  if (header.done) return { columns: [], rows: [] };
  const columns = header.value.fields.map((name) => name.trim());
  const twice = columns.find((name, index) => columns.indexOf(name) !== index);
  if (twice !== undefined) throw new ConfigError(`${path} line 1: the header names column "${twice}" twice`);
  if (headerOnly) return { columns, rows: [] };
  const rows: FileRow[] = [];
  for (const { line, fields } of records) {
    if (fields.length !== columns.length) {
      throw new ConfigError(`${path} line ${line}: ${fields.length} fields, but the header has ${columns.length}`, {
        fix: 'quote fields that contain commas or line breaks',
      });
    }
    rows.push({ line, values: Object.fromEntries(columns.map((name, index) => [name, fields[index]])) });
  }
  return { columns, rows };
}

function jsonlRows(text: string, path: string, headerOnly: boolean): FileRows {
  const rows: FileRow[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const source = (lines[index] as string).trim();
    if (source === '') continue;
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw new ConfigError(`${path} line ${line}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new ConfigError(`${path} line ${line}: expected a JSON object per line`);
    rows.push({ line, values: value as Record<string, unknown> });
    if (headerOnly) break;
  }
  return { columns: Object.keys(rows[0]?.values ?? {}), rows: headerOnly ? [] : rows };
}
