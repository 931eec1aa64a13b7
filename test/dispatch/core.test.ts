// The dispatch core's own rules, on an in-memory SQLite store: one handler per timer kind and per
// queue prefix, and a unit of work whose transaction rolls back leaves no trace after it.
import { afterEach, describe, expect, it } from "vitest";
import pino from "pino";
import { Dispatch } from "../../src/dispatch/index.ts";
import { openSqlite } from "../../src/store/sqlite.ts";
import type { Database } from "../../src/store/db.ts";
import { countScheduled, nextTimerMs } from "../../src/store/dispatch.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const log = pino({ level: "silent" });
const open: Database[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
});

async function core(): Promise<Dispatch> {
  const db = await openSqlite({ path: ":memory:", log });
  open.push(db);
  return new Dispatch({ db, clock: new FakeClock(), log });
}

describe("dispatch core registrations", () => {
  it("refuses a second handler for a timer kind", async () => {
    const c = await core();
    c.timers.on("k", async () => {});
    expect(() => c.timers.on("k", async () => {})).toThrow(/already has a handler/);
  });

  it("refuses a requeue prefix that overlaps another", async () => {
    const c = await core();
    c.liveness.onRequeue("e/a/", async () => {});
    c.liveness.onRequeue("e/d/", async () => {});
    expect(() => c.liveness.onRequeue("e/", async () => {})).toThrow(/overlaps/);
    expect(() => c.liveness.onRequeue("e/a/x", async () => {})).toThrow(/overlaps/);
  });
});

describe("unit of work", () => {
  it("applies nothing of a transaction that rolled back: no task, no timer, no wake-up, no claim", async () => {
    const c = await core();
    const poll = c.matcher.poll("q", async () => undefined, { holdMs: 60_000 });
    const failing = c.units.run(async (uow) => {
      await uow.addTimer("k", "owner", "ref", c.clock.now() + 1_000);
      uow.scheduled("q");
      uow.claimed("token-1");
      throw new Error("rolled back");
    });
    await expect(failing).rejects.toThrow("rolled back");
    expect(c.liveness.inFlight).toBe(0);
    expect(await c.db.tx((sql) => nextTimerMs(sql))).toBeUndefined();
    expect(await c.db.tx((sql) => countScheduled(sql, "q"))).toBe(0);
    expect(c.matcher.waiting("q")).toBe(1); // the poll was not woken
    c.matcher.shutdown();
    expect(await poll).toBeUndefined();
  });

  it("registers a claim inside the transaction and keeps it once committed", async () => {
    const c = await core();
    await c.units.run(async (uow) => {
      uow.claimed("token-2");
      expect(c.liveness.inFlight).toBe(1);
    });
    expect(c.liveness.inFlight).toBe(1);
    c.liveness.released("token-2");
    expect(c.liveness.inFlight).toBe(0);
  });
});
