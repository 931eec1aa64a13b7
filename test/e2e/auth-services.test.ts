// Policies on Step Functions and Data Pipeline (AccessDeniedException, HTTP 400, on the AWS JSON
// route) and on the RPC routes (PERMISSION_DENIED with the AWS fault in the error detail), with
// the clients users run: @aws-sdk/client-sfn, @aws-sdk/client-data-pipeline, the Connect node client.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { CreateActivityCommand, ListActivitiesCommand, ListStateMachinesCommand, SFNClient } from "@aws-sdk/client-sfn";
import { CreatePipelineCommand, DataPipelineClient, ListPipelinesCommand } from "@aws-sdk/client-data-pipeline";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { StepFunctionsService } from "../../gen/taskgate/sfn/v1/service_pb.ts";
import { DataPipelineService } from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { freshStore, type StoreLocation } from "../helpers/harness.ts";

const ACCOUNT = "123456789012";
const states = `arn:aws:states:us-east-1:${ACCOUNT}`;

/** May create and list activities named team-*, list pipelines, and list SWF domains over RPC: nothing else. */
const limited = {
  name: "limited",
  accessKeyId: "AKIATASKGATELIMITED1",
  secretAccessKey: "limited-secret-0123456789abcdef",
  policies: [
    {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["states:CreateActivity", "states:DescribeActivity"], Resource: `${states}:activity:team-*` },
        { Effect: "Allow", Action: ["states:ListActivities", "datapipeline:ListPipelines"], Resource: "*" },
        // Never true here: the connection is cleartext (tls.test.ts has the TLS side).
        { Effect: "Allow", Action: "states:ListStateMachines", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } },
      ],
    },
  ],
};

const credentials = { accessKeyId: limited.accessKeyId, secretAccessKey: limited.secretAccessKey };

async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to be refused");
}

async function rpcError(p: Promise<unknown>): Promise<{ code: Code; fault: string | undefined; message: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = ConnectError.from(e);
    const f = faultFromConnectError(err);
    return { code: err.code, fault: f?.name, message: f?.message };
  }
  throw new Error("expected the call to fail");
}

const bearer: Interceptor = (next) => (req) => {
  req.header.set("authorization", `Bearer ${limited.accessKeyId}:${limited.secretAccessKey}`);
  return next(req);
};

describe("policies on Step Functions, Data Pipeline and the RPC routes", () => {
  let app: App;
  let server: RunningServer;
  let store: StoreLocation;
  let dir = "";
  let url = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-auth-services-"));
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [limited] }));
    store = freshStore("sqlite");
    const config: Config = { ...defaults, port: 0, database: store.database, longPollSeconds: 0.3, logLevel: "silent", shutdownGraceSeconds: 1, auth: "sigv4", authFile: file, accountId: ACCOUNT };
    const logger = pino({ level: "silent" });
    app = await createApp(config, logger);
    server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
    url = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await store?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("Step Functions: an allowed activity is created, another name is AccessDeniedException", async () => {
    const sfn = new SFNClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 });
    await expect(sfn.send(new CreateActivityCommand({ name: "team-a" }))).resolves.toMatchObject({ activityArn: `${states}:activity:team-a` });
    await expect(sfn.send(new ListActivitiesCommand({}))).resolves.toBeDefined();
    expect((await refusal(sfn.send(new ListStateMachinesCommand({})))).name).toBe("AccessDeniedException");
    expect(await refusal(sfn.send(new CreateActivityCommand({ name: "other" })))).toEqual({
      name: "AccessDeniedException",
      status: 400,
      message: `User: arn:aws:iam::${ACCOUNT}:user/limited is not authorized to perform: states:CreateActivity on resource: ${states}:activity:other because no identity-based policy allows the states:CreateActivity action`,
    });
  });

  it("Data Pipeline: ListPipelines is allowed, CreatePipeline is AccessDeniedException", async () => {
    const dp = new DataPipelineClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 });
    await expect(dp.send(new ListPipelinesCommand({}))).resolves.toBeDefined();
    const got = await refusal(dp.send(new CreatePipelineCommand({ name: "p", uniqueId: "u1" })));
    expect(got).toMatchObject({ name: "AccessDeniedException", status: 400 });
    expect(got.message).toContain("datapipeline:CreatePipeline on resource: *");
  });

  const transports = {
    connect: () => createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [bearer] }),
    grpc: () => createGrpcTransport({ baseUrl: url, interceptors: [bearer] }),
  };
  const kinds = Object.keys(transports) as (keyof typeof transports)[];

  it.each(kinds)("%s: an allowed call is served, a refused one is PERMISSION_DENIED naming the AWS fault", async (kind) => {
    const sfn = createClient(StepFunctionsService, transports[kind]());
    await expect(sfn.describeActivity({ activityArn: `${states}:activity:team-a` })).resolves.toMatchObject({ name: "team-a" });
    expect(await rpcError(sfn.createActivity({ name: "elsewhere" }))).toEqual({
      code: Code.PermissionDenied,
      fault: "AccessDeniedException",
      message: `User: arn:aws:iam::${ACCOUNT}:user/limited is not authorized to perform: states:CreateActivity on resource: ${states}:activity:elsewhere because no identity-based policy allows the states:CreateActivity action`,
    });
    const swf = createClient(SimpleWorkflowService, transports[kind]());
    expect(await rpcError(swf.listDomains({ registrationStatus: RegistrationStatus.REGISTERED }))).toMatchObject({ code: Code.PermissionDenied, fault: "OperationNotPermittedFault" });
    // A task stream is authorized as its poll operation before anything is held.
    const stream = async () => {
      for await (const _ of swf.streamActivityTasks({ domain: "d", taskList: { name: "l" } })) break;
    };
    expect(await rpcError(stream())).toMatchObject({ code: Code.PermissionDenied, fault: "OperationNotPermittedFault" });
    // So are the batch streams of every service.
    const batches = async () => {
      for await (const _ of swf.streamActivityTaskBatches({ domain: "d", taskList: { name: "l" } })) break;
    };
    expect(await rpcError(batches())).toMatchObject({ code: Code.PermissionDenied, fault: "OperationNotPermittedFault" });
    const sfnBatches = async () => {
      for await (const _ of sfn.streamActivityTaskBatches({ activityArn: `${states}:activity:team-a` })) break;
    };
    expect(await rpcError(sfnBatches())).toMatchObject({ code: Code.PermissionDenied, fault: "AccessDeniedException", message: expect.stringContaining("states:GetActivityTask on resource") });
    const dp = createClient(DataPipelineService, transports[kind]());
    const dpBatches = async () => {
      for await (const _ of dp.streamTaskBatches({ workerGroup: "wg" })) break;
    };
    expect(await rpcError(dpBatches())).toMatchObject({ code: Code.PermissionDenied, fault: "AccessDeniedException", message: expect.stringContaining("datapipeline:PollForTask") });
  });
});
