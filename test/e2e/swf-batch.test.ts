// RespondActivityTasks, the batch completion of activity tasks on the Connect/gRPC route, on both
// stores: one transaction per call, one decision task per execution, a fault per bad outcome while
// the rest apply, validation naming the outcome, nothing applied on a store failure, stream
// credits returned per closed task, and no AWS JSON route.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ActivityTaskOutcomeSchema } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { DecisionType, EventType, type HistoryEvent } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { connectFixture, scheduleActivities } from "../helpers/swf.ts";
import { faultyDatabase, type FaultyDatabase } from "../helpers/faulty-db.ts";
import type { Database, Sql } from "../../src/store/db.ts";

type Outcome = MessageInitShape<typeof ActivityTaskOutcomeSchema>;


/** Counts the statements whose SQL matches each pattern, across every transaction of `inner`. */
function counting(inner: Database, patterns: Record<string, RegExp>): { db: Database; counts: Record<string, number>; reset(): void } {
  const counts: Record<string, number> = {};
  const reset = () => {
    for (const k of Object.keys(patterns)) counts[k] = 0;
  };
  reset();
  const see = (q: string) => {
    for (const [k, re] of Object.entries(patterns)) if (re.test(q)) counts[k]++;
  };
  const wrap = (sql: Sql): Sql => ({
    all: async (q, p) => (see(q), sql.all(q, p)),
    get: async (q, p) => (see(q), sql.get(q, p)),
    run: async (q, p) => (see(q), sql.run(q, p)),
  });
  const db: Database = {
    caps: inner.caps,
    tx: (fn) => inner.tx((sql) => fn(wrap(sql))),
    publishInTx: (sql, channel, payload) => inner.publishInTx(sql, channel, payload),
    publish: (channel, payload) => inner.publish(channel, payload),
    subscribe: (channel, fn) => inner.subscribe(channel, fn),
    healthy: () => inner.healthy(),
    close: () => inner.close(),
  };
  return { db, counts, reset };
}

const completed = (taskToken: string | undefined, result?: string): Outcome => ({ outcome: { case: "completed", value: { taskToken, result } } });

describe.each(stores)("RespondActivityTasks (%s)", (kind) => {
  let tg: Taskgate;
  let db: FaultyDatabase;
  let stats: ReturnType<typeof counting>;
  beforeAll(async () => {
    tg = await startTaskgate({
      kind,
      longPollSeconds: 0.5,
      wrapDb: (inner) => {
        stats = counting(inner, { executionWrites: /^UPDATE swf_executions|^WITH appended AS/, tokenLookups: /WHERE t\.token IN/ });
        return (db = faultyDatabase(stats.db));
      },
    });
  });
  afterEach(() => db.disarm());
  afterAll(async () => {
    await tg?.destroy();
  });

  /** Starts an execution whose first decision schedules `count` activities; returns its runId. */
  const schedule = (domain: string, workflowId: string, count: number, input?: string) => scheduleActivities(tg.connect, domain, workflowId, count, input);

  /** Polls `count` activity tasks of the domain; returns their tokens in activity order. */
  async function poll(domain: string, count: number): Promise<string[]> {
    const tokens: string[] = [];
    while (tokens.length < count) {
      const a = await tg.connect.pollForActivityTask({ domain, taskList: { name: "a" } });
      if (a.taskToken) tokens.push(a.taskToken);
    }
    return tokens;
  }

  async function history(domain: string, workflowId: string, runId: string): Promise<HistoryEvent[]> {
    return (await tg.connect.getWorkflowExecutionHistory({ domain, execution: { workflowId, runId }, maximumPageSize: 1000 })).events;
  }
  const count = (events: HistoryEvent[], type: EventType) => events.filter((e) => e.eventType === type).length;

  async function rejected(p: Promise<unknown>): Promise<ConnectError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  }

  it("completes many activities of one execution in one call: each completion recorded once, one decision task scheduled", async () => {
    const domain = await connectFixture(tg.connect, "bdom");
    const runId = await schedule(domain, "many", 50);
    const tokens = await poll(domain, 50);
    stats.reset();
    const r = await tg.grpc.respondActivityTasks({ outcomes: tokens.map((t, i) => completed(t, `r${i}`)) });
    // One lookup of all fifty tokens, one write of the execution's row.
    expect(stats.counts).toEqual({ executionWrites: 1, tokenLookups: 1 });
    expect(r.results).toHaveLength(50);
    expect(r.results.every((x) => x.fault === undefined)).toBe(true);
    const events = await history(domain, "many", runId);
    const done = events.filter((e) => e.eventType === EventType.ACTIVITY_TASK_COMPLETED);
    expect(done).toHaveLength(50);
    expect(new Set(done.map((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId)).size).toBe(50);
    expect(done.map((e) => e.activityTaskCompletedEventAttributes?.result).sort()).toEqual(tokens.map((_, i) => `r${i}`).sort());
    // The first decision task, and exactly one for all fifty completions.
    expect(count(events, EventType.DECISION_TASK_SCHEDULED)).toBe(2);
    // Scheduled by the first completion; the later ones find it open.
    expect(events.findIndex((e) => e.eventType === EventType.DECISION_TASK_SCHEDULED && (e.eventId ?? 0n) > 3n)).toBe(events.findIndex((e) => e.eventType === EventType.ACTIVITY_TASK_COMPLETED) + 1);
    expect(await tg.connect.countPendingDecisionTasks({ domain, taskList: { name: "d" } })).toMatchObject({ count: 1 });
  });

  it("applies completed, failed and canceled outcomes together, answering a stale token, a decision token and a repeated token per outcome", async () => {
    const domain = await connectFixture(tg.connect, "bdom");
    const runId = await schedule(domain, "mixed", 4);
    const [t1, t2, t3, t4] = await poll(domain, 4);
    await tg.connect.respondActivityTaskCompleted({ taskToken: t4 });
    // A second execution's decision task is started: its token is not an activity task's.
    await tg.connect.startWorkflowExecution({ domain, workflowId: "other", workflowType: { name: "wf", version: "1" } });
    const d = await tg.connect.pollForDecisionTask({ domain, taskList: { name: "d" } });
    expect(d.taskToken).toBeDefined();
    const r = await tg.connect.respondActivityTasks({
      outcomes: [
        completed(t1, "one"),
        { outcome: { case: "failed", value: { taskToken: t2, reason: "boom", details: "trace" } } },
        completed(t4),
        { outcome: { case: "canceled", value: { taskToken: t3, details: "gone" } } },
        completed(d.taskToken),
        completed("no-such-token"),
        completed(t1, "again"),
      ],
    });
    const names = r.results.map((x) => x.fault?.name ?? "ok");
    expect(names).toEqual(["ok", "ok", "UnknownResourceFault", "ok", "UnknownResourceFault", "UnknownResourceFault", "UnknownResourceFault"]);
    expect(r.results[2].fault?.message).toMatch(/Unknown or expired task token/);
    expect(r.results[2].fault?.namespace).toBe("com.amazonaws.swf.base.model");
    const events = await history(domain, "mixed", runId);
    expect(count(events, EventType.ACTIVITY_TASK_COMPLETED)).toBe(2);
    expect(events.find((e) => e.eventType === EventType.ACTIVITY_TASK_COMPLETED && e.activityTaskCompletedEventAttributes?.result === "one")).toBeDefined();
    expect(events.find((e) => e.eventType === EventType.ACTIVITY_TASK_FAILED)?.activityTaskFailedEventAttributes).toMatchObject({ reason: "boom", details: "trace" });
    expect(events.find((e) => e.eventType === EventType.ACTIVITY_TASK_CANCELED)?.activityTaskCanceledEventAttributes).toMatchObject({ details: "gone" });
    expect(events.some((e) => e.activityTaskCompletedEventAttributes?.result === "again")).toBe(false);
    // The decision token named in the batch is untouched and still completes its task.
    await tg.connect.respondDecisionTaskCompleted({ taskToken: d.taskToken, decisions: [{ decisionType: DecisionType.COMPLETE_WORKFLOW_EXECUTION }] });
  });

  it("rejects an empty list, more than 1000 outcomes and a bad member as invalid_argument naming the outcome", async () => {
    const c = tg.connect;
    const empty = await rejected(c.respondActivityTasks({ outcomes: [] }));
    expect(empty.code).toBe(Code.InvalidArgument);
    expect(faultFromConnectError(empty)).toMatchObject({ name: "ValidationException" });
    expect(empty.rawMessage).toMatch(/at 'outcomes' failed to satisfy constraint: Member must have length greater than or equal to 1/);

    const tooMany = await rejected(c.respondActivityTasks({ outcomes: Array.from({ length: 1001 }, () => completed("t")) }));
    expect(tooMany.code).toBe(Code.InvalidArgument);
    expect(tooMany.rawMessage).toMatch(/at 'outcomes' failed to satisfy constraint: Member must have length less than or equal to 1000/);

    const bad = await rejected(
      c.respondActivityTasks({
        outcomes: [
          { outcome: { case: undefined } },
          completed(undefined),
          completed("t", "x".repeat(32769)),
          { outcome: { case: "failed", value: { taskToken: "t", reason: "r".repeat(257) } } },
          completed("fine"),
        ],
      }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toMatch(/^4 validation errors detected: /);
    expect(bad.rawMessage).toMatch(/at 'outcomes\.1\.member' failed to satisfy constraint: Member must set exactly one of completed, failed, canceled/);
    expect(bad.rawMessage).toMatch(/Value null at 'outcomes\.2\.member\.completed\.taskToken' failed to satisfy constraint: Member must not be null/);
    expect(bad.rawMessage).toMatch(/at 'outcomes\.3\.member\.completed\.result' failed to satisfy constraint: Member must have length less than or equal to 32768/);
    expect(bad.rawMessage).toMatch(/at 'outcomes\.4\.member\.failed\.reason' failed to satisfy constraint: Member must have length less than or equal to 256/);
  });

  it("applies nothing when the store fails during the call, and the same call succeeds on retry", async () => {
    const domain = await connectFixture(tg.connect, "bdom");
    const runId = await schedule(domain, "fault", 5);
    const tokens = await poll(domain, 5);
    const outcomes = tokens.map((t) => completed(t));
    db.arm({ match: /INSERT INTO swf_events|WITH appended AS/, mode: "statement" });
    const err = await rejected(tg.grpc.respondActivityTasks({ outcomes }));
    expect(db.fired).toBe(1);
    expect(err.code).toBe(Code.Unavailable);
    expect(faultFromConnectError(err)).toMatchObject({ name: "ServiceUnavailable" });
    expect(err.rawMessage).toMatch(/nothing was changed\. Retry the request\./);
    const before = await history(domain, "fault", runId);
    expect(count(before, EventType.ACTIVITY_TASK_COMPLETED)).toBe(0);
    expect(count(before, EventType.DECISION_TASK_SCHEDULED)).toBe(1);
    const r = await tg.grpc.respondActivityTasks({ outcomes });
    expect(r.results.map((x) => x.fault?.name ?? "ok")).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    const after = await history(domain, "fault", runId);
    expect(count(after, EventType.ACTIVITY_TASK_COMPLETED)).toBe(5);
    expect(count(after, EventType.DECISION_TASK_SCHEDULED)).toBe(2);
  });

  it("gives a StreamActivityTasks consumer its credits back per completed task, within maxInFlight", async () => {
    const domain = await connectFixture(tg.connect, "bdom");
    await schedule(domain, "stream", 7);
    const ac = new AbortController();
    const it = tg.grpc.streamActivityTasks({ domain, taskList: { name: "a" }, maxInFlight: 3 }, { signal: ac.signal })[Symbol.asyncIterator]();
    try {
      const first = [(await it.next()).value!, (await it.next()).value!, (await it.next()).value!];
      expect(first.map((t) => t.activityId)).toEqual(["stream-0", "stream-1", "stream-2"]);
      // Three uncompleted tasks held: the fourth is not pushed until credit comes back.
      let next = it.next();
      const held = await Promise.race([next.then(() => "pushed"), new Promise((r) => setTimeout(() => r("held"), 300))]);
      expect(held).toBe("held");
      // One outcome's token is unknown: only the two tasks closed return credit.
      const r = await tg.grpc.respondActivityTasks({ outcomes: [completed(first[0].taskToken), completed("stale"), completed(first[1].taskToken)] });
      expect(r.results.map((x) => x.fault?.name ?? "ok")).toEqual(["ok", "UnknownResourceFault", "ok"]);
      const second = [(await next).value!, (await it.next()).value!];
      expect(second.map((t) => t.activityId)).toEqual(["stream-3", "stream-4"]);
      next = it.next();
      const heldAgain = await Promise.race([next.then(() => "pushed"), new Promise((r) => setTimeout(() => r("held"), 300))]);
      expect(heldAgain).toBe("held");
      await tg.grpc.respondActivityTasks({ outcomes: [first[2], ...second].map((t) => completed(t.taskToken)) });
      const third = [(await next).value!, (await it.next()).value!];
      expect(third.map((t) => t.activityId)).toEqual(["stream-5", "stream-6"]);
    } finally {
      ac.abort();
    }
  });

  it("is not an operation of the AWS JSON route", async () => {
    const r = await fetch(`${tg.url}/`, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.RespondActivityTasks" },
      body: JSON.stringify({ outcomes: [] }),
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ __type: expect.stringMatching(/UnknownOperationException$/) });
  });
});
