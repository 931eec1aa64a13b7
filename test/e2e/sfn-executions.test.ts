// Step Functions executions end to end through @aws-sdk/client-sfn on both stores: the activity
// cycle, every state type, Retry with back-off, Catch, timeouts, Parallel and Map fanning out to
// workers, StopExecution, the execution operations and their errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DescribeExecutionCommand,
  DescribeStateMachineForExecutionCommand,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { closed, failure, historyOf, machineWith, sfnClient, types } from "./sfn-client.ts";

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

  it("runs the activity cycle: start, GetActivityTask, heartbeat, success, SUCCEEDED with the output", async () => {
    const { activityArn, stateMachineArn } = await machineWith(sfn, fresh("cycle"), (a) => ({
      StartAt: "Work",
      States: { Work: { Type: "Task", Resource: a, HeartbeatSeconds: 30, End: true } },
    }));
    const { executionArn, startDate } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "e1", input: '{"n":1}' }));
    expect(startDate).toBeInstanceOf(Date);
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName: "w1" }));
    expect(task.input).toBe('{"n":1}');
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"done":true}' }));
    const d = await closed(sfn, executionArn!);
    expect(d).toMatchObject({ status: "SUCCEEDED", output: '{"done":true}', input: '{"n":1}', name: "e1", stateMachineArn });
    expect(d.stopDate).toBeInstanceOf(Date);
    const h = await historyOf(sfn, executionArn!);
    expect(types(h)).toEqual(["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]);
    expect(h[3].activityStartedEventDetails?.workerName).toBe("w1");
    expect(h[2].activityScheduledEventDetails).toMatchObject({ resource: activityArn, input: '{"n":1}', heartbeatInSeconds: 30 });
    // The token is spent: a second answer is TaskTimedOut.
    expect((await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: "{}" })))).name).toBe("TaskTimedOut");
  });
});
