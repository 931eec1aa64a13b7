// The Step Functions suite of the bench (`npm run bench -- --suite sfn`), against a server the
// caller started, through the generated Connect client (gRPC transport):
// - executions/s: a one-activity machine; 16 starters issue StartExecution while 16 workers loop
//   GetActivityTask + SendTaskSuccess (the execution closes in the success's transaction); the
//   clock runs from the first start to the N-th answered success.
// - dispatch latency: one worker parked on GetActivityTask (10 ms after issuing it); the clock
//   runs from issuing StartExecution until the poll answers with the task (p50 / p99).
// - transitions/s: a machine of 20 Pass states (22 history events, 20 state transitions, all in
//   StartExecution's transaction); 16 starters; transitions counted as 20 per execution.
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { StepFunctionsService } from "../gen/taskgate/sfn/v1/service_pb.ts";
import { conc, pct, settleMs, type Results } from "./common.ts";

type Sfn = Client<typeof StepFunctionsService>;

/** How many of each the suite runs. */
export interface SfnCounts {
  executions: number;
  dispatch: number;
  passExecutions: number;
}

/** Counts per store: full and quick runs. */
export const sfnCounts = (quick: boolean): SfnCounts => (quick ? { executions: 300, dispatch: 100, passExecutions: 200 } : { executions: 3000, dispatch: 500, passExecutions: 2000 });

const role = "arn:aws:iam::000000000000:role/bench";
let seq = 0;

async function machine(c: Sfn, definition: (activityArn: string) => object): Promise<{ activityArn: string; stateMachineArn: string }> {
  const name = `bench-${process.pid}-${++seq}`;
  const { activityArn } = await c.createActivity({ name });
  const { stateMachineArn } = await c.createStateMachine({ name, definition: JSON.stringify(definition(activityArn!)), roleArn: role });
  return { activityArn: activityArn!, stateMachineArn: stateMachineArn! };
}

async function executionsPerSecond(c: Sfn, n: number): Promise<number> {
  const { activityArn, stateMachineArn } = await machine(c, (a) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } }));
  let started = 0;
  let done = 0;
  const ac = new AbortController();
  const t0 = performance.now();
  let t1 = 0;
  const starters = Array.from({ length: conc }, async () => {
    while (started < n) {
      started++;
      await c.startExecution({ stateMachineArn, input: "{}" });
    }
  });
  const workers = Array.from({ length: conc }, async () => {
    while (done < n) {
      const t = await c.getActivityTask({ activityArn, workerName: "bench" }, { signal: ac.signal }).catch(() => undefined);
      if (!t?.taskToken) continue;
      await c.sendTaskSuccess({ taskToken: t.taskToken, output: "{}" });
      if (++done === n) {
        t1 = performance.now();
        ac.abort();
      }
    }
  });
  await Promise.all(starters);
  await Promise.all(workers);
  return n / ((t1 - t0) / 1000);
}

async function dispatchLatency(c: Sfn, n: number): Promise<{ p50: number; p99: number }> {
  const { activityArn, stateMachineArn } = await machine(c, (a) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: a, End: true } } }));
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const poll = c.getActivityTask({ activityArn, workerName: "bench" }).then((r) => ({ r, at: performance.now() }));
    await new Promise((r) => setTimeout(r, settleMs));
    const t0 = performance.now();
    await c.startExecution({ stateMachineArn });
    const { r, at } = await poll;
    if (!r.taskToken) throw new Error("dispatch: the poll came back empty");
    xs.push(at - t0);
    await c.sendTaskSuccess({ taskToken: r.taskToken, output: "{}" });
  }
  return { p50: pct(xs, 50), p99: pct(xs, 99) };
}

async function transitionsPerSecond(c: Sfn, n: number): Promise<number> {
  const states: Record<string, object> = {};
  for (let i = 0; i < 20; i++) states[`P${i}`] = i === 19 ? { Type: "Pass", End: true } : { Type: "Pass", Next: `P${i + 1}` };
  const { stateMachineArn } = await machine(c, () => ({ StartAt: "P0", States: states }));
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (started < n) {
        started++;
        await c.startExecution({ stateMachineArn, input: '{"k":1}' });
      }
    }),
  );
  return (n * 20) / ((performance.now() - t0) / 1000);
}

/** Runs the suite against the server at `url`; flat figures for the JSON. */
export async function sfnBench(url: string, n: SfnCounts, phase: <T>(name: string, limitSeconds: number, fn: () => Promise<T>) => Promise<T>): Promise<Record<string, number>> {
  const c = createClient(StepFunctionsService, createGrpcTransport({ baseUrl: url }));
  const executions = await phase("sfn executions/s", 120, () => executionsPerSecond(c, n.executions));
  const d = await phase("sfn dispatch latency", 90, () => dispatchLatency(c, n.dispatch));
  const transitions = await phase("sfn transitions/s", 120, () => transitionsPerSecond(c, n.passExecutions));
  return { executionsPerSecond: executions, dispatchP50Ms: d.p50, dispatchP99Ms: d.p99, passTransitionsPerSecond: transitions };
}

/** The suite's table: one row per figure, one column per store. */
export function sfnTable(results: Partial<Record<"sqlite" | "postgres", Results>>): string {
  const rows: [string, (r: Record<string, number>) => string][] = [
    ["executions/s (one activity, 16 workers, gRPC)", (r) => Math.round(r.executionsPerSecond).toLocaleString("en-US")],
    ["dispatch p50 / p99 (StartExecution → worker holds task)", (r) => `${r.dispatchP50Ms.toFixed(2)} / ${r.dispatchP99Ms.toFixed(2)} ms`],
    ["transitions/s (20 Pass states, 16 starters)", (r) => Math.round(r.passTransitionsPerSecond).toLocaleString("en-US")],
  ];
  const cell = (store: "sqlite" | "postgres", f: (r: Record<string, number>) => string) => {
    const r = results[store]?.sfn;
    return r ? f(r) : "-";
  };
  const lines = [["Step Functions", "sqlite", "postgres"], ...rows.map(([name, f]) => [name, cell("sqlite", f), cell("postgres", f)])];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((x, i) => x.padEnd(widths[i])).join("  ")).join("\n");
}
