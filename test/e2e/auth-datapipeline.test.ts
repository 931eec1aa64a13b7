// Data Pipeline under --auth sigv4: a task runner receives only tasks of pipelines its own
// principal launched (AWS: "launched using the IAM user credentials specified by the task
// runner"), or principals of its account its policy grants through datapipeline:PipelineCreator,
// on both stores, by PollForTask on the AWS JSON route and StreamTasks on the RPC route; another
// principal's task ids answer TaskNotFoundException; nothing is lost. With --auth off every runner
// shares the worker group's tasks.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { ActivatePipelineCommand, CreatePipelineCommand, DataPipelineClient, PollForTaskCommand, PutPipelineDefinitionCommand, ReportTaskProgressCommand, SetTaskStatusCommand } from "@aws-sdk/client-data-pipeline";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DataPipelineService } from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freshStore, openStore, stores, type StoreLocation } from "../helpers/harness.ts";
import { failure, objectsOf } from "./datapipeline-helpers.ts";

const SERVER_ACCOUNT = "111111111111";
const everything = [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }];
/** Of the server's own account (no accountId). */
const alice = { name: "alice", accessKeyId: "AKIATASKGATEDPALICE1", secretAccessKey: "dp-alice-secret-0123456789", policies: everything };
const bob = { name: "bob", accessKeyId: "AKIATASKGATEDPBOB001", secretAccessKey: "dp-bob-secret-0123456789", accountId: "222222222222", policies: everything };
const bea = { name: "bea", accessKeyId: "AKIATASKGATEDPBEA001", secretAccessKey: "dp-bea-secret-0123456789", accountId: "222222222222", policies: everything };
/** alice's colleague in the server's account: a blanket Allow grants no other principal's pipelines. */
const carl = { name: "carl", accessKeyId: "AKIATASKGATEDPCARL01", secretAccessKey: "dp-carl-secret-0123456789", policies: everything };
/** In the server's account, granted alice's pipelines (not carl's) by datapipeline:PipelineCreator. */
const dana = {
  name: "dana",
  accessKeyId: "AKIATASKGATEDPDANA01",
  secretAccessKey: "dp-dana-secret-0123456789",
  policies: [
    ...everything,
    {
      Version: "2012-10-17",
      Statement: [{ Sid: "ServeAlice", Effect: "Allow", Action: "datapipeline:PollForTask", Resource: "*", Condition: { StringEquals: { "datapipeline:PipelineCreator": ["alice"] } } }],
    },
  ],
};
/** Granted every creator by StringLike, but alice's pipelines denied explicitly: the Deny wins. */
const eve = {
  name: "eve",
  accessKeyId: "AKIATASKGATEDPEVE001",
  secretAccessKey: "dp-eve-secret-0123456789",
  policies: [
    ...everything,
    {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "datapipeline:PollForTask", Resource: "*", Condition: { StringLike: { "datapipeline:PipelineCreator": "*" } } },
        { Effect: "Deny", Action: "datapipeline:PollForTask", Resource: "*", Condition: { StringEquals: { "datapipeline:PipelineCreator": "alice" } } },
      ],
    },
  ],
};

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

describe.each(stores)("Data Pipeline tasks stay with the launching principal (%s)", (kind) => {
  let app: App;
  let server: RunningServer;
  let store: StoreLocation;
  let dir = "";
  let url = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-dp-auth-"));
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [alice, bob, bea, carl, dana, eve] }));
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
    // bea, bob's colleague, is granted nothing of bob's: bob receives his own task.
    expect((await client(url, bea).send(new PollForTaskCommand({ workerGroup: "shared-wg" }))).taskObject).toBeUndefined();
    const forBea = (await b.send(new PollForTaskCommand({ workerGroup: "shared-wg" }))).taskObject;
    expect(forBea?.pipelineId).toBe(bobPipeline);
    const forAlice = (await a.send(new PollForTaskCommand({ workerGroup: "shared-wg" }))).taskObject;
    expect(forAlice?.pipelineId).toBe(alicePipeline);
    await b.send(new SetTaskStatusCommand({ taskId: forBea?.taskId, taskStatus: "FINISHED" }));
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

  it("a runner never receives another principal's task of its own account, nor acts on its task id", async () => {
    const a = client(url, alice);
    const c = client(url, carl);
    const carlPipeline = await launch(c, `carl-${kind}`, "team-wg");
    expect((await a.send(new PollForTaskCommand({ workerGroup: "team-wg" }))).taskObject).toBeUndefined();
    const alicePipeline = await launch(a, `alice-team-${kind}`, "team-wg");
    const forAlice = (await a.send(new PollForTaskCommand({ workerGroup: "team-wg" }))).taskObject;
    expect(forAlice?.pipelineId).toBe(alicePipeline);
    // alice's task id in carl's hands names nothing he may serve.
    expect((await failure(c.send(new SetTaskStatusCommand({ taskId: forAlice?.taskId, taskStatus: "FINISHED" })))).name).toBe("TaskNotFoundException");
    expect((await failure(c.send(new ReportTaskProgressCommand({ taskId: forAlice?.taskId })))).name).toBe("TaskNotFoundException");
    const forCarl = (await c.send(new PollForTaskCommand({ workerGroup: "team-wg" }))).taskObject;
    expect(forCarl?.pipelineId).toBe(carlPipeline);
    await a.send(new SetTaskStatusCommand({ taskId: forAlice?.taskId, taskStatus: "FINISHED" }));
    await c.send(new SetTaskStatusCommand({ taskId: forCarl?.taskId, taskStatus: "FINISHED" }));
  });

  it.each([
    { runner: "dana", policy: "StringEquals on PipelineCreator names alice", serves: ["alice"] },
    { runner: "eve", policy: "StringLike * on PipelineCreator, alice denied", serves: ["carl"] },
  ])("$runner's policy ($policy) grants exactly those creators' tasks", async ({ runner, serves }) => {
    const who = runner === "dana" ? dana : eve;
    const r = client(url, who);
    const wg = `grant-${runner}-wg`;
    const launched = new Map([
      ["alice", await launch(client(url, alice), `alice-${runner}-${kind}`, wg)],
      ["carl", await launch(client(url, carl), `carl-${runner}-${kind}`, wg)],
    ]);
    const received: string[] = [];
    for (;;) {
      const t = (await r.send(new PollForTaskCommand({ workerGroup: wg }))).taskObject;
      if (!t) break;
      received.push(t.pipelineId!);
      await r.send(new SetTaskStatusCommand({ taskId: t.taskId, taskStatus: "FINISHED" }));
    }
    expect(received.sort()).toEqual(serves.map((p) => launched.get(p)!).sort());
    // Each creator still receives what the runner was not granted.
    for (const [creator, pipelineId] of launched) {
      if (serves.includes(creator)) continue;
      const own = client(url, creator === "alice" ? alice : carl);
      const t = (await own.send(new PollForTaskCommand({ workerGroup: wg }))).taskObject;
      expect(t?.pipelineId).toBe(pipelineId);
      await own.send(new SetTaskStatusCommand({ taskId: t?.taskId, taskStatus: "FINISHED" }));
    }
  });
});

describe.each(stores)("Data Pipeline long polls of a granted runner, and --auth off (%s)", (kind) => {
  let dir = "";
  const opened: { close: () => Promise<void> }[] = [];

  /** A server on a fresh store with a 20 s hold, auth as given. */
  async function serve(auth: "sigv4" | "off"): Promise<string> {
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [alice, carl, dana] }));
    const store = freshStore(kind);
    const config: Config = { ...defaults, port: 0, database: store.database, longPollSeconds: 20, logLevel: "silent", shutdownGraceSeconds: 1, auth, authFile: auth === "sigv4" ? file : undefined, accountId: SERVER_ACCOUNT };
    const logger = pino({ level: "silent" });
    const app = await createApp(config, logger, { db: await openStore(store) });
    const server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
    opened.push({
      close: async () => {
        await server.close();
        await app.close();
        await store.cleanup();
      },
    });
    return `http://127.0.0.1:${server.port}`;
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-dp-grant-"));
  });
  afterAll(async () => {
    for (const o of opened.splice(0)) await o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a poll waiting on an empty worker group wakes when a granted creator's task commits", async () => {
    const url = await serve("sigv4");
    const a = client(url, alice);
    // alice has a live pipeline before the poll starts: a creator the poll knows of.
    const { pipelineId } = await a.send(new CreatePipelineCommand({ name: `wake-${kind}`, uniqueId: `wake-${kind}` }));
    const waiting = client(url, dana).send(new PollForTaskCommand({ workerGroup: "wake-wg" }));
    const put = await a.send(
      new PutPipelineDefinitionCommand({
        pipelineId,
        pipelineObjects: objectsOf([
          { id: "Default", scheduleType: "ondemand" },
          { id: "Say", type: "ShellCommandActivity", command: "echo hi", workerGroup: "wake-wg" },
        ]),
      }),
    );
    expect(put.errored).toBe(false);
    await a.send(new ActivatePipelineCommand({ pipelineId }));
    const t = (await waiting).taskObject;
    expect(t?.pipelineId).toBe(pipelineId);
    await client(url, dana).send(new SetTaskStatusCommand({ taskId: t?.taskId, taskStatus: "FINISHED" }));
  });

  it("with --auth off every runner shares the worker group's tasks", async () => {
    const url = await serve("off");
    const first = await launch(client(url, alice), `off-a-${kind}`, "off-wg");
    const second = await launch(client(url, carl), `off-c-${kind}`, "off-wg");
    const got: string[] = [];
    for (const p of [carl, alice]) {
      const t = (await client(url, p).send(new PollForTaskCommand({ workerGroup: "off-wg" }))).taskObject;
      got.push(t!.pipelineId!);
      // Any runner may report on any task.
      await client(url, p === carl ? alice : carl).send(new SetTaskStatusCommand({ taskId: t?.taskId, taskStatus: "FINISHED" }));
    }
    expect(got.sort()).toEqual([first, second].sort());
  });
});
