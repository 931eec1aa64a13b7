// taskgate benchmarks: `npm run bench`. Starts the server as its own process (as `npm start`
// does) on a temporary database and drives it from this process through the generated Connect
// client (gRPC transport), then prints tables (the core one: metric, sqlite, postgres, goal; the
// job-queue workload; the completion cost) and one JSON object with every figure.
//
//   npm run bench                      every measurement on SQLite, then on PostgreSQL
//   npm run bench -- --store sqlite    only one store (sqlite or postgres)
//   npm run bench -- --suite jobs      only some measurements: core, jobs, cost, polls, sfn (Step
//                                      Functions: bench/sfn.ts)
//                                      datapipeline (bench/datapipeline.ts)
//                                      (comma-separated; default all)
//   npm run bench -- --quick           smaller counts (a smoke run)
//   npm run bench -- --suite auth      SigV4 verification cost per request only (bench/auth.ts)
//   node bench/profile-jobs.ts batch /tmp/prof [tasks]
//                                      one job-queue run of one path (own, batch, aws) on SQLite
//                                      with the server's CPU profile (--cpu-prof) written there
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
// - memory per idle long poll (SQLite only, `--suite polls`): growth of the server's RSS with
//   20,000 polls held, and DescribeDomain p50/p99 (gRPC, and AWS route) meanwhile. gRPC: the polls
//   spread over 25 HTTP/2 connections (the server allows 1,000 streams per connection). AWS JSON:
//   one HTTP/1.1 connection per poll, held by helper processes (bench/hold-polls.ts), on a fresh
//   server started with --max-connections above the count; a process holds at most its open-file
//   limit of sockets, so the count is capped at that limit less 300.
//
// The job-queue workload (`--suite jobs`), each taskgate path on a server of its own on a fresh
// database (SQLite file, or PostgreSQL schema), beside BullMQ 6.7 on Redis 127.0.0.1:6379 (SQLite
// suite; keys under the prefix `taskgate-bench-<pid>`, removed before and after) and
// graphile-worker 0.18 (PostgreSQL suite, its own fresh schema):
// - enqueue: N tasks (20,000 on SQLite, 5,000 on PostgreSQL) as workflows whose first decision
//   schedules 100 activities (start, poll the decision task, RespondDecisionTaskCompleted with 100
//   ScheduleActivityTask), 4 concurrent enqueuers; BullMQ `addBulk` and graphile-worker `addJobs`
//   of 100. Timed on its own.
// - drain: then 16 workers complete the N queued no-op tasks; tasks/s from the workers' start to
//   the N-th answered completion (BullMQ: the N-th "completed" event; graphile-worker: its jobs
//   table empty). Own API: 16 StreamActivityTasks streams with maxInFlight 1 over 4 HTTP/2
//   connections, each task completed by a unary RespondActivityTaskCompleted. Own API, batch
//   delivery and completion: 16 StreamActivityTaskBatches streams (each claim's tasks in one
//   message) with maxInFlight 100, each worker completing what
//   it holds in one RespondActivityTasks once it holds 100 or 2 ms passed without a new task (the
//   stream read on meanwhile; a stream or batch answered Unavailable is retried, and counted in
//   the JSON). AWS SDK:
//   `@aws-sdk/client-swf` as shipped, 16 loops of PollForActivityTask + RespondActivityTaskCompleted.
//   BullMQ: one Worker with concurrency 16, default job options (completed jobs kept).
// - dispatch latency: 16 idle workers, then tasks enqueued one at a time at 200/s (open loop,
//   2,000 on SQLite, 1,000 on PostgreSQL, the first 100 dropped): taskgate answers a decision task
//   (in hand beforehand) with one ScheduleActivityTask; BullMQ `queue.add`; graphile-worker
//   `addJob`. The clock runs from issuing the enqueue call (which answers after its commit) until
//   the worker holds the task, so it includes the enqueue request's way to the server. Taskgate
//   paths also: until the task's completion is answered (with batch completion, after the flush
//   timer).
// - where the time goes, per drained task: server CPU (utime + stime of the server process from
//   /proc/<pid>/stat, 10 ms steps; for BullMQ, Redis's used_cpu_user + used_cpu_sys), this
//   process's CPU (clients), and the SQL statements and COMMITs the server ran, counted inside it
//   by bench/count-statements.ts (node:sqlite and pg calls; a COMMIT commits a group of
//   transactions). BullMQ: Redis commands (total_commands_processed). PostgreSQL also from its own
//   statistics over the whole phase: xact_commit of the database and rows written in the schema.
//   And the whole machine's busy cores during the drain (/proc/stat, every process counted: the
//   server, this process, Redis or PostgreSQL), for every path and for each alternating round: a
//   path that keeps one core busy reads about 1, one that keeps both busy about 2.
// - completion cost (`--suite cost`, SQLite): one RespondActivityTaskCompleted at a time while
//   1, 100 or 1,000 activities of its execution are open (an execution schedules them all, all are
//   started, then the first tenth, at most 100, are completed): latency, server CPU and statements
//   per completion, own API and AWS SDK.
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
import { sfnBench, sfnCounts, sfnTable } from "./sfn.ts";
import { dpBench, dpCounts, dpTable } from "./datapipeline.ts";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import pg from "pg";
import { DecisionType } from "../gen/taskgate/swf/v1/types_pb.ts";
import { dropSchema } from "../src/store/postgres.ts";
import {
  aborted,
  activity,
  args,
  awsClient,
  batch,
  children,
  client,
  conc,
  cpuMs,
  fixture,
  pct,
  pgUrl,
  phase,
  quick,
  root,
  rssBytes,
  serverMemory,
  settle,
  settleMs,
  startServer,
  withTimeout,
  type Results,
  type Server,
  type ServerOptions,
  type Store,
} from "./common.ts";
import { batchCredit, batchIdleMs, bullmqJobs, completionCost, graphileJobs, pairedDrains, taskgateJobs, type JobCounts } from "./jobs.ts";

const storeArg = args.includes("--store") ? args[args.indexOf("--store") + 1] : undefined;
if (storeArg !== undefined && storeArg !== "sqlite" && storeArg !== "postgres") {
  console.error(`--store must be sqlite or postgres, not ${JSON.stringify(storeArg)}`);
  process.exit(2);
}
const stores: Store[] = storeArg === undefined ? ["sqlite", "postgres"] : [storeArg];
/** Open activities of the execution in the completion-cost measurement. */
const openCounts = [1, 100, 1000];
// `--suite auth`: the cost of SigV4 verification per request, measured in this process
// (bench/auth.ts); no server, no store.
if (args.includes("--suite") && args[args.indexOf("--suite") + 1] === "auth") {
  const { authBench } = await import("./auth.ts");
  console.log(JSON.stringify({ node: process.version, quick, auth: await authBench(quick) }, null, 2));
  process.exit(0);
}
const allSuites = ["core", "jobs", "cost", "polls", "sfn", "datapipeline"] as const;
type Suite = (typeof allSuites)[number];
const suiteArg = args.includes("--suite") ? args[args.indexOf("--suite") + 1] : undefined;
const suites = new Set<Suite>(suiteArg === undefined ? allSuites : (suiteArg.split(",") as Suite[]));
for (const x of suites)
  if (!allSuites.includes(x)) {
    console.error(`--suite takes ${allSuites.join(", ")} (comma-separated), not ${JSON.stringify(x)}`);
    process.exit(2);
  }
const tgSchema = `taskgate_bench_${process.pid}`;
const gwSchema = `taskgate_bench_gw_${process.pid}`;

interface Counts {
  rtt: number;
  dispatch: number;
  workflows: number;
  streamExecutions: number;
  idlePolls: number;
  jobs: number;
  graphileLatency: number;
  /** The job-queue workload: drained tasks, tasks enqueued for the latency, at `rate`/s. */
  jobQueue: JobCounts;
  /** Completions measured per open-activity count (SQLite only). */
  costSamples: number;
}
// PostgreSQL runs fewer iterations than SQLite where its per-operation cost would otherwise break
// the time budget (the whole run in ~6 minutes, --quick in ~2); the two sides of the
// graphile-worker comparison always use the same counts.
const countsFor: Record<Store, Counts> = quick
  ? {
      sqlite: { rtt: 200, dispatch: 100, workflows: 300, streamExecutions: 3, idlePolls: 2000, jobs: 1000, graphileLatency: 0, jobQueue: { drain: 2000, latency: 400, rate: 200 }, costSamples: 50 },
      postgres: { rtt: 200, dispatch: 100, workflows: 200, streamExecutions: 2, idlePolls: 0, jobs: 1000, graphileLatency: 100, jobQueue: { drain: 1000, latency: 300, rate: 200 }, costSamples: 0 },
    }
  : {
      sqlite: { rtt: 2000, dispatch: 1000, workflows: 3000, streamExecutions: 10, idlePolls: 20_000, jobs: 4000, graphileLatency: 0, jobQueue: { drain: 20_000, latency: 2000, rate: 200 }, costSamples: 500 },
      postgres: { rtt: 2000, dispatch: 500, workflows: 1000, streamExecutions: 5, idlePolls: 0, jobs: 4000, graphileLatency: 400, jobQueue: { drain: 5000, latency: 1000, rate: 200 }, costSamples: 0 },
    };

/** Alternating drain rounds of the batch path and BullMQ (the jobs suite on SQLite). */
const pairedRounds = quick ? 2 : 4;

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

/** p50 / p99 of `n` sequential calls of `call`. */
async function latencies(n: number, call: () => Promise<unknown>) {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    xs.push(performance.now() - t0);
  }
  return { p50: pct(xs, 50), p99: pct(xs, 99) };
}

/** Waits (at most 90 s) until the process `pid` has used under 10 % of a core for half a second. */
async function quiet(pid: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < 90_000) {
    const c0 = cpuMs(pid);
    await sleep(500);
    if (cpuMs(pid) - c0 <= 50) break;
  }
  return (performance.now() - t0) / 1000;
}

/** Open connections as the server's /healthz counts them. */
async function openConnections(url: string): Promise<number> {
  const r = (await (await fetch(`${url}/healthz`)).json()) as { connections: { open: number } };
  return r.connections.open;
}

/** A child process holding `count` AWS JSON long polls, one connection each (bench/hold-polls.ts). */
async function holdAwsPolls(url: string, domain: string, taskList: string, count: number) {
  const child = spawn(process.execPath, ["bench/hold-polls.ts", url, domain, taskList, String(count)], { cwd: root, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const ready = await withTimeout(new Promise<{ sent: number; failed: number }>((resolve) => child.once("message", (m) => resolve(m as { sent: number; failed: number }))), 90_000, "hold-polls");
  return {
    ...ready,
    status: () => withTimeout(new Promise<Record<string, number>>((resolve) => (child.once("message", (m) => resolve(m as Record<string, number>)), child.send("status"))), 5000, "hold-polls status"),
    stop: () => withTimeout(new Promise<void>((resolve) => (child.once("exit", () => resolve()), child.send("stop"))), 10_000, "hold-polls stop").catch(() => void child.kill("SIGKILL")),
  };
}

/**
 * Server memory per idle long poll: RSS growth with `n` polls held, and DescribeDomain's latency
 * meanwhile (on a connection of its own). gRPC: the polls spread over connections of at most 800
 * streams each (the server allows 1,000 per connection). AWS JSON: one HTTP/1.1 connection per
 * poll, opened by helper processes of at most 10,000 connections each.
 */
async function idlePolls(start: () => Promise<Server>, n: number) {
  let server = await start();
  let pid = server.child.pid!;
  const clients = Array.from({ length: Math.ceil(n / 800) }, () => client(server.url));
  let probe = client(server.url);
  const domain = await fixture(probe);
  let probeAws = awsClient(server.url, 1);
  const describe = () => latencies(quick ? 100 : 500, () => probe.describeDomain({ name: domain }));
  const describeAws = () => latencies(quick ? 100 : 500, () => probeAws("DescribeDomain", { name: domain }));
  await describe(); // warm up
  await describeAws();

  // gRPC over HTTP/2. Warm up (JIT, pools) with 1,000 polls first.
  let i = 0;
  let settleSeconds = 0;
  const grpcPolls = async (count: number, wait: number, during: () => Promise<void>) => {
    const ac = new AbortController();
    const polls = Array.from({ length: count }, () => clients[i++ % clients.length].pollForActivityTask({ domain, taskList: { name: "idle" } }, { signal: ac.signal }).catch(() => undefined));
    await sleep(wait);
    settleSeconds = await quiet(pid); // every poll has arrived and parked
    await during();
    ac.abort();
    await Promise.all(polls);
    await sleep(1000);
  };
  await grpcPolls(Math.min(n, 1000), 1000, async () => {});
  await quiet(pid);
  const heap = async () => {
    const m = await serverMemory(server);
    return m.heapUsed + m.external + m.arrayBuffers;
  };
  // RSS first: the heap figure follows a full collection.
  let rssBefore = rssBytes(pid);
  const grpc = { before: rssBefore, heapBefore: await heap(), heapDuring: 0, during: 0, settleSeconds: 0, connections: 0, describe: { p50: 0, p99: 0 }, describeAws: { p50: 0, p99: 0 } };
  await grpcPolls(n, 1000, async () => {
    grpc.settleSeconds = settleSeconds;
    grpc.during = rssBytes(pid);
    grpc.heapDuring = await heap();
    grpc.connections = await openConnections(server.url);
    grpc.describeAws = await describeAws();
    grpc.describe = await describe();
  });

  // AWS JSON over HTTP/1.1, one connection per poll, on a fresh server process (the heap the
  // gRPC polls left behind would otherwise absorb part of the growth).
  await server.stop();
  server = await start();
  pid = server.child.pid!;
  probe = client(server.url);
  probeAws = awsClient(server.url, 1);
  await describe();
  await describeAws();
  const openFileLimit = Number(/Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))![1]);
  const warm = await holdAwsPolls(server.url, domain, "idle-aws", Math.min(n, 1000));
  await sleep(1000);
  await warm.stop();
  await sleep(1000);
  await quiet(pid);
  rssBefore = rssBytes(pid);
  const aws = { fds: 0, settleSeconds: 0, before: rssBefore, heapBefore: await heap(), heapDuring: 0, during: 0, connectionsBefore: await openConnections(server.url), connections: 0, held: 0, failed: 0, describe: { p50: 0, p99: 0 }, describeAws: { p50: 0, p99: 0 } };
  // One socket per poll: the server's open-file limit (less its reserve of 1/32, at most 64, and
  // room for its own files) caps how many it can hold.
  const m = Math.min(n, openFileLimit - 300);
  const per = 10_000;
  const holders = await Promise.all(Array.from({ length: Math.ceil(m / per) }, (_, k) => holdAwsPolls(server.url, domain, "idle-aws", Math.min(per, m - k * per))));
  try {
    // Until the server has accepted them all, or its count stops growing for 2 s (at most 90 s),
    // and is idle again.
    const deadline = performance.now() + 90_000;
    let last = -1;
    let steady = 0;
    for (let open = 0; open < aws.connectionsBefore + m && steady < 8 && performance.now() < deadline; ) {
      await sleep(250);
      open = await openConnections(server.url);
      steady = open === last ? steady + 1 : 0;
      last = open;
    }
    aws.settleSeconds = await quiet(pid);
    const status = await Promise.all(holders.map((h) => h.status()));
    aws.failed = status.reduce((a, s) => a + s.failed + s.answered, 0);
    aws.held = m - aws.failed;
    aws.during = rssBytes(pid);
    aws.heapDuring = await heap();
    aws.connections = await openConnections(server.url);
    aws.fds = readdirSync(`/proc/${pid}/fd`).length;
    aws.describeAws = await describeAws();
    aws.describe = await describe();
  } finally {
    await Promise.all(holders.map((h) => h.stop()));
  }
  await sleep(1000);
  await server.stop();
  return {
    polls: n,
    grpcConnections: clients.length,
    rssBeforeMiB: grpc.before / 2 ** 20,
    rssDuringMiB: grpc.during / 2 ** 20,
    bytesPerPoll: (grpc.during - grpc.before) / n,
    heapBytesPerPoll: (grpc.heapDuring - grpc.heapBefore) / n,
    settleSeconds: grpc.settleSeconds,
    describeP50: grpc.describe.p50,
    describeP99: grpc.describe.p99,
    describeAwsRouteP50: grpc.describeAws.p50,
    describeAwsRouteP99: grpc.describeAws.p99,
    awsHeld: aws.held,
    serverOpenFileLimit: openFileLimit,
    awsFailed: aws.failed,
    awsOpenConnections: aws.connections,
    awsRssBeforeMiB: aws.before / 2 ** 20,
    awsRssDuringMiB: aws.during / 2 ** 20,
    awsServerHeld: aws.connections - aws.connectionsBefore,
    awsServerOpenFiles: aws.fds,
    awsBytesPerPoll: (aws.during - aws.before) / Math.max(1, aws.connections - aws.connectionsBefore),
    awsSettleSeconds: aws.settleSeconds,
    awsHeapBytesPerPoll: (aws.heapDuring - aws.heapBefore) / Math.max(1, aws.connections - aws.connectionsBefore),
    awsDescribeP50: aws.describe.p50,
    awsDescribeP99: aws.describe.p99,
    awsDescribeAwsRouteP50: aws.describeAws.p50,
    awsDescribeAwsRouteP99: aws.describeAws.p99,
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

/** The taskgate paths of the job-queue workload, their result keys and names. */
const jobRoutes = ["own", "batch", "batchConnectNode", "aws"] as const;
const jobKey = { own: "jobsOwn", batch: "jobsBatch", batchConnectNode: "jobsBatchConnectNode", aws: "jobsAws" } as const;
const jobName = { own: "own gRPC API", batch: "own gRPC API, batch delivery and completion", batchConnectNode: "own gRPC API, batch, connect-node's transport", aws: "AWS SDK" } as const;

async function sqliteSuite(): Promise<Results> {
  const dir = mkdtempSync(join(tmpdir(), "taskgate-bench-"));
  const database = (name: string) => `sqlite:${join(dir, `${name}.db`)}`;
  const n = countsFor.sqlite;
  const r: Results = {};
  const servers: Server[] = [];
  const start = async (name: string, opts?: ServerOptions) => {
    const s = await startServer(database(name), opts);
    servers.push(s);
    return s;
  };
  try {
    if (suites.has("core")) {
      const a = await start("bench");
      r.rtt = await phase("sqlite unary rtt", 60, () => rtt(a.url, n.rtt));
      r.dispatch = await phase("sqlite dispatch latency", 90, () => dispatch(a.url, a.url, n.dispatch));
      r.workflows = await phase("sqlite workflows/s", 90, () => workflows([a.url], n.workflows));
      r.workflowsAws = await phase("sqlite workflows/s, AWS JSON route", 90, () => workflowsAws(a.url, n.workflows));
      r.streaming = await phase("sqlite streaming", 90, () => streaming(a.url, n.streamExecutions));
      r.enqueueComplete = await phase("sqlite enqueue/complete", 90, () => enqueueComplete(a.url, n.jobs));
      await a.stop();
    }
    if (suites.has("jobs")) {
      // Each taskgate path on a server of its own, on a fresh database, statements counted.
      for (const route of jobRoutes) {
        await settle();
        const s = await start(`jobs-${route}`, { count: true });
        r[jobKey[route]] = await phase(`sqlite jobs, ${jobName[route]}`, 400, () => taskgateJobs(s, route, n.jobQueue));
        await s.stop();
      }
      await settle();
      r.jobsBullmq = await phase("BullMQ jobs", 200, () => bullmqJobs(n.jobQueue));
      let round = 0;
      r.jobsPaired = await phase(`sqlite jobs, batch path and BullMQ in ${pairedRounds} alternating drains`, 300, () =>
        pairedDrains(() => start(`paired-${++round}`), pairedRounds, n.jobQueue.drain),
      );
    }
    if (suites.has("cost")) {
      const s = await start("cost", { count: true });
      for (const route of ["own", "aws"] as const)
        for (const open of openCounts) r[`cost_${route}_${open}`] = await phase(`sqlite completion cost, ${route}, ${open} open`, 120, () => completionCost(s, route, open, n.costSamples));
      await s.stop();
    }
    if (suites.has("sfn")) {
      const s = await start("sfn");
      r.sfn = await sfnBench(s.url, sfnCounts(quick), phase);
      await s.stop();
    }
    if (suites.has("datapipeline")) {
      const s = await start("datapipeline");
      r.datapipeline = await dpBench(s.url, dpCounts(quick), phase);
      await s.stop();
    }
    if (suites.has("polls")) {
      // Room for every poll on its own connection, and the file descriptors for them.
      // Polls held 240 s (of the 300 s any request may take), so none is answered while the
      // bench waits for all of them to arrive.
      const opts = { count: true, flags: ["--max-connections", String(n.idlePolls + 1000), "--max-polls-per-task-list", String(n.idlePolls + 1000), "--long-poll-seconds", "240"], nofile: 2 * n.idlePolls + 1000 };
      r.idlePolls = await phase("sqlite idle polls", 240, () => idlePolls(() => start("polls", opts), n.idlePolls));
    }
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
    if (suites.has("core")) {
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
    }
    if (suites.has("sfn")) {
      await dropSchema(pgUrl, tgSchema);
      const s = await startServer(database);
      servers.push(s);
      r.sfn = await sfnBench(s.url, sfnCounts(quick), phase);
      await s.stop();
    }
    if (suites.has("datapipeline")) {
      await dropSchema(pgUrl, tgSchema);
      const s = await startServer(database);
      servers.push(s);
      r.datapipeline = await dpBench(s.url, dpCounts(quick), phase);
      await s.stop();
    }
    if (suites.has("jobs")) {
      // Each taskgate path on a fresh schema, statements counted; then graphile-worker alone.
      for (const route of jobRoutes) {
        await dropSchema(pgUrl, tgSchema);
        const s = await startServer(database, { count: true });
        servers.push(s);
        const pgBefore = await pgWrites();
        r[jobKey[route]] = await phase(`postgres jobs, ${jobName[route]}`, 600, () => taskgateJobs(s, route, n.jobQueue));
        await s.stop();
        const pgAfter = await pgWrites();
        // Everything the server wrote in this phase (enqueue, drain, latency), per drained-or-latency task.
        const tasks = n.jobQueue.drain + n.jobQueue.latency;
        Object.assign(r[jobKey[route]], {
          pgCommitsPerTaskAllPhases: (pgAfter.commits - pgBefore.commits) / tasks,
          pgRowWritesPerTaskAllPhases: (pgAfter.rows - pgBefore.rows) / tasks,
        });
      }
      await dropSchema(pgUrl, gwSchema);
      r.jobsGraphile = await phase("graphile-worker jobs", 400, () => graphileJobs(gwSchema, n.jobQueue));
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await dropSchemas();
  }
  return r;
}

/**
 * PostgreSQL's own view: committed transactions in the database (every client's, flushed about
 * once a second) and rows inserted, updated and deleted in taskgate's bench schema.
 */
async function pgWrites(): Promise<{ commits: number; rows: number }> {
  await sleep(1500);
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    await c.query("SELECT pg_stat_clear_snapshot()");
    const x = await c.query<{ n: string }>("SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()");
    const t = await c.query<{ n: string | null }>("SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) AS n FROM pg_stat_user_tables WHERE schemaname = $1", [tgSchema]);
    return { commits: Number(x.rows[0].n), rows: Number(t.rows[0].n ?? 0) };
  } finally {
    await c.end();
  }
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
  // A row whose measurement did not run (another --suite) shows "-".
  const cell = (r: Results | undefined, f: (r: Results) => string | undefined) => {
    if (r === undefined) return undefined;
    try {
      return f(r) ?? "-";
    } catch {
      return "-";
    }
  };
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
    [
      `memory per idle long poll, gRPC/HTTP2 (${countsFor.sqlite.idlePolls} held, ${Math.ceil(countsFor.sqlite.idlePolls / 800)} connections)`,
      ...both((r) => r.idlePolls && `${(r.idlePolls.bytesPerPoll / 1024).toFixed(2)} KiB (JS heap ${(r.idlePolls.heapBytesPerPoll / 1024).toFixed(2)} KiB)`),
      "<= 16 KiB",
    ],
    ["  DescribeDomain p50 / p99 meanwhile (gRPC; AWS route)", ...both((r) => r.idlePolls && `${ms(r.idlePolls.describeP50)} / ${ms(r.idlePolls.describeP99)}; ${ms(r.idlePolls.describeAwsRouteP50)} / ${ms(r.idlePolls.describeAwsRouteP99)} ms`), "p99 < 10 ms"],
    [
      `memory per idle long poll, AWS JSON/HTTP1.1 (one connection each)`,
      ...both((r) => r.idlePolls && `${(r.idlePolls.awsBytesPerPoll / 1024).toFixed(2)} KiB (JS heap ${(r.idlePolls.awsHeapBytesPerPoll / 1024).toFixed(2)} KiB; ${int(r.idlePolls.awsServerHeld)} held; open-file limit ${int(r.idlePolls.serverOpenFileLimit)})`),
      "<= 16 KiB",
    ],
    ["  DescribeDomain p50 / p99 meanwhile (gRPC; AWS route)", ...both((r) => r.idlePolls && `${ms(r.idlePolls.awsDescribeP50)} / ${ms(r.idlePolls.awsDescribeP99)}; ${ms(r.idlePolls.awsDescribeAwsRouteP50)} / ${ms(r.idlePolls.awsDescribeAwsRouteP99)} ms`), "p99 < 10 ms"],
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
  const measured = rows.filter((row) => row.slice(1, 3).some((c) => c !== undefined && c !== "-")); // rows of a suite that ran
  return [line(header), line(header.map((h) => h && "-".repeat(h.length))), ...measured.map(line)].join("\n");
}

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
function grid(header: string[], rows: string[][]): string {
  const all = [header, header.map((h) => "-".repeat(h.length)), ...rows];
  const w = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all.map((row) => row.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ").trimEnd()).join("\n");
}

const fixed = (x: number | undefined, digits: number) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits));

/** The alternating drains of the batch path and BullMQ, one line per round and the median ratio. */
function pairedTable(results: Partial<Record<Store, Results>>): string {
  const p = results.sqlite?.jobsPaired;
  if (p === undefined) return "";
  const rounds = Array.from({ length: p.rounds }, (_, k) => k + 1).map((i) => [
    `round ${i}${i % 2 === 0 ? " (BullMQ first)" : ""}`,
    int(p[`taskgate${i}`]),
    int(p[`bullmq${i}`]),
    `${p[`ratio${i}`].toFixed(2)}x`,
    `${fixed(p[`taskgateCores${i}`], 2)} / ${fixed(p[`bullmqCores${i}`], 2)}`,
  ]);
  return (
    `\n\nbatch path against BullMQ, drains of ${int(p.tasks)} tasks alternating (each taskgate round on a fresh server and database): median ${p.medianRatio.toFixed(2)}x\n` +
    grid(["round", "", "taskgate tasks/s", "BullMQ tasks/s", "ratio", "machine cores busy, taskgate / BullMQ"], rounds.map(([a, ...rest]) => [a, "", ...rest]))
  );
}

/** The job-queue workload: one row per store and path. */
function jobsTable(results: Partial<Record<Store, Results>>): string {
  const rows: string[][] = [];
  const paths: [string, string][] = [
    ["jobsOwn", "taskgate, own gRPC API (stream + unary complete)"],
    ["jobsBatch", `taskgate, own gRPC API, batch delivery + completion (credit ${batchCredit}, flush at ${batchCredit} or ${batchIdleMs} ms idle)`],
    ["jobsBatchConnectNode", "taskgate, same, client on connect-node's gRPC transport"],
    ["jobsAws", "taskgate, SWF via @aws-sdk/client-swf"],
    ["jobsBullmq", "BullMQ 6.7 on Redis (in memory)"],
    ["jobsGraphile", "graphile-worker 0.18"],
  ];
  for (const store of stores)
    for (const [key, label] of paths) {
      const j = results[store]?.[key];
      if (j === undefined) continue;
      const q = countsFor[store].jobQueue;
      const cost =
        j.statementsPerTask !== undefined
          ? `${fixed(j.statementsPerTask, 1)} / ${fixed(j.commitsPerTask, 2)}`
          : j.redisCommandsPerTask !== undefined
            ? `${fixed(j.redisCommandsPerTask, 1)} Redis commands`
            : j.pgCommitsPerTask !== undefined
              ? `- / ${fixed(j.pgCommitsPerTask, 2)} (pg_stat_database)`
              : "-";
      rows.push([
        store,
        label,
        int(j.enqueuePerSecond),
        int(j.tasksPerSecond),
        `${ms(j.latencyP50)} / ${ms(j.latencyP99)} ms`,
        j.completionLatencyP50 === undefined ? "-" : `${ms(j.completionLatencyP50)} / ${ms(j.completionLatencyP99)} ms`,
        j.serverCpuMsPerTask === undefined ? "-" : `${ms(j.serverCpuMsPerTask)} ms`,
        j.benchCpuMsPerTask === undefined ? "-" : `${ms(j.benchCpuMsPerTask)} ms`,
        fixed(j.drainMachineCores, 2),
        cost,
        `${int(q.drain)}; ${int(q.latency)} at ${q.rate}/s`,
      ]);
    }
  return (
    "job-queue workload: N tasks enqueued (workflows of 100 activities / batches of 100), then drained by 16 workers; then one task at a time at 200/s\n" +
    grid(["store", "path", "enqueue tasks/s", "drain tasks/s", "dispatch p50 / p99", "to completion answered p50 / p99", "server CPU/task", "bench CPU/task", "cores busy (drain)", "statements / commits per task", "tasks; latency tasks"], rows) +
    "\nserver CPU: the taskgate process (/proc/<pid>/stat) or Redis (INFO used_cpu_*); cores busy: the whole machine's busy time during the drain (/proc/stat), in cores; statements/commits: counted in the server process (taskgate)"
  );
}

/** Completion cost by the number of open activities of the execution (SQLite). */
function costTable(results: Partial<Record<Store, Results>>): string {
  const r = results.sqlite;
  if (r === undefined) return "";
  const rows = openCounts.map((open) => {
    const row = [String(open)];
    for (const route of ["own", "aws"]) {
      const c = r[`cost_${route}_${open}`];
      row.push(c ? `${ms(c.p50)} / ${ms(c.p99)} ms` : "-", c ? `${ms(c.serverCpuMsPerTask)} ms` : "-", c ? `${fixed(c.statementsPerTask, 1)} / ${fixed(c.commitsPerTask, 2)}` : "-");
    }
    return row;
  });
  return (
    "one RespondActivityTaskCompleted while N activities of its execution are open (SQLite, sequential calls)\n" +
    grid(["open", "own API p50 / p99", "server CPU", "stmts / commits", "AWS SDK p50 / p99", "server CPU", "stmts / commits"], rows)
  );
}

async function main() {
  const results: Partial<Record<Store, Results>> = {};
  const t0 = performance.now();
  for (const store of stores) results[store] = store === "sqlite" ? await sqliteSuite() : await postgresSuite();
  const secs = (performance.now() - t0) / 1000;
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["describe", "--always", "--dirty"], { cwd: root, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  console.log(`\ntaskgate bench (${stores.join(" + ")}, ${commit}, node ${process.version}, ${quick ? "quick" : "full"}, ${secs.toFixed(0)} s)\n`);
  if (suites.has("core") || suites.has("polls")) console.log(table(results));
  if (suites.has("jobs")) console.log("\n" + jobsTable(results) + pairedTable(results));
  if (suites.has("cost")) console.log("\n" + costTable(results));
  if (suites.has("sfn")) console.log("\n" + sfnTable(results));
  if (suites.has("datapipeline")) console.log("\n" + dpTable(results));
  // The SigV4 verification cost (bench/auth.ts) belongs to a full run too.
  if (suiteArg === undefined) Object.assign(results, { auth: await (await import("./auth.ts")).authBench(quick) });
  console.log("\n" + JSON.stringify({ commit, node: process.version, quick, seconds: secs, counts: Object.fromEntries(stores.map((s) => [s, countsFor[s]])), results }, null, 2));
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
