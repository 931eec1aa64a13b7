// The SQLite and PostgreSQL migrations build the same schema: the same tables, columns (name,
// kind of type, nullability, primary key), indexes (name, columns, uniqueness, partial or not)
// and foreign keys. Both backends run the same portable SQL, so a column or index added to one
// migration folder and forgotten in the other fails here rather than in production.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import pino from "pino";
import { openSqlite } from "../../src/store/sqlite.ts";
import { dropSchema, openPostgres } from "../../src/store/postgres.ts";
import { postgresUrl } from "../helpers/harness.ts";

interface Column {
  name: string;
  type: "int" | "text" | "bytes";
  notNull: boolean;
}
interface Index {
  name: string;
  columns: string[];
  unique: boolean;
  partial: boolean;
}
interface Table {
  columns: Column[];
  primaryKey: string[];
  indexes: Index[];
  foreignKeys: string[];
}
type Schema = Record<string, Table>;

/** The kind of a column type, the same for both backends' spellings. */
function kindOf(type: string): Column["type"] {
  const t = type.toLowerCase();
  if (/int|serial/.test(t)) return "int";
  if (/blob|bytea/.test(t)) return "bytes";
  if (/text|char/.test(t)) return "text";
  throw new Error(`unexpected column type ${type}`);
}

function sqliteSchema(path: string): Schema {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const out: Schema = {};
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    for (const { name } of tables) {
      const cols = db.prepare(`PRAGMA table_info(${name})`).all() as { name: string; type: string; notnull: number; pk: number }[];
      const indexes: Index[] = [];
      for (const ix of db.prepare(`PRAGMA index_list(${name})`).all() as { name: string; unique: number; origin: string; partial: number }[]) {
        if (ix.origin === "pk") continue; // the primary key's own index
        const ixCols = (db.prepare(`PRAGMA index_info(${ix.name})`).all() as { seqno: number; name: string }[]).sort((a, b) => a.seqno - b.seqno).map((c) => c.name);
        indexes.push({ name: ix.name, columns: ixCols, unique: ix.unique === 1, partial: ix.partial === 1 });
      }
      const fks = db.prepare(`PRAGMA foreign_key_list(${name})`).all() as { table: string; from: string; to: string }[];
      out[name] = {
        // A PRIMARY KEY column is NOT NULL in PostgreSQL; SQLite reports notnull 0 for INTEGER PRIMARY KEY.
        columns: cols.map((c) => ({ name: c.name, type: kindOf(c.type), notNull: c.notnull === 1 || c.pk > 0 })).sort((a, b) => a.name.localeCompare(b.name)),
        primaryKey: cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
        indexes: indexes.sort((a, b) => a.name.localeCompare(b.name)),
        foreignKeys: fks.map((f) => `${f.from} -> ${f.table}(${f.to})`).sort(),
      };
    }
    return out;
  } finally {
    db.close();
  }
}

async function postgresSchema(client: pg.Client, schema: string): Promise<Schema> {
  const out: Schema = {};
  const tables = (await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name", [schema])).rows;
  for (const { table_name: name } of tables) {
    const cols = (
      await client.query<{ column_name: string; data_type: string; is_nullable: string }>(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
        [schema, name],
      )
    ).rows;
    const pk = (
      await client.query<{ attname: string }>(
        `SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary ORDER BY k.ord`,
        [schema, name],
      )
    ).rows.map((r) => r.attname);
    const ixRows = (
      await client.query<{ name: string; unique: boolean; partial: boolean; columns: string[] }>(
        `SELECT ic.relname AS name, i.indisunique AS unique, i.indpred IS NOT NULL AS partial,
                array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
           FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisprimary`,
        [schema, name],
      )
    ).rows;
    const fks = (
      await client.query<{ def: string }>(
        `SELECT a.attname || ' -> ' || fc.relname || '(' || fa.attname || ')' AS def
           FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_class fc ON fc.oid = k.confrelid
           JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
           JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = k.confkey[1]
          WHERE k.contype = 'f' AND n.nspname = $1 AND c.relname = $2`,
        [schema, name],
      )
    ).rows.map((r) => r.def);
    out[name] = {
      columns: cols.map((c) => ({ name: c.column_name, type: kindOf(c.data_type), notNull: c.is_nullable === "NO" })).sort((a, b) => a.name.localeCompare(b.name)),
      primaryKey: pk,
      indexes: ixRows.map((r) => ({ name: r.name, columns: r.columns, unique: r.unique, partial: r.partial })).sort((a, b) => a.name.localeCompare(b.name)),
      foreignKeys: fks.sort(),
    };
  }
  return out;
}

describe("migrations", () => {
  const dir = mkdtempSync(join(tmpdir(), "taskgate-schema-"));
  const schema = `t_${randomBytes(6).toString("hex")}`;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(postgresUrl, schema);
  });

  it("build the same schema on SQLite and PostgreSQL", async () => {
    const path = join(dir, "taskgate.db");
    await openSqlite({ path }).close();
    const pgdb = await openPostgres({ url: postgresUrl, log: pino({ level: "silent" }), schema });
    await pgdb.close();
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      const lite = sqliteSchema(path);
      const post = await postgresSchema(client, schema);
      expect(Object.keys(lite).length).toBeGreaterThan(5);
      expect(post).toEqual(lite);
    } finally {
      await client.end();
    }
  });
});
