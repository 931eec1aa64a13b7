// A clock that moves only when a test says so. Everything that reads the injected Clock (long-poll
// hold times, the durable timer loop, task and execution timeouts) sees its time, so a test drives
// a 5-minute timeout in one call instead of sleeping.
import type { Clock } from "../../src/dispatch/clock.ts";

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** A manual clock: `advance` moves time and fires what fell due, in time order. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const p: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    if (p.at <= this.#now) {
      // Due now: run on the next turn of the event loop, as a zero-delay timer would.
      let cancelled = false;
      setImmediate(() => cancelled || fn());
      return () => (cancelled = true);
    }
    this.#pending.push(p);
    return () => {
      this.#pending = this.#pending.filter((x) => x !== p);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due (also ones added while firing). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#pending.filter((p) => p.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#pending = this.#pending.filter((p) => p !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = target;
  }

  /** Timers waiting for time to move (for assertions). */
  get pendingTimers(): number {
    return this.#pending.length;
  }
}
