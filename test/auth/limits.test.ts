// The edge limits (limits.ts) with the clock passed in: token buckets, held-poll slots per caller,
// and which fault each refusal is, as data. Polls held per queue are the dispatch core's
// (test/dispatch/poll-limit.test.ts).
import { describe, expect, it } from "vitest";
import { CallLimits, Slots, ThrottlingFault, TokenBuckets } from "../../src/auth/limits.ts";
import { Fault } from "../../src/faults.ts";

describe("TokenBuckets", () => {
  it("holds one second's worth, refills at the rate and says how long to wait", () => {
    const b = new TokenBuckets(2);
    expect([b.take("a", 0), b.take("a", 0)]).toEqual([0, 0]);
    expect(b.take("a", 0)).toBe(500);
    expect(b.take("b", 0)).toBe(0); // another key has its own bucket
    expect(b.take("a", 250)).toBe(250);
    expect(b.take("a", 500)).toBe(0);
    expect(b.take("a", 10_000)).toBe(0); // refilled, but never above the capacity
    expect(b.take("a", 10_000)).toBe(0);
    expect(b.take("a", 10_000)).toBe(500);
  });

  it("keeps at most maxKeys buckets", () => {
    const b = new TokenBuckets(1, 2);
    b.take("a", 0);
    b.take("b", 0);
    expect(b.take("c", 0)).toBe(0);
    expect(b.take("c", 0)).toBe(1000);
  });
});

describe("Slots", () => {
  it("holds at most limit per key and gives them back", () => {
    const s = new Slots(2);
    expect([s.acquire("q"), s.acquire("q"), s.acquire("q"), s.acquire("r")]).toEqual([true, true, false, true]);
    s.release("q");
    expect(s.held("q")).toBe(1);
    expect(s.acquire("q")).toBe(true);
  });
});

const base = { maxRequestsPerSecond: 0, maxOperationRequestsPerSecond: 0, maxPollsPerCaller: 0 };
/** A PollForActivityTask call (the task list names the poll for the reader; the edge never reads it). */
const swfPoll = (_list: string) => ["swf", "PollForActivityTask"] as const;

const refusals: { name: string; settings: Partial<typeof base>; calls: (readonly [string, string])[]; fault: string; retryAfterMs?: number }[] = [
  { name: "caller rate", settings: { maxRequestsPerSecond: 2 }, calls: [["swf", "ListDomains"], ["states", "ListActivities"], ["swf", "ListDomains"]], fault: "ThrottlingException", retryAfterMs: 500 },
  { name: "operation rate", settings: { maxOperationRequestsPerSecond: 1 }, calls: [["swf", "ListDomains"], ["states", "ListActivities"], ["swf", "ListDomains"]], fault: "ThrottlingException", retryAfterMs: 1000 },
  {
    name: "Data Pipeline polls per caller",
    settings: { maxPollsPerCaller: 1 },
    calls: [
      ["datapipeline", "PollForTask"],
      ["datapipeline", "PollForTask"],
    ],
    fault: "ThrottlingException",
  },
  { name: "SWF polls per caller", settings: { maxPollsPerCaller: 2 }, calls: [swfPoll("a"), swfPoll("b"), swfPoll("c")], fault: "LimitExceededFault" },
  {
    name: "Step Functions polls per caller",
    settings: { maxPollsPerCaller: 1 },
    calls: [
      ["states", "GetActivityTask"],
      ["states", "GetActivityTask"],
    ],
    fault: "ActivityWorkerLimitExceeded",
  },
];

describe("CallLimits", () => {
  it.each(refusals.map((r) => [r.name, r] as const))("%s: the last call is refused with its fault", (_name, r) => {
    const limits = new CallLimits({ ...base, ...r.settings });
    for (const [service, op] of r.calls.slice(0, -1)) limits.admit("me", service, op, 0);
    const [service, op] = r.calls[r.calls.length - 1];
    let err: unknown;
    try {
      limits.admit("me", service, op, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Fault);
    expect((err as Fault).type).toBe(r.fault);
    if (r.retryAfterMs !== undefined) {
      expect(err).toBeInstanceOf(ThrottlingFault);
      expect((err as ThrottlingFault).headers).toEqual({ "retry-after": String(Math.ceil(r.retryAfterMs / 1000)), "x-amz-retry-after": String(r.retryAfterMs) });
    }
    // Another caller is not affected by this one's rate or polls.
    expect(() => limits.admit("other", service, op, 0)).not.toThrow();
  });

  it("a released poll frees its caller's slot; polls on one task list are not counted here", () => {
    const limits = new CallLimits({ ...base, maxPollsPerCaller: 1 });
    const release = limits.admit("me", ...swfPoll("l"), 0);
    expect(() => limits.admit("me", ...swfPoll("m"), 0)).toThrow(Fault); // the caller is full
    const others = Array.from({ length: 5 }, (_, i) => limits.admit(`caller ${i}`, ...swfPoll("l"), 0)); // the list is the core's
    release();
    release(); // idempotent
    expect(() => limits.admit("me", ...swfPoll("l"), 0)).not.toThrow();
    for (const r of others) r();
  });

  it("a stream or another call holds nothing", () => {
    const limits = new CallLimits({ ...base, maxPollsPerCaller: 1 });
    for (let i = 0; i < 3; i++) limits.admit("me", "swf", "StreamActivityTasks", 0);
    expect(() => limits.admit("me", ...swfPoll("l"), 0)).not.toThrow();
  });
});
