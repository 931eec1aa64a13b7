// Time as the dispatch core and the engines see it. Every deadline (long-poll hold times, durable
// timers, task timeouts, page-token expiry) reads `now()` and waits through `setTimer`, so a test
// can drive all of them with a fake clock instead of sleeping.

/** A clock, injectable for tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `fn` once, `ms` from now by this clock; the result cancels the call. With `unref` the
   * pending call does not keep the process alive.
   */
  setTimer(fn: () => void, ms: number, opts?: { unref?: boolean }): () => void;
}

/** The wall clock and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms, opts) {
    const t = setTimeout(fn, ms);
    if (opts?.unref) t.unref();
    return () => clearTimeout(t);
  },
};
