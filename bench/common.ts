// Shared by the bench suites: arguments, the server child process, time limits, clients and
// fixtures. Every server process started here is stopped at exit, also after a failure.
import { startFlags } from "../test/helpers/process.ts";
import { connectFixture } from "../test/helpers/swf.ts";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createLeanGrpcTransport } from "../src/client/grpc-transport.ts";
import { SimpleWorkflowService } from "../gen/taskgate/swf/v1/service_pb.ts";
import { DecisionType } from "../gen/taskgate/swf/v1/types_pb.ts";

export type Swf = Client<typeof SimpleWorkflowService>;
export type Store = "sqlite" | "postgres";
export type Results = Record<string, Record<string, number>>;

export const args = process.argv.slice(2);
export const quick = args.includes("--quick");
export const root = join(import.meta.dirname, "..");
export const pgUrl = process.env.TASKGATE_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Time each waiting poll gets to park before the task is scheduled. */
export const settleMs = 10;
/** Workers, deciders and the job queues' concurrency. */
export const conc = 16;
/** Jobs per enqueue call, on both sides of the comparison. */
export const batch = 100;

// ---- child processes and cleanup ----

export interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export const children = new Set<ChildProcess>();
// Last resort: a child still running when this process exits for any reason is killed.
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

export interface ServerOptions {
  /** Load bench/count-statements.ts into the server: statement and commit counters and memory use over IPC. */
  count?: boolean;
  /** More server flags, after the bench's own. */
  flags?: string[];
  /** Raise the open-file limit (soft and hard) to this before starting; needs the privilege to. */
  nofile?: number;
  /** Node flags for the server process (e.g. --cpu-prof). */
  node?: string[];
}

export async function startServer(database: string, opts: ServerOptions = {}): Promise<Server> {
  const argv = [
    ...(opts.count ? ["--expose-gc", "--import", "./bench/count-statements.ts"] : []),
    ...startFlags,
    ...(opts.node ?? []),
    "src/main.ts",
    ...["--port", "0", "--database", database, "--long-poll-seconds", "60", "--log-level", "info", "--shutdown-grace-seconds", "2"],
    ...(opts.flags ?? []),
  ];
  const stdio: ("ignore" | "pipe" | "inherit" | "ipc")[] = ["ignore", "pipe", "inherit", ...(opts.count ? (["ipc"] as const) : [])];
  // `exec` keeps the pid: the shell becomes the server. Without the privilege the limit stays.
  const child =
    opts.nofile === undefined
      ? spawn(process.execPath, argv, { cwd: root, stdio })
      : spawn("/bin/sh", ["-c", `ulimit -Hn ${opts.nofile} 2>/dev/null; ulimit -Sn ${opts.nofile} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...argv], { cwd: root, stdio });
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

/**
 * Lets the machine settle before a measurement: the dirty pages a previous server left (its
 * database and WAL) are written out now, not by the kernel during the next measurement (which a
 * BullMQ drain right after a taskgate one lost about a quarter of its rate to), then a second's
 * pause.
 */
export async function settle(): Promise<void> {
  execFileSync("sync");
  await new Promise((r) => setTimeout(r, 1000));
}

/** Resolves as `p`, or rejects once `ms` have passed. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one measurement with a time limit, logging its duration to stderr. */
export async function phase<T>(name: string, limitSeconds: number, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  process.stderr.write(`bench: ${name} ...`);
  const r = await withTimeout(fn(), (quick ? limitSeconds / 2 : limitSeconds) * 1000, name);
  process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return r;
}

// ---- helpers ----

/** A lean AWS JSON 1.0 client over keep-alive HTTP/1.1 (what an AWS SDK worker sends, minus the SDK's own cost). */
export type AwsCall = (op: string, body: object, signal?: AbortSignal) => Promise<Record<string, unknown>>;
export function awsClient(url: string, maxSockets = 64): AwsCall {
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

/** A gRPC client as a Node worker should make one: the lean transport (src/client/grpc-transport.ts). */
export function client(url: string): Swf {
  return createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: url }));
}

/** A gRPC client on connect-node's own gRPC transport, for comparison. */
export function connectNodeClient(url: string): Swf {
  return createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: url }));
}

export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** A fresh domain with workflow type wf/1 (task list d) and activity type act/1 (task list a, timeouts NONE): the tests' fixture. */
export function fixture(c: Swf): Promise<string> {
  return connectFixture(c, "bench");
}

export const activity = (id: string) => ({
  decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK,
  scheduleActivityTaskDecisionAttributes: { activityId: id, activityType: { name: "act", version: "1" } },
});

/** True for the error of a call this bench aborted. */
export const aborted = (signal: AbortSignal) => (e: unknown) => {
  if (!signal.aborted) throw e;
};


// ---- the server process seen from outside ----

const ticksPerSecond = 100; // USER_HZ; `getconf CLK_TCK` is 100 on Linux

/** CPU time (user + system) the process `pid` has used so far, in milliseconds (10 ms steps). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
  return ((Number(f[11]) + Number(f[12])) * 1000) / ticksPerSecond; // utime, stime: fields 14, 15
}

/** Time every CPU of the machine spent busy and in all, in ticks (/proc/stat), and the CPU count. */
function machineTicks(): { busy: number; total: number; cpus: number } {
  const lines = readFileSync("/proc/stat", "utf8").split("\n");
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
  const f = lines[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total, cpus: lines.filter((l) => /^cpu\d/.test(l)).length };
}

/**
 * How many of the machine's cores were busy on average, every process counted, between this call
 * and a call of the function it returns: up to 2 on this machine. It tells a path that keeps one
 * core busy from one that keeps both busy.
 */
export function machineCores(): () => number {
  const t0 = machineTicks();
  return () => {
    const t1 = machineTicks();
    return t1.total > t0.total ? ((t1.busy - t0.busy) / (t1.total - t0.total)) * t1.cpus : NaN;
  };
}

/** Resident set size of the process `pid`, in bytes. */
export function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
}

/** What bench/count-statements.ts has counted in the server so far. */
export interface StatementCounts {
  /** Statements executed, transaction control excluded. */
  statements: number;
  /** COMMITs (one commits a whole group of transactions). */
  commits: number;
  /** BEGINs, SAVEPOINTs, RELEASEs and ROLLBACKs. */
  control: number;
}

/** Asks a server started with `count: true` for its counters. */
export async function statementCounts(server: Server): Promise<StatementCounts> {
  const child = server.child;
  return withTimeout(
    new Promise<StatementCounts>((resolve) => {
      child.once("message", (m) => resolve(m as StatementCounts));
      child.send("counts");
    }),
    5000,
    "statement counters",
  );
}

/** The server's process.memoryUsage() after a full garbage collection (a server started with `count: true`). */
export async function serverMemory(server: Server): Promise<NodeJS.MemoryUsage> {
  const child = server.child;
  return withTimeout(
    new Promise<NodeJS.MemoryUsage>((resolve) => {
      child.once("message", (m) => resolve(m as NodeJS.MemoryUsage));
      child.send("memory");
    }),
    60_000,
    "server memory",
  );
}

/** Server CPU and statement counts between `begin()` and the `end()` it returns. */
export async function serverCost(server: Server) {
  const pid = server.child.pid!;
  const counted = server.child.connected;
  const c0 = counted ? await statementCounts(server) : undefined;
  const cpu0 = cpuMs(pid);
  const client0 = process.cpuUsage();
  return async (tasks: number) => {
    const cpu = cpuMs(pid) - cpu0;
    const client = process.cpuUsage(client0);
    const c1 = counted ? await statementCounts(server) : undefined;
    return {
      serverCpuMsPerTask: cpu / tasks,
      benchCpuMsPerTask: (client.user + client.system) / 1000 / tasks,
      ...(c0 && c1
        ? {
            statementsPerTask: (c1.statements - c0.statements) / tasks,
            commitsPerTask: (c1.commits - c0.commits) / tasks,
            txControlPerTask: (c1.control - c0.control) / tasks,
          }
        : {}),
    };
  };
}
