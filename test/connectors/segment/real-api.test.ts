/**
 * What Segment's real APIs do and do not offer, and the destination living with it: the Profile API reads one profile
 * at a time (there is no listing of a segment's members), so membership is read back per profile; `check` proves the
 * Profile API token on a real route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  destination,
  readProfilesMembership,
  sandboxConfig,
  type DestinationConfig,
  type SegmentSandbox,
} from '../../../connectors/segment/index.js';
import { createContext, type MembershipChange, type SegmentRef } from '../../../plugins/index.js';
import { contextOf, openSandbox, quiet } from './fixture.js';

let sandbox: SegmentSandbox;
let config: DestinationConfig;

beforeAll(async () => ({ sandbox, config } = await openSandbox('segment-real-api')));
afterAll(() => sandbox.close());

const context = () => contextOf(2);
const gold: SegmentRef = { key: 'gold', name: 'Gold' };
const person = (id: string) => ({ contactId: id, email: `${id}@example.com`, externalIds: [] });
const change = (op: 'add' | 'remove', id: string): MembershipChange => ({
  op,
  contact: person(id),
  messageId: `${op}-${id}`,
});

describe('Segment membership read back', () => {
  it('reads who is in a segment profile by profile, through the Profile API’s per-profile traits route', async () => {
    const ctx = context();
    await destination.write({ segment: gold, changes: [change('add', 'g1'), change('add', 'g2')] }, config, ctx);
    await destination.write({ segment: gold, changes: [change('remove', 'g2')] }, config, ctx);
    const held = await readProfilesMembership(gold, [person('g1'), person('g2'), person('never-seen')], config, ctx);
    expect(held).toEqual([{ externalId: 'g1', email: 'g1@example.com' }]);
    const reads = sandbox.recorder.requests.filter((r) => r.path.includes('/profiles'));
    expect(reads.map((r) => r.path)).toEqual(
      ['g1', 'g2', 'never-seen'].map(
        (id) => `/v1/spaces/${config.spaceId}/collections/users/profiles/user_id:${id}/traits`,
      ),
    );
    expect(reads.every((r) => r.query.include?.[0] === 'gold,email')).toBe(true);
  });

  it('says it cannot list a segment’s members (Segment has no such listing), instead of reading nothing', async () => {
    await expect(destination.readMembership(gold, config, context())).rejects.toThrow(
      /cannot list.*one profile at a time/,
    );
  });

  it('check refuses a wrong Profile API token (the route it calls exists, so a 404 is not mistaken for health)', async () => {
    const result = await destination.check(
      destination.spec.parse({ ...sandboxConfig(sandbox), profilesToken: 'wrong' }),
      context(),
    );
    expect(result.ok).toBe(false);
    expect(await destination.check(config, context())).toMatchObject({ ok: true });
  });

  it('check proves the write key against the source’s keys in the Public API, since the tracking API accepts any key', async () => {
    const wrongKey = { ...sandboxConfig(sandbox), writeKey: 'a-write-key-of-nothing' };
    const refused = await destination.check(destination.spec.parse(wrongKey), context());
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/not one of source .* write keys/);
    const warnings: string[] = [];
    const { publicApiToken: _token, sourceId: _source, ...unprovable } = sandboxConfig(sandbox);
    const unverified = await destination.check(
      destination.spec.parse({ ...unprovable, writeKey: 'a-write-key-of-nothing' }),
      createContext({
        connection: 'segment-test',
        logger: { ...quiet, warn: (message: string) => void warnings.push(message) },
      }),
    );
    expect(unverified).toMatchObject({ ok: true, warning: expect.stringMatching(/write key unverified/) });
    expect(warnings).toEqual([expect.stringMatching(/write key unverified/)]);
  });
});
