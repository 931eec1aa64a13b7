// PostgreSQL backend through node-postgres: a pool of connections, statements as named prepared
// statements (parsed once per connection), one dedicated connection for LISTEN.
//
// Round trips: a transaction's BEGIN travels with its first statement, and writes whose outcome
// nobody reads (`Sql.write`) with its next statement or its COMMIT, as one simple query with the
// values inlined as literals (`inline`); every other statement is a prepared statement of its own.
//
// Invariants:
// - The portable SQL of src/store/ runs unchanged: `?` placeholders become `$1..$n` (outside
//   quotes and comments; dollar-quoted and E'' strings are not recognized and must not appear).
// - BIGINT and NUMERIC results are JS numbers (per-pool type parsers, the global pg.types is left
//   alone); BYTEA is a Buffer, which is a Uint8Array.
// - A transaction that hits a serialization failure (40001) or a deadlock (40P01) is re-run whole,
//   up to 5 attempts: callers' functions only touch the database, so re-running them is safe.
// - A lost or refused connection surfaces as the `serviceUnavailable` fault and marks the database
//   unhealthy until a statement succeeds again. The one exception is a connection lost while
//   COMMIT was in flight: whether it committed is unknown, so that is an `internalFailure`.
// - Concurrent migrators (several nodes starting on an empty database) are serialized by a
//   transaction-scoped advisory lock; each re-reads the ledger after taking it.
// - Text holds any string, U+0000 included, which PostgreSQL's text type cannot: every string bound
//   to a statement or sent with NOTIFY is encoded by encodeText, every string read back (and every
//   NOTIFY payload) decoded by decodeText. Equal strings stay equal, so lookups by a key with U+0000
//   find what was stored under it and nothing else, as on SQLite.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Logger } from "pino";
import { write, type Capabilities, type Database, type Row, type Sql, type SqlValue } from "./db.ts";
import { Fault, internalFailure, serviceUnavailable, storeCannotWrite } from "../faults.ts";

/** Options of the PostgreSQL backend. */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/database` (libpq parameters in the query string are honored). */
  url: string;
  log: Logger;
  /** Connections in the pool (default 10); the LISTEN connection comes on top. */
  poolSize?: number;
  /**
   * Schema holding taskgate's tables (created when missing, made the `search_path` of every
   * connection) and prefixing NOTIFY channels, so several taskgates can share one database
   * without hearing each other. Lowercase letters, digits and `_`. Default: the server's
   * search_path (normally `public`) and unprefixed channels.
   */
  schema?: string;
  /**
   * How long to wait for a new connection, or for a free one when all `poolSize` are busy, before
   * the call fails with `serviceUnavailable` (default 10000 ms).
   */
  connectTimeoutMs?: number;
}

/** First key of taskgate's advisory locks on task owners ('tg' 'o'); the second is the owner's hash. */
const ownerLockClass = 0x74676f;
const caps: Capabilities = {
  claimSuffix: " FOR UPDATE SKIP LOCKED",
  lockSuffix: " FOR UPDATE",
  shared: true,
  writableCte: true,
  roundTripPerStatement: true,
  ownerLock: (column) => `pg_try_advisory_xact_lock(${ownerLockClass}, hashtext(${column}))`,
};

/** Attempts of a transaction that keeps hitting serialization failures or deadlocks. */
const maxAttempts = 5;
/** Key of the advisory lock serializing migrators ('taskgate' in ASCII); one per database. */
const migrationLock = "8386112013623256165";
const schemaName = /^[a-z_][a-z0-9_]{0,62}$/;

// int8 (COUNT, ids, *_ms) and numeric (SUM, AVG) as numbers: every value taskgate stores is far
// below 2^53.
const toNumber = (v: string): number => Number(v);
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20 || oid === 1700 ? toNumber : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

/** Opens a PostgreSQL database: connects, creates the schema if asked, applies pending migrations. */
export async function openPostgres(opts: PostgresOptions): Promise<Database> {
  const { log, schema } = opts;
  if (schema !== undefined && !schemaName.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}: use lowercase letters, digits and _`);
  const base: pg.ClientConfig = {
    connectionString: opts.url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    keepAlive: true,
  };
  const pool = new pg.Pool({
    ...base,
    max: opts.poolSize ?? 10,
    types,
    application_name: "taskgate",
    // The schema need not exist yet: search_path names are resolved at each use.
    ...(schema === undefined ? {} : { options: `-c search_path=${pg.escapeIdentifier(schema)}` }),
  });
  // A connection that dies while idle in the pool is removed by the pool, which then emits
  // 'error'; unhandled, that would crash the process.
  pool.on("error", (e) => log.warn({ err: e }, "idle database connection failed; it was dropped from the pool"));

  let ok = true;
  // Whether writes succeed: false from a write the server could not store (disk full, out of
  // memory, I/O error, a read-only standby) until a transaction that wrote commits again.
  let writable = true;
  const unwritable = (e: unknown): void => {
    if (!writable) return;
    writable = false;
    log.error({ err: e }, "the database cannot store changes; calls answer ServiceUnavailable until a write succeeds");
  };
  const up = (): void => {
    if (ok) return;
    ok = true;
    log.info("database reachable again");
  };
  const down = (e: unknown): void => {
    if (!ok) return;
    ok = false;
    log.warn({ err: e }, "database unreachable");
  };

  try {
    await migrate(pool, schema, log);
  } catch (e) {
    await pool.end().catch(() => undefined);
    if (isConnectionError(e)) throw serviceUnavailable(e);
    throw e;
  }

  const fullChannel = (channel: string): string => (schema === undefined ? channel : `${schema}.${channel}`);
  const listener = createListener({ ...base, application_name: "taskgate-listen" }, log.child({ component: "pg-listen" }));

  let closed = false;
  const inflight = new Set<Promise<unknown>>();

  /**
   * One statement on a transaction's connection, recording what its failure means. Writes held
   * back (`Sql.write`) go first, in the same round trip: one simple query with the statement's
   * values inlined too (its result is the query's last).
   */
  async function exec(conn: Conn, text: string, values?: readonly SqlValue[]): Promise<pg.QueryResult<Row>> {
    if (conn.held.length === 0) return send(conn, text, values);
    return send(conn, `${held(conn)};\n${values === undefined ? text : inline(text, values)}`);
  }

  /** The writes held back on a connection as one simple-protocol text (taken off the connection). */
  function held(conn: Conn): string {
    const text = conn.held.join(";\n");
    conn.held = [];
    return text;
  }

  /**
   * Sends a statement: with values as a named prepared statement, without as a simple query,
   * which may hold several statements (the last one's result is returned).
   */
  async function send(conn: Conn, text: string, values?: readonly SqlValue[]): Promise<pg.QueryResult<Row>> {
    if (conn.done) throw internalFailure(new Error("statement issued after its transaction ended"));
    // The transaction's BEGIN travels with its first statement, in one simple query.
    const first = !conn.begun;
    if (first) {
      text = `BEGIN;\n${values === undefined ? text : inline(text, values)}`;
      values = undefined;
      conn.begun = true;
    }
    try {
      const r = values === undefined ? await conn.client.query<Row>(text) : await conn.client.query<Row>({ ...prepared(text), values: values.map(encodeValue) });
      up();
      // A simple query of several statements answers with one result per statement.
      const last = (Array.isArray(r) ? r[r.length - 1] : r) as pg.QueryResult<Row>;
      for (const row of last.rows) decodeRow(row);
      return last;
    } catch (e) {
      if (isConnectionError(e)) {
        if (first) conn.lostAtBegin = true;
        conn.broken ??= e;
        down(e);
        throw serviceUnavailable(e);
      }
      if (isConflict(e)) conn.conflict = true;
      if (isCannotWrite(e)) {
        unwritable(e);
        throw storeCannotWrite(e);
      }
      throw e;
    }
  }

  function bind(conn: Conn): Sql {
    return {
      all: async (q, p = []) => (await exec(conn, q, p)).rows,
      get: async (q, p = []) => (await exec(conn, q, p)).rows[0],
      run: async (q, p = []) => {
        conn.wrote = true;
        return { changes: (await exec(conn, q, p)).rowCount ?? 0 };
      },
      // Held back, as text with its values written in as literals, until the next statement or
      // the COMMIT, which carries it to the server in the same round trip.
      write: async (q, p = []) => {
        if (conn.done) throw internalFailure(new Error("statement issued after its transaction ended"));
        conn.wrote = true;
        conn.held.push(inline(q, p));
      },
    };
  }

  /** One attempt of a transaction: its value, or a reason to run it again. */
  async function attempt<T>(fn: (s: Sql) => Promise<T>, last: boolean): Promise<{ value: T } | { retry: unknown }> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      // A wait for a free connection that timed out says the pool is busy, not that the
      // database is gone.
      if (!(e instanceof Error && /timeout exceeded when trying to connect/.test(e.message))) down(e);
      throw serviceUnavailable(e);
    }
    const conn: Conn = { client, broken: undefined, conflict: false, done: false, wrote: false, held: [], begun: false, lostAtBegin: false };
    // The pool's own listener drops a client whose connection fails; this one remembers it.
    const onError = (e: Error): void => {
      conn.broken ??= e;
    };
    client.on("error", onError);
    let phase: "begin" | "body" | "commit" = "begin";
    let brokenBeforeCommit = false;
    try {
      // BEGIN is sent with the first statement (send).
      phase = "body";
      const value = await fn(bind(conn));
      brokenBeforeCommit = conn.broken !== undefined;
      phase = "commit";
      // Writes still held back travel with the COMMIT, in one simple query.
      // A transaction that sent nothing has nothing to commit.
      if (!conn.begun && conn.held.length === 0) return { value };
      const r = conn.held.length > 0 ? await send(conn, `${held(conn)};\nCOMMIT`) : await send(conn, "COMMIT");
      if (r.command === "ROLLBACK") {
        // A statement failed, fn caught its error and went on: PostgreSQL had aborted the
        // transaction, and COMMIT rolled it back.
        if (conn.conflict && !last) return { retry: new Error("transaction aborted by a serialization failure or deadlock") };
        throw internalFailure(new Error("transaction rolled back: a statement inside it failed and its error was caught"));
      }
      if (conn.wrote && !writable) {
        writable = true;
        log.info("the database stores changes again");
      }
      return { value };
    } catch (e) {
      // A COMMIT that failed without losing the connection (a held-back write before it failed)
      // left the transaction aborted, or ended it: ROLLBACK at most warns that none is open.
      if (conn.broken === undefined && conn.begun) {
        try {
          await conn.client.query("ROLLBACK");
        } catch (re) {
          if (isConnectionError(re)) conn.broken = re;
          else log.warn({ err: re }, "rollback failed");
        }
      }
      if (conn.broken !== undefined) {
        // A pooled connection that died before BEGIN ran: nothing happened, try a fresh one.
        if ((phase === "begin" || conn.lostAtBegin) && !last) return { retry: e };
        if (phase === "commit" && !brokenBeforeCommit) {
          throw internalFailure(new Error("the database connection was lost during COMMIT; the transaction may or may not have committed", { cause: conn.broken }));
        }
        if (e instanceof Fault) throw e;
        throw serviceUnavailable(conn.broken);
      }
      if (conn.conflict) {
        if (!last) return { retry: e };
        throw e instanceof Fault ? e : serviceUnavailable(e);
      }
      throw e;
    } finally {
      conn.done = true;
      client.off("error", onError);
      client.release(conn.broken === undefined ? undefined : conn.broken instanceof Error ? conn.broken : new Error(String(conn.broken)));
    }
  }

  async function run<T>(fn: (s: Sql) => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      const r = await attempt(fn, n === maxAttempts);
      if ("value" in r) return r.value;
      log.debug({ err: r.retry, attempt: n }, "transaction retried");
      await sleep(Math.floor(Math.random() * 20 * n) + 1);
    }
  }

  return {
    caps,
    tx<T>(fn: (s: Sql) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(internalFailure(new Error("database closed")));
      const p = run(fn);
      inflight.add(p);
      const forget = (): void => void inflight.delete(p);
      p.then(forget, forget);
      return p;
    },
    async publishInTx(sql, channel, payload) {
      // Nothing to read back: held and sent with the COMMIT.
      await write(sql, "SELECT pg_notify(?, ?)", [fullChannel(channel), payload]);
    },
    async publish(channel, payload) {
      if (closed) return;
      try {
        await pool.query("SELECT pg_notify($1, $2)", [fullChannel(channel), encodeText(payload)]);
        up();
      } catch (e) {
        if (isConnectionError(e)) down(e);
        log.warn({ err: e, channel }, "publish failed");
      }
    },
    subscribe(channel, fn) {
      if (closed) return () => undefined;
      return listener.subscribe(fullChannel(channel), fn);
    },
    healthy: () => ok && writable && !closed,
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await Promise.allSettled([...inflight]);
      await pool.end();
    },
  };
}

/** Drops a schema and everything in it (test cleanup). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!schemaName.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** A transaction's connection and what went wrong on it. */
interface Conn {
  client: pg.PoolClient;
  /** The connection error, once the connection broke: it goes back to the pool to be destroyed. */
  broken: unknown;
  /** A statement failed with a serialization failure or deadlock: the transaction may be re-run. */
  conflict: boolean;
  /** The transaction ended; its Sql must not be used any more. */
  done: boolean;
  /** The transaction ran a statement that writes (run or write). */
  wrote: boolean;
  /** Writes held back (`Sql.write`), as statement texts with their values inlined, in order. */
  held: string[];
  /** BEGIN was sent (with the transaction's first statement). */
  begun: boolean;
  /** The connection broke on the message carrying BEGIN: nothing of the transaction ran. */
  lostAtBegin: boolean;
}

// ---- statements ----

interface Prepared {
  name: string;
  text: string;
}

// SQL texts are a finite set (values are always bound, never inlined), so the cache stays small.
const statements = new Map<string, Prepared>();

/** The `$n` form of a portable statement and its prepared-statement name (same text, same name). */
function prepared(sql: string): Prepared {
  let s = statements.get(sql);
  if (!s) {
    const text = positional(sql);
    s = { name: `tg_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`, text };
    statements.set(sql, s);
  }
  return s;
}

/** Rewrites `?` placeholders to `$1..$n`, leaving quoted strings, identifiers and comments alone. */
export function positional(sql: string): string {
  return placeholders(sql, (n) => `$${n}`);
}

/**
 * A statement with its values written in as literals, for a simple query. Every value becomes a
 * quoted literal of unknown type, which PostgreSQL resolves from the context as it resolves a
 * bound parameter (node-postgres sends every parameter as text of unknown type): strings encoded
 * as bound strings are (encodeText), numbers in their decimal form, bytes in bytea's hex form.
 */
export function inline(sql: string, values: readonly SqlValue[]): string {
  const text = placeholders(sql, (n) => {
    if (n > values.length) throw new Error(`statement has more placeholders than the ${values.length} values given`);
    return literal(values[n - 1]!);
  });
  return text;
}

function literal(v: SqlValue): string {
  if (v === null) return "NULL";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`cannot store ${v}`);
    return `'${String(v)}'`;
  }
  if (typeof v === "string") return pg.escapeLiteral(encodeText(v));
  return pg.escapeLiteral(`\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`);
}

/** Rewrites each `?` placeholder (outside quotes and comments) to `f(n)`, n counting from 1. */
function placeholders(sql: string, f: (n: number) => string): string {
  let out = "";
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2; // a doubled quote inside the literal
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      const j = end === -1 ? sql.length : end;
      out += sql.slice(i, j);
      i = j;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      const j = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, j);
      i = j;
    } else {
      out += c === "?" ? f(++n) : c;
      i++;
    }
  }
  return out;
}

// ---- text ----

// PostgreSQL's text type cannot hold U+0000 ("invalid byte sequence for encoding UTF8: 0x00").
// Strings are stored with U+0000 written as U+FDD0 U+FDD1 and U+FDD0 itself as U+FDD0 U+FDD0
// (U+FDD0 is a noncharacter, reserved by Unicode for internal use). A string without either is
// stored as it is, so rows written before this encoding read unchanged, unless they hold U+FDD0
// followed by U+FDD0 or U+FDD1.
const NEEDS_ENCODING = /[\u0000\uFDD0]/;
const ENCODE = /[\u0000\uFDD0]/g;
const DECODE = /\uFDD0([\uFDD0\uFDD1])/g;

/** A string as PostgreSQL stores it (see above). */
export function encodeText(s: string): string {
  return NEEDS_ENCODING.test(s) ? s.replace(ENCODE, (c) => (c === "\u0000" ? "\uFDD0\uFDD1" : "\uFDD0\uFDD0")) : s;
}

/** The string encodeText stored. */
export function decodeText(s: string): string {
  return s.includes("\uFDD0") ? s.replace(DECODE, (_, c: string) => (c === "\uFDD1" ? "\u0000" : "\uFDD0")) : s;
}

function encodeValue(v: SqlValue): SqlValue {
  return typeof v === "string" ? encodeText(v) : v;
}

function decodeRow(row: Row): void {
  for (const k of Object.keys(row)) {
    const v = row[k];
    if (typeof v === "string") row[k] = decodeText(v);
  }
}

// ---- errors ----

const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01", // admin_shutdown (server stopping, or pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovering)
  "53300", // too_many_connections
]);
const connectionMessages = /connection terminated|not queryable|connection timeout|timeout exceeded when trying to connect|socket hang up/i;

/** Whether an error means the database could not be reached or the connection broke. */
function isConnectionError(e: unknown, depth = 0): boolean {
  if (!(e instanceof Error) || depth > 4) return false;
  const code = "code" in e && typeof e.code === "string" ? e.code : "";
  if (connectionCodes.has(code) || code.startsWith("08")) return true; // class 08: connection exception
  if (connectionMessages.test(e.message)) return true;
  if (e instanceof AggregateError && e.errors.some((x) => isConnectionError(x, depth + 1))) return true;
  return isConnectionError(e.cause, depth + 1);
}

/**
 * Whether an error means the server cannot store changes now: class 53 (insufficient resources:
 * disk full, out of memory, too many connections, configuration limits), class 58 (system error:
 * I/O error, undefined file), or a read-only transaction (a standby, or default_transaction_read_only).
 */
function isCannotWrite(e: unknown): boolean {
  if (!(e instanceof Error) || !("code" in e) || typeof e.code !== "string") return false;
  return e.code.startsWith("53") || e.code.startsWith("58") || e.code === "25006";
}

/** Whether an error is a serialization failure or a deadlock (the transaction may be re-run). */
function isConflict(e: unknown): boolean {
  return e instanceof Error && "code" in e && (e.code === "40001" || e.code === "40P01");
}

// ---- migrations ----

/**
 * Applies the numbered migrations under migrations/postgres/ that the ledger lacks, each in its
 * own transaction under the migration lock, re-reading the ledger once the lock is held.
 */
async function migrate(pool: pg.Pool, schema: string | undefined, log: Logger): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const locked = async (body: () => Promise<void>): Promise<void> => {
    await client.query("BEGIN");
    try {
      await client.query(`SELECT pg_advisory_xact_lock(${migrationLock})`);
      await body();
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
  };
  try {
    await locked(async () => {
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
      await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
    });
    const dir = new URL("./migrations/postgres/", import.meta.url);
    const applied = new Set((await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version));
    for (const file of readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()) {
      const version = Number.parseInt(file, 10);
      if (applied.has(version)) continue;
      await locked(async () => {
        // Another node may have applied it while this one waited for the lock.
        if ((await client.query("SELECT 1 FROM schema_migrations WHERE version = $1", [version])).rowCount) return;
        try {
          await client.query(readFileSync(new URL(file, dir), "utf8"));
        } catch (e) {
          if (isConnectionError(e)) throw e;
          throw new Error(`migration ${file} failed: ${(e as Error).message}`, { cause: e });
        }
        await client.query("INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)", [version, file, Date.now()]);
        log.info({ migration: file, schema }, "migration applied");
      });
    }
  } catch (e) {
    if (isConnectionError(e)) broken = e instanceof Error ? e : new Error(String(e));
    throw e;
  } finally {
    client.release(broken);
  }
}

// ---- LISTEN ----

interface Listener {
  subscribe(channel: string, fn: (payload: string) => void): () => void;
  close(): Promise<void>;
}

/**
 * The dedicated LISTEN connection: opened at the first subscription, LISTENing on every channel
 * with subscribers, reconnecting with exponential backoff (100 ms doubling to 5 s) when it drops.
 * Whenever a channel's LISTEN takes effect after its subscribers subscribed (the first connection,
 * every reconnection), they are called once with "*": nudges may have been missed meanwhile.
 */
function createListener(config: pg.ClientConfig, log: Logger): Listener {
  const subs = new Map<string, Set<(payload: string) => void>>();
  let client: pg.Client | undefined; // connected; LISTEN may be issued on it
  let connecting: pg.Client | undefined; // a connection attempt under way
  let listening = new Set<string>(); // channels LISTENed on `client`
  let queue: Promise<void> = Promise.resolve(); // LISTEN/UNLISTEN commands, one at a time
  let delay = 100;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const deliver = (channel: string, payload: string): void => {
    for (const fn of [...(subs.get(channel) ?? [])]) {
      try {
        fn(payload);
      } catch (e) {
        log.error({ err: e, channel }, "subscriber failed");
      }
    }
  };

  const retry = (): void => {
    if (closed || timer) return;
    log.debug({ delayMs: delay }, "reconnecting the listen connection");
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, 5000);
  };

  const lost = (c: pg.Client, e: unknown): void => {
    if (c !== client) return; // a failed attempt (connect() retries) or a connection we closed
    log.warn({ err: e }, "listen connection lost");
    client = undefined;
    listening = new Set();
    c.end().catch(() => undefined);
    retry();
  };

  async function connect(): Promise<void> {
    if (closed || client || connecting) return;
    const c = new pg.Client(config);
    connecting = c;
    c.on("notification", (m) => deliver(m.channel, decodeText(m.payload ?? "")));
    c.on("error", (e) => lost(c, e));
    c.on("end", () => lost(c, new Error("listen connection ended")));
    try {
      await c.connect();
    } catch (e) {
      connecting = undefined;
      if (closed) return;
      log.warn({ err: e }, "listen connection failed");
      c.end().catch(() => undefined);
      retry();
      return;
    }
    connecting = undefined;
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    listening = new Set();
    delay = 100;
    sync();
  }

  /** Brings the connection's LISTENs in line with the subscriptions. */
  function sync(): void {
    queue = queue.then(async () => {
      const c = client;
      if (!c) return;
      for (const channel of [...subs.keys()]) {
        if (listening.has(channel)) continue;
        try {
          await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        } catch (e) {
          if (c !== client) return; // closed, or lost: the next connection LISTENs again
          log.warn({ err: e, channel }, "LISTEN failed");
          continue;
        }
        if (c !== client) return;
        listening.add(channel);
        deliver(channel, "*");
      }
      for (const channel of [...listening]) {
        if (subs.has(channel)) continue;
        try {
          await c.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`);
        } catch (e) {
          if (c !== client) return;
          log.warn({ err: e, channel }, "UNLISTEN failed");
          continue;
        }
        if (c !== client) return;
        listening.delete(channel);
      }
    });
  }

  return {
    subscribe(channel, fn) {
      let set = subs.get(channel);
      if (!set) subs.set(channel, (set = new Set()));
      const entry = (payload: string): void => fn(payload); // one entry per subscription, even of the same fn
      set.add(entry);
      if (client) sync();
      else void connect();
      return () => {
        set.delete(entry);
        if (set.size === 0 && subs.get(channel) === set) {
          subs.delete(channel);
          if (client) sync();
        }
      };
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      const c = client ?? connecting;
      client = undefined;
      connecting = undefined;
      if (c) await c.end().catch(() => undefined);
    },
  };
}
