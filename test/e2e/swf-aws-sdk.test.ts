// The whole SWF cycle through the AWS SDK for JavaScript v3, against a real server, on both stores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DescribeActivityTypeCommand,
  DescribeDomainCommand,
  DescribeWorkflowExecutionCommand,
  DescribeWorkflowTypeCommand,
  GetWorkflowExecutionHistoryCommand,
  ListActivityTypesCommand,
  ListDomainsCommand,
  ListWorkflowTypesCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RecordActivityTaskHeartbeatCommand,
  RegisterDomainCommand,
  RegisterWorkflowTypeCommand,
  RespondActivityTaskCanceledCommand,
  RespondActivityTaskCompletedCommand,
  RespondActivityTaskFailedCommand,
  RespondDecisionTaskCompletedCommand,
  SignalWorkflowExecutionCommand,
  StartWorkflowExecutionCommand,
  TerminateWorkflowExecutionCommand,
  CountPendingActivityTasksCommand,
  DomainAlreadyExistsFault,
  TypeAlreadyExistsFault,
  UnknownResourceFault,
  WorkflowExecutionAlreadyStartedFault,
  type HistoryEvent,
} from "@aws-sdk/client-swf";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { setupDomain, start } from "../helpers/swf.ts";

const types = (events: HistoryEvent[] | undefined) => (events ?? []).map((e) => e.eventType);

describe.each(stores)("SWF through @aws-sdk/client-swf (%s)", (kind) => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 0.5 });
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  it("runs a whole workflow: decide, schedule, heartbeat, complete, and reads the history back", async () => {
    const f = await setupDomain(tg.swf);
    const runId = await start(tg.swf, f, "order-1", '{"amount":42}');

    const d1 = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList }, identity: "decider-1" }));
    expect(d1.taskToken).toBeTruthy();
    expect(d1.workflowExecution).toEqual({ workflowId: "order-1", runId });
    expect(d1.workflowType).toEqual(f.workflowType);
    expect(d1.startedEventId).toBe(3);
    expect(d1.previousStartedEventId).toBe(0);
    expect(types(d1.events)).toEqual(["WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted"]);
    const started = d1.events![0].workflowExecutionStartedEventAttributes!;
    expect(started.input).toBe('{"amount":42}');
    expect(started.childPolicy).toBe("TERMINATE");
    expect(started.taskList).toEqual({ name: f.decisionList });
    expect(started.parentInitiatedEventId).toBe(0);
    expect(d1.events![0].eventTimestamp).toBeInstanceOf(Date);
    expect(d1.events![2].decisionTaskStartedEventAttributes).toEqual({ identity: "decider-1", scheduledEventId: 2 });

    await tg.swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: d1.taskToken,
        executionContext: "ctx-1",
        decisions: [
          { decisionType: "RecordMarker", recordMarkerDecisionAttributes: { markerName: "m1", details: "d" } },
          { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "charge-1", activityType: f.activityType, input: "card" } },
        ],
      }),
    );

    const a = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList }, identity: "worker-1" }));
    expect(a.activityId).toBe("charge-1");
    expect(a.activityType).toEqual(f.activityType);
    expect(a.input).toBe("card");
    expect(a.workflowExecution).toEqual({ workflowId: "order-1", runId });
    expect(a.startedEventId).toBe(7);

    const hb = await tg.swf.send(new RecordActivityTaskHeartbeatCommand({ taskToken: a.taskToken, details: "50%" }));
    expect(hb.cancelRequested).toBe(false);
    await tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: a.taskToken, result: "charged" }));

    const d2 = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    expect(d2.previousStartedEventId).toBe(3);
    expect(types(d2.events).slice(3)).toEqual([
      "DecisionTaskCompleted",
      "MarkerRecorded",
      "ActivityTaskScheduled",
      "ActivityTaskStarted",
      "ActivityTaskCompleted",
      "DecisionTaskScheduled",
      "DecisionTaskStarted",
    ]);
    const completed = d2.events!.find((e) => e.eventType === "ActivityTaskCompleted")!.activityTaskCompletedEventAttributes!;
    expect(completed).toEqual({ result: "charged", scheduledEventId: 6, startedEventId: 7 });
    const scheduled = d2.events!.find((e) => e.eventType === "ActivityTaskScheduled")!.activityTaskScheduledEventAttributes!;
    // Type defaults apply when the decision omits them.
    expect(scheduled).toMatchObject({ taskList: { name: f.activityList }, startToCloseTimeout: "NONE", heartbeatTimeout: "NONE", taskPriority: "0", decisionTaskCompletedEventId: 4 });

    await tg.swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: d2.taskToken,
        decisions: [{ decisionType: "CompleteWorkflowExecution", completeWorkflowExecutionDecisionAttributes: { result: "shipped" } }],
      }),
    );

    const desc = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "order-1", runId } }));
    expect(desc.executionInfo?.executionStatus).toBe("CLOSED");
    expect(desc.executionInfo?.closeStatus).toBe("COMPLETED");
    expect(desc.latestExecutionContext).toBe("ctx-1");
    expect(desc.openCounts).toEqual({ openActivityTasks: 0, openDecisionTasks: 0, openTimers: 0, openChildWorkflowExecutions: 0, openLambdaFunctions: 0 });
    expect(desc.executionConfiguration).toMatchObject({ taskList: { name: f.decisionList }, childPolicy: "TERMINATE", executionStartToCloseTimeout: "3600" });

    const h = await tg.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId: "order-1", runId } }));
    expect(types(h.events).slice(-2)).toEqual(["DecisionTaskCompleted", "WorkflowExecutionCompleted"]);
    expect(h.events!.map((e) => e.eventId)).toEqual(h.events!.map((_, i) => i + 1));
    expect(h.events!.at(-1)!.workflowExecutionCompletedEventAttributes).toEqual({ result: "shipped", decisionTaskCompletedEventId: 11 });
    expect(h.nextPageToken).toBeUndefined();

    // A spent token is refused.
    await expect(tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: a.taskToken }))).rejects.toBeInstanceOf(UnknownResourceFault);
    await expect(tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: d2.taskToken }))).rejects.toBeInstanceOf(UnknownResourceFault);
  });

  it("registers, describes and lists domains and types with AWS's faults", async () => {
    const f = await setupDomain(tg.swf);
    const d = await tg.swf.send(new DescribeDomainCommand({ name: f.domain }));
    expect(d.domainInfo).toMatchObject({ name: f.domain, status: "REGISTERED" });
    expect(d.domainInfo?.arn).toMatch(/^arn:aws:swf:/);
    expect(d.configuration).toEqual({ workflowExecutionRetentionPeriodInDays: "1" });
    await expect(tg.swf.send(new RegisterDomainCommand({ name: f.domain, workflowExecutionRetentionPeriodInDays: "1" }))).rejects.toBeInstanceOf(DomainAlreadyExistsFault);
    await expect(tg.swf.send(new DescribeDomainCommand({ name: "no-such-domain" }))).rejects.toThrow("Unknown domain: no-such-domain");
    await expect(tg.swf.send(new RegisterWorkflowTypeCommand({ domain: f.domain, ...f.workflowType }))).rejects.toBeInstanceOf(TypeAlreadyExistsFault);

    const wt = await tg.swf.send(new DescribeWorkflowTypeCommand({ domain: f.domain, workflowType: f.workflowType }));
    expect(wt.typeInfo?.status).toBe("REGISTERED");
    expect(wt.typeInfo?.creationDate).toBeInstanceOf(Date);
    expect(wt.configuration).toMatchObject({ defaultTaskList: { name: f.decisionList }, defaultChildPolicy: "TERMINATE", defaultExecutionStartToCloseTimeout: "3600" });
    const at = await tg.swf.send(new DescribeActivityTypeCommand({ domain: f.domain, activityType: f.activityType }));
    expect(at.configuration?.defaultTaskList).toEqual({ name: f.activityList });
    await expect(tg.swf.send(new DescribeActivityTypeCommand({ domain: f.domain, activityType: { name: "nope", version: "1" } }))).rejects.toThrow(
      "Unknown type: ActivityType=[name=nope, version=1]",
    );

    for (let i = 0; i < 5; i++) await tg.swf.send(new RegisterWorkflowTypeCommand({ domain: f.domain, name: `w${i}`, version: "1" }));
    const page1 = await tg.swf.send(new ListWorkflowTypesCommand({ domain: f.domain, registrationStatus: "REGISTERED", maximumPageSize: 4 }));
    expect(page1.typeInfos).toHaveLength(4);
    const page2 = await tg.swf.send(new ListWorkflowTypesCommand({ domain: f.domain, registrationStatus: "REGISTERED", maximumPageSize: 4, nextPageToken: page1.nextPageToken }));
    expect(page2.typeInfos).toHaveLength(2);
    expect(page2.nextPageToken).toBeUndefined();
    expect([...page1.typeInfos!, ...page2.typeInfos!].map((t) => t.workflowType!.name)).toEqual(["order", "w0", "w1", "w2", "w3", "w4"]);
    const acts = await tg.swf.send(new ListActivityTypesCommand({ domain: f.domain, registrationStatus: "REGISTERED" }));
    expect(acts.typeInfos!.map((t) => t.activityType)).toEqual([f.activityType]);
    const doms = await tg.swf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED", maximumPageSize: 1000 }));
    expect(doms.domainInfos!.map((x) => x.name)).toContain(f.domain);
    const none = await tg.swf.send(new ListDomainsCommand({ registrationStatus: "DEPRECATED" }));
    expect(none.domainInfos).toEqual([]);
  });

  it("refuses a second open execution of a workflowId and reports DescribeWorkflowExecution faults", async () => {
    const f = await setupDomain(tg.swf);
    const runId = await start(tg.swf, f, "dup");
    await expect(start(tg.swf, f, "dup")).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedFault);
    await expect(tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "dup", runId: "nope" } }))).rejects.toThrow(
      "Unknown execution: WorkflowExecution=[workflowId=dup, runId=nope]",
    );
    await tg.swf.send(new TerminateWorkflowExecutionCommand({ domain: f.domain, workflowId: "dup", reason: "test" }));
    const desc = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "dup", runId } }));
    expect(desc.executionInfo?.closeStatus).toBe("TERMINATED");
    // Closed: the workflowId can start again.
    expect(await start(tg.swf, f, "dup")).not.toBe(runId);
  });

  it("answers an idle poll with AWS's empty shapes after the hold time", async () => {
    const f = await setupDomain(tg.swf);
    const t0 = Date.now();
    const a = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
    const d = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800); // two holds of ~0.5 s each (ended 3-8 % early)
    expect(a.taskToken).toBeUndefined();
    expect(a.startedEventId).toBe(0);
    expect(d.taskToken).toBeUndefined();
    expect(d.startedEventId).toBe(0);
    expect(d.previousStartedEventId).toBe(0);
    expect(d.events).toBeUndefined();
  });

  it("answers a waiting activity poll as soon as a decision schedules the activity", async () => {
    const local = await startTaskgate({ kind, longPollSeconds: 20 });
    try {
      const f = await setupDomain(local.swf);
      await start(local.swf, f, "wake");
      const d = await local.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      const poll = local.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
      await new Promise((r) => setTimeout(r, 100)); // the poll is now waiting
      const t0 = Date.now();
      await local.swf.send(
        new RespondDecisionTaskCompletedCommand({
          taskToken: d.taskToken,
          decisions: [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "x", activityType: f.activityType } }],
        }),
      );
      const a = await poll;
      expect(a.activityId).toBe("x");
      // Far below the 20 s hold: the waiting poll was handed the task, not found by a later look.
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await local.destroy();
    }
  });

  it("does not lose a task to a poll the client aborted", async () => {
    const local = await startTaskgate({ kind, longPollSeconds: 20 });
    try {
      const f = await setupDomain(local.swf);
      await start(local.swf, f, "abort");
      const d = await local.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      const ac = new AbortController();
      const aborted = local.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }), { abortSignal: ac.signal });
      await new Promise((r) => setTimeout(r, 100));
      ac.abort();
      await expect(aborted).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 100));
      await local.swf.send(
        new RespondDecisionTaskCompletedCommand({
          taskToken: d.taskToken,
          decisions: [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "kept", activityType: f.activityType } }],
        }),
      );
      const a = await local.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
      expect(a.activityId).toBe("kept");
      const h = await local.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: a.workflowExecution! }));
      expect(types(h.events).filter((t) => t === "ActivityTaskStarted")).toHaveLength(1);
    } finally {
      await local.destroy();
    }
  });

  it("delivers 20 activities to 20 concurrent pollers exactly once, higher priority first", async () => {
    const local = await startTaskgate({ kind, longPollSeconds: 5 });
    try {
      const f = await setupDomain(local.swf);
      await start(local.swf, f, "fanout");
      const pollers = Array.from({ length: 20 }, (_, i) =>
        local.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList }, identity: `w${i}` })),
      );
      await new Promise((r) => setTimeout(r, 200));
      const d = await local.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      await local.swf.send(
        new RespondDecisionTaskCompletedCommand({
          taskToken: d.taskToken,
          decisions: Array.from({ length: 20 }, (_, i) => ({
            decisionType: "ScheduleActivityTask" as const,
            scheduleActivityTaskDecisionAttributes: { activityId: `act-${i}`, activityType: f.activityType },
          })),
        }),
      );
      const got = await Promise.all(pollers);
      const ids = got.map((a) => a.activityId).sort();
      expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => `act-${i}`).sort());
      expect(new Set(got.map((a) => a.taskToken)).size).toBe(20);
      const h = await local.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: got[0].workflowExecution! }));
      expect(types(h.events).filter((t) => t === "ActivityTaskStarted")).toHaveLength(20);

      // Priority: higher first, FIFO within a priority.
      const d2 = await local.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      expect(d2.taskToken).toBeUndefined(); // no new decision yet: nothing closed
      await start(local.swf, f, "prio");
      const d3 = await local.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      const prios = ["1", "5", "5", "-3", "10"];
      await local.swf.send(
        new RespondDecisionTaskCompletedCommand({
          taskToken: d3.taskToken,
          decisions: prios.map((p, i) => ({
            decisionType: "ScheduleActivityTask" as const,
            scheduleActivityTaskDecisionAttributes: { activityId: `p${i}`, activityType: f.activityType, taskPriority: p },
          })),
        }),
      );
      const order: string[] = [];
      for (let i = 0; i < prios.length; i++) {
        const a = await local.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
        order.push(a.activityId!);
      }
      expect(order).toEqual(["p4", "p1", "p2", "p0", "p3"]);
      const count = await local.swf.send(new CountPendingActivityTasksCommand({ domain: f.domain, taskList: { name: f.activityList } }));
      expect(count).toMatchObject({ count: 0, truncated: false });
    } finally {
      await local.destroy();
    }
  });

  it("pages a history of more than 100 events both ways, through PollForDecisionTask and GetWorkflowExecutionHistory", async () => {
    const f = await setupDomain(tg.swf);
    const runId = await start(tg.swf, f, "long");
    for (let i = 0; i < 120; i++) await tg.swf.send(new SignalWorkflowExecutionCommand({ domain: f.domain, workflowId: "long", signalName: `s${i}`, input: String(i) }));
    // 1 started + 1 decision scheduled + 120 signals + 1 decision started = 123 events.
    const all: number[] = [];
    let page = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList }, maximumPageSize: 25 }));
    const token = page.taskToken;
    expect(page.startedEventId).toBe(123);
    for (;;) {
      all.push(...page.events!.map((e) => e.eventId!));
      expect(page.taskToken).toBe(token);
      expect(page.startedEventId).toBe(123);
      if (!page.nextPageToken) break;
      page = await tg.swf.send(
        new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList }, maximumPageSize: 25, nextPageToken: page.nextPageToken }),
      );
    }
    expect(all).toEqual(Array.from({ length: 123 }, (_, i) => i + 1));

    const rev: number[] = [];
    await tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: token }));
    page = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList }, maximumPageSize: 30, reverseOrder: true }));
    expect(page.taskToken).toBeUndefined(); // no event needed a decision
    await tg.swf.send(new SignalWorkflowExecutionCommand({ domain: f.domain, workflowId: "long", signalName: "last" }));
    page = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList }, maximumPageSize: 30, reverseOrder: true }));
    expect(page.previousStartedEventId).toBe(123);
    for (;;) {
      rev.push(...page.events!.map((e) => e.eventId!));
      if (!page.nextPageToken) break;
      page = await tg.swf.send(
        new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList }, maximumPageSize: 30, reverseOrder: true, nextPageToken: page.nextPageToken }),
      );
    }
    expect(rev).toEqual(Array.from({ length: 127 }, (_, i) => 127 - i));

    // startAtPreviousStartedEvent: only what is new since the last decision task.
    await tg.swf.send(new SignalWorkflowExecutionCommand({ domain: f.domain, workflowId: "long", signalName: "x" }));
    const fresh = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList }, startAtPreviousStartedEvent: true }));
    expect(fresh.events).toBeUndefined(); // the previous task (127) is still started: nothing to poll
    const h: number[] = [];
    let hp = await tg.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId: "long", runId }, maximumPageSize: 40 }));
    for (;;) {
      h.push(...hp.events!.map((e) => e.eventId!));
      if (!hp.nextPageToken) break;
      hp = await tg.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId: "long", runId }, maximumPageSize: 40, nextPageToken: hp.nextPageToken }));
    }
    expect(h).toEqual(Array.from({ length: 128 }, (_, i) => i + 1));
    const hr: number[] = [];
    hp = await tg.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId: "long", runId }, maximumPageSize: 50, reverseOrder: true }));
    for (;;) {
      hr.push(...hp.events!.map((e) => e.eventId!));
      if (!hp.nextPageToken) break;
      hp = await tg.swf.send(
        new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId: "long", runId }, maximumPageSize: 50, reverseOrder: true, nextPageToken: hp.nextPageToken }),
      );
    }
    expect(hr).toEqual(Array.from({ length: 128 }, (_, i) => 128 - i));
  });

  it("fails and cancels activities, and refuses stale tokens", async () => {
    const f = await setupDomain(tg.swf);
    await start(tg.swf, f, "fail");
    const d = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    await tg.swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: d.taskToken,
        decisions: [
          { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "f", activityType: f.activityType } },
          { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "c", activityType: f.activityType } },
          { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "f", activityType: f.activityType } },
          { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "t", activityType: { name: "missing", version: "1" } } },
        ],
      }),
    );
    const a1 = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
    const a2 = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
    await tg.swf.send(new RespondActivityTaskFailedCommand({ taskToken: a1.taskToken, reason: "declined", details: "card" }));
    await tg.swf.send(new RespondActivityTaskCanceledCommand({ taskToken: a2.taskToken, details: "gone" }));
    await expect(tg.swf.send(new RecordActivityTaskHeartbeatCommand({ taskToken: a1.taskToken }))).rejects.toBeInstanceOf(UnknownResourceFault);
    await expect(tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: "garbage-token" }))).rejects.toBeInstanceOf(UnknownResourceFault);
    const d2 = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    const evs = d2.events!;
    expect(evs.filter((e) => e.eventType === "ScheduleActivityTaskFailed").map((e) => e.scheduleActivityTaskFailedEventAttributes?.cause)).toEqual([
      "ACTIVITY_ID_ALREADY_IN_USE",
      "ACTIVITY_TYPE_DOES_NOT_EXIST",
    ]);
    expect(evs.find((e) => e.eventType === "ActivityTaskFailed")?.activityTaskFailedEventAttributes).toMatchObject({ reason: "declined", details: "card" });
    expect(evs.find((e) => e.eventType === "ActivityTaskCanceled")?.activityTaskCanceledEventAttributes).toMatchObject({ details: "gone" });
    await tg.swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: d2.taskToken,
        decisions: [{ decisionType: "FailWorkflowExecution", failWorkflowExecutionDecisionAttributes: { reason: "payment", details: "declined" } }],
      }),
    );
    const desc = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: d2.workflowExecution! }));
    expect(desc.executionInfo?.closeStatus).toBe("FAILED");
  });

  it("fails a closing decision with UNHANDLED_DECISION when events arrived during the decision task", async () => {
    const f = await setupDomain(tg.swf);
    await start(tg.swf, f, "race");
    const d = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    await tg.swf.send(new SignalWorkflowExecutionCommand({ domain: f.domain, workflowId: "race", signalName: "late" }));
    await tg.swf.send(
      new RespondDecisionTaskCompletedCommand({ taskToken: d.taskToken, decisions: [{ decisionType: "CompleteWorkflowExecution", completeWorkflowExecutionDecisionAttributes: {} }] }),
    );
    const d2 = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    expect(types(d2.events)).toEqual([
      "WorkflowExecutionStarted",
      "DecisionTaskScheduled",
      "DecisionTaskStarted",
      "WorkflowExecutionSignaled",
      "DecisionTaskCompleted",
      "CompleteWorkflowExecutionFailed",
      "DecisionTaskScheduled",
      "DecisionTaskStarted",
    ]);
    expect(d2.events![5].completeWorkflowExecutionFailedEventAttributes).toEqual({ cause: "UNHANDLED_DECISION", decisionTaskCompletedEventId: 5 });
    expect(d2.previousStartedEventId).toBe(3);
  });

  it("rejects a decision batch whose closing decision is not last, applying nothing", async () => {
    const f = await setupDomain(tg.swf);
    await start(tg.swf, f, "batch");
    const d = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    const bad = tg.swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: d.taskToken,
        decisions: [
          { decisionType: "CompleteWorkflowExecution", completeWorkflowExecutionDecisionAttributes: {} },
          { decisionType: "RecordMarker", recordMarkerDecisionAttributes: { markerName: "m" } },
        ],
      }),
    );
    await expect(bad).rejects.toMatchObject({ name: "ValidationException", message: "Close must be last decision in list" });
    const missing = tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: d.taskToken, decisions: [{ decisionType: "ScheduleActivityTask" }] }));
    await expect(missing).rejects.toMatchObject({ name: "ValidationException", message: "ScheduleActivityTaskDecisionAttributes must be specified for decision of type ScheduleActivityTask" });
    // Nothing was applied: the token still works.
    await tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: d.taskToken, decisions: [{ decisionType: "CompleteWorkflowExecution" }] }));
  });

  it("starts with registered defaults overridden by the request, or DefaultUndefinedFault", async () => {
    const f = await setupDomain(tg.swf);
    await tg.swf.send(new RegisterWorkflowTypeCommand({ domain: f.domain, name: "bare", version: "1" }));
    await expect(tg.swf.send(new StartWorkflowExecutionCommand({ domain: f.domain, workflowId: "b", workflowType: { name: "bare", version: "1" } }))).rejects.toMatchObject({
      name: "DefaultUndefinedFault",
    });
    const r = await tg.swf.send(
      new StartWorkflowExecutionCommand({
        domain: f.domain,
        workflowId: "b",
        workflowType: { name: "bare", version: "1" },
        taskList: { name: "custom" },
        executionStartToCloseTimeout: "60",
        taskStartToCloseTimeout: "NONE",
        childPolicy: "ABANDON",
        taskPriority: "7",
        tagList: ["a", "b"],
      }),
    );
    const desc = await tg.swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "b", runId: r.runId } }));
    expect(desc.executionConfiguration).toEqual({
      taskList: { name: "custom" },
      executionStartToCloseTimeout: "60",
      taskStartToCloseTimeout: "NONE",
      childPolicy: "ABANDON",
      taskPriority: "7",
    });
    expect(desc.executionInfo?.tagList).toEqual(["a", "b"]);
    expect(desc.openCounts?.openDecisionTasks).toBe(1);
  });
});
