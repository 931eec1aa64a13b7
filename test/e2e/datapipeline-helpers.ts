// What the Data Pipeline end-to-end suites share: a real taskgate (app + server on a free port),
// optionally on a fake clock, with @aws-sdk/client-data-pipeline and the generated Connect client
// pointed at it; definitions written as AWS's console JSON form; a small task-runner step.
import pino from "pino";
import { DataPipelineClient, PollForTaskCommand, SetTaskStatusCommand, type Field, type PipelineObject, type TaskObject } from "@aws-sdk/client-data-pipeline";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DataPipelineService } from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer } from "../../src/server/server.ts";
import type { FakeClock } from "../helpers/fake-clock.ts";
import { freshStore, openStore, type StoreKind, type StoreLocation } from "../helpers/harness.ts";

/** A running taskgate with Data Pipeline clients. */
export interface DpGate {
  url: string;
  app: App;
  dp: DataPipelineClient;
  connect: Client<typeof DataPipelineService>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** Starts taskgate for Data Pipeline tests: a fresh store of `kind` (or `store`), the fake `clock` if given. */
export async function startDp(opts: { kind: StoreKind; store?: StoreLocation; clock?: FakeClock; longPollSeconds?: number }): Promise<DpGate> {
  const loc = opts.store ?? freshStore(opts.kind);
  const config: Config = { ...defaults, port: 0, database: loc.database, longPollSeconds: opts.longPollSeconds ?? 0.5, logLevel: "silent", shutdownGraceSeconds: 1 };
  const logger = pino({ level: process.env.TASKGATE_TEST_LOG ?? "silent" });
  const db = await openStore(loc);
  const app = await createApp(config, logger, { db, clock: opts.clock });
  const server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
  const url = `http://127.0.0.1:${server.port}`;
  const dp = new DataPipelineClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 100_000 }),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    dp.destroy();
    await server.close();
    await app.close();
  };
  return {
    url,
    app,
    dp,
    connect: createClient(DataPipelineService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
    stop,
    destroy: async () => {
      await stop();
      await loc.cleanup();
    },
  };
}

/** One object in the console's JSON form: `{ref: id}` values are references, arrays repeat a field. */
export type ConsoleObject = { id: string; name?: string } & Record<string, string | { ref: string } | (string | { ref: string })[]>;

/** Translates console-form objects to the API's PipelineObjects (as the AWS CLI does). */
export function objectsOf(objects: ConsoleObject[]): PipelineObject[] {
  return objects.map(({ id, name, ...rest }) => {
    const fields: Field[] = [];
    for (const [key, v] of Object.entries(rest))
      for (const one of Array.isArray(v) ? v : [v]) fields.push(typeof one === "string" ? { key, stringValue: one } : { key, refValue: one.ref });
    return { id, name: name ?? id, fields };
  });
}

/** The string value of a field of an object of a task. */
export function fieldOf(o: PipelineObject | undefined, key: string): string | undefined {
  const f = o?.fields?.find((x) => x.key === key);
  return f?.stringValue ?? f?.refValue;
}

/** Polls once; the task object, or undefined for the empty answer. */
export async function poll(dp: DataPipelineClient, workerGroup: string, hostname = "runner-1"): Promise<TaskObject | undefined> {
  return (await dp.send(new PollForTaskCommand({ workerGroup, hostname }))).taskObject;
}

/** Polls once and sets the task's status. */
export async function runOne(dp: DataPipelineClient, workerGroup: string, status: "FINISHED" | "FAILED" | "FALSE" = "FINISHED"): Promise<TaskObject> {
  const t = await poll(dp, workerGroup);
  if (!t) throw new Error(`no task for ${workerGroup}`);
  await dp.send(new SetTaskStatusCommand({ taskId: t.taskId, taskStatus: status, ...(status === "FAILED" ? { errorId: "E1", errorMessage: "boom" } : {}) }));
  return t;
}

/** The error a call fails with: its name and message. */
export async function failure(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error;
    return { name: err.name, message: err.message };
  }
  throw new Error("expected the call to fail");
}
