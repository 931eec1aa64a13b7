// Task and page tokens bound to the caller's account (--auth sigv4): a token handed to a principal
// of one account is refused when a principal of another account presents it, on the AWS JSON
// route and on the RPC routes, and accepted from any principal of the same account, across routes.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import {
  ListDomainsCommand,
  PollForDecisionTaskCommand,
  RegisterDomainCommand,
  RespondActivityTaskCompletedCommand,
  RespondDecisionTaskCompletedCommand,
  SWFClient,
} from "@aws-sdk/client-swf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { freshStore, type StoreLocation } from "../helpers/harness.ts";
import { setupDomain, start, type Fixture } from "../helpers/swf.ts";

const ACCOUNT = "111111111111";
const everything = [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }];
const alice = { name: "alice", accessKeyId: "AKIATASKGATEALICE001", secretAccessKey: "alice-secret-0123456789abcdef", policies: everything };
const alex = { name: "alex", accessKeyId: "AKIATASKGATEALEX0001", secretAccessKey: "alex-secret-0123456789abcdef", accountId: ACCOUNT, policies: everything };
const bob = { name: "bob", accessKeyId: "AKIATASKGATEBOB00001", secretAccessKey: "bob-secret-0123456789abcdef", accountId: "222222222222", policies: everything };

function client(url: string, p: { accessKeyId: string; secretAccessKey: string }): SWFClient {
  return new SWFClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }, maxAttempts: 1 });
}

function rpc(url: string, p: { accessKeyId: string; secretAccessKey: string }) {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${p.accessKeyId}:${p.secretAccessKey}`);
    return next(req);
  };
  return createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [bearer] }));
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof ConnectError ? `${Code[e.code]} ${faultFromConnectError(e)?.name}` : (e as Error).name;
  }
  throw new Error("expected the call to be refused");
}

describe("tokens bound to the caller's account", () => {
  let app: App;
  let server: RunningServer;
  let store: StoreLocation;
  let dir = "";
  let url = "";
  let f: Fixture;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-tokens-"));
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [alice, alex, bob] }));
    store = freshStore("sqlite");
    const config: Config = { ...defaults, port: 0, database: store.database, longPollSeconds: 0.3, logLevel: "silent", shutdownGraceSeconds: 1, auth: "sigv4", authFile: file, accountId: ACCOUNT };
    const logger = pino({ level: "silent" });
    app = await createApp(config, logger);
    server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
    url = `http://127.0.0.1:${server.port}`;
    f = await setupDomain(client(url, alice));
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await store?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a task token is refused from another account and accepted from the same account, across routes", async () => {
    const a = client(url, alice);
    await start(a, f, "wf-tokens");
    const task = await a.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    expect(task.taskToken?.startsWith("tg1.")).toBe(true);
    const decisions = [{ decisionType: "ScheduleActivityTask" as const, scheduleActivityTaskDecisionAttributes: { activityId: "a1", activityType: f.activityType } }];
    expect(await refusal(client(url, bob).send(new RespondDecisionTaskCompletedCommand({ taskToken: task.taskToken, decisions })))).toBe("UnknownResourceFault");
    // alex is another principal of alice's account.
    await client(url, alex).send(new RespondDecisionTaskCompletedCommand({ taskToken: task.taskToken, decisions }));

    const activity = await rpc(url, alice).pollForActivityTask({ domain: f.domain, taskList: { name: f.activityList } });
    expect(activity.taskToken?.startsWith("tg1.")).toBe(true);
    expect(await refusal(rpc(url, bob).respondActivityTaskCompleted({ taskToken: activity.taskToken, result: "x" }))).toBe("NotFound UnknownResourceFault");
    // The token handed out on the RPC route is taken on the AWS JSON route.
    await expect(a.send(new RespondActivityTaskCompletedCommand({ taskToken: activity.taskToken, result: "ok" }))).resolves.toBeDefined();
  });

  it("a task streamed on the RPC route carries a sealed token", async () => {
    const a = client(url, alice);
    await start(a, f, "wf-stream");
    const task = await a.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
    await a.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: task.taskToken,
        decisions: [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "s1", activityType: f.activityType } }],
      }),
    );
    let token = "";
    for await (const t of rpc(url, alice).streamActivityTasks({ domain: f.domain, taskList: { name: f.activityList } })) {
      token = t.taskToken ?? "";
      break;
    }
    expect(token.startsWith("tg1.")).toBe(true);
    expect(await refusal(client(url, bob).send(new RespondActivityTaskCompletedCommand({ taskToken: token, result: "x" })))).toBe("UnknownResourceFault");
    await expect(a.send(new RespondActivityTaskCompletedCommand({ taskToken: token, result: "ok" }))).resolves.toBeDefined();
  });

  it("a page token is refused from another account", async () => {
    const a = client(url, alice);
    await a.send(new RegisterDomainCommand({ name: "tokens-second", workflowExecutionRetentionPeriodInDays: "1" }));
    const page = await a.send(new ListDomainsCommand({ registrationStatus: "REGISTERED", maximumPageSize: 1 }));
    expect(page.nextPageToken?.startsWith("tg1.")).toBe(true);
    expect(await refusal(client(url, bob).send(new ListDomainsCommand({ registrationStatus: "REGISTERED", maximumPageSize: 1, nextPageToken: page.nextPageToken })))).toBe("ValidationException");
    const next = await client(url, alex).send(new ListDomainsCommand({ registrationStatus: "REGISTERED", maximumPageSize: 1, nextPageToken: page.nextPageToken }));
    expect(next.domainInfos).toHaveLength(1);
    expect(next.domainInfos?.[0].name).not.toBe(page.domainInfos?.[0].name);
  });
});
