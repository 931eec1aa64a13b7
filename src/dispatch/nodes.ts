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
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Database, Sql } from "../store/db.ts";
import * as tq from "../store/tasks.ts";
import type { Clock } from "./matcher.ts";

/** Returns a started task to its queue; the result runs after commit. */
export type RequeueHandler = (sql: Sql, row: tq.TaskRow) => Promise<() => void>;

/** Liveness of this node. */
export class Liveness {
  /** This node's id, recorded on every claim. */
  readonly id = `${process.pid}-${randomBytes(6).toString("hex")}`;
  #db: Database;
  #clock: Clock;
  #log: Logger;
  #heartbeatMs: number;
  #deadAfterMs: number;
  #handlers: [string, RequeueHandler][] = [];
  #pending: string[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(db: Database, clock: Clock, log: Logger, opts: { heartbeatMs?: number; deadAfterMs?: number } = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#log = log;
    this.#heartbeatMs = opts.heartbeatMs ?? 2_000;
    this.#deadAfterMs = opts.deadAfterMs ?? 10_000;
  }

  /** Registers how tasks of queues starting with `prefix` go back to their queue. */
  onRequeue(prefix: string, handler: RequeueHandler): void {
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
    } catch (e) {
      this.#log.warn({ err: e }, "node heartbeat failed");
    }
  }

  /** The answer carrying `token` was written: confirm it (batched). */
  delivered(token: string): void {
    this.#pending.push(token);
    if (!this.#flushTimer) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        void this.flush();
      }, 5);
    }
  }

  /** Writes the pending delivery confirmations. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.length === 0) return;
    const tokens = this.#pending;
    this.#pending = [];
    this.#flushing = this.#db
      .tx((sql) => tq.markDelivered(sql, tokens))
      .catch((e: unknown) => {
        this.#log.warn({ err: e }, "delivery confirmations not written; retrying");
        this.#pending.push(...tokens);
      })
      .finally(() => {
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
      const h = this.#handlers.find(([prefix]) => row.queue.startsWith(prefix));
      if (h) after.push(await h[1](sql, row));
    }
    return after;
  }

  /** Clean stop: confirms deliveries, returns this node's undelivered tasks, removes its row. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.flush();
    const after = await this.#db.tx(async (sql) => {
      const fns = await this.#requeueAll(sql, this.id);
      await tq.removeNode(sql, this.id);
      return fns;
    });
    for (const fn of after) fn();
  }
}
