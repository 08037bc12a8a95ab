/** The opening of a dollar-quoted string: `$$` or `$tag$` (a tag never starts with a digit, unlike `$1`). */
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;
const IDENTIFIER_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

/**
 * Rewrites segflow's `?` placeholders as PostgreSQL's `$1..$n`, leaving alone a `?` inside a quoted string (`'…'`,
 * `E'…'`, `$tag$…$tag$`), a quoted identifier (`"…"`) or a comment. Returns the SQL and how many placeholders it has.
 * (The jsonb operators `?`, `?|` and `?&` cannot be written; use `jsonb_exists` and friends.)
 *
 * @example
 * numberPlaceholders("SELECT id FROM contacts WHERE email = ? AND traits <> '?'") // { sql: "... email = $1 AND traits <> '?'", count: 1 }
 */
export function numberPlaceholders(sql: string): { sql: string; count: number } {
  let out = '';
  let count = 0;
  let from = 0;
  let i = 0;
  const n = sql.length;
  const skipTo = (end: number): void => {
    i = end;
  };
  while (i < n) {
    const c = sql[i] as string;
    if (c === '?') {
      out += sql.slice(from, i) + `$${++count}`;
      i++;
      from = i;
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1] as string) && !IDENTIFIER_PART.test(sql[i - 2] ?? ' ');
      let j = i + 1;
      while (j < n) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'") {
          if (sql[j + 1] === "'") j += 2;
          else break;
        } else j++;
      }
      skipTo(j + 1);
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && !(sql[j] === '"' && sql[j + 1] !== '"')) j += sql[j] === '"' ? 2 : 1;
      skipTo(j + 1);
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      skipTo(end === -1 ? n : end + 1);
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      skipTo(j);
    } else if (c === '$' && !IDENTIFIER_PART.test(sql[i - 1] ?? ' ')) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        skipTo(end === -1 ? n : end + tag[0].length);
      } else i++;
    } else i++;
  }
  return { sql: count === 0 ? sql : out + sql.slice(from), count };
}
