/**
 * The SOQL subset the sandbox understands: `SELECT fields FROM object [WHERE condition] [ORDER BY field [ASC|DESC]
 * [NULLS FIRST|LAST], …] [LIMIT n]`, where a condition is comparisons (`= != <> < <= > >=`, `IN`, `NOT IN`) on
 * fields against strings, numbers, booleans, null, dates and datetimes, joined by AND / OR / NOT and parentheses.
 * Anything else is a `SoqlError` that the routes answer with Salesforce's MALFORMED_QUERY.
 */

export type Literal = string | number | boolean | null | { date: number; kind: 'date' | 'datetime' };

export type Condition =
  | { type: 'and' | 'or'; parts: Condition[] }
  | { type: 'not'; part: Condition }
  | { type: 'compare'; field: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: Literal }
  | { type: 'in'; field: string; negated: boolean; values: Literal[] };

export interface OrderTerm {
  field: string;
  descending: boolean;
  nullsLast: boolean;
}

export interface SoqlQuery {
  fields: string[];
  object: string;
  where: Condition | undefined;
  orderBy: OrderTerm[];
  limit: number | undefined;
}

/** A query outside the subset, or not SOQL at all. */
export class SoqlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SoqlError';
  }
}

type Token = {
  kind: 'word' | 'string' | 'number' | 'datetime' | 'date' | 'op' | 'punct';
  text: string;
  value?: Literal;
};

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\dT:])/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < text.length; j++) {
        const ch = text.charAt(j);
        if (ch === '\\') {
          const next = text.charAt(j + 1);
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          j++;
        } else if (ch === "'") break;
        else value += ch;
      }
      if (j >= text.length) throw new SoqlError('unterminated string literal');
      tokens.push({ kind: 'string', text: value, value });
      i = j + 1;
      continue;
    }
    const datetime = DATETIME.exec(rest);
    if (datetime) {
      const iso = datetime[0].replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
      const ms = Date.parse(iso);
      if (Number.isNaN(ms)) throw new SoqlError(`invalid datetime ${datetime[0]}`);
      tokens.push({ kind: 'datetime', text: datetime[0], value: { date: ms, kind: 'datetime' } });
      i += datetime[0].length;
      continue;
    }
    const date = DATE.exec(rest);
    if (date) {
      tokens.push({ kind: 'date', text: date[0], value: { date: Date.parse(`${date[0]}T00:00:00Z`), kind: 'date' } });
      i += date[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', text: number[0], value: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    const op = /^(<=|>=|!=|<>|=|<|>)/.exec(rest);
    if (op) {
      tokens.push({ kind: 'op', text: op[0] === '<>' ? '!=' : op[0] });
      i += op[0].length;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c });
      i++;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', text: word[0] });
      i += word[0].length;
      continue;
    }
    throw new SoqlError(`unexpected token at: ${rest.slice(0, 20)}`);
  }
  return tokens;
}

const RESERVED = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'ORDER',
  'BY',
  'LIMIT',
  'AND',
  'OR',
  'NOT',
  'IN',
  'ASC',
  'DESC',
  'NULLS',
  'FIRST',
  'LAST',
  'GROUP',
  'HAVING',
  'OFFSET',
  'LIKE',
  'INCLUDES',
  'EXCLUDES',
  'WITH',
  'FOR',
  'USING',
  'TYPEOF',
]);

/**
 * Parses one query of the subset.
 *
 * @example
 * parseSoql("SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-01T00:00:00Z ORDER BY SystemModstamp, Id LIMIT 10")
 */
export function parseSoql(text: string): SoqlQuery {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (word: string, token = peek()) => token?.kind === 'word' && token.text.toUpperCase() === word;
  const expectWord = (word: string) => {
    if (!isWord(word)) throw new SoqlError(`expected ${word} near "${peek()?.text ?? 'end of query'}"`);
    pos++;
  };
  const identifier = (what: string): string => {
    const token = peek();
    if (token?.kind !== 'word' || RESERVED.has(token.text.toUpperCase())) {
      throw new SoqlError(`expected ${what} near "${token?.text ?? 'end of query'}"`);
    }
    pos++;
    return token.text;
  };
  const literal = (): Literal => {
    const token = peek();
    if (!token) throw new SoqlError('expected a value at end of query');
    if (token.kind === 'string' || token.kind === 'number' || token.kind === 'date' || token.kind === 'datetime') {
      pos++;
      return token.value ?? null;
    }
    if (token.kind === 'word') {
      const upper = token.text.toUpperCase();
      if (upper === 'NULL') return (pos++, null);
      if (upper === 'TRUE') return (pos++, true);
      if (upper === 'FALSE') return (pos++, false);
    }
    throw new SoqlError(`unexpected value "${token.text}"`);
  };

  expectWord('SELECT');
  const fields = [identifier('a field')];
  while (peek()?.text === ',') {
    pos++;
    fields.push(identifier('a field'));
  }
  expectWord('FROM');
  const object = identifier('an object');
  if (object.includes('.')) throw new SoqlError(`unexpected "${object}"`);

  const condition = (): Condition => {
    const parts = [conjunction()];
    while (isWord('OR')) {
      pos++;
      parts.push(conjunction());
    }
    return parts.length === 1 ? (parts[0] as Condition) : { type: 'or', parts };
  };
  const conjunction = (): Condition => {
    const parts = [factor()];
    while (isWord('AND')) {
      pos++;
      parts.push(factor());
    }
    return parts.length === 1 ? (parts[0] as Condition) : { type: 'and', parts };
  };
  const factor = (): Condition => {
    if (isWord('NOT')) {
      pos++;
      return { type: 'not', part: factor() };
    }
    if (peek()?.text === '(') {
      pos++;
      const inner = condition();
      if (peek()?.text !== ')') throw new SoqlError('expected )');
      pos++;
      return inner;
    }
    const field = identifier('a field');
    let negated = false;
    if (isWord('NOT')) {
      pos++;
      negated = true;
      if (!isWord('IN')) throw new SoqlError('expected IN after NOT');
    }
    if (isWord('IN')) {
      pos++;
      if (peek()?.text !== '(') throw new SoqlError('expected ( after IN');
      pos++;
      const values = [literal()];
      while (peek()?.text === ',') {
        pos++;
        values.push(literal());
      }
      if (peek()?.text !== ')') throw new SoqlError('expected ) to close IN');
      pos++;
      return { type: 'in', field, negated, values };
    }
    const op = peek();
    if (op?.kind !== 'op')
      throw new SoqlError(`expected a comparison after ${field} near "${op?.text ?? 'end of query'}"`);
    pos++;
    return { type: 'compare', field, op: op.text as '=' | '!=' | '<' | '<=' | '>' | '>=', value: literal() };
  };

  let where: Condition | undefined;
  if (isWord('WHERE')) {
    pos++;
    where = condition();
  }
  const orderBy: OrderTerm[] = [];
  if (isWord('ORDER')) {
    pos++;
    expectWord('BY');
    for (;;) {
      const field = identifier('a field');
      let descending = false;
      if (isWord('ASC')) pos++;
      else if (isWord('DESC')) {
        pos++;
        descending = true;
      }
      let nullsLast = descending;
      if (isWord('NULLS')) {
        pos++;
        if (isWord('FIRST')) nullsLast = false;
        else if (isWord('LAST')) nullsLast = true;
        else throw new SoqlError('expected FIRST or LAST after NULLS');
        pos++;
      }
      orderBy.push({ field, descending, nullsLast });
      if (peek()?.text !== ',') break;
      pos++;
    }
  }
  let limit: number | undefined;
  if (isWord('LIMIT')) {
    pos++;
    const token = peek();
    if (token?.kind !== 'number' || !Number.isInteger(token.value) || (token.value as number) < 0) {
      throw new SoqlError('LIMIT must be a non-negative integer');
    }
    limit = token.value as number;
    pos++;
  }
  if (pos < tokens.length) throw new SoqlError(`unexpected token "${peek()?.text}"`);
  return { fields, object, where, orderBy, limit };
}
