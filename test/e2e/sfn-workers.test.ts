// Step Functions activity workers on both stores: long polls (empty after the hold, woken at once,
// an aborted poll gives its task back), the poller limit, every error of the worker operations,
// and taskgate's own StreamActivityTasks and RespondActivityTasks through the Connect client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateActivityCommand,
  GetActivityTaskCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { ConnectError } from "@connectrpc/connect";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { eventually } from "../helpers/eventually.ts";
import { closed, connectClient, failure, machineWith, prefix, sfnClient } from "./sfn-client.ts";

const hold = 1;

describe.each(stores)("Step Functions activity workers (%s)", (kind) => {
  let tg: Taskgate;
  let sfn: SFNClient;
  let n = 0;
  const fresh = (base: string) => `${base}-${++n}`;
  const oneTask = (a: string) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } });

  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: hold, config: { maxActivityPollers: 3 } });
    sfn = sfnClient(tg.url);
  });
  afterAll(async () => {
    sfn?.destroy();
    await tg?.destroy();
  });

  it("answers an idle poll with the empty result after the hold time", async () => {
    const { activityArn } = await sfn.send(new CreateActivityCommand({ name: fresh("idle") }));
    const t0 = Date.now();
    const r = await sfn.send(new GetActivityTaskCommand({ activityArn }));
    expect(r.taskToken).toBeUndefined();
    expect(r.input).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(hold * 1000 * 0.9);
  });

  it("wakes a waiting poll within milliseconds of StartExecution", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("wake"), oneTask);
    const poll = sfn.send(new GetActivityTaskCommand({ activityArn, workerName: "quick" })).then((r) => ({ r, at: Date.now() }));
    await new Promise((r) => setTimeout(r, 100));
    await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{"w":1}' }));
    const startedAt = Date.now();
    const { r, at } = await poll;
    expect(r.input).toBe('{"w":1}');
    expect(at - startedAt).toBeLessThan(300);
  });

  it("gives the task of an aborted poll back: the next poll receives it", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("abort"), oneTask);
    const ac = new AbortController();
    const gone = sfn.send(new GetActivityTaskCommand({ activityArn }), { abortSignal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await gone;
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const t = await eventually(async () => {
      const r = await sfn.send(new GetActivityTaskCommand({ activityArn }));
      if (!r.taskToken) throw new Error("no task");
      return r;
    });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: t.taskToken, output: "1" }));
    expect((await closed(sfn, executionArn!)).status).toBe("SUCCEEDED");
  });

  it("refuses a poll past --max-activity-pollers on one activity with ActivityWorkerLimitExceeded", async () => {
    const { activityArn } = await sfn.send(new CreateActivityCommand({ name: fresh("limit") }));
    // Four at once: three are held (for the hold time), whichever arrives fourth is refused at once.
    const polls = Array.from({ length: 4 }, () => sfn.send(new GetActivityTaskCommand({ activityArn })));
    expect((await failure(Promise.race(polls))).name).toBe("ActivityWorkerLimitExceeded");
    expect((await Promise.allSettled(polls)).filter((p) => p.status === "rejected")).toHaveLength(1);
    // The held polls ended: polls are accepted again.
    expect((await sfn.send(new GetActivityTaskCommand({ activityArn }))).taskToken).toBeUndefined();
  });

  it("answers every error of the worker operations as AWS names it", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("errors"), oneTask);
    await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const t = await sfn.send(new GetActivityTaskCommand({ activityArn }));
    const unknown = "A".repeat(24);
    const cases: { name: string; send: () => Promise<unknown>; error: string }[] = [
      { name: "poll of an unknown activity", send: () => sfn.send(new GetActivityTaskCommand({ activityArn: `${prefix}:activity:nobody` })), error: "ActivityDoesNotExist" },
      { name: "poll with a state machine ARN", send: () => sfn.send(new GetActivityTaskCommand({ activityArn: stateMachineArn })), error: "InvalidArn" },
      { name: "malformed token (success)", send: () => sfn.send(new SendTaskSuccessCommand({ taskToken: "t", output: "{}" })), error: "InvalidToken" },
      { name: "malformed token (failure)", send: () => sfn.send(new SendTaskFailureCommand({ taskToken: "t" })), error: "InvalidToken" },
      { name: "malformed token (heartbeat)", send: () => sfn.send(new SendTaskHeartbeatCommand({ taskToken: "t" })), error: "InvalidToken" },
      { name: "unknown token (success)", send: () => sfn.send(new SendTaskSuccessCommand({ taskToken: unknown, output: "{}" })), error: "TaskDoesNotExist" },
      { name: "unknown token (failure)", send: () => sfn.send(new SendTaskFailureCommand({ taskToken: unknown })), error: "TaskDoesNotExist" },
      { name: "unknown token (heartbeat)", send: () => sfn.send(new SendTaskHeartbeatCommand({ taskToken: unknown })), error: "TaskDoesNotExist" },
      { name: "output that is not JSON", send: () => sfn.send(new SendTaskSuccessCommand({ taskToken: t.taskToken, output: "{oops" })), error: "InvalidOutput" },
      { name: "output over 256 KiB of UTF-8", send: () => sfn.send(new SendTaskSuccessCommand({ taskToken: t.taskToken, output: JSON.stringify("é".repeat(140_000)) })), error: "InvalidOutput" },
      { name: "error over 256 characters", send: () => sfn.send(new SendTaskFailureCommand({ taskToken: t.taskToken, error: "e".repeat(257) })), error: "ValidationException" },
      { name: "cause over 32768 characters", send: () => sfn.send(new SendTaskFailureCommand({ taskToken: t.taskToken, cause: "c".repeat(32769) })), error: "ValidationException" },
    ];
    for (const c of cases) expect((await failure(c.send())).name, c.name).toBe(c.error);
    // None of the refused answers touched the task: it still succeeds once, then is spent.
    await sfn.send(new SendTaskFailureCommand({ taskToken: t.taskToken, error: "E", cause: "C" }));
    expect((await failure(sfn.send(new SendTaskFailureCommand({ taskToken: t.taskToken })))).name).toBe("TaskTimedOut");
  });

  it("streams tasks with an in-flight credit and answers a batch outcome by outcome (Connect)", async () => {
    const client = connectClient(tg.url);
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("stream"), oneTask);
    const executions = await Promise.all([1, 2, 3].map((i) => sfn.send(new StartExecutionCommand({ stateMachineArn, input: String(i) }))));
    const ac = new AbortController();
    const stream = client.streamActivityTasks({ activityArn, workerName: "streamer", maxInFlight: 2 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const first = [(await stream.next()).value!, (await stream.next()).value!];
    expect(new Set(first.map((t) => t.input)).size).toBe(2);
    for (const t of first) expect(["1", "2", "3"]).toContain(t.input);
    // The credit is spent: the third task waits until an answer gives one back.
    const third = stream.next();
    const early = await Promise.race([third.then(() => "task"), new Promise((r) => setTimeout(() => r("none"), 200))]);
    expect(early).toBe("none");
    const r = await client.respondActivityTasks({
      outcomes: [
        { outcome: { case: "success", value: { taskToken: first[0].taskToken, output: JSON.stringify(Number(first[0].input) * 10) } } },
        { outcome: { case: "failure", value: { taskToken: "B".repeat(24), error: "X" } } },
        { outcome: { case: "success", value: { taskToken: first[1].taskToken, output: "{bad" } } },
      ],
    });
    expect(r.results.map((x) => x.fault?.name ?? "ok")).toEqual(["ok", "TaskDoesNotExist", "InvalidOutput"]);
    const last = (await third).value!;
    const r2 = await client.respondActivityTasks({
      outcomes: [
        { outcome: { case: "success", value: { taskToken: first[1].taskToken, output: JSON.stringify(Number(first[1].input) * 10) } } },
        { outcome: { case: "failure", value: { taskToken: last.taskToken, error: "Nope", cause: "no" } } },
        { outcome: { case: "failure", value: { taskToken: last.taskToken, error: "Twice" } } },
      ],
    });
    expect(r2.results.map((x) => x.fault?.name ?? "ok")).toEqual(["ok", "ok", "TaskTimedOut"]);
    ac.abort();
    const ends = await Promise.all(executions.map((e) => closed(sfn, e.executionArn!)));
    const byInput = new Map(ends.map((d) => [d.input, d]));
    for (const t of [first[0], first[1]]) expect(byInput.get(t.input)).toMatchObject({ status: "SUCCEEDED", output: String(Number(t.input) * 10) });
    expect(byInput.get(last.input)).toMatchObject({ status: "FAILED", error: "Nope", cause: "no" });
  });

  it("refuses an empty or oversized batch and a stream of an unknown activity (Connect)", async () => {
    const client = connectClient(tg.url);
    const err = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return faultFromConnectError(ConnectError.from(e))?.name;
      }
      return "no error";
    };
    expect(await err(client.respondActivityTasks({ outcomes: [] }))).toBe("ValidationException");
    expect(await err(client.respondActivityTasks({ outcomes: Array.from({ length: 1001 }, () => ({ outcome: { case: "failure" as const, value: { taskToken: "C".repeat(24) } } })) }))).toBe("ValidationException");
    const s = client.streamActivityTasks({ activityArn: `${prefix}:activity:nobody` })[Symbol.asyncIterator]();
    expect(await err(s.next())).toBe("ActivityDoesNotExist");
  });
});
