// SQLite backend through Node's built-in node:sqlite: one connection in WAL mode, prepared
// statements cached by SQL text, transactions serialized in-process (SQLite has one writer; a
// queue here keeps an `await` inside one transaction from interleaving another's statements).
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Capabilities, Database, Row, Sql, SqlValue } from "./db.ts";
import { internalFailure } from "../faults.ts";

/** Options of the SQLite backend. */
export interface SqliteOptions {
  /** File path, or `:memory:`. The directory is created when missing. */
  path: string;
  /**
   * `normal` (default): WAL with synchronous=NORMAL — a committed call survives a crash or
   * SIGKILL of the process; the last commits can be lost only if the machine itself loses power.
   * `full`: synchronous=FULL — every commit is fsynced before it is acknowledged.
   */
  sync?: "normal" | "full";
}

const caps: Capabilities = { claimSuffix: "", lockSuffix: "", shared: false };

/** Opens (creating and migrating) a SQLite database. */
export function openSqlite(opts: SqliteOptions): Database {
  if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
  const db = new DatabaseSync(opts.path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${opts.sync === "full" ? "FULL" : "NORMAL"}`);
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  migrate(db);

  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const sql: Sql = {
    all: async (q, p = []) => prepare(q).all(...(p as SqlValue[])) as Row[],
    get: async (q, p = []) => prepare(q).get(...(p as SqlValue[])) as Row | undefined,
    run: async (q, p = []) => ({ changes: Number(prepare(q).run(...(p as SqlValue[])).changes) }),
  };

  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  const subscribers = new Map<string, Set<(payload: string) => void>>();

  return {
    caps,
    tx<T>(fn: (s: Sql) => Promise<T>): Promise<T> {
      const run = async (): Promise<T> => {
        if (closed) throw internalFailure(new Error("database closed"));
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(sql);
          db.exec("COMMIT");
          return result;
        } catch (e) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw e;
        }
      };
      const p = tail.then(run, run);
      tail = p.catch(() => undefined);
      return p;
    },
    async publish(channel, payload) {
      // One process owns a SQLite file: a nudge only reaches this process's own subscribers.
      for (const fn of subscribers.get(channel) ?? []) fn(payload);
    },
    subscribe(channel, fn) {
      let set = subscribers.get(channel);
      if (!set) subscribers.set(channel, (set = new Set()));
      set.add(fn);
      return () => set.delete(fn);
    },
    healthy: () => !closed,
    async close() {
      await tail;
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/** Applies the numbered migrations under migrations/sqlite/ that are not yet recorded, each in one transaction. */
function migrate(db: DatabaseSync): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)");
  const dir = new URL("./migrations/sqlite/", import.meta.url);
  const applied = new Set((db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version));
  for (const file of readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()) {
    const version = Number.parseInt(file, 10);
    if (applied.has(version)) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(readFileSync(new URL(file, dir), "utf8"));
      db.prepare("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)").run(version, file, Date.now());
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw new Error(`migration ${file} failed: ${(e as Error).message}`, { cause: e });
    }
  }
}
