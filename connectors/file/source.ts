/**
 * The file source: contacts and events from CSV or JSONL files. It is the smallest complete connector, so it is the
 * one to read first when writing your own. What a source does, in order:
 *
 * 1. `spec` — a zod schema of its config (./spec.ts). segflow validates the YAML against it; a connector with
 *    credentials marks them with `secret()` so they never reach a log. Files have none.
 * 2. `check(config)` — proves the config works before any sync: here, that each file is readable and its header has
 *    every column the config names. It answers `{ ok: false, reason }` with a sentence the user can act on.
 * 3. `streams(config)` — one stream per kind of record. Each declares facts the engine relies on: its primary key and
 *    cursor field (paths in the canonical record), its modes, and its `overlap` (how far behind the checkpoint an
 *    incremental read starts again; 0 here, because a file's cursor is exact).
 * 4. `read` — an async generator yielding canonical records (plugins/model) in ascending cursor order, and a
 *    checkpoint `{ type: 'state', state: { cursor } }` after each page. The engine stores each page together with
 *    its checkpoint, so a crash resumes from the last committed page.
 *
 * Incremental reads re-read records whose cursor equals the checkpoint's (`cursor >= state.cursor`): a row added later
 * with the same timestamp is not missed, and the duplicates this brings are absorbed by idempotent loads.
 * Rows are sorted by cursor, ties broken by id; a file that repeats an id keeps its latest row. A bad row (no id, a
 * cursor that is not an ISO-8601 timestamp, an unknown event type) stops the read with an error naming file and line.
 *
 * @example
 * // segflow.yaml
 * // sources:
 * //   shop:
 * //     connector: file
 * //     config:
 * //       source: shopify
 * //       contacts: { path: exports/customers.csv, columns: { Email: email, 'Updated At': updated_at }, cursorColumn: Updated At }
 * //       events: { path: exports/orders.jsonl, emailColumn: email, valueColumn: total, types: { order: purchase } }
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import {
  CONTACT_TRAITS,
  ConfigError,
  defineSource,
  EMAIL_CONSENT,
  EVENT_TYPES,
  normaliseEmail,
  type AccountRecord,
  type ContactRecord,
  type EventRecord,
  type EventType,
  type StreamDefinition,
  type StreamRecord,
  type StreamState,
} from '../../plugins/index.js';
import { readRows, type FileRow } from './rows.js';
import { spec, type AccountsFile, type ContactsFile, type EventsFile, type FileConfig } from './spec.js';
import { parseTimestamp } from './timestamp.js';

/** A record with its cursor in epoch ms and its id, for sorting and resuming. */
interface Keyed {
  record: StreamRecord;
  id: string;
  at: number;
}

/**
 * The `file` source connector.
 *
 * @example
 * const ctx = createContext({ connection: 'shop' });
 * for await (const message of source.streams(config)[0].read({ config, mode: 'full_refresh', state: undefined }, ctx)) { … }
 */
export const source = defineSource({
  name: 'file',
  spec,

  async check(config) {
    for (const [path, format, needed] of filesOf(config)) {
      try {
        await access(path, constants.R_OK);
      } catch (error) {
        const missing = (error as { code?: string }).code === 'ENOENT';
        return { ok: false, reason: missing ? `${path} does not exist` : `${path} is not readable` };
      }
      let columns: string[];
      try {
        columns = (await readRows(path, format, true)).columns;
      } catch (error) {
        return { ok: false, reason: (error as Error).message };
      }
      const absent = needed.filter((column) => !columns.includes(column));
      if (absent.length > 0) {
        const names = absent.map((c) => `"${c}"`).join(', ');
        return { ok: false, reason: `${path} has no column ${names} (its columns: ${columns.join(', ') || 'none'})` };
      }
    }
    return { ok: true };
  },

  streams(config) {
    const streams: StreamDefinition<FileConfig>[] = [];
    if (config.contacts) {
      const file = config.contacts;
      streams.push(
        fileStream('contacts', 'contact', 'externalId', `traits.${traitName(file, file.cursorColumn)}`, (rows, cfg) =>
          rows.map((row) => contactOf(row, file, cfg.source)),
        ),
      );
    }
    if (config.events) {
      const file = config.events;
      streams.push(
        fileStream('events', 'event', 'sourceEventId', 'occurredAt', (rows, cfg) =>
          rows.map((row) => eventOf(row, file, cfg.source)),
        ),
      );
    }
    if (config.accounts) {
      const file = config.accounts;
      streams.push(
        fileStream('accounts', 'account', 'externalId', `traits.${traitName(file, file.cursorColumn)}`, (rows, cfg) =>
          rows.map((row) => accountOf(row, file, cfg.source)),
        ),
      );
    }
    return streams;
  },
});

/** One stream over one file: read it whole, sort by cursor then id, skip what the checkpoint covers, page. */
function fileStream(
  name: 'contacts' | 'events' | 'accounts',
  recordKind: 'contact' | 'event' | 'account',
  primaryKey: string,
  cursorField: string,
  toRecords: (rows: FileRow[], config: FileConfig) => Keyed[],
): StreamDefinition<FileConfig> {
  return {
    name,
    recordKind,
    primaryKey,
    cursorField,
    modes: ['full_refresh', 'incremental'],
    overlap: 0,
    async *read({ config, mode, state }, ctx) {
      const file = config[name] as ContactsFile | EventsFile | AccountsFile;
      const records = latestPerId(toRecords((await readRows(file.path, file.format)).rows, config));
      records.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const from = mode === 'incremental' ? checkpointMs(state, file.path) : undefined;
      const pending = from === undefined ? records : records.filter((r) => r.at >= from);
      if (pending.length === 0) {
        yield { type: 'state', state: mode === 'incremental' && state ? state : { cursor: null } };
        return;
      }
      for (let start = 0; start < pending.length; start += config.pageSize) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const page = pending.slice(start, start + config.pageSize);
        for (const { record } of page) yield { type: 'record', record };
        yield { type: 'state', state: { cursor: new Date((page.at(-1) as Keyed).at).toISOString() } };
      }
    },
  };
}

/** A file's columns that the config names, which `check` requires in its header. */
function filesOf(config: FileConfig): [string, 'csv' | 'jsonl' | undefined, string[]][] {
  const files: [string, 'csv' | 'jsonl' | undefined, string[]][] = [];
  const { contacts, events, accounts } = config;
  if (accounts)
    files.push([
      accounts.path,
      accounts.format,
      [
        accounts.idColumn,
        accounts.cursorColumn,
        ...Object.keys(accounts.columns),
        ...(accounts.membersColumn ? [accounts.membersColumn] : []),
      ],
    ]);
  if (contacts)
    files.push([
      contacts.path,
      contacts.format,
      [contacts.idColumn, contacts.cursorColumn, ...Object.keys(contacts.columns)],
    ]);
  if (events) {
    const optional = [events.emailColumn, events.contactIdColumn, events.valueColumn].filter(
      (c): c is string => c !== undefined,
    );
    files.push([events.path, events.format, [events.idColumn, events.cursorColumn, events.typeColumn, ...optional]]);
  }
  return files;
}

const CANONICAL_TRAITS = new Set<string>(CONTACT_TRAITS);

function traitName(file: ContactsFile | AccountsFile, column: string): string {
  return file.columns[column] ?? column;
}

function contactOf(row: FileRow, file: ContactsFile, source: string): Keyed {
  const id = required(row, file.idColumn, file.path);
  const at = timestampOf(row, file.cursorColumn, file.path);
  const traits: ContactRecord['traits'] = {};
  for (const [column, value] of Object.entries(row.values)) {
    if (column === file.idColumn || value === '' || value === undefined) continue;
    const trait = traitName(file, column);
    if (column === file.cursorColumn) traits[trait] = new Date(at).toISOString();
    else if (trait === 'email_consent') traits.email_consent = consentOf(value, row, column, file.path);
    else if (CANONICAL_TRAITS.has(trait)) traits[trait] = value === null ? null : String(value);
    else
      traits[trait] =
        value === null || ['string', 'number', 'boolean'].includes(typeof value)
          ? (value as string)
          : JSON.stringify(value);
  }
  return { id, at, record: { kind: 'contact', source, externalId: id, traits, raw: row.values } };
}

const NUMERIC_ACCOUNT_TRAITS = new Set(['employees', 'annual_revenue']);

function accountOf(row: FileRow, file: AccountsFile, source: string): Keyed {
  const id = required(row, file.idColumn, file.path);
  const at = timestampOf(row, file.cursorColumn, file.path);
  const traits: AccountRecord['traits'] = {};
  for (const [column, value] of Object.entries(row.values)) {
    if (column === file.idColumn || column === file.membersColumn || value === '' || value === undefined) continue;
    const trait = traitName(file, column);
    if (column === file.cursorColumn) traits[trait] = new Date(at).toISOString();
    else if (NUMERIC_ACCOUNT_TRAITS.has(trait)) traits[trait] = numberOf(row, column, file.path);
    else if (trait === 'domains')
      traits.domains = text(value)
        .split(';')
        .map((d) => d.trim())
        .filter(Boolean);
    else
      traits[trait] =
        value === null || ['string', 'number', 'boolean'].includes(typeof value)
          ? (value as string)
          : JSON.stringify(value);
  }
  const members =
    file.membersColumn === undefined
      ? undefined
      : text(row.values[file.membersColumn])
          .split(';')
          .map((m) => m.trim())
          .filter(Boolean);
  return {
    id,
    at,
    record: {
      kind: 'account',
      source,
      externalId: id,
      traits,
      ...(members === undefined ? {} : { members }),
      raw: row.values,
    },
  };
}

function eventOf(row: FileRow, file: EventsFile, source: string): Keyed {
  const id = required(row, file.idColumn, file.path);
  const at = timestampOf(row, file.cursorColumn, file.path);
  const email = file.emailColumn === undefined ? null : normaliseEmail(text(row.values[file.emailColumn]));
  const contactId = file.contactIdColumn === undefined ? '' : text(row.values[file.contactIdColumn]);
  if (email === null && contactId === '') {
    const columns = [file.emailColumn, file.contactIdColumn].filter(Boolean).join(' or ');
    throw new ConfigError(`${file.path} line ${row.line}: no valid ${columns}, so the event belongs to no one`);
  }
  const taken = new Set([
    file.idColumn,
    file.cursorColumn,
    file.typeColumn,
    file.emailColumn,
    file.contactIdColumn,
    file.valueColumn,
    file.textColumn,
  ]);
  const properties = Object.fromEntries(
    Object.entries(row.values).filter(([column, value]) => !taken.has(column) && value !== '' && value !== undefined),
  );
  const written = file.textColumn === undefined ? '' : text(row.values[file.textColumn]);
  if (written !== '') properties.text = written;
  const record: EventRecord = {
    kind: 'event',
    source,
    sourceEventId: id,
    type: typeOf(row, file),
    occurredAt: new Date(at).toISOString(),
    contact: { email, externalId: contactId === '' ? null : contactId },
    value: file.valueColumn === undefined ? null : numberOf(row, file.valueColumn, file.path),
    properties,
  };
  return { id, at, record };
}

function typeOf(row: FileRow, file: EventsFile): EventType {
  const raw = text(row.values[file.typeColumn]);
  const type = file.types[raw] ?? raw;
  if ((EVENT_TYPES as readonly string[]).includes(type)) return type as EventType;
  throw new ConfigError(`${file.path} line ${row.line}: unknown event type "${raw}" in column "${file.typeColumn}"`, {
    fix: `use one of ${EVENT_TYPES.join(', ')}, or map it under events.types (e.g. { "${raw}": "custom" })`,
  });
}

function consentOf(
  value: unknown,
  row: FileRow,
  column: string,
  path: string,
): ContactRecord['traits']['email_consent'] {
  const consent = text(value).toLowerCase();
  if ((EMAIL_CONSENT as readonly string[]).includes(consent)) return consent as (typeof EMAIL_CONSENT)[number];
  throw new ConfigError(
    `${path} line ${row.line}: ${column} "${text(value)}" is not one of ${EMAIL_CONSENT.join(', ')}`,
  );
}

function required(row: FileRow, column: string, path: string): string {
  const value = text(row.values[column]);
  if (value === '') throw new ConfigError(`${path} line ${row.line}: no value in id column "${column}"`);
  return value;
}

function timestampOf(row: FileRow, column: string, path: string): number {
  const ms = parseTimestamp(row.values[column]);
  if (ms === undefined) {
    throw new ConfigError(
      `${path} line ${row.line}: ${column} ${JSON.stringify(row.values[column] ?? null)} is not an ISO-8601 date or date-time`,
      {
        fix: 'write timestamps like 2024-03-01T09:30:00Z (a value without a zone is read as UTC)',
      },
    );
  }
  return ms;
}

function numberOf(row: FileRow, column: string, path: string): number | null {
  const value = row.values[column];
  if (value === '' || value === null || value === undefined) return null;
  const number = typeof value === 'number' ? value : Number(text(value));
  if (!Number.isFinite(number))
    throw new ConfigError(`${path} line ${row.line}: ${column} "${text(value)}" is not a number`);
  return number;
}

/** Where an incremental read resumes: the checkpoint's cursor, or undefined to read everything. */
function checkpointMs(state: StreamState | undefined, path: string): number | undefined {
  const cursor = state?.cursor;
  if (cursor === undefined || cursor === null) return undefined;
  const ms = typeof cursor === 'number' ? cursor : parseTimestamp(cursor);
  if (ms === undefined)
    throw new ConfigError(`the checkpoint for ${path} has cursor ${JSON.stringify(cursor)}, which is not a timestamp`, {
      fix: 'reset the stream to read it in full',
    });
  return ms;
}

/** Keeps the latest row of each id (the highest cursor; the later line on a tie). */
function latestPerId(records: Keyed[]): Keyed[] {
  const byId = new Map<string, Keyed>();
  for (const keyed of records) {
    const seen = byId.get(keyed.id);
    if (!seen || keyed.at >= seen.at) byId.set(keyed.id, keyed);
  }
  return [...byId.values()];
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value).trim();
}
