// The lifecycle of a task held by a worker, the same for every engine: scheduled into a queue,
// claimed by a long poll or a stream (or handed to a waiting poll in the scheduling transaction),
// started under a fresh token, heartbeated, closed, given back or returned to its queue, timed
// out. An engine describes each of its task kinds with a `TaskKind` (how to open the task's
// owner, what a start, a requeue and a timeout record) and leaves the rest to `WorkerTasks`.
//
// Invariants:
// - A task is held by at most one valid token: a start issues a fresh token, and a requeue drops
//   it (the row goes back to its place in the queue: same priority, same id).
// - Every claim is registered with liveness inside its claiming transaction and stays
//   undelivered until its answer was written; an answer that fails or never leaves gives the task
//   back at once, and a stream gives back the tasks it claimed but did not send.
// - A task's timeouts are timer rows `<taskId>:<what>` of its owner, so deleting the task deletes
//   them (`deleteTask` walks that ref range); a start clears schedule-to-start and arms
//   start-to-close and heartbeat, a requeue clears those two.
// - A timeout fires only for the attempt it was armed for: its task must still exist, belong to
//   the same owner, and be in the state the timeout watches (scheduled for schedule-to-start,
//   started for start-to-close and heartbeat, either for schedule-to-close).
import { randomBytes } from "node:crypto";
import type { Sql } from "../store/db.ts";
import * as tq from "../store/dispatch.ts";
import type { Dispatch } from "./core.ts";
import type { PollClient, PollOptions } from "./matcher.ts";
import type { ClaimedTask, UnitOfWork } from "./unit-of-work.ts";

/** A deadline of a worker task. */
export type TaskTimeout = "scheduleToStart" | "scheduleToClose" | "startToClose" | "heartbeat";

/** The timer ref suffix of each timeout (`<taskId>:<suffix>`), kept as stored in existing rows. */
const refSuffix: Record<TaskTimeout, string> = { scheduleToStart: "s2s", scheduleToClose: "s2c", startToClose: "stc", heartbeat: "hb" };

/** The timer ref of a task's timeout. */
export function timeoutRef(taskId: number, which: TaskTimeout): string {
  return `${taskId}:${refSuffix[which]}`;
}

/**
 * Random bytes for tokens, drawn from the system CSPRNG 4,608 bytes (256 tokens) at a time: one
 * call per 256 tokens instead of one per token (per-call overhead was ~2% of a claim's CPU). Each
 * byte is used once.
 */
let pool = Buffer.alloc(0);
let poolAt = 0;

/** A fresh task token: 144 random bits, URL-safe. */
export function newToken(): string {
  if (poolAt + 18 > pool.length) {
    pool = randomBytes(18 * 256);
    poolAt = 0;
  }
  const token = pool.toString("base64url", poolAt, poolAt + 18);
  poolAt += 18;
  return token;
}

/** What a start tells the core: the worker's answer and the timeouts that start now (seconds). */
export interface Started<Claimed> {
  claimed: Claimed;
  startToClose?: number;
  heartbeat?: number;
  /** Whether a schedule-to-start timer was armed for this task (the start clears it). */
  clearsScheduleToStart: boolean;
}

/** One kind of worker task of an engine (an SWF activity task, an SWF decision task, …). */
export interface TaskKind<Owner, Payload, Claimed extends ClaimedTask> {
  /** Prefix of this kind's queue names; requeues are routed by it, so it overlaps no other kind's. */
  readonly prefix: string;
  /** The timer kind of each timeout this kind arms (timer kinds are stored in timer rows: never rename one). */
  readonly timerKinds: Partial<Record<TaskTimeout, string>>;
  /** The owner of a task opened for change, or undefined when it is gone or no longer takes work. */
  open(uow: UnitOfWork, ownerId: string): Promise<Owner | undefined>;
  /** Whether an owner still takes work (a sync handoff is skipped once it does not). */
  live(owner: Owner): boolean;
  /** Writes an owner's changes back. */
  flush(uow: UnitOfWork, owner: Owner): Promise<void>;
  /** Fills in what the start records in the payload, before the row is marked started. */
  starting(owner: Owner, payload: Payload): void;
  /** The row was marked started under `token`: record the start in the owner. */
  started(uow: UnitOfWork, owner: Owner, task: { id: number; token: string; payload: Payload }, identity: string | undefined): Started<Claimed>;
  /**
   * A started task goes back to its queue: undo what its start recorded in the owner and the
   * payload; returns when its schedule-to-start timeout fires again, if it has one.
   */
  requeued(uow: UnitOfWork, owner: Owner, row: tq.TaskRow, payload: Payload): Promise<{ scheduleToStartAt?: number }>;
  /** A timeout fired for the task (its row is already deleted): record it in the owner. */
  timedOut(uow: UnitOfWork, owner: Owner, row: tq.TaskRow, payload: Payload, which: TaskTimeout): Promise<void>;
}

/** A task to schedule. */
export interface NewTask<Payload> {
  queue: string;
  priority: number;
  ownerId: string;
  /** The task's key within its owner. */
  key: string;
  payload: Payload;
  /** Schedule only if the owner holds no task under `key` (the insert itself is the check). */
  unique?: boolean;
  nowMs: number;
  /** Timeouts that start at scheduling, in seconds. */
  scheduleToStart?: number;
  scheduleToClose?: number;
}

/** What a held poll asks of its WorkerTasks (one object per WorkerTasks). */
interface PollHost {
  /** Claims one task of `queue` (of several, from index `first`). */
  claim<O, P, C extends ClaimedTask>(kind: TaskKind<O, P, C>, queue: string | readonly string[], first: number, identity: string | undefined, signal: AbortSignal | undefined): Promise<C | undefined>;
  /** The answer of a poll once its wait ended (WorkerTasks.#answerPoll). */
  answer<C extends ClaimedTask, R>(claimed: C | undefined, opts: PollOptions, answer: (task: C) => Promise<R> | R, empty: () => R): R | Promise<R>;
}

/**
 * One long poll of WorkerTasks.poll while it is held: the matcher's client (it claims for the
 * poll and learns its end), and what the answer is built with. One object per held poll, instead
 * of claim and answer closures, a promise reaction and a suspended async frame.
 */
class PollCall<O, P, C extends ClaimedTask, R> implements PollClient<C> {
  readonly #host: PollHost;
  readonly #kind: TaskKind<O, P, C>;
  readonly #queue: string | readonly string[];
  readonly #identity: string | undefined;
  readonly #opts: PollOptions;
  readonly #answer: (task: C) => Promise<R> | R;
  readonly #empty: () => R;
  readonly #fault: (e: unknown, maxHeld: number) => unknown;
  readonly #maxHeld: number;
  readonly #resolve: (r: R | Promise<R>) => void;
  readonly #reject: (e: unknown) => void;

  constructor(
    host: PollHost,
    kind: TaskKind<O, P, C>,
    queue: string | readonly string[],
    identity: string | undefined,
    opts: PollOptions,
    answer: (task: C) => Promise<R> | R,
    empty: () => R,
    fault: (e: unknown, maxHeld: number) => unknown,
    maxHeld: number,
    resolve: (r: R | Promise<R>) => void,
    reject: (e: unknown) => void,
  ) {
    this.#host = host;
    this.#kind = kind;
    this.#queue = queue;
    this.#identity = identity;
    this.#opts = opts;
    this.#answer = answer;
    this.#empty = empty;
    this.#fault = fault;
    this.#maxHeld = maxHeld;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  claim(first: number): Promise<C | undefined> {
    return this.#host.claim(this.#kind, this.#queue, first, this.#identity, this.#opts.signal);
  }

  ended(claimed: C | undefined): void {
    let r: R | Promise<R>;
    try {
      r = this.#host.answer(claimed, this.#opts, this.#answer, this.#empty);
    } catch (e) {
      return this.#reject(e);
    }
    this.#resolve(r);
  }

  /** A claim failed, or the poll was refused (PollLimitExceeded): rejected with what `fault` makes of it. */
  failed(e: unknown): void {
    this.#reject(this.#fault(e, this.#maxHeld));
  }
}

/** A failure as it is. */
function same(e: unknown): unknown {
  return e;
}

/** The first of the tasks a claim returned, if any. */
function firstTask<C>(tasks: C[]): C | undefined {
  return tasks[0];
}

/** The worker-task lifecycle over the dispatch core. */
export class WorkerTasks {
  readonly #core: Dispatch;

  constructor(core: Dispatch) {
    this.#core = core;
  }

  /** Registers a kind: its requeue handler by queue prefix and its timeout handlers by timer kind. */
  register<O, P, C extends ClaimedTask>(kind: TaskKind<O, P, C>): void {
    this.#core.liveness.onRequeue(kind.prefix, (uow, row) => this.requeue(uow, kind, row));
    for (const [which, timerKind] of Object.entries(kind.timerKinds) as [TaskTimeout, string][])
      this.#core.timers.on(timerKind, (uow, t) => this.#timedOut(uow, kind, t, which));
  }

  /**
   * Schedules a task of `owner`: inserts its row, arms its scheduling timeouts, wakes a poller at
   * commit and offers it for a sync handoff. Its id, or undefined when `unique` found the key taken.
   */
  async schedule<O, P, C extends ClaimedTask>(uow: UnitOfWork, kind: TaskKind<O, P, C>, owner: O, t: NewTask<P>): Promise<number | undefined> {
    const row = { queue: t.queue, priority: t.priority, owner: t.ownerId, key: t.key, payload: JSON.stringify(t.payload), nowMs: t.nowMs };
    const id = t.unique ? await tq.insertTaskIfAbsent(uow.sql, row) : await tq.insertTask(uow.sql, row);
    if (id === undefined) return undefined;
    uow.offer(t.queue, () => kind.live(owner), async (ctx) => {
      const task = await this.start(uow, kind, owner, { id, ownerId: t.ownerId, payload: { ...t.payload } }, ctx.identity);
      if (task) await kind.flush(uow, owner);
      return task;
    });
    if (t.scheduleToStart !== undefined) await this.#arm(uow, kind, t.ownerId, id, "scheduleToStart", t.nowMs + t.scheduleToStart * 1000);
    if (t.scheduleToClose !== undefined) await this.#arm(uow, kind, t.ownerId, id, "scheduleToClose", t.nowMs + t.scheduleToClose * 1000);
    uow.scheduled(t.queue);
    return id;
  }

  async #arm<O, P, C extends ClaimedTask>(uow: UnitOfWork, kind: TaskKind<O, P, C>, ownerId: string, taskId: number, which: TaskTimeout, fireMs: number): Promise<void> {
    const timerKind = kind.timerKinds[which];
    if (timerKind === undefined) throw new Error(`task kind ${kind.prefix} has no ${which} timer kind`);
    await uow.addTimer(timerKind, ownerId, timeoutRef(taskId, which), fireMs);
  }

  /**
   * Starts a scheduled task for a worker: a fresh token, the row marked started (claimed by this
   * node, undelivered), the claim registered with liveness, the start recorded in the owner, its
   * timers moved from schedule-to-start to start-to-close and heartbeat. Undefined when the task
   * is no longer scheduled (deleted or claimed in this transaction): the mark comes first, so
   * such a task costs no further statement.
   */
  async start<O, P, C extends ClaimedTask>(
    uow: UnitOfWork,
    kind: TaskKind<O, P, C>,
    owner: O,
    task: { id: number; ownerId: string; payload: P },
    identity: string | undefined,
  ): Promise<C | undefined> {
    const { id, ownerId, payload } = task;
    kind.starting(owner, payload);
    const token = newToken();
    const nowMs = this.#core.clock.now();
    if (!(await tq.markStarted(uow.sql, id, token, JSON.stringify(payload), nowMs, this.#core.liveness.id))) return undefined;
    uow.claimed(token);
    const s = kind.started(uow, owner, { id, token, payload }, identity);
    await this.#armStarted(uow, kind, ownerId, id, nowMs, s);
    return s.claimed;
  }

  /** A started task's timers: schedule-to-start cleared, start-to-close and heartbeat armed. */
  async #armStarted<O, P, C extends ClaimedTask>(uow: UnitOfWork, kind: TaskKind<O, P, C>, ownerId: string, id: number, nowMs: number, s: Started<C>): Promise<void> {
    if (s.clearsScheduleToStart) await tq.deleteTimers(uow.sql, ownerId, timeoutRef(id, "scheduleToStart"));
    if (s.startToClose !== undefined) await this.#arm(uow, kind, ownerId, id, "startToClose", nowMs + s.startToClose * 1000);
    if (s.heartbeat !== undefined) await this.#arm(uow, kind, ownerId, id, "heartbeat", nowMs + s.heartbeat * 1000);
  }

  /**
   * Claims up to `n` tasks of a queue in one transaction, each owner opened once. A task whose
   * owner is gone or takes no more work is dropped.
   */
  async claim<O, P, C extends ClaimedTask>(kind: TaskKind<O, P, C>, queue: string, n: number, identity: string | undefined, signal: AbortSignal | undefined): Promise<C[]> {
    return this.#core.units.run(async (uow) => {
      if (signal?.aborted) return [];
      const rows = await tq.nextScheduled(uow.sql, uow.caps, queue, n);
      if (rows.length === 0) return [];
      // Owners are opened (and, on PostgreSQL, locked) in one global order, their ids sorted, so
      // that claims of many tasks spanning the same owners in different orders never deadlock.
      const owners = new Map<string, O | undefined>();
      for (const id of [...new Set(rows.map((r) => r.owner))].sort()) owners.set(id, await kind.open(uow, id));
      // Each task's start is recorded in its owner first, then every row is marked started in one
      // statement: the rows were read in this transaction (and locked where the backend locks),
      // so each is still scheduled.
      const nowMs = this.#core.clock.now();
      const starts: { row: tq.TaskRow; owner: O; token: string; payload: P; s: Started<C> }[] = [];
      for (const row of rows) {
        const owner = owners.get(row.owner);
        if (owner === undefined) {
          await tq.deleteTask(uow.sql, row);
          continue;
        }
        const payload = JSON.parse(row.payload) as P;
        kind.starting(owner, payload);
        const token = newToken();
        starts.push({ row, owner, token, payload, s: kind.started(uow, owner, { id: row.id, token, payload }, identity) });
      }
      await tq.markStartedMany(
        uow.sql,
        starts.map((t) => ({ id: t.row.id, token: t.token, payload: JSON.stringify(t.payload) })),
        nowMs,
        this.#core.liveness.id,
      );
      const out: C[] = [];
      for (const { row, token, s } of starts) {
        uow.claimed(token);
        await this.#armStarted(uow, kind, row.owner, row.id, nowMs, s);
        out.push(s.claimed);
      }
      for (const owner of owners.values()) if (owner !== undefined) await kind.flush(uow, owner);
      return out;
    });
  }

  /**
   * Claims up to `n` tasks from several queues, looking at them in turn from index `first` (one
   * transaction per queue looked at, until `n` are claimed).
   */
  async #claimAny<O, P, C extends ClaimedTask>(kind: TaskKind<O, P, C>, queues: readonly string[], first: number, n: number, identity: string | undefined, signal: AbortSignal | undefined): Promise<C[]> {
    const out: C[] = [];
    for (let i = 0; i < queues.length && out.length < n; i++) {
      out.push(...(await this.claim(kind, queues[(first + i) % queues.length]!, n - out.length, identity, signal)));
    }
    return out;
  }

  /**
   * Long-polls a queue (or several: `Matcher.pollAny`, no sync handoff) for one task and answers
   * with `answer(task)`, or `empty` when the hold time
   * ends, the poll is aborted or the server shuts down. A task claimed for a poll that was aborted,
   * or whose answer cannot be built, goes back to its queue at once; otherwise its token is tied to
   * the fate of the answer (`onClaimed`). Refused with PollLimitExceeded, before anything is
   * claimed, when a queue already holds `maxHeld` polls and streams on this node (the engine
   * answers its own limit fault, by `fault`, which maps a failure of the poll before it is
   * rejected with it, given `maxHeld`: a function of the engine's module rather than a closure,
   * where it can be, so that a held poll keeps no closure or request for it). Check what must
   * fail first, such as existence, before calling.
   */
  poll<O, P, C extends ClaimedTask, R>(
    kind: TaskKind<O, P, C>,
    queue: string | readonly string[],
    maxHeld: number,
    identity: string | undefined,
    opts: PollOptions,
    answer: (task: C) => Promise<R> | R,
    empty: () => R,
    fault: (e: unknown, maxHeld: number) => unknown = same,
  ): Promise<R> {
    // Not an async function: while the poll is held, what it keeps is one PollCall (the matcher's
    // client), the matcher's loop and the promise, no suspended frame and no closures besides.
    return new Promise<R>((resolve, reject) => {
      const call = new PollCall<O, P, C, R>(this.#pollHost, kind, queue, identity, opts, answer, empty, fault, maxHeld, resolve, reject);
      try {
        if (typeof queue === "string") this.#core.matcher.hold<C>(queue, call, { holdMs: opts.holdMs, signal: opts.signal, ctx: { identity }, maxHeld });
        else this.#core.matcher.holdAny<C>(queue, call, { holdMs: opts.holdMs, signal: opts.signal, maxHeld });
      } catch (e) {
        call.failed(e);
      }
    });
  }

  /** What every PollCall of this object asks of it. */
  readonly #pollHost: PollHost = {
    claim: (kind, queue, first, identity, signal) =>
      (typeof queue === "string" ? this.claim(kind, queue, 1, identity, signal) : this.#claimAny(kind, queue, first, 1, identity, signal)).then(firstTask),
    answer: (claimed, opts, answer, empty) => this.#answerPoll(claimed, opts, answer, empty),
  };

  /** The answer of a poll once its wait ended: `answer(claimed)`, or `empty()`; see poll. */
  #answerPoll<C extends ClaimedTask, R>(claimed: C | undefined, opts: PollOptions, answer: (task: C) => Promise<R> | R, empty: () => R): R | Promise<R> {
    if (!claimed) return empty();
    if (opts.signal?.aborted) {
      this.giveBack(claimed.token);
      return empty();
    }
    return this.#answer(claimed.token, () => answer(claimed)).then((r) => {
      if (opts.signal?.aborted) {
        this.giveBack(claimed.token);
        return empty();
      }
      this.#track(claimed.token, opts);
      return r;
    });
  }

  /**
   * Server-streamed tasks of a queue (or several, looked at in turn), at most `maxInFlight` unsettled at a time. With `perTask`
   * each task's answer is built and sent on its own (one-element batches); otherwise a claimed
   * batch is sent at once. A task counts as delivered once the consumer asks for more after it;
   * the tasks claimed for the stream but not sent when it ends are given back. On one queue it
   * takes sync handoffs while it waits, as a poll does (`identity` recorded). It counts against
   * `maxHeld` as a poll does, from its first step to its end (that step throws PollLimitExceeded).
   */
  async *stream<O, P, C extends ClaimedTask, R>(
    kind: TaskKind<O, P, C>,
    queue: string | readonly string[],
    maxHeld: number,
    identity: string | undefined,
    maxInFlight: number,
    signal: AbortSignal,
    answer: (task: C) => Promise<R> | R,
    perTask: boolean,
  ): AsyncGenerator<R[]> {
    const liveness = this.#core.liveness;
    const unsent = new Set<string>();
    try {
      for await (const batch of this.#core.matcher.stream(queue, (n, first) => this.#claimAny(kind, typeof queue === "string" ? [queue] : queue, first, n, identity, signal), { maxInFlight, signal, tokenOf: (c) => c.token, maxHeld, ctx: { identity } })) {
        for (const c of batch) unsent.add(c.token);
        if (perTask) {
          for (const c of batch) {
            yield [await answer(c)];
            unsent.delete(c.token);
            liveness.delivered(c.token);
          }
        } else {
          const out: R[] = [];
          for (const c of batch) out.push(await answer(c));
          yield out;
          for (const c of batch) {
            unsent.delete(c.token);
            liveness.delivered(c.token);
          }
        }
      }
    } finally {
      // The stream failed or ended with tasks claimed for it that it did not send: give them back.
      for (const t of unsent) this.giveBack(t);
    }
  }

  /** Gives a claimed task back without waiting (its answer failed or never left). */
  giveBack(token: string): void {
    this.#core.giveBack(token);
  }

  /** Hooks a claimed task's token to the fate of the answer that carries it. */
  #track(token: string, opts: PollOptions): void {
    const delivered = () => this.#core.liveness.delivered(token);
    if (!opts.onClaimed) return delivered();
    opts.onClaimed({ undo: () => this.giveBack(token), delivered });
  }

  /**
   * Builds the answer of a claimed task; if that fails (the store broke between claim and answer),
   * the task goes back to its queue at once and the poll fails.
   */
  async #answer<R>(token: string, build: () => Promise<R> | R): Promise<R> {
    try {
      return await build();
    } catch (e) {
      this.giveBack(token);
      throw e;
    }
  }

  /**
   * A heartbeat of a started task: its payload rewritten (details, progress), its heartbeat
   * deadline pushed `heartbeatSeconds` from now when it has one.
   */
  async heartbeat<O, P, C extends ClaimedTask>(uow: UnitOfWork, kind: TaskKind<O, P, C>, row: tq.TaskRow, payload: P, heartbeatSeconds: number | undefined): Promise<void> {
    await tq.updatePayload(uow.sql, row.id, JSON.stringify(payload));
    const timerKind = kind.timerKinds.heartbeat;
    if (heartbeatSeconds === undefined || timerKind === undefined) return;
    const at = this.#core.clock.now() + heartbeatSeconds * 1000;
    await tq.rescheduleTimer(uow.sql, { fireMs: at, kind: timerKind, owner: row.owner, ref: timeoutRef(row.id, "heartbeat") });
    uow.timerMoved(at);
  }

  /**
   * A task closed (completed, failed, canceled, or dropped with its owner's decision): its row and
   * timers deleted (`timers` false: the caller knows it armed none), its stream credit returned.
   */
  async close(uow: UnitOfWork, row: tq.TaskRow, timers = true): Promise<void> {
    await tq.deleteTask(uow.sql, row, timers);
    if (row.token) uow.settled(row.token);
  }

  /**
   * Tasks closed together (a batch of completions): their rows deleted in one statement, the
   * timers of those that armed any, their stream credit returned.
   */
  async closeMany(uow: UnitOfWork, closed: readonly { row: tq.TaskRow; timers: boolean }[]): Promise<void> {
    await tq.deleteTasks(
      uow.sql,
      closed.map((c) => c.row.id),
    );
    for (const { row, timers } of closed) {
      if (timers) await tq.deleteTaskTimers(uow.sql, row);
      if (row.token) uow.settled(row.token);
    }
  }

  /** The task an owner holds under `key`, locked for update. */
  byKey(uow: UnitOfWork, ownerId: string, key: string): Promise<tq.TaskRow | undefined> {
    return tq.taskByKey(uow.sql, uow.caps, ownerId, key);
  }

  /** Rewrites a task's payload. */
  async updatePayload<P>(uow: UnitOfWork, row: tq.TaskRow, payload: P): Promise<void> {
    await tq.updatePayload(uow.sql, row.id, JSON.stringify(payload));
  }

  /** Drops every task and timer of an owner (it closed); the stream credits of its started tasks come back. */
  async dropOwner(uow: UnitOfWork, ownerId: string): Promise<void> {
    for (const t of await tq.deleteOwner(uow.sql, ownerId)) if (t.token) uow.settled(t.token);
  }

  /** The number of scheduled tasks of a queue (a read: `sql` of any transaction). */
  countScheduled(sql: Sql, queue: string): Promise<number> {
    return tq.countScheduled(sql, queue);
  }

  /**
   * Returns a started task to its queue, in its place (same priority and age), with a new token to
   * come: its start-to-close and heartbeat timers dropped, its start undone in the owner.
   */
  async requeue<O, P, C extends ClaimedTask>(uow: UnitOfWork, kind: TaskKind<O, P, C>, row: tq.TaskRow): Promise<void> {
    if (row.state !== tq.TaskState.started) return;
    const owner = await kind.open(uow, row.owner);
    if (owner === undefined) return;
    const payload = JSON.parse(row.payload) as P;
    await tq.deleteTimers(uow.sql, row.owner, timeoutRef(row.id, "startToClose"));
    await tq.deleteTimers(uow.sql, row.owner, timeoutRef(row.id, "heartbeat"));
    const { scheduleToStartAt } = await kind.requeued(uow, owner, row, payload);
    if (scheduleToStartAt !== undefined) await this.#arm(uow, kind, row.owner, row.id, "scheduleToStart", scheduleToStartAt);
    await tq.markScheduled(uow.sql, row.id, JSON.stringify(payload));
    if (row.token) uow.settled(row.token);
    uow.scheduled(row.queue);
    await kind.flush(uow, owner);
  }

  /** A task timer fired: the checks every timeout shares, then the kind's record of it. */
  async #timedOut<O, P, C extends ClaimedTask>(uow: UnitOfWork, kind: TaskKind<O, P, C>, t: tq.TimerRow, which: TaskTimeout): Promise<void> {
    const taskId = Number(t.ref.split(":")[0]);
    const found = await tq.taskById(uow.sql, uow.caps, taskId);
    const row = found?.owner === t.owner ? found : undefined;
    if (!row) return;
    const owner = await kind.open(uow, t.owner);
    if (owner === undefined) return;
    if ((which === "startToClose" || which === "heartbeat") && row.state !== tq.TaskState.started) return;
    if (which === "scheduleToStart" && row.state !== tq.TaskState.scheduled) return;
    await this.close(uow, row);
    await kind.timedOut(uow, owner, row, JSON.parse(row.payload) as P, which);
    await kind.flush(uow, owner);
  }
}
