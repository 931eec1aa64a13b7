// Limits that protect the server from its callers, checked at the edge before an engine sees the
// call, so a refused call has done nothing (a refused poll holds no task):
//   - a request rate per caller and per caller and operation (token buckets holding one second's
//     worth): over it, Coral's ThrottlingException, HTTP 400, with `Retry-After` (seconds) and
//     `x-amz-retry-after` (milliseconds, what the AWS SDKs for JavaScript v3 read first);
//   - long polls held at once per caller across all queues: the service's limit error
//     (LimitExceededFault, ActivityWorkerLimitExceeded, ThrottlingException).
// A caller is the principal's name with --auth sigv4, else the client address. Unary long polls
// are counted; task streams are rate-limited only. Pure: the clock is passed in.
// Polls and streams held per queue (an SWF task list, a Step Functions activity, a Data Pipeline
// worker group) are counted by the dispatch core, after the engine found the queue's domain or
// activity (Matcher, PollLimitExceeded; --max-polls-per-task-list, --max-activity-pollers).
import { Fault, sfn, swf, throttling } from "../faults.ts";

/** The limits in force (0 = unlimited). */
export interface LimitSettings {
  readonly maxRequestsPerSecond: number;
  readonly maxOperationRequestsPerSecond: number;
  readonly maxPollsPerCaller: number;
}

/** ThrottlingException with the time until the caller's next token. */
export class ThrottlingFault extends Fault {
  /** Milliseconds until a retry can succeed (at least 1). */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    const f = throttling(message);
    super(f.type, f.message, { namespace: f.namespace, code: f.code, status: f.status, retryable: true });
    this.retryAfterMs = Math.max(1, Math.ceil(retryAfterMs));
  }

  /** The response headers SDKs back off by: Retry-After in whole seconds, x-amz-retry-after in ms. */
  get headers(): Record<string, string> {
    return { "retry-after": String(Math.ceil(this.retryAfterMs / 1000)), "x-amz-retry-after": String(this.retryAfterMs) };
  }
}

/** Token buckets by key: `rate` tokens per second, holding at most one second's worth. At most `maxKeys` buckets (the idlest full ones are dropped first). */
export class TokenBuckets {
  readonly #rate: number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(rate: number, maxKeys = 100_000) {
    this.#rate = rate;
    this.#maxKeys = maxKeys;
  }

  /** Takes a token for `key` at `nowMs`: 0 when taken, else the milliseconds until one is there. */
  take(key: string, nowMs: number): number {
    const cap = this.#rate;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(nowMs);
      b = { tokens: cap, atMs: nowMs };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(cap, b.tokens + ((nowMs - b.atMs) / 1000) * this.#rate);
      b.atMs = nowMs;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / this.#rate) * 1000;
  }

  /** Drops the buckets that have refilled (they behave as new ones); if none, the oldest. */
  #evict(nowMs: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + ((nowMs - b.atMs) / 1000) * this.#rate >= this.#rate) this.#buckets.delete(k);
    if (this.#buckets.size >= this.#maxKeys) {
      const first = this.#buckets.keys().next();
      if (!first.done) this.#buckets.delete(first.value);
    }
  }
}

/** Counters of calls held at once by key, each at most `limit`. */
export class Slots {
  readonly #limit: number;
  readonly #held = new Map<string, number>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Takes a slot of `key`; false when `limit` are held. */
  acquire(key: string): boolean {
    const n = this.#held.get(key) ?? 0;
    if (n >= this.#limit) return false;
    this.#held.set(key, n + 1);
    return true;
  }

  /** Gives back a slot taken by acquire. */
  release(key: string): void {
    const n = (this.#held.get(key) ?? 0) - 1;
    if (n <= 0) this.#held.delete(key);
    else this.#held.set(key, n);
  }

  /** Slots held for `key`. */
  held(key: string): number {
    return this.#held.get(key) ?? 0;
  }
}

/** Whether an operation is a long poll (held per caller). */
export function isPoll(service: string, operation: string): boolean {
  return (service === "swf" && (operation === "PollForActivityTask" || operation === "PollForDecisionTask")) || (service === "states" && operation === "GetActivityTask") || (service === "datapipeline" && operation === "PollForTask");
}

function pollLimitFault(service: string, message: string): Fault {
  if (service === "swf") return swf.limitExceeded(message);
  if (service === "states") return sfn.activityWorkerLimitExceeded(message);
  return throttling(message);
}

const noop = (): void => {};

/** The limits of one server: rates and held polls, by caller. */
export class CallLimits {
  readonly #settings: LimitSettings;
  readonly #perCaller: TokenBuckets | undefined;
  readonly #perOperation: TokenBuckets | undefined;
  readonly #callers: Slots | undefined;

  constructor(settings: LimitSettings) {
    this.#settings = settings;
    this.#perCaller = settings.maxRequestsPerSecond > 0 ? new TokenBuckets(settings.maxRequestsPerSecond) : undefined;
    this.#perOperation = settings.maxOperationRequestsPerSecond > 0 ? new TokenBuckets(settings.maxOperationRequestsPerSecond) : undefined;
    this.#callers = settings.maxPollsPerCaller > 0 ? new Slots(settings.maxPollsPerCaller) : undefined;
  }

  /**
   * Admits one call of `caller` or throws its refusal (ThrottlingFault for a rate, the service's
   * limit fault for held polls). Returns the function that gives back what the call holds; call
   * it once the call is answered. No limit here reads the request: polls held per queue are
   * counted by the dispatch core.
   */
  admit(caller: string, service: string, operation: string, nowMs: number): () => void {
    const s = this.#settings;
    const wait = this.#perCaller?.take(caller, nowMs) ?? 0;
    if (wait > 0) throw new ThrottlingFault(`Rate exceeded: more than ${s.maxRequestsPerSecond} requests per second from this caller. Retry after the delay given.`, wait);
    const opWait = this.#perOperation?.take(`${caller}\n${service}:${operation}`, nowMs) ?? 0;
    if (opWait > 0) throw new ThrottlingFault(`Rate exceeded: more than ${s.maxOperationRequestsPerSecond} ${operation} requests per second from this caller. Retry after the delay given.`, opWait);
    const callers = this.#callers;
    if (callers === undefined || !isPoll(service, operation)) return noop;
    if (!callers.acquire(caller)) throw pollLimitFault(service, `This caller already holds ${s.maxPollsPerCaller} long polls; retry when one returns.`);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      callers.release(caller);
    };
  }
}
