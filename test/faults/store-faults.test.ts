// Store faults injected at each step of a poll and a completion, on both stores: before the claim,
// after the claim and before the answer (the history read, the claim's COMMIT answer lost, the
// requeue failing too), during the answer (the delivery confirmation), and in a completion (a
// failed statement, a lost COMMIT answer). Each case asserts the task is delivered exactly once
// afterwards, promptly (its timeouts are NONE or long: waiting for one would fail the test), and
// that each token completes at most once.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  GetWorkflowExecutionHistoryCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RespondActivityTaskCompletedCommand,
  RespondDecisionTaskCompletedCommand,
  UnknownResourceFault,
  type HistoryEvent,
} from "@aws-sdk/client-swf";
import { ConnectError } from "@connectrpc/connect";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { setupDomain, start, type Fixture } from "../helpers/swf.ts";
import { faultyDatabase, type FaultyDatabase } from "../helpers/faulty-db.ts";

/** SQL of the steps the faults target. */
const step = {
  claimPick: /FROM tasks WHERE queue = \? AND state = 0/,
  claimMark: /UPDATE tasks SET state = 1/,
  historyRead: /SELECT data FROM swf_events/,
  requeueLookup: /FROM tasks WHERE token = \?/,
  confirm: /UPDATE tasks SET delivered = 1/,
  completionLookup: /WHERE t\.token = \?/,
  eventAppend: /INSERT INTO swf_events/,
};

describe.each(stores)("store faults between claim and answer (%s)", (kind) => {
  let tg: Taskgate;
  let db: FaultyDatabase;
  let f: Fixture;

  beforeEach(async () => {
    // A 1 s node timeout heartbeats (and recovers orphaned claims) every 250 ms.
    tg = await startTaskgate({ kind, longPollSeconds: 1, config: { nodeTimeoutSeconds: 1 }, wrapDb: (inner) => (db = faultyDatabase(inner)) });
    f = await setupDomain(tg.swf, { taskTimeout: "NONE" });
  });
  afterEach(async () => {
    db.disarm();
    await tg.destroy();
  });

  const pollDecision = () => tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
  const pollActivity = () => tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
  const history = async (workflowId: string, runId: string): Promise<HistoryEvent[]> =>
    (await tg.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId, runId }, maximumPageSize: 1000 }))).events ?? [];
  const count = (events: HistoryEvent[], type: string) => events.filter((e) => e.eventType === type).length;

  /** Two pollers race for the one task: exactly one gets it, and a third poll afterwards gets nothing. */
  async function decisionDeliveredOnce(): Promise<string> {
    const [a, b] = await Promise.all([pollDecision(), pollDecision()]);
    const got = [a, b].filter((r) => r.taskToken !== undefined);
    expect(got).toHaveLength(1);
    return got[0].taskToken!;
  }

  /** Runs the workflow to one scheduled activity; returns its runId. */
  async function scheduleActivity(workflowId: string): Promise<string> {
    const runId = await start(tg.swf, f, workflowId);
    const d = await pollDecision();
    await tg.swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: d.taskToken,
        decisions: [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "a1", activityType: f.activityType } }],
      }),
    );
    return runId;
  }

  it("before the claim: the poll fails, the task stays queued and goes to the next poll", async () => {
    const runId = await start(tg.swf, f, "before-claim");
    db.arm({ match: step.claimPick, mode: "statement" });
    await expect(pollDecision()).rejects.toMatchObject({ name: "ServiceUnavailable", $metadata: { httpStatusCode: 503 } });
    expect(db.fired).toBe(1);
    const token = await decisionDeliveredOnce();
    await tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: token, decisions: [] }));
    const events = await history("before-claim", runId);
    expect(count(events, "DecisionTaskStarted")).toBe(1);
    expect(count(events, "DecisionTaskCompleted")).toBe(1);
  });

  it("after the claim, the history read fails: the poll fails and the task goes back to its queue at once (AWS JSON)", async () => {
    const runId = await start(tg.swf, f, "read-fails");
    db.arm({ match: step.historyRead, mode: "statement" });
    await expect(pollDecision()).rejects.toMatchObject({ name: "ServiceUnavailable", $metadata: { httpStatusCode: 503 } });
    expect(db.fired).toBe(1);
    const token = await decisionDeliveredOnce();
    await tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: token, decisions: [] }));
    const events = await history("read-fails", runId);
    expect(count(events, "DecisionTaskCompleted")).toBe(1);
    // The failed attempt's Started event was withdrawn (it was the newest event).
    expect(count(events, "DecisionTaskStarted")).toBe(1);
  });

  it("after the claim, the history read fails: the same on the Connect route", async () => {
    await start(tg.swf, f, "read-fails-connect");
    db.arm({ match: step.historyRead, mode: "statement" });
    const err = await tg.connect.pollForDecisionTask({ domain: f.domain, taskList: { name: f.decisionList } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).rawMessage).toMatch(/Retry/);
    const r = await tg.connect.pollForDecisionTask({ domain: f.domain, taskList: { name: f.decisionList } });
    expect(r.taskToken).toBeTruthy();
  });

  it("after the claim, its COMMIT answer is lost: the claimed task is recovered and delivered once", async () => {
    const runId = await start(tg.swf, f, "commit-lost");
    db.arm({ match: step.claimMark, mode: "afterCommit" });
    await expect(pollDecision()).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    const token = await decisionDeliveredOnce();
    await tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: token, decisions: [] }));
    expect(count(await history("commit-lost", runId), "DecisionTaskCompleted")).toBe(1);
  });

  it("after the claim, the history read and the return to the queue both fail: recovery returns the task", async () => {
    await start(tg.swf, f, "requeue-fails");
    db.arm({ match: step.historyRead, mode: "statement" });
    db.arm({ match: step.requeueLookup, mode: "statement" });
    await expect(pollDecision()).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    await expect.poll(() => db.fired, { timeout: 2_000 }).toBe(2);
    await decisionDeliveredOnce();
  });

  it("an activity claim whose COMMIT answer is lost is recovered and delivered once", async () => {
    const runId = await scheduleActivity("activity-commit-lost");
    db.arm({ match: step.claimMark, mode: "afterCommit" });
    await expect(pollActivity()).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    const [a, b] = await Promise.all([pollActivity(), pollActivity()]);
    const got = [a, b].filter((r) => r.taskToken !== undefined);
    expect(got).toHaveLength(1);
    await tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: got[0].taskToken, result: "ok" }));
    expect(count(await history("activity-commit-lost", runId), "ActivityTaskCompleted")).toBe(1);
  });

  it("during the answer, the delivery confirmation fails: the worker keeps its task and nobody else gets it", async () => {
    const runId = await scheduleActivity("confirm-fails");
    db.arm({ match: step.confirm, mode: "statement", times: 2 });
    const t = await pollActivity();
    expect(t.taskToken).toBeTruthy();
    await expect.poll(() => db.fired, { timeout: 3_000 }).toBe(2);
    // Several recovery rounds pass while the confirmation is retried: the task is not handed out again.
    expect((await pollActivity()).taskToken).toBeUndefined();
    await tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken, result: "ok" }));
    expect(count(await history("confirm-fails", runId), "ActivityTaskCompleted")).toBe(1);
  });

  it("a completion whose statement fails changes nothing and succeeds when retried with the same token", async () => {
    const runId = await scheduleActivity("complete-fails");
    const t = await pollActivity();
    db.arm({ match: step.eventAppend, mode: "statement" });
    await expect(tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken, result: "ok" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(count(await history("complete-fails", runId), "ActivityTaskCompleted")).toBe(0);
    await tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken, result: "ok" }));
    expect(count(await history("complete-fails", runId), "ActivityTaskCompleted")).toBe(1);
  });

  it("a completion whose COMMIT answer is lost completed once: its retry is refused and the task is not redelivered", async () => {
    const runId = await scheduleActivity("complete-lost");
    const t = await pollActivity();
    db.arm({ match: step.completionLookup, mode: "afterCommit" });
    await expect(tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken, result: "ok" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    await expect(tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken, result: "ok" }))).rejects.toBeInstanceOf(UnknownResourceFault);
    expect((await pollActivity()).taskToken).toBeUndefined();
    expect(count(await history("complete-lost", runId), "ActivityTaskCompleted")).toBe(1);
  });
});
