/**
 * Source conformance, after Airbyte's connector acceptance tests: spec and secrets, check with good and bad
 * credentials, canonical records with unique keys, incremental reads that honour the cursor and overlap, far-future
 * state, monotonic checkpoints, and webhook signatures.
 */
import type { z } from 'zod';
import type {
  SourceDefinition,
  StreamDefinition,
  StreamMessage,
  StreamState,
  SyncMode,
  WebhookRequest,
} from '../contract/connector.js';
import {
  accountRecordSchema,
  contactRecordSchema,
  conventionProblems,
  eventRecordSchema,
  type StreamRecord,
} from '../model/index.js';
import { registerSuite } from './register.js';
import {
  checkBadCredentials,
  checkGoodCredentials,
  checkSecretsMarked,
  checkSpec,
  ConformanceError,
  ConformanceSkip,
  contextFor,
  cursorNumber,
  fail,
  lifecycle,
  messageOf,
  parseConfig,
  valueAt,
  type CommonOptions,
} from './shared.js';

const RECORD_KINDS: readonly string[] = ['contact', 'event', 'account'];
const RECORD_SCHEMAS: Record<
  string,
  typeof contactRecordSchema | typeof eventRecordSchema | typeof accountRecordSchema
> = { contact: contactRecordSchema, event: eventRecordSchema, account: accountRecordSchema };

/**
 * A webhook request the tool would send, and the same request with its signature (or body) tampered with.
 *
 * @example
 * const good = signedRequest(body, secret);
 * const webhook: WebhookCase = { good, tampered: { ...good, body: `${body} ` } };
 * runSourceConformance({ connector: source, config, badConfig, webhook });
 */
export interface WebhookCase {
  good: WebhookRequest;
  tampered: WebhookRequest;
  /** The time to verify at (epoch ms), for signatures that carry a timestamp. Defaults to now. */
  now?: number;
}

/**
 * What a source conformance run checks against: a working config, a wrong one, and a webhook case; `setup` may return
 * any of them.
 *
 * @example
 * setup: async (): Promise<Partial<SourceFixture<typeof spec>>> => ({ config: { baseUrl: sandbox.url, token: 'ok' } }),
 */
export interface SourceFixture<Spec extends z.ZodType> {
  config: z.input<Spec>;
  badConfig: z.input<Spec>;
  webhook: WebhookCase;
}

/**
 * Options of {@link runSourceConformance} and {@link sourceChecks}.
 *
 * @example
 * const options: SourceConformanceOptions<typeof spec> = { connector: source, config, badConfig, maxRecords: 500 };
 * runSourceConformance(options);
 */
export interface SourceConformanceOptions<Spec extends z.ZodType> extends CommonOptions<Spec, SourceFixture<Spec>> {
  connector: SourceDefinition<Spec>;
  /** Required when the source has a `webhook` hook. */
  webhook?: WebhookCase;
  /** Stop each read after this many records (for sandboxes that generate large worlds). Default 5,000. */
  maxRecords?: number;
}

/**
 * The source checks, by name, with the title each is reported under.
 *
 * @example
 * Object.keys(SOURCE_CHECKS); // ['spec', 'secretsMarked', 'streamDeclarations', …]
 */
export const SOURCE_CHECKS = {
  spec: 'spec is a zod schema and the good config parses',
  secretsMarked: 'spec marks every secret-looking field as secret',
  streamDeclarations: 'streams declare a unique name, primary key, cursor field and modes',
  checkSucceeds: 'check succeeds with the good config',
  checkRefusesBadCredentials: 'check refuses bad credentials with a reason (not a crash)',
  keyAndCursorPresent: "each stream's primary key and cursor field are present in its records",
  fullRead: 'a full read yields canonical records and ends with a checkpoint',
  uniquePrimaryKeys: 'a full read yields unique primary keys',
  conventions:
    'records keep the canonical conventions: times ISO-8601 in UTC, currencies upper-case ISO 4217, money values not negative',
  incrementalFromState:
    'an incremental read from the final state yields only records at or after its cursor minus overlap',
  farFutureState: 'a far-future state yields no records and a checkpoint',
  monotonicState: 'checkpoints never move the cursor back, and no record falls behind a checkpoint',
  webhookSignature: 'webhook: a good signature is accepted and a tampered one refused',
} as const;

/**
 * The name of one source check: a key of {@link SOURCE_CHECKS}.
 *
 * @example
 * const name: SourceCheckName = 'fullRead';
 * await sourceChecks({ connector: source, config, badConfig })[name]();
 */
export type SourceCheckName = keyof typeof SOURCE_CHECKS;
/**
 * The source checks as plain async functions that throw a `ConformanceError`, and `dispose` to tear the fixture down.
 *
 * @example
 * const checks: SourceChecks = sourceChecks({ connector: source, config, badConfig });
 * await checks.fullRead();
 * await checks.dispose();
 */
export type SourceChecks = Record<SourceCheckName, () => Promise<void>> & { dispose(): Promise<void> };

interface ReadResult {
  stream: StreamDefinition<unknown>;
  input: StreamState | undefined;
  messages: StreamMessage[];
  records: StreamRecord[];
  states: StreamState[];
}

/**
 * The source checks as plain async functions that throw a `ConformanceError` naming the problem (or a
 * `ConformanceSkip` with the reason a check does not apply). Reads are shared between checks; call `dispose()` after.
 *
 * @example
 * const checks = sourceChecks({ connector: source, config });
 * await expect(checks.uniquePrimaryKeys()).rejects.toThrow(/duplicate primary key/);
 * await checks.dispose();
 */
export function sourceChecks<Spec extends z.ZodType>(options: SourceConformanceOptions<Spec>): SourceChecks {
  const { connector } = options;
  const name = connector.name;
  const maxRecords = options.maxRecords ?? 5_000;
  const statics: Partial<SourceFixture<Spec>> = {
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.badConfig === undefined ? {} : { badConfig: options.badConfig }),
    ...(options.webhook === undefined ? {} : { webhook: options.webhook }),
  };
  const life = lifecycle<SourceFixture<Spec>>(statics, options.setup, options.teardown);
  const fullReads = new Map<string, Promise<ReadResult>>();
  const incrementalReads = new Map<string, Promise<ReadResult | undefined>>();

  const configOf = async (): Promise<z.infer<Spec>> => parseConfig(connector, (await life.ready()).config);

  const streamsOf = async (): Promise<StreamDefinition<unknown>[]> => {
    const streams = connector.streams(await configOf()) as StreamDefinition<unknown>[];
    if (!Array.isArray(streams) || streams.length === 0) fail(`${name}: streams(config) returned no streams`);
    return streams;
  };

  const read = async (
    stream: StreamDefinition<unknown>,
    mode: SyncMode,
    input: StreamState | undefined,
  ): Promise<ReadResult> => {
    const config = await configOf();
    const ctx = contextFor(connector, config, options.context);
    const result: ReadResult = { stream, input, messages: [], records: [], states: [] };
    try {
      for await (const message of stream.read({ config, mode, state: input }, ctx)) {
        result.messages.push(message);
        if (message.type === 'record') result.records.push(message.record);
        else if (message.type === 'state') result.states.push(message.state);
        else
          fail(
            `${name}/${stream.name}: read yielded a message of unknown type ${JSON.stringify((message as { type?: unknown }).type)}`,
          );
        if (result.records.length >= maxRecords) break;
      }
    } catch (error) {
      if (error instanceof ConformanceError) throw error;
      fail(
        `${name}/${stream.name}: ${mode} read${input ? ` from ${JSON.stringify(input)}` : ''} threw: ${messageOf(error)}`,
      );
    }
    return result;
  };

  const fullRead = (stream: StreamDefinition<unknown>): Promise<ReadResult> => {
    let pending = fullReads.get(stream.name);
    if (!pending) {
      const mode: SyncMode = stream.modes.includes('full_refresh') ? 'full_refresh' : 'incremental';
      pending = read(stream, mode, undefined);
      fullReads.set(stream.name, pending);
    }
    return pending;
  };

  /** The final checkpoint of the full read, which an incremental read resumes from. */
  const finalState = async (stream: StreamDefinition<unknown>): Promise<StreamState & { cursor: string | number }> => {
    const full = await fullRead(stream);
    const last = full.states.at(-1);
    if (!last) fail(`${name}/${stream.name}: the full read yielded no checkpoint to resume from`);
    if (last.cursor === undefined || last.cursor === null)
      fail(`${name}/${stream.name}: the final checkpoint has no cursor: ${JSON.stringify(last)}`);
    return last as StreamState & { cursor: string | number };
  };

  const incrementalRead = (stream: StreamDefinition<unknown>): Promise<ReadResult | undefined> => {
    let pending = incrementalReads.get(stream.name);
    if (!pending) {
      pending = stream.modes.includes('incremental')
        ? finalState(stream).then((state) => read(stream, 'incremental', state))
        : Promise.resolve(undefined);
      incrementalReads.set(stream.name, pending);
    }
    return pending;
  };

  const cursorOf = (stream: StreamDefinition<unknown>, record: StreamRecord): number =>
    cursorNumber(valueAt(record, stream.cursorField), `${name}/${stream.name} record ${describeKey(stream, record)}`);

  const eachStream = async (check: (stream: StreamDefinition<unknown>) => Promise<void>): Promise<void> => {
    for (const stream of await streamsOf()) await check(stream);
  };

  const incrementalStreams = async (): Promise<StreamDefinition<unknown>[]> => {
    const streams = (await streamsOf()).filter((s) => s.modes.includes('incremental'));
    if (streams.length === 0) throw new ConformanceSkip('no stream supports incremental reads');
    return streams;
  };

  const checks: SourceChecks = {
    async spec() {
      checkSpec(connector, (await life.ready()).config);
    },
    async secretsMarked() {
      checkSecretsMarked(connector);
    },
    async streamDeclarations() {
      const seen = new Set<string>();
      for (const stream of await streamsOf()) {
        const where = `${name}/${stream.name}`;
        if (!stream.name) fail(`${name}: a stream has no name`);
        if (seen.has(stream.name)) fail(`${name}: two streams are named "${stream.name}"`);
        seen.add(stream.name);
        if (!RECORD_KINDS.includes(stream.recordKind))
          fail(`${where}: recordKind must be 'contact', 'event' or 'account'`);
        if (!stream.primaryKey) fail(`${where}: no primary key declared`);
        if (!stream.cursorField) fail(`${where}: no cursor field declared`);
        if (stream.modes.length === 0) fail(`${where}: no sync modes declared`);
        const unknownModes = stream.modes.filter((m) => m !== 'full_refresh' && m !== 'incremental');
        if (unknownModes.length > 0) fail(`${where}: unknown sync mode ${unknownModes.join(', ')}`);
        if (stream.overlap !== undefined && !(Number.isFinite(stream.overlap) && stream.overlap >= 0)) {
          fail(`${where}: overlap must be a non-negative number of cursor units, got ${stream.overlap}`);
        }
      }
    },
    async checkSucceeds() {
      await checkGoodCredentials(connector, (await life.ready()).config, options.context);
    },
    async checkRefusesBadCredentials() {
      await checkBadCredentials(connector, (await life.ready()).badConfig, options.context);
    },
    async keyAndCursorPresent() {
      await eachStream(async (stream) => {
        const { records } = await fullRead(stream);
        records.forEach((record, index) => {
          for (const [what, path] of [
            ['primary key', stream.primaryKey],
            ['cursor field', stream.cursorField],
          ] as const) {
            const value = valueAt(record, path);
            if (value === undefined || value === null) {
              fail(
                `${name}/${stream.name}: record #${index + 1} (${describeKey(stream, record)}) has no ${what} "${path}"`,
              );
            }
          }
        });
      });
    },
    async fullRead() {
      await eachStream(async (stream) => {
        const where = `${name}/${stream.name}`;
        const { records, messages } = await fullRead(stream);
        if (records.length === 0)
          fail(`${where}: the full read yielded no records — give the conformance run a config whose data has some`);
        const schema = RECORD_SCHEMAS[stream.recordKind] ?? eventRecordSchema;
        records.forEach((record, index) => {
          if (record.kind !== stream.recordKind)
            fail(
              `${where}: record #${index + 1} is a ${String(record.kind)}, the stream declares ${stream.recordKind}`,
            );
          const parsed = schema.safeParse(record);
          if (!parsed.success) {
            const issue = parsed.error.issues[0];
            fail(
              `${where}: record #${index + 1} (${describeKey(stream, record)}) is not a canonical ${stream.recordKind}: ${issue?.path.join('.') || '(record)'}: ${issue?.message}`,
            );
          }
        });
        if (records.length < maxRecords && messages.at(-1)?.type !== 'state') {
          fail(`${where}: the last page is not followed by a checkpoint, so its records would be re-read forever`);
        }
      });
    },
    async conventions() {
      await eachStream(async (stream) => {
        (await fullRead(stream)).records.forEach((record, index) => {
          const [problem] = conventionProblems(record);
          if (problem !== undefined)
            fail(
              `${name}/${stream.name}: record #${index + 1} (${describeKey(stream, record)}): ${problem} — see the conventions in segflow/plugins' canonical model`,
            );
        });
      });
    },
    async uniquePrimaryKeys() {
      await eachStream(async (stream) => {
        const seen = new Map<string, number>();
        (await fullRead(stream)).records.forEach((record, index) => {
          const key = valueAt(record, stream.primaryKey);
          if (key === undefined || key === null)
            fail(`${name}/${stream.name}: record #${index + 1} has a null primary key "${stream.primaryKey}"`);
          const text = JSON.stringify(key);
          const first = seen.get(text);
          if (first !== undefined)
            fail(
              `${name}/${stream.name}: duplicate primary key ${stream.primaryKey}=${text} in records #${first + 1} and #${index + 1} of one full read`,
            );
          seen.set(text, index);
        });
      });
    },
    async incrementalFromState() {
      for (const stream of await incrementalStreams()) {
        const result = await incrementalRead(stream);
        if (!result) continue;
        const overlap = stream.overlap ?? 0;
        const from = cursorNumber(result.input?.cursor, `${name}/${stream.name} final checkpoint`);
        for (const record of result.records) {
          const cursor = cursorOf(stream, record);
          if (cursor < from - overlap) {
            fail(
              `${name}/${stream.name}: incremental read from cursor ${JSON.stringify(result.input?.cursor)} (overlap ${overlap}) yielded ` +
                `record ${describeKey(stream, record)} with cursor ${JSON.stringify(valueAt(record, stream.cursorField))}, before the cursor minus overlap`,
            );
          }
        }
      }
    },
    async farFutureState() {
      for (const stream of await incrementalStreams()) {
        const last = await finalState(stream);
        const state: StreamState = { ...last, cursor: farFuture(last.cursor) };
        const result = await read(stream, 'incremental', state);
        if (result.records.length > 0) {
          fail(
            `${name}/${stream.name}: incremental read from far-future cursor ${JSON.stringify(state.cursor)} yielded ${result.records.length} record(s), e.g. ${describeKey(stream, result.records[0] as StreamRecord)}`,
          );
        }
        if (result.states.length === 0)
          fail(
            `${name}/${stream.name}: incremental read from far-future cursor ${JSON.stringify(state.cursor)} yielded no checkpoint`,
          );
        assertMonotonic(name, stream, result, (record) => cursorOf(stream, record));
      }
    },
    async monotonicState() {
      await eachStream(async (stream) => {
        const reads = [await fullRead(stream), await incrementalRead(stream)].filter(
          (r): r is ReadResult => r !== undefined,
        );
        for (const result of reads) assertMonotonic(name, stream, result, (record) => cursorOf(stream, record));
      });
    },
    async webhookSignature() {
      const hook = connector.webhook;
      if (!hook) throw new ConformanceSkip('connector has no webhook hook');
      const fixture = await life.ready();
      const cases = fixture.webhook;
      if (!cases)
        fail(
          `${name}: the source has a webhook hook — pass webhook: { good, tampered } so its signature check is tested`,
        );
      const config = await configOf();
      const now = cases.now ?? Date.now();
      const verify = (request: WebhookRequest, which: string) => {
        try {
          return hook.verify(request, config, now);
        } catch (error) {
          return fail(
            `${name}: webhook verify threw on the ${which} request instead of answering ok:false: ${messageOf(error)}`,
          );
        }
      };
      const good = verify(cases.good, 'good');
      if (!good.ok) fail(`${name}: webhook verify refused the good request: ${good.reason}`);
      const tampered = verify(cases.tampered, 'tampered');
      if (tampered.ok) fail(`${name}: webhook verify accepted a request with a bad signature`);
      if (!tampered.reason) fail(`${name}: webhook verify refused the tampered request without a reason`);
      const { records } = hook.parse(cases.good, config);
      records.forEach((record, index) => {
        const schema = RECORD_SCHEMAS[record.kind] ?? eventRecordSchema;
        const parsed = schema.safeParse(record);
        if (!parsed.success)
          fail(`${name}: webhook record #${index + 1} is not canonical: ${parsed.error.issues[0]?.message}`);
      });
    },
    dispose: () => life.dispose(),
  };
  return checks;
}

function assertMonotonic(
  name: string,
  stream: StreamDefinition<unknown>,
  result: ReadResult,
  cursorOf: (record: StreamRecord) => number,
): void {
  const where = `${name}/${stream.name} (${result.input ? 'incremental' : 'full'} read)`;
  const overlap = stream.overlap ?? 0;
  // Only this read's own checkpoints count: a source with an overlap may re-read, and checkpoint, below its input.
  let committed: { cursor: number; raw: unknown } | undefined;
  for (const message of result.messages) {
    if (message.type === 'state') {
      const raw = message.state.cursor;
      if (raw === undefined || raw === null) {
        if (committed) fail(`${where}: a checkpoint dropped the cursor after ${JSON.stringify(committed.raw)}`);
        continue;
      }
      const cursor = cursorNumber(raw, `${where} checkpoint`);
      if (committed && cursor < committed.cursor) {
        fail(
          `${where}: checkpoint cursor went backwards from ${JSON.stringify(committed.raw)} to ${JSON.stringify(raw)}`,
        );
      }
      committed = { cursor, raw };
    } else if (committed && cursorOf(message.record) < committed.cursor - overlap) {
      fail(
        `${where}: record ${describeKey(stream, message.record)} with cursor ${JSON.stringify(valueAt(message.record, stream.cursorField))} ` +
          `came after checkpoint ${JSON.stringify(committed.raw)} (overlap ${overlap}), so a resumed read would skip it`,
      );
    }
  }
}

/** A cursor far beyond any record: year 2999 for timestamps, a large number for numeric cursors. */
function farFuture(cursor: string | number): string | number {
  if (typeof cursor === 'number') return Math.max(cursor * 2, 32_503_680_000_000);
  if (/^-?\d+(\.\d+)?$/.test(cursor)) return String(Math.max(Number(cursor) * 2, 32_503_680_000_000));
  return '2999-12-31T00:00:00.000Z';
}

function describeKey(stream: StreamDefinition<unknown>, record: StreamRecord): string {
  return `${stream.primaryKey}=${JSON.stringify(valueAt(record, stream.primaryKey))}`;
}

/**
 * Registers the source conformance suite with vitest: one call in a connector's test file.
 *
 * @example
 * runSourceConformance({ connector: source, config: { contacts: { path: 'contacts.csv', ... } } });
 *
 * @example
 * // against a sandbox started for the run
 * runSourceConformance({
 *   connector: source,
 *   setup: async () => { const sandbox = await startSandbox(); return { config: { accessToken: 'ok', basePath: sandbox.url },
 *     badConfig: { accessToken: 'wrong', basePath: sandbox.url }, teardown: () => sandbox.close() }; },
 * });
 */
export function runSourceConformance<Spec extends z.ZodType>(options: SourceConformanceOptions<Spec>): void {
  registerSuite(`${options.connector.name}: source conformance`, () => ({
    titles: SOURCE_CHECKS,
    checks: sourceChecks(options),
    skipped: options.connector.webhook ? {} : { webhookSignature: 'connector has no webhook hook' },
  }));
}
