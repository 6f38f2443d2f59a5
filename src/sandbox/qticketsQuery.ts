/**
 * The list-query language of QTickets REST v1 as the sandbox understands it: a JSON body
 * `{where, orderBy, page, perPage}` sent with GET. `where` is a list of
 * `{column, operator?, value?}` combined with AND; operators `=` (default), `!=`, `<`, `>`, `<=`,
 * `>=`, `in`, `not in` (also spelled `in array`, `not in array`), `null`, `not null`.
 * Timestamps are compared as instants (`+03:00` and `Z` alike), booleans as 1/0, numeric strings
 * as numbers. Source: https://qtickets.help/article/rest-api/ (reference §2.3, §2.6, §2.9).
 */

/** One `where` clause. `column` may be a dotted path (`city.name`). */
export interface WhereClause {
  column: string;
  operator: string;
  value: unknown;
}

/** A parsed list request. */
export interface ListQuery {
  where: WhereClause[];
  /** Sort keys in order of precedence. @default [['id', 'asc']] */
  orderBy: Array<[string, 'asc' | 'desc']>;
  /** 1-based page. @default 1 */
  page: number;
  /** Page size asked for by the client, if any. */
  perPage: number | undefined;
}

const OPERATORS = new Set([
  '=',
  '!=',
  '<>',
  '<',
  '>',
  '<=',
  '>=',
  'in',
  'not in',
  'in array',
  'not in array',
  'null',
  'not null',
]);
const LIST_OPERATORS = new Set(['in', 'not in', 'in array', 'not in array']);
const INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Reads a request body (already JSON-parsed; undefined when empty).
 * @returns the query, or `{error}` with a message for a 400 answer.
 */
export function parseListQuery(body: unknown): ListQuery | { error: string } {
  const query: ListQuery = { where: [], orderBy: [['id', 'asc']], page: 1, perPage: undefined };
  if (body === undefined || body === null) return query;
  if (!isRecord(body)) return { error: 'The request body must be a JSON object' };
  if (body.where !== undefined) {
    if (!Array.isArray(body.where)) return { error: '"where" must be an array of {column, operator, value}' };
    for (const raw of body.where) {
      if (!isRecord(raw) || typeof raw.column !== 'string')
        return { error: 'each "where" clause needs a "column"' };
      const operator = (typeof raw.operator === 'string' ? raw.operator : '=').trim().toLowerCase();
      if (!OPERATORS.has(operator)) return { error: `unknown operator "${String(raw.operator)}"` };
      const wantsList = LIST_OPERATORS.has(operator);
      if (wantsList && !Array.isArray(raw.value))
        return { error: `operator "${operator}" needs an array value` };
      if (!wantsList && Array.isArray(raw.value))
        return { error: `operator "${operator}" needs a single value` };
      query.where.push({ column: raw.column, operator, value: raw.value });
    }
  }
  if (body.orderBy !== undefined) {
    if (!isRecord(body.orderBy)) return { error: '"orderBy" must be an object {"column": "asc"|"desc"}' };
    const keys = Object.entries(body.orderBy).map(([column, dir]): [string, 'asc' | 'desc'] => [
      column,
      String(dir).toLowerCase() === 'desc' ? 'desc' : 'asc',
    ]);
    if (keys.length > 0) query.orderBy = keys;
  }
  if (body.page !== undefined) {
    const page = positiveInt(body.page);
    if (page === undefined) return { error: '"page" must be a positive integer' };
    query.page = page;
  }
  if (body.perPage !== undefined) query.perPage = positiveInt(body.perPage);
  return query;
}

/** The value at a dotted path of an item. */
export function valueAt(item: unknown, column: string): unknown {
  let current: unknown = item;
  for (const key of column.split('.')) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** A comparable form: numbers (instants as epoch ms, booleans as 1/0), strings, or null. */
function comparable(value: unknown): number | string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (NUMERIC.test(value)) return Number(value);
    if (INSTANT.test(value)) {
      const ms = Date.parse(value.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      if (!Number.isNaN(ms)) return ms;
    }
    return value;
  }
  return JSON.stringify(value);
}

function compare(a: number | string, b: number | string): number | undefined {
  if (typeof a !== typeof b) return undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when the item satisfies one clause. A null field satisfies only `null` and `!=`. */
export function matchesClause(item: unknown, clause: WhereClause): boolean {
  const field = comparable(valueAt(item, clause.column));
  switch (clause.operator) {
    case 'null':
      return field === null;
    case 'not null':
      return field !== null;
    case 'in':
    case 'in array':
    case 'not in':
    case 'not in array': {
      const list = (clause.value as unknown[]).map(comparable);
      const found = field !== null && list.some((v) => v !== null && compare(field, v) === 0);
      return clause.operator.startsWith('not') ? !found : found;
    }
    default: {
      const target = comparable(clause.value);
      if (field === null || target === null) {
        const same = field === target;
        return clause.operator === '='
          ? same
          : clause.operator === '!=' || clause.operator === '<>'
            ? !same
            : false;
      }
      const c = compare(field, target);
      if (c === undefined) return clause.operator === '!=' || clause.operator === '<>';
      switch (clause.operator) {
        case '=':
          return c === 0;
        case '!=':
        case '<>':
          return c !== 0;
        case '<':
          return c < 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        default:
          return c >= 0;
      }
    }
  }
}

/** True when the item satisfies every clause (AND). */
export function matchesWhere(item: unknown, where: readonly WhereClause[]): boolean {
  return where.every((clause) => matchesClause(item, clause));
}

/** A sorted copy; nulls sort first, as in MySQL. */
export function sortItems<T>(items: readonly T[], orderBy: ListQuery['orderBy']): T[] {
  return [...items].sort((x, y) => {
    for (const [column, dir] of orderBy) {
      const a = comparable(valueAt(x, column));
      const b = comparable(valueAt(y, column));
      let c = 0;
      if (a === null || b === null) c = a === b ? 0 : a === null ? -1 : 1;
      else c = compare(a, b) ?? String(a).localeCompare(String(b));
      if (c !== 0) return dir === 'desc' ? -c : c;
    }
    return 0;
  });
}

/** One page of items with QTickets' `paging` (`total` counts items). */
export function paginate<T>(
  items: readonly T[],
  page: number,
  perPage: number,
): { data: T[]; paging: { perPage: number; currentPage: number; total: number } } {
  const start = (page - 1) * perPage;
  return {
    data: items.slice(start, start + perPage),
    paging: { perPage, currentPage: page, total: items.length },
  };
}

/**
 * The range that the clauses on `column` allow, in comparable units (instants as epoch ms, other
 * values as numbers; both bounds inclusive, undefined = open). The sandbox uses it to generate only
 * the days a request can match; the clauses themselves are still applied afterwards.
 */
export function rangeOf(where: readonly WhereClause[], column: string): { min?: number; max?: number } {
  const range: { min?: number; max?: number } = {};
  for (const clause of where) {
    if (clause.column !== column) continue;
    const v = comparable(clause.value);
    if (typeof v !== 'number') continue;
    if (['>', '>=', '='].includes(clause.operator)) range.min = Math.max(range.min ?? -Infinity, v);
    if (['<', '<=', '='].includes(clause.operator)) range.max = Math.min(range.max ?? Infinity, v);
  }
  return range;
}
