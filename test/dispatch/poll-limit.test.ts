// Polls and streams held per queue on one node (Matcher `maxHeld`, PollLimitExceeded): polls and
// streams count alike, a call over several queues counts once in each and is refused if any is
// full, a refused call claims nothing and holds nothing, and a slot comes back when its call ends
// (task, hold time, abort, stream end, shutdown). Time moves by the fake clock only.
import { describe, expect, it } from "vitest";
import { Matcher, PollLimitExceeded } from "../../src/dispatch/index.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

/** Lets pending promise callbacks and immediates run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** A claim that finds nothing and counts its calls. */
function emptyClaim() {
  const c = { calls: 0, one: async (): Promise<string | undefined> => (c.calls++, undefined), many: async (): Promise<string[]> => (c.calls++, []) };
  return c;
}

async function refusal(p: Promise<unknown>): Promise<PollLimitExceeded> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PollLimitExceeded);
    return e as PollLimitExceeded;
  }
  throw new Error("the call was admitted");
}

describe("polls held per queue", () => {
  it("admits maxHeld polls, refuses the next before it claims, and admits again once one ends", async () => {
    const clock = new FakeClock();
    const m = new Matcher(clock);
    const c = emptyClaim();
    const held = [m.poll("q", c.one, { holdMs: 10_000, maxHeld: 2 }), m.poll("q", c.one, { holdMs: 20_000, maxHeld: 2 })];
    await settle();
    expect(m.held("q")).toBe(2);
    const calls = c.calls;
    const e = await refusal(m.poll("q", c.one, { holdMs: 10_000, maxHeld: 2 }));
    expect([e.queue, e.limit]).toEqual(["q", 2]);
    expect(c.calls).toBe(calls); // refused before claiming
    expect(m.held("q")).toBe(2);
    // Another queue has its own count; a poll without a limit is never refused.
    const other = m.poll("r", c.one, { holdMs: 10_000, maxHeld: 2 });
    const unlimited = m.poll("q", c.one, { holdMs: 10_000 });
    await settle();
    expect([m.held("q"), m.held("r")]).toEqual([3, 1]);
    clock.advance(10_000); // the first poll, the one on r and the unlimited one end empty
    expect(await held[0]).toBeUndefined();
    await Promise.all([other, unlimited]);
    expect([m.held("q"), m.held("r")]).toEqual([1, 0]);
    const again = m.poll("q", c.one, { holdMs: 10_000, maxHeld: 2 });
    await settle();
    expect(m.held("q")).toBe(2);
    clock.advance(10_000);
    await Promise.all([held[1], again]);
    expect(m.held("q")).toBe(0);
  });

  it("a poll that took a task, an aborted poll and shutdown each give their slot back", async () => {
    const m = new Matcher(new FakeClock());
    let task: string | undefined;
    const claim = async () => task;
    const ac = new AbortController();
    const a = m.poll("q", claim, { holdMs: 60_000, signal: ac.signal, maxHeld: 2 });
    const b = m.poll("q", claim, { holdMs: 60_000, maxHeld: 2 });
    await settle();
    await refusal(m.poll("q", claim, { holdMs: 60_000, maxHeld: 2 }));
    ac.abort();
    expect(await a).toBeUndefined();
    expect(m.held("q")).toBe(1);
    task = "t";
    m.notify("q");
    expect(await b).toBe("t");
    expect(m.held("q")).toBe(0);
    task = undefined;
    const c = m.poll("q", claim, { holdMs: 60_000, maxHeld: 1 });
    await settle();
    m.shutdown();
    expect(await c).toBeUndefined();
    expect(m.held("q")).toBe(0);
  });

  it("a stream counts as a poll from its first step to its end", async () => {
    const m = new Matcher(new FakeClock());
    const c = emptyClaim();
    const ac = new AbortController();
    const s = m.stream("q", c.many, { maxInFlight: 10, signal: ac.signal, tokenOf: (t: string) => t, maxHeld: 1 });
    const first = s.next();
    await settle();
    expect(m.held("q")).toBe(1);
    await refusal(m.poll("q", c.one, { holdMs: 60_000, maxHeld: 1 }));
    // A second stream is refused at its first step.
    const s2 = m.stream("q", c.many, { maxInFlight: 10, signal: new AbortController().signal, tokenOf: (t: string) => t, maxHeld: 1 });
    await refusal(s2.next());
    ac.abort();
    expect((await first).done).toBe(true);
    expect(m.held("q")).toBe(0);
    // The same holds the other way round: a held poll refuses a stream.
    const p = m.poll("q", c.one, { holdMs: 60_000, maxHeld: 1 });
    await settle();
    await refusal(m.stream("q", c.many, { maxInFlight: 10, signal: new AbortController().signal, tokenOf: (t: string) => t, maxHeld: 1 }).next());
    m.shutdown();
    await p;
  });

  it("a call over several queues counts once in each, and is refused whole when any is full", async () => {
    const m = new Matcher(new FakeClock());
    const c = emptyClaim();
    const any = m.pollAny(["a", "b"], c.one, { holdMs: 60_000, maxHeld: 1 });
    await settle();
    expect([m.held("a"), m.held("b")]).toEqual([1, 1]);
    expect((await refusal(m.poll("b", c.one, { holdMs: 60_000, maxHeld: 1 }))).queue).toBe("b");
    // Refused on a, it takes no slot of c either (all or nothing).
    expect((await refusal(m.pollAny(["c", "a"], c.one, { holdMs: 60_000, maxHeld: 1 }))).queue).toBe("a");
    expect(m.held("c")).toBe(0);
    const streamed = m.stream(["c", "b"], c.many, { maxInFlight: 1, signal: new AbortController().signal, tokenOf: (t: string) => t, maxHeld: 1 });
    expect((await refusal(streamed.next())).queue).toBe("b");
    expect(m.held("c")).toBe(0);
    m.shutdown();
    await any;
    expect([m.held("a"), m.held("b")]).toEqual([0, 0]);
  });
});
