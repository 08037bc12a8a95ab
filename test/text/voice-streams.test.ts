// The voice-of-the-customer streams read what the sandboxes render from the world's voice — HubSpot tickets and
// feedback submissions, Salesforce Cases and their comments — and a read stopped at any checkpoint (a killed run loses
// the page after it) resumes from that checkpoint to the same set of events.
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  createContext,
  type EventRecord,
  type SourceDefinition,
  type StreamRecord,
  type StreamState,
} from '../../plugins/index.js';
import { createWorld, worldVoice } from '../../plugins/sandbox/index.js';
import * as hubspot from '../../connectors/hubspot/index.js';
import * as salesforce from '../../connectors/salesforce/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const fast = { requestsPerInterval: 100_000, searchPerSecond: 100_000, daily: 10_000_000 };

interface Read {
  events: EventRecord[];
  states: StreamState[];
}

/**
 * Reads one stream incrementally from `state`; with `stopAt`, the read ends at that checkpoint and drops the records
 * after it, as a run killed before committing its next page would.
 */
async function read(
  connector: SourceDefinition,
  raw: Record<string, unknown>,
  name: string,
  state: StreamState | undefined,
  stopAt?: number,
): Promise<Read> {
  const config: unknown = connector.spec.parse(raw);
  const ctx = createContext({
    connection: 'voice-test',
    budget: { requests: 100_000, intervalMs: 10_000 },
    ...(connector.classifyError ? { classifyError: connector.classifyError } : {}),
    logger: quiet,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  const stream = connector.streams(config).find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name}`);
  const events: EventRecord[] = [];
  let pending: StreamRecord[] = [];
  const states: StreamState[] = [];
  for await (const message of stream.read({ config, mode: 'incremental', state }, ctx)) {
    if (message.type === 'record') {
      pending.push(message.record);
      continue;
    }
    events.push(...(pending as EventRecord[]));
    pending = [];
    states.push(message.state);
    if (stopAt !== undefined && states.length === stopAt) return { events, states };
  }
  return { events: [...events, ...(pending as EventRecord[])], states };
}

const keys = (events: EventRecord[]) => [...new Set(events.map((e) => e.sourceEventId))].sort();

/** Stops a read at each of `points` in turn, resumes from there, and expects the union to be the whole read. */
async function expectResumable(
  connector: SourceDefinition,
  config: Record<string, unknown>,
  name: string,
  from: StreamState | undefined,
  points: number[],
): Promise<number> {
  const whole = await read(connector, config, name, from);
  expect(whole.events.length).toBeGreaterThan(0);
  for (const point of points) {
    const killed = await read(connector, config, name, from, point);
    expect(killed.states).toHaveLength(point);
    const resumed = await read(connector, config, name, killed.states.at(-1));
    expect(keys([...killed.events, ...resumed.events]), `${name} stopped at checkpoint ${point}`).toEqual(
      keys(whole.events),
    );
  }
  return whole.states.length;
}

describe('HubSpot tickets and feedback submissions', () => {
  const people = 1_500;
  const seed = 'voice-streams';
  const start = async () => {
    const sandbox = await hubspot.startSandbox({ seed, people, limits: fast });
    onTestFinished(() => sandbox.close());
    return { sandbox, config: { ...hubspot.sandboxConfig(sandbox), searchPerSecond: 100_000 } };
  };
  const world = createWorld({ seed, people });
  const voice = worldVoice(world);
  const livePeople = [...world.toolIndex('hubspot')].filter((i) => !world.person(i).tools.hubspot?.archived);
  const iso = (ms: number) => new Date(Math.round(ms)).toISOString();

  it("reads every live contact's tickets with the world's words, status and contact", { timeout: 60_000 }, async () => {
    const { config } = await start();
    const { events } = await read(hubspot.source as unknown as SourceDefinition, config, 'tickets', undefined);
    const expected = livePeople.flatMap((i) =>
      voice
        .tickets(i)
        .map((t) => `${world.person(i).tools.hubspot?.id}|${iso(t.createdAt)}|${t.status}|${t.messages[0]?.text}`),
    );
    expect(expected.length).toBeGreaterThan(500);
    expect(events.every((e) => e.type === 'support_ticket')).toBe(true);
    expect(
      events.map((e) => `${e.contact.externalId}|${e.occurredAt}|${e.properties?.status}|${e.properties?.text}`).sort(),
    ).toEqual(expected.sort());
  });

  it("reads every live contact's NPS and CSAT answers with their comments", { timeout: 60_000 }, async () => {
    const { config } = await start();
    const { events } = await read(
      hubspot.source as unknown as SourceDefinition,
      config,
      'feedback_submissions',
      undefined,
    );
    const expected = livePeople.flatMap((i) =>
      voice
        .surveys(i)
        .map((s) => `${world.person(i).tools.hubspot?.id}|${iso(s.at)}|${s.kind}|${s.score}|${s.comment ?? ''}`),
    );
    expect(expected.length).toBeGreaterThan(300);
    expect(
      events
        .map(
          (e) =>
            `${e.contact.externalId}|${e.occurredAt}|${e.properties?.kind}|${e.properties?.score}|${e.properties?.comment ?? ''}`,
        )
        .sort(),
    ).toEqual(expected.sort());
  });

  for (const name of ['tickets', 'feedback_submissions'])
    it(
      `resumes ${name} from any checkpoint, on the first read's list walk and on later searches`,
      {
        timeout: 120_000,
      },
      async () => {
        const { config } = await start();
        await expectResumable(hubspot.source as unknown as SourceDefinition, config, name, undefined, [1]);
        // From a cursor the read searches, 200 a page: stopped early, midway and late.
        const beginning = { cursor: '1970-01-01T00:00:00.000Z' };
        const checkpoints = await read(hubspot.source as unknown as SourceDefinition, config, name, beginning).then(
          (r) => r.states.length,
        );
        expect(checkpoints).toBeGreaterThan(3);
        await expectResumable(hubspot.source as unknown as SourceDefinition, config, name, beginning, [
          1,
          Math.floor(checkpoints / 2),
          checkpoints - 1,
        ]);
      },
    );
});

describe('Salesforce Cases and CaseComments', () => {
  const people = 3_000;
  const seed = 'voice-streams-sf';
  // Query pages of 200 (Salesforce's smallest batch) so a read has several checkpoints to stop at.
  const start = async () => {
    const sandbox = await salesforce.startSandbox({ seed, people, limits: { queryBatchSize: 200 } });
    onTestFinished(() => sandbox.close());
    return { sandbox, config: salesforce.sandboxConfig(sandbox) };
  };
  const world = createWorld({ seed, people });
  const voice = worldVoice(world);
  // Contacts whose support desk is Salesforce: in Salesforce as a live Contact, not in HubSpot.
  const desk = [...world.toolIndex('salesforce')].filter((i) => {
    const p = world.person(i);
    return !!p.tools.salesforce?.contactId && !p.tools.salesforce.deleted && !p.tools.hubspot;
  });
  const iso = (ms: number) => new Date(Math.round(ms)).toISOString();

  it("reads each Contact's Cases with the world's words and status", { timeout: 60_000 }, async () => {
    const { config } = await start();
    const { events } = await read(salesforce.source as unknown as SourceDefinition, config, 'cases', undefined);
    const expected = desk.flatMap((i) =>
      voice
        .tickets(i)
        .map(
          (t) =>
            `${world.person(i).tools.salesforce?.contactId}|${iso(t.createdAt)}|${t.status}|${t.messages[0]?.text}`,
        ),
    );
    expect(expected.length).toBeGreaterThan(100);
    expect(events.every((e) => e.type === 'support_ticket')).toBe(true);
    expect(
      events.map((e) => `${e.contact.externalId}|${e.occurredAt}|${e.properties?.status}|${e.properties?.text}`).sort(),
    ).toEqual(expected.sort());
  });

  it(
    'reads the comments as messages of the Case’s Contact, telling agents from customers',
    { timeout: 60_000 },
    async () => {
      const { config } = await start();
      const { events } = await read(
        salesforce.source as unknown as SourceDefinition,
        config,
        'case_comments',
        undefined,
      );
      const expected = desk.flatMap((i) =>
        voice
          .tickets(i)
          .flatMap((t) =>
            t.messages
              .slice(1)
              .map((m) => `${world.person(i).tools.salesforce?.contactId}|${iso(m.at)}|${m.author}|${m.text}`),
          ),
      );
      expect(expected.filter((e) => e.includes('|customer|')).length).toBeGreaterThan(20);
      expect(expected.filter((e) => e.includes('|agent|')).length).toBeGreaterThan(20);
      expect(
        events
          .map((e) => `${e.contact.externalId}|${e.occurredAt}|${e.properties?.author}|${e.properties?.text}`)
          .sort(),
      ).toEqual(expected.sort());
    },
  );

  for (const name of ['cases', 'case_comments'])
    it(`resumes ${name} from any checkpoint, including inside a run`, { timeout: 120_000 }, async () => {
      const { config } = await start();
      const whole = await read(salesforce.source as unknown as SourceDefinition, config, name, undefined);
      const n = whole.states.length;
      expect(n).toBeGreaterThan(2);
      await expectResumable(salesforce.source as unknown as SourceDefinition, config, name, undefined, [
        1,
        Math.max(1, Math.floor(n / 2)),
        Math.max(1, n - 1),
      ]);
    });
});
