// Data Pipeline on two taskgate nodes sharing one PostgreSQL database: the tasks of pipelines
// activated on one node are polled from both, each attempt is delivered exactly once, a poll
// waiting on one node wakes for a pipeline activated on the other, and a node killed under load
// loses no attempt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActivatePipelineCommand, CreatePipelineCommand, PutPipelineDefinitionCommand, QueryObjectsCommand, SetTaskStatusCommand } from "@aws-sdk/client-data-pipeline";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { DataPipelineClient, PollForTaskCommand } from "@aws-sdk/client-data-pipeline";
import { freshStore, postgresUrl, type StoreLocation } from "../helpers/harness.ts";
import { eventually } from "../helpers/eventually.ts";
import { spawnTaskgate } from "../helpers/process.ts";
import { objectsOf, poll, startDp, type ConsoleObject, type DpGate } from "./datapipeline-helpers.ts";

describe("Data Pipeline on two nodes of one PostgreSQL database", () => {
  let loc: StoreLocation;
  let a: DpGate;
  let b: DpGate;
  beforeAll(async () => {
    loc = freshStore("postgres");
    a = await startDp({ kind: "postgres", store: loc, longPollSeconds: 0.5 });
    b = await startDp({ kind: "postgres", store: loc, longPollSeconds: 0.5 });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.destroy();
  });

  let n = 0;
  async function pipeline(gate: DpGate, wg: string, activities: number): Promise<string> {
    const objects: ConsoleObject[] = [{ id: "Default", scheduleType: "ondemand", workerGroup: wg }];
    for (let i = 0; i < activities; i++) objects.push({ id: `A${i}`, type: "ShellCommandActivity", command: `echo ${i}` });
    const { pipelineId } = await gate.dp.send(new CreatePipelineCommand({ name: `${wg}-${++n}`, uniqueId: `u${n}` }));
    expect((await gate.dp.send(new PutPipelineDefinitionCommand({ pipelineId, pipelineObjects: objectsOf(objects) }))).errored).toBe(false);
    await gate.dp.send(new ActivatePipelineCommand({ pipelineId }));
    return pipelineId!;
  }

  it("delivers each attempt once to task runners polling both nodes", async () => {
    const ids = [await pipeline(a, "shared", 40), await pipeline(b, "shared", 40)];
    const delivered: string[] = [];
    const runner = async (gate: DpGate) => {
      for (;;) {
        const t = await poll(gate.dp, "shared", gate === a ? "host-a" : "host-b");
        if (!t) return;
        delivered.push(`${t.pipelineId}/${t.attemptId}`);
        await gate.dp.send(new SetTaskStatusCommand({ taskId: t.taskId, taskStatus: "FINISHED" }));
      }
    };
    await Promise.all([runner(a), runner(a), runner(b), runner(b)]);
    expect(delivered).toHaveLength(80);
    expect(new Set(delivered).size).toBe(80);
    for (const id of ids) {
      const done = await b.dp.send(new QueryObjectsCommand({ pipelineId: id, sphere: "INSTANCE", limit: 1000, query: { selectors: [{ fieldName: "@status", operator: { type: "EQ", values: ["FINISHED"] } }] } }));
      expect(done.ids).toHaveLength(40);
    }
  });

  it("a poll waiting on one node wakes for a pipeline activated on the other", async () => {
    const waiting = poll(b.dp, "cross");
    await pipeline(a, "cross", 1);
    expect((await waiting)?.attemptId).toMatch(/^@A0_/);
  });
});

describe("Data Pipeline with a node killed with SIGKILL", () => {
  it("loses no attempt: runners finish what they held through the survivor, which hands out the rest once each", async () => {
    const loc = freshStore("postgres");
    const survivor = await startDp({ kind: "postgres", store: loc, longPollSeconds: 0.5 });
    const victim = await spawnTaskgate(["--database", `${postgresUrl}?schema=${loc.schema}`, "--long-poll-seconds", "1", "--node-timeout-seconds", "2"]);
    const vc = new DataPipelineClient({ endpoint: victim.url, region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" }, maxAttempts: 1, requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }) });
    try {
      const objects: ConsoleObject[] = [{ id: "Default", scheduleType: "ondemand", workerGroup: "kill" }];
      for (let i = 0; i < 30; i++) objects.push({ id: `A${i}`, type: "ShellCommandActivity", command: `echo ${i}` });
      const { pipelineId } = await vc.send(new CreatePipelineCommand({ name: "kill", uniqueId: "kill" }));
      await vc.send(new PutPipelineDefinitionCommand({ pipelineId, pipelineObjects: objectsOf(objects) }));
      await vc.send(new ActivatePipelineCommand({ pipelineId }));
      const delivered: string[] = [];
      let finished = 0;
      // Runners poll the victim until it dies; a task they hold then is finished through the survivor.
      const victimRunners = Array.from({ length: 4 }, async () => {
        for (;;) {
          const t = await vc.send(new PollForTaskCommand({ workerGroup: "kill" })).then((r) => r.taskObject, () => null);
          if (t === null) return;
          if (!t) continue;
          delivered.push(t.attemptId!);
          await new Promise((r) => setTimeout(r, 20)); // the work
          const ok = await vc.send(new SetTaskStatusCommand({ taskId: t.taskId, taskStatus: "FINISHED" })).then(() => true, () => false);
          // The victim may have committed the status and died before answering: the survivor
          // then knows the task as finished (TaskNotFoundException), which is as good.
          if (!ok)
            await survivor.dp.send(new SetTaskStatusCommand({ taskId: t.taskId, taskStatus: "FINISHED" })).catch((e: unknown) => {
              if (!(e instanceof Error) || e.name !== "TaskNotFoundException") throw e;
            });
          finished++;
        }
      });
      for (const until = Date.now() + 10_000; finished < 5 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
      victim.child.kill("SIGKILL");
      await Promise.all(victimRunners);
      vc.destroy();
      expect(finished).toBeGreaterThan(0);
      expect(finished).toBeLessThan(30);
      // The survivor hands out the rest, also tasks the victim had claimed but never answered.
      await eventually(async () => {
        for (let t = await poll(survivor.dp, "kill"); t; t = await poll(survivor.dp, "kill")) {
          delivered.push(t.attemptId!);
          await survivor.dp.send(new SetTaskStatusCommand({ taskId: t.taskId, taskStatus: "FINISHED" }));
        }
        const done = await survivor.dp.send(new QueryObjectsCommand({ pipelineId, sphere: "INSTANCE", limit: 1000, query: { selectors: [{ fieldName: "@status", operator: { type: "EQ", values: ["FINISHED"] } }] } }));
        expect(done.ids ?? []).toHaveLength(30);
      }, 20_000);
      expect(new Set(delivered).size).toBe(delivered.length);
      expect(delivered.every((a) => a.endsWith("_Attempt=1"))).toBe(true);
    } finally {
      victim.child.kill("SIGKILL");
      await survivor.destroy();
    }
  }, 60_000);
});
