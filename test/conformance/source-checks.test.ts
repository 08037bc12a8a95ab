import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineSource,
  secret,
  type SourceRecord,
  type StreamDefinition,
  type StreamState,
  type WebhookRequest,
} from '../../plugins/index.js';
import {
  ConformanceError,
  ConformanceSkip,
  cursorNumber,
  runSourceConformance,
  SOURCE_CHECKS,
  sourceChecks,
  type SourceCheckName,
  type SourceChecks,
} from '../../plugins/conformance/index.js';

// An in-memory source that behaves, unless one `flaw` is switched on: each flaw is a way real connectors go wrong.
type Flaw =
  | 'duplicateKey'
  | 'missingCursor'
  | 'unmarkedSecret'
  | 'stateBackwards'
  | 'ignoresState'
  | 'webhookAcceptsAnything'
  | 'checkThrows'
  | 'nonCanonicalEvent'
  | 'noCheckpointWhenEmpty'
  | 'recordBehindCheckpoint'
  | 'lowerCaseCurrency'
  | 'localTime'
  | 'negativePurchase';

const contacts = [
  { id: 'c1', email: 'ada@example.com', updated: '2024-01-01T00:00:00.000Z' },
  { id: 'c2', email: 'bob@example.com', updated: '2024-01-02T00:00:00.000Z' },
  { id: 'c3', email: 'cy@example.com', updated: '2024-01-02T00:00:00.000Z' },
  { id: 'c4', email: 'di@example.com', updated: '2024-01-03T00:00:00.000Z' },
  { id: 'c5', email: 'ed@example.com', updated: '2024-01-05T00:00:00.000Z' },
];
const events = [
  { id: 'e1', email: 'ada@example.com', at: '2024-02-01T10:00:00.000Z', type: 'purchase', value: 30 },
  { id: 'e2', email: 'bob@example.com', at: '2024-02-01T11:00:00.000Z', type: 'email_open', value: null },
  { id: 'e3', email: 'ada@example.com', at: '2024-02-03T09:00:00.000Z', type: 'purchase', value: 12.5 },
];

function sign(body: string, key: string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

function memorySource(flaw?: Flaw, window: { overlap: number; rereadMs: number } = { overlap: 0, rereadMs: 0 }) {
  const spec =
    flaw === 'unmarkedSecret'
      ? z.object({ apiKey: secret(z.string()), clientSecret: z.string().optional(), pageSize: z.number().default(2) })
      : z.object({ apiKey: secret(z.string()), pageSize: z.number().default(2) });
  type Config = z.infer<typeof spec>;

  const contactRecords = (): SourceRecord[] => {
    const rows = flaw === 'duplicateKey' ? [...contacts, contacts[1]!] : contacts;
    return rows.map((c, i) => ({
      kind: 'contact',
      source: 'memory',
      externalId: c.id,
      traits: { email: c.email, ...(flaw === 'missingCursor' && i === 2 ? {} : { updated_at: c.updated }) },
    }));
  };
  const eventRecords = (): SourceRecord[] =>
    events.map((e) => ({
      kind: 'event',
      source: 'memory',
      sourceEventId: e.id,
      type: (flaw === 'nonCanonicalEvent' && e.id === 'e2' ? 'opened' : e.type) as 'purchase',
      occurredAt: flaw === 'localTime' && e.id === 'e2' ? e.at.replace('11:00:00.000Z', '12:00:00.000+01:00') : e.at,
      contact: { email: e.email },
      value: flaw === 'negativePurchase' && e.id === 'e3' ? -e.value! : e.value,
      ...(e.type === 'purchase' ? { properties: { currency: flaw === 'lowerCaseCurrency' ? 'usd' : 'USD' } } : {}),
    }));

  const stream = (
    name: string,
    recordKind: 'contact' | 'event',
    primaryKey: string,
    cursorField: string,
    all: () => SourceRecord[],
  ): StreamDefinition<Config> => ({
    name,
    recordKind,
    primaryKey,
    cursorField,
    modes: ['full_refresh', 'incremental'],
    overlap: window.overlap,
    async *read({ config, state }) {
      const cursorOf = (r: SourceRecord) =>
        String(
          cursorField.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], r) ?? '',
        );
      const from =
        typeof state?.cursor === 'string' && flaw !== 'ignoresState'
          ? new Date(Date.parse(state.cursor) - window.rereadMs).toISOString()
          : '';
      const records = all()
        .filter((r) => cursorOf(r) >= from)
        .sort((a, b) => cursorOf(a).localeCompare(cursorOf(b)));
      if (records.length === 0) {
        if (flaw !== 'noCheckpointWhenEmpty') yield { type: 'state', state: state ?? { cursor: null } };
        return;
      }
      const checkpoints: StreamState[] = [];
      for (let start = 0; start < records.length; start += config.pageSize) {
        const page = records.slice(start, start + config.pageSize);
        for (const record of page) yield { type: 'record', record };
        const state = { cursor: cursorOf(page.at(-1)!) };
        checkpoints.push(state);
        yield { type: 'state', state };
      }
      if (flaw === 'stateBackwards') yield { type: 'state', state: checkpoints[0]! };
      if (flaw === 'recordBehindCheckpoint') yield { type: 'record', record: records[0]! };
    },
  });

  return defineSource({
    name: 'memory',
    spec,
    async check(config) {
      if (config.apiKey === 'good-key') return { ok: true };
      if (flaw === 'checkThrows') throw new TypeError("Cannot read properties of undefined (reading 'portalId')");
      return { ok: false, reason: 'the API key was refused' };
    },
    streams: () => [
      stream('contacts', 'contact', 'externalId', 'traits.updated_at', contactRecords),
      stream('events', 'event', 'sourceEventId', 'occurredAt', eventRecords),
    ],
    webhook: {
      verify(request, config) {
        if (flaw === 'webhookAcceptsAnything') return { ok: true };
        const expected = Buffer.from(sign(request.body, config.apiKey));
        const given = Buffer.from(request.headers['x-signature'] ?? '');
        return given.length === expected.length && timingSafeEqual(given, expected)
          ? { ok: true }
          : { ok: false, reason: 'signature does not match' };
      },
      parse(request) {
        const body = JSON.parse(request.body) as { id: string; email: string };
        return { records: [{ kind: 'contact', source: 'memory', externalId: body.id, traits: { email: body.email } }] };
      },
    },
  });
}

const body = JSON.stringify({ id: 'c9', email: 'new@example.com' });
const webhook = {
  good: {
    method: 'POST',
    url: 'http://localhost/hooks/memory',
    headers: { 'x-signature': sign(body, 'good-key') },
    body,
  } satisfies WebhookRequest,
  tampered: {
    method: 'POST',
    url: 'http://localhost/hooks/memory',
    headers: { 'x-signature': sign(body, 'good-key') },
    body: body.replace('c9', 'c1'),
  },
};
const config = { apiKey: 'good-key' };
const badConfig = { apiKey: 'wrong-key' };

let open: SourceChecks[] = [];
function checksFor(flaw?: Flaw): SourceChecks {
  const checks = sourceChecks({ connector: memorySource(flaw), config, badConfig, webhook });
  open.push(checks);
  return checks;
}
afterEach(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  open = [];
});

describe('source conformance checks', () => {
  it('a correct in-memory source passes every check', async () => {
    const checks = checksFor();
    for (const name of Object.keys(SOURCE_CHECKS) as SourceCheckName[]) {
      await expect(checks[name](), name).resolves.toBeUndefined();
    }
  });

  it.each<[Flaw, SourceCheckName, RegExp]>([
    [
      'duplicateKey',
      'uniquePrimaryKeys',
      /memory\/contacts: duplicate primary key externalId="c2" in records #2 and #/,
    ],
    [
      'missingCursor',
      'keyAndCursorPresent',
      /memory\/contacts: record #\d+ \(externalId="c3"\) has no cursor field "traits.updated_at"/,
    ],
    ['unmarkedSecret', 'secretsMarked', /spec field "clientSecret" looks like a secret but is not marked/],
    [
      'stateBackwards',
      'monotonicState',
      /checkpoint cursor went backwards from "2024-01-05T00:00:00.000Z" to "2024-01-02T00:00:00.000Z"/,
    ],
    [
      'recordBehindCheckpoint',
      'monotonicState',
      /record externalId="c1" .* came after checkpoint "2024-01-05T00:00:00.000Z" \(overlap 0\)/,
    ],
    [
      'ignoresState',
      'incrementalFromState',
      /incremental read from cursor "2024-01-05T00:00:00.000Z" \(overlap 0\) yielded record externalId="c1"/,
    ],
    ['ignoresState', 'farFutureState', /far-future cursor "2999-12-31T00:00:00.000Z" yielded 5 record/],
    ['noCheckpointWhenEmpty', 'farFutureState', /far-future cursor .* yielded no checkpoint/],
    ['webhookAcceptsAnything', 'webhookSignature', /webhook verify accepted a request with a bad signature/],
    [
      'checkThrows',
      'checkRefusesBadCredentials',
      /check crashed on bad credentials .* TypeError: Cannot read properties/,
    ],
    [
      'lowerCaseCurrency',
      'conventions',
      /memory\/events: record #1 \(sourceEventId="e1"\): properties.currency "usd" is not an upper-case ISO 4217 code \(expected e.g. "USD"\)/,
    ],
    [
      'localTime',
      'conventions',
      /memory\/events: record #2 \(sourceEventId="e2"\): occurredAt "2024-02-01T12:00:00.000\+01:00" is not an ISO-8601 time in UTC/,
    ],
    ['negativePurchase', 'conventions', /record #3 \(sourceEventId="e3"\): value -12.5 of a purchase is negative/],
    [
      'nonCanonicalEvent',
      'fullRead',
      /memory\/events: record #2 \(sourceEventId="e2"\) is not a canonical event: type:/,
    ],
  ])('a source with flaw %s fails %s', async (flaw, check, message) => {
    await expect(checksFor()[check]()).resolves.toBeUndefined();
    const failure = checksFor(flaw)[check]();
    await expect(failure).rejects.toThrow(ConformanceError);
    await expect(failure).rejects.toThrow(message);
  });

  it('a source that re-reads a window behind the checkpoint passes when it declares that overlap, and fails when it does not', async () => {
    const day = 86_400_000;
    const declared = sourceChecks({
      connector: memorySource(undefined, { overlap: 2 * day, rereadMs: 2 * day }),
      config,
    });
    const undeclared = sourceChecks({
      connector: memorySource(undefined, { overlap: day, rereadMs: 2 * day }),
      config,
    });
    open.push(declared, undeclared);
    await expect(declared.incrementalFromState()).resolves.toBeUndefined();
    await expect(declared.monotonicState()).resolves.toBeUndefined();
    await expect(undeclared.incrementalFromState()).rejects.toThrow(
      'memory/contacts: incremental read from cursor "2024-01-05T00:00:00.000Z" (overlap 86400000) yielded record externalId="c4" with cursor "2024-01-03T00:00:00.000Z"',
    );
  });

  it('compares timestamp cursors as times and numeric cursors as numbers', () => {
    expect(cursorNumber('2024-01-02T00:30:00+02:00', 'here')).toBeLessThan(
      cursorNumber('2024-01-01T23:00:00Z', 'here'),
    );
    expect(cursorNumber('10', 'here')).toBeGreaterThan(cursorNumber('9', 'here'));
    expect(() => cursorNumber('last tuesday', 'memory/contacts')).toThrow(
      'memory/contacts: cursor "last tuesday" is neither a number nor an ISO-8601 timestamp',
    );
  });

  it('a check that accepts bad credentials fails', async () => {
    const checks = sourceChecks({ connector: memorySource(), config, badConfig: config });
    open.push(checks);
    await expect(checks.checkRefusesBadCredentials()).rejects.toThrow(/check accepted the bad config/);
  });

  it('a good config that does not parse with the spec fails, naming the field', async () => {
    const checks = sourceChecks({ connector: memorySource(), config: { apiKey: 42 } as never });
    open.push(checks);
    await expect(checks.spec()).rejects.toThrow(/does not parse with the spec[\s\S]*apiKey/);
  });

  it('a check that does not apply says why', async () => {
    const { webhook: _hook, ...noWebhook } = memorySource();
    const checks = sourceChecks({ connector: noWebhook, config });
    open.push(checks);
    await expect(checks.webhookSignature()).rejects.toThrow(ConformanceSkip);
    await expect(checks.webhookSignature()).rejects.toThrow('connector has no webhook hook');
    await expect(checks.checkRefusesBadCredentials()).rejects.toThrow(/no badConfig given/);
  });

  it('a source with a webhook hook but no webhook requests given fails rather than skipping', async () => {
    const checks = sourceChecks({ connector: memorySource(), config });
    open.push(checks);
    await expect(checks.webhookSignature()).rejects.toThrow(/pass webhook: \{ good, tampered \}/);
  });

  it('setup runs once for all checks and its teardown runs on dispose', async () => {
    const calls: string[] = [];
    const checks = sourceChecks({
      connector: memorySource(),
      setup: async () => {
        calls.push('setup');
        return { config, teardown: async () => void calls.push('teardown') };
      },
      teardown: async () => void calls.push('teardown (options)'),
    });
    await checks.fullRead();
    await checks.incrementalFromState();
    await checks.dispose();
    expect(calls).toEqual(['setup', 'teardown', 'teardown (options)']);
  });
});

// The vitest layer over the same checks, as a connector's own test file would call it.
runSourceConformance({ connector: memorySource(), config, badConfig, webhook });
