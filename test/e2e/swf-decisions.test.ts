// The other decisions: timers, activity cancellation, signals and cancellation of other
// executions, child workflows and their child policy, continue-as-new, Lambda.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DescribeWorkflowExecutionCommand,
  GetWorkflowExecutionHistoryCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RecordActivityTaskHeartbeatCommand,
  RespondActivityTaskCanceledCommand,
  RespondDecisionTaskCompletedCommand,
  RequestCancelWorkflowExecutionCommand,
  SignalWorkflowExecutionCommand,
  TerminateWorkflowExecutionCommand,
  type Decision,
  type HistoryEvent,
} from "@aws-sdk/client-swf";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { setupDomain, start, type Fixture } from "../helpers/swf.ts";

describe.each(stores)("SWF decisions (%s)", (kind) => {
  let tg: Taskgate;
  let f: Fixture;
  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 2 });
  });
  beforeEach(async () => {
    // Each test its own domain and task lists: decision tasks one test leaves do not reach the next.
    f = await setupDomain(tg.swf);
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  /** Polls the next decision task and answers it with `decide(events)`; returns the events. */
  async function decide(decisions: (events: HistoryEvent[]) => Decision[]): Promise<HistoryEvent[]> {
    const d = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    expect(d.taskToken).toBeTruthy();
    await tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: d.taskToken, decisions: decisions(d.events!) }));
    return d.events!;
  }

  const history = async (workflowId: string, runId: string) =>
    (await tg.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId, runId } }))).events!;

  it("starts, fires and cancels timers", async () => {
    const runId = await start(tg.swf, f, "timers");
    await decide(() => [
      { decisionType: "StartTimer", startTimerDecisionAttributes: { timerId: "soon", startToFireTimeout: "1", control: "c" } },
      { decisionType: "StartTimer", startTimerDecisionAttributes: { timerId: "late", startToFireTimeout: "3600" } },
      { decisionType: "StartTimer", startTimerDecisionAttributes: { timerId: "soon", startToFireTimeout: "5" } },
    ]);
    const desc = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "timers", runId } }));
    expect(desc.openCounts?.openTimers).toBe(2);
    // The duplicate timer failed at once; the next decision task carries that, then the firing.
    let events = await decide(() => []);
    expect(events.find((e) => e.eventType === "StartTimerFailed")?.startTimerFailedEventAttributes?.cause).toBe("TIMER_ID_ALREADY_IN_USE");
    events = await decide(() => [
      { decisionType: "CancelTimer", cancelTimerDecisionAttributes: { timerId: "late" } },
      { decisionType: "CancelTimer", cancelTimerDecisionAttributes: { timerId: "never-started" } },
    ]);
    const fired = events.find((e) => e.eventType === "TimerFired")!;
    expect(fired.timerFiredEventAttributes).toMatchObject({ timerId: "soon" });
    const h = await history("timers", runId);
    expect(h.find((e) => e.eventType === "TimerCanceled")?.timerCanceledEventAttributes).toMatchObject({ timerId: "late" });
    expect(h.find((e) => e.eventType === "CancelTimerFailed")?.cancelTimerFailedEventAttributes?.cause).toBe("TIMER_ID_UNKNOWN");
  });

  it("cancels a scheduled activity at once and asks a started one to cancel", async () => {
    const runId = await start(tg.swf, f, "cancel-act");
    await decide(() => [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "running", activityType: f.activityType } }]);
    const a = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
    expect(a.activityId).toBe("running");
    await tg.swf.send(new SignalWorkflowExecutionCommand({ domain: f.domain, workflowId: "cancel-act", signalName: "stop" }));
    await decide(() => [
      { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "waiting", activityType: f.activityType } },
      { decisionType: "RequestCancelActivityTask", requestCancelActivityTaskDecisionAttributes: { activityId: "waiting" } },
      { decisionType: "RequestCancelActivityTask", requestCancelActivityTaskDecisionAttributes: { activityId: "running" } },
    ]);
    const hb = await tg.swf.send(new RecordActivityTaskHeartbeatCommand({ taskToken: a.taskToken }));
    expect(hb.cancelRequested).toBe(true);
    await tg.swf.send(new RespondActivityTaskCanceledCommand({ taskToken: a.taskToken, details: "stopped" }));
    const h = await history("cancel-act", runId);
    const canceled = h.filter((e) => e.eventType === "ActivityTaskCanceled").map((e) => e.activityTaskCanceledEventAttributes!);
    expect(canceled).toHaveLength(2);
    expect(canceled[0].startedEventId).toBe(0); // never started
    expect(canceled[1]).toMatchObject({ details: "stopped" });
    expect(canceled[1].latestCancelRequestedEventId).toBeGreaterThan(0);
    const count = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
    expect(count.taskToken).toBeUndefined(); // the canceled scheduled task is gone from the queue
  });

  it("signals and cancels other executions, and fails for unknown ones", async () => {
    const target = await start(tg.swf, f, "target");
    await decide(() => []);
    const source = await start(tg.swf, f, "source");
    await decide(() => [
      { decisionType: "SignalExternalWorkflowExecution", signalExternalWorkflowExecutionDecisionAttributes: { workflowId: "target", signalName: "hello", input: "hi" } },
      { decisionType: "RequestCancelExternalWorkflowExecution", requestCancelExternalWorkflowExecutionDecisionAttributes: { workflowId: "target", runId: target } },
      { decisionType: "SignalExternalWorkflowExecution", signalExternalWorkflowExecutionDecisionAttributes: { workflowId: "nobody", signalName: "x" } },
    ]);
    const th = await history("target", target);
    expect(th.find((e) => e.eventType === "WorkflowExecutionSignaled")?.workflowExecutionSignaledEventAttributes).toMatchObject({
      signalName: "hello",
      input: "hi",
      externalWorkflowExecution: { workflowId: "source", runId: source },
    });
    expect(th.some((e) => e.eventType === "WorkflowExecutionCancelRequested")).toBe(true);
    const sh = await history("source", source);
    const types = sh.map((e) => e.eventType);
    expect(types).toContain("ExternalWorkflowExecutionSignaled");
    expect(types).toContain("ExternalWorkflowExecutionCancelRequested");
    expect(sh.find((e) => e.eventType === "SignalExternalWorkflowExecutionFailed")?.signalExternalWorkflowExecutionFailedEventAttributes?.cause).toBe(
      "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION",
    );
    // Drain the decision tasks these created, then cancel the target as asked.
    for (let i = 0; i < 2; i++) {
      await decide((events) =>
        events.some((e) => e.eventType === "WorkflowExecutionCancelRequested") && !events.some((e) => e.eventType === "WorkflowExecutionCanceled")
          ? [{ decisionType: "CancelWorkflowExecution", cancelWorkflowExecutionDecisionAttributes: { details: "bye" } }]
          : [],
      );
    }
    const desc = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "target", runId: target } }));
    expect(desc.executionInfo).toMatchObject({ closeStatus: "CANCELED", cancelRequested: true });
  });

  it("runs child workflows and applies the child policy when the parent is terminated", async () => {
    const parent = await start(tg.swf, f, "parent");
    await decide(() => [
      { decisionType: "StartChildWorkflowExecution", startChildWorkflowExecutionDecisionAttributes: { workflowId: "kid-1", workflowType: f.workflowType, input: "1" } },
      { decisionType: "StartChildWorkflowExecution", startChildWorkflowExecutionDecisionAttributes: { workflowId: "kid-2", workflowType: f.workflowType, childPolicy: "ABANDON" } },
      { decisionType: "StartChildWorkflowExecution", startChildWorkflowExecutionDecisionAttributes: { workflowId: "kid-1", workflowType: f.workflowType } },
    ]);
    // kid-1 completes; the parent hears of it.
    const kids: Record<string, string> = {};
    for (let i = 0; i < 3; i++) {
      await decide((events) => {
        const started = events[0].workflowExecutionStartedEventAttributes;
        if (started?.parentWorkflowExecution?.workflowId === "parent") kids[started.input ?? "2"] = "seen";
        const isKid1 = started?.input === "1";
        return isKid1 && events.length === 3 ? [{ decisionType: "CompleteWorkflowExecution", completeWorkflowExecutionDecisionAttributes: { result: "done" } }] : [];
      });
    }
    const ph = await history("parent", parent);
    const types = ph.map((e) => e.eventType);
    expect(types.filter((t) => t === "ChildWorkflowExecutionStarted")).toHaveLength(2);
    expect(ph.find((e) => e.eventType === "StartChildWorkflowExecutionFailed")?.startChildWorkflowExecutionFailedEventAttributes?.cause).toBe("WORKFLOW_ALREADY_RUNNING");
    const completed = ph.find((e) => e.eventType === "ChildWorkflowExecutionCompleted")!.childWorkflowExecutionCompletedEventAttributes!;
    expect(completed).toMatchObject({ result: "done", workflowExecution: { workflowId: "kid-1" } });
    const startedEvent = ph.find((e) => e.eventType === "ChildWorkflowExecutionStarted" && e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId === "kid-1")!;
    expect(completed.startedEventId).toBe(startedEvent.eventId);
    // Terminating the parent with TERMINATE terminates its open children (kid-2, and kid-3 started
    // now), whatever their own child policy; kid-1 had already completed.
    await tg.swf.send(new RequestCancelWorkflowExecutionCommand({ domain: f.domain, workflowId: "parent" }));
    await decide(() => [
      { decisionType: "StartChildWorkflowExecution", startChildWorkflowExecutionDecisionAttributes: { workflowId: "kid-3", workflowType: f.workflowType } },
    ]);
    await tg.swf.send(new TerminateWorkflowExecutionCommand({ domain: f.domain, workflowId: "parent", childPolicy: "TERMINATE" }));
    const after = await history("parent", parent);
    for (const kid of ["kid-2", "kid-3"]) {
      const ev = after.find((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId === kid)!;
      const run = ev.childWorkflowExecutionStartedEventAttributes!.workflowExecution!;
      const kh = await history(kid, run.runId!);
      expect(kh.at(-1)?.workflowExecutionTerminatedEventAttributes).toMatchObject({ cause: "CHILD_POLICY_APPLIED" });
      const kd = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: run }));
      expect(kd.executionInfo).toMatchObject({ closeStatus: "TERMINATED", parent: { workflowId: "parent", runId: parent } });
    }
    const open = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    expect(open.taskToken).toBeUndefined(); // the terminated executions' decision tasks are gone
  });

  it("overrides the decision task list, and reverts a temporary override that is not taken in time", async () => {
    const runId = await start(tg.swf, f, "override");
    const d = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    await tg.swf.send(new SignalWorkflowExecutionCommand({ domain: f.domain, workflowId: "override", signalName: "next" }));
    await tg.swf.send(
      new RespondDecisionTaskCompletedCommand({ taskToken: d.taskToken, taskList: { name: "elsewhere" }, taskListScheduleToStartTimeout: "1" }),
    );
    // Nobody polls "elsewhere": after 1 s the task times out and comes back on the original list.
    const back = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    const types = back.events!.map((e) => e.eventType);
    expect(types.slice(-4)).toEqual(["DecisionTaskScheduled", "DecisionTaskTimedOut", "DecisionTaskScheduled", "DecisionTaskStarted"]);
    expect(back.events!.at(-3)?.decisionTaskTimedOutEventAttributes?.timeoutType).toBe("SCHEDULE_TO_START");
    expect(back.events!.at(-4)?.decisionTaskScheduledEventAttributes).toMatchObject({ taskList: { name: "elsewhere" }, scheduleToStartTimeout: "1" });
    expect(back.events!.at(-2)?.decisionTaskScheduledEventAttributes?.taskList).toEqual({ name: f.decisionList });
    // A permanent override moves every later decision task.
    await tg.swf.send(new SignalWorkflowExecutionCommand({ domain: f.domain, workflowId: "override", signalName: "again" }));
    await tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: back.taskToken, taskList: { name: f.decisionList + "-2" } }));
    const moved = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList + "-2" } }));
    expect(moved.workflowExecution).toEqual({ workflowId: "override", runId });
  });

  it("continues as new under the same workflowId, and fails Lambda tasks", async () => {
    const first = await start(tg.swf, f, "cont", "v1");
    await decide(() => [
      { decisionType: "ScheduleLambdaFunction", scheduleLambdaFunctionDecisionAttributes: { id: "l1", name: "fn" } },
      { decisionType: "ContinueAsNewWorkflowExecution", continueAsNewWorkflowExecutionDecisionAttributes: { input: "v2" } },
    ]);
    const h1 = await history("cont", first);
    expect(h1.find((e) => e.eventType === "ScheduleLambdaFunctionFailed")?.scheduleLambdaFunctionFailedEventAttributes?.cause).toBe(
      "LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION",
    );
    const cont = h1.at(-1)!;
    expect(cont.eventType).toBe("WorkflowExecutionContinuedAsNew");
    const next = cont.workflowExecutionContinuedAsNewEventAttributes!.newExecutionRunId!;
    const events = await decide(() => [{ decisionType: "CompleteWorkflowExecution" }]);
    expect(events[0].workflowExecutionStartedEventAttributes).toMatchObject({ input: "v2", continuedExecutionRunId: first });
    const d1 = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "cont", runId: first } }));
    expect(d1.executionInfo?.closeStatus).toBe("CONTINUED_AS_NEW");
    const d2 = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "cont", runId: next } }));
    expect(d2.executionInfo?.closeStatus).toBe("COMPLETED");
  });
});
