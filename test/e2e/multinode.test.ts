// Several taskgate nodes on one PostgreSQL database: cross-node dispatch, exactly-once delivery,
// a node killed under load, and timers that outlive the node that created them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetWorkflowExecutionHistoryCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RespondActivityTaskCompletedCommand,
  RespondDecisionTaskCompletedCommand,
  SWFClient,
  type SWFClient as Swf,
} from "@aws-sdk/client-swf";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { freshStore, postgresUrl, startTaskgate, type StoreLocation, type Taskgate } from "../helpers/harness.ts";
import { setupDomain, start, type Fixture } from "../helpers/swf.ts";
import { spawnTaskgate } from "../helpers/process.ts";

/** A taskgate node as its own process (so it can be SIGKILLed). */
function spawnNode(loc: StoreLocation, extra: string[] = []) {
  return spawnTaskgate(["--database", `${postgresUrl}?schema=${loc.schema}`, "--long-poll-seconds", "1", ...extra]);
}

function swfClient(url: string): Swf {
  return new SWFClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }),
  });
}

async function scheduleActivities(c: Swf, f: Fixture, workflowId: string, ids: string[]): Promise<string> {
  const runId = await start(c, f, workflowId);
  const d = await c.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    const decisions = batch.map((id) => ({ decisionType: "ScheduleActivityTask" as const, scheduleActivityTaskDecisionAttributes: { activityId: id, activityType: f.activityType } }));
    if (i === 0) {
      await c.send(new RespondDecisionTaskCompletedCommand({ taskToken: d.taskToken, decisions }));
    } else {
      throw new Error("schedule at most 100 per workflow in this helper");
    }
  }
  return runId;
}

describe("several nodes on one PostgreSQL database", () => {
  let loc: StoreLocation;
  let a: Taskgate;
  let b: Taskgate;
  beforeAll(async () => {
    loc = freshStore("postgres");
    a = await startTaskgate({ store: loc, longPollSeconds: 10 });
    b = await startTaskgate({ store: loc, longPollSeconds: 10 });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.destroy();
  });

  it("answers a poll waiting on one node with a task scheduled on the other, at once", async () => {
    const f = await setupDomain(a.swf);
    await start(a.swf, f, "cross");
    const d = await a.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    const poll = b.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await a.swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: d.taskToken,
        decisions: [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "x", activityType: f.activityType } }],
      }),
    );
    const got = await poll;
    expect(got.activityId).toBe("x");
    expect(Date.now() - t0).toBeLessThan(2000); // far below the 10 s hold: woken by the other node's NOTIFY
  });

  it("delivers 500 tasks to 50 pollers spread over both nodes exactly once", async () => {
    const f = await setupDomain(a.swf);
    const ids = Array.from({ length: 500 }, (_, i) => `t${i}`);
    for (let w = 0; w < 5; w++) await scheduleActivities(a.swf, f, `bulk-${w}`, ids.slice(w * 100, w * 100 + 100));
    const seen: string[] = [];
    const tokens = new Set<string>();
    let empty = 0;
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const c = i % 2 === 0 ? a.swf : b.swf;
        for (;;) {
          const t = await c.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
          if (!t.taskToken) {
            empty++;
            return;
          }
          seen.push(`${t.workflowExecution!.workflowId}/${t.activityId}`);
          tokens.add(t.taskToken);
          await c.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken }));
          if (seen.length === 500) return;
        }
      }),
    );
    expect(seen).toHaveLength(500);
    expect(new Set(seen).size).toBe(500);
    expect(tokens.size).toBe(500);
    void empty;
  }, 60_000);
});

describe("a node killed with SIGKILL", () => {
  it("loses no task: the surviving node finishes every one, and timers created on the dead node fire", async () => {
    const loc = freshStore("postgres");
    const survivor = await startTaskgate({ store: loc, longPollSeconds: 1, config: { nodeTimeoutSeconds: 2 } });
    const victim = await spawnNode(loc, ["--node-timeout-seconds", "2"]);
    const vc = swfClient(victim.url);
    try {
      const f = await setupDomain(survivor.swf, { activityTimeouts: { startToClose: "4" } });
      // A timer started on the victim, due after it is dead.
      await start(vc, f, "timer");
      const td = await vc.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      await vc.send(
        new RespondDecisionTaskCompletedCommand({
          taskToken: td.taskToken,
          decisions: [{ decisionType: "StartTimer", startTimerDecisionAttributes: { timerId: "t1", startToFireTimeout: "2" } }],
        }),
      );
      // Work scheduled through the victim, half of it polled through the victim when it dies.
      const ids = Array.from({ length: 100 }, (_, i) => `k${i}`);
      const loadRun = await scheduleActivities(vc, f, "load", ids);
      const done = new Set<string>();
      const victimWorkers = Array.from({ length: 10 }, async () => {
        for (;;) {
          const t = await vc.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } })).catch(() => undefined);
          if (!t?.taskToken) return;
          await new Promise((r) => setTimeout(r, 30)); // the work
          const ok = await vc.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken })).then(
            () => true,
            () => false,
          );
          if (ok) done.add(t.activityId!);
        }
      });
      // Kill it once some work is done (a fixed sleep is too short on a loaded machine).
      for (const until = Date.now() + 10_000; done.size < 5 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
      victim.child.kill("SIGKILL");
      // Killed under load: some work done, not all of it.
      const doneBeforeKill = done.size;
      expect(doneBeforeKill).toBeGreaterThan(0);
      expect(doneBeforeKill).toBeLessThan(ids.length);
      await Promise.all(victimWorkers);
      vc.destroy();

      // The survivor finishes everything: tasks the victim had claimed but not answered come back
      // when it is declared dead; tasks its workers held time out (start-to-close 4 s) and the
      // decider schedules them again.
      // The record is the history: a worker of the victim may have completed a task whose answer
      // the SIGKILL cut off, so what the clients saw is not the measure.
      const completions = async () => {
        const events = (await survivor.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId: "load", runId: loadRun } }))).events!;
        const byScheduled = new Map(events.filter((e) => e.eventType === "ActivityTaskScheduled").map((e) => [e.eventId, e.activityTaskScheduledEventAttributes!.activityId!]));
        return events.filter((e) => e.eventType === "ActivityTaskCompleted").map((e) => byScheduled.get(e.activityTaskCompletedEventAttributes!.scheduledEventId)!);
      };
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline) {
        const t = await survivor.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
        if (t.taskToken) {
          await survivor.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken }));
          continue;
        }
        const completed = new Set(await completions());
        if (completed.size === ids.length) break;
        // Reschedule whatever timed out (tasks the victim's workers held when it died).
        const d = await survivor.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
        if (!d.taskToken) continue;
        const timedOut = d.events!.filter((e) => e.eventType === "ActivityTaskTimedOut").map((e) => e.activityTaskTimedOutEventAttributes!.scheduledEventId);
        const byScheduled = new Map(d.events!.filter((e) => e.eventType === "ActivityTaskScheduled").map((e) => [e.eventId, e.activityTaskScheduledEventAttributes!.activityId!]));
        const again = [...new Set(timedOut.map((id) => byScheduled.get(id)!))].filter((id) => id && !completed.has(id));
        await survivor.swf.send(
          new RespondDecisionTaskCompletedCommand({
            taskToken: d.taskToken,
            decisions: again.map((id) => ({ decisionType: "ScheduleActivityTask" as const, scheduleActivityTaskDecisionAttributes: { activityId: id, activityType: f.activityType } })),
          }),
        );
      }
      const completed = await completions();
      expect([...completed].sort()).toEqual([...ids].sort()); // each exactly once

      // The timer was due 2 s after it started on the victim; the survivor fires it.
      let fired = false;
      for (let i = 0; i < 40 && !fired; i++) {
        const h = await survivor.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: td.workflowExecution! }));
        fired = h.events!.some((e) => e.eventType === "TimerFired");
        if (!fired) await new Promise((r) => setTimeout(r, 250));
      }
      expect(fired).toBe(true);
    } finally {
      victim.child.kill("SIGKILL");
      await survivor.destroy();
    }
  }, 90_000);
});
