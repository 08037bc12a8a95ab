import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { source } from '../../connectors/file/index.js';
import {
  createContext,
  type ContactRecord,
  type EventRecord,
  type StreamMessage,
  type StreamState,
  type SyncMode,
} from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

const dir = tempDir('segflow-file-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function write(name: string, text: string): string {
  const path = join(dir, `${files++}-${name}`);
  writeFileSync(path, text);
  return path;
}

type Input = z.input<typeof source.spec>;
const ctx = createContext({ connection: 'test', logger: { debug() {}, info() {}, warn() {}, error() {} } });

async function read(
  input: Input,
  stream: 'contacts' | 'events',
  mode: SyncMode = 'full_refresh',
  state?: StreamState,
): Promise<StreamMessage[]> {
  const config = source.spec.parse(input);
  const definition = source.streams(config).find((s) => s.name === stream);
  if (!definition) throw new Error(`no ${stream} stream`);
  const messages: StreamMessage[] = [];
  for await (const message of definition.read({ config, mode, state }, ctx)) messages.push(message);
  return messages;
}

const ids = (messages: StreamMessage[]) =>
  messages.map((m) =>
    m.type === 'state'
      ? `state ${m.state.cursor}`
      : m.record.kind === 'event'
        ? m.record.sourceEventId
        : m.record.externalId,
  );

const header = 'id,email,updated_at\n';

describe('file source: reading', () => {
  it('yields contacts in cursor order, ties by id, with a checkpoint after each page', async () => {
    const path = write(
      'contacts.csv',
      `${header}c3,c@x.io,2024-01-02T00:00:00Z\nc1,a@x.io,2024-01-02T00:00:00Z\nc2,b@x.io,2024-01-01T00:00:00Z\nc4,d@x.io,2024-01-03\n`,
    );
    expect(ids(await read({ contacts: { path }, pageSize: 2 }, 'contacts'))).toEqual([
      'c2',
      'c1',
      'state 2024-01-02T00:00:00.000Z',
      'c3',
      'c4',
      'state 2024-01-03T00:00:00.000Z',
    ]);
  });

  it('an incremental read resumes at the checkpoint, re-reading rows with the same cursor and picking up new ones', async () => {
    const path = write('contacts.csv', `${header}c1,a@x.io,2024-01-01T00:00:00Z\nc2,b@x.io,2024-01-02T00:00:00Z\n`);
    const first = await read({ contacts: { path } }, 'contacts', 'incremental');
    const checkpoint = first.at(-1);
    expect(checkpoint).toEqual({ type: 'state', state: { cursor: '2024-01-02T00:00:00.000Z' } });
    appendFileSync(
      path,
      'c0,z@x.io,2024-01-02T00:00:00Z\nc3,c@x.io,2024-01-05T00:00:00Z\nc9,old@x.io,2023-12-31T00:00:00Z\n',
    );
    const next = await read(
      { contacts: { path } },
      'contacts',
      'incremental',
      checkpoint?.type === 'state' ? checkpoint.state : undefined,
    );
    expect(ids(next)).toEqual(['c0', 'c2', 'c3', 'state 2024-01-05T00:00:00.000Z']);
  });

  it('an incremental read with nothing new hands back its checkpoint', async () => {
    const path = write('contacts.csv', `${header}c1,a@x.io,2024-01-01T00:00:00Z\n`);
    const state = { cursor: '2024-06-01T00:00:00.000Z' };
    expect(await read({ contacts: { path } }, 'contacts', 'incremental', state)).toEqual([{ type: 'state', state }]);
  });

  it('maps renamed columns to canonical traits, reads zones as times, and keeps the raw row', async () => {
    const path = write('crm.csv', 'Id,E-mail,Modified,Plan\r\n7,ada@x.io,2024-01-02 12:00+02:00,pro\r\n');
    const [message] = await read(
      {
        contacts: {
          path,
          idColumn: 'Id',
          cursorColumn: 'Modified',
          columns: { 'E-mail': 'email', Modified: 'updated_at' },
        },
        source: 'crm',
      },
      'contacts',
    );
    expect(message).toEqual({
      type: 'record',
      record: {
        kind: 'contact',
        source: 'crm',
        externalId: '7',
        traits: { email: 'ada@x.io', updated_at: '2024-01-02T10:00:00.000Z', Plan: 'pro' },
        raw: { Id: '7', 'E-mail': 'ada@x.io', Modified: '2024-01-02 12:00+02:00', Plan: 'pro' },
      },
    });
  });

  it('keeps the latest row of a contact that appears twice', async () => {
    const path = write('contacts.csv', `${header}c1,old@x.io,2024-01-03T00:00:00Z\nc1,new@x.io,2024-01-04T00:00:00Z\n`);
    const records = (await read({ contacts: { path } }, 'contacts')).flatMap((m) =>
      m.type === 'record' ? [m.record as ContactRecord] : [],
    );
    expect(records.map((r) => r.traits.email)).toEqual(['new@x.io']);
  });

  it('reads JSONL events: mapped types, numeric values from text, other fields as properties, emails normalised', async () => {
    const path = write(
      'orders.jsonl',
      '{"id":"o1","customer":" Ada@X.io ","at":"2024-02-01T10:00:00Z","kind":"order","total":"12.50","currency":"EUR"}\n',
    );
    const [message] = await read(
      {
        events: {
          path,
          emailColumn: 'customer',
          cursorColumn: 'at',
          typeColumn: 'kind',
          valueColumn: 'total',
          types: { order: 'purchase' },
        },
      },
      'events',
    );
    expect((message as { record: EventRecord }).record).toEqual({
      kind: 'event',
      source: 'file',
      sourceEventId: 'o1',
      type: 'purchase',
      occurredAt: '2024-02-01T10:00:00.000Z',
      contact: { email: 'ada@x.io', externalId: null },
      value: 12.5,
      properties: { currency: 'EUR' },
    });
  });

  it('reads a text column as the event text: tickets and survey comments from a CSV export', async () => {
    const path = write(
      'tickets.csv',
      'id,email,occurred_at,type,Description,score,kind\n' +
        't1,ann@example.com,2024-03-01T09:00:00Z,ticket,"I was charged twice, please refund.",,\n' +
        's1,ann@example.com,2024-03-02T09:00:00Z,survey,Too slow,3,nps\n',
    );
    const messages = await read(
      {
        events: {
          path,
          emailColumn: 'email',
          textColumn: 'Description',
          types: { ticket: 'support_ticket', survey: 'survey_response' },
        },
      },
      'events',
    );
    const records = messages.flatMap((m) => (m.type === 'record' ? [m.record as EventRecord] : []));
    expect(records.map((r) => [r.type, r.properties])).toEqual([
      ['support_ticket', { text: 'I was charged twice, please refund.' }],
      ['survey_response', { text: 'Too slow', score: '3', kind: 'nps' }],
    ]);
  });
});

describe('file source: bad rows name the file and line', () => {
  it('a timestamp that is not one', async () => {
    // The quoted line break makes the bad row's line number differ from its record number.
    const path = write('contacts.csv', `id,notes,updated_at\nc1,"two\nlines",2024-01-01\nc2,,yesterday\n`);
    await expect(read({ contacts: { path } }, 'contacts')).rejects.toThrow(
      `${path} line 4: updated_at "yesterday" is not an ISO-8601 date or date-time`,
    );
  });

  it('an impossible date', async () => {
    const path = write('contacts.csv', `${header}c1,a@x.io,2024-02-30\n`);
    await expect(read({ contacts: { path } }, 'contacts')).rejects.toThrow(`${path} line 2: updated_at "2024-02-30"`);
  });

  it('an unknown event type, with how to map it', async () => {
    const path = write(
      'events.csv',
      'id,email,occurred_at,type\ne1,a@x.io,2024-01-01,purchase\ne2,a@x.io,2024-01-02,refund\n',
    );
    const failure = read({ events: { path, emailColumn: 'email' } }, 'events');
    await expect(failure).rejects.toThrow(`${path} line 3: unknown event type "refund" in column "type"`);
    await expect(failure).rejects.toMatchObject({ code: 'config', fix: expect.stringContaining('events.types') });
  });

  it('a row with more fields than the header', async () => {
    const path = write('contacts.csv', `${header}c1,a@x.io,2024-01-01,extra\n`);
    await expect(read({ contacts: { path } }, 'contacts')).rejects.toThrow(
      `${path} line 2: 4 fields, but the header has 3`,
    );
  });
});

describe('file source: check', () => {
  const check = (input: Input) => source.check(source.spec.parse(input), ctx);

  it('passes when the files exist and have the named columns', async () => {
    const path = write('contacts.csv', header);
    expect(await check({ contacts: { path } })).toEqual({ ok: true });
  });

  it('names a missing file', async () => {
    const path = join(dir, 'nowhere.csv');
    expect(await check({ contacts: { path } })).toEqual({ ok: false, reason: `${path} does not exist` });
  });

  it('names the column the header lacks', async () => {
    const path = write('events.csv', 'id,mail,occurred_at,type\n');
    expect(await check({ events: { path, emailColumn: 'email' } })).toEqual({
      ok: false,
      reason: `${path} has no column "email" (its columns: id, mail, occurred_at, type)`,
    });
  });

  it('the spec refuses events that say nothing about whose they are', () => {
    expect(() => source.spec.parse({ events: { path: 'e.csv' } })).toThrow(/emailColumn or contactIdColumn/);
  });
});
