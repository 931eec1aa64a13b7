// Data Pipeline under --auth sigv4: a task runner receives only tasks of pipelines its own
// account created (AWS: "launched using the IAM user credentials specified by the task runner"),
// on both stores, by PollForTask on the AWS JSON route and StreamTasks on the RPC route; the
// account's tasks are its own runners' and nothing is lost.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { ActivatePipelineCommand, CreatePipelineCommand, DataPipelineClient, PollForTaskCommand, PutPipelineDefinitionCommand, SetTaskStatusCommand } from "@aws-sdk/client-data-pipeline";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DataPipelineService } from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freshStore, openStore, stores, type StoreLocation } from "../helpers/harness.ts";
import { objectsOf } from "./datapipeline-helpers.ts";

const SERVER_ACCOUNT = "111111111111";
const everything = [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }];
/** Of the server's own account (no accountId). */
const alice = { name: "alice", accessKeyId: "AKIATASKGATEDPALICE1", secretAccessKey: "dp-alice-secret-0123456789", policies: everything };
const bob = { name: "bob", accessKeyId: "AKIATASKGATEDPBOB001", secretAccessKey: "dp-bob-secret-0123456789", accountId: "222222222222", policies: everything };
const bea = { name: "bea", accessKeyId: "AKIATASKGATEDPBEA001", secretAccessKey: "dp-bea-secret-0123456789", accountId: "222222222222", policies: everything };

function client(url: string, p: { accessKeyId: string; secretAccessKey: string }): DataPipelineClient {
  return new DataPipelineClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }, maxAttempts: 1 });
}

/** Creates and activates an on-demand pipeline of one shell activity on `workerGroup`, as `dp`'s principal. */
async function launch(dp: DataPipelineClient, name: string, workerGroup: string): Promise<string> {
  const { pipelineId } = await dp.send(new CreatePipelineCommand({ name, uniqueId: name }));
  const put = await dp.send(
    new PutPipelineDefinitionCommand({
      pipelineId,
      pipelineObjects: objectsOf([
        { id: "Default", scheduleType: "ondemand" },
        { id: "Say", type: "ShellCommandActivity", command: "echo hi", workerGroup },
      ]),
    }),
  );
  expect(put.errored).toBe(false);
  await dp.send(new ActivatePipelineCommand({ pipelineId }));
  return pipelineId!;
}

describe.each(stores)("Data Pipeline tasks stay within the creating account (%s)", (kind) => {
  let app: App;
  let server: RunningServer;
  let store: StoreLocation;
  let dir = "";
  let url = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-dp-auth-"));
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [alice, bob, bea] }));
    store = freshStore(kind);
    const config: Config = { ...defaults, port: 0, database: store.database, longPollSeconds: 0.3, logLevel: "silent", shutdownGraceSeconds: 1, auth: "sigv4", authFile: file, accountId: SERVER_ACCOUNT };
    const logger = pino({ level: "silent" });
    app = await createApp(config, logger, { db: await openStore(store) });
    server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
    url = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await store?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a runner of one account never receives a task of another account's pipeline on the same worker group", async () => {
    const a = client(url, alice);
    const b = client(url, bob);
    const alicePipeline = await launch(a, `alice-${kind}`, "shared-wg");
    // bob's account has no pipeline on the worker group: the empty answer, alice's task stays.
    expect((await b.send(new PollForTaskCommand({ workerGroup: "shared-wg" }))).taskObject).toBeUndefined();
    const bobPipeline = await launch(b, `bob-${kind}`, "shared-wg");
    // bea, bob's colleague, receives bob's task; alice receives hers.
    const forBea = (await client(url, bea).send(new PollForTaskCommand({ workerGroup: "shared-wg" }))).taskObject;
    expect(forBea?.pipelineId).toBe(bobPipeline);
    const forAlice = (await a.send(new PollForTaskCommand({ workerGroup: "shared-wg" }))).taskObject;
    expect(forAlice?.pipelineId).toBe(alicePipeline);
    await client(url, bea).send(new SetTaskStatusCommand({ taskId: forBea?.taskId, taskStatus: "FINISHED" }));
    await a.send(new SetTaskStatusCommand({ taskId: forAlice?.taskId, taskStatus: "FINISHED" }));
  });

  it("StreamTasks on the RPC route follows the same rule", async () => {
    const bobPipeline = await launch(client(url, bob), `bob-stream-${kind}`, "stream-wg");
    await launch(client(url, alice), `alice-stream-${kind}`, "stream-wg");
    const bearer: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${bob.accessKeyId}:${bob.secretAccessKey}`);
      return next(req);
    };
    const rpc = createClient(DataPipelineService, createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [bearer] }));
    const abort = new AbortController();
    const seen: string[] = [];
    for await (const t of rpc.streamTasks({ workerGroup: "stream-wg" }, { signal: abort.signal })) {
      seen.push(t.pipelineId ?? "");
      // The streamed taskId is sealed for bob's account and taken on the AWS JSON route.
      expect(t.taskId?.startsWith("tg1.")).toBe(true);
      await client(url, bob).send(new SetTaskStatusCommand({ taskId: t.taskId, taskStatus: "FINISHED" }));
      break;
    }
    abort.abort();
    expect(seen).toEqual([bobPipeline]);
  });
});
