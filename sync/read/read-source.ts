import type { IdentityOptions, LoadCounts, Queryable } from '../../core/index.js';
import { loadPage, readCheckpoint } from '../../core/index.js';
import {
  reasonOf,
  type ConnectorContext,
  type SourceDefinition,
  type StreamRecord,
  type StreamState,
} from '../../plugins/index.js';
import { readAhead, type ReadAhead } from './read-ahead.js';

export interface ReadSourceOptions {
  store: Queryable;
  /** The source's name in the config. */
  connection: string;
  source: SourceDefinition;
  /** The connector config, already parsed by the connector's spec. */
  config: unknown;
  /** Only these streams (default: all the source declares). */
  streams?: readonly string[];
  /** `incremental` resumes each stream from its checkpoint; `full` reads everything again. */
  mode: 'full' | 'incremental';
  ctx: ConnectorContext;
  runId?: number;
  identity?: IdentityOptions;
  /** Records loaded at most per transaction when a stream yields a long page without a checkpoint. */
  maxPageRecords?: number;
  /**
   * Small pages are gathered until this many records (or `maxCommitDelayMs`) and committed together with the newest
   * checkpoint: every commit costs a WAL write of each page it touched, whatever its size.
   */
  minCommitRecords?: number;
  /** The longest a gathered page waits for its commit. */
  maxCommitDelayMs?: number;
  /**
   * Records each later stream may fetch ahead while an earlier one loads (default 10,000): the waiting on the tool
   * overlaps, the store still loads stream after stream.
   */
  readAheadRecords?: number;
  /**
   * How many streams after the one loading fetch ahead at a time (default 2): a source with many streams would
   * otherwise hold `readAheadRecords` of every one of them in memory at once.
   */
  streamsAhead?: number;
  /** Called after every committed page. */
  onPage?: (stream: string, page: LoadCounts) => void;
  /** Called after a page is written and before its commit (tests kill the process there). */
  beforeCommit?: () => void;
}

export interface StreamOutcome {
  stream: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  pages: number;
  counts: LoadCounts;
  /** Rows the store refused (they are recorded against the run with their reason). */
  rejected: number;
  error?: string;
}

/**
 * Reads the chosen streams of one source, loading stream after stream and committing page by page, while the next
 * streams already fetch ahead (`streamsAhead` of them, `readAheadRecords` each). A stream that throws is reported as failed with its reason and the
 * next stream still runs. An abort (SIGTERM) ends the current stream after its last committed page.
 *
 * @example
 * const outcomes = await readSource({ store, connection: 'crm', source, config, mode: 'incremental', ctx });
 */
export async function readSource(options: ReadSourceOptions): Promise<StreamOutcome[]> {
  const config = options.config as never;
  const declared = options.source.streams(config);
  const wanted = options.streams ?? declared.map((s) => s.name);
  const unknown = wanted.filter((name) => !declared.some((s) => s.name === name));
  const outcomes: StreamOutcome[] = unknown.map((stream) => ({
    stream,
    status: 'failed',
    pages: 0,
    counts: emptyCounts(),
    rejected: 0,
    error: `source "${options.connection}" has no stream "${stream}" (it has: ${declared.map((s) => s.name).join(', ')})`,
  }));

  const streams = wanted.flatMap((name) => declared.filter((s) => s.name === name));
  const open = async (stream: (typeof streams)[number]) => {
    const incremental = options.mode === 'incremental' && stream.modes.includes('incremental');
    const state = incremental
      ? ((await readCheckpoint(options.store, options.connection, stream.name)) as StreamState | undefined)
      : undefined;
    const request = { config, mode: incremental ? 'incremental' : 'full_refresh', state } as const;
    // Inside a generator, a connector that throws before its first message fails its own stream only.
    const messages = (async function* () {
      yield* stream.read(request, options.ctx);
    })();
    return { stream, state, messages: readAhead(messages, options.readAheadRecords ?? 10_000) };
  };
  const reads: Awaited<ReturnType<typeof open>>[] = [];
  const ahead = Math.max(0, options.streamsAhead ?? 2);
  try {
    for (let i = 0; i < streams.length; i++) {
      while (reads.length < Math.min(streams.length, i + 1 + ahead)) reads.push(await open(streams[reads.length]!));
      const read = reads[i]!;
      if (options.ctx.signal.aborted) {
        const reason = options.ctx.signal.reason as unknown;
        outcomes.push({
          stream: read.stream.name,
          status: 'cancelled',
          pages: 0,
          counts: emptyCounts(),
          rejected: 0,
          error: reason instanceof Error ? reason.message : 'cancelled',
        });
      } else outcomes.push(await readStream(options, read));
    }
  } finally {
    for (const read of reads) read.messages.close();
  }
  return outcomes;
}

async function readStream(
  options: ReadSourceOptions,
  read: { stream: { name: string }; state: StreamState | undefined; messages: ReadAhead },
): Promise<StreamOutcome> {
  const { stream, messages } = read;
  let state = read.state;
  const outcome: StreamOutcome = {
    stream: stream.name,
    status: 'succeeded',
    pages: 0,
    counts: emptyCounts(),
    rejected: 0,
  };
  const limit = options.maxPageRecords ?? 25_000;
  const gather = options.minCommitRecords ?? 20_000;
  const delay = options.maxCommitDelayMs ?? 5000;
  let page: StreamRecord[] = [];
  let lastCommit = Date.now();
  let committed = state;
  let storeFailed = false;

  const commit = async (checkpoint: StreamState | undefined) => {
    storeFailed = true;
    const loaded = await loadPage(options.store, {
      connection: options.connection,
      stream: stream.name,
      records: page,
      checkpoint: checkpoint ?? null,
      ...(options.runId === undefined ? {} : { runId: options.runId }),
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(options.beforeCommit === undefined ? {} : { beforeCommit: options.beforeCommit }),
    });
    storeFailed = false;
    page = [];
    committed = checkpoint;
    lastCommit = Date.now();
    outcome.pages++;
    for (const key of Object.keys(outcome.counts) as (keyof LoadCounts)[]) outcome.counts[key] += loaded[key];
    outcome.rejected += loaded.errors.length;
    options.onPage?.(stream.name, loaded);
  };

  try {
    for await (const message of messages) {
      if (message.type === 'record') {
        page.push(message.record);
        // A page longer than the limit is committed with the previous checkpoint: a crash re-reads it, and the
        // idempotent load absorbs what was already there.
        if (page.length >= limit) await commit(state);
      } else {
        // A checkpoint covers everything read before it; the records gathered past it are re-read harmlessly after
        // a crash, so gathered pages commit with the newest checkpoint.
        state = message.state;
        if (page.length >= gather || Date.now() - lastCommit >= delay || options.ctx.signal.aborted)
          await commit(state);
      }
      if (options.ctx.signal.aborted && page.length === 0) {
        outcome.status = 'cancelled';
        break;
      }
    }
    if (page.length > 0 || state !== committed) await commit(state);
  } catch (error) {
    // Keep what was read up to the last checkpoint the stream gave, as if each page had been committed on arrival.
    if (state !== committed && !storeFailed) {
      try {
        await commit(state);
      } catch (commitError) {
        options.ctx.logger.error('could not keep the pages read before the failure', { reason: String(commitError) });
      }
    }
    outcome.status = options.ctx.signal.aborted ? 'cancelled' : 'failed';
    outcome.error = reasonOf(error);
    options.ctx.logger.error('stream failed', {
      connection: options.connection,
      stream: stream.name,
      reason: outcome.error,
    });
  }
  return outcome;
}

function emptyCounts(): LoadCounts {
  return { read: 0, inserted: 0, updated: 0, skipped: 0, merged: 0 };
}
