/**
 * Read-ahead of a stream: its messages are pulled from the connector as soon as the stream is opened, up to a number
 * of buffered records, while the reader still loads an earlier stream. The store still receives every stream's pages
 * in stream order (so a run loads exactly what a one-by-one read would, in the same order); only the waiting on the
 * tool overlaps, within the source's shared rate budget.
 */
import type { StreamMessage } from '../../plugins/index.js';

export interface ReadAhead extends AsyncIterable<StreamMessage> {
  /** Stops pulling from the connector (the reader no longer wants this stream). */
  close(): void;
}

/**
 * Starts pulling `messages` now, holding at most `limit` records not yet taken. The connector's error, if it throws,
 * comes out after the messages it yielded before it.
 *
 * @example
 * const ahead = readAhead(stream.read(request, ctx), 10_000);
 * for await (const message of ahead) load(message);
 */
export function readAhead(messages: AsyncIterable<StreamMessage>, maxRecords: number): ReadAhead {
  const limit = Math.max(1, maxRecords);
  const buffered: StreamMessage[] = [];
  let records = 0;
  let done = false;
  let closed = false;
  let failure: { error: unknown } | undefined;
  let wakeReader: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  const wake = (which: 'reader' | 'pump') => {
    const resume = which === 'reader' ? wakeReader : wakePump;
    if (which === 'reader') wakeReader = undefined;
    else wakePump = undefined;
    resume?.();
  };

  const pump = async () => {
    const iterator = messages[Symbol.asyncIterator]();
    try {
      while (!closed) {
        while (records >= limit && !closed) await new Promise<void>((resume) => (wakePump = resume));
        if (closed) break;
        const next = await iterator.next();
        if (next.done) break;
        buffered.push(next.value);
        if (next.value.type === 'record') records++;
        wake('reader');
      }
      if (closed) await iterator.return?.();
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      wake('reader');
    }
  };
  void pump();

  return {
    close() {
      closed = true;
      wake('pump');
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const message = buffered.shift();
          if (message !== undefined) {
            if (message.type === 'record') records--;
            wake('pump');
            yield message;
            continue;
          }
          if (done) {
            if (failure) throw failure.error;
            return;
          }
          await new Promise<void>((resume) => (wakeReader = resume));
        }
      } finally {
        closed = true;
        wake('pump');
      }
    },
  };
}
