// Data Pipeline's late instances, actions and concurrency limit, driven by a fake clock on both
// stores through @aws-sdk/client-data-pipeline: lateAfterTimeout with onLateAction Terminate (the
// instance CANCELED with its cancellationReason, a runner holding it told so) and SnsAlarm
// (recorded as `@snsAlarm` on the instance, nothing sent), onSuccess and onFail alarms, an
// instance that ends in time is not late, maxActiveInstances over a backfill, a rerun beside the
// limit; and the storage of a run: past instances are not loaded by a change, a restart keeps the
// rows, DeletePipeline removes them.
import { afterEach, describe, expect, it } from "vitest";
import {
  ActivatePipelineCommand,
  CreatePipelineCommand,
  DeactivatePipelineCommand,
  DeletePipelineCommand,
  DescribeObjectsCommand,
  PutPipelineDefinitionCommand,
  QueryObjectsCommand,
  ReportTaskProgressCommand,
  SetStatusCommand,
  ValidatePipelineDefinitionCommand,
  type PipelineObject,
} from "@aws-sdk/client-data-pipeline";
import { formatDateTime } from "../../src/datapipeline/schedule.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import pino from "pino";
import { openDatabase } from "../../src/app.ts";
import { defaults } from "../../src/server/config.ts";
import type { Sql } from "../../src/store/db.ts";
import { freshStore, openStore, stores, type StoreLocation } from "../helpers/harness.ts";
import { objectsOf, poll, runOne, startDp, type ConsoleObject, type DpGate } from "./datapipeline-helpers.ts";

const minute = 60_000;

/** An SnsAlarm action as AWS documents it. */
const alarm = (id: string): ConsoleObject => ({ id, type: "SnsAlarm", topicArn: "arn:aws:sns:us-east-1:123456789012:ops", subject: `${id} subject`, message: "see the console", role: "DataPipelineDefaultRole" });

/** A cron pipeline of one hourly activity A whose first period started 30 minutes before activation. */
function hourly(clock0: number, a: Record<string, string | { ref: string }>, extra: ConsoleObject[] = []): ConsoleObject[] {
  return [
    { id: "Default", scheduleType: "cron", schedule: { ref: "S" }, workerGroup: "wg" },
    { id: "S", type: "Schedule", period: "1 hours", startDateTime: formatDateTime(clock0 - 30 * minute), occurrences: "1" },
    { id: "A", type: "ShellCommandActivity", command: "x", ...a },
    ...extra,
  ];
}

/** The values of a field of an object (repeated fields give several). */
function values(o: PipelineObject | undefined, key: string): string[] {
  return (o?.fields ?? []).filter((f) => f.key === key).map((f) => f.stringValue ?? f.refValue ?? "");
}

/** How the instance of A looks once a case has run. */
interface LateCase {
  name: string;
  a: Record<string, string | { ref: string }>;
  extra: ConsoleObject[];
  /** Minutes after activation the clock moves to (the scheduled start was 30 minutes before it). */
  advance: number;
  /** Whether the runner finishes its attempt before the clock moves. */
  finishFirst: boolean;
  status: string;
  late: boolean;
  alarms: RegExp[];
  cancellationReason?: RegExp;
}

const lateCases: LateCase[] = [
  {
    name: "Terminate cancels a late instance; its runner is told by ReportTaskProgress",
    a: { lateAfterTimeout: "1 hours", onLateAction: { ref: "Stop" } },
    extra: [{ id: "Stop", type: "Terminate" }],
    advance: 30,
    finishFirst: false,
    status: "CANCELED",
    late: true,
    alarms: [],
    cancellationReason: /^Terminated by Stop: /,
  },
  {
    name: "SnsAlarm on a late instance is recorded on it and the instance keeps running",
    a: { lateAfterTimeout: "1 hours", onLateAction: { ref: "Late" } },
    extra: [alarm("Late")],
    advance: 30,
    finishFirst: false,
    status: "RUNNING",
    late: true,
    alarms: [/^onLateAction Late at \S+ to arn:aws:sns:us-east-1:123456789012:ops: Late subject: see the console$/],
  },
  {
    name: "an instance still running just before lateAfterTimeout is not late",
    a: { lateAfterTimeout: "1 hours", onLateAction: { ref: "Stop" } },
    extra: [{ id: "Stop", type: "Terminate" }],
    advance: 29,
    finishFirst: false,
    status: "RUNNING",
    late: false,
    alarms: [],
  },
  {
    name: "an instance that finished in time is never late; onSuccess alarms",
    a: { lateAfterTimeout: "1 hours", onLateAction: { ref: "Stop" }, onSuccess: { ref: "Ok" } },
    extra: [{ id: "Stop", type: "Terminate" }, alarm("Ok")],
    advance: 90,
    finishFirst: true,
    status: "FINISHED",
    late: false,
    alarms: [/^onSuccess Ok at /],
  },
];

/** Reads a stopped taskgate's store. */
async function read<R>(loc: StoreLocation, fn: (sql: Sql) => Promise<R>): Promise<R> {
  const db = (await openStore(loc)) ?? (await openDatabase({ database: loc.database, sqliteSync: defaults.sqliteSync }, pino({ level: "silent" })));
  try {
    return await db.tx(fn);
  } finally {
    await db.close();
  }
}

/** Definitions whose actions AWS documents as ineffective: each warns on the object, none errs. */
const actionWarnings: { name: string; objects: ConsoleObject[]; id: string; warning: RegExp }[] = [
  {
    name: "onLateAction without lateAfterTimeout",
    objects: hourly(Date.UTC(2026, 0, 1), { onLateAction: { ref: "Stop" } }, [{ id: "Stop", type: "Terminate" }]),
    id: "A",
    warning: /^MISSING_FIELD: {2}'onLateAction' needs 'lateAfterTimeout'/,
  },
  {
    name: "lateAfterTimeout on an on-demand pipeline",
    objects: [
      { id: "Default", scheduleType: "ondemand", workerGroup: "wg" },
      { id: "A", type: "ShellCommandActivity", command: "x", lateAfterTimeout: "1 hours" },
    ],
    id: "A",
    warning: /^INVALID_FIELD_VALUE: {2}'lateAfterTimeout' applies only when the scheduleType is not ondemand/,
  },
  {
    name: "Terminate as onFail",
    objects: hourly(Date.UTC(2026, 0, 1), { onFail: { ref: "Stop" } }, [{ id: "Stop", type: "Terminate" }]),
    id: "A",
    warning: /^INVALID_FIELD_VALUE: {2}'onFail' references Terminate 'Stop'; Terminate applies to 'onLateAction' only/,
  },
];

describe.each(stores)("Data Pipeline actions and limits on a fake clock (%s)", (kind) => {
  const gates: DpGate[] = [];
  afterEach(async () => {
    for (const g of gates.splice(0)) await g.destroy();
  });

  async function setup(objects: ConsoleObject[], clock = new FakeClock()): Promise<{ tg: DpGate; clock: FakeClock; id: string }> {
    const tg = await startDp({ kind, clock });
    gates.push(tg);
    const { pipelineId } = await tg.dp.send(new CreatePipelineCommand({ name: "p", uniqueId: "u" }));
    const put = await tg.dp.send(new PutPipelineDefinitionCommand({ pipelineId, pipelineObjects: objectsOf(objects) }));
    expect(put.errored, JSON.stringify(put.validationErrors)).toBe(false);
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId }));
    return { tg, clock, id: pipelineId! };
  }

  async function query(tg: DpGate, pipelineId: string, sphere: string, status?: string): Promise<string[]> {
    const selectors = status ? [{ fieldName: "@status", operator: { type: "EQ" as const, values: [status] } }] : [];
    return (await tg.dp.send(new QueryObjectsCommand({ pipelineId, sphere, query: { selectors } }))).ids ?? [];
  }

  async function describe1(tg: DpGate, pipelineId: string, id: string): Promise<PipelineObject | undefined> {
    return (await tg.dp.send(new DescribeObjectsCommand({ pipelineId, objectIds: [id] }))).pipelineObjects?.[0];
  }

  it.each(lateCases)("$name", async (c) => {
    const clock = new FakeClock();
    const clock0 = clock.now();
    const { tg, id } = await setup(hourly(clock0, c.a, c.extra), clock);
    const inst = `@A_${formatDateTime(clock0 - 30 * minute)}`;
    const t = c.finishFirst ? await runOne(tg.dp, "wg") : await poll(tg.dp, "wg");
    expect(t?.attemptId).toBe(`${inst}_Attempt=1`);
    clock.advance(c.advance * minute);
    if (c.late) await eventually(async () => expect(values(await describe1(tg, id, inst), "@lateTime")).toHaveLength(1));
    await eventually(async () => expect(values(await describe1(tg, id, inst), "@status")).toEqual([c.status]));
    const o = await describe1(tg, id, inst);
    if (!c.late) expect(values(o, "@lateTime")).toEqual([]);
    const alarms = values(o, "@snsAlarm");
    expect(alarms).toHaveLength(c.alarms.length);
    c.alarms.forEach((re, i) => expect(alarms[i]).toMatch(re));
    if (c.cancellationReason) expect(values(o, "cancellationReason")[0]).toMatch(c.cancellationReason);
    else expect(values(o, "cancellationReason")).toEqual([]);
    if (!c.finishFirst) {
      const progress = await tg.dp.send(new ReportTaskProgressCommand({ taskId: t!.taskId }));
      expect(progress.canceled).toBe(c.status === "CANCELED");
    }
  });

  it.each(actionWarnings)("warns of $name", async (c) => {
    const tg = await startDp({ kind });
    gates.push(tg);
    const { pipelineId } = await tg.dp.send(new CreatePipelineCommand({ name: "p", uniqueId: "u" }));
    const r = await tg.dp.send(new ValidatePipelineDefinitionCommand({ pipelineId, pipelineObjects: objectsOf(c.objects) }));
    expect(r.errored, JSON.stringify(r.validationErrors)).toBe(false);
    const ws = r.validationWarnings?.find((w) => w.id === c.id)?.warnings ?? [];
    expect(ws.filter((w) => c.warning.test(w)), JSON.stringify(ws)).toHaveLength(1);
  });

  it("lateAfterTimeout does not apply to on-demand pipelines, as AWS documents", async () => {
    const { tg, clock, id } = await setup([
      { id: "Default", scheduleType: "ondemand", workerGroup: "wg" },
      { id: "A", type: "ShellCommandActivity", command: "x", lateAfterTimeout: "15 minutes", onLateAction: { ref: "Stop" } },
      { id: "Stop", type: "Terminate" },
    ]);
    await poll(tg.dp, "wg");
    clock.advance(60 * minute);
    // A timer would have fired by the time the next query commits; nothing changed.
    expect(await query(tg, id, "INSTANCE", "RUNNING")).toHaveLength(1);
    expect(await query(tg, id, "INSTANCE", "CANCELED")).toEqual([]);
  });

  it("onFail alarms when an instance fails for good, not on an attempt that is retried", async () => {
    const { tg, clock, id } = await setup([
      { id: "Default", scheduleType: "ondemand", workerGroup: "wg" },
      { id: "A", type: "ShellCommandActivity", command: "x", maximumRetries: "1", retryDelay: "1 minutes", onFail: { ref: "Bad" } },
      alarm("Bad"),
    ]);
    const first = await runOne(tg.dp, "wg", "FAILED");
    const inst = first.attemptId!.replace(/_Attempt=1$/, "");
    expect(values(await describe1(tg, id, inst), "@snsAlarm")).toEqual([]);
    clock.advance(minute);
    await eventually(async () => expect(await query(tg, id, "ATTEMPT", "WAITING_FOR_RUNNER")).toHaveLength(1));
    await runOne(tg.dp, "wg", "FAILED");
    const o = await describe1(tg, id, inst);
    expect(values(o, "@status")).toEqual(["FAILED"]);
    expect(values(o, "@snsAlarm")).toHaveLength(1);
    expect(values(o, "@snsAlarm")[0]).toMatch(/^onFail Bad at /);
  });

  it("maxActiveInstances runs a backfill that many periods at a time, oldest first; a rerun does not wait", async () => {
    const clock0 = new FakeClock().now();
    const { tg, id } = await setup([
      { id: "Default", scheduleType: "cron", schedule: { ref: "S" }, workerGroup: "wg" },
      { id: "S", type: "Schedule", period: "15 minutes", startDateTime: formatDateTime(clock0 - 60 * minute), occurrences: "5" },
      { id: "A", type: "ShellCommandActivity", command: "x", maxActiveInstances: "2" },
    ]);
    const at = (m: number) => `@A_${formatDateTime(clock0 - 60 * minute + m * minute)}`;
    expect(await query(tg, id, "INSTANCE")).toEqual([0, 15, 30, 45, 60].map(at));
    expect(await query(tg, id, "INSTANCE", "WAITING_FOR_RUNNER")).toEqual([at(0), at(15)]);
    const held = await poll(tg.dp, "wg");
    expect(held?.attemptId).toBe(`${at(0)}_Attempt=1`);
    // One running, one waiting for a runner: both count; nothing else starts.
    expect(await query(tg, id, "INSTANCE", "WAITING_FOR_RUNNER")).toEqual([at(15)]);
    expect((await runOne(tg.dp, "wg")).attemptId).toBe(`${at(15)}_Attempt=1`);
    expect(await query(tg, id, "INSTANCE", "WAITING_FOR_RUNNER")).toEqual([at(30)]);
    // A rerun of a finished instance starts at once, beside the two active ones.
    await tg.dp.send(new SetStatusCommand({ pipelineId: id, objectIds: [at(15)], status: "RERUN" }));
    expect(await query(tg, id, "INSTANCE", "WAITING_FOR_RUNNER")).toEqual([at(15), at(30)]);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await runOne(tg.dp, "wg")).attemptId!);
    // Tasks leave the worker group's queue in the order they entered it.
    expect(seen).toEqual([`${at(30)}_Attempt=1`, `${at(15)}_Attempt=2`, `${at(45)}_Attempt=1`, `${at(60)}_Attempt=1`]);
    expect(await query(tg, id, "INSTANCE", "RUNNING")).toEqual([at(0)]);
  });

  it("maxActiveInstances does not hold back the retry of an active instance after a re-activation", async () => {
    const clock = new FakeClock();
    const clock0 = clock.now();
    const { tg, id } = await setup(hourly(clock0, { maxActiveInstances: "1", maximumRetries: "1", retryDelay: "10 minutes" }), clock);
    const first = await runOne(tg.dp, "wg", "FAILED");
    const inst = first.attemptId!.replace(/_Attempt=1$/, "");
    await tg.dp.send(new DeactivatePipelineCommand({ pipelineId: id, cancelActive: false }));
    await tg.dp.send(new ActivatePipelineCommand({ pipelineId: id }));
    // The retry whose timer belonged to the earlier activation starts at once.
    expect((await runOne(tg.dp, "wg")).attemptId).toBe(`${inst}_Attempt=2`);
    expect(await query(tg, id, "INSTANCE", "FINISHED")).toEqual([inst]);
  });

  it("a run stored before instances had rows (inside the state JSON) is read, and moves to rows at its next change", async () => {
    const clock0 = new FakeClock().now();
    const loc = freshStore(kind);
    const first = await startDp({ kind, store: loc, clock: new FakeClock(clock0) });
    const { pipelineId } = await first.dp.send(new CreatePipelineCommand({ name: "p", uniqueId: "u" }));
    const objects = objectsOf([
      { id: "Default", scheduleType: "ondemand", workerGroup: "wg" },
      { id: "A", type: "ShellCommandActivity", command: "x" },
    ]);
    await first.dp.send(new PutPipelineDefinitionCommand({ pipelineId, pipelineObjects: objects }));
    await first.dp.send(new ActivatePipelineCommand({ pipelineId }));
    await first.stop();
    // Rewrite the run as it was stored before migration 007.
    await read(loc, async (sql) => {
      const state = JSON.parse((await sql.get("SELECT state FROM dp_pipelines WHERE id = ?", [pipelineId!]))!.state as string) as Record<string, unknown>;
      const bodies = async (table: string) => (await sql.all(`SELECT body FROM ${table} WHERE pipeline_id = ?`, [pipelineId!])).map((r) => JSON.parse(r.body as string) as { id: string });
      state.instances = Object.fromEntries((await bodies("dp_instances")).map((i) => [i.id, i]));
      state.attempts = Object.fromEntries((await bodies("dp_attempts")).map((a) => [a.id, a]));
      await sql.run("UPDATE dp_pipelines SET state = ? WHERE id = ?", [JSON.stringify(state), pipelineId!]);
      await sql.run("DELETE FROM dp_instances WHERE pipeline_id = ?", [pipelineId!]);
      await sql.run("DELETE FROM dp_attempts WHERE pipeline_id = ?", [pipelineId!]);
    });
    const second = await startDp({ kind, store: loc, clock: new FakeClock(clock0 + minute) });
    gates.push(second);
    expect(await query(second, pipelineId!, "INSTANCE", "WAITING_FOR_RUNNER")).toHaveLength(1);
    const t = await runOne(second.dp, "wg");
    expect(t.attemptId).toMatch(/^@A_.*_Attempt=1$/);
    expect(await query(second, pipelineId!, "INSTANCE", "FINISHED")).toHaveLength(1);
    expect(await query(second, pipelineId!, "ATTEMPT", "FINISHED")).toEqual([t.attemptId]);
    await second.stop();
    const stored = await read(loc, async (sql) => ({
      state: (await sql.get("SELECT state FROM dp_pipelines WHERE id = ?", [pipelineId!]))!.state as string,
      rows: Number((await sql.get("SELECT COUNT(*) AS n FROM dp_instances WHERE pipeline_id = ? AND status = 'FINISHED'", [pipelineId!]))!.n),
    }));
    expect(stored.rows).toBe(1);
    expect(stored.state).not.toContain("@A_");
  });

  it("a run's rows survive a restart, past instances stay readable, and DeletePipeline removes them", async () => {
    const clock0 = new FakeClock().now();
    const loc = freshStore(kind);
    const first = await startDp({ kind, store: loc, clock: new FakeClock(clock0) });
    const { pipelineId } = await first.dp.send(new CreatePipelineCommand({ name: "p", uniqueId: "u" }));
    await first.dp.send(
      new PutPipelineDefinitionCommand({
        pipelineId,
        pipelineObjects: objectsOf([
          { id: "Default", scheduleType: "cron", schedule: { ref: "S" }, workerGroup: "wg", failureAndRerunMode: "CASCADE" },
          { id: "S", type: "Schedule", period: "15 minutes", startDateTime: formatDateTime(clock0 - 60 * minute), occurrences: "5" },
          { id: "A", type: "ShellCommandActivity", command: "x" },
          { id: "B", type: "ShellCommandActivity", command: "y", dependsOn: { ref: "A" } },
        ]),
      }),
    );
    await first.dp.send(new ActivatePipelineCommand({ pipelineId }));
    for (let i = 0; i < 3; i++) await runOne(first.dp, "wg");
    await first.stop();
    // Instances and attempts are rows of their own; the pipeline's row holds none of them.
    const stored = await read(loc, async (sql) => ({
      state: (await sql.get("SELECT state FROM dp_pipelines WHERE id = ?", [pipelineId!]))!.state as string,
      instances: Number((await sql.get("SELECT COUNT(*) AS n FROM dp_instances WHERE pipeline_id = ?", [pipelineId!]))!.n),
      live: Number((await sql.get("SELECT COUNT(*) AS n FROM dp_instances WHERE pipeline_id = ? AND final = 0", [pipelineId!]))!.n),
      attempts: Number((await sql.get("SELECT COUNT(*) AS n FROM dp_attempts WHERE pipeline_id = ?", [pipelineId!]))!.n),
    }));
    // 5 periods of A (3 finished) and B: an attempt for each A and for the B of each finished A.
    expect(stored).toMatchObject({ instances: 10, live: 7, attempts: 8 });
    expect(stored.state).not.toContain("@A_");
    const second = await startDp({ kind, store: loc, clock: new FakeClock(clock0 + minute) });
    gates.push(second);
    // 5 periods of A and B: the finished ones are read back, the rest go on where they were.
    expect(await query(second, pipelineId!, "INSTANCE")).toHaveLength(10);
    expect(await query(second, pipelineId!, "INSTANCE", "FINISHED")).toHaveLength(3);
    for (let i = 0; i < 7; i++) await runOne(second.dp, "wg");
    expect(await query(second, pipelineId!, "INSTANCE", "FINISHED")).toHaveLength(10);
    expect(await query(second, pipelineId!, "ATTEMPT", "FINISHED")).toHaveLength(10);
    await second.dp.send(new DeletePipelineCommand({ pipelineId }));
    await second.stop();
    const left = await read(loc, async (sql) => {
      const i = await sql.get("SELECT COUNT(*) AS n FROM dp_instances WHERE pipeline_id = ?", [pipelineId!]);
      const a = await sql.get("SELECT COUNT(*) AS n FROM dp_attempts WHERE pipeline_id = ?", [pipelineId!]);
      return Number(i!.n) + Number(a!.n);
    });
    expect(left).toBe(0);
  });
});
