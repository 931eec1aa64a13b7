// Long-poll matching: pollers wait on a queue in memory and are woken the moment a task for that
// queue commits (sync handoff, no polling loop). The task itself always lives in the store; a woken
// poller claims it in a transaction, so a wakeup is a nudge, never the truth: if another poller won
// the race, the loser goes back to waiting.
//
// Invariants:
// - A wakeup is never lost: `notify` bumps the queue's version before waking anyone, and a poller
//   re-checks the version after a claim that found nothing before it sleeps; a woken poller that
//   can no longer use the wakeup (its request was aborted) passes it on to the next waiter.
// - Waiters are woken in arrival order (FIFO), one per notification.
// - `shutdown()` answers every waiting poll with "nothing" and refuses new waits.
// - A poll or stream over several queues (Data Pipeline: one queue per pipeline creator) waits in
//   each of them at once and takes no sync handoff; the queue whose wakeup woke it is claimed from
//   first, and a wakeup it can no longer use is passed on in that queue, so none is lost.
// - Polls and streams held at once on a queue on this node are counted (`held`); one that would
//   make a queue hold more than its caller's `maxHeld` is refused with `PollLimitExceeded` before
//   it claims or parks, so a refused call holds nothing. A call over several queues counts once
//   in each and is refused if any of them is full.

import { systemClock, type Clock } from "./clock.ts";

/**
 * A poll or stream refused because its queue already holds `limit` polls and streams on this node.
 * Thrown before anything is claimed or parked; each engine answers it with its own limit fault.
 */
export class PollLimitExceeded extends Error {
  /** The full queue (for a call over several queues, the first full one). */
  readonly queue: string;
  readonly limit: number;

  constructor(queue: string, limit: number) {
    super(`${limit} polls and streams are already held on queue ${queue}`);
    this.name = "PollLimitExceeded";
    this.queue = queue;
    this.limit = limit;
  }
}

interface Waiter {
  wake(): void;
  /** Present on polls that accept a task claimed for them (sync handoff). */
  handoff?: { ctx: unknown; take(task: unknown): boolean; reserved: boolean };
}

/** What a parked poll (and a long poll's loop) asks of its matcher. */
interface ParkedHost {
  /** Whether the matcher shut down. */
  closed: boolean;
  /** Polls taken out of their queue by reserve() and not yet delivered or released. */
  readonly reserved: Set<Parked>;
  readonly clock: Clock;
  /** The hold times of parked waits, served by one timer. */
  readonly deadlines: Deadlines;
  /** A poll or stream held on `queue` ended: it no longer counts there. */
  release(queue: string, s: QueueState): void;
}

/** What a parked wait settles: woken (true), handed a task, or ended (false). */
interface Sleeper<W> {
  woken(w: W): void;
}

/** A parked wait in Deadlines: ended by expire() once its deadline passed, unless removed first. */
interface Timed {
  /** When its hold time ends (the clock's ms); set by Deadlines.add. */
  deadline: number;
  /** Its index in the heap of Deadlines; -1 when not in it. */
  slot: number;
  expire(): void;
}

/**
 * The hold times of every parked wait of a matcher: a binary min-heap by deadline, with one timer
 * armed for the earliest. One timer per matcher rather than a timer, its callback and its cancel
 * function per parked poll; a wait that ends first is taken out at once (its slot).
 */
class Deadlines {
  readonly #clock: Clock;
  readonly #heap: Timed[] = [];
  #cancel: (() => void) | undefined;
  /** The deadline the timer is armed for (Infinity: none). */
  #armedFor = Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Ends `t` (expire) once the clock reaches `at`. */
  add(t: Timed, at: number): void {
    if (t.slot >= 0) this.remove(t);
    t.deadline = at;
    t.slot = this.#heap.length;
    this.#heap.push(t);
    this.#up(t.slot);
    this.#arm();
  }

  /** Takes `t` out (it ended otherwise); nothing if it is not in. */
  remove(t: Timed): void {
    const i = t.slot;
    if (i < 0) return;
    t.slot = -1;
    const heap = this.#heap;
    const last = heap.pop()!;
    if (i < heap.length) {
      heap[i] = last;
      last.slot = i;
      this.#down(i);
      this.#up(last.slot);
    }
    if (heap.length === 0) this.#disarm();
  }

  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined || first.deadline >= this.#armedFor) return;
    this.#disarm();
    this.#armedFor = first.deadline;
    this.#cancel = this.#clock.setTimer(() => this.#fire(), Math.max(0, first.deadline - this.#clock.now()));
  }

  #disarm(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#armedFor = Infinity;
  }

  #fire(): void {
    this.#cancel = undefined;
    this.#armedFor = Infinity;
    const now = this.#clock.now();
    for (let first = this.#heap[0]; first !== undefined && first.deadline <= now; first = this.#heap[0]) {
      this.remove(first);
      first.expire();
    }
    this.#arm();
  }

  #up(i: number): void {
    const heap = this.#heap;
    const t = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.deadline <= t.deadline) break;
      heap[i] = parent;
      parent.slot = i;
      i = p;
    }
    heap[i] = t;
    t.slot = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const t = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heap[c + 1]!.deadline < heap[c]!.deadline) c++;
      const child = heap[c]!;
      if (child.deadline >= t.deadline) break;
      heap[i] = child;
      child.slot = i;
      i = c;
    }
    heap[i] = t;
    t.slot = i;
  }
}

/**
 * One poll parked in a queue until woken, handed a task, timed out, aborted, or the matcher shuts
 * down (see Matcher.#wait). One object per parked poll, listening to its abort signal itself
 * (`handleEvent`): a poll held for a minute keeps this, its timer and its signal listener, and no
 * closures besides the timer's.
 */
class Parked implements Waiter, Timed {
  readonly #host: ParkedHost;
  readonly #s: QueueState;
  readonly #signal: AbortSignal | undefined;
  readonly #sleeper: Sleeper<boolean | { task: unknown }>;
  readonly ctx: unknown;
  readonly handoff: Parked | undefined;
  #reserved = false;
  #done = false;
  deadline = 0;
  slot = -1;

  constructor(host: ParkedHost, s: QueueState, ms: number, signal: AbortSignal | undefined, ctx: unknown, sleeper: Sleeper<boolean | { task: unknown }>) {
    this.#host = host;
    this.#s = s;
    this.#signal = signal;
    this.#sleeper = sleeper;
    this.ctx = ctx;
    this.handoff = ctx === undefined ? undefined : this;
    host.deadlines.add(this, host.clock.now() + ms);
    signal?.addEventListener("abort", this, { once: true });
    s.waiters.add(this);
  }

  /** Reserved by reserve(): its hold time does not end it until delivered or released. */
  get reserved(): boolean {
    return this.#reserved;
  }

  set reserved(v: boolean) {
    this.#reserved = v;
    if (v) this.#host.reserved.add(this);
    else this.#host.reserved.delete(this);
  }

  /** The abort signal fired. */
  handleEvent(): void {
    this.finish(false);
  }

  wake(): void {
    if (this.#signal?.aborted === true || this.#host.closed) {
      // This poll cannot take the task any more: hand the wakeup to the next waiter.
      this.finish(false);
      wakeFirst(this.#s);
      return;
    }
    this.finish(true);
  }

  take(task: unknown): boolean {
    if (this.#done) return false;
    this.finish({ task });
    return true;
  }

  /** The hold time ended. */
  expire(): void {
    if (this.#reserved) this.#host.deadlines.add(this, this.#host.clock.now() + 50);
    else this.finish(false);
  }

  /** Settles the wait once: woken (true), handed a task, or ended (false). */
  finish(woken: boolean | { task: unknown }): void {
    if (this.#done) return;
    this.#done = true;
    this.#host.deadlines.remove(this);
    this.#signal?.removeEventListener("abort", this);
    if (this.#reserved) this.#host.reserved.delete(this);
    if (!woken) this.#s.waiters.delete(this);
    this.#sleeper.woken(woken);
  }
}

/**
 * One wait of a poll or stream over several queues: a `Relay` stands in each queue's waiters, the
 * first woken settles the wait with its queue's index and takes the others out. Never handed a
 * task (no `handoff`): it claims from the store after its wakeup.
 */
class Fanned implements Timed {
  readonly #host: ParkedHost;
  readonly #signal: AbortSignal | undefined;
  readonly #sleeper: Sleeper<number | false>;
  readonly relays: Relay[];
  #done = false;
  deadline = 0;
  slot = -1;

  constructor(host: ParkedHost, states: readonly QueueState[], ms: number, signal: AbortSignal | undefined, sleeper: Sleeper<number | false>) {
    this.#host = host;
    this.#signal = signal;
    this.#sleeper = sleeper;
    this.relays = states.map((s, i) => new Relay(this, s, i));
    host.deadlines.add(this, host.clock.now() + ms);
    signal?.addEventListener("abort", this, { once: true });
    for (const r of this.relays) r.s.waiters.add(r);
  }

  /** Whether the wait can still use a wakeup. */
  get usable(): boolean {
    return !this.#done && this.#signal?.aborted !== true && !this.#host.closed;
  }

  /** The abort signal fired. */
  handleEvent(): void {
    this.finish(false);
  }

  /** The hold time ended. */
  expire(): void {
    this.finish(false);
  }

  /** Settles the wait once: woken by the queue at this index, or ended (false). */
  finish(woken: number | false): void {
    if (this.#done) return;
    this.#done = true;
    this.#host.deadlines.remove(this);
    this.#signal?.removeEventListener("abort", this);
    for (const r of this.relays) r.s.waiters.delete(r);
    this.#sleeper.woken(woken);
  }
}

/** A `Fanned` wait's place in one of its queues. */
class Relay implements Waiter {
  readonly group: Fanned;
  readonly s: QueueState;
  readonly #index: number;

  constructor(group: Fanned, s: QueueState, index: number) {
    this.group = group;
    this.s = s;
    this.#index = index;
  }

  wake(): void {
    if (this.group.usable) {
      this.group.finish(this.#index);
      return;
    }
    // The wait ended (or was woken by another queue) or cannot use the wakeup: pass it on.
    this.group.finish(false);
    wakeFirst(this.s);
  }
}

/**
 * A waiting poll taken out of its queue so that a transaction can claim a task directly for it
 * (sync handoff: one transaction both schedules and starts the task). Exactly one of `deliver` or
 * `release` must follow.
 */
export interface Reservation<C, T> {
  /** What the poll asked with (e.g. its identity). */
  readonly ctx: C;
  /** Hands the claimed task to the poll; false if the poll is gone (the caller requeues the task). */
  deliver(task: T): boolean;
  /** The transaction did not commit: the poll goes back to waiting and looks at the store. */
  release(): void;
}

interface QueueState {
  version: number;
  waiters: Set<Waiter>;
  /** Polls and streams held on this queue now (the count `maxHeld` limits); the state is dropped when none is. */
  users: number;
}

/** Wakes the longest-waiting waiter of a queue, if any. */
function wakeFirst(s: QueueState): void {
  const first = s.waiters.values().next();
  if (first.done) return;
  s.waiters.delete(first.value);
  first.value.wake();
}

/**
 * The caller of a long poll held by Matcher.hold: claims for it, and learns its end once (a task,
 * undefined when none came, or a failure of a claim).
 */
export interface PollClient<T> {
  /** Claims one task; `first`: the queue to look at first (Matcher.holdAny), else 0. */
  claim(first: number): Promise<T | undefined>;
  ended(task: T | undefined): void;
  failed(e: unknown): void;
}

/** A PollClient made of a claim function and the settling functions of a promise (Matcher.poll). */
class PromisedPoll<T> implements PollClient<T> {
  readonly #claim: (first: number) => Promise<T | undefined>;
  readonly ended: (task: T | undefined) => void;
  readonly failed: (e: unknown) => void;

  constructor(claim: (first: number) => Promise<T | undefined>, resolve: (task: T | undefined) => void, reject: (e: unknown) => void) {
    this.#claim = claim;
    this.ended = resolve;
    this.failed = reject;
  }

  claim(first: number): Promise<T | undefined> {
    return this.#claim(first);
  }
}

/**
 * One long poll from its first claim to its answer: claims, and parks when the claim found
 * nothing (its wait wakes it directly, as the wait's `Sleeper`). A loop of promise reactions
 * rather than an async function, so that a held poll keeps this object and its wait, and no
 * suspended frame. PollLoop (one queue) and PollAnyLoop (several) say what a claim looks at, how
 * the poll parks and which queues it releases.
 */
abstract class ClaimLoop<T> {
  protected readonly host: ParkedHost;
  protected readonly client: PollClient<T>;
  protected readonly deadline: number;
  protected readonly signal: AbortSignal | undefined;

  constructor(host: ParkedHost, client: PollClient<T>, deadline: number, signal: AbortSignal | undefined) {
    this.host = host;
    this.client = client;
    this.deadline = deadline;
    this.signal = signal;
  }

  /** Notes the queues' versions as a claim begins. */
  protected abstract mark(): void;
  /** Whether something committed to the queues since mark(). */
  protected abstract changed(): boolean;
  /** The queue a claim looks at first. */
  protected abstract first(): number;
  /** Parks the poll for at most `remainingMs`. */
  protected abstract park(remainingMs: number): void;
  /** Releases the queues the poll is counted on. */
  protected abstract release(): void;

  /** Claims (again), unless the poll is over. */
  step(): void {
    if (this.host.closed || this.signal?.aborted) return this.end(undefined);
    this.mark();
    let claimed: Promise<T | undefined>;
    try {
      claimed = this.client.claim(this.first());
    } catch (e) {
      return this.fail(e);
    }
    claimed.then(
      (task) => this.#claimed(task),
      (e: unknown) => this.fail(e),
    );
  }

  #claimed(task: T | undefined): void {
    if (task !== undefined) return this.end(task);
    if (this.changed()) return this.step(); // something committed while we claimed: look again
    const remaining = this.deadline - this.host.clock.now();
    if (remaining <= 0 || this.host.closed) return this.end(undefined);
    try {
      this.park(remaining);
    } catch (e) {
      this.fail(e);
    }
  }

  protected end(task: T | undefined): void {
    this.release();
    this.client.ended(task);
  }

  protected fail(e: unknown): void {
    this.release();
    this.client.failed(e);
  }
}

/** One long poll on one queue (Matcher.poll): its wait is a `Parked`, which may hand it a task. */
class PollLoop<T> extends ClaimLoop<T> implements Sleeper<boolean | { task: unknown }> {
  readonly #queue: string;
  readonly #s: QueueState;
  readonly #ctx: unknown;
  /** The queue's version when the running claim began. */
  #version = 0;

  constructor(host: ParkedHost, queue: string, s: QueueState, client: PollClient<T>, deadline: number, signal: AbortSignal | undefined, ctx: unknown) {
    super(host, client, deadline, signal);
    this.#queue = queue;
    this.#s = s;
    this.#ctx = ctx;
  }

  protected mark(): void {
    this.#version = this.#s.version;
  }

  protected changed(): boolean {
    return this.#s.version !== this.#version;
  }

  protected first(): number {
    return 0;
  }

  protected park(remainingMs: number): void {
    new Parked(this.host, this.#s, remainingMs, this.signal, this.#ctx, this);
  }

  protected release(): void {
    this.host.release(this.#queue, this.#s);
  }

  /** The parked wait ended: woken (claim again), handed a task, or over. */
  woken(w: boolean | { task: unknown }): void {
    if (w === false) this.end(undefined);
    else if (w === true) this.step();
    else this.end(w.task as T);
  }
}

/** One long poll over several queues (Matcher.pollAny): its wait is a `Fanned`, with no handoff. */
class PollAnyLoop<T> extends ClaimLoop<T> implements Sleeper<number | false> {
  readonly #queues: readonly string[];
  readonly #states: readonly QueueState[];
  #first: number;
  #versions: number[] = [];

  constructor(host: ParkedHost, queues: readonly string[], states: readonly QueueState[], client: PollClient<T>, first: number, deadline: number, signal: AbortSignal | undefined) {
    super(host, client, deadline, signal);
    this.#queues = queues;
    this.#states = states;
    this.#first = first;
  }

  protected mark(): void {
    this.#versions = this.#states.map((s) => s.version);
  }

  protected changed(): boolean {
    return this.#states.some((s, i) => s.version !== this.#versions[i]);
  }

  protected first(): number {
    return this.#first;
  }

  protected park(remainingMs: number): void {
    new Fanned(this.host, this.#states, remainingMs, this.signal, this);
  }

  protected release(): void {
    this.#states.forEach((s, i) => this.host.release(this.#queues[i]!, s));
  }

  /** The wait ended: woken with the queue to look at first, or over. */
  woken(w: number | false): void {
    if (w === false) return this.end(undefined);
    this.#first = w;
    this.step();
  }
}

/** Options of one long poll. */
export interface PollOptions {
  /** How long to hold the poll, in ms, before answering with nothing. */
  holdMs: number;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /**
   * Called once a task is claimed for this poll: `undo` if the answer could not be written,
   * `delivered` once it was. Without it the answer counts as delivered when the call returns.
   */
  onClaimed?: (hooks: { undo: () => void; delivered: () => void }) => void;
}

/** The in-memory half of the dispatch core. */
export class Matcher {
  #clock: Clock;
  #queues = new Map<string, QueueState>();
  #closed = false;
  #shutdown = new AbortController();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
    this.#host = { reserved: this.#reserved, closed: false, clock, deadlines: new Deadlines(clock), release: (queue, s) => this.#release(queue, s) };
  }

  /** Aborted when the server shuts down. */
  get shutdownSignal(): AbortSignal {
    return this.#shutdown.signal;
  }

  #state(queue: string): QueueState {
    let s = this.#queues.get(queue);
    if (!s) {
      s = { version: 0, waiters: new Set(), users: 0 };
      this.#queues.set(queue, s);
    }
    return s;
  }

  /** Number of polls waiting on a queue (for tests and metrics). */
  waiting(queue: string): number {
    return this.#queues.get(queue)?.waiters.size ?? 0;
  }

  /** Number of polls and streams held on a queue now, waiting or claiming (what `maxHeld` limits). */
  held(queue: string): number {
    return this.#queues.get(queue)?.users ?? 0;
  }

  /** A task for `queue` committed: wake one waiting poller. */
  notify(queue: string): void {
    const s = this.#queues.get(queue);
    if (!s) return; // nobody polls this queue: the next poll claims from the store first
    s.version++;
    wakeFirst(s);
  }

  /** Nudges may have been missed (a cross-node listener reconnected): every waiter looks again. */
  notifyAll(): void {
    for (const s of this.#queues.values()) {
      s.version++;
      const all = [...s.waiters];
      s.waiters.clear();
      for (const w of all) w.wake();
    }
  }

  /**
   * The slow safety sweep of a shared database: wakes one poller per queue to look at the store,
   * in case a cross-node nudge was lost. Costs one claim query per waited-on queue.
   */
  nudgeQueues(): void {
    for (const s of this.#queues.values()) {
      s.version++;
      wakeFirst(s);
    }
  }

  /**
   * Counts one poll or stream held on each of `queues`, or none: PollLimitExceeded when any of them
   * already holds `maxHeld` (undefined: no limit).
   */
  #acquire(queues: readonly string[], maxHeld: number | undefined): QueueState[] {
    for (const q of queues) this.#check(q, maxHeld);
    return queues.map((q) => this.#acquireOne(q, undefined));
  }

  /** Counts one poll or stream held on `queue`: PollLimitExceeded when it already holds `maxHeld`. */
  #acquireOne(queue: string, maxHeld: number | undefined): QueueState {
    this.#check(queue, maxHeld);
    const s = this.#state(queue);
    s.users++;
    return s;
  }

  #check(queue: string, maxHeld: number | undefined): void {
    if (maxHeld !== undefined && (this.#queues.get(queue)?.users ?? 0) >= maxHeld) throw new PollLimitExceeded(queue, maxHeld);
  }

  #release(queue: string, s: QueueState): void {
    if (--s.users === 0 && this.#queues.get(queue) === s) this.#queues.delete(queue);
  }

  /**
   * Long-polls `queue`: runs `claim` now and again after every wakeup until it returns a task, the
   * hold time ends, the signal aborts or the server shuts down (then undefined). Refused with
   * PollLimitExceeded (a rejection, before `claim` runs) when the queue already holds `maxHeld`.
   */
  poll<T>(queue: string, claim: () => Promise<T | undefined>, opts: Pick<PollOptions, "holdMs" | "signal"> & { ctx?: unknown; maxHeld?: number }): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => this.hold(queue, new PromisedPoll<T>(claim, resolve, reject), opts));
  }

  /**
   * Matcher.poll for a caller that is its own PollClient (one object per poll rather than a
   * promise and closures): throws PollLimitExceeded, before anything is claimed, when the queue
   * already holds `maxHeld`; otherwise `client` learns the poll's end once.
   */
  hold<T>(queue: string, client: PollClient<T>, opts: Pick<PollOptions, "holdMs" | "signal"> & { ctx?: unknown; maxHeld?: number }): void {
    const s = this.#acquireOne(queue, opts.maxHeld);
    new PollLoop<T>(this.#host, queue, s, client, this.#clock.now() + opts.holdMs, opts.signal, opts.ctx).step();
  }

  /**
   * Long-polls several queues at once (no sync handoff): runs `claim(first)` now and again after
   * every wakeup until it returns a task, the hold time ends, the signal aborts or the server shuts
   * down (then undefined). `first` is the index of the queue to claim from first: the one whose
   * wakeup woke the poll, else a rotating start, so no queue is always looked at last. Counts once
   * in each queue; refused with PollLimitExceeded when any of them already holds `maxHeld`.
   */
  pollAny<T>(queues: readonly string[], claim: (first: number) => Promise<T | undefined>, opts: Pick<PollOptions, "holdMs" | "signal"> & { maxHeld?: number }): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => this.holdAny(queues, new PromisedPoll<T>(claim, resolve, reject), opts));
  }

  /** Matcher.pollAny for a caller that is its own PollClient (as Matcher.hold). */
  holdAny<T>(queues: readonly string[], client: PollClient<T>, opts: Pick<PollOptions, "holdMs" | "signal"> & { maxHeld?: number }): void {
    const states = this.#acquire(queues, opts.maxHeld);
    const first = this.#rotation++ % Math.max(1, queues.length);
    new PollAnyLoop<T>(this.#host, queues, states, client, first, this.#clock.now() + opts.holdMs, opts.signal).step();
  }

  #rotation = 0;

  /**
   * Server-streaming delivery: yields batches of tasks claimed from `queue` while fewer than
   * `maxInFlight` of the tasks it yielded are unsettled. `claim(n)` claims up to n tasks; `tokenOf`
   * names each task's token, which `settle(token)` later releases (the task completed, failed,
   * was canceled or timed out). Ends when the signal aborts or the server shuts down. Held on its
   * queues (counted as a poll is) from its first step to its end; that first step throws
   * PollLimitExceeded when a queue already holds `maxHeld`. With `ctx`, a stream on one queue
   * waiting for tasks accepts a sync handoff (the handed-off task is yielded alone).
   */
  async *stream<T>(
    queue: string | readonly string[],
    claim: (n: number, first: number) => Promise<T[]>,
    opts: { maxInFlight: number; signal: AbortSignal; tokenOf: (t: T) => string; maxHeld?: number; ctx?: unknown },
  ): AsyncGenerator<T[]> {
    // Several queues: waits in all of them (`first`: the queue to claim from first, as pollAny).
    const queues = typeof queue === "string" ? [queue] : queue;
    const states = this.#acquire(queues, opts.maxHeld);
    let first = 0;
    const mine = new Set<string>();
    let creditWake: (() => void) | undefined;
    const release = (token: string) => {
      if (mine.delete(token)) {
        this.#credits.delete(token);
        const w = creditWake;
        creditWake = undefined;
        w?.();
      }
    };
    try {
      for (;;) {
        if (this.#closed || opts.signal.aborted) return;
        const free = opts.maxInFlight - mine.size;
        if (free <= 0) {
          await new Promise<void>((resolve) => {
            const done = () => {
              opts.signal.removeEventListener("abort", done);
              this.#shutdown.signal.removeEventListener("abort", done);
              creditWake = undefined;
              resolve();
            };
            creditWake = done;
            opts.signal.addEventListener("abort", done, { once: true });
            this.#shutdown.signal.addEventListener("abort", done, { once: true });
          });
          continue;
        }
        const versions = states.map((s) => s.version);
        const tasks = await claim(free, first);
        if (tasks.length > 0) {
          for (const t of tasks) {
            const token = opts.tokenOf(t);
            mine.add(token);
            this.#credits.set(token, release);
          }
          yield tasks;
          continue;
        }
        if (states.some((s, i) => s.version !== versions[i])) continue;
        if (states.length === 1) {
          // Parked with `ctx`, a stream on one queue takes a sync handoff as a poll does: one task
          // started for it inside the scheduling transaction (it has free credit while it waits).
          const woken = await this.#wait(states[0]!, 60_000, opts.signal, opts.ctx);
          if (typeof woken === "object") {
            const t = woken.task as T;
            const token = opts.tokenOf(t);
            mine.add(token);
            this.#credits.set(token, release);
            yield [t];
          }
        } else first = (await this.#waitAny(states, 60_000, opts.signal)) || 0;
      }
    } finally {
      for (const token of mine) this.#credits.delete(token);
      states.forEach((s, i) => this.#release(queues[i]!, s));
    }
  }

  #credits = new Map<string, (token: string) => void>();

  /** A task delivered on a stream closed (completed, failed, canceled, timed out): return its credit. */
  settle(token: string): void {
    this.#credits.get(token)?.(token);
  }

  /**
   * Takes the longest-waiting poll of `queue` that accepts a handed-off task, if any. Until the
   * reservation is delivered or released, the poll's hold time does not end it (the task is
   * milliseconds away); its abort does, and `deliver` then returns false.
   */
  reserve<C, T>(queue: string): Reservation<C, T> | undefined {
    const s = this.#queues.get(queue);
    if (!s || this.#closed) return undefined;
    for (const w of s.waiters) {
      if (!w.handoff) continue;
      s.waiters.delete(w);
      const h = w.handoff;
      h.reserved = true;
      let settled = false;
      return {
        ctx: h.ctx as C,
        deliver: (task: T) => {
          if (settled) return false;
          settled = true;
          return h.take(task);
        },
        release: () => {
          if (settled) return;
          settled = true;
          h.reserved = false;
          s.version++;
          w.wake();
        },
      };
    }
    return undefined;
  }

  /** Polls reserved for a handoff (out of their queue until delivered or released). */
  readonly #reserved = new Set<Parked>();
  readonly #host: ParkedHost;

  /** Sleeps until woken (true), or the time, the signal or the server ends (false). */
  #wait(s: QueueState, ms: number, signal: AbortSignal | undefined, ctx?: unknown): Promise<boolean | { task: unknown }> {
    return new Promise<boolean | { task: unknown }>((resolve) => {
      if (this.#closed) resolve(false);
      else new Parked(this.#host, s, ms, signal, ctx, { woken: resolve });
    });
  }

  /** Sleeps in several queues until one wakes it (its index), or the time, the signal or the server ends (false). */
  #waitAny(states: readonly QueueState[], ms: number, signal: AbortSignal | undefined): Promise<number | false> {
    return new Promise<number | false>((resolve) => {
      if (this.#closed) resolve(false);
      else new Fanned(this.#host, states, ms, signal, { woken: resolve });
    });
  }

  /** Answers every waiting poll with nothing and refuses new ones. */
  shutdown(): void {
    this.#closed = true;
    this.#host.closed = true;
    this.#shutdown.abort();
    // Parked polls do not listen to the shutdown signal (one listener less per held poll): each
    // is ended here, those reserved for a handoff too (their deliver() then returns false).
    for (const s of this.#queues.values()) {
      for (const w of [...s.waiters]) {
        if (w instanceof Parked) w.finish(false);
        else if (w instanceof Relay) w.group.finish(false);
      }
    }
    for (const p of [...this.#reserved]) p.finish(false);
  }

  /** Whether shutdown has begun. */
  get closed(): boolean {
    return this.#closed;
  }
}
