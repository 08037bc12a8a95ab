/**
 * Multi-row statements for set-based page loads: rows go out in chunks of `INSERT ... VALUES (...), (...)` (or a
 * `VALUES` table in a `WITH`), a few statements per table per page instead of one per record. On PostgreSQL every
 * statement is a network round trip, so this is what makes a page's cost its data rather than its row count.
 *
 * Chunk sizes are powers of two: a page of any size is cut into a handful of chunks, and the statement texts stay a
 * small fixed set, each prepared once per connection (the SQLite engine keeps every prepared text for the store's life).
 *
 * @example
 * for (const chunk of powerOfTwoChunks(rows, 9)) await tx.run(`INSERT INTO events (...) VALUES ${valueRows(chunk.length, 9)}`, chunk.flat());
 */

/** Bound parameters one statement may carry: SQLite's limit (32,766), the lower of the two engines' (PostgreSQL: 65,535). */
export const MAX_PARAMETERS = 32_766;

/**
 * `rows` cut into chunks whose lengths are powers of two, each at most what `columns` parameters per row allow,
 * largest first, in order.
 *
 * @example
 * [...powerOfTwoChunks(Array(13).fill(0), 1)].map((c) => c.length); // [8, 4, 1]
 */
export function* powerOfTwoChunks<T>(rows: readonly T[], columns: number): Generator<T[]> {
  let most = 1;
  while (most * 2 * columns <= MAX_PARAMETERS) most *= 2;
  let start = 0;
  while (start < rows.length) {
    let size = most;
    while (size > rows.length - start) size /= 2;
    yield rows.slice(start, start + size);
    start += size;
  }
}

/**
 * `(?, ?), (?, ?), ...`: `count` rows of `columns` placeholders each, where a column's placeholder may be wrapped
 * (`cast` gives the text of one placeholder: `CAST(? AS INTEGER)` so PostgreSQL knows a `VALUES` table's types).
 *
 * @example
 * valueRows(2, 3); // '(?, ?, ?), (?, ?, ?)'
 */
export function valueRows(count: number, columns: number, cast: (column: number) => string = () => '?'): string {
  const row = `(${Array.from({ length: columns }, (_, i) => cast(i)).join(', ')})`;
  return Array.from({ length: count }, () => row).join(', ');
}
