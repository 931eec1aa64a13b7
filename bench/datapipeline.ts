// The Data Pipeline suite of the bench (`npm run bench -- --suite datapipeline`), against a server
// the caller started, through the generated Connect client (gRPC transport):
// - attempts/s through a worker group: on-demand pipelines of 99 ShellCommandActivity objects
//   each (AWS's limit is 100 objects per pipeline, Default included), all activated first; then 16
//   task runners loop PollForTask + SetTaskStatus FINISHED on the one worker group; the clock runs
//   from the runners' start to the N-th answered status.
// - dispatch latency: one task runner parked on PollForTask (10 ms after issuing it); the clock
//   runs from issuing ActivatePipeline of a one-activity on-demand pipeline (created and defined
//   beforehand) until the poll answers with its task (p50 / p99).
// - growth: one cron pipeline of one activity every 15 minutes whose schedule started N periods
//   ago, so its activation backfills N instances; one task runner takes them in turn (PollForTask
//   + SetTaskStatus FINISHED). The figures are the mean round trip over the first and over the
//   last tenth of them: when a change reads and writes the pipeline's whole past, the last tenth
//   is slower; when it does not, the two stay alike.
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DataPipelineService } from "../gen/taskgate/datapipeline/v1/service_pb.ts";
import { TaskStatus } from "../gen/taskgate/datapipeline/v1/types_pb.ts";
import { conc, pct, settleMs, type Results } from "./common.ts";

type Dp = Client<typeof DataPipelineService>;

/** How many of each the suite runs. */
export interface DpCounts {
  attempts: number;
  dispatch: number;
  /** Periods of the growth pipeline. */
  growth: number;
}

/** Counts per store: full and quick runs. */
export const dpCounts = (quick: boolean): DpCounts => (quick ? { attempts: 990, dispatch: 100, growth: 1000 } : { attempts: 4950, dispatch: 500, growth: 4000 });

let seq = 0;

/** A defined (not yet activated) on-demand pipeline of `activities` activities in `workerGroup`. */
async function pipeline(c: Dp, workerGroup: string, activities: number): Promise<string> {
  const n = ++seq;
  const { pipelineId } = await c.createPipeline({ name: `bench-${process.pid}-${n}`, uniqueId: `bench-${process.pid}-${n}` });
  const objects = [{ id: "Default", name: "Default", fields: [{ key: "scheduleType", stringValue: "ondemand" }, { key: "workerGroup", stringValue: workerGroup }] }];
  for (let i = 0; i < activities; i++) objects.push({ id: `A${i}`, name: `A${i}`, fields: [{ key: "type", stringValue: "ShellCommandActivity" }, { key: "command", stringValue: "true" }] });
  const r = await c.putPipelineDefinition({ pipelineId, pipelineObjects: objects });
  if (r.errored) throw new Error(`bench pipeline definition has errors: ${JSON.stringify(r.validationErrors)}`);
  return pipelineId!;
}

async function attemptsPerSecond(c: Dp, n: number): Promise<number> {
  const wg = `bench-${process.pid}-attempts`;
  const ids: string[] = [];
  for (let left = n; left > 0; left -= 99) ids.push(await pipeline(c, wg, Math.min(99, left)));
  for (const pipelineId of ids) await c.activatePipeline({ pipelineId });
  let done = 0;
  const ac = new AbortController();
  const t0 = performance.now();
  let t1 = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (done < n) {
        const r = await c.pollForTask({ workerGroup: wg, hostname: "bench" }, { signal: ac.signal }).catch(() => undefined);
        const t = r?.taskObject;
        if (!t?.taskId) continue;
        await c.setTaskStatus({ taskId: t.taskId, taskStatus: TaskStatus.FINISHED });
        if (++done === n) {
          t1 = performance.now();
          ac.abort();
        }
      }
    }),
  );
  return n / ((t1 - t0) / 1000);
}

async function dispatchLatency(c: Dp, n: number): Promise<{ p50: number; p99: number }> {
  const wg = `bench-${process.pid}-dispatch`;
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const pipelineId = await pipeline(c, wg, 1);
    const poll = c.pollForTask({ workerGroup: wg, hostname: "bench" }).then((r) => ({ r, at: performance.now() }));
    await new Promise((r) => setTimeout(r, settleMs));
    const t0 = performance.now();
    await c.activatePipeline({ pipelineId });
    const { r, at } = await poll;
    if (!r.taskObject?.taskId) throw new Error("dispatch: the poll came back empty");
    xs.push(at - t0);
    await c.setTaskStatus({ taskId: r.taskObject.taskId, taskStatus: TaskStatus.FINISHED });
  }
  return { p50: pct(xs, 50), p99: pct(xs, 99) };
}

/** AWS's DateTime form, UTC: 2026-12-01T17:28:50. */
function dateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

async function growth(c: Dp, n: number): Promise<{ firstMs: number; lastMs: number }> {
  const wg = `bench-${process.pid}-growth`;
  const { pipelineId } = await c.createPipeline({ name: `bench-${process.pid}-growth`, uniqueId: `bench-${process.pid}-growth` });
  const period = 15 * 60_000;
  const objects = [
    { id: "Default", name: "Default", fields: [{ key: "scheduleType", stringValue: "cron" }, { key: "schedule", refValue: "S" }, { key: "workerGroup", stringValue: wg }] },
    { id: "S", name: "S", fields: [{ key: "type", stringValue: "Schedule" }, { key: "period", stringValue: "15 minutes" }, { key: "startDateTime", stringValue: dateTime(Date.now() - (n - 1) * period - 60_000) }] },
    { id: "A", name: "A", fields: [{ key: "type", stringValue: "ShellCommandActivity" }, { key: "command", stringValue: "true" }] },
  ];
  const r = await c.putPipelineDefinition({ pipelineId, pipelineObjects: objects });
  if (r.errored) throw new Error(`growth pipeline definition has errors: ${JSON.stringify(r.validationErrors)}`);
  await c.activatePipeline({ pipelineId });
  const xs: number[] = [];
  while (xs.length < n) {
    const t0 = performance.now();
    const p = await c.pollForTask({ workerGroup: wg, hostname: "bench" });
    const t = p.taskObject;
    if (!t?.taskId) continue;
    await c.setTaskStatus({ taskId: t.taskId, taskStatus: TaskStatus.FINISHED });
    xs.push(performance.now() - t0);
  }
  const k = Math.max(1, Math.floor(n / 10));
  const mean = (ys: number[]) => ys.reduce((a, b) => a + b, 0) / ys.length;
  return { firstMs: mean(xs.slice(0, k)), lastMs: mean(xs.slice(-k)) };
}

/** Runs the suite against the server at `url`; flat figures for the JSON. */
export async function dpBench(url: string, n: DpCounts, phase: <T>(name: string, limitSeconds: number, fn: () => Promise<T>) => Promise<T>): Promise<Record<string, number>> {
  const c = createClient(DataPipelineService, createGrpcTransport({ baseUrl: url }));
  const attempts = await phase("datapipeline attempts/s", 180, () => attemptsPerSecond(c, n.attempts));
  const d = await phase("datapipeline dispatch latency", 120, () => dispatchLatency(c, n.dispatch));
  const g = await phase("datapipeline growth", 300, () => growth(c, n.growth));
  return { attemptsPerSecond: attempts, dispatchP50Ms: d.p50, dispatchP99Ms: d.p99, growthFirstMs: g.firstMs, growthLastMs: g.lastMs, growthPeriods: n.growth };
}

/** The suite's table: one row per figure, one column per store. */
export function dpTable(results: Partial<Record<"sqlite" | "postgres", Results>>): string {
  const rows: [string, (r: Record<string, number>) => string][] = [
    ["attempts/s (one worker group, 16 task runners, gRPC)", (r) => Math.round(r.attemptsPerSecond).toLocaleString("en-US")],
    ["dispatch p50 / p99 (ActivatePipeline → runner holds task)", (r) => `${r.dispatchP50Ms.toFixed(2)} / ${r.dispatchP99Ms.toFixed(2)} ms`],
    ["poll + status, first / last tenth of a backfill (one runner)", (r) => `${r.growthFirstMs.toFixed(2)} / ${r.growthLastMs.toFixed(2)} ms (${r.growthPeriods} periods)`],
  ];
  const cell = (store: "sqlite" | "postgres", f: (r: Record<string, number>) => string) => {
    const r = results[store]?.datapipeline;
    return r ? f(r) : "-";
  };
  const lines = [["Data Pipeline", "sqlite", "postgres"], ...rows.map(([name, f]) => [name, cell("sqlite", f), cell("postgres", f)])];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((x, i) => x.padEnd(widths[i])).join("  ")).join("\n");
}
