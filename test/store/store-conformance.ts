// The store conformance suite: the same tests, through the same functions of src/store/dispatch.ts
// and src/store/swf.ts, against every backend. A backend passes when the engines cannot tell it
// from another.
//
// `open` opens another Database on the suite's one store (the same SQLite file, the same
// PostgreSQL schema). Tests that need two nodes open a second instance when the database is
// shared (`caps.shared`); an unshared database (SQLite, one process) plays both nodes itself.
// Tests share the store, so each one uses its own queues, owners and names.
import { afterAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { Database, Sql } from "../../src/store/db.ts";
import { Fault, swf } from "../../src/faults.ts";
import {
  TaskState,
  countScheduled,
  deleteOwner,
  deleteTask,
  dueTimers,
  insertTask,
  insertTimer,
  markScheduled,
  markStarted,
  metaValue,
  nextScheduled,
  nextTimerMs,
  rescheduleTimer,
  takeTimer,
  taskByKey,
  taskByToken,
  tasksOfOwner,
} from "../../src/store/dispatch.ts";
import {
  type ExecutionRow,
  findExecution,
  getDomain,
  getExecution,
  getType,
  insertDomain,
  insertEvents,
  insertExecution,
  insertType,
  listDomains,
  listTypes,
  readEvents,
  updateExecution,
} from "../../src/store/swf.ts";

/** The two nodes of a suite: `peer` is another instance on the same store, or `db` itself when unshared. */
interface Nodes {
  db: Database;
  peer: Database;
}

/** Defines the conformance suite of one backend. `cleanup` runs after every opened Database closed. */
export function defineStoreSuite(name: string, open: () => Promise<Database>, cleanup: () => Promise<void>): void {
  describe(`store conformance: ${name}`, () => {
    const opened: Database[] = [];
    let n = 0;
    /** A name no other test of this suite uses. */
    const unique = (what: string): string => `${what}-${++n}-${randomUUID().slice(0, 8)}`;

    const openOne = async (): Promise<Database> => {
      const d = await open();
      opened.push(d);
      return d;
    };
    // Opened by the first test, not in beforeAll: a backend that cannot open fails every test
    // (with its error) instead of reporting them skipped.
    let opening: Promise<Nodes> | undefined;
    const nodes = (): Promise<Nodes> =>
      (opening ??= (async () => {
        const db = await openOne();
        return { db, peer: db.caps.shared ? await openOne() : db };
      })());
    /** A test on the suite's store. */
    const test = (title: string, body: (nodes: Nodes) => Promise<void>, timeout?: number): void => {
      it(title, async () => body(await nodes()), timeout);
    };

    afterAll(async () => {
      for (const d of opened) await d.close();
      await cleanup();
    }, 30_000);

    const task = (sql: Sql, queue: string, priority: number, owner = unique("owner"), key = "k") =>
      insertTask(sql, { queue, priority, owner, key, payload: `{"p":${priority}}`, nowMs: 1000 });

    test("applies migrations once: opening the store again keeps its data and ledger", async ({ db }) => {
      const owner = unique("owner");
      await db.tx((sql) => task(sql, unique("q"), 0, owner));
      const ledger = async (d: Database) => d.tx((sql) => sql.all("SELECT version, name FROM schema_migrations ORDER BY version"));
      const before = await ledger(db);
      expect(before.length).toBeGreaterThan(0);
      if (!db.caps.shared) {
        // One process owns an unshared database: a second open fails at once, saying why. (Reopening
        // after a close is covered by the restart tests.)
        await expect(openOne()).rejects.toThrow(/in use by another process/);
        return;
      }
      const again = await openOne();
      expect(await ledger(again)).toEqual(before);
      expect(await again.tx((sql) => tasksOfOwner(sql, owner))).toHaveLength(1);
    });

    test("returns integers as numbers and blobs as bytes", async ({ db }) => {
      const id = await db.tx((sql) => task(sql, unique("q"), 3));
      const row = await db.tx((sql) => sql.get("SELECT id, priority, scheduled_ms, COUNT(*) AS n FROM tasks WHERE id = ? GROUP BY id, priority, scheduled_ms", [id]));
      expect(row).toEqual({ id, priority: 3, scheduled_ms: 1000, n: 1 });
    });

    test("claims in priority order, FIFO within a priority", async ({ db }) => {
      const queue = unique("q");
      const ids = await db.tx(async (sql) => {
        const out: number[] = [];
        for (const p of [0, 5, 0, 5, 1]) out.push(await task(sql, queue, p));
        return out;
      });
      const got = await db.tx((sql) => nextScheduled(sql, db.caps, queue, 10));
      expect(got.map((t) => t.id)).toEqual([ids[1], ids[3], ids[4], ids[0], ids[2]]);
      expect(got[0]).toMatchObject({ queue, priority: 5, state: TaskState.scheduled, token: null, payload: '{"p":5}', scheduledMs: 1000, startedMs: null });
      expect((await db.tx((sql) => nextScheduled(sql, db.caps, queue, 2))).map((t) => t.id)).toEqual([ids[1], ids[3]]);
      expect(await db.tx((sql) => countScheduled(sql, queue))).toBe(5);
    });

    test("starts a task once, finds it by token and puts it back in its place", async ({ db }) => {
      const queue = unique("q");
      const owner = unique("owner");
      const [first, second] = await db.tx(async (sql) => [await task(sql, queue, 0, owner, "a"), await task(sql, queue, 0, owner, "b")]);
      const token = unique("token");
      expect(await db.tx((sql) => markStarted(sql, first, token, '{"started":true}', 2000, "node-a"))).toBe(true);
      expect(await db.tx((sql) => markStarted(sql, first, unique("token"), "{}", 3000, "node-a"))).toBe(false);
      const t = await db.tx((sql) => taskByToken(sql, db.caps, token));
      expect(t).toMatchObject({ id: first, state: TaskState.started, token, payload: '{"started":true}', startedMs: 2000 });
      expect(await db.tx((sql) => taskByToken(sql, db.caps, unique("token")))).toBeUndefined();
      expect((await db.tx((sql) => nextScheduled(sql, db.caps, queue, 10))).map((r) => r.id)).toEqual([second]);
      expect(await db.tx((sql) => taskByKey(sql, db.caps, owner, "a"))).toMatchObject({ id: first });

      await db.tx((sql) => markScheduled(sql, first, "{}"));
      expect((await db.tx((sql) => nextScheduled(sql, db.caps, queue, 10))).map((r) => r.id)).toEqual([first, second]);
      expect(await db.tx((sql) => taskByToken(sql, db.caps, token))).toBeUndefined();
    });

    test("deletes a task with its own timers only", async ({ db }) => {
      const owner = unique("owner");
      const [a, b] = await db.tx(async (sql) => {
        const a = await task(sql, unique("q"), 0, owner, "a");
        const b = await task(sql, unique("q"), 0, owner, "b");
        for (const ref of [`${a}:start`, `${a}:heartbeat`, `${b}:start`, `${a}0:start`]) await insertTimer(sql, { fireMs: 10, kind: "timeout", owner, ref });
        return [a, b];
      });
      const t = await db.tx((sql) => taskByKey(sql, db.caps, owner, "a"));
      await db.tx((sql) => deleteTask(sql, t!));
      const refs = await db.tx(async (sql) => (await dueTimers(sql, Number.MAX_SAFE_INTEGER, 100_000)).filter((r) => r.owner === owner).map((r) => r.ref).sort());
      expect(refs).toEqual([`${a}0:start`, `${b}:start`].sort());
      expect((await db.tx((sql) => tasksOfOwner(sql, owner))).map((r) => r.id)).toEqual([b]);

      const gone = await db.tx((sql) => deleteOwner(sql, owner));
      expect(gone.map((r) => r.id)).toEqual([b]);
      expect((await db.tx((sql) => dueTimers(sql, Number.MAX_SAFE_INTEGER, 100_000))).filter((r) => r.owner === owner)).toEqual([]);
    });

    test("lists due timers oldest first and lets exactly one transaction take each", async ({ db, peer }) => {
      const owner = unique("owner");
      await db.tx(async (sql) => {
        for (const fireMs of [100, 50, 200]) await insertTimer(sql, { fireMs, kind: "k", owner, ref: `r${fireMs}` });
      });
      const due = (await db.tx((sql) => dueTimers(sql, 150, 100_000))).filter((r) => r.owner === owner);
      expect(due.map((r) => [r.fireMs, r.ref])).toEqual([
        [50, "r50"],
        [100, "r100"],
      ]);
      expect(await db.tx((sql) => nextTimerMs(sql))).toBeLessThanOrEqual(50);

      const first = await db.tx((sql) => takeTimer(sql, due[0].id));
      expect(first).toEqual({ id: due[0].id, fireMs: 50, kind: "k", owner, ref: "r50" });
      expect(await db.tx((sql) => takeTimer(sql, due[0].id))).toBeUndefined();

      // Two nodes race for the same timer; the first holds its transaction open a while.
      const id = due[1].id;
      const results = await Promise.all([
        db.tx(async (sql) => {
          const r = await takeTimer(sql, id);
          await new Promise((resolve) => setTimeout(resolve, 50));
          return r;
        }),
        peer.tx((sql) => takeTimer(sql, id)),
      ]);
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);

      await db.tx((sql) => rescheduleTimer(sql, { fireMs: 120, kind: "k", owner, ref: "r200" }));
      expect((await db.tx((sql) => dueTimers(sql, 150, 100_000))).filter((r) => r.owner === owner).map((r) => r.ref)).toEqual(["r200"]);
    });

    test("keeps at most one open execution per workflowId", async ({ db }) => {
      const domain = unique("domain");
      const d = { name: domain, status: "REGISTERED", description: null, retentionDays: "1", createdMs: 1 };
      expect(await db.tx((sql) => insertDomain(sql, d))).toBe(true);
      expect(await db.tx((sql) => insertDomain(sql, d))).toBe(false);
      expect(await db.tx((sql) => getDomain(sql, domain))).toEqual(d);

      const exec = (runId: string, startMs: number): ExecutionRow => ({
        runId,
        domain,
        workflowId: "wf",
        typeName: "T",
        typeVersion: "1",
        status: "OPEN",
        closeStatus: null,
        startMs,
        closeMs: null,
        nextEventId: 1,
        state: "{}",
      });
      const first = exec(unique("run"), 10);
      expect(await db.tx((sql) => insertExecution(sql, first))).toBe(true);
      expect(await db.tx((sql) => insertExecution(sql, exec(unique("run"), 20)))).toBe(false);
      expect(await db.tx((sql) => getExecution(sql, db.caps, first.runId))).toEqual(first);

      const closed: ExecutionRow = { ...first, status: "CLOSED", closeStatus: "COMPLETED", closeMs: 30, nextEventId: 7, state: '{"x":1}' };
      await db.tx((sql) => updateExecution(sql, closed));
      expect(await db.tx((sql) => findExecution(sql, db.caps, domain, "wf"))).toEqual(closed);
      const second = exec(unique("run"), 40);
      expect(await db.tx((sql) => insertExecution(sql, second))).toBe(true);
      expect(await db.tx((sql) => findExecution(sql, db.caps, domain, "wf"))).toEqual(second);
    });

    test("stores types with their defaults", async ({ db }) => {
      const domain = unique("domain");
      await db.tx((sql) => insertDomain(sql, { name: domain, status: "REGISTERED", description: "d", retentionDays: "NONE", createdMs: 1 }));
      const t = { domain, kind: "activity" as const, name: "a", version: "1", status: "REGISTERED", description: null, createdMs: 5, deprecatedMs: null, config: "{}" };
      expect(await db.tx((sql) => insertType(sql, t))).toBe(true);
      expect(await db.tx((sql) => insertType(sql, t))).toBe(false);
      await db.tx((sql) => insertType(sql, { ...t, version: "2", deprecatedMs: 9 }));
      expect(await db.tx((sql) => getType(sql, domain, "activity", "a", "1"))).toEqual(t);
      const listed = await db.tx((sql) => listTypes(sql, { domain, kind: "activity", status: "REGISTERED", name: "a", after: ["a", "1"], reverse: false, limit: 10 }));
      expect(listed.map((r) => [r.version, r.deprecatedMs])).toEqual([["2", 9]]);
      const domains = await db.tx((sql) => listDomains(sql, "REGISTERED", undefined, false, 100_000));
      expect(domains.map((r) => r.name)).toContain(domain);
    });

    test("round-trips history events as bytes", async ({ db }) => {
      const runId = unique("run");
      const events = [0, 1, 2].map((i) => ({ id: i + 1, data: new Uint8Array([i, 0, 255, 10, 39, 92]) }));
      await db.tx((sql) => insertEvents(sql, runId, events));
      const asc = await db.tx((sql) => readEvents(sql, runId, 1, 3, false, 10));
      expect(asc.every((b) => b instanceof Uint8Array)).toBe(true);
      expect(asc.map((b) => [...b])).toEqual(events.map((e) => [...e.data]));
      const desc = await db.tx((sql) => readEvents(sql, runId, 2, 3, true, 1));
      expect(desc.map((b) => [...b])).toEqual([[2, 0, 255, 10, 39, 92]]);
    });

    test("writes nothing when the transaction throws, and passes its error through", async ({ db }) => {
      const owner = unique("owner");
      const boom = new Error("boom");
      await expect(
        db.tx(async (sql) => {
          await task(sql, unique("q"), 0, owner, "x");
          throw boom;
        }),
      ).rejects.toBe(boom);
      const fault = swf.unknownResource("nope");
      await expect(
        db.tx(async (sql) => {
          await task(sql, unique("q"), 0, owner, "y");
          throw fault;
        }),
      ).rejects.toBe(fault);
      expect(await db.tx((sql) => tasksOfOwner(sql, owner))).toEqual([]);
      expect(fault).toBeInstanceOf(Fault);
    });

    test("creates a meta value once", async ({ db, peer }) => {
      const key = unique("meta");
      expect(await db.tx((sql) => metaValue(sql, key, () => "one"))).toBe("one");
      expect(await peer.tx((sql) => metaValue(sql, key, () => "two"))).toBe("one");
    });

    test("lets concurrent claimers on two nodes claim every task exactly once", async ({ db, peer }) => {
      const queue = unique("q");
      const ids = await db.tx(async (sql) => {
        const out: number[] = [];
        for (let i = 0; i < 50; i++) out.push(await task(sql, queue, i % 3));
        return out;
      });
      const claimed: number[] = [];
      const claimer = async (node: Database): Promise<void> => {
        for (;;) {
          const got = await node.tx(async (sql) => {
            const [t] = await nextScheduled(sql, node.caps, queue, 1);
            if (!t) return undefined;
            expect(await markStarted(sql, t.id, randomUUID(), t.payload, 2000, "node-a")).toBe(true);
            return t.id;
          });
          if (got === undefined) return;
          claimed.push(got);
        }
      };
      await Promise.all(Array.from({ length: 10 }, (_, i) => claimer(i % 2 === 0 ? db : peer)));
      expect(claimed).toHaveLength(50);
      expect([...claimed].sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
      expect(await db.tx((sql) => countScheduled(sql, queue))).toBe(0);
    }, 30_000);

    test("delivers a nudge published on one node to a subscriber on the other within a second", async ({ db, peer }) => {
      const channel = `c_${n++}`;
      const heard: string[] = [];
      const unsubscribe = peer.subscribe(channel, (p) => heard.push(p));
      try {
        // A nudge is a hint: publish until heard, as a subscriber's LISTEN may still be starting.
        const deadline = Date.now() + 1000;
        while (!heard.includes("hello") && Date.now() < deadline) {
          await db.publish(channel, "hello");
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(heard).toContain("hello");
        expect(heard.every((p) => p === "hello" || p === "*")).toBe(true);
      } finally {
        unsubscribe();
      }
    });
  });
}
