// taskgate benchmarks: `npm run bench`. Starts the server as its own process (as `npm start`
// does) on a temporary database and drives it from this process through the generated Connect
// client (gRPC transport), then prints one table (metric, sqlite, postgres, goal) and one JSON object.
//
//   npm run bench                      the SQLite suite, then the PostgreSQL suite
//   npm run bench -- --store sqlite    only one of them (sqlite or postgres)
//   npm run bench -- --quick           smaller counts (a smoke run)
//
// SQLite runs on a file in a temporary directory. PostgreSQL runs on TASKGATE_BENCH_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/test), taskgate's tables in a fresh schema
// `taskgate_bench_<pid>` (`?schema=`), graphile-worker's in `taskgate_bench_gw_<pid>`; both schemas
// are dropped at the end, also after a failure or Ctrl-C. Every server process the bench starts is
// stopped (SIGTERM, then SIGKILL), and every phase has a time limit.
//
// What each suite measures (servers run with --long-poll-seconds 60; the counts are in `countsFor`
// and in the JSON):
// - unary RTT: DescribeDomain round trip.
// - dispatch latency: one poller waits on PollForActivityTask (10 ms after issuing it, so it is
//   parked); the clock runs from sending RespondDecisionTaskCompleted with one ScheduleActivityTask
//   until the poll answers. "Same node": poll and decision on one server. "Cross node" (PostgreSQL
//   only): two server processes on the same schema, the poll held by node B while the decision
//   goes to node A, so the task reaches B through NOTIFY and B's claim.
// - workflows/s: 16 deciders and 16 workers on long polls, 16 starters; a workflow schedules one
//   activity and completes when its result comes back. "Two nodes": the 4 client connections
//   alternate between node A and node B, so deciders, workers and starters are split across both.
// - streamed delivery/s: activity tasks scheduled 1,000 per execution, read through
//   StreamActivityTasks, then completed by 64 concurrent unary calls.
// - memory per idle long poll (SQLite only): growth of the server's RSS with 10,000 polls held.
//
// Side by side with graphile-worker (PostgreSQL only; graphile-worker 0.18 runs inside this bench
// process, on the same database in its own schema):
// - enqueue/complete jobs/s. Both sides start idle consumers first, then the clock starts and 4
//   concurrent enqueuers add N jobs in batches of 100; the clock stops when the N-th job is
//   completed in the database.
//     taskgate: N/100 executions are started and their first decision tasks polled before the
//     clock; a batch is one RespondDecisionTaskCompleted carrying 100 ScheduleActivityTask
//     decisions. 16 workers loop PollForActivityTask + RespondActivityTaskCompleted (through the
//     server, on 4 HTTP/2 connections). Each completion also appends history events and schedules
//     a decision task, which nobody polls: more work per job than graphile-worker does.
//     graphile-worker: `run()` with concurrency 16 and a no-op task; a batch is one
//     `addJobs()` of 100 specs from `makeWorkerUtils()`. Everything else is graphile-worker's
//     default: pollInterval 2000 ms (only a fallback: new jobs wake idle workers through its
//     LISTEN "jobs:insert" / NOTIFY trigger), no localQueue (each worker fetches its own job with
//     one query), no completeJob batching (one query per completion), prepared statements, a pool
//     of 10 connections, database time. Its logger is silenced (it otherwise logs every job) and
//     its signal handlers are off (the bench handles Ctrl-C). The clock stops once the task has
//     run N times and its jobs table is empty (completions are written after the task returns).
// - schedule->start latency, one job at a time with an idle consumer. taskgate: the dispatch
//   latency above (same node, and cross node). graphile-worker: a runner with concurrency 1 (one
//   idle worker, like the one waiting poll); the clock runs from calling `addJob()` until the task
//   function starts. Before each job the previous one is completed and the worker has had 10 ms to
//   go idle. The first 50 (taskgate) / 20 (graphile-worker) samples are warm-up and dropped.
//
// Both sides share this 2-core machine with PostgreSQL and with this process (which runs the
// clients, and graphile-worker itself). Figures are measured, never asserted: tests do not time
// anything.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import pg from "pg";
import { SimpleWorkflowService } from "../gen/taskgate/swf/v1/service_pb.ts";
import { ChildPolicy, DecisionType } from "../gen/taskgate/swf/v1/types_pb.ts";
import { dropSchema } from "../src/store/postgres.ts";

type Swf = Client<typeof SimpleWorkflowService>;
type Store = "sqlite" | "postgres";
type Results = Record<string, Record<string, number>>;

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const storeArg = args.includes("--store") ? args[args.indexOf("--store") + 1] : undefined;
if (storeArg !== undefined && storeArg !== "sqlite" && storeArg !== "postgres") {
  console.error(`--store must be sqlite or postgres, not ${JSON.stringify(storeArg)}`);
  process.exit(2);
}
const stores: Store[] = storeArg === undefined ? ["sqlite", "postgres"] : [storeArg];
const root = join(import.meta.dirname, "..");
const pgUrl = process.env.TASKGATE_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const tgSchema = `taskgate_bench_${process.pid}`;
const gwSchema = `taskgate_bench_gw_${process.pid}`;

/** Time each waiting poll gets to park before the task is scheduled. */
const settleMs = 10;
/** Workers, deciders and graphile-worker's concurrency. */
const conc = 16;
/** Jobs per enqueue call, on both sides of the comparison. */
const batch = 100;
interface Counts {
  rtt: number;
  dispatch: number;
  workflows: number;
  streamExecutions: number;
  idlePolls: number;
  jobs: number;
  graphileLatency: number;
}
// PostgreSQL runs fewer iterations than SQLite where its per-operation cost would otherwise break
// the time budget (the whole run in ~6 minutes, --quick in ~2); the two sides of the
// graphile-worker comparison always use the same counts.
const countsFor: Record<Store, Counts> = quick
  ? {
      sqlite: { rtt: 200, dispatch: 100, workflows: 300, streamExecutions: 3, idlePolls: 2000, jobs: 1000, graphileLatency: 0 },
      postgres: { rtt: 200, dispatch: 100, workflows: 200, streamExecutions: 2, idlePolls: 0, jobs: 1000, graphileLatency: 100 },
    }
  : {
      sqlite: { rtt: 2000, dispatch: 1000, workflows: 3000, streamExecutions: 10, idlePolls: 10_000, jobs: 4000, graphileLatency: 0 },
      postgres: { rtt: 2000, dispatch: 500, workflows: 1000, streamExecutions: 5, idlePolls: 0, jobs: 4000, graphileLatency: 400 },
    };

// ---- child processes and cleanup ----

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
// Last resort: a child still running when this process exits for any reason is killed.
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

async function startServer(database: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ["src/main.ts", "--port", "0", "--database", database, "--long-poll-seconds", "60", "--log-level", "info", "--shutdown-grace-seconds", "2"],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => (children.delete(child), resolve())));
  let out = "";
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
    }),
    30_000,
    "server start",
  ).catch((e: unknown) => {
    child.kill("SIGKILL");
    throw e;
  });
  child.stdout!.resume(); // keep draining its log
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resolves as `p`, or rejects once `ms` have passed. */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one measurement with a time limit, logging its duration to stderr. */
async function phase<T>(name: string, limitSeconds: number, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  process.stderr.write(`bench: ${name} ...`);
  const r = await withTimeout(fn(), (quick ? limitSeconds / 2 : limitSeconds) * 1000, name);
  process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return r;
}

// ---- helpers ----

/** A lean AWS JSON 1.0 client over keep-alive HTTP/1.1 (what an AWS SDK worker sends, minus the SDK's own cost). */
type AwsCall = (op: string, body: object, signal?: AbortSignal) => Promise<Record<string, unknown>>;
function awsClient(url: string, maxSockets = 64): AwsCall {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return (op, body, signal) =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          method: "POST",
          path: "/",
          agent,
          signal,
          headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `SimpleWorkflowService.${op}`, "content-length": Buffer.byteLength(data) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => (res.statusCode === 200 ? resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {}) : reject(new Error(`${op}: ${res.statusCode} ${text}`))));
        },
      );
      req.on("error", reject);
      req.end(data);
    });
}

function client(url: string): Swf {
  return createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: url }));
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

let seq = 0;
async function fixture(c: Swf) {
  const domain = `bench-${process.pid}-${++seq}`;
  await c.registerDomain({ name: domain, workflowExecutionRetentionPeriodInDays: "1" });
  await c.registerWorkflowType({
    domain,
    name: "wf",
    version: "1",
    defaultTaskList: { name: "d" },
    defaultExecutionStartToCloseTimeout: "3600",
    defaultTaskStartToCloseTimeout: "600",
    defaultChildPolicy: ChildPolicy.TERMINATE,
  });
  await c.registerActivityType({
    domain,
    name: "act",
    version: "1",
    defaultTaskList: { name: "a" },
    defaultTaskScheduleToCloseTimeout: "NONE",
    defaultTaskScheduleToStartTimeout: "NONE",
    defaultTaskStartToCloseTimeout: "NONE",
    defaultTaskHeartbeatTimeout: "NONE",
  });
  return domain;
}

const activity = (id: string) => ({
  decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK,
  scheduleActivityTaskDecisionAttributes: { activityId: id, activityType: { name: "act", version: "1" } },
});

/** True for the error of a call this bench aborted. */
const aborted = (signal: AbortSignal) => (e: unknown) => {
  if (!signal.aborted) throw e;
};

// ---- taskgate measurements ----

/** Round trip of a minimal unary RPC. */
async function rtt(url: string, n: number) {
  const c = client(url);
  const domain = await fixture(c);
  for (let i = 0; i < 200; i++) await c.describeDomain({ name: domain }); // warm up
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await c.describeDomain({ name: domain });
    xs.push(performance.now() - t0);
  }
  // The same call after the same idle gap the dispatch measurement leaves before each schedule:
  // a process that idled 10 ms answers its next call slower (measured ~1.8x here), so this is the
  // baseline the dispatch latency is compared with.
  const idle: number[] = [];
  for (let i = 0; i < Math.min(n, 1000); i++) {
    await sleep(settleMs);
    const t0 = performance.now();
    await c.describeDomain({ name: domain });
    idle.push(performance.now() - t0);
  }
  return { p50: pct(xs, 50), p99: pct(xs, 99), idleP50: pct(idle, 50), idleP99: pct(idle, 99) };
}

/** Schedule-to-delivery latency to a waiting poller: the decision goes to `decideUrl`, the poll to `pollUrl`. */
async function dispatch(decideUrl: string, pollUrl: string, n: number) {
  const c = client(decideUrl);
  const p = pollUrl === decideUrl ? c : client(pollUrl);
  const domain = await fixture(c);
  await c.startWorkflowExecution({ domain, workflowId: "lat", workflowType: { name: "wf", version: "1" } });
  // The decider needs only the token: one event per page, newest first, so the growing history of
  // this one execution is not shipped on every iteration.
  const decisionPoll = { domain, taskList: { name: "d" }, maximumPageSize: 1, reverseOrder: true };
  let d = await c.pollForDecisionTask(decisionPoll);
  const lat: number[] = [];
  for (let i = 0; i < n + 50; i++) {
    const poll = p.pollForActivityTask({ domain, taskList: { name: "a" } });
    await sleep(settleMs); // the poll is waiting
    const t0 = performance.now();
    const respond = c.respondDecisionTaskCompleted({ taskToken: d.taskToken, decisions: [activity(`a${i}`)] });
    const a = await poll;
    const t1 = performance.now();
    await respond;
    if (!a.taskToken) throw new Error("dispatch: the poll came back empty");
    if (i >= 50) lat.push(t1 - t0);
    await p.respondActivityTaskCompleted({ taskToken: a.taskToken });
    d = await c.pollForDecisionTask(decisionPoll);
  }
  return { p50: pct(lat, 50), p99: pct(lat, 99), samples: lat.length };
}

/**
 * The calls one workflow needs, over one transport. `decide` answers a decision task: complete the
 * workflow if its activity finished, else schedule the activity; it resolves true when it completed.
 */
interface WorkflowCalls {
  start(workflowId: string): Promise<unknown>;
  decide(signal: AbortSignal): Promise<boolean>;
  work(signal: AbortSignal): Promise<unknown>;
}

/** WorkflowCalls through the generated Connect client (gRPC), spread over `urls`. */
function grpcCalls(domain: string, urls: string[]): (k: number) => WorkflowCalls {
  const clients = Array.from({ length: 4 }, (_, i) => client(urls[i % urls.length]));
  return (k) => {
    const c = clients[k % clients.length];
    return {
      start: (workflowId) => c.startWorkflowExecution({ domain, workflowId, workflowType: { name: "wf", version: "1" } }),
      decide: async (signal) => {
        const d = await c.pollForDecisionTask({ domain, taskList: { name: "d" }, maximumPageSize: 1000 }, { signal });
        if (!d.taskToken) return false;
        const done = d.events.some((e) => e.activityTaskCompletedEventAttributes !== undefined);
        const decisions = done ? [{ decisionType: DecisionType.COMPLETE_WORKFLOW_EXECUTION }] : [activity("work")];
        await c.respondDecisionTaskCompleted({ taskToken: d.taskToken, decisions });
        return done;
      },
      work: async (signal) => {
        const a = await c.pollForActivityTask({ domain, taskList: { name: "a" } }, { signal });
        if (a.taskToken) await c.respondActivityTaskCompleted({ taskToken: a.taskToken, result: "ok" });
      },
    };
  };
}

/** WorkflowCalls through the AWS JSON route (HTTP/1.1, lean keep-alive client). */
function awsCalls(domain: string, url: string): (k: number) => WorkflowCalls {
  const call = awsClient(url, 4 * conc);
  const calls: WorkflowCalls = {
    start: (workflowId) => call("StartWorkflowExecution", { domain, workflowId, workflowType: { name: "wf", version: "1" } }),
    decide: async (signal) => {
      const d = await call("PollForDecisionTask", { domain, taskList: { name: "d" } }, signal);
      if (!d.taskToken) return false;
      const done = (d.events as { eventType: string }[]).some((e) => e.eventType === "ActivityTaskCompleted");
      const decisions = done
        ? [{ decisionType: "CompleteWorkflowExecution" }]
        : [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "work", activityType: { name: "act", version: "1" } } }];
      await call("RespondDecisionTaskCompleted", { taskToken: d.taskToken, decisions });
      return done;
    },
    work: async (signal) => {
      const a = await call("PollForActivityTask", { domain, taskList: { name: "a" } }, signal);
      if (a.taskToken) await call("RespondActivityTaskCompleted", { taskToken: a.taskToken, result: "ok" });
    },
  };
  return () => calls;
}

/** End-to-end workflows per second with 16 deciders, 16 workers and 16 starters. */
async function runWorkflows(total: number, calls: (k: number) => WorkflowCalls) {
  const ac = new AbortController();
  const signal = ac.signal;
  let done = 0;
  let finished: () => void = () => {};
  const allDone = new Promise<void>((r) => (finished = r));
  const t0 = performance.now();
  const decider = async (k: number) => {
    const c = calls(k);
    while (!signal.aborted) if ((await c.decide(signal)) && ++done === total) finished();
  };
  const worker = async (k: number) => {
    const c = calls(k + 2);
    while (!signal.aborted) await c.work(signal);
  };
  const loops = [...Array.from({ length: conc }, (_, i) => decider(i)), ...Array.from({ length: conc }, (_, i) => worker(i))].map((l) => l.catch(aborted(signal)));
  try {
    const starters = Array.from({ length: conc }, async (_, k) => {
      const c = calls(k);
      for (let i = k; i < total; i += conc) await c.start(`wf-${i}`);
    });
    // A loop that fails ends the measurement instead of leaving it waiting.
    await Promise.race([Promise.all(starters).then(() => allDone), ...loops.map((l) => l.then(() => new Promise<never>(() => {})))]);
  } finally {
    ac.abort();
  }
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(loops);
  return { workflows: total, seconds: secs, workflowsPerSecond: total / secs };
}

/** Workflows/s through the Connect client, clients spread over `urls`. */
async function workflows(urls: string[], total: number) {
  return runWorkflows(total, grpcCalls(await fixture(client(urls[0])), urls));
}

/** The same through the AWS JSON route. */
async function workflowsAws(url: string, total: number) {
  return runWorkflows(total, awsCalls(await fixture(client(url)), url));
}

/** Activity tasks per second pushed through StreamActivityTasks. */
async function streaming(url: string, executions: number) {
  const c = client(url);
  const domain = await fixture(c);
  const perExecution = 1000;
  const total = perExecution * executions;
  for (let e = 0; e < executions; e++) {
    await c.startWorkflowExecution({ domain, workflowId: `s${e}`, workflowType: { name: "wf", version: "1" } });
    const d = await c.pollForDecisionTask({ domain, taskList: { name: "d" } });
    await c.respondDecisionTaskCompleted({ taskToken: d.taskToken, decisions: Array.from({ length: perExecution }, (_, i) => activity(`a${i}`)) });
  }
  // Delivery alone: credit for every task.
  const ac = new AbortController();
  const tokens: string[] = [];
  let t0 = performance.now();
  try {
    for await (const t of c.streamActivityTasks({ domain, taskList: { name: "a" }, maxInFlight: total }, { signal: ac.signal })) {
      tokens.push(t.taskToken!);
      if (tokens.length === total) break;
    }
  } finally {
    ac.abort();
  }
  const deliverySecs = (performance.now() - t0) / 1000;
  // Delivery with completion: 64 concurrent unary completions.
  t0 = performance.now();
  const n = 64;
  await Promise.all(
    Array.from({ length: n }, async (_, k) => {
      for (let i = k; i < tokens.length; i += n) await c.respondActivityTaskCompleted({ taskToken: tokens[i] });
    }),
  );
  const completeSecs = (performance.now() - t0) / 1000;
  return { tasks: total, deliveredPerSecond: total / deliverySecs, completedPerSecond: total / completeSecs };
}

/** Enqueue N activity tasks in batches of 100 (4 enqueuers) while 16 workers poll and complete them. */
async function enqueueComplete(url: string, total: number) {
  const c = client(url);
  const domain = await fixture(c);
  const clients = Array.from({ length: 4 }, () => client(url));
  const executions = total / batch;
  // Before the clock: executions started, their first decision tasks in hand.
  await Promise.all(
    Array.from({ length: conc }, async (_, k) => {
      for (let e = k; e < executions; e += conc) await clients[k % 4].startWorkflowExecution({ domain, workflowId: `q${e}`, workflowType: { name: "wf", version: "1" } });
    }),
  );
  const tokens: string[] = [];
  while (tokens.length < executions) {
    const d = await c.pollForDecisionTask({ domain, taskList: { name: "d" }, maximumPageSize: 1 });
    if (d.taskToken) tokens.push(d.taskToken);
  }
  const ac = new AbortController();
  const signal = ac.signal;
  let done = 0;
  let finished: () => void = () => {};
  const allDone = new Promise<void>((r) => (finished = r));
  const workers = Array.from({ length: conc }, async (_, k) => {
    const cc = clients[k % 4];
    while (!signal.aborted) {
      const a = await cc.pollForActivityTask({ domain, taskList: { name: "a" } }, { signal });
      if (!a.taskToken) continue;
      await cc.respondActivityTaskCompleted({ taskToken: a.taskToken, result: "ok" });
      if (++done === total) finished();
    }
  }).map((l) => l.catch(aborted(signal)));
  await sleep(200); // the workers are parked
  const t0 = performance.now();
  let enqueueSecs = 0;
  try {
    const enqueue = Promise.all(
      Array.from({ length: 4 }, async (_, k) => {
        for (let e = k; e < executions; e += 4) {
          const decisions = Array.from({ length: batch }, (_, i) => activity(`j${i}`));
          await clients[k].respondDecisionTaskCompleted({ taskToken: tokens[e], decisions });
        }
      }),
    ).then(() => (enqueueSecs = (performance.now() - t0) / 1000));
    await Promise.race([Promise.all([enqueue, allDone]), ...workers.map((l) => l.then(() => new Promise<never>(() => {})))]);
  } finally {
    ac.abort();
  }
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(workers);
  return { jobs: total, seconds: secs, enqueueSeconds: enqueueSecs, jobsPerSecond: total / secs };
}

/** Server memory per idle long poll. */
async function idlePolls(server: Server, n: number) {
  const rss = () => {
    const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
  };
  const clients = Array.from({ length: 10 }, () => client(server.url));
  const domain = await fixture(clients[0]);
  const hold = async (start: (signal: AbortSignal) => Promise<unknown>) => {
    // Warm up (JIT, pools), then measure the resident-set growth while n polls are held.
    let ac = new AbortController();
    let polls = Array.from({ length: Math.min(n, 1000) }, () => start(ac.signal).catch(() => undefined));
    await sleep(1500);
    ac.abort();
    await Promise.all(polls);
    await sleep(1000);
    const before = rss();
    ac = new AbortController();
    polls = Array.from({ length: n }, () => start(ac.signal).catch(() => undefined));
    await sleep(4000);
    const during = rss();
    ac.abort();
    await Promise.all(polls);
    await sleep(1000);
    return { before, during, perPoll: (during - before) / n };
  };
  let i = 0;
  const grpc = await hold((signal) => clients[i++ % clients.length].pollForActivityTask({ domain, taskList: { name: "idle" } }, { signal }));
  const call = awsClient(server.url, n + 100);
  const aws = await hold((signal) => call("PollForActivityTask", { domain, taskList: { name: "idle-aws" } }, signal));
  return {
    polls: n,
    rssBeforeMiB: grpc.before / 2 ** 20,
    rssDuringMiB: grpc.during / 2 ** 20,
    bytesPerPoll: grpc.perPoll,
    awsBytesPerPoll: aws.perPoll,
  };
}

// ---- graphile-worker ----

const silent = new Logger(() => () => {});

/** graphile-worker: enqueue N jobs in batches of 100 (4 enqueuers) while a concurrency-16 runner completes them. */
async function graphileThroughput(utils: WorkerUtils, total: number) {
  let ran = 0;
  let finished: () => void = () => {};
  const allRan = new Promise<void>((r) => (finished = r));
  const runner = await run({
    connectionString: pgUrl,
    schema: gwSchema,
    concurrency: conc,
    noHandleSignals: true,
    logger: silent,
    taskList: {
      noop: async () => {
        if (++ran === total) finished();
      },
    },
  });
  const check = new pg.Client({ connectionString: pgUrl });
  await check.connect();
  try {
    await sleep(200); // the workers are idle
    const t0 = performance.now();
    let enqueueSecs = 0;
    const enqueue = Promise.all(
      Array.from({ length: 4 }, async (_, k) => {
        for (let e = k; e < total / batch; e += 4) await utils.addJobs(Array.from({ length: batch }, (_, i) => ({ identifier: "noop", payload: { i: e * batch + i } })));
      }),
    ).then(() => (enqueueSecs = (performance.now() - t0) / 1000));
    await Promise.all([enqueue, allRan]);
    // The task ran N times; its completions are written after it returns.
    const table = `${pg.escapeIdentifier(gwSchema)}._private_jobs`;
    while (Number((await check.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n) > 0) await sleep(2);
    const secs = (performance.now() - t0) / 1000;
    return { jobs: total, seconds: secs, enqueueSeconds: enqueueSecs, jobsPerSecond: total / secs };
  } finally {
    await check.end();
    await stopRunner(runner);
  }
}

/** graphile-worker: addJob -> task start, one job at a time, one idle worker. */
async function graphileLatency(utils: WorkerUtils, n: number) {
  let started: (t: number) => void = () => {};
  let completed: () => void = () => {};
  const runner = await run({
    connectionString: pgUrl,
    schema: gwSchema,
    concurrency: 1,
    noHandleSignals: true,
    logger: silent,
    taskList: { noop: async () => started(performance.now()) },
  });
  runner.events.on("job:complete", () => completed());
  try {
    const lat: number[] = [];
    const warm = 20;
    for (let i = 0; i < n + warm; i++) {
      const start = new Promise<number>((r) => (started = r));
      const complete = new Promise<void>((r) => (completed = r));
      await sleep(settleMs); // the worker is idle
      const t0 = performance.now();
      await utils.addJob("noop", { i });
      const t1 = await start;
      await complete;
      if (i >= warm) lat.push(t1 - t0);
    }
    return { p50: pct(lat, 50), p99: pct(lat, 99), samples: lat.length };
  } finally {
    await stopRunner(runner);
  }
}

async function stopRunner(runner: Runner): Promise<void> {
  await withTimeout(runner.stop(), 15_000, "graphile-worker stop").catch((e: unknown) => runner.kill(String(e)));
}

// ---- suites ----

async function sqliteSuite(): Promise<Results> {
  const dir = mkdtempSync(join(tmpdir(), "taskgate-bench-"));
  const database = `sqlite:${join(dir, "bench.db")}`;
  const n = countsFor.sqlite;
  const r: Results = {};
  const servers: Server[] = [];
  try {
    const a = await startServer(database);
    servers.push(a);
    r.rtt = await phase("sqlite unary rtt", 60, () => rtt(a.url, n.rtt));
    r.dispatch = await phase("sqlite dispatch latency", 90, () => dispatch(a.url, a.url, n.dispatch));
    r.workflows = await phase("sqlite workflows/s", 90, () => workflows([a.url], n.workflows));
    r.workflowsAws = await phase("sqlite workflows/s, AWS JSON route", 90, () => workflowsAws(a.url, n.workflows));
    r.streaming = await phase("sqlite streaming", 90, () => streaming(a.url, n.streamExecutions));
    r.enqueueComplete = await phase("sqlite enqueue/complete", 90, () => enqueueComplete(a.url, n.jobs));
    await a.stop();
    const b = await startServer(database);
    servers.push(b);
    r.idlePolls = await phase("sqlite idle polls", 60, () => idlePolls(b, n.idlePolls));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

async function postgresSuite(): Promise<Results> {
  const url = new URL(pgUrl);
  url.searchParams.set("schema", tgSchema);
  const database = url.toString();
  const n = countsFor.postgres;
  const r: Results = {};
  const servers: Server[] = [];
  try {
    await dropSchema(pgUrl, tgSchema); // fresh, should an earlier run with this pid have left one
    const a = await startServer(database);
    servers.push(a);
    r.rtt = await phase("postgres unary rtt", 60, () => rtt(a.url, n.rtt));
    r.dispatch = await phase("postgres dispatch latency, same node", 90, () => dispatch(a.url, a.url, n.dispatch));
    r.workflows = await phase("postgres workflows/s, one node", 120, () => workflows([a.url], n.workflows));
    r.workflowsAws = await phase("postgres workflows/s, AWS JSON route", 120, () => workflowsAws(a.url, n.workflows));
    r.streaming = await phase("postgres streaming", 120, () => streaming(a.url, n.streamExecutions));
    r.enqueueComplete = await phase("postgres enqueue/complete", 120, () => enqueueComplete(a.url, n.jobs));
    const b = await startServer(database);
    servers.push(b);
    r.dispatchCrossNode = await phase("postgres dispatch latency, cross node", 90, () => dispatch(a.url, b.url, n.dispatch));
    r.workflowsTwoNodes = await phase("postgres workflows/s, two nodes", 120, () => workflows([a.url, b.url], n.workflows));
    await Promise.all(servers.map((s) => s.stop()));

    // graphile-worker, with no taskgate server running.
    await dropSchema(pgUrl, gwSchema);
    const utils = await makeWorkerUtils({ connectionString: pgUrl, schema: gwSchema, logger: silent });
    try {
      await utils.migrate();
      r.graphileWorker = await phase("graphile-worker enqueue/complete", 120, () => graphileThroughput(utils, n.jobs));
      r.graphileWorkerLatency = await phase("graphile-worker latency", 90, () => graphileLatency(utils, n.graphileLatency));
    } finally {
      await utils.release();
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await dropSchemas();
  }
  return r;
}

/** Drops both bench schemas (each attempt limited to 15 s). */
async function dropSchemas(): Promise<void> {
  const results = await Promise.allSettled([tgSchema, gwSchema].map((name) => withTimeout(dropSchema(pgUrl, name), 15_000, `drop schema ${name}`)));
  for (const r of results) if (r.status === "rejected") console.error("bench: could not drop a schema:", r.reason);
}

// ---- report ----

const ms = (x: number) => x.toFixed(3);
const int = (x: number) => Math.round(x).toLocaleString("en-US");

function table(results: Partial<Record<Store, Results>>): string {
  const s = results.sqlite;
  const p = results.postgres;
  const cell = (r: Results | undefined, f: (r: Results) => string | undefined) => (r === undefined ? undefined : (f(r) ?? "-"));
  const lat = (x: Record<string, number> | undefined, rt: Record<string, number> | undefined) =>
    x === undefined
      ? undefined
      : `${ms(x.p50)} / ${ms(x.p99)} ms` + (rt === undefined ? "" : ` (${(x.p50 / rt.idleP50).toFixed(2)}x idle RTT, ${(x.p50 / rt.p50).toFixed(2)}x hot)`);
  const vs = (a: number, b: number, higherWins: boolean) => `${(higherWins ? a / b : b / a).toFixed(2)}x`;
  const rows: [string, string | undefined, string | undefined, string][] = [
    ["unary RPC round trip (DescribeDomain) p50 / p99", ...both((r) => `${ms(r.rtt.p50)} / ${ms(r.rtt.p99)} ms`), ""],
    [`same, each call after ${settleMs} ms idle (the dispatch baseline)`, ...both((r) => `${ms(r.rtt.idleP50)} / ${ms(r.rtt.idleP99)} ms`), ""],
    ["dispatch, same node: scheduled -> waiting poller p50 / p99", ...both((r) => lat(r.dispatch, r.rtt)), "p50 <= 1.5x RTT"],
    ["dispatch, cross node (poll on B, decision to A) p50 / p99", ...both((r) => lat(r.dispatchCrossNode, r.rtt)), ""],
    ["workflows/s, one node (16 deciders, 16 workers)", ...both((r) => int(r.workflows.workflowsPerSecond)), ">= 1,000"],
    ["workflows/s, two nodes (clients split over both)", ...both((r) => r.workflowsTwoNodes && int(r.workflowsTwoNodes.workflowsPerSecond)), ""],
    ["streamed activity tasks delivered/s", ...both((r) => int(r.streaming.deliveredPerSecond)), ">= 10,000"],
    ["streamed activity tasks completed/s (64 concurrent)", ...both((r) => int(r.streaming.completedPerSecond)), ""],
    ["workflows/s, one node, AWS JSON route (HTTP/1.1)", ...both((r) => r.workflowsAws && int(r.workflowsAws.workflowsPerSecond)), ">= 1,000"],
    [`memory per idle long poll, gRPC/HTTP2 (${countsFor.sqlite.idlePolls} held)`, ...both((r) => r.idlePolls && `${(r.idlePolls.bytesPerPoll / 1024).toFixed(2)} KiB`), "<= 10 KiB"],
    [`memory per idle long poll, AWS JSON/HTTP1.1 (${countsFor.sqlite.idlePolls} held)`, ...both((r) => r.idlePolls && `${(r.idlePolls.awsBytesPerPoll / 1024).toFixed(2)} KiB`), "<= 10 KiB"],
    [
      "enqueue/complete jobs/s: taskgate vs graphile-worker (16 workers)",
      ...both((r) => (r.graphileWorker ? `${int(r.enqueueComplete.jobsPerSecond)} vs ${int(r.graphileWorker.jobsPerSecond)} (${vs(r.enqueueComplete.jobsPerSecond, r.graphileWorker.jobsPerSecond, true)})` : int(r.enqueueComplete.jobsPerSecond))),
      "taskgate ahead (> 1x)",
    ],
    [
      "schedule->start latency p50/p99: taskgate vs graphile-worker",
      ...both((r) =>
        r.graphileWorkerLatency
          ? `${ms(r.dispatch.p50)}/${ms(r.dispatch.p99)} vs ${ms(r.graphileWorkerLatency.p50)}/${ms(r.graphileWorkerLatency.p99)} ms (p99 ${vs(r.dispatch.p99, r.graphileWorkerLatency.p99, false)})`
          : undefined,
      ),
      "taskgate ahead at p99 (> 1x)",
    ],
    [
      "  same, taskgate cross node",
      ...both((r) =>
        r.graphileWorkerLatency && r.dispatchCrossNode
          ? `${ms(r.dispatchCrossNode.p50)}/${ms(r.dispatchCrossNode.p99)} vs ${ms(r.graphileWorkerLatency.p50)}/${ms(r.graphileWorkerLatency.p99)} ms (p99 ${vs(r.dispatchCrossNode.p99, r.graphileWorkerLatency.p99, false)})`
          : undefined,
      ),
      "",
    ],
  ];
  function both(f: (r: Results) => string | undefined): [string | undefined, string | undefined] {
    return [cell(s, f), cell(p, f)];
  }
  const header: [string, string | undefined, string | undefined, string] = ["metric", s && "sqlite", p && "postgres", "goal"];
  const all = [header, ...rows];
  const w = [0, 1, 2, 3].map((i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  const line = (row: (string | undefined)[]) =>
    row
      .map((c, i) => (c === undefined ? undefined : i === 0 || i === 3 ? c.padEnd(w[i]) : c.padStart(w[i])))
      .filter((c) => c !== undefined)
      .join("  ")
      .trimEnd();
  return [line(header), line(header.map((h) => h && "-".repeat(h.length))), ...rows.map(line)].join("\n");
}

async function main() {
  const results: Partial<Record<Store, Results>> = {};
  const t0 = performance.now();
  for (const store of stores) results[store] = store === "sqlite" ? await sqliteSuite() : await postgresSuite();
  const secs = (performance.now() - t0) / 1000;
  console.log(`\ntaskgate bench (${stores.join(" + ")}, node ${process.version}, ${quick ? "quick" : "full"}, ${secs.toFixed(0)} s)\n`);
  console.log(table(results));
  console.log("\n" + JSON.stringify({ node: process.version, quick, seconds: secs, counts: Object.fromEntries(stores.map((s) => [s, countsFor[s]])), results }, null, 2));
}

// Ctrl-C or a kill: stop the servers (the exit handler) and drop the schemas before leaving.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
    for (const c of children) c.kill("SIGKILL");
    void (stores.includes("postgres") ? dropSchemas() : Promise.resolve()).finally(() => process.exit(130));
  });
}

try {
  await main();
  process.exit(0); // a phase that timed out may have left calls pending
} catch (e) {
  console.error("bench failed:", e);
  process.exit(1);
}
