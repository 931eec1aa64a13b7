// SQLite backend through Node's built-in node:sqlite: one connection in WAL mode, prepared
// statements cached by SQL text, transactions serialized in-process (SQLite has one writer; a
// queue here keeps an `await` inside one transaction from interleaving another's statements).
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { Capabilities, Database, Row, Sql, SqlValue } from "./db.ts";
import type { CheckpointerData } from "./sqlite-checkpoint.ts";
import { Fault, internalFailure, serviceUnavailable, storeCannotWrite } from "../faults.ts";

/** SQLite primary result codes (the low byte of an extended code) that mean the store cannot write now. */
const cannotWrite = new Set([
  7, // SQLITE_NOMEM
  8, // SQLITE_READONLY (file or directory permissions, a read-only mount)
  10, // SQLITE_IOERR (the disk failed a read or write)
  13, // SQLITE_FULL (disk full)
  14, // SQLITE_CANTOPEN (a journal or WAL file could not be created)
]);
/** Result codes that mean the store is busy: the call may be retried as it is. */
const busy = new Set([
  5, // SQLITE_BUSY
  6, // SQLITE_LOCKED
]);

/** The SQLite result code of an error from node:sqlite, if it is one. */
function resultCode(e: unknown): number | undefined {
  return e instanceof Error && "errcode" in e && typeof e.errcode === "number" ? e.errcode & 0xff : undefined;
}

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
  /** Where storage failures (disk full, I/O errors) and recoveries are logged. */
  log?: Logger;
}

const caps: Capabilities = { claimSuffix: "", lockSuffix: "", shared: false, writableCte: false, roundTripPerStatement: false };

/** Opens (creating and migrating) a SQLite database. */
export function openSqlite(opts: SqliteOptions): Database {
  const log = opts.log;
  if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
  // One process owns the file (node liveness relies on it: other node rows are earlier runs of
  // this server). An exclusive lock on a companion file `<path>-lock`, held for the life of the
  // store, makes that a rule: a second taskgate on the same file fails at start instead of sharing
  // it. (The database itself is not opened in exclusive locking mode: the checkpointer thread
  // needs a connection of its own.)
  const lock = opts.path === ":memory:" ? undefined : ownFile(opts.path);
  const db = new DatabaseSync(opts.path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
  } catch (e) {
    db.close();
    lock?.close();
    throw e;
  }
  db.exec(`PRAGMA synchronous = ${opts.sync === "full" ? "FULL" : "NORMAL"}`);
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  // The group commit runs each transaction of a batch in a SAVEPOINT, whose statement journal
  // (the pages' contents before it) SQLite spills to a temporary file once it passes 64 KiB:
  // opened, written page by page and unlinked, inside the COMMIT's critical path (about half the
  // write calls of a busy server). In memory it costs no system call; it is never needed after a
  // crash (an uncommitted transaction is not in the WAL).
  db.exec("PRAGMA temp_store = MEMORY");
  migrate(db);
  // Checkpoints run on the checkpointer thread; SQLite's own auto-checkpoint stays as a backstop
  // far above what the thread leaves behind (it only acts if the thread cannot keep up), and the
  // WAL file is cut back to 64 MiB whenever it restarts.
  const checkpointer = opts.path === ":memory:" ? undefined : startCheckpointer(opts.path, log);
  if (checkpointer) {
    db.exec("PRAGMA wal_autocheckpoint = 65536");
    db.exec(`PRAGMA journal_size_limit = ${64 * 1024 * 1024}`);
  }

  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  // Whether the last write reached the disk: false from a failed write (disk full, I/O error,
  // read-only) until a transaction that wrote commits again; drives readiness on /healthz.
  let writable = true;
  let wrote = false;
  /** A storage failure as the retryable fault, marking the store unwritable; any other error as it is. */
  const classify = (e: unknown): unknown => {
    if (e instanceof Fault) return e;
    const code = resultCode(e);
    if (code !== undefined && cannotWrite.has(code)) {
      if (writable) log?.error({ err: e }, "the SQLite database cannot write; calls answer ServiceUnavailable until a write succeeds");
      writable = false;
      return storeCannotWrite(e);
    }
    if (code !== undefined && busy.has(code)) return serviceUnavailable(e, "The service's database is busy; nothing was changed. Retry the request.");
    return e;
  };
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw classify(e);
    }
  };
  const sql: Sql = {
    all: async (q, p = []) => guard(() => prepare(q).all(...(p as SqlValue[])) as Row[]),
    get: async (q, p = []) => guard(() => prepare(q).get(...(p as SqlValue[])) as Row | undefined),
    run: async (q, p = []) => {
      wrote = true;
      return guard(() => ({ changes: Number(prepare(q).run(...(p as SqlValue[])).changes) }));
    },
  };

  // Group commit: transactions that queue up while one runs are applied together under one
  // BEGIN/COMMIT, each inside its own SAVEPOINT (a failing one rolls back alone), and answered only
  // after that COMMIT. Under concurrency this turns N commits into one; alone, a transaction
  // commits by itself at once.
  interface Pending {
    fn: (s: Sql) => Promise<unknown>;
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
  }
  let queue: Pending[] = [];
  let draining: Promise<void> | undefined;
  let closed = false;
  const subscribers = new Map<string, Set<(payload: string) => void>>();
  const maxBatch = 64;

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      const outcomes: { ok: boolean; value: unknown }[] = [];
      wrote = false;
      try {
        db.exec("BEGIN IMMEDIATE");
        for (const p of batch) {
          if (batch.length > 1) db.exec("SAVEPOINT tx");
          try {
            const value = await p.fn(sql);
            if (batch.length > 1) db.exec("RELEASE tx");
            outcomes.push({ ok: true, value });
          } catch (e) {
            // After a full disk or an I/O error SQLite may roll the whole transaction back itself:
            // then every transaction of the batch is lost, and the batch fails with this cause.
            if (!db.isTransaction) throw e;
            if (batch.length > 1) {
              db.exec("ROLLBACK TO tx");
              db.exec("RELEASE tx");
            } else db.exec("ROLLBACK");
            outcomes.push({ ok: false, value: e });
          }
        }
        if (db.isTransaction) db.exec("COMMIT");
        else if (outcomes.some((o) => o.ok)) throw internalFailure(new Error("SQLite rolled back a transaction whose statement errors were caught"));
      } catch (e) {
        // BEGIN or COMMIT failed, or SQLite rolled the transaction back: nothing of the batch was written.
        try {
          if (db.isTransaction) db.exec("ROLLBACK");
        } catch (re) {
          log?.warn({ err: re }, "rollback failed");
        }
        const fault = classify(e);
        for (const p of batch) p.reject(fault);
        continue;
      }
      if (wrote && !writable && outcomes.some((o) => o.ok)) {
        writable = true;
        log?.info("the SQLite database writes again");
      }
      batch.forEach((p, i) => (outcomes[i].ok ? p.resolve(outcomes[i].value) : p.reject(outcomes[i].value)));
    }
  };

  // Starts draining unless a drain is under way or about to start; a drain that ends re-checks the
  // queue, so a transaction queued while it was finishing is never stranded. A drain starts on the
  // next turn of the event loop (setImmediate), after the I/O callbacks of this turn: requests
  // that arrived together then share one BEGIN/COMMIT instead of each paying its own (at 16
  // concurrent workers, 2.1 commits per task became ~1).
  let starting = false;
  const kick = (): void => {
    if (draining || starting || queue.length === 0) return;
    starting = true;
    setImmediate(() => {
      starting = false;
      if (draining || queue.length === 0) return;
      draining = drain().finally(() => {
        draining = undefined;
        kick();
      });
    });
  };

  return {
    caps,
    tx<T>(fn: (s: Sql) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(internalFailure(new Error("database closed")));
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        kick();
      });
    },
    async publishInTx(_sql, channel, payload) {
      // Delivered after the transaction's (group) commit, like PostgreSQL's NOTIFY.
      const p = draining ?? Promise.resolve();
      void p.then(() => {
        for (const fn of subscribers.get(channel) ?? []) fn(payload);
      });
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
    healthy: () => !closed && writable,
    async close() {
      while (draining || starting) await (draining ?? new Promise((resolve) => setImmediate(resolve)));
      if (closed) return;
      closed = true;
      await checkpointer?.stop();
      try {
        // Leaves the database file complete and the WAL empty for whoever opens it next.
        if (checkpointer) db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch (e) {
        log?.warn({ err: e }, "the final checkpoint failed; the WAL keeps the commits");
      }
      db.close();
      lock?.close();
    },
  };
}

/**
 * Takes the exclusive lock on `<path>-lock` for the life of the store (released when the
 * connection closes or the process dies), or fails when another process holds it.
 */
function ownFile(path: string): DatabaseSync {
  const lock = new DatabaseSync(`${path}-lock`);
  try {
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE");
    return lock;
  } catch (e) {
    lock.close();
    if (/locked|busy/i.test((e as Error).message))
      throw new Error(`the SQLite database ${path} is in use by another process: one taskgate process owns a SQLite file (run several nodes on PostgreSQL)`, { cause: e });
    throw e;
  }
}

/** Starts the checkpointer thread (sqlite-checkpoint.ts) on the database file. */
function startCheckpointer(path: string, log: Logger | undefined): { stop(): Promise<void> } {
  const worker = new Worker(new URL("./sqlite-checkpoint.ts", import.meta.url), { workerData: { path } satisfies CheckpointerData });
  worker.unref();
  let lastError = "";
  worker.on("message", (m: { error?: string }) => {
    if (m.error !== undefined && m.error !== lastError) log?.warn({ error: m.error }, "the SQLite checkpoint failed; it is retried (the WAL keeps every commit)");
    lastError = m.error ?? "";
  });
  worker.on("error", (e) => log?.error({ err: e }, "the SQLite checkpointer stopped; SQLite checkpoints in the serving thread from now on"));
  return {
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        worker.once("exit", () => resolve());
        worker.on("message", (m: { stopped?: boolean }) => {
          if (m.stopped) void worker.terminate();
        });
      });
      worker.postMessage({ stop: true });
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await stopped;
      clearTimeout(timer);
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
