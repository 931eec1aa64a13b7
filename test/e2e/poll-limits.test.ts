// Polls and streams held at once per queue on a node, through the clients users run, on both
// stores: past --max-polls-per-task-list an SWF poll is LimitExceededFault and a Data Pipeline
// poll ThrottlingException; past --max-activity-pollers a Step Functions poll is
// ActivityWorkerLimitExceeded; a task stream counts against the same limit as the polls of its
// queue (whichever comes second is refused); a fault the request earns anyway (validation, an
// unknown domain or activity) comes first; the held call still receives its task, and the queue
// admits again once it ends.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PollForActivityTaskCommand, PollForDecisionTaskCommand } from "@aws-sdk/client-swf";
import { CreateActivityCommand, GetActivityTaskCommand, StartExecutionCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { DataPipelineClient, PollForTaskCommand } from "@aws-sdk/client-data-pipeline";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DataPipelineService } from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { setupDomain, start } from "../helpers/swf.ts";
import { connectClient, machineWith, prefix, sfnClient } from "./sfn-client.ts";

interface Outcome {
  ok: boolean;
  name?: string;
  message?: string;
  status?: number;
}

/** How an SDK call ended. */
async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return { ok: true };
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { ok: false, name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
}

/** How a stream's first step ended: a refusal (its fault), or a task. Pending while the stream waits. */
function firstStep(it: AsyncIterator<unknown>): Promise<Outcome> {
  return it.next().then(
    () => ({ ok: true }),
    (e: unknown) => {
      const f = faultFromConnectError(ConnectError.from(e));
      return { ok: false, name: f?.name, message: f?.message };
    },
  );
}

/**
 * A poll and a stream of one queue sent together with a limit of 1: whichever the server admits
 * second is refused at once (the other holds), with `fault`. The stream is then ended.
 */
async function oneRefused(poll: () => Promise<unknown>, stream: (signal: AbortSignal) => AsyncIterable<unknown>, fault: string): Promise<void> {
  const ac = new AbortController();
  const s = firstStep(stream(ac.signal)[Symbol.asyncIterator]());
  const p = outcome(poll());
  expect(await Promise.race([s, p])).toMatchObject({ ok: false, name: fault });
  ac.abort();
  await Promise.all([s, p]);
}

const hold = 2;

describe.each(stores)("polls and streams held per queue (%s)", (kind) => {
  let tg: Taskgate;
  let sfn: SFNClient;
  let dp: DataPipelineClient;
  let dpRpc: Client<typeof DataPipelineService>;

  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: hold, config: { maxPollsPerTaskList: 1, maxActivityPollers: 1 } });
    sfn = sfnClient(tg.url);
    dp = new DataPipelineClient({ endpoint: tg.url, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1, requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }) });
    dpRpc = createClient(DataPipelineService, createConnectTransport({ baseUrl: tg.url, httpVersion: "1.1" }));
  });
  afterAll(async () => {
    sfn?.destroy();
    dp?.destroy();
    await tg?.destroy();
  });

  it("SWF: a second decision poll is LimitExceededFault, worded as before; the held one receives the task", async () => {
    const f = await setupDomain(tg.swf);
    const poll = () => tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    const a = poll();
    const b = poll();
    expect(await outcome(Promise.race([a, b]))).toEqual({
      ok: false,
      name: "LimitExceededFault",
      message: "More than 1 PollForDecisionTask calls are held on this task list; retry when one returns.",
      status: 400,
    });
    const runId = await start(tg.swf, f, "wf-poll-limit");
    const served = (await Promise.allSettled([a, b])).filter((g) => g.status === "fulfilled");
    expect(served).toHaveLength(1);
    expect((served[0] as PromiseFulfilledResult<{ workflowExecution?: { runId?: string } }>).value.workflowExecution?.runId).toBe(runId);
    // The held poll ended: the list admits again (and this one finds nothing).
    expect((await poll()).taskToken).toBeUndefined();
  });

  it("SWF: activity polls past the limit are LimitExceededFault; validation and an unknown domain come first", async () => {
    const f = await setupDomain(tg.swf);
    const poll = (o: { domain?: string; identity?: string } = {}) => tg.swf.send(new PollForActivityTaskCommand({ domain: o.domain ?? f.domain, taskList: { name: f.activityList }, identity: o.identity }));
    const a = poll();
    const b = poll();
    expect(await outcome(Promise.race([a, b]))).toMatchObject({ ok: false, name: "LimitExceededFault", message: "More than 1 PollForActivityTask calls are held on this task list; retry when one returns." });
    // The list is full; these fail for what they are.
    expect(await outcome(poll({ identity: "x".repeat(257) }))).toMatchObject({ ok: false, name: "ValidationException" });
    expect(await outcome(poll({ domain: `${f.domain}-unknown` }))).toMatchObject({ ok: false, name: "UnknownResourceFault" });
    // The decision list of the same name is another queue: admitted.
    const decision = outcome(tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.activityList } })));
    await Promise.allSettled([a, b]);
    expect(await decision).toEqual({ ok: true });
  });

  it("SWF: a decision stream holding the list refuses a poll; once it ends, polls are admitted", async () => {
    const f = await setupDomain(tg.swf);
    const ac = new AbortController();
    const it = tg.connect.streamDecisionTasks({ domain: f.domain, taskList: { name: f.decisionList }, maxInFlight: 1 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const first = it.next();
    await start(tg.swf, f, "wf-stream-limit");
    // The stream received the task, so it holds the list.
    expect((await first).value).toMatchObject({ workflowType: { name: "order" } });
    expect(await outcome(tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } })))).toMatchObject({
      ok: false,
      name: "LimitExceededFault",
    });
    ac.abort();
    await it.return?.().catch(() => undefined);
    // The stream's end gives its slot back (the server sees the abort a moment later).
    let last: Outcome = { ok: false };
    for (let i = 0; i < 50 && !last.ok; i++) {
      last = await outcome(tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } })));
      if (!last.ok) await new Promise((r) => setTimeout(r, 50));
    }
    expect(last.ok).toBe(true);
  });

  it("SWF: an activity stream and a poll of one list count against the same limit", async () => {
    const f = await setupDomain(tg.swf);
    await oneRefused(
      () => tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } })),
      (signal) => tg.connect.streamActivityTasks({ domain: f.domain, taskList: { name: f.activityList } }, { signal }),
      "LimitExceededFault",
    );
  });

  it("Step Functions: GetActivityTask past --max-activity-pollers is ActivityWorkerLimitExceeded; ActivityDoesNotExist comes first", async () => {
    const { activityArn } = await sfn.send(new CreateActivityCommand({ name: `limit-${kind}` }));
    const both = [sfn.send(new GetActivityTaskCommand({ activityArn })), sfn.send(new GetActivityTaskCommand({ activityArn }))];
    expect(await outcome(Promise.race(both))).toMatchObject({
      ok: false,
      name: "ActivityWorkerLimitExceeded",
      message: `Activity Worker Limit Exceeded: 1 GetActivityTask calls already wait on 'limit-${kind}' on this server.`,
    });
    expect(await outcome(sfn.send(new GetActivityTaskCommand({ activityArn: `${prefix}:activity:nobody` })))).toMatchObject({ ok: false, name: "ActivityDoesNotExist" });
    await Promise.allSettled(both);
  });

  it("Step Functions: a stream holding an activity refuses GetActivityTask, and the other way round", async () => {
    const rpc = connectClient(tg.url);
    const { activityArn, stateMachineArn } = await machineWith(sfn, `stream-limit-${kind}`, (a) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } }));
    const ac = new AbortController();
    const it = rpc.streamActivityTasks({ activityArn, maxInFlight: 1 }, { signal: ac.signal })[Symbol.asyncIterator]();
    const first = it.next();
    await sfn.send(new StartExecutionCommand({ stateMachineArn, input: "{}" }));
    expect((await first).value).toMatchObject({ input: "{}" });
    expect(await outcome(sfn.send(new GetActivityTaskCommand({ activityArn })))).toMatchObject({ ok: false, name: "ActivityWorkerLimitExceeded" });
    ac.abort();
    await it.return?.().catch(() => undefined);
    const { activityArn: other } = await sfn.send(new CreateActivityCommand({ name: `stream-race-${kind}` }));
    await oneRefused(
      () => sfn.send(new GetActivityTaskCommand({ activityArn: other })),
      (signal) => rpc.streamActivityTasks({ activityArn: other }, { signal }),
      "ActivityWorkerLimitExceeded",
    );
  });

  it("Data Pipeline: a second poll of a worker group is ThrottlingException; a stream counts as a poll", async () => {
    const wg = `wg-limit-${kind}`;
    const both = await Promise.all([outcome(dp.send(new PollForTaskCommand({ workerGroup: wg }))), outcome(dp.send(new PollForTaskCommand({ workerGroup: wg })))]);
    expect(both.filter((o) => o.ok)).toHaveLength(1);
    expect(both.find((o) => !o.ok)).toEqual({ ok: false, name: "ThrottlingException", message: "More than 1 PollForTask calls are held on this worker group; retry when one returns.", status: 400 });
    await oneRefused(
      () => dp.send(new PollForTaskCommand({ workerGroup: `${wg}-stream` })),
      (signal) => dpRpc.streamTasks({ workerGroup: `${wg}-stream` }, { signal }),
      "ThrottlingException",
    );
  });
});
