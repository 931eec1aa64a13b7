// Execution operations: StartExecution, DescribeExecution, StopExecution, ListExecutions,
// GetExecutionHistory, DescribeStateMachineForExecution, and DeleteStateMachine (which waits for
// running executions).
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type * as pb from "../../../gen/taskgate/sfn/v1/service_pb.ts";
import { ExecutionStatus, HistoryEventSchema, HistoryEventTypeSchema } from "../../../gen/taskgate/sfn/v1/types_pb.ts";
import { sfn } from "../../faults.ts";
import { executionArn, inScope, parseStatesArn, stateMachineArn } from "../../resources/arn.ts";
import * as st from "../../store/sfn.ts";
import { MAX_PAYLOAD_BYTES } from "../interpreter/index.ts";
import type { Sfn } from "../engine.ts";
import { feed, flush, openRow, startExecution as runStart, type OpenExecution } from "../execution.ts";
import { checkName, loggingShape, type Res } from "../present.ts";
import { readToken } from "./activities.ts";

/** UTF-8 length of a string (payload limits count bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Whether a text is JSON. */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function machineOf(ctx: Sfn, arn: string): string | undefined {
  const a = parseStatesArn(arn, "stateMachine");
  return inScope(a, ctx.scope) ? a.name : undefined;
}

function executionOf(ctx: Sfn, arn: string): { machine: string; name: string } | undefined {
  const a = parseStatesArn(arn, "execution");
  return inScope(a, ctx.scope) ? { machine: a.stateMachine, name: a.name } : undefined;
}

function machineMissing(arn: string): Error {
  return sfn.stateMachineDoesNotExist(`State Machine Does Not Exist: '${arn}'`);
}

function executionMissing(arn: string): Error {
  return sfn.executionDoesNotExist(`Execution Does Not Exist: '${arn}'`);
}

/**
 * StartExecution. The input (default `{}`) must be JSON of at most 256 KiB (InvalidExecutionInput);
 * the name (default: a fresh UUID) follows the naming rule. Repeating the name and input of a
 * RUNNING execution returns it (same ARN and start date); any other reuse of a name is
 * ExecutionAlreadyExists (AWS keeps closed executions' names for 90 days; taskgate for ever).
 * The execution runs the state machine's definition as it is now, for its whole life.
 */
export async function startExecution(ctx: Sfn, req: pb.StartExecutionRequest): Promise<Res<typeof pb.StartExecutionResponseSchema>> {
  const machine = machineOf(ctx, req.stateMachineArn!);
  const name = req.name ?? ctx.newId();
  checkName(name, "execution");
  const input = req.input ?? "{}";
  if (!isJson(input)) throw sfn.invalidExecutionInput(`Invalid State Machine Execution Input: 'the input is not valid JSON'`);
  if (utf8Length(input) > MAX_PAYLOAD_BYTES) throw sfn.invalidExecutionInput(`Invalid State Machine Execution Input: 'the input is larger than ${MAX_PAYLOAD_BYTES} bytes'`);
  if (machine === undefined) throw machineMissing(req.stateMachineArn!);
  const arn = executionArn(ctx.scope, machine, name);
  const row = await ctx.tx(async (uow) => {
    await st.lockedMachineStatus(uow.sql, uow.caps, machine, false);
    const m = await st.getStateMachine(uow.sql, machine);
    if (!m) throw machineMissing(req.stateMachineArn!);
    if (m.status === "DELETING") throw sfn.stateMachineDeleting(`State machine is being deleted: '${req.stateMachineArn}'`);
    const id = st.executionId(machine, name);
    const same = (e: st.ExecutionRow) => {
      if (e.status === "RUNNING" && e.input === input) return e;
      throw sfn.executionAlreadyExists(`Execution Already Exists: '${arn}'`);
    };
    const existing = await st.getExecution(uow.sql, uow.caps, id, false);
    if (existing) return same(existing);
    const e: st.ExecutionRow = {
      id,
      machine,
      name,
      status: "RUNNING",
      input,
      output: null,
      error: null,
      cause: null,
      startMs: ctx.clock.now(),
      stopMs: null,
      definition: m.definition,
      revisionId: m.revisionId,
      roleArn: m.roleArn,
      state: "{}",
    };
    if (!(await st.insertExecution(uow.sql, e))) return same((await st.getExecution(uow.sql, uow.caps, id, false))!);
    const x: OpenExecution = { ...openRow(ctx, { ...e, state: JSON.stringify({ format: 1, nextEventId: 1, status: "RUNNING", run: {} }) }), row: e };
    await uow.memo(`sfn-exec:${id}`, async () => e);
    await uow.memo(`sfn-open:${id}`, async () => x);
    await runStart(ctx, uow, x);
    await flush(ctx, uow, x);
    return e;
  });
  return { executionArn: arn, startDate: timestampFromMs(row.startMs) };
}

/** The status of a stored execution as ExecutionStatus. */
function statusOf(s: string): ExecutionStatus {
  return ExecutionStatus[s as keyof typeof ExecutionStatus] ?? ExecutionStatus.UNSPECIFIED;
}

async function loadExecution(ctx: Sfn, arn: string): Promise<st.ExecutionRow> {
  const e = executionOf(ctx, arn);
  const row = e && (await ctx.db.tx((sql) => st.getExecution(sql, ctx.db.caps, st.executionId(e.machine, e.name), false)));
  if (!row) throw executionMissing(arn);
  return row;
}

/** DescribeExecution: status, input, output (SUCCEEDED), error and cause, start and stop dates. */
export async function describeExecution(ctx: Sfn, req: pb.DescribeExecutionRequest): Promise<Res<typeof pb.DescribeExecutionResponseSchema>> {
  const e = await loadExecution(ctx, req.executionArn!);
  return {
    executionArn: executionArn(ctx.scope, e.machine, e.name),
    stateMachineArn: stateMachineArn(ctx.scope, e.machine),
    name: e.name,
    status: statusOf(e.status),
    startDate: timestampFromMs(e.startMs),
    stopDate: e.stopMs === null ? undefined : timestampFromMs(e.stopMs),
    input: e.input,
    inputDetails: { included: true },
    output: e.output ?? undefined,
    outputDetails: e.output === null ? undefined : { included: true },
    error: e.error ?? undefined,
    cause: e.cause ?? undefined,
  };
}

/**
 * StopExecution: a RUNNING execution ends ABORTED with the error and cause given; its open
 * activity tasks are withdrawn (their tokens answer TaskTimedOut). Stopping a closed execution
 * changes nothing and answers its stop date.
 */
export async function stopExecution(ctx: Sfn, req: pb.StopExecutionRequest): Promise<Res<typeof pb.StopExecutionResponseSchema>> {
  const e = executionOf(ctx, req.executionArn!);
  if (!e) throw executionMissing(req.executionArn!);
  const stopMs = await ctx.tx(async (uow) => {
    const id = st.executionId(e.machine, e.name);
    const row = await uow.memo(`sfn-exec:${id}`, () => st.getExecution(uow.sql, uow.caps, id, true));
    if (!row) throw executionMissing(req.executionArn!);
    if (row.status !== "RUNNING") return row.stopMs ?? row.startMs;
    const x = await uow.memo(`sfn-open:${id}`, async () => openRow(ctx, row));
    await feed(ctx, uow, x, { type: "stop", ...(req.error === undefined ? {} : { error: req.error }), ...(req.cause === undefined ? {} : { cause: req.cause }) });
    await flush(ctx, uow, x);
    return x.row.stopMs ?? ctx.clock.now();
  });
  return { stopDate: timestampFromMs(stopMs) };
}

/** Default and largest page size of ListExecutions and GetExecutionHistory. */
const page = { default: 100, max: 1000 };

function pageSize(n: number | undefined): number {
  return n === undefined || n === 0 ? page.default : Math.min(n, page.max);
}

/** ListExecutions: a state machine's executions, newest first, optionally of one status; paged. */
export async function listExecutions(ctx: Sfn, req: pb.ListExecutionsRequest): Promise<Res<typeof pb.ListExecutionsResponseSchema>> {
  if (req.stateMachineArn === undefined)
    throw sfn.validation(req.mapRunArn === undefined ? "Either stateMachineArn or mapRunArn must be specified." : "Map runs are not supported by taskgate yet; list by stateMachineArn.");
  const machine = machineOf(ctx, req.stateMachineArn);
  const limit = pageSize(req.maxResults);
  const status = Object.entries(ExecutionStatus).find(([k, v]) => v === req.statusFilter && k !== "UNSPECIFIED")?.[0];
  const cursor = req.nextToken ? readToken<{ k: "sfn-le"; m: string; s: number; n: string }>(ctx, req.nextToken, "sfn-le") : undefined;
  if (cursor && cursor.m !== machine) throw sfn.invalidToken("Invalid Token: the nextToken was issued for another state machine.");
  const rows = await ctx.db.tx(async (sql) => {
    if (machine === undefined || !(await st.getStateMachine(sql, machine))) throw machineMissing(req.stateMachineArn!);
    return st.listExecutions(sql, machine, status, cursor && { startMs: cursor.s, name: cursor.n }, limit + 1);
  });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    executions: items.map((e) => ({
      executionArn: executionArn(ctx.scope, e.machine, e.name),
      stateMachineArn: stateMachineArn(ctx.scope, e.machine),
      name: e.name,
      status: statusOf(e.status),
      startDate: timestampFromMs(e.startMs),
      stopDate: e.stopMs === null ? undefined : timestampFromMs(e.stopMs),
    })),
    nextToken: rows.length > limit ? ctx.pages.issue({ k: "sfn-le", m: machine, s: last.startMs, n: last.name }) : undefined,
  };
}

/** HistoryEventType by AWS spelling ("ActivityScheduled" → its enum value's JSON name). */
const eventTypes = new Map(
  HistoryEventTypeSchema.values.filter((v) => v.number !== 0).map((v) => [v.localName.split("_").map((w) => w[0] + w.slice(1).toLowerCase()).join(""), v.name]),
);

/** The data members AWS leaves out of history events when includeExecutionData is false. */
const dataMembers = ["input", "output", "inputDetails", "outputDetails"];

/** A stored history event as GetExecutionHistory returns it. */
function historyEvent(e: st.HistoryRow, withData: boolean) {
  const details = e.details === null ? {} : (JSON.parse(e.details) as Record<string, Record<string, JsonValue>>);
  if (!withData) for (const d of Object.values(details)) for (const k of dataMembers) delete d[k];
  const type = eventTypes.get(e.type);
  if (type === undefined) throw new Error(`history event of unknown type ${e.type}`);
  return fromJson(HistoryEventSchema, { timestamp: new Date(e.tsMs).toISOString(), type, id: e.id, previousEventId: e.previousId, ...details } as JsonValue, { ignoreUnknownFields: true });
}

/** GetExecutionHistory: the events in order (or reversed), paged; includeExecutionData false leaves out inputs and outputs. */
export async function getExecutionHistory(ctx: Sfn, req: pb.GetExecutionHistoryRequest): Promise<Res<typeof pb.GetExecutionHistoryResponseSchema>> {
  const e = await loadExecution(ctx, req.executionArn!);
  const limit = pageSize(req.maxResults);
  const reverse = req.reverseOrder ?? false;
  const cursor = req.nextToken ? readToken<{ k: "sfn-h"; e: string; a: number; r: boolean }>(ctx, req.nextToken, "sfn-h") : undefined;
  if (cursor && (cursor.e !== e.id || cursor.r !== reverse)) throw sfn.invalidToken("Invalid Token: the nextToken was issued for another execution or order.");
  const rows = await ctx.db.tx((sql) => st.history(sql, e.id, cursor?.a, reverse, limit + 1));
  const items = rows.slice(0, limit);
  const withData = req.includeExecutionData ?? true;
  return {
    events: items.map((r) => historyEvent(r, withData)),
    nextToken: rows.length > limit ? ctx.pages.issue({ k: "sfn-h", e: e.id, a: items[items.length - 1].id, r: reverse }) : undefined,
  };
}

/** DescribeStateMachineForExecution: the definition, role and revision the execution runs. */
export async function describeStateMachineForExecution(ctx: Sfn, req: pb.DescribeStateMachineForExecutionRequest): Promise<Res<typeof pb.DescribeStateMachineForExecutionResponseSchema>> {
  const e = await loadExecution(ctx, req.executionArn!);
  const m = await ctx.db.tx((sql) => st.getStateMachine(sql, e.machine));
  return {
    stateMachineArn: stateMachineArn(ctx.scope, e.machine),
    name: e.machine,
    definition: e.definition,
    roleArn: e.roleArn,
    updateDate: timestampFromMs(m && m.revisionId === e.revisionId ? (m.updatedMs ?? m.createdMs) : e.startMs),
    loggingConfiguration: m ? loggingShape(m.logging) : undefined,
    tracingConfiguration: m ? (JSON.parse(m.tracing) as { enabled: boolean }) : { enabled: false },
    revisionId: e.revisionId,
  };
}

/**
 * DeleteStateMachine. With RUNNING executions the state machine becomes DELETING (no new
 * execution starts) and is deleted when the last of them closes; otherwise it and its tags are
 * deleted at once. Deleting one that does not exist succeeds, as on AWS.
 */
export async function deleteStateMachine(ctx: Sfn, req: pb.DeleteStateMachineRequest): Promise<Res<typeof pb.DeleteStateMachineResponseSchema>> {
  const name = machineOf(ctx, req.stateMachineArn!);
  if (name !== undefined)
    await ctx.tx(async (uow) => {
      if ((await st.lockedMachineStatus(uow.sql, uow.caps, name, true)) === undefined) return;
      if (await st.hasRunningExecution(uow.sql, name)) await st.setStateMachineStatus(uow.sql, name, "DELETING");
      else await st.deleteStateMachine(uow.sql, name);
    });
  return {};
}
