// The composition root: opens the store, builds the dispatch core, the engines and their services.
// main.ts runs it behind the server; tests run it in-process.
import { arnScope } from "./resources/arn.ts";
import { newPipelineIdSuffix } from "./resources/ids.ts";
import type { Logger } from "pino";
import type { Config } from "./server/config.ts";
import type { MountedService } from "./services/registry.ts";
import { HealthMonitor } from "./services/health.ts";
import { reflectionServices } from "./services/reflection.ts";
import { openSqlite } from "./store/sqlite.ts";
import type { Database } from "./store/db.ts";
import { Dispatch, systemClock, type Clock } from "./dispatch/index.ts";
import { SwfEngine } from "./swf/engine.ts";
import { swfService } from "./services/swf.ts";
import { randomUUID } from "node:crypto";
import { SfnEngine } from "./sfn/engine.ts";
import { sfnService } from "./services/sfn.ts";
import { DataPipelineEngine } from "./datapipeline/engine.ts";
import { datapipelineService } from "./services/datapipeline.ts";
import { cryptoIntrinsicEnv } from "./resources/digest.ts";

/** A running taskgate without its network server. */
export interface App {
  /** The services to mount. */
  readonly services: MountedService[];
  /** Whether the app can serve (the store answers). */
  ready(): boolean;
  /** Answers every waiting long poll with the empty result, ends streams, stops timers. */
  shutdown(): Promise<void>;
  /** Closes the store; call after shutdown and after the server stopped. */
  close(): Promise<void>;
}

/** Opens the configured database. */
export async function openDatabase(config: Pick<Config, "database" | "sqliteSync">, log: Logger): Promise<Database> {
  if (config.database.kind === "sqlite") return openSqlite({ path: config.database.path, sync: config.sqliteSync, log: log.child({ component: "sqlite" }) });
  const { openPostgres } = await import("./store/postgres.ts");
  // `?schema=name` on the URL keeps taskgate's tables in their own schema (several deployments,
  // or test runs, on one database).
  const url = new URL(config.database.url);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  return openPostgres({ url: url.toString(), log, schema });
}

/** Builds the app. */
export async function createApp(config: Config, logger: Logger, opts: { clock?: Clock; db?: Database; historyLimit?: number } = {}): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const db = opts.db ?? (await openDatabase(config, logger));
  const core = new Dispatch({
    db,
    clock,
    log: logger,
    heartbeatMs: Math.min(2_000, Math.max(100, (config.nodeTimeoutSeconds * 1000) / 4)),
    deadAfterMs: config.nodeTimeoutSeconds * 1000,
  });
  const { matcher, timers, liveness } = core;
  const swf = new SwfEngine({ core, historyLimit: opts.historyLimit, arnScope: arnScope(config.region, config.accountId), maxPollsPerTaskList: config.maxPollsPerTaskList });
  await swf.init();
  const sfn = new SfnEngine({ core, region: config.region, accountId: config.accountId, newId: randomUUID, intrinsics: cryptoIntrinsicEnv, maxActivityPollers: config.maxActivityPollers });
  await sfn.init();
  // Pipeline ids are df- and 19 characters of [0-9A-Z], as AWS's look.
  const dp = new DataPipelineEngine({ core, accountId: config.accountId, log: logger.child({ component: "datapipeline" }), newId: newPipelineIdSuffix, maxPollsPerWorkerGroup: config.maxPollsPerTaskList });
  await dp.init();
  await liveness.start();
  // Another node committed a task: wake a local poller of that queue (a nudge; the store decides).
  // "*" means nudges may have been missed (the listener reconnected): every waiter looks again.
  // Otherwise the payload is "<count> <queue>": that many tasks committed to the queue.
  const unsubscribe = db.subscribe("taskgate_queue", (payload) => {
    if (payload === "*") return matcher.notifyAll();
    const space = payload.indexOf(" ");
    const count = Math.min(Number(payload.slice(0, space)) || 1, 10_000);
    const queue = payload.slice(space + 1);
    for (let i = 0; i < count; i++) matcher.notify(queue);
  });
  const unsubscribeTimers = db.subscribe("taskgate_timer", (payload) => (payload === "*" ? timers.kick() : timers.added(Number(payload))));
  timers.start();
  // With several nodes a nudge can be lost (a listener reconnecting): look at each queue now and then.
  const sweep = db.caps.shared ? setInterval(() => matcher.nudgeQueues(), 5_000) : undefined;
  sweep?.unref();
  const services = [swfService(swf, { longPollSeconds: config.longPollSeconds }), sfnService(sfn, { longPollSeconds: config.longPollSeconds }), datapipelineService(dp, { longPollSeconds: config.longPollSeconds })];
  let stopped = false;
  // gRPC health (NOT_SERVING while the store is down or from shutdown on) and reflection, over every service above.
  const health = new HealthMonitor({ ready: () => !stopped && db.healthy(), services: () => mounted.map((s) => s.desc.typeName) });
  const mounted: MountedService[] = [...services, health.service, ...reflectionServices(() => mounted.map((s) => s.desc))];
  return {
    services: mounted,
    ready: () => !stopped && db.healthy(),
    async shutdown() {
      stopped = true;
      health.drain();
      if (sweep) clearInterval(sweep);
      matcher.shutdown();
      timers.stop();
      unsubscribe();
      unsubscribeTimers();
    },
    async close() {
      await liveness.stop().catch((e: unknown) => logger.warn({ err: e }, "node stop failed"));
      await db.close();
    },
  };
}
