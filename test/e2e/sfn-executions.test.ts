// Step Functions executions end to end through @aws-sdk/client-sfn on both stores: the activity
// cycle, every state type, Retry with back-off, Catch, timeouts, Parallel and Map fanning out to
// workers, StopExecution, the execution operations and their errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { eventually } from "../helpers/eventually.ts";
import { closed, failure, historyOf, machineWith, prefix, role, sfnClient, types } from "./sfn-client.ts";

/** A definition without activities, its input, and how its execution ends. */
interface PureCase {
  name: string;
  definition: object;
  input?: string;
  status: string;
  output?: unknown;
  error?: string;
  cause?: string;
  /** Event types that must appear in the history. */
  events?: string[];
}

const pure: PureCase[] = [
  { name: "Pass with Result and ResultPath", definition: { StartAt: "P", States: { P: { Type: "Pass", Result: { x: 1 }, ResultPath: "$.r", End: true } } }, input: '{"a":0}', status: "SUCCEEDED", output: { a: 0, r: { x: 1 } }, events: ["PassStateEntered", "PassStateExited"] },
  {
    name: "Choice picks the matching branch",
    definition: { StartAt: "C", States: { C: { Type: "Choice", Choices: [{ Variable: "$.n", NumericGreaterThan: 5, Next: "Big" }], Default: "Small" }, Big: { Type: "Pass", Result: "big", End: true }, Small: { Type: "Pass", Result: "small", End: true } } },
    input: '{"n":9}',
    status: "SUCCEEDED",
    output: "big",
    events: ["ChoiceStateEntered", "ChoiceStateExited"],
  },
  { name: "Wait until a timestamp in the past", definition: { StartAt: "W", States: { W: { Type: "Wait", Timestamp: "2020-01-01T00:00:00Z", End: true } } }, status: "SUCCEEDED", output: {}, events: ["WaitStateEntered", "WaitStateExited"] },
  { name: "Succeed", definition: { StartAt: "S", States: { S: { Type: "Succeed" } } }, input: '{"k":"v"}', status: "SUCCEEDED", output: { k: "v" }, events: ["SucceedStateEntered", "SucceedStateExited"] },
  { name: "Fail with error and cause", definition: { StartAt: "F", States: { F: { Type: "Fail", Error: "Nope", Cause: "because" } } }, status: "FAILED", error: "Nope", cause: "because", events: ["FailStateEntered", "ExecutionFailed"] },
  {
    name: "Parallel of two Pass branches",
    definition: { StartAt: "Par", States: { Par: { Type: "Parallel", End: true, Branches: [{ StartAt: "A", States: { A: { Type: "Pass", Result: 1, End: true } } }, { StartAt: "B", States: { B: { Type: "Pass", Result: 2, End: true } } }] } } },
    status: "SUCCEEDED",
    output: [1, 2],
    events: ["ParallelStateEntered", "ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateExited"],
  },
  {
    name: "Map over items",
    definition: { StartAt: "M", States: { M: { Type: "Map", ItemsPath: "$.items", End: true, ItemProcessor: { StartAt: "D", States: { D: { Type: "Pass", End: true } } } } } },
    input: '{"items":[1,2,3]}',
    status: "SUCCEEDED",
    output: [1, 2, 3],
    events: ["MapStateEntered", "MapStateStarted", "MapIterationStarted", "MapIterationSucceeded", "MapStateSucceeded", "MapStateExited"],
  },
  { name: "the machine's TimeoutSeconds ends a long Wait", definition: { TimeoutSeconds: 1, StartAt: "W", States: { W: { Type: "Wait", Seconds: 300, End: true } } }, status: "TIMED_OUT", events: ["ExecutionTimedOut"] },
  { name: "a JSONPath error fails the execution", definition: { StartAt: "P", States: { P: { Type: "Pass", InputPath: "$.missing", End: true } } }, status: "FAILED", error: "States.Runtime" },
];

describe.each(stores)("Step Functions executions (%s)", (kind) => {
  let tg: Taskgate;
  let sfn: SFNClient;
  let n = 0;
  const fresh = (base: string) => `${base}-${++n}`;

  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 0.3 });
    sfn = sfnClient(tg.url);
  });
  afterAll(async () => {
    sfn?.destroy();
    await tg?.destroy();
  });

  /** Starts an execution of a new state machine of `definition`. */
  async function run(definition: object, input?: string): Promise<{ executionArn: string; stateMachineArn: string }> {
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: fresh("m"), definition: JSON.stringify(definition), roleArn: role }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input }));
    return { executionArn: executionArn!, stateMachineArn: stateMachineArn! };
  }

  /** Polls one task of an activity (fails when none comes). */
  async function take(activityArn: string, workerName = "w") {
    const t = await eventually(async () => {
      const r = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName }));
      if (!r.taskToken) throw new Error("no task yet");
      return r;
    });
    return { token: t.taskToken!, input: t.input! };
  }

  it("runs the activity cycle: start, GetActivityTask, heartbeat, success, SUCCEEDED with the output", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("cycle"), (a) => ({
      StartAt: "Work",
      States: { Work: { Type: "Task", Resource: a, HeartbeatSeconds: 30, End: true } },
    }));
    const { executionArn, startDate } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "e1", input: '{"n":1}' }));
    expect(executionArn).toBe(`${stateMachineArn!.replace(":stateMachine:", ":execution:")}:e1`);
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName: "w1" }));
    expect(task.input).toBe('{"n":1}');
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"done":true}' }));
    const d = await closed(sfn, executionArn!);
    expect(d).toMatchObject({ status: "SUCCEEDED", output: '{"done":true}', input: '{"n":1}', name: "e1", stateMachineArn, startDate, inputDetails: { included: true } });
    expect(d.stopDate!.getTime()).toBeGreaterThanOrEqual(startDate!.getTime());
    const h = await historyOf(sfn, executionArn!);
    expect(types(h)).toEqual(["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]);
    expect(h.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(h[3].activityStartedEventDetails?.workerName).toBe("w1");
    expect(h[2].activityScheduledEventDetails).toMatchObject({ resource: activityArn, input: '{"n":1}', heartbeatInSeconds: 30 });
    // The token is spent: a second answer is TaskTimedOut, as on AWS.
    expect(await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: "{}" })))).toEqual({ name: "TaskTimedOut", message: "Task Timed Out: 'Provided task does not exist anymore'" });
    expect((await failure(sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken })))).name).toBe("TaskTimedOut");
  });

  it.each(pure)("runs every state type: $name", async (c) => {
    const { executionArn } = await run(c.definition, c.input);
    const d = await closed(sfn, executionArn);
    expect(d.status).toBe(c.status);
    if (c.output !== undefined) expect(JSON.parse(d.output!)).toEqual(c.output);
    if (c.error !== undefined) expect(d.error).toBe(c.error);
    if (c.cause !== undefined) expect(d.cause).toBe(c.cause);
    const h = types(await historyOf(sfn, executionArn));
    for (const t of c.events ?? []) expect(h).toContain(t);
  });

  it("waits Seconds on a durable timer", async () => {
    const { executionArn } = await run({ StartAt: "W", States: { W: { Type: "Wait", Seconds: 1, End: true } } });
    const d = await closed(sfn, executionArn);
    expect(d.status).toBe("SUCCEEDED");
    const h = await historyOf(sfn, executionArn);
    const entered = h.find((e) => e.type === "WaitStateEntered")!.timestamp!.getTime();
    const exited = h.find((e) => e.type === "WaitStateExited")!.timestamp!.getTime();
    expect(exited - entered).toBeGreaterThanOrEqual(1000);
  });

  it("retries a failed task with back-off (IntervalSeconds 1, BackoffRate 2), then catches the last failure", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("retry"), (a) => ({
      StartAt: "Work",
      States: {
        Work: {
          Type: "Task",
          Resource: a,
          Retry: [{ ErrorEquals: ["Boom"], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
          Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.caught", Next: "Handled" }],
          End: true,
        },
        Handled: { Type: "Pass", End: true },
      },
    }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{"k":1}' }));
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t = await take(activityArn);
      tokens.push(t.token);
      await sfn.send(new SendTaskFailureCommand({ taskToken: t.token, error: "Boom", cause: `attempt ${i}` }));
      // A token is bound to its attempt: the retried task has a new one.
      expect((await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: t.token, output: "{}" })))).name).toBe("TaskTimedOut");
    }
    expect(new Set(tokens).size).toBe(3);
    const d = await closed(sfn, executionArn!);
    expect(d.status).toBe("SUCCEEDED");
    expect(JSON.parse(d.output!)).toEqual({ k: 1, caught: { Error: "Boom", Cause: "attempt 2" } });
    const h = await historyOf(sfn, executionArn!);
    const scheduled = h.filter((e) => e.type === "ActivityScheduled").map((e) => e.timestamp!.getTime());
    const failed = h.filter((e) => e.type === "ActivityFailed").map((e) => e.timestamp!.getTime());
    expect(scheduled).toHaveLength(3);
    expect(scheduled[1] - failed[0]).toBeGreaterThanOrEqual(1000);
    expect(scheduled[2] - failed[1]).toBeGreaterThanOrEqual(2000);
    expect(h.filter((e) => e.type === "ActivityFailed").map((e) => e.activityFailedEventDetails?.error)).toEqual(["Boom", "Boom", "Boom"]);
  });

  const timeouts = [
    // AWS records a heartbeat timeout as States.Timeout; only Retry and Catch tell it apart by States.HeartbeatTimeout.
    { name: "heartbeat timeout of a started task", task: { HeartbeatSeconds: 1, TimeoutSeconds: 30 }, poll: true, catches: "States.HeartbeatTimeout", status: "SUCCEEDED", error: undefined },
    { name: "heartbeat timeout (uncaught)", task: { HeartbeatSeconds: 1, TimeoutSeconds: 30 }, poll: true, catches: "Other", status: "FAILED", error: "States.Timeout" },
    { name: "task timeout of a task never polled", task: { TimeoutSeconds: 1 }, poll: false, catches: "States.HeartbeatTimeout", status: "FAILED", error: "States.Timeout" },
  ];
  it.each(timeouts)("ends on the $name; its token answers TaskTimedOut", async (c) => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("timeout"), (a) => ({
      StartAt: "Work",
      States: { Work: { Type: "Task", Resource: a, ...c.task, Catch: [{ ErrorEquals: [c.catches], Next: "Caught" }], End: true }, Caught: { Type: "Pass", End: true } },
    }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const t = c.poll ? await take(activityArn) : undefined;
    const d = await closed(sfn, executionArn!);
    expect(d.status).toBe(c.status);
    expect(d.error).toBe(c.error);
    expect(types(await historyOf(sfn, executionArn!))).toContain("ActivityTimedOut");
    if (t) expect((await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: t.token, output: "{}" })))).name).toBe("TaskTimedOut");
  });

  it("keeps a task alive with heartbeats past its HeartbeatSeconds", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("beat"), (a) => ({ StartAt: "Work", States: { Work: { Type: "Task", Resource: a, HeartbeatSeconds: 1, End: true } } }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const t = await take(activityArn);
    const until = Date.now() + 1600;
    while (Date.now() < until) {
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: t.token }));
      await new Promise((r) => setTimeout(r, 200));
    }
    await sfn.send(new SendTaskSuccessCommand({ taskToken: t.token, output: '"ok"' }));
    expect(await closed(sfn, executionArn!)).toMatchObject({ status: "SUCCEEDED", output: '"ok"' });
  });

  it("fans Parallel branches and Map iterations out to activity workers", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("fan"), (a) => ({
      StartAt: "Par",
      States: {
        Par: {
          Type: "Parallel",
          Next: "Each",
          Branches: [
            { StartAt: "A", States: { A: { Type: "Task", Resource: a, End: true } } },
            { StartAt: "B", States: { B: { Type: "Task", Resource: a, End: true } } },
          ],
        },
        Each: { Type: "Map", ItemsPath: "$[0].items", End: true, ItemProcessor: { StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } } },
      },
    }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{"items":[1,2,3]}' }));
    const double = async (count: number) => {
      const tasks = await Promise.all(Array.from({ length: count }, () => take(activityArn)));
      await Promise.all(
        tasks.map((t) => {
          const v = JSON.parse(t.input) as number | { items: number[] };
          return sfn.send(new SendTaskSuccessCommand({ taskToken: t.token, output: JSON.stringify(typeof v === "number" ? v * 2 : v) }));
        }),
      );
    };
    await double(2);
    await double(3);
    const d = await closed(sfn, executionArn!);
    expect(d.status).toBe("SUCCEEDED");
    expect(JSON.parse(d.output!)).toEqual([2, 4, 6]);
  });

  it("stops an execution while a worker holds its task: ABORTED, the token refused afterwards", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("stop"), (a) => ({ StartAt: "Work", States: { Work: { Type: "Task", Resource: a, End: true } } }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const t = await take(activityArn);
    const { stopDate } = await sfn.send(new StopExecutionCommand({ executionArn, error: "Halt", cause: "operator" }));
    expect(stopDate).toBeInstanceOf(Date);
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(d).toMatchObject({ status: "ABORTED", error: "Halt", cause: "operator", stopDate });
    expect(types(await historyOf(sfn, executionArn!)).at(-1)).toBe("ExecutionAborted");
    for (const send of [
      () => sfn.send(new SendTaskSuccessCommand({ taskToken: t.token, output: "{}" })),
      () => sfn.send(new SendTaskFailureCommand({ taskToken: t.token })),
      () => sfn.send(new SendTaskHeartbeatCommand({ taskToken: t.token })),
    ])
      expect((await failure(send())).name).toBe("TaskTimedOut");
    // Stopping again changes nothing.
    expect((await sfn.send(new StopExecutionCommand({ executionArn }))).stopDate).toEqual(stopDate);
    // No task is left for a worker.
    expect((await sfn.send(new GetActivityTaskCommand({ activityArn }))).taskToken).toBeUndefined();
  });

  it("fails a Task whose activity does not exist with ActivityScheduleFailed", async () => {
    const { executionArn } = await run({ StartAt: "T", States: { T: { Type: "Task", Resource: `${prefix}:activity:never-created`, End: true } } });
    const d = await closed(sfn, executionArn);
    expect(d.status).toBe("FAILED");
    expect(types(await historyOf(sfn, executionArn))).toContain("ActivityScheduleFailed");
  });

  it("starts idempotently: same name and input of a RUNNING execution → same ARN and start date; otherwise ExecutionAlreadyExists", async () => {
    const { stateMachineArn } = await machineWith(sfn, fresh("idem"), (a) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } }));
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "same", input: '{"a":1}' }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "same", input: '{"a":1}' }));
    expect(again).toMatchObject({ executionArn: first.executionArn, startDate: first.startDate });
    expect((await failure(sfn.send(new StartExecutionCommand({ stateMachineArn, name: "same", input: '{"a":2}' })))).name).toBe("ExecutionAlreadyExists");
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
    expect((await failure(sfn.send(new StartExecutionCommand({ stateMachineArn, name: "same", input: '{"a":1}' })))).name).toBe("ExecutionAlreadyExists");
  });

  it("answers every StartExecution error as AWS names it", async () => {
    const { stateMachineArn } = await run({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });
    const cases = [
      { input: { stateMachineArn, input: "{not json" }, error: "InvalidExecutionInput" },
      // Within the model's 262,144 characters, but more than 256 KiB of UTF-8.
      { input: { stateMachineArn, input: JSON.stringify({ s: "é".repeat(140_000) }) }, error: "InvalidExecutionInput" },
      { input: { stateMachineArn, name: "bad name" }, error: "InvalidName" },
      { input: { stateMachineArn: "arn:aws:states:us-east-1:000000000000:activity:x" }, error: "InvalidArn" },
      { input: { stateMachineArn: `${prefix}:stateMachine:nobody` }, error: "StateMachineDoesNotExist" },
    ];
    for (const c of cases) expect((await failure(sfn.send(new StartExecutionCommand(c.input)))).name, JSON.stringify(c.input).slice(0, 80)).toBe(c.error);
  });

  it("deletes a state machine with running executions only when the last closes (DELETING meanwhile)", async () => {
    const { stateMachineArn } = await machineWith(sfn, fresh("del"), (a) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn }));
    expect((await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }))).status).toBe("DELETING");
    expect((await failure(sfn.send(new StartExecutionCommand({ stateMachineArn })))).name).toBe("StateMachineDeleting");
    await sfn.send(new StopExecutionCommand({ executionArn }));
    expect((await failure(sfn.send(new DescribeStateMachineCommand({ stateMachineArn })))).name).toBe("StateMachineDoesNotExist");
    // The execution is still described.
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe("ABORTED");
  });

  it("runs the definition it started with: UpdateStateMachine changes only later executions", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("upd"), (a) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, Next: "Old" }, Old: { Type: "Pass", Result: "old", End: true } } }));
    const before = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const newDefinition = JSON.stringify({ StartAt: "New", States: { New: { Type: "Pass", Result: "new", End: true } } });
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition: newDefinition }));
    const forExec = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn }));
    expect(forExec).toMatchObject({ stateMachineArn, definition: before.definition, roleArn: role, revisionId: before.revisionId });
    const t = await take(activityArn);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: t.token, output: "{}" }));
    expect(await closed(sfn, executionArn!)).toMatchObject({ status: "SUCCEEDED", output: '"old"' });
    const later = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    expect(await closed(sfn, later.executionArn!)).toMatchObject({ status: "SUCCEEDED", output: '"new"' });
    expect((await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: later.executionArn }))).definition).toBe(newDefinition);
  });

  it("lists executions newest first, by status, in pages", async () => {
    const { stateMachineArn } = await machineWith(sfn, fresh("list"), (a) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } }));
    const arns: string[] = [];
    for (let i = 0; i < 5; i++) arns.push((await sfn.send(new StartExecutionCommand({ stateMachineArn, name: `x${i}` }))).executionArn!);
    await sfn.send(new StopExecutionCommand({ executionArn: arns[1] }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken }));
      expect(page.executions!.length).toBeLessThanOrEqual(2);
      seen.push(...page.executions!.map((e) => e.executionArn!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(new Set(seen)).toEqual(new Set(arns));
    const starts = await Promise.all(seen.map(async (a) => (await sfn.send(new DescribeExecutionCommand({ executionArn: a }))).startDate!.getTime()));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    const aborted = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: "ABORTED" }));
    expect(aborted.executions!.map((e) => [e.executionArn, e.status])).toEqual([[arns[1], "ABORTED"]]);
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: "RUNNING" }))).executions).toHaveLength(4);
    expect((await failure(sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken: "garbage" })))).name).toBe("InvalidToken");
    expect((await failure(sfn.send(new ListExecutionsCommand({ stateMachineArn: `${prefix}:stateMachine:nobody` })))).name).toBe("StateMachineDoesNotExist");
    for (const a of arns) await sfn.send(new StopExecutionCommand({ executionArn: a }));
  });

  it("pages the history forwards and in reverse, and leaves out inputs and outputs without includeExecutionData", async () => {
    const { executionArn } = await run({ StartAt: "A", States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", Next: "C" }, C: { Type: "Pass", End: true } } }, '{"secret":1}');
    await closed(sfn, executionArn);
    const all = await historyOf(sfn, executionArn);
    expect(all).toHaveLength(8);
    const pages = async (reverseOrder: boolean) => {
      const ids: number[] = [];
      let nextToken: string | undefined;
      do {
        const r = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 3, reverseOrder, nextToken }));
        ids.push(...r.events!.map((e) => e.id!));
        nextToken = r.nextToken;
      } while (nextToken);
      return ids;
    };
    expect(await pages(false)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await pages(true)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    const bare = await sfn.send(new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }));
    expect(bare.events![0].executionStartedEventDetails).toEqual({ roleArn: role });
    expect(bare.events![1].stateEnteredEventDetails).toEqual({ name: "A" });
    expect(all[0].executionStartedEventDetails).toMatchObject({ input: '{"secret":1}', inputDetails: { truncated: false } });
  });

  it("answers ExecutionDoesNotExist and InvalidArn for the execution operations", async () => {
    const missing = `${prefix}:execution:nobody:none`;
    for (const send of [
      () => sfn.send(new DescribeExecutionCommand({ executionArn: missing })),
      () => sfn.send(new StopExecutionCommand({ executionArn: missing })),
      () => sfn.send(new GetExecutionHistoryCommand({ executionArn: missing })),
      () => sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: missing })),
    ]) {
      expect(await failure(send())).toEqual({ name: "ExecutionDoesNotExist", message: `Execution Does Not Exist: '${missing}'` });
    }
    expect((await failure(sfn.send(new DescribeExecutionCommand({ executionArn: `${prefix}:stateMachine:m` })))).name).toBe("InvalidArn");
  });
});
