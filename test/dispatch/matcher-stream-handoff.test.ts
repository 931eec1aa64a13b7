// A stream on one queue takes a sync handoff while it waits (Matcher.stream with `ctx`): the task
// started for it inside the scheduling transaction is yielded alone, takes a credit and gives it
// back on settle; a released reservation wakes it to claim instead; a stream without `ctx`, or
// one over several queues, is never reserved; an aborted stream refuses the handed-off task.
import { describe, expect, it } from "vitest";
import { Matcher } from "../../src/dispatch/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

/** Lets pending promise callbacks and immediates run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

interface Task {
  token: string;
}

describe("a stream on one queue", () => {
  it("is reserved while it waits; a delivered task is yielded alone and its credit comes back on settle", async () => {
    const m = new Matcher(new FakeClock());
    const ac = new AbortController();
    let claims = 0;
    const it = m.stream<Task>("q", async () => (claims++, []), { maxInFlight: 1, signal: ac.signal, tokenOf: (t) => t.token, ctx: { identity: "w" } })[Symbol.asyncIterator]();
    const first = it.next();
    await settle();
    const r = m.reserve<{ identity: string }, Task>("q");
    expect(r?.ctx).toEqual({ identity: "w" });
    expect(r!.deliver({ token: "t1" })).toBe(true);
    expect((await first).value).toEqual([{ token: "t1" }]);
    expect(claims).toBe(1); // the handed-off task cost no claim
    // Its one credit is taken: the stream waits for it, not for tasks, and is not reserved.
    const second = it.next();
    await settle();
    expect(m.reserve("q")).toBeUndefined();
    m.settle("t1");
    await settle();
    // Credit back: it claimed again (nothing) and waits, reservable again.
    expect(claims).toBe(2);
    const r2 = m.reserve<unknown, Task>("q");
    expect(r2).toBeDefined();
    r2!.deliver({ token: "t2" });
    expect((await second).value).toEqual([{ token: "t2" }]);
    ac.abort();
    expect((await it.next()).done).toBe(true);
  });

  it("claims from the store when its reservation is released (the scheduling transaction failed)", async () => {
    const m = new Matcher(new FakeClock());
    const ac = new AbortController();
    const store: Task[] = [];
    const it = m.stream<Task>("q", async (n) => store.splice(0, n), { maxInFlight: 5, signal: ac.signal, tokenOf: (t) => t.token, ctx: {} })[Symbol.asyncIterator]();
    const first = it.next();
    await settle();
    const r = m.reserve<unknown, Task>("q")!;
    store.push({ token: "s1" });
    r.release();
    expect((await first).value).toEqual([{ token: "s1" }]);
    ac.abort();
    await it.next();
  });

  it("refuses a handed-off task once aborted, and leaves nothing parked", async () => {
    const m = new Matcher(new FakeClock());
    const ac = new AbortController();
    const it = m.stream<Task>("q", async () => [], { maxInFlight: 1, signal: ac.signal, tokenOf: (t) => t.token, ctx: {} })[Symbol.asyncIterator]();
    const first = it.next();
    await settle();
    const r = m.reserve<unknown, Task>("q")!;
    ac.abort();
    await settle();
    expect(r.deliver({ token: "late" })).toBe(false);
    expect((await first).done).toBe(true);
    expect(m.waiting("q")).toBe(0);
  });

  it("is never reserved without ctx, nor over several queues", async () => {
    const m = new Matcher(new FakeClock());
    const ac = new AbortController();
    const plain = m.stream<Task>("a", async () => [], { maxInFlight: 1, signal: ac.signal, tokenOf: (t) => t.token })[Symbol.asyncIterator]();
    const many = m.stream<Task>(["b", "c"], async () => [], { maxInFlight: 1, signal: ac.signal, tokenOf: (t) => t.token, ctx: {} })[Symbol.asyncIterator]();
    const p1 = plain.next();
    const p2 = many.next();
    await settle();
    expect(m.reserve("a")).toBeUndefined();
    expect(m.reserve("b")).toBeUndefined();
    ac.abort();
    await Promise.all([p1, p2]);
  });
});
