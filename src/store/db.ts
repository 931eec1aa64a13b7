// The storage seam. Engines and the dispatch core talk to a `Database`: transactions of portable
// SQL (`?` placeholders, INSERT … ON CONFLICT, RETURNING) over a backend. Every SQL statement of
// taskgate lives under src/store/ and is written once for both backends; where the dialects
// differ the difference is a named capability here, never a test of the backend's name.

/** A value bound to or read from a statement. Integers are JS numbers (ids stay far below 2^53). */
export type SqlValue = string | number | null | Uint8Array;
/** A result row keyed by column name. */
export type Row = Record<string, SqlValue>;

/** Statements inside one transaction. */
export interface Sql {
  /** All rows of a query. */
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** The first row of a query, or undefined. */
  get(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  /** Runs a statement; `changes` is the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /**
   * A write whose outcome the caller does not read (no rows, no count). A backend may hold it and
   * send it with the transaction's next statement or its COMMIT (PostgreSQL: one round trip for
   * them all, so row locks are held for fewer round trips); it still runs in order, before any
   * later statement, and a failure fails the transaction there. Optional: `write` (below) falls
   * back to `run`.
   */
  write?(sql: string, params?: readonly SqlValue[]): Promise<void>;
}

/** Runs a write whose outcome the caller does not read: `Sql.write` where the backend has it, else `run`. */
export async function write(sql: Sql, q: string, params?: readonly SqlValue[]): Promise<void> {
  if (sql.write) await sql.write(q, params);
  else await sql.run(q, params);
}

/** What a backend can do that the other cannot, named so callers never test the backend. */
export interface Capabilities {
  /**
   * Appended to a SELECT that picks rows to claim or change. PostgreSQL: `FOR UPDATE SKIP
   * LOCKED` (a row another node is claiming is passed over); SQLite: empty (one writer at a
   * time, so there is nothing to skip).
   */
  readonly claimSuffix: string;
  /** Appended to a SELECT of a row the transaction will update: `FOR UPDATE` or empty. */
  readonly lockSuffix: string;
  /** Whether other processes may change the database (several nodes): wakeups must cross nodes. */
  readonly shared: boolean;
  /**
   * Whether a WITH clause may hold an INSERT feeding one statement (PostgreSQL: yes, so an
   * execution's new events and its row go in one round trip; SQLite: no, two in-process calls).
   */
  readonly writableCte: boolean;
  /**
   * Whether every statement is a network round trip (PostgreSQL), so that one statement doing
   * more beats two; on SQLite a statement is a call in the process, and reading fewer, narrower
   * rows in two can cost less than a join.
   */
  readonly roundTripPerStatement: boolean;
  /**
   * A condition on a task row's owner column that takes a lock on that owner for the rest of the
   * transaction if no other transaction holds it, and is false if one does (PostgreSQL: a
   * transaction-scoped advisory lock on the owner's hash), so concurrent claims pass over each
   * other's owners; undefined where claims never run concurrently (SQLite).
   */
  readonly ownerLock?: (column: string) => string;
}

/** A database: transactions, capabilities, and the cross-node nudge. */
export interface Database {
  readonly caps: Capabilities;
  /**
   * Runs `fn` in one transaction and commits it, or rolls it back if `fn` throws. A failure to
   * reach the database surfaces as the `serviceUnavailable` fault (retryable, nothing changed).
   */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * Publishes a nudge from inside a transaction: delivered only if and when it commits
   * (PostgreSQL NOTIFY is transactional), with no round trip of its own beyond the statement.
   * SQLite delivers to this process's subscribers after the commit.
   */
  publishInTx(sql: Sql, channel: string, payload: string): Promise<void>;
  /** Publishes a nudge to every subscriber (PostgreSQL NOTIFY reaches other nodes; SQLite only this process). */
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Subscribes to nudges from other nodes; returns the unsubscribe function. A nudge is a hint,
   * never the truth: a subscriber re-reads the store. The payload `"*"` means "nudges may have
   * been missed, re-check everything": PostgreSQL delivers it once to each subscriber when its
   * LISTEN takes effect after subscribe() returned (the listen connection was still connecting)
   * and after every reconnection of the listen connection. Never throws; failures are logged.
   */
  subscribe(channel: string, fn: (payload: string) => void): () => void;
  /** Whether the database answered its last use; drives readiness on /healthz. */
  healthy(): boolean;
  /** Closes the database after the last transaction finished. */
  close(): Promise<void>;
}
