// Data Pipeline rules that take time, driven by a fake clock on both stores: a failed attempt
// retried after retryDelay as a new attempt, an attempt whose task runner stops reporting progress
// timed out and retried, and a scheduled pipeline creating its instances per period, with the
// backfill of periods that started before activation, until its schedule ends.
import { afterEach, describe, expect, it } from "vitest";
import {
  ActivatePipelineCommand,
  CreatePipelineCommand,
  DescribeObjectsCommand,
  DescribePipelinesCommand,
  PutPipelineDefinitionCommand,
  QueryObjectsCommand,
  ReportTaskProgressCommand,
  SetStatusCommand,
  SetTaskStatusCommand,
} from "@aws-sdk/client-data-pipeline";
import { formatDateTime } from "../../src/datapipeline/schedule.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { freshStore, stores } from "../helpers/harness.ts";
import { failure, fieldOf, objectsOf, poll, runOne, startDp, type ConsoleObject, type DpGate } from "./datapipeline-helpers.ts";

const minute = 60_000;

describe.each(stores)("Data Pipeline timers on a fake clock (%s)", (kind) => {
  const gates: DpGate[] = [];
  afterEach(async () => {
    for (const g of gates.splice(0)) await g.destroy();
  });

  async function setup(objects: ConsoleObject[]): Promise<{ tg: DpGate; clock: FakeClock; id: string }> {
    const clock = new FakeClock();
    const tg = await startDp({ kind, clock });
    gates.push(tg);
    const { pipelineId } = await tg.dp.send(new CreatePipelineCommand({ name: "p", uniqueId: "u" }));
    const put = await tg.dp.send(new PutPipelineDefinitionCommand({ pipelineId, pipelineObjects: objectsOf(objects) }));
    expect(put.errored, JSON.stringify(put.validationErrors)).toBe(false);
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId }));
    return { tg, clock, id: pipelineId! };
  }

  /** Ids of objects of a sphere, optionally with one @status. */
  async function query(tg: DpGate, pipelineId: string, sphere: string, status?: string): Promise<string[]> {
    const selectors = status ? [{ fieldName: "@status", operator: { type: "EQ" as const, values: [status] } }] : [];
    return (await tg.dp.send(new QueryObjectsCommand({ pipelineId, sphere, query: { selectors } }))).ids ?? [];
  }

  it("retries a failed attempt after retryDelay as a new attempt, then FINISHED", async () => {
    const { tg, clock, id } = await setup([
      { id: "Default", scheduleType: "ondemand", workerGroup: "wg" },
      { id: "A", type: "ShellCommandActivity", command: "flaky", maximumRetries: "1", retryDelay: "2 minutes" },
    ]);
    const first = await runOne(tg.dp, "wg", "FAILED");
    expect(first.attemptId).toMatch(/_Attempt=1$/);
    expect(await query(tg, id, "ATTEMPT", "FAILED")).toEqual([first.attemptId]);
    // Nothing waits for a runner during the delay.
    expect(await query(tg, id, "ATTEMPT", "WAITING_FOR_RUNNER")).toEqual([]);
    clock.advance(2 * minute - 1);
    expect(await query(tg, id, "ATTEMPT", "WAITING_FOR_RUNNER")).toEqual([]);
    clock.advance(1);
    const second = first.attemptId!.replace(/1$/, "2");
    await eventually(async () => expect(await query(tg, id, "ATTEMPT", "WAITING_FOR_RUNNER")).toEqual([second]));
    const t = await runOne(tg.dp, "wg");
    expect(t.attemptId).toBe(second);
    const inst = first.attemptId!.replace(/_Attempt=1$/, "");
    const d = await tg.dp.send(new DescribeObjectsCommand({ pipelineId: id, objectIds: [inst] }));
    expect(fieldOf(d.pipelineObjects?.[0], "@status")).toBe("FINISHED");
    expect(fieldOf(d.pipelineObjects?.[0], "@attemptCount")).toBe("2");
  });

  it("times out an attempt whose task runner stops reporting progress, and retries it", async () => {
    const { tg, clock, id } = await setup([
      { id: "Default", scheduleType: "ondemand", workerGroup: "wg" },
      { id: "A", type: "ShellCommandActivity", command: "slow", maximumRetries: "1", retryDelay: "1 minutes", reportProgressTimeout: "10 minutes" },
    ]);
    const t = await poll(tg.dp, "wg");
    clock.advance(9 * minute);
    expect((await tg.dp.send(new ReportTaskProgressCommand({ taskId: t!.taskId }))).canceled).toBe(false);
    clock.advance(9 * minute);
    // The report pushed the deadline: still running 18 minutes in.
    expect((await tg.dp.send(new ReportTaskProgressCommand({ taskId: t!.taskId }))).canceled).toBe(false);
    clock.advance(10 * minute);
    await eventually(async () => expect(await query(tg, id, "ATTEMPT", "TIMEDOUT")).toEqual([t!.attemptId]));
    expect((await failure(tg.dp.send(new ReportTaskProgressCommand({ taskId: t!.taskId })))).name).toBe("TaskNotFoundException");
    expect((await failure(tg.dp.send(new SetTaskStatusCommand({ taskId: t!.taskId, taskStatus: "FINISHED" })))).name).toBe("TaskNotFoundException");
    clock.advance(minute);
    await eventually(async () => expect(await query(tg, id, "ATTEMPT", "WAITING_FOR_RUNNER")).toHaveLength(1));
    const again = await runOne(tg.dp, "wg");
    expect(again.attemptId).toMatch(/_Attempt=2$/);
  });

  it("times out an attempt past attemptTimeout; without retries left the instance is TIMEDOUT", async () => {
    const { tg, clock, id } = await setup([
      { id: "Default", scheduleType: "ondemand", workerGroup: "wg" },
      { id: "A", type: "ShellCommandActivity", command: "slow", maximumRetries: "0", attemptTimeout: "30 minutes" },
    ]);
    await poll(tg.dp, "wg");
    clock.advance(30 * minute);
    await eventually(async () => expect(await query(tg, id, "INSTANCE", "TIMEDOUT")).toHaveLength(1));
  });

  it("a restart loses nothing: a held task completes after it, a schedule timer armed before it fires", async () => {
    const clock0 = new FakeClock().now();
    const loc = freshStore(kind);
    const first = await startDp({ kind, store: loc, clock: new FakeClock(clock0) });
    const { pipelineId } = await first.dp.send(new CreatePipelineCommand({ name: "p", uniqueId: "u" }));
    await first.dp.send(
      new PutPipelineDefinitionCommand({
        pipelineId,
        pipelineObjects: objectsOf([
          { id: "Default", scheduleType: "cron", schedule: { ref: "S" }, workerGroup: "wg" },
          { id: "S", type: "Schedule", period: "1 hours", startDateTime: formatDateTime(clock0 - 30 * minute) },
          { id: "A", type: "ShellCommandActivity", command: "x" },
        ]),
      }),
    );
    await first.dp.send(new ActivatePipelineCommand({ pipelineId }));
    const held = await poll(first.dp, "wg");
    await first.stop();
    const second = await startDp({ kind, store: loc, clock: new FakeClock(clock0 + 31 * minute) });
    gates.push(second);
    await second.dp.send(new SetTaskStatusCommand({ taskId: held!.taskId, taskStatus: "FINISHED" }));
    await eventually(async () => expect(await query(second, pipelineId!, "INSTANCE")).toHaveLength(2));
    expect(await query(second, pipelineId!, "INSTANCE", "FINISHED")).toEqual([held!.attemptId!.replace(/_Attempt=1$/, "")]);
    expect((await runOne(second.dp, "wg")).attemptId).toBe(`@A_${formatDateTime(clock0 + 30 * minute)}_Attempt=1`);
  });

  it("creates instances per period, the backfill of past periods first, until the schedule ends; then FINISHED", async () => {
    const clock0 = new FakeClock().now();
    const start = formatDateTime(clock0 - 60 * minute);
    const { tg, clock, id } = await setup([
      { id: "Default", scheduleType: "cron", schedule: { ref: "Every15" }, workerGroup: "wg" },
      { id: "Every15", type: "Schedule", period: "15 minutes", startDateTime: start, occurrences: "6" },
      { id: "A", type: "ShellCommandActivity", command: "echo #{@scheduledStartTime}" },
    ]);
    // Activation at 00:00 with a start at 23:00 the day before: 23:00 … 00:00 are due (cron: at their start).
    const backfill = await query(tg, id, "INSTANCE");
    expect(backfill).toEqual([0, 15, 30, 45, 60].map((m) => `@A_${formatDateTime(clock0 - 60 * minute + m * minute)}`));
    const desc = await tg.dp.send(new DescribePipelinesCommand({ pipelineIds: [id] }));
    const next = desc.pipelineDescriptionList![0].fields!.find((f) => f.key === "@nextRunTime")?.stringValue;
    expect(next).toBe(formatDateTime(clock0 + 15 * minute));
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = await runOne(tg.dp, "wg");
      seen.push(t.attemptId!);
      expect(fieldOf(t.objects![t.attemptId!], "command")).toBe(`echo ${t.attemptId!.slice(3, 22)}`);
    }
    expect(seen.map((s) => s.slice(0, -"_Attempt=1".length))).toEqual(backfill);
    clock.advance(15 * minute);
    await eventually(async () => expect(await query(tg, id, "INSTANCE")).toHaveLength(6));
    await runOne(tg.dp, "wg");
    clock.advance(60 * minute);
    const state = async () =>
      (await tg.dp.send(new DescribePipelinesCommand({ pipelineIds: [id] }))).pipelineDescriptionList![0].fields!.find((f) => f.key === "@pipelineState")?.stringValue;
    await eventually(async () => expect(await state()).toBe("FINISHED"));
    expect(await query(tg, id, "INSTANCE", "FINISHED")).toHaveLength(6);
    // A FINISHED pipeline takes no new definition and no SetStatus, as AWS documents.
    const put = await failure(tg.dp.send(new PutPipelineDefinitionCommand({ pipelineId: id, pipelineObjects: objectsOf([{ id: "Default", scheduleType: "ondemand" }]) })));
    expect(put.name).toBe("InvalidRequestException");
    const set = await failure(tg.dp.send(new SetStatusCommand({ pipelineId: id, objectIds: ["A"], status: "PAUSE" })));
    expect(set.name).toBe("InvalidRequestException");
  });
});
