// Polls and streams over several queues (Matcher.pollAny, Matcher.stream with a list): they wait in
// every queue at once, a wakeup in any of them wakes them, the waking queue is claimed from first,
// a wakeup is never lost to a poll that took a task elsewhere, and hold time, abort and shutdown
// leave nothing parked. Tasks live in an in-memory map standing in for the store.
import { describe, expect, it } from "vitest";
import { Matcher } from "../../src/dispatch/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

/** Queues of task names; `take` removes the oldest task of the first non-empty queue from `first` on. */
function board(queues: readonly string[]) {
  const tasks = new Map<string, string[]>(queues.map((q) => [q, []]));
  const looked: number[] = [];
  return {
    put(q: string, t: string) {
      tasks.get(q)!.push(t);
    },
    looked,
    take(list: readonly string[], first: number): string | undefined {
      looked.push(first);
      for (let i = 0; i < list.length; i++) {
        const t = tasks.get(list[(first + i) % list.length]!)!.shift();
        if (t !== undefined) return t;
      }
      return undefined;
    },
  };
}

/** Lets pending promise callbacks and immediates run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe("a poll over several queues", () => {
  it.each([
    { name: "the first queue", wakes: 0 },
    { name: "the second queue", wakes: 1 },
    { name: "the third queue", wakes: 2 },
  ])("waits in all of them and wakes when a task commits to $name, claiming from it first", async ({ wakes }) => {
    const m = new Matcher(new FakeClock());
    const qs = ["a", "b", "c"];
    const b = board(qs);
    const poll = m.pollAny(qs, async (first) => b.take(qs, first), { holdMs: 60_000 });
    await settle();
    for (const q of qs) expect(m.waiting(q)).toBe(1);
    b.put(qs[wakes]!, "t");
    m.notify(qs[wakes]!);
    expect(await poll).toBe("t");
    expect(b.looked.at(-1)).toBe(wakes);
    for (const q of qs) expect(m.waiting(q)).toBe(0);
  });

  it("takes a task already waiting in any of its queues without parking", async () => {
    const m = new Matcher(new FakeClock());
    const b = board(["a", "b"]);
    b.put("b", "ready");
    expect(await m.pollAny(["a", "b"], async (first) => b.take(["a", "b"], first), { holdMs: 60_000 })).toBe("ready");
    expect(m.waiting("a") + m.waiting("b")).toBe(0);
  });

  it("loses no wakeup: a single-queue poll behind it is woken by the queue it did not take from", async () => {
    const m = new Matcher(new FakeClock());
    const b = board(["a", "b"]);
    const many = m.pollAny(["a", "b"], async (first) => b.take(["a", "b"], first), { holdMs: 60_000 });
    const single = m.poll("b", async () => b.take(["b"], 0), { holdMs: 60_000 });
    await settle();
    b.put("a", "ta");
    b.put("b", "tb");
    m.notify("a"); // wakes the poll over both, which claims from a first
    m.notify("b"); // its place in b is gone: the single poll is woken
    expect(await many).toBe("ta");
    expect(await single).toBe("tb");
  });

  it("is never offered a sync handoff (it claims from the store)", async () => {
    const m = new Matcher(new FakeClock());
    const poll = m.pollAny(["a", "b"], async () => undefined, { holdMs: 60_000 });
    await settle();
    expect(m.reserve("a")).toBeUndefined();
    m.shutdown();
    expect(await poll).toBeUndefined();
  });

  it.each([
    {
      name: "the hold time ends",
      end: (_m: Matcher, clock: FakeClock) => clock.advance(60_000),
    },
    {
      name: "the request is aborted",
      end: (_m: Matcher, _c: FakeClock, abort: AbortController) => abort.abort(),
    },
    { name: "the server shuts down", end: (m: Matcher) => m.shutdown() },
  ])("answers nothing and leaves no waiter when $name", async ({ end }) => {
    const clock = new FakeClock();
    const m = new Matcher(clock);
    const abort = new AbortController();
    const poll = m.pollAny(["a", "b"], async () => undefined, { holdMs: 60_000, signal: abort.signal });
    await settle();
    expect(m.waiting("a") + m.waiting("b")).toBe(2);
    end(m, clock, abort);
    expect(await poll).toBeUndefined();
    expect(m.waiting("a") + m.waiting("b")).toBe(0);
  });
});

describe("a stream over several queues", () => {
  it("yields tasks of each queue as they commit", async () => {
    const m = new Matcher(new FakeClock());
    const qs = ["a", "b"];
    const b = board(qs);
    b.put("a", "first");
    const abort = new AbortController();
    const stream = m.stream<string>(
      qs,
      async (n, first) => {
        const out: string[] = [];
        for (let t = b.take(qs, first); t !== undefined; t = out.length < n ? b.take(qs, first) : undefined) out.push(t);
        return out;
      },
      { maxInFlight: 10, signal: abort.signal, tokenOf: (t) => t },
    );
    expect((await stream.next()).value).toEqual(["first"]);
    const next = stream.next();
    await settle();
    expect(m.waiting("a") + m.waiting("b")).toBe(2);
    b.put("b", "second");
    m.notify("b");
    expect((await next).value).toEqual(["second"]);
    expect(b.looked.at(-1)).toBe(1);
    abort.abort();
    await stream.return(undefined);
    expect(m.waiting("a") + m.waiting("b")).toBe(0);
  });
});
