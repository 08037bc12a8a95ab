/**
 * The world's indexes, built on first use and cached: the people in each tool, each tool's records in `updatedAt`
 * order (for incremental reads), and the person behind a tool id or an email.
 */
import { BIT, HUBSPOT_ID_BASE, HUBSPOT_MERGED_BASE, type WorldBasis } from './basis.js';
import { parseSalesforceId, subscriberHash } from './ids.js';
import type { Population } from './people.js';
import type { Person, World, WorldTool } from './types.js';

/** The parts of {@link World} that look people up. */
export type WorldLookups = Pick<World, 'toolIndex' | 'toolOrder' | 'findByToolId' | 'findByEmail'>;

/** The look-ups of a world; `person(i)` builds person `i` (checked). */
export function worldLookups(basis: WorldBasis, pop: Population, person: (i: number) => Person): WorldLookups {
  const { people } = basis;
  const { presenceBits, updatedAtOf, identity } = pop;

  const indexes = new Map<WorldTool, Int32Array>();
  const buildIndexes = () => {
    const counts = { hubspot: 0, salesforce: 0, mailchimp: 0 };
    const bits = new Uint8Array(people);
    for (let i = 0; i < people; i++) {
      const b = presenceBits(i);
      bits[i] = b;
      if (b & 1) counts.hubspot++;
      if (b & 2) counts.salesforce++;
      if (b & 4) counts.mailchimp++;
    }
    for (const tool of ['hubspot', 'salesforce', 'mailchimp'] as const) {
      const out = new Int32Array(counts[tool]);
      let k = 0;
      for (let i = 0; i < people; i++) if (bits[i]! & BIT[tool]) out[k++] = i;
      indexes.set(tool, out);
    }
  };
  const toolIndex = (tool: WorldTool) => {
    if (!indexes.has(tool)) buildIndexes();
    return indexes.get(tool)!;
  };

  const orders = new Map<WorldTool, { indexes: Int32Array; updatedAt: Float64Array }>();
  const toolOrder = (tool: WorldTool) => {
    let order = orders.get(tool);
    if (!order) {
      const idx = toolIndex(tool);
      const times = new Float64Array(people);
      for (const i of idx) times[i] = updatedAtOf(i, tool);
      const sorted = Int32Array.from(idx).sort((a, b) => times[a]! - times[b]! || a - b);
      const updatedAt = new Float64Array(sorted.length);
      for (let k = 0; k < sorted.length; k++) updatedAt[k] = times[sorted[k]!]!;
      order = { indexes: sorted, updatedAt };
      orders.set(tool, order);
    }
    return order;
  };

  let byHash: Map<string, number> | undefined;
  let byEmail: Map<string, number | number[]> | undefined;

  const findByToolId = (tool: WorldTool, rawId: string): number | undefined => {
    const toolId = rawId.trim();
    if (tool === 'hubspot') {
      if (!/^\d+$/.test(toolId)) return undefined;
      const n = Number(toolId);
      if (n >= HUBSPOT_MERGED_BASE) {
        const i = Math.floor((n - HUBSPOT_MERGED_BASE) / 2);
        if (i >= people) return undefined;
        return person(i).tools.hubspot?.mergedIds.includes(toolId) ? i : undefined;
      }
      const i = n - HUBSPOT_ID_BASE;
      return i >= 0 && i < people && presenceBits(i) & BIT.hubspot ? i : undefined;
    }
    if (tool === 'salesforce') {
      const parsed = parseSalesforceId(toolId);
      if (!parsed || parsed.n >= people || !(presenceBits(parsed.n) & BIT.salesforce)) return undefined;
      const sf = person(parsed.n).tools.salesforce;
      const own = parsed.prefix === '003' ? sf?.contactId : parsed.prefix === '00Q' ? sf?.leadId : undefined;
      return own !== undefined && own.startsWith(toolId.slice(0, 15)) ? parsed.n : undefined;
    }
    if (!byHash) {
      byHash = new Map();
      for (const i of toolIndex('mailchimp')) byHash.set(subscriberHash(identity(i).email), i);
    }
    return byHash.get(toolId.toLowerCase());
  };

  const findByEmail = (email: string): number[] => {
    if (!byEmail) {
      byEmail = new Map();
      for (let i = 0; i < people; i++) {
        const e = identity(i).email;
        const seen = byEmail.get(e);
        if (seen === undefined) byEmail.set(e, i);
        else if (typeof seen === 'number') byEmail.set(e, [seen, i]);
        else seen.push(i);
      }
    }
    const hit = byEmail.get(email.trim().toLowerCase());
    return hit === undefined ? [] : typeof hit === 'number' ? [hit] : [...hit];
  };

  return { toolIndex, toolOrder, findByToolId, findByEmail };
}
