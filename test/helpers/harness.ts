// Starts a real taskgate (app + server on a free port) for end-to-end tests, with clients of every
// kind users run: the AWS SDK for JavaScript v3 and the generated Connect client.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pino from "pino";
import { SWFClient } from "@aws-sdk/client-swf";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer } from "../../src/server/server.ts";
import type { Clock } from "../../src/dispatch/clock.ts";
import type { Database } from "../../src/store/db.ts";
import { openSqlite } from "../../src/store/sqlite.ts";

/** Which store a suite runs on. */
export type StoreKind = "sqlite" | "postgres";

/** The stores every end-to-end suite runs against. */
export const stores: StoreKind[] = ["sqlite", "postgres"];

/** Base URL of the PostgreSQL test database. */
export const postgresUrl = process.env.TASKGATE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A running taskgate and its clients. */
export interface Taskgate {
  url: string;
  port: number;
  app: App;
  config: Config;
  swf: SWFClient;
  connect: Client<typeof SimpleWorkflowService>;
  grpc: Client<typeof SimpleWorkflowService>;
  grpcWeb: Client<typeof SimpleWorkflowService>;
  /** Stops server and app (keeps the database). */
  stop(): Promise<void>;
  /** Stops and removes the database. */
  destroy(): Promise<void>;
}

/** Where a suite's data lives; reuse it to restart on the same database. */
export interface StoreLocation {
  kind: StoreKind;
  database: Config["database"];
  schema?: string;
  cleanup(): Promise<void>;
}

/** A fresh database of a kind: a temp SQLite file, or a new schema on the PostgreSQL test database. */
export function freshStore(kind: StoreKind): StoreLocation {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "taskgate-"));
    return { kind, database: { kind: "sqlite", path: join(dir, "taskgate.db") }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `t_${randomBytes(6).toString("hex")}`;
  return {
    kind,
    database: { kind: "postgres", url: postgresUrl },
    schema,
    cleanup: async () => {
      const { dropSchema } = await import("../../src/store/postgres.ts");
      await dropSchema(postgresUrl, schema);
    },
  };
}

/** Opens the database of a location (for Postgres, in its own schema). */
export async function openStore(loc: StoreLocation): Promise<Database | undefined> {
  if (loc.database.kind !== "postgres") return undefined;
  const { openPostgres } = await import("../../src/store/postgres.ts");
  return openPostgres({ url: loc.database.url, log: pino({ level: "silent" }), schema: loc.schema });
}

/** Starts taskgate on a free port. */
export async function startTaskgate(
  opts: { store?: StoreLocation; kind?: StoreKind; longPollSeconds?: number; config?: Partial<Config>; wrapDb?: (db: Database) => Database; clock?: Clock } = {},
): Promise<Taskgate> {
  const loc = opts.store ?? freshStore(opts.kind ?? "sqlite");
  const config: Config = { ...defaults, port: 0, database: loc.database, longPollSeconds: opts.longPollSeconds ?? 0.5, logLevel: "silent", shutdownGraceSeconds: 1, ...opts.config };
  const logger = pino({ level: process.env.TASKGATE_TEST_LOG ?? "silent" });
  let db = await openStore(loc);
  if (opts.wrapDb) db = opts.wrapDb(db ?? openSqlite({ path: (loc.database as { path: string }).path }));
  const app = await createApp(config, logger, { db, clock: opts.clock });
  const server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
  const url = `http://127.0.0.1:${server.port}`;
  const swf = new SWFClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 70_000 }),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    swf.destroy();
    await server.close();
    await app.close();
  };
  return {
    url,
    port: server.port,
    app,
    config,
    swf,
    connect: createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
    grpc: createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: url })),
    grpcWeb: createClient(SimpleWorkflowService, createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" })),
    stop,
    destroy: async () => {
      await stop();
      await loc.cleanup();
    },
  };
}
