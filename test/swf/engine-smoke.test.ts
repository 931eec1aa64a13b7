import { describe, expect, it } from "vitest";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import pino from "pino";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { CloseStatus, DecisionType, EventType, WorkflowExecutionTerminatedCause } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { createApp } from "../../src/app.ts";
import { defaults } from "../../src/server/config.ts";

describe("swf engine in-memory", () => {
  it("runs a workflow", async () => {
    const app = await createApp({ ...defaults, database: { kind: "sqlite", path: ":memory:" }, longPollSeconds: 0.3 }, pino({ level: "silent" }));
    const s = app.services[0];
    const transport = createRouterTransport((r) => r.service(SimpleWorkflowService, s.impl as never));
    const c = createClient(SimpleWorkflowService, transport);
    await c.registerDomain({ name: "d", workflowExecutionRetentionPeriodInDays: "1" });
    await c.registerWorkflowType({ domain: "d", name: "wf", version: "1", defaultTaskList: { name: "dtl" }, defaultExecutionStartToCloseTimeout: "3600", defaultTaskStartToCloseTimeout: "60", defaultChildPolicy: 1 });
    await c.registerActivityType({ domain: "d", name: "act", version: "1", defaultTaskList: { name: "atl" }, defaultTaskScheduleToCloseTimeout: "NONE", defaultTaskScheduleToStartTimeout: "NONE", defaultTaskStartToCloseTimeout: "NONE", defaultTaskHeartbeatTimeout: "NONE" });
    const { runId } = await c.startWorkflowExecution({ domain: "d", workflowId: "w1", workflowType: { name: "wf", version: "1" }, input: "hi" });
    const dt = await c.pollForDecisionTask({ domain: "d", taskList: { name: "dtl" }, identity: "decider" });
    expect(dt.taskToken).toBeTruthy();
    expect(dt.events.map((e) => e.eventType)).toEqual([EventType.WORKFLOW_EXECUTION_STARTED, EventType.DECISION_TASK_SCHEDULED, EventType.DECISION_TASK_STARTED]);
    const pollA = c.pollForActivityTask({ domain: "d", taskList: { name: "atl" } });
    await c.respondDecisionTaskCompleted({ taskToken: dt.taskToken, decisions: [{ decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK, scheduleActivityTaskDecisionAttributes: { activityId: "a1", activityType: { name: "act", version: "1" }, input: "x" } }] });
    const at = await pollA;
    expect(at.activityId).toBe("a1");
    await c.respondActivityTaskCompleted({ taskToken: at.taskToken, result: "done" });
    const dt2 = await c.pollForDecisionTask({ domain: "d", taskList: { name: "dtl" } });
    expect(dt2.previousStartedEventId).toBe(3n);
    await c.respondDecisionTaskCompleted({ taskToken: dt2.taskToken, decisions: [{ decisionType: DecisionType.COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionDecisionAttributes: { result: "ok" } }] });
    const h = await c.getWorkflowExecutionHistory({ domain: "d", execution: { workflowId: "w1", runId } });
    expect(h.events.length).toBe(11);
    const empty = await c.pollForActivityTask({ domain: "d", taskList: { name: "atl" } });
    expect(empty.taskToken).toBeUndefined();
    expect(empty.startedEventId).toBe(0n);
    await app.shutdown();
    await app.close();
  });
});

describe("history limit", () => {
  it("terminates an execution whose history outgrows the limit, with EVENT_LIMIT_EXCEEDED", async () => {
    const app = await createApp({ ...defaults, database: { kind: "sqlite", path: ":memory:" }, longPollSeconds: 0.2 }, pino({ level: "silent" }), { historyLimit: 12 });
    const s = app.services[0];
    const c = createClient(SimpleWorkflowService, createRouterTransport((r) => r.service(SimpleWorkflowService, s.impl as never)));
    await c.registerDomain({ name: "d", workflowExecutionRetentionPeriodInDays: "1" });
    await c.registerWorkflowType({ domain: "d", name: "wf", version: "1", defaultTaskList: { name: "dtl" }, defaultExecutionStartToCloseTimeout: "3600", defaultTaskStartToCloseTimeout: "60", defaultChildPolicy: 1 });
    const { runId } = await c.startWorkflowExecution({ domain: "d", workflowId: "chatty", workflowType: { name: "wf", version: "1" } });
    // Started + DecisionTaskScheduled = 2 events; each signal adds one while the decision task waits.
    let refused = 0;
    for (let i = 0; i < 15; i++) {
      await c.signalWorkflowExecution({ domain: "d", workflowId: "chatty", signalName: `s${i}` }).catch(() => refused++);
    }
    const h = await c.getWorkflowExecutionHistory({ domain: "d", execution: { workflowId: "chatty", runId } });
    const last = h.events.at(-1)!;
    expect(last.eventType).toBe(EventType.WORKFLOW_EXECUTION_TERMINATED);
    expect(last.workflowExecutionTerminatedEventAttributes?.cause).toBe(WorkflowExecutionTerminatedCause.EVENT_LIMIT_EXCEEDED);
    expect(h.events.length).toBe(13); // the 12 events the limit allows, then the termination
    expect(refused).toBe(5); // 10 signals fit; the later ones find no open execution
    const desc = await c.describeWorkflowExecution({ domain: "d", execution: { workflowId: "chatty", runId } });
    expect(desc.executionInfo?.closeStatus).toBe(CloseStatus.TERMINATED);
    await app.shutdown();
    await app.close();
  });
});
