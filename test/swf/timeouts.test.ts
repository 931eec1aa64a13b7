// SWF timeouts driven by a fake clock: activity schedule-to-start, start-to-close, heartbeat and
// schedule-to-close, decision start-to-close and schedule-to-start, user timers and the execution
// timeout, each checked in the history, with no sleeping. The app runs in-process on an in-memory
// SQLite store; the durable timer loop, long polls and timeouts all read the fake clock.
import { afterEach, describe, expect, it } from "vitest";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import pino from "pino";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { ActivityTaskTimeoutType, DecisionTaskTimeoutType, DecisionType, EventType, type HistoryEvent } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { faultInterceptor } from "../../src/faults-connect.ts";
import { defaults } from "../../src/server/config.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

type Swf = Client<typeof SimpleWorkflowService>;

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) {
    await app.shutdown();
    await app.close();
  }
});

/** An app on a fresh in-memory store and a fake clock, with a domain and one workflow and activity type. */
async function setup(): Promise<{ c: Swf; clock: FakeClock }> {
  const clock = new FakeClock();
  const app = await createApp({ ...defaults, database: { kind: "sqlite", path: ":memory:" }, longPollSeconds: 60 }, pino({ level: "silent" }), { clock });
  apps.push(app);
  // The fault interceptor gives SWF faults their Connect code and message, as the server's routes do.
  const transport = createRouterTransport((r) => r.service(SimpleWorkflowService, app.services[0].impl as never), { router: { interceptors: [faultInterceptor] } });
  const c = createClient(SimpleWorkflowService, transport);
  await c.registerDomain({ name: "d", workflowExecutionRetentionPeriodInDays: "1" });
  await c.registerWorkflowType({ domain: "d", name: "wf", version: "1", defaultTaskList: { name: "dtl" }, defaultExecutionStartToCloseTimeout: "3600", defaultTaskStartToCloseTimeout: "30", defaultChildPolicy: 1 });
  await c.registerActivityType({
    domain: "d",
    name: "act",
    version: "1",
    defaultTaskList: { name: "atl" },
    defaultTaskScheduleToCloseTimeout: "NONE",
    defaultTaskScheduleToStartTimeout: "NONE",
    defaultTaskStartToCloseTimeout: "NONE",
    defaultTaskHeartbeatTimeout: "NONE",
  });
  return { c, clock };
}

/** Starts an execution of the workflow type; its runId. */
async function start(c: Swf, workflowId: string, executionStartToCloseTimeout?: string): Promise<string> {
  const { runId } = await c.startWorkflowExecution({ domain: "d", workflowId, workflowType: { name: "wf", version: "1" }, executionStartToCloseTimeout });
  if (runId === undefined) throw new Error("no runId");
  return runId;
}

/** Starts an execution and completes its first decision task with `decisions`. */
async function startWith(c: Swf, workflowId: string, decisions: Parameters<Swf["respondDecisionTaskCompleted"]>[0]["decisions"]): Promise<string> {
  const runId = await start(c, workflowId);
  const dt = await c.pollForDecisionTask({ domain: "d", taskList: { name: "dtl" } });
  expect(dt.workflowExecution?.runId).toBe(runId);
  await c.respondDecisionTaskCompleted({ taskToken: dt.taskToken, decisions });
  return runId;
}

function scheduleActivity(timeouts: { scheduleToStart?: string; startToClose?: string; heartbeat?: string; scheduleToClose?: string }) {
  return [
    {
      decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK,
      scheduleActivityTaskDecisionAttributes: {
        activityId: "a1",
        activityType: { name: "act", version: "1" },
        scheduleToStartTimeout: timeouts.scheduleToStart,
        startToCloseTimeout: timeouts.startToClose,
        heartbeatTimeout: timeouts.heartbeat,
        scheduleToCloseTimeout: timeouts.scheduleToClose,
      },
    },
  ];
}

async function history(c: Swf, workflowId: string, runId: string): Promise<HistoryEvent[]> {
  return (await c.getWorkflowExecutionHistory({ domain: "d", execution: { workflowId, runId } })).events;
}

/** Waits until the history holds an event of `type`, and returns it. */
async function eventOf(c: Swf, workflowId: string, runId: string, type: EventType): Promise<HistoryEvent> {
  return eventually(async () => {
    const e = (await history(c, workflowId, runId)).find((x) => x.eventType === type);
    if (!e) throw new Error(`no event of type ${type} yet`);
    return e;
  });
}

async function hasNo(c: Swf, workflowId: string, runId: string, type: EventType): Promise<void> {
  expect((await history(c, workflowId, runId)).some((x) => x.eventType === type)).toBe(false);
}

describe("activity timeouts on a fake clock", () => {
  it("schedule-to-start: an activity nobody polls times out, and a decision task is scheduled", async () => {
    const { c, clock } = await setup();
    const runId = await startWith(c, "s2s", scheduleActivity({ scheduleToStart: "300" }));
    clock.advance(299_000);
    await hasNo(c, "s2s", runId, EventType.ACTIVITY_TASK_TIMED_OUT);
    clock.advance(1_000);
    const e = await eventOf(c, "s2s", runId, EventType.ACTIVITY_TASK_TIMED_OUT);
    expect(e.activityTaskTimedOutEventAttributes?.timeoutType).toBe(ActivityTaskTimeoutType.SCHEDULE_TO_START);
    expect(e.activityTaskTimedOutEventAttributes?.startedEventId).toBe(0n);
    const events = await history(c, "s2s", runId);
    expect(events.at(-1)?.eventType).toBe(EventType.DECISION_TASK_SCHEDULED);
    expect((await c.countPendingActivityTasks({ domain: "d", taskList: { name: "atl" } })).count).toBe(0);
  });

  it("start-to-close: a started activity that never answers times out, and its token is void", async () => {
    const { c, clock } = await setup();
    const runId = await startWith(c, "stc", scheduleActivity({ startToClose: "60" }));
    const at = await c.pollForActivityTask({ domain: "d", taskList: { name: "atl" } });
    expect(at.activityId).toBe("a1");
    clock.advance(59_000);
    await hasNo(c, "stc", runId, EventType.ACTIVITY_TASK_TIMED_OUT);
    clock.advance(1_000);
    const e = await eventOf(c, "stc", runId, EventType.ACTIVITY_TASK_TIMED_OUT);
    expect(e.activityTaskTimedOutEventAttributes?.timeoutType).toBe(ActivityTaskTimeoutType.START_TO_CLOSE);
    expect(e.activityTaskTimedOutEventAttributes?.startedEventId).toBe(at.startedEventId);
    await expect(c.respondActivityTaskCompleted({ taskToken: at.taskToken, result: "late" })).rejects.toThrow(/Unknown or expired task token/);
  });

  it("heartbeat: each heartbeat pushes the deadline; silence past it times the activity out with the last details", async () => {
    const { c, clock } = await setup();
    const runId = await startWith(c, "hb", scheduleActivity({ heartbeat: "10" }));
    const at = await c.pollForActivityTask({ domain: "d", taskList: { name: "atl" } });
    clock.advance(8_000);
    expect((await c.recordActivityTaskHeartbeat({ taskToken: at.taskToken, details: "half" })).cancelRequested).toBe(false);
    clock.advance(8_000); // 16 s after the start, 8 s after the heartbeat
    await hasNo(c, "hb", runId, EventType.ACTIVITY_TASK_TIMED_OUT);
    clock.advance(2_000);
    const e = await eventOf(c, "hb", runId, EventType.ACTIVITY_TASK_TIMED_OUT);
    expect(e.activityTaskTimedOutEventAttributes?.timeoutType).toBe(ActivityTaskTimeoutType.HEARTBEAT);
    expect(e.activityTaskTimedOutEventAttributes?.details).toBe("half");
  });

  it("schedule-to-close: counts from scheduling, whether or not the activity started", async () => {
    const { c, clock } = await setup();
    const runId = await startWith(c, "s2c", scheduleActivity({ scheduleToClose: "120", startToClose: "600" }));
    clock.advance(100_000);
    const at = await c.pollForActivityTask({ domain: "d", taskList: { name: "atl" } });
    expect(at.activityId).toBe("a1");
    clock.advance(19_000);
    await hasNo(c, "s2c", runId, EventType.ACTIVITY_TASK_TIMED_OUT);
    clock.advance(1_000);
    const e = await eventOf(c, "s2c", runId, EventType.ACTIVITY_TASK_TIMED_OUT);
    expect(e.activityTaskTimedOutEventAttributes?.timeoutType).toBe(ActivityTaskTimeoutType.SCHEDULE_TO_CLOSE);
  });
});

describe("decision timeouts on a fake clock", () => {
  it("start-to-close: a started decision task that is not answered times out and a new one is scheduled", async () => {
    const { c, clock } = await setup();
    const runId = await start(c, "dstc");
    const dt = await c.pollForDecisionTask({ domain: "d", taskList: { name: "dtl" } });
    clock.advance(29_000);
    await hasNo(c, "dstc", runId, EventType.DECISION_TASK_TIMED_OUT);
    clock.advance(1_000);
    const e = await eventOf(c, "dstc", runId, EventType.DECISION_TASK_TIMED_OUT);
    expect(e.decisionTaskTimedOutEventAttributes?.timeoutType).toBe(DecisionTaskTimeoutType.START_TO_CLOSE);
    expect(e.decisionTaskTimedOutEventAttributes?.startedEventId).toBe(dt.startedEventId);
    expect((await history(c, "dstc", runId)).map((x) => x.eventType)).toEqual([
      EventType.WORKFLOW_EXECUTION_STARTED,
      EventType.DECISION_TASK_SCHEDULED,
      EventType.DECISION_TASK_STARTED,
      EventType.DECISION_TASK_TIMED_OUT,
      EventType.DECISION_TASK_SCHEDULED,
    ]);
    await expect(c.respondDecisionTaskCompleted({ taskToken: dt.taskToken, decisions: [] })).rejects.toThrow(/Unknown or expired task token/);
  });

  it("schedule-to-start of a task-list override: the decision task times out and the original task list returns", async () => {
    const { c, clock } = await setup();
    const runId = await start(c, "ds2s");
    const dt = await c.pollForDecisionTask({ domain: "d", taskList: { name: "dtl" } });
    await c.signalWorkflowExecution({ domain: "d", workflowId: "ds2s", signalName: "more" });
    await c.respondDecisionTaskCompleted({ taskToken: dt.taskToken, decisions: [], taskList: { name: "other" }, taskListScheduleToStartTimeout: "20" });
    expect((await c.countPendingDecisionTasks({ domain: "d", taskList: { name: "other" } })).count).toBe(1);
    clock.advance(20_000);
    const e = await eventOf(c, "ds2s", runId, EventType.DECISION_TASK_TIMED_OUT);
    expect(e.decisionTaskTimedOutEventAttributes?.timeoutType).toBe(DecisionTaskTimeoutType.SCHEDULE_TO_START);
    await eventually(async () => expect((await c.countPendingDecisionTasks({ domain: "d", taskList: { name: "dtl" } })).count).toBe(1));
    expect((await c.countPendingDecisionTasks({ domain: "d", taskList: { name: "other" } })).count).toBe(0);
  });
});

describe("execution timers on a fake clock", () => {
  it("a user timer fires after its start-to-fire timeout", async () => {
    const { c, clock } = await setup();
    const runId = await startWith(c, "timer", [{ decisionType: DecisionType.START_TIMER, startTimerDecisionAttributes: { timerId: "t1", startToFireTimeout: "45" } }]);
    clock.advance(44_000);
    await hasNo(c, "timer", runId, EventType.TIMER_FIRED);
    clock.advance(1_000);
    const e = await eventOf(c, "timer", runId, EventType.TIMER_FIRED);
    expect(e.timerFiredEventAttributes?.timerId).toBe("t1");
  });

  it("an execution past its start-to-close timeout is closed as timed out", async () => {
    const { c, clock } = await setup();
    const runId = await start(c, "exec", "90");
    clock.advance(90_000);
    await eventOf(c, "exec", runId, EventType.WORKFLOW_EXECUTION_TIMED_OUT);
    const d = await c.describeWorkflowExecution({ domain: "d", execution: { workflowId: "exec", runId } });
    expect(d.executionInfo?.closeTimestamp).toBeDefined();
  });
});
