// The activity worker's operations: poll or stream activity tasks, heartbeat, complete, fail, cancel
// (one at a time or in a batch), count.
import { EventType } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { PollLimitExceeded, type PollOptions, type TaskRow, type UnitOfWork } from "../../dispatch/index.ts";
import { Fault, swf } from "../../faults.ts";
import type { Sql } from "../../store/db.ts";
import { ExecutionTx } from "../history.ts";
import { parseDuration } from "../values.ts";
import { activityTask } from "../present.ts";
import { domainExists, knownDomain, unknownToken } from "../lookup.ts";
import { scheduleDecision } from "../decision-task.ts";
import { type ActivityPayload, type ClaimedActivity, hasTimeouts } from "../activity-task.ts";
import { queueName, type Res, type Swf } from "../context.ts";
import { authorizeTaskOperation, callerAccess, type EngineAccess } from "../access.ts";
import type * as pb from "../../../gen/taskgate/swf/v1/service_pb.ts";
import * as st from "../../store/swf.ts";

/**
 * LimitExceededFault for a poll or stream the dispatch core refused (PollLimitExceeded): the task
 * list already holds `--max-polls-per-task-list` polls and streams of its kind on this node.
 * `what` names the call: a poll's operation, or a stream's with the polls it is counted with.
 * Anything else is returned as it is.
 */
export function pollLimitFault(e: unknown, what: string, limit: number): unknown {
  if (!(e instanceof PollLimitExceeded)) return e;
  return swf.limitExceeded(`More than ${limit} ${what} calls are held on this task list; retry when one returns.`);
}

/** PollForActivityTask: a long poll for one activity task of a task list (UnknownResourceFault before LimitExceededFault). */
export function pollForActivityTask(ctx: Swf, req: pb.PollForActivityTaskRequest, opts: PollOptions): Promise<Res<typeof pb.PollForActivityTaskResponseSchema>> {
  // Not an async function: a held poll keeps no suspended frame of its own (see WorkerTasks.poll).
  const poll = (): Promise<Res<typeof pb.PollForActivityTaskResponseSchema>> =>
    ctx.tasks.poll<ExecutionTx, ActivityPayload, ClaimedActivity, Res<typeof pb.PollForActivityTaskResponseSchema>>(
      ctx.activityTask,
      queueName.activity(req.domain!, req.taskList!.name!),
      ctx.maxPollsPerTaskList,
      req.identity,
      opts,
      activityTask,
      emptyActivityTask,
      activityPollFault,
    );
  return afterDomainCheck(ctx, req.domain!, poll);
}

/** The fault of a PollForActivityTask that failed (pollLimitFault). */
function activityPollFault(e: unknown, limit: number): unknown {
  return pollLimitFault(e, "PollForActivityTask", limit);
}

function emptyActivityTask(): Res<typeof pb.PollForActivityTaskResponseSchema> {
  return { startedEventId: 0n };
}

/**
 * `poll()` once the domain is known to exist (UnknownResourceFault otherwise): at once when this
 * node knows it already, without a reaction that would be kept while the poll is held.
 */
export function afterDomainCheck<T>(ctx: Swf, domain: string, poll: () => Promise<T>): Promise<T> {
  if (!ctx.domains.has(domain)) return domainExists(ctx, domain).then(poll);
  try {
    return poll();
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Server-streamed activity tasks, sent in the batches they were claimed in; counted with the task list's polls. */
export async function* streamActivityTasks(ctx: Swf, req: pb.StreamActivityTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamActivityTasksResponseSchema>[]> {
  await domainExists(ctx, req.domain!);
  const queue = queueName.activity(req.domain!, req.taskList!.name!);
  try {
    yield* ctx.tasks.stream(ctx.activityTask, queue, ctx.maxPollsPerTaskList, req.identity, maxInFlight, signal, activityTask, false);
  } catch (e) {
    throw pollLimitFault(e, "PollForActivityTask and StreamActivityTasks", ctx.maxPollsPerTaskList);
  }
}

/**
 * The started activity task of a token, or UnknownResourceFault; `operation` is authorized on the
 * task's domain once it is known (access.ts: OperationNotPermittedFault, nothing changed).
 */
async function startedActivity(ctx: Swf, sql: Sql, token: string, operation: string, access: EngineAccess | undefined): Promise<{ row: TaskRow; p: ActivityPayload; x: ExecutionTx }> {
  const found = await st.startedTaskWithExecution(sql, ctx.db.caps, token);
  if (!found || !found.task.key.startsWith("a:")) throw unknownToken();
  authorizeTaskOperation(access, operation, ctx.arnScope, found.execution.domain);
  return { row: found.task, p: JSON.parse(found.task.payload) as ActivityPayload, x: new ExecutionTx(found.execution, ctx.clock.now()) };
}

/** RecordActivityTaskHeartbeat: records details, pushes the heartbeat deadline, reports a cancel request. */
export async function recordActivityTaskHeartbeat(ctx: Swf, req: pb.RecordActivityTaskHeartbeatRequest): Promise<Res<typeof pb.RecordActivityTaskHeartbeatResponseSchema>> {
  const access = callerAccess(); // before any await (access.ts)
  return ctx.tx(async (uow) => {
    const { row, p } = await startedActivity(ctx, uow.sql, req.taskToken!, "RecordActivityTaskHeartbeat", access);
    if (req.details !== undefined) p.details = req.details;
    await ctx.tasks.heartbeat(uow, ctx.activityTask, row, p, parseDuration(p.heartbeatTimeout, "heartbeatTimeout"));
    return { cancelRequested: p.cancelRequested ?? false };
  });
}

type CloseEvent = Parameters<ExecutionTx["append"]>[0];

/** The ActivityTaskCompleted event of a completion. */
function completedEvent(req: pb.RespondActivityTaskCompletedRequest, p: ActivityPayload): CloseEvent {
  return {
    eventType: EventType.ACTIVITY_TASK_COMPLETED,
    activityTaskCompletedEventAttributes: { result: req.result, scheduledEventId: BigInt(p.scheduledEventId), startedEventId: BigInt(p.startedEventId!) },
  };
}

/** The ActivityTaskFailed event of a failure. */
function failedEvent(req: pb.RespondActivityTaskFailedRequest, p: ActivityPayload): CloseEvent {
  return {
    eventType: EventType.ACTIVITY_TASK_FAILED,
    activityTaskFailedEventAttributes: { reason: req.reason, details: req.details, scheduledEventId: BigInt(p.scheduledEventId), startedEventId: BigInt(p.startedEventId!) },
  };
}

/** The ActivityTaskCanceled event of a cancellation. */
function canceledEvent(req: pb.RespondActivityTaskCanceledRequest, p: ActivityPayload): CloseEvent {
  return {
    eventType: EventType.ACTIVITY_TASK_CANCELED,
    activityTaskCanceledEventAttributes: {
      details: req.details,
      scheduledEventId: BigInt(p.scheduledEventId),
      startedEventId: BigInt(p.startedEventId!),
      latestCancelRequestedEventId: p.latestCancelRequestedEventId !== undefined ? BigInt(p.latestCancelRequestedEventId) : undefined,
    },
  };
}

/** RespondActivityTaskCompleted. */
export async function respondActivityTaskCompleted(ctx: Swf, req: pb.RespondActivityTaskCompletedRequest): Promise<Res<typeof pb.RespondActivityTaskCompletedResponseSchema>> {
  await closeActivity(ctx, req.taskToken!, "RespondActivityTaskCompleted", (p) => completedEvent(req, p));
  return {};
}

/** RespondActivityTaskFailed. */
export async function respondActivityTaskFailed(ctx: Swf, req: pb.RespondActivityTaskFailedRequest): Promise<Res<typeof pb.RespondActivityTaskFailedResponseSchema>> {
  await closeActivity(ctx, req.taskToken!, "RespondActivityTaskFailed", (p) => failedEvent(req, p));
  return {};
}

/** RespondActivityTaskCanceled. */
export async function respondActivityTaskCanceled(ctx: Swf, req: pb.RespondActivityTaskCanceledRequest): Promise<Res<typeof pb.RespondActivityTaskCanceledResponseSchema>> {
  await closeActivity(ctx, req.taskToken!, "RespondActivityTaskCanceled", (p) => canceledEvent(req, p));
  return {};
}

async function closeActivity(ctx: Swf, token: string, operation: string, event: (p: ActivityPayload) => CloseEvent): Promise<void> {
  const access = callerAccess(); // before any await (access.ts)
  await ctx.tx(async (uow) => {
    const { row, p, x } = await startedActivity(ctx, uow.sql, token, operation, access);
    await applyClose(ctx, uow, row, p, x, event(p));
    await x.flush(uow.sql, uow.caps);
  });
}

/**
 * Records a started activity task's close in its execution (not yet flushed): event, task row,
 * counter, next decision. With `closing` the row is not deleted here but collected, for one
 * delete of a whole batch.
 */
async function applyClose(ctx: Swf, uow: UnitOfWork, row: TaskRow, p: ActivityPayload, x: ExecutionTx, ev: CloseEvent, closing?: { row: TaskRow; timers: boolean }[]): Promise<void> {
  x.append(ev);
  if (closing) closing.push({ row, timers: hasTimeouts(p) });
  else await ctx.tasks.close(uow, row, hasTimeouts(p));
  x.state.openActivityTasks = Math.max(0, x.state.openActivityTasks - 1);
  await scheduleDecision(ctx, uow, x);
}

/** The token and close event of one outcome of a batch. */
function outcomeOf(o: pb.ActivityTaskOutcome): { token: string; operation: string; event: (p: ActivityPayload) => CloseEvent } {
  const out = o.outcome;
  switch (out.case) {
    case "completed":
      return { token: out.value.taskToken!, operation: "RespondActivityTaskCompleted", event: (p) => completedEvent(out.value, p) };
    case "failed":
      return { token: out.value.taskToken!, operation: "RespondActivityTaskFailed", event: (p) => failedEvent(out.value, p) };
    case "canceled":
      return { token: out.value.taskToken!, operation: "RespondActivityTaskCanceled", event: (p) => canceledEvent(out.value, p) };
    default:
      throw new Error("an outcome without a case passed validation");
  }
}

/** A per-outcome fault as the batch response carries it. */
function faultResult(f: Fault): Res<typeof pb.ActivityTaskOutcomeResultSchema> {
  return { fault: { name: f.type, namespace: f.namespace, message: f.message } };
}

/**
 * RespondActivityTasks: every outcome in one transaction. All tokens are looked up first, in one
 * statement; an outcome whose token holds no started activity task of an open execution (unknown,
 * expired, a decision task's, already closed earlier in the batch, or its execution closed by an
 * earlier outcome) is answered UnknownResourceFault and changes nothing, and the rest apply. Each
 * execution is opened once per call, so its outcomes append to one history, schedule at most one
 * decision task ("unless one is open" sees the earlier ones) and write its row once. Any store
 * failure rolls the whole call back.
 */
export async function respondActivityTasks(ctx: Swf, req: pb.RespondActivityTasksRequest): Promise<Res<typeof pb.RespondActivityTasksResponseSchema>> {
  const outcomes = req.outcomes.map(outcomeOf);
  const access = callerAccess(); // before any await (access.ts)
  const results = await ctx.tx(async (uow) => {
    const found = await st.startedTasksWithExecutions(uow.sql, uow.caps, [...new Set(outcomes.map((o) => o.token))]);
    const executions = new Map<string, ExecutionTx>();
    const closed = new Set<string>();
    const results: Res<typeof pb.ActivityTaskOutcomeResultSchema>[] = [];
    const closing: { row: TaskRow; timers: boolean }[] = [];
    for (const o of outcomes) {
      const f = found.get(o.token);
      if (!f || !f.task.key.startsWith("a:") || closed.has(o.token)) {
        results.push(faultResult(unknownToken()));
        continue;
      }
      // Each outcome is authorized on its task's domain (access.ts); a refused one changes nothing.
      try {
        authorizeTaskOperation(access, o.operation, ctx.arnScope, f.owner.domain);
      } catch (e) {
        if (!(e instanceof Fault)) throw e;
        results.push(faultResult(e));
        continue;
      }
      let x = executions.get(f.task.owner);
      if (!x) executions.set(f.task.owner, (x = new ExecutionTx(f.owner, ctx.clock.now())));
      // An earlier outcome closed the execution (the history limit): its tasks are gone.
      if (!x.open) {
        results.push(faultResult(unknownToken()));
        continue;
      }
      closed.add(o.token);
      const p = JSON.parse(f.task.payload) as ActivityPayload;
      await applyClose(ctx, uow, f.task, p, x, o.event(p), closing);
      results.push({});
    }
    // A row an execution's close already deleted (the history limit) is simply not found again.
    await ctx.tasks.closeMany(uow, closing);
    for (const x of executions.values()) await x.flush(uow.sql, uow.caps);
    return results;
  });
  return { results };
}

/** CountPendingActivityTasks: the scheduled (not started) activity tasks of a task list. */
export async function countPendingActivityTasks(ctx: Swf, req: pb.CountPendingActivityTasksRequest): Promise<Res<typeof pb.CountPendingActivityTasksResponseSchema>> {
  const n = await ctx.db.tx(async (sql) => {
    await knownDomain(sql, req.domain!);
    return ctx.tasks.countScheduled(sql, queueName.activity(req.domain!, req.taskList!.name!));
  });
  return { count: n, truncated: false };
}
