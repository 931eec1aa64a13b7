// The same SWF service through the generated Connect client: Connect, gRPC and gRPC-Web, unary and
// server-streaming, plus plain JSON with fetch (what curl sends).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { DecisionType, EventType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { connectFixture } from "../helpers/swf.ts";

let n = 0;

describe.each(stores)("SWF through the Connect client (%s)", (kind) => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 0.5 });
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  for (const protocol of ["connect", "grpc", "grpcWeb"] as const) {
    it(`runs a whole workflow over ${protocol}`, async () => {
      const c = tg[protocol];
      const domain = await connectFixture(c, "cdom");
      const { runId } = await c.startWorkflowExecution({ domain, workflowId: "w", workflowType: { name: "wf", version: "1" }, input: "in" });
      const d = await c.pollForDecisionTask({ domain, taskList: { name: "d" }, identity: protocol });
      expect(d.events.map((e) => e.eventType)).toEqual([EventType.WORKFLOW_EXECUTION_STARTED, EventType.DECISION_TASK_SCHEDULED, EventType.DECISION_TASK_STARTED]);
      await c.respondDecisionTaskCompleted({
        taskToken: d.taskToken,
        decisions: [{ decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK, scheduleActivityTaskDecisionAttributes: { activityId: "a1", activityType: { name: "act", version: "1" }, input: "x" } }],
      });
      const a = await c.pollForActivityTask({ domain, taskList: { name: "a" } });
      expect(a.activityId).toBe("a1");
      expect(a.startedEventId).toBe(6n);
      await c.recordActivityTaskHeartbeat({ taskToken: a.taskToken, details: "half" });
      await c.respondActivityTaskCompleted({ taskToken: a.taskToken, result: "r" });
      const d2 = await c.pollForDecisionTask({ domain, taskList: { name: "d" } });
      await c.respondDecisionTaskCompleted({
        taskToken: d2.taskToken,
        decisions: [{ decisionType: DecisionType.COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionDecisionAttributes: { result: "ok" } }],
      });
      const h = await c.getWorkflowExecutionHistory({ domain, execution: { workflowId: "w", runId } });
      expect(h.events.at(-1)?.eventType).toBe(EventType.WORKFLOW_EXECUTION_COMPLETED);
      expect(h.events.at(-1)?.workflowExecutionCompletedEventAttributes?.result).toBe("ok");
    });
  }

  it("maps faults to Connect codes and keeps the AWS fault name in the details", async () => {
    for (const c of [tg.connect, tg.grpc, tg.grpcWeb]) {
      const err = await c.describeDomain({ name: "missing-domain" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.NotFound);
      expect(faultFromConnectError(err as ConnectError)).toMatchObject({ name: "UnknownResourceFault", message: "Unknown domain: missing-domain" });
      const bad = await c.pollForActivityTask({ domain: "x", taskList: { name: "a:b" } }).catch((e: unknown) => e);
      expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
      expect(faultFromConnectError(bad as ConnectError)?.name).toBe("ValidationException");
    }
  });

  it("returns the empty poll result over Connect", async () => {
    const domain = await connectFixture(tg.connect, "cdom");
    const a = await tg.connect.pollForActivityTask({ domain, taskList: { name: "a" } });
    expect(a.taskToken).toBeUndefined();
    expect(a.startedEventId).toBe(0n);
  });

  it("streams activity tasks within maxInFlight, the Respond calls giving credit back", async () => {
    const c = tg.grpc;
    const domain = await connectFixture(c, "cdom");
    await c.startWorkflowExecution({ domain, workflowId: "s", workflowType: { name: "wf", version: "1" } });
    const d = await c.pollForDecisionTask({ domain, taskList: { name: "d" } });
    await c.respondDecisionTaskCompleted({
      taskToken: d.taskToken,
      decisions: Array.from({ length: 6 }, (_, i) => ({
        decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK,
        scheduleActivityTaskDecisionAttributes: { activityId: `s${i}`, activityType: { name: "act", version: "1" } },
      })),
    });
    const ac = new AbortController();
    const stream = c.streamActivityTasks({ domain, taskList: { name: "a" }, maxInFlight: 2, identity: "streamer" }, { signal: ac.signal });
    const it = stream[Symbol.asyncIterator]();
    const t1 = (await it.next()).value!;
    const t2 = (await it.next()).value!;
    expect([t1.activityId, t2.activityId]).toEqual(["s0", "s1"]);
    // With two uncompleted tasks held, the third is not pushed until one completes.
    const third = it.next();
    const raced = await Promise.race([third.then(() => "pushed"), new Promise((r) => setTimeout(() => r("held"), 300))]);
    expect(raced).toBe("held");
    expect(await tg.connect.countPendingActivityTasks({ domain, taskList: { name: "a" } })).toMatchObject({ count: 4 });
    await c.respondActivityTaskCompleted({ taskToken: t1.taskToken });
    const t3 = (await third).value!;
    expect(t3.activityId).toBe("s2");
    for (const t of [t2, t3]) await c.respondActivityTaskCompleted({ taskToken: t.taskToken });
    const rest = [(await it.next()).value!, (await it.next()).value!];
    expect(rest.map((t) => t.activityId)).toEqual(["s3", "s4"]);
    ac.abort();
    // The stream is gone: the last task is still there for an ordinary poll.
    const last = await c.pollForActivityTask({ domain, taskList: { name: "a" } });
    expect(last.activityId).toBe("s5");
  });

  it("streams decision tasks with their whole history", async () => {
    const c = tg.connect;
    const domain = await connectFixture(c, "cdom");
    const ac = new AbortController();
    const stream = c.streamDecisionTasks({ domain, taskList: { name: "d" }, maxInFlight: 1 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const next = stream.next();
    await c.startWorkflowExecution({ domain, workflowId: "sd", workflowType: { name: "wf", version: "1" } });
    const t = (await next).value!;
    expect(t.workflowExecution?.workflowId).toBe("sd");
    expect(t.events.map((e: { eventType: EventType }) => e.eventType)).toEqual([EventType.WORKFLOW_EXECUTION_STARTED, EventType.DECISION_TASK_SCHEDULED, EventType.DECISION_TASK_STARTED]);
    await c.respondDecisionTaskCompleted({ taskToken: t.taskToken, decisions: [{ decisionType: DecisionType.COMPLETE_WORKFLOW_EXECUTION }] });
    ac.abort();
  });

  it("serves plain JSON on the Connect route, as curl sends it", async () => {
    const domain = `curl-${++n}`;
    const post = (method: string, body: unknown) =>
      fetch(`${tg.url}/taskgate.swf.v1.SimpleWorkflowService/${method}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await post("RegisterDomain", { name: domain, workflowExecutionRetentionPeriodInDays: "1" })).status).toBe(200);
    const r = await post("DescribeDomain", { name: domain });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ domainInfo: { name: domain, status: "REGISTRATION_STATUS_REGISTERED" } });
    const missing = await post("DescribeDomain", { name: "nope" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "not_found", message: "Unknown domain: nope" });
  });

  it("serves AWS JSON to plain HTTP, as curl sends it", async () => {
    const domain = `aws-${++n}`;
    const r = await fetch(`${tg.url}/`, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.RegisterDomain" },
      body: JSON.stringify({ name: domain, workflowExecutionRetentionPeriodInDays: "1" }),
    });
    expect(r.status).toBe(200);
    const p = await fetch(`${tg.url}/`, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.PollForDecisionTask" },
      body: JSON.stringify({ domain, taskList: { name: "nothing" } }),
    });
    expect(await p.json()).toEqual({ startedEventId: 0, previousStartedEventId: 0 });
  });
});
