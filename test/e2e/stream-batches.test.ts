// The batch streams of the three services on both stores (SWF and Step Functions
// StreamActivityTaskBatches, Data Pipeline StreamTaskBatches): the tasks claimed together arrive
// as one message within the credit, each task exactly once, the credit comes back with the batch
// completion, a claim that would pass 4 MiB arrives as several messages each under it, and the
// request is validated as the service's poll (its faults, its authorization).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { StartExecutionCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { ActivatePipelineCommand, CreatePipelineCommand, PutPipelineDefinitionCommand } from "@aws-sdk/client-data-pipeline";
import { StreamActivityTaskBatchesResponseSchema, type StreamActivityTaskBatchesResponse } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { EventType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { TaskStatus } from "../../gen/taskgate/datapipeline/v1/types_pb.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { connectFixture, scheduleActivities } from "../helpers/swf.ts";
import { closed, connectClient as sfnConnect, machineWith, sfnClient } from "./sfn-client.ts";
import { objectsOf, startDp, type DpGate } from "./datapipeline-helpers.ts";

/** The fault name a failed call or stream carries. */
async function faultOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    const ce = ConnectError.from(e);
    return faultFromConnectError(ce)?.name ?? Code[ce.code];
  }
  return "no error";
}

/** Reads the next message of a stream, failing after `ms`. */
async function next<T>(it: AsyncIterator<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([it.next(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
  if (r.done) throw new Error("the stream ended");
  return r.value;
}

/** Whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  clearTimeout(timer);
  return r;
}

describe.each(stores)("SWF StreamActivityTaskBatches (%s)", (kind) => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 0.5 });
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  /** Starts an execution whose first decision schedules `count` activities; returns its runId. */
  const schedule = (domain: string, workflowId: string, count: number, input?: string) => scheduleActivities(tg.connect, domain, workflowId, count, input);

  it("delivers the tasks claimed together as one message within the credit; a batch completion gives the credit back", async () => {
    const c = tg.connect;
    const domain = await connectFixture(c, "batches");
    const runId = await schedule(domain, "w", 25);
    const ac = new AbortController();
    const it = c.streamActivityTaskBatches({ domain, taskList: { name: "a" }, identity: "batcher", maxInFlight: 10 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const seen = new Set<string>();
    try {
      // The first claim takes the whole credit at once: one message of 10 tasks.
      const first = await next(it);
      expect(first.tasks).toHaveLength(10);
      for (const t of first.tasks) {
        expect(t.workflowExecution).toMatchObject({ workflowId: "w", runId });
        expect(t.activityType).toMatchObject({ name: "act", version: "1" });
        expect(t.taskToken).toBeTruthy();
        seen.add(t.activityId!);
      }
      // Credit spent: nothing more until tasks complete.
      const pending = next(it, 10_000);
      expect(await settlesWithin(pending, 300)).toBe(false);
      const r = await c.respondActivityTasks({ outcomes: first.tasks.slice(0, 4).map((t) => ({ outcome: { case: "completed" as const, value: { taskToken: t.taskToken, result: "ok" } } })) });
      expect(r.results.every((x) => x.fault === undefined)).toBe(true);
      // Four credits came back: the next message holds at most four tasks.
      const second = await pending;
      expect(second.tasks.length).toBeGreaterThanOrEqual(1);
      expect(second.tasks.length).toBeLessThanOrEqual(4);
      const held = [...first.tasks.slice(4), ...second.tasks];
      for (const t of second.tasks) {
        expect(seen.has(t.activityId!)).toBe(false);
        seen.add(t.activityId!);
      }
      // Drain the rest, completing what arrives.
      let outstanding = held;
      while (seen.size < 25) {
        await c.respondActivityTasks({ outcomes: outstanding.map((t) => ({ outcome: { case: "completed" as const, value: { taskToken: t.taskToken, result: "ok" } } })) });
        const m = await next(it);
        for (const t of m.tasks) {
          expect(seen.has(t.activityId!)).toBe(false);
          seen.add(t.activityId!);
        }
        outstanding = m.tasks;
      }
      await c.respondActivityTasks({ outcomes: outstanding.map((t) => ({ outcome: { case: "completed" as const, value: { taskToken: t.taskToken, result: "ok" } } })) });
    } finally {
      ac.abort();
    }
    // Each activity was started once (by the identity given) and completed once.
    const { events } = await c.getWorkflowExecutionHistory({ domain, execution: { workflowId: "w", runId }, maximumPageSize: 1000 });
    const started = events.filter((e) => e.eventType === EventType.ACTIVITY_TASK_STARTED);
    expect(started).toHaveLength(25);
    expect(started.every((e) => e.activityTaskStartedEventAttributes?.identity === "batcher")).toBe(true);
    expect(events.filter((e) => e.eventType === EventType.ACTIVITY_TASK_COMPLETED)).toHaveLength(25);
  });

  it("hands a waiting stream the task a decision schedules (started inside the decision's transaction), recording its identity", async () => {
    const c = tg.connect;
    const domain = await connectFixture(c, "handoff");
    const ac = new AbortController();
    const it = c.streamActivityTaskBatches({ domain, taskList: { name: "a" }, identity: "waiting", maxInFlight: 3 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const first = next(it);
    await new Promise((r) => setTimeout(r, 100)); // the stream waits
    const runId = await schedule(domain, "one", 1);
    try {
      const m = await first;
      expect(m.tasks.map((t) => t.activityId)).toEqual(["one-0"]);
      await c.respondActivityTaskCompleted({ taskToken: m.tasks[0].taskToken, result: "r" });
    } finally {
      ac.abort();
    }
    const { events } = await c.getWorkflowExecutionHistory({ domain, execution: { workflowId: "one", runId } });
    expect(events.find((e) => e.eventType === EventType.ACTIVITY_TASK_STARTED)?.activityTaskStartedEventAttributes?.identity).toBe("waiting");
    expect(events.filter((e) => e.eventType === EventType.ACTIVITY_TASK_COMPLETED)).toHaveLength(1);
  });

  it("sends a claim that would pass 4 MiB as several messages, each under 4 MiB, every task once", async () => {
    const c = tg.connect;
    const domain = await connectFixture(c, "big");
    // 45 inputs of 32,768 three-byte characters: 96 KiB each, 4.2 MiB together (scheduled by 5
    // executions: a decision request is limited to about 1 MiB).
    for (let e = 0; e < 5; e++) await schedule(domain, `big${e}`, 9, "€".repeat(32_768));
    const ac = new AbortController();
    const it = c.streamActivityTaskBatches({ domain, taskList: { name: "a" }, maxInFlight: 100 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const messages: StreamActivityTaskBatchesResponse[] = [];
    try {
      let count = 0;
      while (count < 45) {
        const m = await next(it);
        messages.push(m);
        count += m.tasks.length;
      }
    } finally {
      ac.abort();
    }
    expect(messages.length).toBeGreaterThanOrEqual(2);
    for (const m of messages) expect(toBinary(StreamActivityTaskBatchesResponseSchema, m).byteLength).toBeLessThan(4 * 1024 * 1024);
    const ids = messages.flatMap((m) => m.tasks.map((t) => t.activityId));
    expect(new Set(ids).size).toBe(45);
    expect(messages.every((m) => m.tasks.every((t) => t.input === "€".repeat(32_768)))).toBe(true);
  });

  it("validates the request as StreamActivityTasks does: an unknown domain, a bad credit, a bad task list", async () => {
    const c = tg.connect;
    const batches = (req: Parameters<typeof c.streamActivityTaskBatches>[0]) => faultOf(c.streamActivityTaskBatches(req)[Symbol.asyncIterator]().next());
    const single = (req: Parameters<typeof c.streamActivityTasks>[0]) => faultOf(c.streamActivityTasks(req)[Symbol.asyncIterator]().next());
    expect(await batches({ domain: "no-such-domain", taskList: { name: "a" } })).toBe("UnknownResourceFault");
    const domain = await connectFixture(c, "bad");
    for (const req of [
      { domain, taskList: { name: "a" }, maxInFlight: 0 },
      { domain, taskList: { name: "a" }, maxInFlight: 10_001 },
      { domain, taskList: { name: "" } },
      { domain, taskList: { name: "arn:x" } },
    ]) {
      const f = await batches(req);
      expect(f, JSON.stringify(req)).toBe("ValidationException");
      expect(await single(req)).toBe(f);
    }
  });
});

describe.each(stores)("Step Functions StreamActivityTaskBatches (%s)", (kind) => {
  let tg: Taskgate;
  let sfn: SFNClient;
  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 0.5 });
    sfn = sfnClient(tg.url);
  });
  afterAll(async () => {
    sfn?.destroy();
    await tg?.destroy();
  });

  it("delivers the tasks of many executions in batches; a batch of successes closes them", async () => {
    const client = sfnConnect(tg.url);
    const { activityArn, stateMachineArn } = await machineWith(sfn, `batches-${kind}`, (a) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } }));
    const executions = await Promise.all(Array.from({ length: 12 }, (_, i) => sfn.send(new StartExecutionCommand({ stateMachineArn, input: String(i) }))));
    const ac = new AbortController();
    const it = client.streamActivityTaskBatches({ activityArn, workerName: "batcher", maxInFlight: 5 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const inputs: string[] = [];
    try {
      while (inputs.length < 12) {
        const m = await next(it);
        expect(m.tasks.length).toBeGreaterThanOrEqual(1);
        expect(m.tasks.length).toBeLessThanOrEqual(5);
        inputs.push(...m.tasks.map((t) => t.input!));
        const r = await client.respondActivityTasks({ outcomes: m.tasks.map((t) => ({ outcome: { case: "success" as const, value: { taskToken: t.taskToken, output: String(Number(t.input) * 2) } } })) });
        expect(r.results.every((x) => x.fault === undefined)).toBe(true);
      }
    } finally {
      ac.abort();
    }
    expect(inputs.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const ends = await Promise.all(executions.map((e) => closed(sfn, e.executionArn!)));
    for (const d of ends) expect(d).toMatchObject({ status: "SUCCEEDED", output: String(Number(d.input) * 2) });
  });

  it("validates the request as GetActivityTask: an unknown activity", async () => {
    const client = sfnConnect(tg.url);
    const s = client.streamActivityTaskBatches({ activityArn: "arn:aws:states:us-east-1:000000000000:activity:nobody" })[Symbol.asyncIterator]();
    expect(await faultOf(s.next())).toBe("ActivityDoesNotExist");
  });
});

describe.each(stores)("Data Pipeline StreamTaskBatches (%s)", (kind) => {
  let tg: DpGate;
  beforeAll(async () => {
    tg = await startDp({ kind, longPollSeconds: 0.3 });
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  it("delivers a pipeline's ready tasks in one message within the credit; RespondPipelineTasks settles them", async () => {
    const wg = `batches-${kind}`;
    const { pipelineId } = await tg.dp.send(new CreatePipelineCommand({ name: "batches", uniqueId: `batches-${kind}` }));
    await tg.dp.send(
      new PutPipelineDefinitionCommand({
        pipelineId,
        pipelineObjects: objectsOf([
          { id: "Default", scheduleType: "ondemand", workerGroup: wg },
          { id: "A", type: "ShellCommandActivity", command: "true" },
          { id: "B", type: "ShellCommandActivity", command: "true" },
          { id: "C", type: "ShellCommandActivity", command: "true" },
        ]),
      }),
    );
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId }));
    const ac = new AbortController();
    const it = tg.connect.streamTaskBatches({ workerGroup: wg, hostname: "batcher", maxInFlight: 2 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const got: string[] = [];
    try {
      while (got.length < 3) {
        const m = await next(it);
        expect(m.tasks.length).toBeLessThanOrEqual(2);
        for (const t of m.tasks) {
          expect(t.pipelineId).toBe(pipelineId);
          expect(t.objects[t.attemptId!]).toBeDefined();
          got.push(t.attemptId!.split("_")[0]);
        }
        const r = await tg.connect.respondPipelineTasks({ statuses: m.tasks.map((t) => ({ entry: { case: "status" as const, value: { taskId: t.taskId, taskStatus: TaskStatus.FINISHED } } })) });
        expect(r.results.every((x) => x.fault === undefined)).toBe(true);
      }
    } finally {
      ac.abort();
    }
    expect(new Set(got)).toEqual(new Set(["@A", "@B", "@C"]));
  });

  it("validates the request as PollForTask: a worker group too long", async () => {
    const s = tg.connect.streamTaskBatches({ workerGroup: "w".repeat(1025) })[Symbol.asyncIterator]();
    const single = tg.connect.streamTasks({ workerGroup: "w".repeat(1025) })[Symbol.asyncIterator]();
    const f = await faultOf(s.next());
    expect(f).toBe("ValidationException");
    expect(await faultOf(single.next())).toBe(f);
  });
});
