import type { Queryable } from '../store/store.js';

/**
 * Request budgets shared through the store by every process calling one tool: an exact rolling window kept as a ring
 * of up to `requests` slots per budget in `rate_budget_slots`, each holding when the request it admitted was last
 * known to be at the tool. A request takes a slot whose time is at least one interval old (one `UPDATE … RETURNING`, `SKIP
 * LOCKED` on PostgreSQL, so callers side by side take different slots) and marks it held; once its answer came back
 * the slot takes the time of the answer, which is no earlier than the request reached the tool. So any window of the
 * interval, on the tool's clock, holds at most `requests` of them, whatever the delays between admission, sending and
 * answer; and the whole limit is usable (a token bucket had to keep slack for those delays).
 */

/** A shared budget: `requests` per rolling `intervalMs`. */
export interface SharedBudget {
  /** The budget's key: the tool and the account it limits (e.g. `hubspot:crm`). */
  key: string;
  requests: number;
  intervalMs: number;
}

/** A slot a request was admitted with, to settle once its answer came back. */
export interface AdmittedSlot {
  slot: number;
  /** The time the slot was marked with while the request is out. */
  heldUntil: number;
}

/**
 * How long a slot stays held for a request that was admitted but never settled (its process died): a request reaches
 * the tool within this time of its admission, or never.
 */
export const SLOT_HOLD_MS = 60_000;

/** The longest wait answered while every usable slot is held by a request in flight (which frees it when answered). */
const IN_FLIGHT_POLL_MS = 250;

/**
 * Takes a slot of the shared budget at `nowMs` (this host's clock: hosts sharing a budget keep their clocks in step,
 * as NTP does): the slot, held until settled; or the milliseconds to wait before asking again.
 *
 * @example
 * for (;;) {
 *   const taken = await takeRequestSlot(store, budget);
 *   if ('slot' in taken) { try { await send(); } finally { await settleRequestSlot(store, budget, taken); } break; }
 *   await sleep(taken.waitMs);
 * }
 */
export async function takeRequestSlot(
  store: Queryable,
  budget: SharedBudget,
  nowMs = Date.now(),
): Promise<AdmittedSlot | { waitMs: number }> {
  const heldUntil = nowMs + SLOT_HOLD_MS;
  const free = nowMs - budget.intervalMs;
  for (let attempt = 0; attempt < 8; attempt++) {
    const taken = (await store.get(
      `UPDATE rate_budget_slots SET at_ms = ?
        WHERE budget = ? AND at_ms <= ? AND slot = (
          SELECT s.slot FROM rate_budget_slots s
           WHERE s.budget = ? AND s.slot < ? AND s.at_ms <= ?
           ORDER BY s.at_ms, s.slot LIMIT 1 ${store.dialect.rowLock('skip')})
        RETURNING slot`,
      [heldUntil, budget.key, free, budget.key, budget.requests, free],
    )) as { slot: number } | undefined;
    if (taken) return { slot: Number(taken.slot), heldUntil };
    const ring = (await store.get(
      'SELECT COUNT(*) AS n, MIN(at_ms) AS oldest FROM rate_budget_slots WHERE budget = ? AND slot < ?',
      [budget.key, budget.requests],
    )) as { n: number; oldest: number | null };
    const slots = Number(ring.n);
    if (slots < budget.requests) {
      // The ring grows by a slot whenever all it has are busy, up to the limit: a high limit costs only the slots its
      // traffic needs. Slots are numbered from 0 without gaps, so the next is the count; a caller adding it at the
      // same moment wins it, and this one looks again.
      const added = (await store.get(
        `INSERT INTO rate_budget_slots (budget, slot, at_ms) VALUES (?, ?, ?)
           ON CONFLICT (budget, slot) DO NOTHING RETURNING slot`,
        [budget.key, slots, heldUntil],
      )) as { slot: number } | undefined;
      if (added) return { slot: slots, heldUntil };
      continue;
    }
    // Free again one interval after the oldest answer (a millisecond later: the tool's window includes its end).
    const oldest = Number(ring.oldest ?? 0);
    return {
      waitMs: oldest > nowMs ? IN_FLIGHT_POLL_MS : Math.max(1, oldest + budget.intervalMs + 1 - nowMs),
    };
  }
  return { waitMs: 1 };
}

/**
 * Settles a slot once its request's answer came back (or it failed) at `doneMs`: the slot is free again one interval
 * later. Unsettled (a process that died), the slot frees itself {@link SLOT_HOLD_MS} after its admission; a slot taken
 * again meanwhile is left alone.
 *
 * @example
 * await settleRequestSlot(store, budget, taken);
 */
export async function settleRequestSlot(
  store: Queryable,
  budget: SharedBudget,
  admitted: AdmittedSlot,
  doneMs = Date.now(),
): Promise<void> {
  await store.run('UPDATE rate_budget_slots SET at_ms = ? WHERE budget = ? AND slot = ? AND at_ms = ?', [
    doneMs,
    budget.key,
    admitted.slot,
    admitted.heldUntil,
  ]);
}
