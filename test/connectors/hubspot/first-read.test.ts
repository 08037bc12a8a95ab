// The first incremental read of a CRM stream (no cursor yet) walks the list endpoint instead of search (HubSpot
// holds search to about 4 requests a second), resumably, and hands the next run a cursor that misses nothing
// modified while it walked.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, storeDigest, writeCheckpoint } from '../../../core/index.js';
import {
  createContext,
  type EventRecord,
  type SourceDefinition,
  type StreamRecord,
  type StreamState,
} from '../../../plugins/index.js';
import { readSource } from '../../../sync/index.js';
import {
  classifyHubSpotError,
  hubspotSpec,
  sandboxConfig,
  source,
  type HubSpotSandbox,
} from '../../../connectors/hubspot/index.js';
import { quiet, fast, sandboxForTest } from './fixture.js';
import { tempDir } from '../../support/temp.js';

interface Read {
  records: StreamRecord[];
  states: StreamState[];
}

/**
 * Reads a stream incrementally as the engine would; `onState` sees each checkpoint and may stop the read there
 * (records after the last checkpoint taken are dropped, as a killed run would lose its uncommitted page).
 */
async function read(
  name: string,
  raw: Record<string, unknown>,
  state: StreamState | undefined,
  onState?: (state: StreamState, index: number) => 'stop' | void,
): Promise<Read> {
  const config = hubspotSpec.parse({ ...raw, searchPerSecond: 10_000 });
  const ctx = createContext({
    connection: 'test',
    budget: { requests: 100_000, intervalMs: 10_000 },
    classifyError: classifyHubSpotError,
    logger: quiet,
  });
  const stream = source.streams(config).find((s) => s.name === name);
  if (!stream) throw new Error(`no stream ${name}`);
  const committed: StreamRecord[] = [];
  let pending: StreamRecord[] = [];
  const states: StreamState[] = [];
  for await (const message of stream.read({ config, mode: 'incremental', state }, ctx)) {
    if (message.type === 'record') {
      pending.push(message.record);
      continue;
    }
    committed.push(...pending);
    pending = [];
    states.push(message.state);
    if (onState?.(message.state, states.length) === 'stop') return { records: committed, states };
  }
  return { records: [...committed, ...pending], states };
}

const calls = (box: HubSpotSandbox, type: string) => ({
  list: box.recorder.requests.filter((r) => r.method === 'GET' && r.path === `/crm/v3/objects/${type}`).length,
  search: box.recorder.requests.filter((r) => r.path === `/crm/v3/objects/${type}/search`).length,
});
const byKey = (records: StreamRecord[]) =>
  [...records].sort((a, b) =>
    a.kind === 'contact' && b.kind === 'contact'
      ? a.externalId.localeCompare(b.externalId)
      : (a as EventRecord).sourceEventId.localeCompare((b as EventRecord).sourceEventId),
  );
const keyOf = (record: StreamRecord) => (record.kind === 'event' ? record.sourceEventId : record.externalId);

describe('HubSpot first incremental read', () => {
  it(
    'walks contacts through the list endpoint with one search, reading what a search from the beginning reads',
    { timeout: 30_000 },
    async () => {
      const sandbox = await sandboxForTest({ seed: 'first-read', people: 1_500, limits: fast });
      const live = [...sandbox.portal.contacts.values()].filter((c) => !c.archived);
      const config = sandboxConfig(sandbox);

      const walk = await read('contacts', config, undefined);
      expect(calls(sandbox, 'contacts')).toEqual({ list: Math.ceil(live.length / 100), search: 1 });
      expect(walk.records.map(keyOf).sort()).toEqual(live.map((c) => c.id).sort());
      const newest = new Date(Math.max(...live.map((c) => c.updatedAt))).toISOString();
      expect(walk.states.at(-1)).toEqual({ cursor: newest });
      // Checkpoints during the walk (ids ascending, times in any order) claim no cursor.
      expect(walk.states.filter((s) => s.cursor !== undefined).every((s) => s.cursor === newest)).toBe(true);
      expect(walk.states.filter((s) => s.listAfter !== undefined)).toHaveLength(Math.ceil(live.length / 100) - 1);

      const bySearch = await read('contacts', config, { cursor: '1970-01-01T00:00:00.000Z' });
      expect(byKey(walk.records)).toEqual(byKey(bySearch.records));
    },
  );

  it(
    'hands the next run a cursor from before the walk: it searches from there and reads a contact modified behind the walk',
    { timeout: 30_000 },
    async () => {
      const sandbox = await sandboxForTest({ seed: 'first-read-moved', people: 1_500, limits: fast });
      const portal = sandbox.portal;
      const newestBefore = Math.max(
        ...[...portal.contacts.values()].filter((c) => !c.archived).map((c) => c.updatedAt),
      );
      const config = sandboxConfig(sandbox);
      let behind: string | undefined;
      let ahead: string | undefined;
      // One contact changes behind the walk's position, then one ahead of it, more than the overlap later: a cursor
      // taken from what the walk saw would start the next run past the first change.
      const touchedAt = Date.now();
      const laterAt = touchedAt + 10 * 60_000;
      const walk = await read('contacts', config, undefined, (state, index) => {
        if (index !== 2) return;
        const position = Number(state.listAfter);
        const open = [...portal.contacts.values()].filter((c) => !c.archived);
        behind = open.find((c) => Number(c.id) < position)?.id;
        ahead = open.findLast((c) => Number(c.id) > position)?.id;
        portal.touchContacts([behind as string], touchedAt);
        portal.touchContacts([ahead as string], laterAt);
      });
      expect(behind).toBeDefined();
      expect(ahead).toBeDefined();
      const seen = walk.records.find((r) => keyOf(r) === behind);
      expect(seen).toBeDefined();
      expect(seen?.kind === 'contact' ? seen.traits.updated_at : undefined).not.toBe(new Date(touchedAt).toISOString());
      expect(walk.states.at(-1)).toEqual({ cursor: new Date(newestBefore).toISOString() });

      const listedBefore = calls(sandbox, 'contacts').list;
      const next = await read('contacts', config, walk.states.at(-1));
      expect(calls(sandbox, 'contacts').list).toBe(listedBefore);
      expect(calls(sandbox, 'contacts').search).toBeGreaterThan(1);
      const moved = next.records.find((r) => keyOf(r) === behind);
      expect(moved?.kind === 'contact' ? moved.traits.updated_at : undefined).toBe(new Date(touchedAt).toISOString());
      expect(next.states.at(-1)?.cursor).toBe(new Date(laterAt).toISOString());
    },
  );

  it(
    'resumes a walk stopped after its third checkpoint there, reading every contact exactly once overall',
    { timeout: 30_000 },
    async () => {
      const sandbox = await sandboxForTest({ seed: 'first-read-resume', people: 1_500, limits: fast });
      const live = [...sandbox.portal.contacts.values()].filter((c) => !c.archived);
      const config = sandboxConfig(sandbox);
      const stopped = await read('contacts', config, undefined, (_state, index) => (index === 3 ? 'stop' : undefined));
      expect(stopped.records).toHaveLength(300);
      const resumed = await read('contacts', config, stopped.states.at(-1));
      expect(calls(sandbox, 'contacts')).toEqual({ list: 3 + Math.ceil((live.length - 300) / 100), search: 1 });
      const ids = [...stopped.records, ...resumed.records].map(keyOf);
      expect(ids).toHaveLength(live.length);
      expect(ids.sort()).toEqual(live.map((c) => c.id).sort());
      expect(resumed.states.at(-1)).toEqual({
        cursor: new Date(Math.max(...live.map((c) => c.updatedAt))).toISOString(),
      });
    },
  );

  it('drops contacts modified before startDate', { timeout: 30_000 }, async () => {
    const sandbox = await sandboxForTest({ seed: 'first-read-start', people: 1_000, limits: fast });
    const live = [...sandbox.portal.contacts.values()].filter((c) => !c.archived);
    const times = live.map((c) => c.updatedAt).sort((a, b) => a - b);
    const startDate = new Date(times[Math.floor(times.length / 2)] as number).toISOString();
    const walk = await read('contacts', { ...sandboxConfig(sandbox), startDate }, undefined);
    expect(walk.records.map(keyOf).sort()).toEqual(
      live
        .filter((c) => c.updatedAt >= Date.parse(startDate))
        .map((c) => c.id)
        .sort(),
    );
  });

  it(
    'walks deals through the list endpoint and batched association reads, resumably, with the events a search reads',
    { timeout: 30_000 },
    async () => {
      const sandbox = await sandboxForTest({ seed: 'first-read-deals', people: 3_000, limits: fast });
      const deals = [...sandbox.portal.engagements.deals.values()].filter((d) => !d.archived);
      expect(deals.length).toBeGreaterThan(1_000);
      const config = sandboxConfig(sandbox);

      const stopped = await read('deals', config, undefined, (_state, index) => (index === 1 ? 'stop' : undefined));
      const resumed = await read('deals', config, stopped.states.at(-1));
      expect(calls(sandbox, 'deals')).toEqual({ list: Math.ceil(deals.length / 100), search: 1 });
      const associations = sandbox.recorder.requests.filter(
        (r) => r.path === '/crm/v4/associations/deals/contacts/batch/read',
      ).length;
      expect(associations).toBe(Math.ceil(deals.length / 1_000));
      const walked = [...stopped.records, ...resumed.records];
      expect(new Set(walked.map(keyOf)).size).toBe(walked.length);
      expect(resumed.states.at(-1)).toEqual({
        cursor: new Date(Math.max(...deals.map((d) => d.updatedAt))).toISOString(),
      });

      const bySearch = await read('deals', config, { cursor: '1970-01-01T00:00:00.000Z' });
      expect(byKey(walked)).toEqual(byKey(bySearch.records));
    },
  );

  it('leaves the store as a search from the beginning would, through the engine', { timeout: 60_000 }, async () => {
    const sandbox = await sandboxForTest({ seed: 'first-read-store', people: 1_500, limits: fast });
    const config = hubspotSpec.parse({ ...sandboxConfig(sandbox), searchPerSecond: 10_000 });
    const streams = ['contacts', 'meetings', 'calls', 'deals'];
    const dir = tempDir('segflow-hubspot-first-');
    const readInto = async (file: string, searchFromStart: boolean) => {
      const store = await openStore(join(dir, file));
      if (searchFromStart)
        for (const stream of streams)
          await writeCheckpoint(store, 'hubspot', stream, { cursor: '1970-01-01T00:00:00.000Z' });
      const ctx = createContext({
        connection: 'hubspot',
        budget: { requests: 100_000, intervalMs: 10_000 },
        classifyError: classifyHubSpotError,
        logger: quiet,
      });
      const outcomes = await readSource({
        store,
        connection: 'hubspot',
        source: source as SourceDefinition,
        config,
        streams,
        mode: 'incremental',
        ctx,
      });
      expect(outcomes.map((o) => o.status)).toEqual(streams.map(() => 'succeeded'));
      const cursors: unknown[] = [];
      for (const stream of streams) {
        const row = (await store.get('SELECT state FROM stream_checkpoints WHERE stream = ?', [stream])) as {
          state: string;
        };
        cursors.push((JSON.parse(row.state) as StreamState).cursor);
      }
      await store.run('DELETE FROM stream_checkpoints');
      const digest = await storeDigest(store);
      await store.close();
      return { digest, cursors };
    };
    const walked = await readInto('walked.db', false);
    const searches = sandbox.recorder.requests.filter((r) => r.path.endsWith('/search')).length;
    expect(searches).toBe(streams.length);
    const searched = await readInto('searched.db', true);
    expect(walked).toEqual(searched);
  });
});
