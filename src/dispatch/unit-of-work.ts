// One transaction and the work that must follow its commit. An engine changes the store through a
// `UnitOfWork`: task rows, timer rows and its own rows commit together or not at all, and what the
// rest of the system must learn of the change (pollers to wake, stream credits to return, timer
// loops to re-arm, a task to hand to a waiting poll, other nodes to nudge) is collected in the
// unit's outbox and carried out only after the commit.
//
// Invariants:
// - Nothing in the outbox runs for a transaction that rolled back; a retried transaction starts
//   with an empty outbox.
// - Cross-node nudges are published from inside the transaction (PostgreSQL NOTIFY is delivered
//   at commit, never for a rollback), so another node never wakes for work that is not there.
// - A claim is registered with liveness inside its claiming transaction (`claimed`) and forgotten
//   again if that transaction does not commit as far as the caller knows; should it have committed
//   after all (a COMMIT whose answer was lost), the claim is an orphan and liveness recovers it.
// - A sync handoff reserves a waiting poll before commit and delivers after it; a reservation
//   that is not delivered is released, and a handed-off task whose poll left meanwhile is given
//   back to its queue.
import type { Logger } from "pino";
import type { Capabilities, Database, Sql } from "../store/db.ts";
import { deleteTimers, insertTimer } from "../store/dispatch.ts";
import type { Reservation } from "./matcher.ts";

/** What a waiting long poll offers for a sync handoff. */
export interface PollCtx {
  /** The identity the poll gave, recorded in the Started event. */
  identity?: string;
}

/** A task started for a worker: whatever the engine answers, identified by its token. */
export interface ClaimedTask {
  token: string;
}

/**
 * The parts of the dispatch core an outbox reaches after commit. Wired by `createDispatch`;
 * engines never see it.
 */
export interface Outbox {
  readonly db: Database;
  readonly log: Logger;
  waiting(queue: string): number;
  reserve(queue: string): Reservation<PollCtx, ClaimedTask> | undefined;
  notify(queue: string): void;
  settle(token: string): void;
  timerAdded(fireMs: number): void;
  claimed(token: string): void;
  forget(tokens: readonly string[]): void;
  giveBack(token: string): void;
}

/** A task scheduled in this transaction that a poll waiting on this node may take at once. */
interface Offer {
  queue: string;
  /** Whether the task can still be started at the end of the transaction. */
  live: () => boolean;
  start: (ctx: PollCtx) => Promise<ClaimedTask | undefined>;
}

/** One transaction of the store plus its post-commit outbox. */
export class UnitOfWork {
  /** Statements of this transaction. */
  readonly sql: Sql;
  readonly caps: Capabilities;
  readonly #out: Outbox;
  /** Tasks committed per queue: one waiting poller is woken per task. */
  readonly #queues = new Map<string, number>();
  /** A set: a task closed twice in one transaction (a batch, then its owner's close) returns its credit once. */
  readonly #settled = new Set<string>();
  readonly #timers: number[] = [];
  readonly #claimed: string[] = [];
  readonly #offers: Offer[] = [];
  readonly #handoffs: { r: Reservation<PollCtx, ClaimedTask>; task: ClaimedTask }[] = [];
  readonly #unused: Reservation<PollCtx, ClaimedTask>[] = [];
  readonly #memo = new Map<string, unknown>();

  constructor(sql: Sql, out: Outbox) {
    this.sql = sql;
    this.caps = out.db.caps;
    this.#out = out;
  }

  /** Adds a durable timer row; the timer loops of every node learn of it at commit. */
  async addTimer(kind: string, owner: string, ref: string, fireMs: number): Promise<void> {
    await insertTimer(this.sql, { fireMs, kind, owner, ref });
    this.#timers.push(fireMs);
  }

  /** Deletes the timers of (owner, ref): a timer cancelled before it fired. */
  async deleteTimers(owner: string, ref: string): Promise<void> {
    await deleteTimers(this.sql, owner, ref);
  }

  /** A timer row written by other means (moved to `fireMs`): re-arm the loops at commit. */
  timerMoved(fireMs: number): void {
    this.#timers.push(fireMs);
  }

  /** A task of `queue` was scheduled (or returned to its queue): wake one waiting poller at commit. */
  scheduled(queue: string): void {
    this.#queues.set(queue, (this.#queues.get(queue) ?? 0) + 1);
  }

  /**
   * Offers a task scheduled in this transaction for a sync handoff: when a poll of its queue waits
   * on this node and the task is still `live` at the end of the transaction, `start` starts it for
   * that poll inside this transaction, and the poll receives it after commit instead of claiming
   * it with a transaction of its own. `start` returns undefined when the task is gone.
   */
  offer(queue: string, live: () => boolean, start: (ctx: PollCtx) => Promise<ClaimedTask | undefined>): void {
    this.#offers.push({ queue, live, start });
  }

  /** The task held under `token` closed or went back to its queue: at commit its stream credit returns and a delivery confirmation not yet written is dropped. */
  settled(token: string): void {
    this.#settled.add(token);
  }

  /** A task was claimed under `token` in this transaction: registered with liveness now, forgotten on rollback. */
  claimed(token: string): void {
    this.#out.claimed(token);
    this.#claimed.push(token);
  }

  /** A value computed once per transaction (a decision batch often reads one type many times). */
  async memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (!this.#memo.has(key)) this.#memo.set(key, await load());
    return this.#memo.get(key) as T;
  }

  /** Runs the sync handoffs: reserves waiting polls and starts their tasks (inside the transaction). */
  async handoff(): Promise<void> {
    for (const o of this.#offers) {
      if (!o.live() || !this.#out.waiting(o.queue)) continue;
      const r = this.#out.reserve(o.queue);
      if (!r) continue;
      const task = await o.start(r.ctx);
      if (!task) {
        this.#unused.push(r); // the task was deleted later in this transaction
        continue;
      }
      this.#handoffs.push({ r, task });
      const n = (this.#queues.get(o.queue) ?? 1) - 1;
      if (n > 0) this.#queues.set(o.queue, n);
      else this.#queues.delete(o.queue);
    }
  }

  /**
   * Tells other nodes what this transaction commits, from inside it: "<count> <queue>" wakes up to
   * <count> of their pollers; the earliest new timer arms their timer loops, so it fires on time
   * even if this node dies.
   */
  async publish(): Promise<void> {
    const db = this.#out.db;
    if (!db.caps.shared) return;
    for (const [q, n] of this.#queues) await db.publishInTx(this.sql, "taskgate_queue", `${n} ${q}`);
    if (this.#timers.length > 0) await db.publishInTx(this.sql, "taskgate_timer", String(Math.min(...this.#timers)));
  }

  /** The transaction committed: carry out the outbox. */
  apply(): void {
    const out = this.#out;
    for (const { r, task } of this.#handoffs) {
      if (!r.deliver(task)) out.giveBack(task.token);
    }
    for (const r of this.#unused) r.release();
    for (const [q, n] of this.#queues) for (let i = 0; i < n; i++) out.notify(q);
    for (const t of this.#settled) out.settle(t);
    for (const ms of this.#timers) out.timerAdded(ms);
  }

  /** The transaction did not commit (as far as the caller knows): undo what ran before commit. */
  abandon(): void {
    for (const r of [...this.#handoffs.map((h) => h.r), ...this.#unused]) r.release();
    // Should the transaction have committed after all (a COMMIT whose answer was lost), its
    // claims are orphans now, and liveness returns them to their queues.
    this.#out.forget(this.#claimed);
  }
}

/** Opens units of work: whole transactions, or units inside a transaction the core runs. */
export class Units {
  readonly #out: Outbox;

  constructor(out: Outbox) {
    this.#out = out;
  }

  /** One transaction; its outbox applies after commit. A retried transaction starts with a fresh unit. */
  async run<R>(fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    let attempt: UnitOfWork | undefined;
    try {
      const [r, uow] = await this.#out.db.tx(async (sql) => {
        attempt?.abandon(); // a retried attempt starts over
        const uow = (attempt = new UnitOfWork(sql, this.#out));
        const r = await fn(uow);
        await uow.handoff();
        await uow.publish();
        return [r, uow] as const;
      });
      uow.apply();
      return r;
    } catch (e) {
      attempt?.abandon();
      throw e;
    }
  }

  /**
   * A unit inside a transaction the core runs (a timer firing, a task returned to its queue):
   * runs `fn` and publishes; the result applies the outbox and must be called after commit. Such a
   * unit offers no sync handoff: the tasks it schedules wake a poller, which claims them.
   */
  async within(sql: Sql, fn: (uow: UnitOfWork) => Promise<void>): Promise<() => void> {
    const uow = new UnitOfWork(sql, this.#out);
    await fn(uow);
    await uow.publish();
    return () => uow.apply();
  }
}
