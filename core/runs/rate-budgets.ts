import type { Queryable } from '../store/store.js';

/**
 * Request budgets shared through the store by every process calling one tool: a token bucket per budget in
 * `rate_budgets`, drawn from with one `UPDATE … RETURNING`, so workers on several hosts together stay under a
 * tool's rolling limit.
 */

/** A shared budget: `requests` per rolling `intervalMs`. */
export interface SharedBudget {
  /** The budget's key: the tool and the account it limits (e.g. `hubspot:crm`). */
  key: string;
  requests: number;
  intervalMs: number;
}

/**
 * The bucket's shape for a rolling limit of `requests` per `intervalMs`: it refills at 95% of the limit and holds at
 * most 4% of it (at least one), so any window of `intervalMs` admits at most capacity + 95% ≤ 99% of the limit — the
 * rest is slack for requests that reach the tool later than they were admitted.
 */
export function bucketOf(budget: SharedBudget): { capacity: number; perMs: number } {
  return {
    capacity: Math.max(1, Math.floor(budget.requests * 0.04)),
    perMs: (budget.requests * 0.95) / budget.intervalMs,
  };
}

/**
 * Takes one request from the shared budget at `nowMs` (this host's clock: hosts sharing a budget keep their clocks
 * in step, as NTP does). Returns 0 when admitted, else the milliseconds to wait before asking again.
 *
 * @example
 * for (let wait; (wait = await admitRequest(store, budget)) > 0; ) await sleep(wait);
 */
export async function admitRequest(store: Queryable, budget: SharedBudget, nowMs = Date.now()): Promise<number> {
  const { capacity, perMs } = bucketOf(budget);
  const d = store.dialect;
  // Tokens now: what the row held plus the refill since, capped; a clock behind the row's refills nothing.
  const real = `CAST(? AS ${d.types.real})`;
  const ms = `CAST(? AS ${d.types.integer})`;
  const tokens = d.least(real, `tokens + (${d.greatest(ms, 'updated_ms')} - updated_ms) * ${real}`);
  const taken = (await store.get(
    `UPDATE rate_budgets SET tokens = ${tokens} - 1, updated_ms = ${d.greatest(ms, 'updated_ms')}
      WHERE budget = ? AND ${tokens} >= 1 RETURNING tokens`,
    [capacity, nowMs, perMs, nowMs, budget.key, capacity, nowMs, perMs],
  )) as { tokens: number } | undefined;
  if (taken) return 0;
  const row = (await store.get(`SELECT ${tokens} AS tokens FROM rate_budgets WHERE budget = ?`, [
    capacity,
    nowMs,
    perMs,
    budget.key,
  ])) as { tokens: number } | undefined;
  if (row === undefined) {
    // A new budget starts full, less this request.
    await store.run(
      `INSERT INTO rate_budgets (budget, tokens, updated_ms) VALUES (?, ?, ?) ON CONFLICT (budget) DO NOTHING`,
      [budget.key, capacity, nowMs],
    );
    return admitRequest(store, budget, nowMs);
  }
  return Math.max(1, Math.ceil((1 - row.tokens) / perMs));
}
