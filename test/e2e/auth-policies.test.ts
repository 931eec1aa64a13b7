// SWF policies enforced on the AWS JSON route, with @aws-sdk/client-swf: a worker limited to one
// domain and to task lists by swf:taskList.name (SWF's access-control rules for the poll
// operations), refused elsewhere with OperationNotPermittedFault; an explicit Deny over an Allow;
// the operations that carry only a task token authorized on the task's domain; each decision
// authorized as its own action, a refused one recorded as its *Failed event with cause
// OPERATION_NOT_PERMITTED while the others apply.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import {
  CountPendingActivityTasksCommand,
  GetWorkflowExecutionHistoryCommand,
  RecordActivityTaskHeartbeatCommand,
  RespondActivityTaskFailedCommand,
  ListDomainsCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RegisterDomainCommand,
  RespondActivityTaskCompletedCommand,
  RespondDecisionTaskCompletedCommand,
  SWFClient,
} from "@aws-sdk/client-swf";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { DecisionType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freshStore, type StoreLocation } from "../helpers/harness.ts";
import { setupDomain, start, type Fixture } from "../helpers/swf.ts";

const ACCOUNT = "123456789012";

const admin = {
  name: "admin",
  accessKeyId: "AKIATASKGATEADMIN001",
  secretAccessKey: "admin-secret-0123456789abcdef",
  policies: [
    { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
    { Version: "2012-10-17", Statement: [{ Sid: "NoProd", Effect: "Deny", Action: "swf:RegisterDomain", Resource: `arn:aws:swf:*:${ACCOUNT}:/domain/prod-*` }] },
  ],
};

/** Filled in once the domains exist: the worker may poll the first domain's activity list and "urgent". */
function workerPrincipal(f: Fixture) {
  return {
    name: "worker",
    accessKeyId: "AKIATASKGATEWORKER01",
    secretAccessKey: "worker-secret-0123456789abcdef",
    policies: [
      {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "PollOneDomainTwoLists",
            Effect: "Allow",
            Action: ["swf:PollForActivityTask", "swf:CountPendingActivityTasks"],
            Resource: `arn:aws:swf:*:${ACCOUNT}:/domain/${f.domain}`,
            Condition: { StringEquals: { "swf:taskList.name": [f.activityList, "urgent"] } },
          },
          // The token operations have no condition keys: the domain is all a policy can name.
          { Sid: "Report", Effect: "Allow", Action: ["swf:RespondActivityTaskCompleted", "swf:RecordActivityTaskHeartbeat"], Resource: `arn:aws:swf:*:${ACCOUNT}:/domain/${f.domain}` },
        ],
      },
    ],
  };
}

/** A decider that may schedule activities only on the domain's activity list, start timers and record markers, but not close executions. */
function deciderPrincipal(f: Fixture) {
  const domain = `arn:aws:swf:*:${ACCOUNT}:/domain/${f.domain}`;
  return {
    name: "decider",
    accessKeyId: "AKIATASKGATEDECIDER1",
    secretAccessKey: "decider-secret-0123456789abcdef",
    policies: [
      {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["swf:PollForDecisionTask", "swf:RespondDecisionTaskCompleted", "swf:StartTimer", "swf:RecordMarker"], Resource: domain },
          { Effect: "Allow", Action: "swf:ScheduleActivityTask", Resource: domain, Condition: { StringEquals: { "swf:taskList.name": f.activityList } } },
        ],
      },
    ],
  };
}

function client(url: string, p: { accessKeyId: string; secretAccessKey: string }): SWFClient {
  return new SWFClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }, maxAttempts: 1, requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }) });
}

async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to be refused");
}

describe("SWF policies on the AWS JSON route", () => {
  let app: App;
  let server: RunningServer;
  let store: StoreLocation;
  let dir = "";
  let url = "";
  let f: Fixture;
  let other: Fixture;
  let adminSwf: SWFClient;
  let workerSwf: SWFClient;
  let deciderSwf: SWFClient;
  let decider: ReturnType<typeof deciderPrincipal>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-auth-"));
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [admin] }));
    store = freshStore("sqlite");
    const config: Config = { ...defaults, port: 0, database: store.database, longPollSeconds: 0.3, logLevel: "silent", shutdownGraceSeconds: 1, auth: "sigv4", authFile: file, accountId: ACCOUNT };
    const logger = pino({ level: "silent" });
    app = await createApp(config, logger);
    server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
    url = `http://127.0.0.1:${server.port}`;
    adminSwf = client(url, admin);
    f = await setupDomain(adminSwf);
    other = await setupDomain(adminSwf);
    const worker = workerPrincipal(f);
    decider = deciderPrincipal(f);
    writeFileSync(file, JSON.stringify({ principals: [admin, worker, decider] }));
    expect(server.reloadCredentials()).toEqual({ ok: true, principals: 3 });
    workerSwf = client(url, worker);
    deciderSwf = client(url, decider);
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await store?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the worker polls its domain's allowed task lists", async () => {
    const empty = await workerSwf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: "urgent" } }));
    expect(empty.taskToken).toBeUndefined();
    await expect(workerSwf.send(new CountPendingActivityTasksCommand({ domain: f.domain, taskList: { name: f.activityList } }))).resolves.toMatchObject({ count: 0 });
  });

  const denied: { name: string; call: () => { domain: string; list: string; op: "activity" | "decision" } }[] = [
    { name: "another task list of its domain", call: () => ({ domain: f.domain, list: "other", op: "activity" }) },
    { name: "its task list in another domain", call: () => ({ domain: other.domain, list: f.activityList, op: "activity" }) },
    { name: "an action its policy does not list", call: () => ({ domain: f.domain, list: f.activityList, op: "decision" }) },
  ];
  it.each(denied.map((d) => [d.name, d] as const))("the worker is refused %s with OperationNotPermittedFault", async (_name, d) => {
    const { domain, list, op } = d.call();
    const command = op === "activity" ? new PollForActivityTaskCommand({ domain, taskList: { name: list } }) : new PollForDecisionTaskCommand({ domain, taskList: { name: list } });
    const got = await refusal(workerSwf.send(command as PollForActivityTaskCommand));
    const action = op === "activity" ? "swf:PollForActivityTask" : "swf:PollForDecisionTask";
    expect(got).toEqual({
      name: "OperationNotPermittedFault",
      status: 400,
      message: `User: arn:aws:iam::${ACCOUNT}:user/worker is not authorized to perform: ${action} on resource: arn:aws:swf:us-east-1:${ACCOUNT}:/domain/${domain} because no identity-based policy allows the ${action} action`,
    });
  });

  it("ListDomains needs swf:ListDomains on every domain", async () => {
    expect((await refusal(workerSwf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" })))).name).toBe("OperationNotPermittedFault");
    await expect(adminSwf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }))).resolves.toBeDefined();
  });

  it("an explicit Deny wins over the admin's Allow", async () => {
    const got = await refusal(adminSwf.send(new RegisterDomainCommand({ name: "prod-eu", workflowExecutionRetentionPeriodInDays: "1" })));
    expect(got.name).toBe("OperationNotPermittedFault");
    expect(got.message).toBe(`User: arn:aws:iam::${ACCOUNT}:user/admin is not authorized to perform: swf:RegisterDomain on resource: arn:aws:swf:us-east-1:${ACCOUNT}:/domain/prod-eu with an explicit deny in an identity-based policy`);
    await expect(adminSwf.send(new RegisterDomainCommand({ name: "staging-eu", workflowExecutionRetentionPeriodInDays: "1" }))).resolves.toBeDefined();
  });

  it("the worker receives and completes a task of its list; a token operation its policy lacks is refused and changes nothing", async () => {
    await start(adminSwf, f, "wf-policy");
    const decision = await adminSwf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    await adminSwf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: decision.taskToken,
        decisions: [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "a1", activityType: f.activityType } }],
      }),
    );
    const task = await workerSwf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
    expect(task.activityId).toBe("a1");
    await expect(workerSwf.send(new RecordActivityTaskHeartbeatCommand({ taskToken: task.taskToken }))).resolves.toMatchObject({ cancelRequested: false });
    const failed = await refusal(workerSwf.send(new RespondActivityTaskFailedCommand({ taskToken: task.taskToken, reason: "no" })));
    expect(failed).toEqual({
      name: "OperationNotPermittedFault",
      status: 400,
      message: `User: arn:aws:iam::${ACCOUNT}:user/worker is not authorized to perform: swf:RespondActivityTaskFailed on resource: arn:aws:swf:us-east-1:${ACCOUNT}:/domain/${f.domain} because no identity-based policy allows the swf:RespondActivityTaskFailed action`,
    });
    // The refusal changed nothing: the task is still the worker's to complete.
    await expect(workerSwf.send(new RespondActivityTaskCompletedCommand({ taskToken: task.taskToken, result: "ok" }))).resolves.toBeDefined();
  });

  it("a decider's refused decisions become their *Failed events with OPERATION_NOT_PERMITTED while the others apply", async () => {
    const runId = await start(adminSwf, f, "wf-decider");
    const refused = await refusal(workerSwf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } })));
    expect(refused.name).toBe("OperationNotPermittedFault");
    // The earlier test's execution has a decision task too: answer it with no decisions.
    let decision = await deciderSwf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    for (let i = 0; i < 3 && decision.workflowExecution?.runId !== runId; i++) {
      await deciderSwf.send(new RespondDecisionTaskCompletedCommand({ taskToken: decision.taskToken, decisions: [] }));
      decision = await deciderSwf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    }
    expect(decision.workflowExecution?.runId).toBe(runId);
    await deciderSwf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: decision.taskToken,
        decisions: [
          { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "forbidden", activityType: f.activityType, taskList: { name: "forbidden-list" } } },
          { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "allowed", activityType: f.activityType, taskList: { name: f.activityList } } },
          { decisionType: "StartTimer", startTimerDecisionAttributes: { timerId: "t1", startToFireTimeout: "3600" } },
          { decisionType: "RecordMarker", recordMarkerDecisionAttributes: { markerName: "m1" } },
          { decisionType: "CompleteWorkflowExecution", completeWorkflowExecutionDecisionAttributes: { result: "done" } },
        ],
      }),
    );
    const history = await adminSwf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId: "wf-decider", runId } }));
    const after = history.events!.slice(history.events!.findIndex((e) => e.eventType === "DecisionTaskCompleted") + 1);
    expect(after.map((e) => e.eventType)).toEqual(["ScheduleActivityTaskFailed", "ActivityTaskScheduled", "TimerStarted", "MarkerRecorded", "CompleteWorkflowExecutionFailed", "DecisionTaskScheduled"]);
    expect(after[0].scheduleActivityTaskFailedEventAttributes).toMatchObject({ activityId: "forbidden", cause: "OPERATION_NOT_PERMITTED" });
    expect(after[4].completeWorkflowExecutionFailedEventAttributes).toMatchObject({ cause: "OPERATION_NOT_PERMITTED" });
  });

  it.each(["connect", "grpc"] as const)("%s: the same decision rules apply on the RPC routes", async (kind) => {
    const bearer: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${decider.accessKeyId}:${decider.secretAccessKey}`);
      return next(req);
    };
    const transport = kind === "connect" ? createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [bearer] }) : createGrpcTransport({ baseUrl: url, interceptors: [bearer] });
    const rpc = createClient(SimpleWorkflowService, transport);
    const runId = await start(adminSwf, f, `wf-rpc-${kind}`);
    let task = await rpc.pollForDecisionTask({ domain: f.domain, taskList: { name: f.decisionList } });
    for (let i = 0; i < 3 && task.workflowExecution?.runId !== runId; i++) {
      await rpc.respondDecisionTaskCompleted({ taskToken: task.taskToken, decisions: [] });
      task = await rpc.pollForDecisionTask({ domain: f.domain, taskList: { name: f.decisionList } });
    }
    expect(task.workflowExecution?.runId).toBe(runId);
    await rpc.respondDecisionTaskCompleted({
      taskToken: task.taskToken,
      decisions: [
        { decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK, scheduleActivityTaskDecisionAttributes: { activityId: "no", activityType: f.activityType, taskList: { name: "forbidden-list" } } },
        { decisionType: DecisionType.RECORD_MARKER, recordMarkerDecisionAttributes: { markerName: "m" } },
      ],
    });
    const history = await adminSwf.send(new GetWorkflowExecutionHistoryCommand({ domain: f.domain, execution: { workflowId: `wf-rpc-${kind}`, runId } }));
    const after = history.events!.slice(history.events!.findIndex((e) => e.eventType === "DecisionTaskCompleted") + 1);
    expect(after.map((e) => e.eventType)).toEqual(["ScheduleActivityTaskFailed", "MarkerRecorded", "DecisionTaskScheduled"]);
    expect(after[0].scheduleActivityTaskFailedEventAttributes?.cause).toBe("OPERATION_NOT_PERMITTED");
  });
});
