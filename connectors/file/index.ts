/**
 * The `file` connector: a source reading contacts and events from CSV or JSONL files, incremental by a timestamp
 * column. Start with ./source.ts — it is written as the example to copy when building a connector.
 */
export { source } from './source.js';
export { spec, type FileConfig } from './spec.js';
export { parseCsv, CsvSyntaxError, type CsvRecord } from './csv.js';
