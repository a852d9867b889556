/**
 * src/store/schema.ts (SQLite) and src/store/pg/schema.ts (PostgreSQL) are two
 * definitions of one model: the same tables, columns, nullability, defaults,
 * keys, indexes and foreign keys, with the types mapped one way only
 * (docs/hosts.md). A change to one without the other fails here, and so
 * does a schema change whose migration was not generated.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { is } from "drizzle-orm";
import { getTableConfig as pgConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as liteConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as pgSchema from "../../src/store/pg/schema.js";
import * as liteSchema from "../../src/store/schema.js";

/** SQLite column type -> the PostgreSQL types it may become. */
const TYPE_MAP: Record<string, string[]> = {
  SQLiteText: ["PgText"],
  SQLiteInteger: ["PgInteger", "PgBigInt53", "PgSerial"],
  SQLiteBoolean: ["PgBoolean"],
  SQLiteReal: ["PgDoublePrecision"],
};

type Shape = {
  columns: Record<string, { type: string; notNull: boolean; primary: boolean; default: string | null }>;
  primaryKeys: string[][];
  indexes: string[];
  foreignKeys: string[];
};

function dflt(v: unknown): string | null {
  if (v === undefined) return null;
  if (v !== null && typeof v === "object" && "queryChunks" in v) {
    return JSON.stringify((v as { queryChunks: Array<{ value?: unknown }> }).queryChunks.map((c) => c.value ?? c));
  }
  return JSON.stringify(v);
}

function shapeOf(cfg: ReturnType<typeof liteConfig> | ReturnType<typeof pgConfig>): Shape {
  const columns: Shape["columns"] = {};
  for (const c of cfg.columns) {
    columns[c.name] = { type: c.columnType, notNull: c.notNull, primary: c.primary, default: dflt(c.default) };
  }
  return {
    columns,
    primaryKeys: cfg.primaryKeys.map((pk) => pk.columns.map((c) => c.name)),
    indexes: cfg.indexes
      .map((i) => {
        const c = i.config as { name?: string; unique: boolean; columns: Array<{ name?: string }> };
        return `${c.name}${c.unique ? " unique" : ""} (${c.columns.map((x) => x.name).join(", ")})`;
      })
      .sort(),
    foreignKeys: cfg.foreignKeys
      .map((fk) => {
        const r = fk.reference();
        return `${r.columns.map((c) => c.name).join(",")} -> ${r.foreignColumns.map((c) => c.name).join(",")} on delete ${fk.onDelete ?? "no action"}`;
      })
      .sort(),
  };
}

function tables<T>(mod: Record<string, unknown>, isTable: (v: unknown) => v is T, cfg: (t: T) => { name: string }): Map<string, T> {
  const out = new Map<string, T>();
  for (const v of Object.values(mod)) if (isTable(v)) out.set(cfg(v).name, v);
  return out;
}

describe("the PostgreSQL schema matches the SQLite schema", () => {
  const lite = tables(liteSchema, (v): v is SQLiteTable => is(v, SQLiteTable), liteConfig);
  const pg = tables(pgSchema, (v): v is PgTable => is(v, PgTable), pgConfig);

  it("has the same tables", () => {
    expect(lite.size).toBeGreaterThan(10);
    expect([...pg.keys()].sort()).toEqual([...lite.keys()].sort());
  });

  it("has, table by table, the same columns, keys, indexes and foreign keys, with mapped types", () => {
    for (const [name, lt] of lite) {
      const pt = pg.get(name);
      if (!pt) continue; // reported by the test above
      const l = shapeOf(liteConfig(lt));
      const p = shapeOf(pgConfig(pt));
      expect(Object.keys(p.columns).sort(), `${name}: columns`).toEqual(Object.keys(l.columns).sort());
      for (const [col, lc] of Object.entries(l.columns)) {
        const pc = p.columns[col]!;
        expect(TYPE_MAP[lc.type], `${name}.${col}: ${lc.type} has no PostgreSQL mapping`).toBeDefined();
        expect(TYPE_MAP[lc.type], `${name}.${col}: ${lc.type} -> ${pc.type}`).toContain(pc.type);
        expect({ notNull: pc.notNull, primary: pc.primary, default: pc.default }, `${name}.${col}`).toEqual({
          notNull: lc.notNull,
          primary: lc.primary,
          default: lc.default,
        });
      }
      expect(p.primaryKeys, `${name}: primary keys`).toEqual(l.primaryKeys);
      expect(p.indexes, `${name}: indexes`).toEqual(l.indexes);
      expect(p.foreignKeys, `${name}: foreign keys`).toEqual(l.foreignKeys);
    }
  });

  it("stores epoch milliseconds in 64 bits (a 32-bit INTEGER overflows in 1970 + 25 days)", () => {
    for (const t of pg.values()) {
      for (const c of pgConfig(t).columns) {
        if (/(_at|_until|since|^ts|^t)$/.test(c.name)) expect(c.columnType, `${pgConfig(t).name}.${c.name}`).toMatch(/BigInt|Serial/);
      }
    }
  });
});

describe("every schema change has its migration", () => {
  const ROOT = join(import.meta.dirname, "..", "..");
  // drizzle-kit generate on a copy of the migrations folder: it writes nothing when the folder is up to date.
  for (const [dialect, schema, folder] of [
    ["postgresql", "src/store/pg/schema.ts", "migrations-pg"],
    ["sqlite", "src/store/schema.ts", "migrations"],
  ] as const) {
    it(`${folder}/ is up to date with ${schema} (else: drizzle-kit generate)`, () => {
      const dir = mkdtempSync(join(tmpdir(), "aipm-migrations-"));
      try {
        cpSync(join(ROOT, folder), join(dir, folder), { recursive: true });
        const r = spawnSync(join(ROOT, "node_modules", ".bin", "drizzle-kit"), ["generate", "--dialect", dialect, "--schema", join(ROOT, schema), "--out", `./${folder}`], {
          cwd: dir,
          encoding: "utf8",
          timeout: 60_000,
        });
        expect(r.status, r.stderr).toBe(0);
        expect(readdirSync(join(dir, folder)).sort()).toEqual(readdirSync(join(ROOT, folder)).sort());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
