// Node liveness: which claimed tasks reached their workers, and what happens to those that did
// not when their node dies.
//
// A claim records the claiming node and stays "undelivered" until the node has written the answer
// (confirmations are batched: one UPDATE per few milliseconds of deliveries). Every node
// heartbeats; when a node has been silent for `deadAfterMs`, the first other node to notice takes
// its row (exactly once) and returns its undelivered tasks to their queues, so a SIGKILLed node
// loses no task. With an unshared database (SQLite: one process owns the file) every other node
// row is a previous run of this server, reaped at start.
//
// Invariant: a task is "held" by at most one valid token. Requeueing drops the old token, so a
// worker that did receive an answer whose confirmation was lost gets UnknownResourceFault when it
// responds, and the task runs again elsewhere (at least once, never twice at the same time).
//
// A live node also recovers its own orphans. Every claim is registered in memory (`claimed`,
// called inside the claiming transaction) until its answer was written (`delivered`) or its
// holder gave it back (`released`). A row this node claimed, still undelivered, whose token is in
// none of those states is an orphan: a claim whose transaction committed although the caller saw
// it fail (the connection broke during COMMIT), or a task whose return to its queue failed (the
// database was down when the answer failed). Each heartbeat returns the orphans to their queues,
// so no failure between claim and answer strands a task until its timeout (or forever, when it
// has none).
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Database, Sql } from "../store/db.ts";
import * as tq from "../store/dispatch.ts";
import type { Clock } from "./clock.ts";
import type { UnitOfWork, Units } from "./unit-of-work.ts";

/** Returns a started task to its queue, in a unit of work. */
export type RequeueHandler = (uow: UnitOfWork, row: tq.TaskRow) => Promise<void>;

/** Liveness of this node. */
export class Liveness {
  /** This node's id, recorded on every claim. */
  readonly id = `${process.pid}-${randomBytes(6).toString("hex")}`;
  #db: Database;
  #clock: Clock;
  #log: Logger;
  #units: Units;
  #heartbeatMs: number;
  #deadAfterMs: number;
  #handlers: [string, RequeueHandler][] = [];
  /** Delivery confirmations not written yet (a task closed meanwhile needs none: `closed`). */
  #pending = new Set<string>();
  /** Tokens being confirmed by the running flush. */
  #confirming = new Set<string>();
  /** Claims of this process whose answer is not settled yet: token -> claim time (ms). */
  #inFlight = new Map<string, number>();
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(db: Database, clock: Clock, log: Logger, units: Units, opts: { heartbeatMs?: number; deadAfterMs?: number } = {}) {
    this.#db = db;
    this.#units = units;
    this.#clock = clock;
    this.#log = log;
    this.#heartbeatMs = opts.heartbeatMs ?? 2_000;
    this.#deadAfterMs = opts.deadAfterMs ?? 10_000;
  }

  /**
   * Registers how tasks of queues starting with `prefix` go back to their queue. Prefixes must not
   * overlap (neither may start with the other), so every queue has at most one handler.
   */
  onRequeue(prefix: string, handler: RequeueHandler): void {
    const clash = this.#handlers.find(([p]) => p.startsWith(prefix) || prefix.startsWith(p));
    if (clash) throw new Error(`requeue prefix ${prefix} overlaps ${clash[0]}`);
    this.#handlers.push([prefix, handler]);
  }

  /** Records this node and starts heartbeating; reaps dead nodes now and then. */
  async start(): Promise<void> {
    await this.#db.tx((sql) => tq.heartbeatNode(sql, this.id, this.#clock.now()));
    // SQLite: any other node row is an earlier run of this process that did not stop cleanly.
    await this.#reap(this.#db.caps.shared ? this.#clock.now() - this.#deadAfterMs : Number.POSITIVE_INFINITY);
    this.#timer = setInterval(() => void this.#tick(), this.#heartbeatMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      await this.#db.tx((sql) => tq.heartbeatNode(sql, this.id, this.#clock.now()));
      if (this.#db.caps.shared) await this.#reap(this.#clock.now() - this.#deadAfterMs);
      await this.recoverOrphans();
    } catch (e) {
      this.#log.warn({ err: e }, "node heartbeat failed");
    }
  }

  /** A task was claimed under `token` by this process (call inside the claiming transaction). */
  claimed(token: string): void {
    this.#inFlight.set(token, this.#clock.now());
  }

  /** The claiming transactions of these tokens did not commit (as far as the caller knows). */
  forget(tokens: readonly string[]): void {
    for (const t of tokens) this.#inFlight.delete(t);
  }

  /**
   * The holder of `token` gives the task back (its answer failed or never left); it requeues the
   * task itself. Should that fail, the task is an orphan and the next heartbeat requeues it.
   */
  released(token: string): void {
    this.#inFlight.delete(token);
  }

  /** Claims whose answer is not settled yet (for tests and metrics). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Delivery confirmations not written yet (for tests and metrics). */
  get unconfirmed(): number {
    return this.#pending.size;
  }

  /**
   * Returns this node's orphaned claims to their queues (see the file comment); the number
   * returned. One unlocked indexed read when there is nothing to do.
   */
  async recoverOrphans(): Promise<number> {
    const held = (token: string): boolean => this.#inFlight.has(token) || this.#confirming.has(token) || this.#pending.has(token);
    const candidates = (await this.#db.tx((sql) => tq.undeliveredTokensOf(sql, this.id))).filter((c) => !held(c.token));
    if (candidates.length === 0) return 0;
    const after = await this.#db.tx(async (sql) => {
      const fns: (() => void)[] = [];
      for (const c of candidates) {
        const row = await tq.undeliveredTask(sql, this.#db.caps, this.id, c.id, c.token);
        if (!row || held(c.token)) continue;
        const fn = await this.#requeueIn(sql, row);
        if (fn) fns.push(fn);
      }
      return fns;
    });
    if (after.length > 0) this.#log.warn({ tasks: after.length }, "returned claimed tasks whose answer failed to their queues");
    for (const fn of after) fn();
    // An entry older than any answer can take was left by a path that never settled it.
    const stale = this.#clock.now() - 3_600_000;
    for (const [t, at] of this.#inFlight) if (at < stale) this.#inFlight.delete(t);
    return after.length;
  }

  /** The answer carrying `token` was written: confirm it (batched). */
  delivered(token: string): void {
    this.#inFlight.delete(token);
    this.#pending.add(token);
    if (!this.#flushTimer) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        void this.flush();
      }, 5);
    }
  }

  /**
   * The task held under `token` closed (its row was deleted) or went back to its queue (its token
   * cleared) in a transaction that committed: a confirmation of its delivery not written yet is
   * dropped, for there is no row left to mark under that token. A
   * worker that completes its tasks within the few milliseconds before the confirmations are
   * written (a batch worker does) costs no confirmation at all.
   */
  closed(token: string): void {
    this.#inFlight.delete(token);
    this.#pending.delete(token);
  }

  /** Writes the pending delivery confirmations. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.size === 0) return;
    const tokens = [...this.#pending];
    this.#pending.clear();
    for (const t of tokens) this.#confirming.add(t);
    this.#flushing = this.#db
      .tx((sql) => tq.markDelivered(sql, this.#db.caps, tokens))
      .then((left) => {
        // Rows another transaction held (PostgreSQL passes them over): confirmed on the next flush.
        if (left.length === 0) return;
        for (const t of left) this.#pending.add(t);
        this.#flushTimer ??= setTimeout(() => {
          this.#flushTimer = undefined;
          void this.flush();
        }, 5);
      })
      .catch((e: unknown) => {
        this.#log.warn({ err: e }, "delivery confirmations not written; retrying");
        for (const t of tokens) this.#pending.add(t);
        this.#flushTimer ??= setTimeout(() => {
          this.#flushTimer = undefined;
          void this.flush();
        }, 500).unref();
      })
      .finally(() => {
        for (const t of tokens) this.#confirming.delete(t);
        this.#flushing = undefined;
      });
    await this.#flushing;
  }

  async #reap(beforeMs: number): Promise<void> {
    const dead = await this.#db.tx((sql) => tq.staleNodes(sql, this.id, beforeMs));
    for (const node of dead) {
      const after = await this.#db.tx(async (sql) => {
        if (!(await tq.takeNode(sql, node, beforeMs))) return [];
        return this.#requeueAll(sql, node);
      });
      if (after.length > 0) this.#log.warn({ node, tasks: after.length }, "returned the undelivered tasks of a dead node to their queues");
      for (const fn of after) fn();
    }
  }

  async #requeueAll(sql: Sql, node: string): Promise<(() => void)[]> {
    const after: (() => void)[] = [];
    for (const row of await tq.undeliveredOf(sql, this.#db.caps, node)) {
      const fn = await this.#requeueIn(sql, row);
      if (fn) after.push(fn);
    }
    return after;
  }

  #handler(row: tq.TaskRow): RequeueHandler | undefined {
    return this.#handlers.find(([prefix]) => row.queue.startsWith(prefix))?.[1];
  }

  /** Returns a task to its queue in a unit of its own inside `sql`; the result runs after commit. */
  async #requeueIn(sql: Sql, row: tq.TaskRow): Promise<(() => void) | undefined> {
    const h = this.#handler(row);
    return h ? this.#units.within(sql, (uow) => h(uow, row)) : undefined;
  }

  /** Returns a started task to its queue through its queue's handler, in the caller's unit of work. */
  async requeue(uow: UnitOfWork, row: tq.TaskRow): Promise<void> {
    await this.#handler(row)?.(uow, row);
  }

  /** Clean stop: confirms deliveries, returns this node's undelivered tasks, removes its row. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.flush();
    // Confirmations passed over because another transaction held their rows: retried until written.
    for (let i = 0; i < 100 && this.#pending.size > 0; i++) {
      await sleep(5);
      await this.flush();
    }
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const after = await this.#db.tx(async (sql) => {
      const fns = await this.#requeueAll(sql, this.id);
      await tq.removeNode(sql, this.id);
      return fns;
    });
    for (const fn of after) fn();
  }
}
