// The job-queue workload of `npm run bench` (`--suite jobs`) and the completion cost by open
// activities (`--suite cost`). See the header of bench/run.ts for what each figure means.
import { setTimeout as sleep } from "node:timers/promises";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import {
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RespondActivityTaskCompletedCommand,
  RespondDecisionTaskCompletedCommand,
  StartWorkflowExecutionCommand,
  SWFClient,
} from "@aws-sdk/client-swf";
import { Queue, Worker } from "bullmq";
import { Logger, makeWorkerUtils, run, type WorkerUtils } from "graphile-worker";
import pg from "pg";
import { Code, ConnectError } from "@connectrpc/connect";
import { aborted, activity, batch, client, conc, connectNodeClient, fixture, machineCores, pct, pgUrl, serverCost, settle, withTimeout, type Server, type Swf } from "./common.ts";

export interface JobCounts {
  /** Tasks drained by 16 workers (enqueued first, in workflows of 100 activities each). */
  drain: number;
  /** Tasks enqueued one at a time at `rate` per second for the dispatch latency. */
  latency: number;
  rate: number;
}

/** Dropped from the start of each latency run. */
const warmup = 100;

/** The AWS SDK client as an SWF worker configures it: plain HTTP to the server, no retries. */
function sdk(url: string): SWFClient {
  return new SWFClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 120_000 }),
  });
}

/** The calls of one path: the generated Connect client, or @aws-sdk/client-swf. */
interface Path {
  start(workflowId: string): Promise<unknown>;
  /** Polls one decision task and returns its token ("" when the poll came back empty). */
  pollDecision(signal: AbortSignal): Promise<string>;
  decide(token: string, activityIds: string[]): Promise<unknown>;
  /** Runs one worker until `signal` aborts: `received(activityId)` as each task arrives, `completed(undefined, activityId)` once its completion is answered. */
  worker(signal: AbortSignal, received: (activityId: string) => void, completed: (error: unknown, activityId: string) => void): Promise<void>;
}

/** Batch completion: tasks a worker holds at most (its stream's credit), and flushes at once. */
export const batchCredit = 100;
/** Batch completion: a worker flushes what it holds after this long without a new task. */
export const batchIdleMs = 2;

function ownPath(url: string, domain: string, mk: (url: string) => Swf = client): (k: number) => Path {
  const clients = Array.from({ length: 4 }, () => mk(url));
  return (k) => {
    const c = clients[k % clients.length];
    return {
      start: (workflowId) => c.startWorkflowExecution({ domain, workflowId, workflowType: { name: "wf", version: "1" } }),
      pollDecision: async (signal) => (await c.pollForDecisionTask({ domain, taskList: { name: "d" }, maximumPageSize: 1 }, { signal })).taskToken ?? "",
      decide: (taskToken, ids) => c.respondDecisionTaskCompleted({ taskToken, decisions: ids.map(activity) }),
      // One stream per worker with credit for one task: the next task comes once this one is completed.
      worker: async (signal, received, completed) => {
        for await (const t of c.streamActivityTasks({ domain, taskList: { name: "a" }, maxInFlight: 1 }, { signal })) {
          received(t.activityId!);
          await c.respondActivityTaskCompleted({ taskToken: t.taskToken, result: "ok" }).then(
            () => completed(undefined, t.activityId!),
            (e: unknown) => completed(e, t.activityId!),
          );
        }
      },
    };
  };
}

/** Unavailable answers the batch path retried in the current run of taskgateJobs. */
const retries = { streams: 0, batches: 0 };

/** `call()`, again after an Unavailable (the store failed and nothing was applied), up to 5 times. */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (attempt >= 5 || !(e instanceof ConnectError) || e.code !== Code.Unavailable) throw e;
      retries.batches++;
      await sleep(10);
    }
  }
}

/**
 * The own API with batch delivery and completion: each worker's StreamActivityTaskBatches stream
 * (the tasks of a claim in one message) has credit for `batchCredit` tasks, and
 * the worker completes what it holds in one RespondActivityTasks once it holds `batchCredit` or
 * `batchIdleMs` passed without a new task. The stream is read on while a flush is in flight (the
 * tasks of a flush give their credit back when it commits).
 */
function batchPath(url: string, domain: string, mk: (url: string) => Swf = client): (k: number) => Path {
  const own = ownPath(url, domain, mk);
  const clients = Array.from({ length: 4 }, () => mk(url));
  return (k) => {
    const c = clients[k % clients.length];
    return {
      ...own(k),
      worker: async (signal, received, completed) => {
        let held: { taskToken: string; activityId: string }[] = [];
        let timer: NodeJS.Timeout | undefined;
        const flushes = new Set<Promise<void>>();
        const flush = () => {
          clearTimeout(timer);
          timer = undefined;
          if (held.length === 0) return;
          const tasks = held;
          held = [];
          const f = retrying(() => c.respondActivityTasks({ outcomes: tasks.map((t) => ({ outcome: { case: "completed", value: { taskToken: t.taskToken, result: "ok" } } })) }))
            .then(
              ({ results }) => tasks.forEach((t, i) => completed(results[i] === undefined ? new Error("no result") : results[i].fault, t.activityId)),
              (e: unknown) => tasks.forEach((t) => completed(e, t.activityId)),
            )
            .finally(() => flushes.delete(f));
          flushes.add(f);
        };
        try {
          // A stream that fails with Unavailable is opened again; the tasks it delivered stay
          // started and are completed with the rest.
          for (;;) {
            try {
              for await (const m of c.streamActivityTaskBatches({ domain, taskList: { name: "a" }, maxInFlight: batchCredit }, { signal })) {
                for (const t of m.tasks) {
                  received(t.activityId!);
                  held.push({ taskToken: t.taskToken!, activityId: t.activityId! });
                }
                if (held.length >= batchCredit) flush();
                else {
                  clearTimeout(timer);
                  timer = setTimeout(flush, batchIdleMs);
                }
              }
              return;
            } catch (e) {
              if (signal.aborted || !(e instanceof ConnectError) || e.code !== Code.Unavailable) throw e;
              retries.streams++;
              await sleep(10);
            }
          }
        } finally {
          flush(); // what is still held once the stream ends
          await Promise.all(flushes);
        }
      },
    };
  };
}

/**
 * `signal` for one call only: once the call has answered, aborting `signal` no longer reaches it.
 * (The SDK's HTTP handler listens for abort until the request emits "close", which can come after
 * the response was read, and then destroys the socket; the server sees the connection fail within
 * its delivery settle window, counts the task it had just answered as undelivered and takes it
 * back, and the token in hand is void.)
 */
async function callWith<T>(signal: AbortSignal, call: (s: AbortSignal) => Promise<T>): Promise<T> {
  const own = new AbortController();
  const abort = () => own.abort();
  if (signal.aborted) own.abort();
  signal.addEventListener("abort", abort);
  try {
    return await call(own.signal);
  } finally {
    signal.removeEventListener("abort", abort);
  }
}

function awsPath(url: string, domain: string): (k: number) => Path {
  const clients = Array.from({ length: 4 }, () => sdk(url));
  return (k) => {
    const c = clients[k % clients.length];
    return {
      start: (workflowId) => c.send(new StartWorkflowExecutionCommand({ domain, workflowId, workflowType: { name: "wf", version: "1" } })),
      pollDecision: async (signal) => (await callWith(signal, (s) => c.send(new PollForDecisionTaskCommand({ domain, taskList: { name: "d" }, maximumPageSize: 1 }), { abortSignal: s }))).taskToken ?? "",
      decide: (taskToken, ids) =>
        c.send(
          new RespondDecisionTaskCompletedCommand({
            taskToken,
            decisions: ids.map((activityId) => ({ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId, activityType: { name: "act", version: "1" } } })),
          }),
        ),
      worker: async (signal, received, completed) => {
        while (!signal.aborted) {
          const a = await callWith(signal, (s) => c.send(new PollForActivityTaskCommand({ domain, taskList: { name: "a" } }), { abortSignal: s }));
          if (!a.taskToken) continue;
          const id = a.activityId!;
          received(id);
          await c.send(new RespondActivityTaskCompletedCommand({ taskToken: a.taskToken, result: "ok" })).then(
            () => completed(undefined, id),
            (e: unknown) => completed(e, id),
          );
        }
      },
    };
  };
}

/**
 * Starts `executions` workflows and takes their first decision tasks (16 pollers). The pollers
 * still waiting once every token is in hand are aborted only by `release()`, to be called once
 * the tokens are used: an abort that reaches a poll as its answer arrives makes the server count
 * that answer undelivered and take the task back (its delivery settle window), voiding a token.
 */
async function openDecisions(path: (k: number) => Path, prefix: string, executions: number): Promise<{ tokens: string[]; release: () => Promise<void> }> {
  await Promise.all(
    Array.from({ length: conc }, async (_, k) => {
      for (let e = k; e < executions; e += conc) await path(k).start(`${prefix}${e}`);
    }),
  );
  const tokens: string[] = [];
  const deadline = performance.now() + 120_000;
  const ac = new AbortController();
  let enough: () => void = () => {};
  const done = new Promise<void>((r) => (enough = r));
  const pollers = Array.from({ length: Math.min(conc, executions) }, async (_, k) => {
    while (tokens.length < executions && performance.now() < deadline) {
      const t = await path(k).pollDecision(ac.signal);
      if (t && tokens.length < executions) tokens.push(t);
      if (tokens.length >= executions) enough();
    }
  }).map((l) => l.catch(aborted(ac.signal)));
  const timer = setTimeout(enough, 120_000);
  await Promise.race([done, Promise.all(pollers)]);
  clearTimeout(timer);
  const release = async () => {
    ac.abort();
    await Promise.all(pollers);
  };
  if (tokens.length < executions) {
    await release();
    throw new Error(`only ${tokens.length} of ${executions} decision tasks arrived`);
  }
  return { tokens, release };
}

/** Runs `conc` workers until `total` tasks were received and completed, or `limitMs` passed. */
function workers(path: (k: number) => Path, onReceived: (activityId: string) => void, onCompleted: (activityId: string) => void = () => {}) {
  const ac = new AbortController();
  let errors = 0;
  const completed = (e: unknown, activityId: string) => {
    if (e === undefined) return onCompleted(activityId);
    if (errors++ === 0) console.error("bench: a completion failed:", e);
  };
  const loops = Array.from({ length: conc }, (_, k) => path(k).worker(ac.signal, onReceived, completed).catch(aborted(ac.signal)));
  for (const l of loops) l.catch(() => {}); // reported by until() or stop()
  return {
    loops,
    errors: () => errors,
    async stop() {
      ac.abort();
      await Promise.all(loops);
    },
  };
}

/** Resolves when `count()` reaches `total`; rejects when a worker loop fails or `ms` pass. */
async function until(count: () => number, total: number, ms: number, loops: Promise<unknown>[], what: string) {
  const deadline = performance.now() + ms;
  const failed = Promise.race(loops.map((l) => l.then(() => new Promise<never>(() => {}))));
  const reached = (async () => {
    while (count() < total) {
      if (performance.now() > deadline) throw new Error(`${what}: ${count()} of ${total} after ${ms / 1000} s`);
      await sleep(2);
    }
  })();
  await Promise.race([reached, failed]);
}

/** The dispatch-latency figures of a paced run, as the JSON reports them. */
function latencyFigures(l: Awaited<ReturnType<typeof paced>>) {
  return { latencyP50: l.p50, latencyP99: l.p99, latencyMax: l.max, latencySamples: l.samples, latencyMissing: l.missing };
}

/** Paces `n` enqueues at `rate`/s, one at a time, and returns the dispatch latencies (enqueue sent -> worker holds the task). */
async function paced(n: number, rate: number, enqueue: (i: number) => Promise<unknown>, sentAt: number[], lat: number[]) {
  const t0 = performance.now();
  const inFlight: Promise<unknown>[] = [];
  let errors = 0;
  let firstError: unknown;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    sentAt[i] = performance.now();
    inFlight.push(
      enqueue(i).catch((e: unknown) => {
        errors++;
        firstError ??= e;
      }),
    );
  }
  await Promise.all(inFlight);
  if (firstError !== undefined) console.error(`bench: ${errors} of ${n} enqueues failed; the first:`, firstError);
  const deadline = performance.now() + 30_000;
  while (lat.filter((x) => x !== undefined).length < n && performance.now() < deadline) await sleep(5);
  const xs = lat.slice(warmup).filter((x) => x !== undefined);
  const missing = n - lat.filter((x) => x !== undefined).length;
  return { p50: pct(xs, 50), p99: pct(xs, 99), max: Math.max(...xs), samples: xs.length, missing, errors, sendSeconds: (performance.now() - t0) / 1000 };
}

/** A taskgate path on `server` in a fresh domain. */
async function pathOn(server: Server, route: "own" | "batch" | "batchConnectNode" | "aws"): Promise<(k: number) => Path> {
  const domain = await fixture(client(server.url));
  return { own: ownPath, batch: batchPath, batchConnectNode: (url: string, d: string) => batchPath(url, d, connectNodeClient), aws: awsPath }[route](server.url, domain);
}

/**
 * Enqueues `tasks` as workflows whose first decision schedules 100 activities each, then drains
 * them with 16 workers on `path`: both phases' times and server costs.
 */
async function taskgateDrain(server: Server, path: (k: number) => Path, tasks: number) {
  const executions = tasks / batch;
  let cost = await serverCost(server);
  let t0 = performance.now();
  const { tokens, release } = await openDecisions(path, "q", executions);
  try {
    await Promise.all(
      Array.from({ length: 4 }, async (_, k) => {
        for (let e = k; e < executions; e += 4) await path(k).decide(tokens[e], Array.from({ length: batch }, (_, i) => `j${e}-${i}`));
      }),
    );
  } finally {
    await release();
  }
  const enqueueSecs = (performance.now() - t0) / 1000;
  const enqueueCost = await cost(tasks);

  // Drain: 16 workers, the queue full.
  let done = 0;
  cost = await serverCost(server);
  const cores = machineCores();
  t0 = performance.now();
  const w = workers(
    path,
    () => {},
    () => void done++,
  );
  try {
    await until(() => done, tasks, 300_000, w.loops, "drain");
  } finally {
    await w.stop();
  }
  const drainSecs = (performance.now() - t0) / 1000;
  const drainCores = cores();
  return { enqueueSecs, enqueueCost, drainSecs, drainCores, drainCost: await cost(tasks), drainErrors: w.errors() };
}

/** The job-queue workload through one taskgate path on `server`. */
export async function taskgateJobs(server: Server, route: "own" | "batch" | "batchConnectNode" | "aws", n: JobCounts) {
  const path = await pathOn(server, route);
  retries.streams = retries.batches = 0;
  const { enqueueSecs, enqueueCost, drainSecs, drainCores, drainCost, drainErrors } = await taskgateDrain(server, path, n.drain);

  // Latency: decision tasks in hand first; then one activity per decision at `rate`/s.
  const { tokens: lTokens, release: releaseL } = await openDecisions(path, "l", n.latency);
  // Also the time to the answered completion: what a caller waiting for the result sees, and
  // where the batch path's flush timer shows.
  const sentAt: number[] = [];
  const lat: number[] = [];
  const doneLat: number[] = [];
  const w = workers(
    path,
    (id) => {
      const i = Number(id.slice(1));
      lat[i] = performance.now() - sentAt[i];
    },
    (id) => {
      const i = Number(id.slice(1));
      doneLat[i] = performance.now() - sentAt[i];
    },
  );
  let latency;
  let completion;
  try {
    await sleep(300); // the workers are waiting
    latency = await paced(n.latency, n.rate, (i) => path(i).decide(lTokens[i], [`l${i}`]), sentAt, lat);
    const deadline = performance.now() + 10_000;
    while (doneLat.filter((x) => x !== undefined).length < n.latency && performance.now() < deadline) await sleep(5);
    const xs = doneLat.slice(warmup).filter((x) => x !== undefined);
    completion = { p50: pct(xs, 50), p99: pct(xs, 99), samples: xs.length };
  } finally {
    await w.stop();
    await releaseL();
  }
  return {
    completionErrors: drainErrors + w.errors(),
    tasks: n.drain,
    enqueueSeconds: enqueueSecs,
    enqueuePerSecond: n.drain / enqueueSecs,
    enqueueServerCpuMsPerTask: enqueueCost.serverCpuMsPerTask,
    enqueueStatementsPerTask: enqueueCost.statementsPerTask ?? NaN,
    enqueueCommitsPerTask: enqueueCost.commitsPerTask ?? NaN,
    drainSeconds: drainSecs,
    tasksPerSecond: n.drain / drainSecs,
    drainMachineCores: drainCores,
    ...drainCost,
    ...latencyFigures(latency),
    completionLatencyP50: completion.p50,
    completionLatencyP99: completion.p99,
    completionLatencySamples: completion.samples,
    ...(route === "batch" || route === "batchConnectNode" ? { unavailableStreamsReopened: retries.streams, unavailableBatchesRetried: retries.batches } : {}),
    enqueueErrors: latency.errors,
  };
}

// ---- BullMQ ----

const redis = { host: "127.0.0.1", port: 6379 };
/** Every key of the bench's queue starts with this prefix; only they are removed. */
const bullPrefix = `taskgate-bench-${process.pid}`;

/** Redis's own CPU time and command count, from INFO. */
async function redisStats(q: Queue): Promise<{ cpuMs: number; commands: number }> {
  const c = await q.backend.client;
  const info = String(await c.info());
  const num = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, "m").exec(info)![1]);
  return { cpuMs: (num("used_cpu_user") + num("used_cpu_sys")) * 1000, commands: num("total_commands_processed") };
}

/** Enqueues `tasks` on BullMQ in addBulk calls of 100 (4 enqueuers), then drains them with one Worker of concurrency 16. */
async function bullmqDrain(queue: Queue, tasks: number) {
  let r0 = await redisStats(queue);
  let t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async (_, k) => {
      for (let e = k; e < tasks / batch; e += 4) await queue.addBulk(Array.from({ length: batch }, (_, i) => ({ name: "noop", data: { i: e * batch + i } })));
    }),
  );
  const enqueueSecs = (performance.now() - t0) / 1000;
  let r1 = await redisStats(queue);
  const enqueueRedisCpu = (r1.cpuMs - r0.cpuMs) / tasks;

  let done = 0;
  r0 = await redisStats(queue);
  const c0 = process.cpuUsage();
  const cores = machineCores();
  t0 = performance.now();
  const worker = new Worker(queue.name, async () => {}, { connection: redis, prefix: bullPrefix, concurrency: conc, autorun: false });
  worker.on("completed", () => void done++);
  void worker.run();
  try {
    await until(() => done, tasks, 300_000, [], "bullmq drain");
  } finally {
    await worker.close();
  }
  const drainSecs = (performance.now() - t0) / 1000;
  const drainCores = cores();
  r1 = await redisStats(queue);
  const bench = process.cpuUsage(c0);
  return { enqueueSecs, enqueueRedisCpu, drainSecs, drainCores, redisCpuMs: r1.cpuMs - r0.cpuMs, redisCommands: r1.commands - r0.commands, benchCpuMs: (bench.user + bench.system) / 1000 };
}

/** A BullMQ queue of the bench's own (keys under its prefix), emptied before and after `fn`. */
async function withBullQueue<T>(fn: (q: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue("jobs", { connection: redis, prefix: bullPrefix });
  try {
    await queue.obliterate({ force: true });
    return await fn(queue);
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

/** The job-queue workload on BullMQ: default job options, no-op processor, concurrency 16. */
export async function bullmqJobs(n: JobCounts) {
  return withBullQueue(async (queue) => {
    const d = await bullmqDrain(queue, n.drain);
    // Latency: queue.add one job at a time at `rate`/s; the clock stops when the processor starts.
    const sentAt: number[] = [];
    const lat: number[] = [];
    const worker = new Worker(
      queue.name,
      async (job) => {
        const i = (job.data as { i: number }).i;
        lat[i] = performance.now() - sentAt[i];
      },
      { connection: redis, prefix: bullPrefix, concurrency: conc },
    );
    let latency;
    try {
      await worker.waitUntilReady();
      await sleep(300);
      latency = await paced(n.latency, n.rate, (i) => queue.add("noop", { i }), sentAt, lat);
    } finally {
      await worker.close();
    }
    return {
      tasks: n.drain,
      enqueueSeconds: d.enqueueSecs,
      enqueuePerSecond: n.drain / d.enqueueSecs,
      enqueueServerCpuMsPerTask: d.enqueueRedisCpu,
      drainSeconds: d.drainSecs,
      tasksPerSecond: n.drain / d.drainSecs,
      drainMachineCores: d.drainCores,
      serverCpuMsPerTask: d.redisCpuMs / n.drain,
      benchCpuMsPerTask: d.benchCpuMs / n.drain,
      redisCommandsPerTask: d.redisCommands / n.drain,
      ...latencyFigures(latency),
      enqueueErrors: latency.errors,
    };
  });
}

/** One drain of an alternating round: its rate (tasks/s) and the machine's busy cores meanwhile. */
interface Drained {
  rate: number;
  cores: number;
}

/**
 * Drain throughput of taskgate's batch path (on SQLite, a fresh server and database from
 * `start` each round) and of BullMQ in `rounds` alternating rounds of `tasks` each, enqueued and
 * drained as in the job-queue workload, the order swapped every round: this machine's speed
 * drifts by more between runs than the two differ, and within a pair it falls on both alike.
 * Per round both rates, the machine's busy cores during each drain, and their ratio; the median
 * ratio.
 */
export async function pairedDrains(start: () => Promise<Server>, rounds: number, tasks: number): Promise<Record<string, number>> {
  const out: Record<string, number> = { rounds, tasks };
  const ratios: number[] = [];
  const taskgate = async (): Promise<Drained> => {
    const server = await start();
    try {
      const d = await taskgateDrain(server, await pathOn(server, "batch"), tasks);
      if (d.drainErrors > 0) throw new Error(`${d.drainErrors} completions failed`);
      return { rate: tasks / d.drainSecs, cores: d.drainCores };
    } finally {
      await server.stop();
    }
  };
  const bullmq = () =>
    withBullQueue(async (q): Promise<Drained> => {
      const d = await bullmqDrain(q, tasks);
      return { rate: tasks / d.drainSecs, cores: d.drainCores };
    });
  for (let i = 1; i <= rounds; i++) {
    let t: Drained;
    let b: Drained;
    await settle();
    if (i % 2 === 1) {
      t = await taskgate();
      await settle();
      b = await bullmq();
    } else {
      b = await bullmq();
      await settle();
      t = await taskgate();
    }
    out[`taskgate${i}`] = t.rate;
    out[`bullmq${i}`] = b.rate;
    out[`taskgateCores${i}`] = t.cores;
    out[`bullmqCores${i}`] = b.cores;
    out[`ratio${i}`] = t.rate / b.rate;
    ratios.push(t.rate / b.rate);
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  out.medianRatio = sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return out;
}

// ---- graphile-worker ----

const silent = new Logger(() => () => {});

/** The database's committed transactions so far (pg_stat_database, flushed about once a second). */
async function xactCommits(c: pg.Client): Promise<number> {
  await c.query("SELECT pg_stat_clear_snapshot()");
  return Number((await c.query<{ n: string }>("SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()")).rows[0].n);
}

/** The job-queue workload on graphile-worker 0.18 (defaults as in the enqueue/complete comparison), schema `schema`. */
export async function graphileJobs(schema: string, n: JobCounts) {
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString: pgUrl, schema, logger: silent });
  const check = new pg.Client({ connectionString: pgUrl });
  await check.connect();
  const table = `${pg.escapeIdentifier(schema)}._private_jobs`;
  const empty = async () => Number((await check.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n) === 0;
  try {
    await utils.migrate();
    let t0 = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async (_, k) => {
        for (let e = k; e < n.drain / batch; e += 4) await utils.addJobs(Array.from({ length: batch }, (_, i) => ({ identifier: "noop", payload: { i: e * batch + i } })));
      }),
    );
    const enqueueSecs = (performance.now() - t0) / 1000;

    await sleep(1500); // statistics flushed
    const x0 = await xactCommits(check);
    let ran = 0;
    const cores = machineCores();
    t0 = performance.now();
    let runner = await run({ connectionString: pgUrl, schema, concurrency: conc, noHandleSignals: true, logger: silent, taskList: { noop: async () => void ran++ } });
    try {
      await until(() => ran, n.drain, 300_000, [], "graphile-worker drain");
      const deadline = performance.now() + 30_000;
      while (!(await empty()) && performance.now() < deadline) await sleep(2);
    } finally {
      await withTimeout(runner.stop(), 15_000, "graphile-worker stop").catch((e: unknown) => runner.kill(String(e)));
    }
    const drainSecs = (performance.now() - t0) / 1000;
    const drainCores = cores();
    await sleep(1500);
    const x1 = await xactCommits(check);

    const sentAt: number[] = [];
    const lat: number[] = [];
    runner = await run({
      connectionString: pgUrl,
      schema,
      concurrency: conc,
      noHandleSignals: true,
      logger: silent,
      taskList: {
        noop: async (payload) => {
          const i = (payload as { i: number }).i;
          lat[i] = performance.now() - sentAt[i];
        },
      },
    });
    let latency;
    try {
      await sleep(300);
      latency = await paced(n.latency, n.rate, (i) => utils.addJob("noop", { i }), sentAt, lat);
    } finally {
      await withTimeout(runner.stop(), 15_000, "graphile-worker stop").catch((e: unknown) => runner.kill(String(e)));
    }
    return {
      tasks: n.drain,
      enqueueSeconds: enqueueSecs,
      enqueuePerSecond: n.drain / enqueueSecs,
      drainSeconds: drainSecs,
      tasksPerSecond: n.drain / drainSecs,
      drainMachineCores: drainCores,
      pgCommitsPerTask: (x1 - x0) / n.drain,
      ...latencyFigures(latency),
      enqueueErrors: latency.errors,
    };
  } finally {
    await check.end();
    await utils.release();
  }
}

// ---- completion cost by open activities ----

/**
 * Time and server CPU of one RespondActivityTaskCompleted while `open` activities of its execution
 * are open: each execution schedules `open` activities in its first decision, all are started
 * (claimed), then the first `per` of them are completed one after another, so `open` to
 * `open - per + 1` are open during the measured completions. About `samples` completions.
 */
export async function completionCost(server: Server, route: "own" | "aws", open: number, samples: number) {
  const c = client(server.url);
  const domain = await fixture(c);
  const s = sdk(server.url);
  const per = Math.max(1, Math.min(100, Math.ceil(open / 10)));
  const executions = Math.ceil(samples / per);
  const tokens: string[][] = [];
  const ac = new AbortController();
  const stream = route === "own" ? c.streamActivityTasks({ domain, taskList: { name: "a" }, maxInFlight: Math.min(10_000, executions * open) }, { signal: ac.signal })[Symbol.asyncIterator]() : undefined;
  try {
    for (let e = 0; e < executions; e++) {
      await c.startWorkflowExecution({ domain, workflowId: `c${e}`, workflowType: { name: "wf", version: "1" } });
      const d = await c.pollForDecisionTask({ domain, taskList: { name: "d" }, maximumPageSize: 1 });
      await c.respondDecisionTaskCompleted({ taskToken: d.taskToken, decisions: Array.from({ length: open }, (_, i) => activity(`a${i}`)) });
      const mine: string[] = [];
      for (let i = 0; i < open; i++) {
        if (route === "own") {
          const r = await withTimeout(stream!.next(), 30_000, "stream");
          if (r.done) throw new Error("the stream ended");
          mine.push(r.value.taskToken!);
        } else {
          const a = await s.send(new PollForActivityTaskCommand({ domain, taskList: { name: "a" } }));
          mine.push(a.taskToken!);
        }
      }
      tokens.push(mine.slice(0, per));
    }
    const lat: number[] = [];
    const complete = route === "own" ? (t: string) => c.respondActivityTaskCompleted({ taskToken: t, result: "ok" }) : (t: string) => s.send(new RespondActivityTaskCompletedCommand({ taskToken: t, result: "ok" }));
    for (let i = 0; i < 20; i++) await c.describeDomain({ name: domain }); // the connection is warm
    const cost = await serverCost(server);
    for (const mine of tokens)
      for (const t of mine) {
        const t0 = performance.now();
        await complete(t);
        lat.push(performance.now() - t0);
      }
    const used = await cost(lat.length);
    return { open, completions: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), mean: lat.reduce((a, b) => a + b, 0) / lat.length, ...used };
  } finally {
    ac.abort();
    await stream?.return?.().catch(() => undefined);
  }
}
