// Durability: tasks survive a restart; timeouts are durable timers; stale tokens are refused.
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetWorkflowExecutionHistoryCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RecordActivityTaskHeartbeatCommand,
  RespondActivityTaskCompletedCommand,
  RespondDecisionTaskCompletedCommand,
  SWFClient,
  UnknownResourceFault,
} from "@aws-sdk/client-swf";
import { freshStore, startTaskgate, stores } from "../helpers/harness.ts";
import { setupDomain, start } from "../helpers/swf.ts";
import { spawnTaskgate } from "../helpers/process.ts";

describe.each(stores)("SWF durability (%s)", (kind) => {
  it("delivers tasks scheduled before a restart after it, and refuses tokens of the old attempt", async () => {
    const loc = freshStore(kind);
    let tg = await startTaskgate({ store: loc, longPollSeconds: 0.5 });
    try {
      const f = await setupDomain(tg.swf);
      await start(tg.swf, f, "survivor");
      const d = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      await tg.swf.send(
        new RespondDecisionTaskCompletedCommand({
          taskToken: d.taskToken,
          decisions: ["a", "b", "c"].map((id) => ({ decisionType: "ScheduleActivityTask" as const, scheduleActivityTaskDecisionAttributes: { activityId: id, activityType: f.activityType } })),
        }),
      );
      const a = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
      await tg.stop();

      tg = await startTaskgate({ store: loc, longPollSeconds: 0.5 });
      const got: string[] = [];
      for (;;) {
        const t = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
        if (!t.taskToken) break;
        got.push(t.activityId!);
        await tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: t.taskToken }));
      }
      expect(got).toEqual(["b", "c"]);
      // The task started before the restart is still held by its worker, whose token still works once.
      await tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: a.taskToken }));
      await expect(tg.swf.send(new RespondActivityTaskCompletedCommand({ taskToken: a.taskToken }))).rejects.toBeInstanceOf(UnknownResourceFault);
    } finally {
      await tg.destroy();
    }
  });

  it("times out activities (heartbeat, start-to-close, schedule-to-start) and decision tasks, and schedules a decision", async () => {
    const tg = await startTaskgate({ kind, longPollSeconds: 0.5 });
    try {
      const f = await setupDomain(tg.swf, { activityTimeouts: { heartbeat: "1", startToClose: "10", scheduleToStart: "1" }, taskTimeout: "1" });
      await start(tg.swf, f, "slow");
      // Decision task start-to-close: let the first decision task time out.
      const d0 = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      await new Promise((r) => setTimeout(r, 1300));
      await expect(tg.swf.send(new RespondDecisionTaskCompletedCommand({ taskToken: d0.taskToken }))).rejects.toBeInstanceOf(UnknownResourceFault);
      const d = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      expect(d.events!.map((e) => e.eventType).slice(3)).toEqual(["DecisionTaskTimedOut", "DecisionTaskScheduled", "DecisionTaskStarted"]);
      expect(d.events![3].decisionTaskTimedOutEventAttributes).toEqual({ timeoutType: "START_TO_CLOSE", scheduledEventId: 2, startedEventId: 3 });
      await tg.swf.send(
        new RespondDecisionTaskCompletedCommand({
          taskToken: d.taskToken,
          decisions: ["hb", "never"].map((id) => ({ decisionType: "ScheduleActivityTask" as const, scheduleActivityTaskDecisionAttributes: { activityId: id, activityType: f.activityType } })),
        }),
      );
      const a = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
      expect(a.activityId).toBe("hb");
      // Heartbeats keep it alive past the heartbeat timeout, then silence times it out.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 400));
        await tg.swf.send(new RecordActivityTaskHeartbeatCommand({ taskToken: a.taskToken, details: `beat ${i}` }));
      }
      await new Promise((r) => setTimeout(r, 1500));
      await expect(tg.swf.send(new RecordActivityTaskHeartbeatCommand({ taskToken: a.taskToken }))).rejects.toBeInstanceOf(UnknownResourceFault);
      const h = await tg.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: a.workflowExecution! }));
      const timeouts = h.events!.filter((e) => e.eventType === "ActivityTaskTimedOut").map((e) => e.activityTaskTimedOutEventAttributes!);
      expect(timeouts.map((t) => t.timeoutType).sort()).toEqual(["HEARTBEAT", "SCHEDULE_TO_START"]);
      expect(timeouts.find((t) => t.timeoutType === "HEARTBEAT")?.details).toBe("beat 2");
      expect(timeouts.find((t) => t.timeoutType === "SCHEDULE_TO_START")?.startedEventId).toBe(0);
      const next = await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      expect(next.taskToken).toBeTruthy();
    } finally {
      await tg.destroy();
    }
  });
});

describe("npm start as a process", () => {
  it("starts, serves, stops on SIGTERM, and keeps its tasks for the next start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskgate-proc-"));
    const db = join(dir, "t.db");
    const run = () => spawnTaskgate(["--database", `sqlite:${db}`, "--long-poll-seconds", "0.5"]);
    const client = (port: number) => new SWFClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    try {
      const p1 = await run();
      const c1 = client(p1.port);
      const health = await fetch(`http://127.0.0.1:${p1.port}/healthz`);
      expect(health.status).toBe(200);
      const f = await setupDomain(c1);
      await start(c1, f, "proc");
      // A poll waiting during shutdown is answered with the empty result, not cut.
      const waiting = c1.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
      await new Promise((r) => setTimeout(r, 100));
      p1.child.kill("SIGTERM");
      expect((await waiting).taskToken).toBeUndefined();
      expect(await p1.exited).toBe(0);
      c1.destroy();

      const p2 = await run();
      const c2 = client(p2.port);
      const d = await c2.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
      expect(d.workflowExecution?.workflowId).toBe("proc");
      p2.child.kill("SIGTERM");
      expect(await p2.exited).toBe(0);
      c2.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
