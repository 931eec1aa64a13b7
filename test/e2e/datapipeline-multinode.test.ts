// Data Pipeline on two taskgate nodes sharing one PostgreSQL database: the tasks of pipelines
// activated on one node are polled from both, each attempt is delivered exactly once, and a poll
// waiting on one node wakes for a pipeline activated on the other.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActivatePipelineCommand, CreatePipelineCommand, PutPipelineDefinitionCommand, QueryObjectsCommand, SetTaskStatusCommand } from "@aws-sdk/client-data-pipeline";
import { freshStore, type StoreLocation } from "../helpers/harness.ts";
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
