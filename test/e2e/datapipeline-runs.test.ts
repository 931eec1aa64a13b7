// Data Pipeline runs through @aws-sdk/client-data-pipeline on both stores: on-demand pipelines
// driven to FINISHED by a task-runner loop, dependsOn ordering, a precondition answered FALSE,
// deactivation cancelling a running attempt, QueryObjects and DescribeObjects, unknown task ids,
// long polls, and the Connect-only StreamTasks and RespondPipelineTasks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ActivatePipelineCommand,
  CreatePipelineCommand,
  DeactivatePipelineCommand,
  DescribeObjectsCommand,
  PollForTaskCommand,
  PutPipelineDefinitionCommand,
  QueryObjectsCommand,
  ReportTaskProgressCommand,
  ReportTaskRunnerHeartbeatCommand,
  SetStatusCommand,
  SetTaskStatusCommand,
} from "@aws-sdk/client-data-pipeline";
import { TaskStatus } from "../../gen/taskgate/datapipeline/v1/types_pb.ts";
import { stores } from "../helpers/harness.ts";
import { failure, fieldOf, objectsOf, poll, runOne, startDp, type ConsoleObject, type DpGate } from "./datapipeline-helpers.ts";

describe.each(stores)("Data Pipeline runs (%s)", (kind) => {
  let tg: DpGate;
  let n = 0;

  beforeAll(async () => {
    tg = await startDp({ kind, longPollSeconds: 0.3 });
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  /** A fresh worker group per test, so tests never take each other's tasks. */
  const group = () => `wg-${kind}-${++n}`;

  /** Creates a pipeline with these objects, activates it; its id. */
  async function activated(objects: ConsoleObject[]): Promise<string> {
    const { pipelineId } = await tg.dp.send(new CreatePipelineCommand({ name: `p${++n}`, uniqueId: `u${n}` }));
    const put = await tg.dp.send(new PutPipelineDefinitionCommand({ pipelineId, pipelineObjects: objectsOf(objects) }));
    expect(put.errored, JSON.stringify(put.validationErrors)).toBe(false);
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId }));
    return pipelineId!;
  }

  /** The `@status` of objects of a pipeline, by id. */
  async function statuses(pipelineId: string, ids: string[]): Promise<Record<string, string | undefined>> {
    const r = await tg.dp.send(new DescribeObjectsCommand({ pipelineId, objectIds: ids }));
    return Object.fromEntries((r.pipelineObjects ?? []).map((o) => [o.id!, fieldOf(o, "@status")]));
  }

  /** Ids of a pipeline's objects of a sphere whose @status is `status`. */
  async function withStatus(pipelineId: string, sphere: string, status: string): Promise<string[]> {
    const r = await tg.dp.send(new QueryObjectsCommand({ pipelineId, sphere, query: { selectors: [{ fieldName: "@status", operator: { type: "EQ", values: [status] } }] } }));
    return r.ids ?? [];
  }

  it("runs an on-demand pipeline to FINISHED through a task-runner loop, B only after A (dependsOn)", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg, failureAndRerunMode: "CASCADE" },
      { id: "A", type: "ShellCommandActivity", command: "echo a" },
      { id: "B", type: "ShellCommandActivity", command: "echo #{@pipelineId} #{format(@scheduledStartTime, 'YYYY')}", dependsOn: { ref: "A" } },
    ]);
    const first = await poll(tg.dp, wg);
    expect(first?.pipelineId).toBe(id);
    expect(first?.attemptId).toMatch(/^@A_\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d_Attempt=1$/);
    const attempt = first!.objects![first!.attemptId!];
    expect(fieldOf(attempt, "@status")).toBe("RUNNING");
    expect(fieldOf(attempt, "command")).toBe("echo a");
    expect(fieldOf(attempt, "@sphere")).toBe("ATTEMPT");
    expect(fieldOf(attempt, "hostname")).toBe("runner-1");
    expect(fieldOf(attempt, "@componentParent")).toBe("A");
    // B waits on A: the worker group has nothing else.
    expect(await poll(tg.dp, wg)).toBeUndefined();
    const instB = (await withStatus(id, "INSTANCE", "WAITING_ON_DEPENDENCIES"))[0];
    expect(instB).toMatch(/^@B_/);
    await tg.dp.send(new ReportTaskProgressCommand({ taskId: first!.taskId }));
    await tg.dp.send(new SetTaskStatusCommand({ taskId: first!.taskId, taskStatus: "FINISHED" }));
    const second = await runOne(tg.dp, wg);
    expect(second.attemptId).toMatch(/^@B_/);
    expect(fieldOf(second.objects![second.attemptId!], "command")).toBe(`echo ${id} ${new Date().getUTCFullYear()}`);
    const done = await statuses(id, [first!.attemptId!, instB, second.attemptId!]);
    expect(Object.values(done)).toEqual(["FINISHED", "FINISHED", "FINISHED"]);
    expect((await withStatus(id, "INSTANCE", "FINISHED")).length).toBe(2);
    expect((await withStatus(id, "ATTEMPT", "FINISHED")).length).toBe(2);
  });

  it("a second status for the same task and unknown task ids answer TaskNotFoundException", async () => {
    const wg = group();
    await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "A", type: "ShellCommandActivity", command: "true" },
    ]);
    const t = await runOne(tg.dp, wg);
    for (const call of [
      () => tg.dp.send(new SetTaskStatusCommand({ taskId: t.taskId, taskStatus: "FAILED" })),
      () => tg.dp.send(new SetTaskStatusCommand({ taskId: "no-such-task", taskStatus: "FINISHED" })),
      () => tg.dp.send(new ReportTaskProgressCommand({ taskId: "no-such-task" })),
    ])
      expect((await failure(call())).name).toBe("TaskNotFoundException");
  });

  it("a failed attempt without retries fails its instance and CASCADE-fails the dependents", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg, failureAndRerunMode: "CASCADE", maximumRetries: "0" },
      { id: "A", type: "ShellCommandActivity", command: "false" },
      { id: "B", type: "ShellCommandActivity", command: "true", dependsOn: { ref: "A" } },
    ]);
    const t = await runOne(tg.dp, wg, "FAILED");
    const a = await tg.dp.send(new DescribeObjectsCommand({ pipelineId: id, objectIds: [t.attemptId!] }));
    expect(fieldOf(a.pipelineObjects?.[0], "@status")).toBe("FAILED");
    expect(fieldOf(a.pipelineObjects?.[0], "errorMessage")).toBe("boom");
    expect(fieldOf(a.pipelineObjects?.[0], "errorId")).toBe("E1");
    expect((await withStatus(id, "INSTANCE", "FAILED")).map((i) => i.split("_")[0])).toEqual(["@A"]);
    expect((await withStatus(id, "INSTANCE", "CASCADE_FAILED")).map((i) => i.split("_")[0])).toEqual(["@B"]);
    expect(await poll(tg.dp, wg)).toBeUndefined();
  });

  it("a precondition answered FALSE keeps its activity from running", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg, maximumRetries: "0" },
      { id: "Ready", type: "ShellCommandPrecondition", command: "test -f /tmp/ready" },
      { id: "A", type: "ShellCommandActivity", command: "echo a", precondition: { ref: "Ready" } },
    ]);
    const check = await poll(tg.dp, wg);
    expect(check?.attemptId).toMatch(/^@Ready_/);
    expect(fieldOf(check!.objects![check!.attemptId!], "command")).toBe("test -f /tmp/ready");
    await tg.dp.send(new SetTaskStatusCommand({ taskId: check!.taskId, taskStatus: "FALSE" }));
    expect(await poll(tg.dp, wg)).toBeUndefined();
    expect((await withStatus(id, "ATTEMPT", "FAILED"))).toEqual([check!.attemptId]);
    const inst = (await withStatus(id, "INSTANCE", "CASCADE_FAILED"))[0];
    expect(inst).toMatch(/^@A_/);
  });

  it("a precondition answered FINISHED lets its activity run", async () => {
    const wg = group();
    await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "Ready", type: "ShellCommandPrecondition", command: "true" },
      { id: "A", type: "ShellCommandActivity", command: "echo a", precondition: { ref: "Ready" } },
    ]);
    expect((await runOne(tg.dp, wg)).attemptId).toMatch(/^@Ready_/);
    expect((await runOne(tg.dp, wg)).attemptId).toMatch(/^@A_/);
  });

  it("deactivation cancels a running attempt: ReportTaskProgress answers canceled", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "A", type: "ShellCommandActivity", command: "sleep 100" },
    ]);
    const t = await poll(tg.dp, wg);
    expect((await tg.dp.send(new ReportTaskProgressCommand({ taskId: t!.taskId }))).canceled).toBe(false);
    await tg.dp.send(new DeactivatePipelineCommand({ pipelineId: id }));
    expect((await tg.dp.send(new ReportTaskProgressCommand({ taskId: t!.taskId }))).canceled).toBe(true);
    expect(await statuses(id, [t!.attemptId!])).toEqual({ [t!.attemptId!]: "CANCELED" });
    expect((await withStatus(id, "INSTANCE", "CANCELED")).length).toBe(1);
  });

  it("deactivation without cancelActive lets a running attempt finish and starts nothing; the next activation runs anew", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "A", type: "ShellCommandActivity", command: "a" },
      { id: "B", type: "ShellCommandActivity", command: "b", dependsOn: { ref: "A" } },
    ]);
    const a = await poll(tg.dp, wg);
    await tg.dp.send(new DeactivatePipelineCommand({ pipelineId: id, cancelActive: false }));
    expect((await tg.dp.send(new ReportTaskProgressCommand({ taskId: a!.taskId }))).canceled).toBe(false);
    await tg.dp.send(new SetTaskStatusCommand({ taskId: a!.taskId, taskStatus: "FINISHED" }));
    expect(await poll(tg.dp, wg)).toBeUndefined();
    expect(await withStatus(id, "INSTANCE", "WAITING_ON_DEPENDENCIES")).toHaveLength(1);
    const waitingB = (await withStatus(id, "INSTANCE", "WAITING_ON_DEPENDENCIES"))[0];
    // An on-demand pipeline runs anew on each activation: the old run's waiting objects are canceled.
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId: id }));
    const again = await poll(tg.dp, wg);
    expect(again?.attemptId).toMatch(/^@A_/);
    expect(again?.attemptId).not.toBe(a!.attemptId);
    expect(await withStatus(id, "INSTANCE", "CANCELED")).toEqual([waitingB]);
  });

  it("SetStatus: TRY_CANCEL cancels an instance, RERUN runs it again, MARK_FINISHED finishes it", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg, maximumRetries: "0" },
      { id: "A", type: "ShellCommandActivity", command: "x" },
    ]);
    const t = await runOne(tg.dp, wg, "FAILED");
    const inst = t.attemptId!.replace(/_Attempt=1$/, "");
    await tg.dp.send(new SetStatusCommand({ pipelineId: id, objectIds: [inst], status: "RERUN" }));
    const again = await poll(tg.dp, wg);
    expect(again?.attemptId).toBe(`${inst}_Attempt=2`);
    await tg.dp.send(new SetStatusCommand({ pipelineId: id, objectIds: [inst], status: "MARK_FINISHED" }));
    expect((await tg.dp.send(new ReportTaskProgressCommand({ taskId: again!.taskId }))).canceled).toBe(true);
    expect(await statuses(id, [inst])).toEqual({ [inst]: "FINISHED" });
    expect((await failure(tg.dp.send(new SetStatusCommand({ pipelineId: id, objectIds: [inst], status: "PAUSE" })))).name).toBe("InvalidRequestException");
  });

  it("SetStatus PAUSE keeps a component's instances from starting until RESUME", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "A", type: "ShellCommandActivity", command: "a" },
      { id: "B", type: "ShellCommandActivity", command: "b", dependsOn: { ref: "A" } },
    ]);
    await tg.dp.send(new SetStatusCommand({ pipelineId: id, objectIds: ["B"], status: "PAUSE" }));
    const comp = await tg.dp.send(new DescribeObjectsCommand({ pipelineId: id, objectIds: ["B"] }));
    expect(fieldOf(comp.pipelineObjects?.[0], "@status")).toBe("PAUSED");
    expect(fieldOf(comp.pipelineObjects?.[0], "@sphere")).toBe("COMPONENT");
    await runOne(tg.dp, wg);
    expect(await poll(tg.dp, wg)).toBeUndefined();
    await tg.dp.send(new SetStatusCommand({ pipelineId: id, objectIds: ["B"], status: "RESUME" }));
    expect((await poll(tg.dp, wg))?.attemptId).toMatch(/^@B_/);
    const bad = await failure(tg.dp.send(new SetStatusCommand({ pipelineId: id, objectIds: ["B"], status: "RERUN" })));
    expect(bad.name).toBe("InvalidRequestException");
  });

  it("QueryObjects pages with markers and filters by @scheduledStartTime; DescribeObjects evaluates expressions on request", async () => {
    const wg = group();
    const objs: ConsoleObject[] = [{ id: "Default", scheduleType: "ondemand", workerGroup: wg }];
    for (let i = 0; i < 5; i++) objs.push({ id: `A${i}`, type: "ShellCommandActivity", command: "echo #{@scheduledStartTime}" });
    const id = await activated(objs);
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const r = await tg.dp.send(new QueryObjectsCommand({ pipelineId: id, sphere: "INSTANCE", limit: 2, marker }));
      seen.push(...(r.ids ?? []));
      marker = r.hasMoreResults ? r.marker : undefined;
    } while (marker);
    expect(seen.length).toBe(5);
    const comps = await tg.dp.send(new QueryObjectsCommand({ pipelineId: id, sphere: "COMPONENT" }));
    expect(comps.ids).toEqual(["Default", "A0", "A1", "A2", "A3", "A4"]);
    const d = await tg.dp.send(new DescribeObjectsCommand({ pipelineId: id, objectIds: [seen[0]] }));
    const start = fieldOf(d.pipelineObjects?.[0], "@scheduledStartTime")!;
    expect(fieldOf(d.pipelineObjects?.[0], "command")).toBe("echo #{@scheduledStartTime}");
    const e = await tg.dp.send(new DescribeObjectsCommand({ pipelineId: id, objectIds: [seen[0]], evaluateExpressions: true }));
    expect(fieldOf(e.pipelineObjects?.[0], "command")).toBe(`echo ${start}`);
    const between = await tg.dp.send(
      new QueryObjectsCommand({ pipelineId: id, sphere: "INSTANCE", query: { selectors: [{ fieldName: "@scheduledStartTime", operator: { type: "BETWEEN", values: [start, start] } }] } }),
    );
    expect(between.ids?.length).toBe(5);
    const before = await tg.dp.send(
      new QueryObjectsCommand({ pipelineId: id, sphere: "INSTANCE", query: { selectors: [{ fieldName: "@scheduledStartTime", operator: { type: "LE", values: ["2000-01-01T00:00:00"] } }] } }),
    );
    expect(before.ids ?? []).toEqual([]);
    const byRef = await tg.dp.send(
      new QueryObjectsCommand({ pipelineId: id, sphere: "INSTANCE", query: { selectors: [{ fieldName: "@componentParent", operator: { type: "REF_EQ", values: ["A3"] } }] } }),
    );
    expect(byRef.ids?.length).toBe(1);
    expect((await failure(tg.dp.send(new QueryObjectsCommand({ pipelineId: id, sphere: "PLANET" })))).name).toBe("InvalidRequestException");
  });

  it("long polls: idle answers {} after the hold, a ready task at once, a waiting poll wakes when a task commits", async () => {
    const wg = group();
    const idle = Date.now();
    expect(await tg.dp.send(new PollForTaskCommand({ workerGroup: wg }))).not.toHaveProperty("taskObject");
    expect(Date.now() - idle).toBeGreaterThanOrEqual(250);
    // Worker groups are exact and case-sensitive.
    const waiting = poll(tg.dp, wg);
    const other = poll(tg.dp, wg.toUpperCase());
    await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "A", type: "ShellCommandActivity", command: "true" },
      { id: "B", type: "ShellCommandActivity", command: "true" },
    ]);
    expect((await waiting)?.attemptId).toMatch(/^@[AB]_/);
    expect(await other).toBeUndefined();
    expect((await poll(tg.dp, wg))?.attemptId).toMatch(/^@[AB]_/);
  });

  it("an aborted poll does not swallow a task", async () => {
    const wg = group();
    const ac = new AbortController();
    const gone = tg.dp.send(new PollForTaskCommand({ workerGroup: wg }), { abortSignal: ac.signal }).catch((e: Error) => e.name);
    ac.abort();
    expect(await gone).toBe("AbortError");
    await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "A", type: "ShellCommandActivity", command: "true" },
    ]);
    expect((await poll(tg.dp, wg))?.attemptId).toMatch(/^@A_/);
  });

  it("activating an on-demand pipeline again cancels the running objects and runs it again", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "A", type: "ShellCommandActivity", command: "true" },
    ]);
    const first = await poll(tg.dp, wg);
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId: id }));
    expect((await tg.dp.send(new ReportTaskProgressCommand({ taskId: first!.taskId }))).canceled).toBe(true);
    const second = await runOne(tg.dp, wg);
    expect(second.attemptId).not.toBe(first!.attemptId);
    expect(await withStatus(id, "INSTANCE", "CANCELED")).toEqual([first!.attemptId!.replace(/_Attempt=1$/, "")]);
    expect(await withStatus(id, "INSTANCE", "FINISHED")).toEqual([second.attemptId!.replace(/_Attempt=1$/, "")]);
  });

  it("ReportTaskRunnerHeartbeat answers terminate false; ListTaskRunners shows each runner with its last heartbeat (Connect)", async () => {
    const wg = group();
    const before = Date.now();
    expect((await tg.dp.send(new ReportTaskRunnerHeartbeatCommand({ taskrunnerId: `runner-${wg}`, workerGroup: wg, hostname: "h1" }))).terminate).toBe(false);
    await tg.dp.send(new ReportTaskRunnerHeartbeatCommand({ taskrunnerId: `other-${wg}`, workerGroup: `${wg}-b` }));
    // A second heartbeat of the same runner replaces what it reported.
    await tg.dp.send(new ReportTaskRunnerHeartbeatCommand({ taskrunnerId: `runner-${wg}`, workerGroup: wg, hostname: "h2" }));
    const { taskRunners } = await tg.connect.listTaskRunners({ workerGroup: wg });
    expect(taskRunners.map((r) => [r.taskrunnerId, r.workerGroup, r.hostname])).toEqual([[`runner-${wg}`, wg, "h2"]]);
    const at = Number(taskRunners[0].lastHeartbeat!.seconds) * 1000 + taskRunners[0].lastHeartbeat!.nanos / 1e6;
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    const all = (await tg.connect.listTaskRunners({})).taskRunners.map((r) => r.taskrunnerId);
    expect(all).toEqual(expect.arrayContaining([`runner-${wg}`, `other-${wg}`]));
    await expect(tg.connect.listTaskRunners({ workerGroup: "" })).rejects.toThrow(/workerGroup must be 1 to 1024 characters/);
    // Taskgate's own read RPC is not an operation of the AWS JSON route.
    const r = await fetch(tg.url, { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "DataPipeline.ListTaskRunners" }, body: "{}" });
    expect(r.status).toBe(400);
  });

  it("StreamTasks pushes tasks with credit and RespondPipelineTasks settles them in one call (Connect)", async () => {
    const wg = group();
    const id = await activated([
      { id: "Default", scheduleType: "ondemand", workerGroup: wg },
      { id: "A", type: "ShellCommandActivity", command: "true" },
      { id: "B", type: "ShellCommandActivity", command: "true" },
      { id: "C", type: "ShellCommandActivity", command: "true" },
    ]);
    const ac = new AbortController();
    const got: { taskId: string; attemptId: string }[] = [];
    for await (const t of tg.connect.streamTasks({ workerGroup: wg, hostname: "streamer", maxInFlight: 3 }, { signal: ac.signal })) {
      got.push({ taskId: t.taskId!, attemptId: t.attemptId! });
      expect(t.pipelineId).toBe(id);
      expect(t.objects[t.attemptId!]).toBeDefined();
      if (got.length === 3) break;
    }
    ac.abort();
    expect(new Set(got.map((g) => g.attemptId.split("_")[0]))).toEqual(new Set(["@A", "@B", "@C"]));
    const r = await tg.connect.respondPipelineTasks({
      statuses: [...got.map((g) => ({ entry: { case: "status" as const, value: { taskId: g.taskId, taskStatus: TaskStatus.FINISHED } } })), { entry: { case: "status" as const, value: { taskId: got[0].taskId, taskStatus: TaskStatus.FINISHED } } }],
    });
    expect(r.results.map((x) => x.fault?.name ?? "ok")).toEqual(["ok", "ok", "ok", "TaskNotFoundException"]);
    expect((await withStatus(id, "INSTANCE", "FINISHED")).length).toBe(3);
  });
});
