// The worker-task lifecycle with a task kind that is no engine's: what a new engine gets from the
// core by writing only its hooks. Runs on an in-memory SQLite store and a fake clock.
import { afterEach, describe, expect, it } from "vitest";
import pino from "pino";
import { Dispatch, type TaskKind, type TaskTimeout, type UnitOfWork } from "../../src/dispatch/index.ts";
import { openSqlite } from "../../src/store/sqlite.ts";
import type { Database } from "../../src/store/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

/** An owner that records what happened to its task, in memory. */
interface Job {
  id: string;
  log: string[];
  open: boolean;
}

interface Payload {
  n: number;
  startedAt?: number;
}

interface Claimed {
  token: string;
  n: number;
}

const log = pino({ level: "silent" });
const dbs: Database[] = [];
const cores: Dispatch[] = [];
afterEach(async () => {
  for (const c of cores.splice(0)) {
    c.matcher.shutdown();
    c.timers.stop();
  }
  for (const db of dbs.splice(0)) await db.close();
});

async function setup() {
  const db = await openSqlite({ path: ":memory:", log });
  dbs.push(db);
  const clock = new FakeClock();
  const core = new Dispatch({ db, clock, log });
  cores.push(core);
  const jobs = new Map<string, Job>();
  const kind: TaskKind<Job, Payload, Claimed> = {
    prefix: "test/",
    timerKinds: { scheduleToStart: "test.s2s", startToClose: "test.stc", heartbeat: "test.hb" },
    open: async (_uow, id) => {
      const j = jobs.get(id);
      return j?.open ? j : undefined;
    },
    live: (j) => j.open,
    flush: async () => {},
    starting: (_j, p) => void (p.startedAt = clock.now()),
    started: (_uow, j, t) => {
      j.log.push(`started ${t.payload.n}`);
      return { claimed: { token: t.token, n: t.payload.n }, startToClose: 30, heartbeat: 10, clearsScheduleToStart: true };
    },
    requeued: async (_uow, j) => {
      j.log.push("requeued");
      return {};
    },
    timedOut: async (_uow: UnitOfWork, j: Job, _row, p: Payload, which: TaskTimeout) => {
      j.log.push(`${which} ${p.n}`);
    },
  };
  core.tasks.register(kind);
  core.timers.start();
  const job = (id: string): Job => {
    const j = { id, log: [], open: true };
    jobs.set(id, j);
    return j;
  };
  const schedule = (j: Job, n: number, scheduleToStart?: number) =>
    core.units.run((uow) => core.tasks.schedule(uow, kind, j, { queue: "test/q", priority: 0, ownerId: j.id, key: `k${n}`, payload: { n }, nowMs: clock.now(), scheduleToStart }));
  const poll = () => core.tasks.poll(kind, "test/q", Infinity, "me", { holdMs: 60_000 }, (c) => c, () => undefined);
  return { core, clock, kind, job, schedule, poll };
}

describe("worker tasks of a kind that is no engine's", () => {
  it("schedules, claims with a fresh token and closes; the closed task is gone", async () => {
    const { core, job, schedule, poll } = await setup();
    const j = job("j1");
    await schedule(j, 1);
    const c = await poll();
    expect(c?.n).toBe(1);
    expect(c?.token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(j.log).toEqual(["started 1"]);
    await core.units.run(async (uow) => {
      const row = await core.tasks.byKey(uow, "j1", "k1");
      if (!row) throw new Error("no row");
      await core.tasks.close(uow, row);
    });
    expect(await core.units.run((uow) => core.tasks.byKey(uow, "j1", "k1"))).toBeUndefined();
  });

  it("gives a task scheduled while a poll waits to that poll", async () => {
    const { core, job, schedule, poll } = await setup();
    const j = job("j2");
    const waiting = poll();
    await eventually(() => expect(core.matcher.waiting("test/q")).toBe(1)); // the poll found nothing and waits
    await schedule(j, 2);
    expect((await waiting)?.n).toBe(2);
    expect(j.log).toEqual(["started 2"]);
  });

  it("times out by the kind's timer kinds on the fake clock: schedule-to-start, then start-to-close and heartbeat", async () => {
    const { clock, job, schedule, poll } = await setup();
    const late = job("late");
    await schedule(late, 3, 5);
    clock.advance(5_000);
    await eventually(() => expect(late.log).toEqual(["scheduleToStart 3"]));

    const silent = job("silent");
    await schedule(silent, 4);
    await poll();
    clock.advance(10_000);
    await eventually(() => expect(silent.log).toEqual(["started 4", "heartbeat 4"]));
  });

  it("writes a delivery confirmation only for a task still open when confirmations are written", async () => {
    const { core, kind, job, schedule } = await setup();
    const j = job("j6");
    await schedule(j, 6);
    await schedule(j, 7);
    const delivered: (() => void)[] = [];
    const opts = { holdMs: 60_000, onClaimed: (h: { delivered: () => void }) => void delivered.push(h.delivered) };
    const a = await core.tasks.poll(kind, "test/q", Infinity, "me", opts, (c) => c, () => undefined);
    const b = await core.tasks.poll(kind, "test/q", Infinity, "me", opts, (c) => c, () => undefined);
    for (const d of delivered) d(); // both answers reached their workers
    expect(core.liveness.unconfirmed).toBe(2);
    // The first task completes before the confirmations are written: its row is gone, and its
    // confirmation is dropped at commit.
    await core.units.run(async (uow) => {
      const row = await core.tasks.byKey(uow, "j6", `k${a?.n}`);
      if (!row) throw new Error("no row");
      await core.tasks.close(uow, row);
    });
    expect(core.liveness.unconfirmed).toBe(1);
    await core.liveness.flush();
    expect(core.liveness.unconfirmed).toBe(0);
    // The other is confirmed: a restart would not give it back as undelivered.
    expect(await core.liveness.recoverOrphans()).toBe(0);
    const row = await core.units.run((uow) => core.tasks.byKey(uow, "j6", `k${b?.n}`));
    expect(row?.token).toBe(b?.token);
  });

  it("gives back a task whose answer was not delivered: requeued in its place, claimed again with a new token", async () => {
    const { core, kind, job, schedule, poll } = await setup();
    const j = job("j5");
    await schedule(j, 5);
    let undo: (() => void) | undefined;
    const first = await core.tasks.poll(kind, "test/q", Infinity, "me", { holdMs: 60_000, onClaimed: (h) => (undo = h.undo) }, (c) => c, () => undefined);
    expect(core.liveness.inFlight).toBe(1);
    undo?.(); // the answer never reached the worker
    await eventually(() => expect(j.log).toEqual(["started 5", "requeued"]));
    expect(core.liveness.inFlight).toBe(0);
    const second = await poll();
    expect(second?.n).toBe(5);
    expect(second?.token).not.toBe(first?.token);
  });
});
