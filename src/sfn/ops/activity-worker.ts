// The activity worker's operations: GetActivityTask (long poll) and StreamActivityTasks, and the
// answers SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat, one at a time or in a batch
// (RespondActivityTasks).
import type * as pb from "../../../gen/taskgate/sfn/v1/service_pb.ts";
import { PollLimitExceeded, type PollOptions, type TaskRow, type UnitOfWork } from "../../dispatch/index.ts";
import { Fault, sfn } from "../../faults.ts";
import { inScope, parseStatesArn } from "../../resources/arn.ts";
import * as st from "../../store/sfn.ts";
import { MAX_PAYLOAD_BYTES, type ExecutionEvent } from "../interpreter/index.ts";
import type { Sfn } from "../engine.ts";
import type { ActivityPayload, ClaimedActivity } from "../activity-task.ts";
import { activityQueue, feed, flush, openRow, type OpenExecution } from "../execution.ts";
import type { Res } from "../present.ts";
import { isJson, utf8Length } from "./executions.ts";

/** The shape of a task token taskgate issues: 24 URL-safe base64 characters (144 random bits). */
const tokenShape = /^[A-Za-z0-9_-]{24}$/;

/** The name of an activity an ARN names when this node knows it exists; undefined when that takes a look in the store. */
function knownActivity(ctx: Sfn, arn: string): string | undefined {
  const a = parseStatesArn(arn, "activity");
  return inScope(a, ctx.scope) && ctx.knownActivities.has(a.name) ? a.name : undefined;
}

/** The name of an existing activity an ARN names; ActivityDoesNotExist otherwise. */
async function existingActivity(ctx: Sfn, arn: string): Promise<string> {
  const a = parseStatesArn(arn, "activity");
  const known = inScope(a, ctx.scope) && (ctx.knownActivities.has(a.name) || (await ctx.db.tx((sql) => st.getActivity(sql, a.name))) !== undefined);
  if (!known) throw sfn.activityDoesNotExist(`Activity Does Not Exist: '${arn}'`);
  // Remembered for later polls; a deleted activity's poll then merely finds no task.
  ctx.knownActivities.add(a.name);
  return a.name;
}

/**
 * ActivityWorkerLimitExceeded for a poll or stream the dispatch core refused: `--max-activity-pollers`
 * polls and streams already held on the activity on this node. Checked after the activity exists.
 */
function limitFault(ctx: Sfn, activity: string, e: unknown): unknown {
  if (!(e instanceof PollLimitExceeded)) return e;
  return sfn.activityWorkerLimitExceeded(`Activity Worker Limit Exceeded: ${ctx.maxActivityPollers} GetActivityTask calls already wait on '${activity}' on this server.`);
}

/** The answer of a GetActivityTask that got a task. */
function polledTask(t: ClaimedActivity): Res<typeof pb.GetActivityTaskResponseSchema> {
  return { taskToken: t.token, input: t.input };
}

/** The answer of a GetActivityTask that got none. */
function noTask(): Res<typeof pb.GetActivityTaskResponseSchema> {
  return {};
}

/** limitFault as the fault argument of WorkerTasks.poll: a closure of its own, so a held poll keeps it without its request. */
function limitFaultOf(ctx: Sfn, activity: string): (e: unknown) => unknown {
  return (e) => limitFault(ctx, activity, e);
}

/** GetActivityTask: a long poll for one task of an activity; `{}` when none came within the hold time. */
export function getActivityTask(ctx: Sfn, req: pb.GetActivityTaskRequest, opts: PollOptions): Promise<Res<typeof pb.GetActivityTaskResponseSchema>> {
  // Not an async function: a held poll keeps no suspended frame of its own (see WorkerTasks.poll).
  const poll = (activity: string): Promise<Res<typeof pb.GetActivityTaskResponseSchema>> =>
    ctx.tasks.poll<OpenExecution, ActivityPayload, ClaimedActivity, Res<typeof pb.GetActivityTaskResponseSchema>>(
      ctx.activityTask,
      activityQueue(activity),
      ctx.maxActivityPollers,
      req.workerName,
      opts,
      polledTask,
      noTask,
      limitFaultOf(ctx, activity),
    );
  let known: string | undefined;
  try {
    known = knownActivity(ctx, req.activityArn!);
    if (known !== undefined) return poll(known);
  } catch (e) {
    return Promise.reject(e);
  }
  return existingActivity(ctx, req.activityArn!).then(poll);
}

/** Server-streamed tasks of an activity, sent in the batches they were claimed in; counted with the activity's polls. */
export async function* streamActivityTasks(ctx: Sfn, req: pb.StreamActivityTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamActivityTasksResponseSchema>[]> {
  const activity = await existingActivity(ctx, req.activityArn!);
  try {
    yield* ctx.tasks.stream(ctx.activityTask, activityQueue(activity), ctx.maxActivityPollers, req.workerName, maxInFlight, signal, (t) => ({ taskToken: t.token, input: t.input }), false);
  } catch (e) {
    throw limitFault(ctx, activity, e);
  }
}

/** The fault of a token that holds no started task: malformed, spent (the task is over) or never issued. */
function tokenFault(token: string, spent: boolean): Fault {
  if (!tokenShape.test(token)) return sfn.invalidToken(`Invalid Token: 'Invalid token'`);
  if (spent) return sfn.taskTimedOut("Task Timed Out: 'Provided task does not exist anymore'");
  return sfn.taskDoesNotExist("Task Does Not Exist: 'Provided task does not exist'");
}

/** Checks a task's output: JSON of at most 256 KiB; InvalidOutput otherwise. */
function checkOutput(output: string): void {
  if (!isJson(output)) throw sfn.invalidOutput("Invalid Output: 'the output is not valid JSON'");
  if (utf8Length(output) > MAX_PAYLOAD_BYTES) throw sfn.invalidOutput(`Invalid Output: 'the output is larger than ${MAX_PAYLOAD_BYTES} bytes'`);
}

/** The started tasks of `tokens` with their executions (opened once per unit of work), and the spent ones. */
async function lookUp(ctx: Sfn, uow: UnitOfWork, tokens: readonly string[]): Promise<{ found: Map<string, { task: TaskRow; x: OpenExecution }>; spent: Set<string> }> {
  const valid = tokens.filter((t) => tokenShape.test(t));
  const rows = await st.startedTasksWithExecutions(uow.sql, uow.caps, [...new Set(valid)]);
  const found = new Map<string, { task: TaskRow; x: OpenExecution }>();
  for (const [token, r] of rows) {
    const x = await uow.memo(`sfn-open:${r.owner.id}`, async () => openRow(ctx, await uow.memo(`sfn-exec:${r.owner.id}`, async () => r.owner)));
    found.set(token, { task: r.task, x });
  }
  const missing = valid.filter((t) => !found.has(t));
  return { found, spent: missing.length === 0 ? new Set() : await st.spentTokens(uow.sql, missing) };
}

/** One answer of a worker: its token and the event it feeds. */
interface Answer {
  token: string;
  event: (taskRef: string) => ExecutionEvent;
}

function successOf(req: pb.SendTaskSuccessRequest): Answer {
  const output = req.output!;
  return { token: req.taskToken!, event: (taskRef) => ({ type: "taskSucceeded", taskRef, output }) };
}

function failureOf(req: pb.SendTaskFailureRequest): Answer {
  return {
    token: req.taskToken!,
    event: (taskRef) => ({ type: "taskFailed", taskRef, ...(req.error === undefined ? {} : { error: req.error }), ...(req.cause === undefined ? {} : { cause: req.cause }) }),
  };
}

/**
 * Applies answers in one unit of work: each closes its task (the token is spent), feeds its
 * execution, and each execution touched is written once. An answer whose token holds no started
 * task of a RUNNING execution (or one an earlier answer of the batch closed) gets its fault and
 * changes nothing.
 */
async function applyAnswers(ctx: Sfn, uow: UnitOfWork, answers: readonly Answer[]): Promise<(Fault | undefined)[]> {
  const { found, spent } = await lookUp(ctx, uow, answers.map((a) => a.token));
  const used = new Set<string>();
  const touched = new Set<OpenExecution>();
  const out: (Fault | undefined)[] = [];
  for (const a of answers) {
    const f = found.get(a.token);
    if (!f || used.has(a.token) || f.x.row.status !== "RUNNING") {
      out.push(tokenFault(a.token, spent.has(a.token) || used.has(a.token) || f !== undefined));
      continue;
    }
    used.add(a.token);
    touched.add(f.x);
    const p = JSON.parse(f.task.payload) as ActivityPayload;
    await ctx.tasks.close(uow, f.task);
    await st.spendTokens(uow.sql, f.x.row.id, [a.token]);
    await feed(ctx, uow, f.x, a.event(p.taskRef));
    out.push(undefined);
  }
  for (const x of touched) await flush(ctx, uow, x);
  return out;
}

async function answerOne(ctx: Sfn, a: Answer): Promise<void> {
  if (!tokenShape.test(a.token)) throw tokenFault(a.token, false);
  const [f] = await ctx.tx((uow) => applyAnswers(ctx, uow, [a]));
  if (f) throw f;
}

/** SendTaskSuccess: the task's output (JSON, at most 256 KiB) becomes the Task state's result. */
export async function sendTaskSuccess(ctx: Sfn, req: pb.SendTaskSuccessRequest): Promise<Res<typeof pb.SendTaskSuccessResponseSchema>> {
  checkOutput(req.output!);
  await answerOne(ctx, successOf(req));
  return {};
}

/** SendTaskFailure: the Task state fails with the error and cause given (matched by Retry and Catch). */
export async function sendTaskFailure(ctx: Sfn, req: pb.SendTaskFailureRequest): Promise<Res<typeof pb.SendTaskFailureResponseSchema>> {
  await answerOne(ctx, failureOf(req));
  return {};
}

/** SendTaskHeartbeat: pushes the task's heartbeat deadline HeartbeatSeconds from now. */
export async function sendTaskHeartbeat(ctx: Sfn, req: pb.SendTaskHeartbeatRequest): Promise<Res<typeof pb.SendTaskHeartbeatResponseSchema>> {
  const token = req.taskToken!;
  if (!tokenShape.test(token)) throw tokenFault(token, false);
  await ctx.tx(async (uow) => {
    const { found, spent } = await lookUp(ctx, uow, [token]);
    const f = found.get(token);
    if (!f) throw tokenFault(token, spent.has(token));
    const p = JSON.parse(f.task.payload) as ActivityPayload;
    await ctx.tasks.heartbeat(uow, ctx.activityTask, f.task, p, p.heartbeatSeconds);
  });
  return {};
}

/**
 * RespondActivityTasks: up to 1000 outcomes in one transaction, one result per outcome in
 * request order (a fault for a bad token or output, the rest applied). A store failure fails the
 * whole call and applies nothing.
 */
export async function respondActivityTasks(ctx: Sfn, req: pb.RespondActivityTasksRequest): Promise<Res<typeof pb.RespondActivityTasksResponseSchema>> {
  const checked: (Answer | Fault)[] = req.outcomes.map((o) => {
    const out = o.outcome;
    if (out.case === "success") {
      try {
        checkOutput(out.value.output!);
      } catch (e) {
        if (e instanceof Fault) return e;
        throw e;
      }
      return successOf(out.value);
    }
    if (out.case === "failure") return failureOf(out.value);
    throw new Error("an outcome without a case passed validation");
  });
  const answers = checked.filter((c): c is Answer => !(c instanceof Fault));
  const faults = await ctx.tx((uow) => applyAnswers(ctx, uow, answers));
  let i = 0;
  const results = checked.map((c) => {
    const f = c instanceof Fault ? c : faults[i++];
    return f ? { fault: { name: f.type, namespace: f.namespace, message: f.message } } : {};
  });
  return { results };
}
