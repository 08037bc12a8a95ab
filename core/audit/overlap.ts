import type { Queryable } from '../store/store.js';

/** How many people each combination of tools holds, after identity resolution. */
export interface ToolOverlap {
  /** Contacts in the store (not deleted). */
  contacts: number;
  /** Contacts per tool (a contact counts once per tool however many records it has there). */
  byTool: Record<string, number>;
  /** Contacts per exact combination of tools, keyed like `hubspot+mailchimp` (tools sorted). */
  byCombination: Record<string, number>;
  /** Contacts seen by more than one tool. */
  inSeveralTools: number;
}

/**
 * Counts people per tool and per combination of tools, from the identities each contact was seen with.
 *
 * @example
 * toolOverlap(store).byCombination['hubspot+salesforce']; // people in exactly those two tools
 */
export async function toolOverlap(store: Queryable): Promise<ToolOverlap> {
  const rows = (await store.all(`SELECT DISTINCT i.contact_id AS contact, i.source AS tool
         FROM identities i JOIN contacts c ON c.id = i.contact_id
        WHERE c.deleted = 0
        ORDER BY i.contact_id, i.source`)) as { contact: number; tool: string }[];
  const toolsOf = new Map<number, string[]>();
  for (const { contact, tool } of rows) {
    const tools = toolsOf.get(contact);
    if (tools) tools.push(tool);
    else toolsOf.set(contact, [tool]);
  }
  const overlap: ToolOverlap = { contacts: 0, byTool: {}, byCombination: {}, inSeveralTools: 0 };
  overlap.contacts = ((await store.get('SELECT COUNT(*) AS n FROM contacts WHERE deleted = 0')) as { n: number }).n;
  for (const tools of toolsOf.values()) {
    for (const tool of tools) overlap.byTool[tool] = (overlap.byTool[tool] ?? 0) + 1;
    const key = tools.join('+');
    overlap.byCombination[key] = (overlap.byCombination[key] ?? 0) + 1;
    if (tools.length > 1) overlap.inSeveralTools++;
  }
  return overlap;
}

/** Events in the store per source and type. */
export async function eventCounts(store: Queryable): Promise<{ source: string; type: string; events: number }[]> {
  return (await store.all(
    'SELECT source, type, COUNT(*) AS events FROM events GROUP BY source, type ORDER BY source, type',
  )) as { source: string; type: string; events: number }[];
}
