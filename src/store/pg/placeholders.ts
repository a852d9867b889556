/**
 * The store's statements are written for better-sqlite3: `?` placeholders,
 * or named ones (`@project`, `:project`, `$project`) bound from an object.
 * PostgreSQL numbers its parameters (`$1`, `$2`…). `toPg` rewrites a
 * statement once (cache the result per statement, as `stmt()` caches prepared
 * statements) and `bindPg` turns a call's arguments into PostgreSQL's array,
 * so a statement's text and its callers stay the same on both backends.
 *
 * Placeholders inside string literals ('…'), quoted identifiers ("…") and
 * comments are left alone, and so are PostgreSQL casts (`x::int`).
 */

export interface PgStatement {
  /** The statement with `$1, $2…`. */
  text: string;
  /** Named placeholders in the order of their numbers; null for positional (`?`) ones. */
  names: string[] | null;
  /** How many parameters the statement takes. */
  count: number;
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

export function toPg(sql: string): PgStatement {
  let out = "";
  let positional = 0;
  const names: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      // A quoted literal or identifier; a doubled quote is an escaped one.
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) break;
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      const j = end === -1 ? sql.length : end;
      out += sql.slice(i, j);
      i = j;
    } else if (c === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      const j = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, j);
      i = j;
    } else if (c === ":" && next === ":") {
      out += "::"; // a cast
      i += 2;
    } else if (c === "?") {
      if (/[0-9]/.test(next ?? "")) throw new Error(`numbered ?NNN placeholders are not supported: ${sql}`);
      positional++;
      out += `$${positional}`;
      i++;
    } else if ((c === "@" || c === ":" || c === "$") && next !== undefined && /[A-Za-z_]/.test(next)) {
      NAME.lastIndex = i + 1;
      const name = NAME.exec(sql)![0];
      let n = names.indexOf(name);
      if (n === -1) n = names.push(name) - 1;
      out += `$${n + 1}`;
      i += 1 + name.length;
    } else {
      out += c;
      i++;
    }
  }
  if (positional > 0 && names.length > 0) throw new Error(`a statement mixes ? and named placeholders: ${sql}`);
  return { text: out, names: names.length > 0 ? names : null, count: positional || names.length };
}

type Value = string | number | bigint | boolean | null;

/**
 * A call's arguments, as better-sqlite3 takes them (`run(a, b)`, `run([a, b])`
 * or `run({ project, task })`), in PostgreSQL's order. `undefined` is an error
 * (better-sqlite3 refuses it too); a missing named parameter is an error.
 */
export function bindPg(stmt: PgStatement, args: readonly unknown[]): Value[] {
  if (stmt.names) {
    const [bag] = args;
    if (args.length !== 1 || bag === null || typeof bag !== "object" || Array.isArray(bag)) {
      throw new Error(`this statement takes named parameters (${stmt.names.join(", ")}): pass one object`);
    }
    return stmt.names.map((n) => {
      if (!(n in bag)) throw new Error(`missing named parameter: ${n}`);
      return value((bag as Record<string, unknown>)[n], n);
    });
  }
  // An empty bag of named parameters for a statement without any (better-sqlite3 takes that too).
  if (stmt.count === 0 && args.length === 1 && isBag(args[0])) return [];
  const flat = args.flatMap((a) => (Array.isArray(a) ? a : [a]));
  if (flat.length !== stmt.count) throw new Error(`this statement takes ${stmt.count} parameters, got ${flat.length}`);
  return flat.map((v, k) => value(v, String(k + 1)));
}

function isBag(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function value(v: unknown, what: string): Value {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return v;
  throw new Error(`parameter ${what}: cannot bind ${v === undefined ? "undefined" : typeof v}`);
}
