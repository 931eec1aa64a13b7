// taskgate benchmarks: `npm run bench`. Starts the server as its own process (as `npm start`
// does) on a temporary database and drives it from this process, then prints a table and JSON.
//
//   npm run bench                      every benchmark on SQLite
//   npm run bench -- --store postgres  the same on PostgreSQL (TASKGATE_BENCH_POSTGRES_URL)
//   npm run bench -- --quick           smaller counts (a smoke run)
//
// Figures are measured, never asserted: tests do not time anything.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../gen/taskgate/swf/v1/service_pb.ts";
import { ChildPolicy, DecisionType } from "../gen/taskgate/swf/v1/types_pb.ts";

type Swf = Client<typeof SimpleWorkflowService>;

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const storeArg = args.includes("--store") ? args[args.indexOf("--store") + 1] : "sqlite";
const root = join(import.meta.dirname, "..");

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(database: string, longPollSeconds: number): Promise<Server> {
  const child = spawn(process.execPath, ["src/main.ts", "--port", "0", "--database", database, "--long-poll-seconds", String(longPollSeconds), "--log-level", "info"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

function client(url: string): Swf {
  return createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: url }));
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

let seq = 0;
async function fixture(c: Swf, opts: { activityList?: string } = {}) {
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
    defaultTaskList: { name: opts.activityList ?? "a" },
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

/** Round trip of a minimal unary RPC, and schedule-to-delivery latency to a waiting poller. */
async function latency(url: string) {
  const c = client(url);
  const domain = await fixture(c);
  const n = quick ? 200 : 2000;
  for (let i = 0; i < 200; i++) await c.describeDomain({ name: domain }); // warm up
  const rtt: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await c.describeDomain({ name: domain });
    rtt.push(performance.now() - t0);
  }
  await c.startWorkflowExecution({ domain, workflowId: "lat", workflowType: { name: "wf", version: "1" } });
  let d = await c.pollForDecisionTask({ domain, taskList: { name: "d" } });
  const lat: number[] = [];
  const m = quick ? 100 : 1000;
  for (let i = 0; i < m + 50; i++) {
    const poll = c.pollForActivityTask({ domain, taskList: { name: "a" } });
    await new Promise((r) => setTimeout(r, 1)); // the poll is waiting
    const t0 = performance.now();
    const respond = c.respondDecisionTaskCompleted({ taskToken: d.taskToken, decisions: [activity(`a${i}`)] });
    const a = await poll;
    const t1 = performance.now();
    await respond;
    if (i >= 50) lat.push(t1 - t0);
    await c.respondActivityTaskCompleted({ taskToken: a.taskToken });
    d = await c.pollForDecisionTask({ domain, taskList: { name: "d" } });
  }
  return {
    unaryRttP50: pct(rtt, 50),
    unaryRttP99: pct(rtt, 99),
    dispatchP50: pct(lat, 50),
    dispatchP99: pct(lat, 99),
  };
}

/** End-to-end workflows per second with 16 deciders and 16 workers. */
async function workflows(url: string) {
  const conc = 16;
  const total = quick ? 300 : 3000;
  const c = client(url);
  const domain = await fixture(c);
  const clients = Array.from({ length: 4 }, () => client(url));
  let done = 0;
  let stop = false;
  const t0 = performance.now();
  let finished: () => void = () => {};
  const allDone = new Promise<void>((r) => (finished = r));
  const decider = async (k: number) => {
    const cc = clients[k % clients.length];
    while (!stop) {
      const d = await cc.pollForDecisionTask({ domain, taskList: { name: "d" }, maximumPageSize: 1000 });
      if (!d.taskToken) continue;
      const hasResult = d.events.some((e) => e.activityTaskCompletedEventAttributes !== undefined);
      if (hasResult) {
        await cc.respondDecisionTaskCompleted({ taskToken: d.taskToken, decisions: [{ decisionType: DecisionType.COMPLETE_WORKFLOW_EXECUTION }] });
        if (++done === total) finished();
      } else {
        await cc.respondDecisionTaskCompleted({ taskToken: d.taskToken, decisions: [activity("work")] });
      }
    }
  };
  const worker = async (k: number) => {
    const cc = clients[(k + 2) % clients.length];
    while (!stop) {
      const a = await cc.pollForActivityTask({ domain, taskList: { name: "a" } });
      if (a.taskToken) await cc.respondActivityTaskCompleted({ taskToken: a.taskToken, result: "ok" });
    }
  };
  const loops = [...Array.from({ length: conc }, (_, i) => decider(i)), ...Array.from({ length: conc }, (_, i) => worker(i))];
  const starters = Array.from({ length: conc }, async (_, k) => {
    for (let i = k; i < total; i += conc) await clients[k % clients.length].startWorkflowExecution({ domain, workflowId: `wf-${i}`, workflowType: { name: "wf", version: "1" } });
  });
  await Promise.all(starters);
  await allDone;
  const secs = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.allSettled(loops);
  return { workflows: total, seconds: secs, workflowsPerSecond: total / secs };
}

/** Activity tasks per second pushed through StreamActivityTasks. */
async function streaming(url: string) {
  const c = client(url);
  const domain = await fixture(c);
  const perExecution = 1000;
  const executions = quick ? 3 : 10;
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
  for await (const t of c.streamActivityTasks({ domain, taskList: { name: "a" }, maxInFlight: total }, { signal: ac.signal })) {
    tokens.push(t.taskToken!);
    if (tokens.length === total) break;
  }
  const deliverySecs = (performance.now() - t0) / 1000;
  ac.abort();
  // Delivery with completion: 64 concurrent unary completions.
  t0 = performance.now();
  const conc = 64;
  await Promise.all(Array.from({ length: conc }, async (_, k) => {
    for (let i = k; i < tokens.length; i += conc) await c.respondActivityTaskCompleted({ taskToken: tokens[i] });
  }));
  const completeSecs = (performance.now() - t0) / 1000;
  return { tasks: total, deliveredPerSecond: total / deliverySecs, completedPerSecond: total / completeSecs };
}

/** Server memory per idle long poll, with 10,000 polls held. */
async function idlePolls(server: Server) {
  const n = quick ? 2000 : 10_000;
  const rss = () => {
    const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
  };
  const clients = Array.from({ length: 10 }, () => client(server.url));
  const domain = await fixture(clients[0]);
  global.gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const before = rss();
  const ac = new AbortController();
  const polls = Array.from({ length: n }, (_, i) => clients[i % clients.length].pollForActivityTask({ domain, taskList: { name: "idle" } }, { signal: ac.signal }).catch(() => undefined));
  await new Promise((r) => setTimeout(r, 3000));
  const during = rss();
  ac.abort();
  await Promise.all(polls);
  return { polls: n, rssBeforeMiB: before / 2 ** 20, rssDuringMiB: during / 2 ** 20, bytesPerPoll: (during - before) / n };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "taskgate-bench-"));
  const database = storeArg === "postgres" ? (process.env.TASKGATE_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test") : `sqlite:${join(dir, "bench.db")}`;
  const results: Record<string, Record<string, number>> = {};
  try {
    let server = await startServer(database, 60);
    results.latency = await latency(server.url);
    results.workflows = await workflows(server.url);
    results.streaming = await streaming(server.url);
    await server.stop();
    server = await startServer(database, 60);
    results.idlePolls = await idlePolls(server);
    await server.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const r = results;
  const rows: [string, string, string][] = [
    ["unary RPC round trip (DescribeDomain) p50 / p99", `${r.latency.unaryRttP50.toFixed(3)} / ${r.latency.unaryRttP99.toFixed(3)} ms`, ""],
    ["dispatch: scheduled -> waiting poller p50 / p99", `${r.latency.dispatchP50.toFixed(3)} / ${r.latency.dispatchP99.toFixed(3)} ms`, `${(r.latency.dispatchP50 / r.latency.unaryRttP50).toFixed(2)}x RTT at p50 (goal <= 1.5x)`],
    ["workflows/s (16 deciders, 16 workers)", r.workflows.workflowsPerSecond.toFixed(0), "goal >= 1,000"],
    ["streamed activity tasks delivered/s", r.streaming.deliveredPerSecond.toFixed(0), "goal >= 10,000"],
    ["streamed activity tasks completed/s (64 concurrent)", r.streaming.completedPerSecond.toFixed(0), ""],
    [`memory per idle long poll (${r.idlePolls.polls} held)`, `${(r.idlePolls.bytesPerPoll / 1024).toFixed(2)} KiB`, "goal <= 10 KiB"],
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  console.log(`\ntaskgate bench (${storeArg}, node ${process.version}, ${quick ? "quick" : "full"})\n`);
  for (const [k, v, g] of rows) console.log(`${k.padEnd(w)}  ${v.padStart(20)}  ${g}`);
  console.log("\n" + JSON.stringify({ store: storeArg, node: process.version, quick, results }, null, 2));
}

await main();
