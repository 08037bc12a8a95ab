import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createWorld, type World, type WorldTool } from '../../plugins/sandbox/index.js';

const TOOLS: WorldTool[] = ['hubspot', 'salesforce', 'mailchimp'];

/** Everything a world renders for its people, as one JSON text: what the sandboxes serve and the truth tests check. */
function rendering(world: World): string {
  const people = Array.from({ length: world.size }, (_, i) => ({
    person: world.person(i),
    events: world.events(i),
    truth: world.truth(i),
    in: TOOLS.map((tool) => [world.isIn(i, tool), world.updatedAt(i, tool)]),
  }));
  const tools = TOOLS.map((tool) => {
    const order = world.toolOrder(tool);
    return { index: [...world.toolIndex(tool)], order: [...order.indexes], updatedAt: [...order.updatedAt] };
  });
  const lookups = people.map(({ person }) => [
    world.findByEmail(person.email),
    person.tools.hubspot &&
      [person.tools.hubspot.id, ...person.tools.hubspot.mergedIds].map((id) => world.findByToolId('hubspot', id)),
    person.tools.salesforce && world.findByToolId('salesforce', person.tools.salesforce.id),
    person.tools.mailchimp?.audiences.map((m) => world.findByToolId('mailchimp', m.subscriberHash)),
  ]);
  const { seed, size, now, start, processes, audiences, campaigns } = world;
  return JSON.stringify({ seed, size, now, start, processes, audiences, campaigns, people, tools, lookups });
}

describe('the sandbox world, pinned', () => {
  // The sandboxes, the benchmarks and every end-to-end test read the world: a change to what a seed generates changes
  // them all. A deliberate change of the world updates this digest in the same commit, saying why.
  it('generates byte-identical people, events, truth, tool indexes and look-ups for a seed', () => {
    const text =
      rendering(createWorld({ seed: 'pinned', people: 400 })) +
      rendering(createWorld({ seed: 7, people: 60, now: '2025-01-15T12:00:00Z', historyDays: 365 }));
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(createHash('sha256').update(text).digest('hex')).toBe(
      '1b7a0e69186c79130d0d403f5ad1dbac17187be70ac94d908227b0a7975f2e1c',
    );
  });
});
