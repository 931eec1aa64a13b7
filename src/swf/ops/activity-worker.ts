// The activity worker's operations: poll or stream activity tasks, heartbeat, complete, fail, cancel, count.
import { EventType } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import type { PollOptions, TaskRow } from "../../dispatch/index.ts";
import type { Sql } from "../../store/db.ts";
import { ExecutionTx } from "../history.ts";
import { parseDuration } from "../values.ts";
import { activityTask } from "../present.ts";
import { domainExists, knownDomain, unknownToken } from "../lookup.ts";
import { scheduleDecision } from "../decision-task.ts";
import { type ActivityPayload, type ClaimedActivity, hasTimeouts } from "../activity-task.ts";
import { queueName, type Res, type Swf } from "../context.ts";
import type * as pb from "../../../gen/taskgate/swf/v1/service_pb.ts";
import * as st from "../../store/swf.ts";

/** PollForActivityTask: a long poll for one activity task of a task list. */
export async function pollForActivityTask(ctx: Swf, req: pb.PollForActivityTaskRequest, opts: PollOptions): Promise<Res<typeof pb.PollForActivityTaskResponseSchema>> {
  await domainExists(ctx, req.domain!);
  const queue = queueName.activity(req.domain!, req.taskList!.name!);
  return ctx.tasks.poll<ExecutionTx, ActivityPayload, ClaimedActivity, Res<typeof pb.PollForActivityTaskResponseSchema>>(ctx.activityTask, queue, req.identity, opts, activityTask, (): Res<typeof pb.PollForActivityTaskResponseSchema> => ({ startedEventId: 0n }));
}

/** Server-streamed activity tasks, sent in the batches they were claimed in. */
export async function* streamActivityTasks(ctx: Swf, req: pb.StreamActivityTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamActivityTasksResponseSchema>[]> {
  await domainExists(ctx, req.domain!);
  const queue = queueName.activity(req.domain!, req.taskList!.name!);
  yield* ctx.tasks.stream(ctx.activityTask, queue, req.identity, maxInFlight, signal, activityTask, false);
}

/** The started activity task of a token, or UnknownResourceFault. */
async function startedActivity(ctx: Swf, sql: Sql, token: string): Promise<{ row: TaskRow; p: ActivityPayload; x: ExecutionTx }> {
  const found = await st.startedTaskWithExecution(sql, ctx.db.caps, token);
  if (!found || !found.task.key.startsWith("a:")) throw unknownToken();
  return { row: found.task, p: JSON.parse(found.task.payload) as ActivityPayload, x: new ExecutionTx(found.execution, ctx.clock.now()) };
}

/** RecordActivityTaskHeartbeat: records details, pushes the heartbeat deadline, reports a cancel request. */
export async function recordActivityTaskHeartbeat(ctx: Swf, req: pb.RecordActivityTaskHeartbeatRequest): Promise<Res<typeof pb.RecordActivityTaskHeartbeatResponseSchema>> {
  return ctx.tx(async (uow) => {
    const { row, p } = await startedActivity(ctx, uow.sql, req.taskToken!);
    if (req.details !== undefined) p.details = req.details;
    await ctx.tasks.heartbeat(uow, ctx.activityTask, row, p, parseDuration(p.heartbeatTimeout, "heartbeatTimeout"));
    return { cancelRequested: p.cancelRequested ?? false };
  });
}

/** RespondActivityTaskCompleted. */
export async function respondActivityTaskCompleted(ctx: Swf, req: pb.RespondActivityTaskCompletedRequest): Promise<Res<typeof pb.RespondActivityTaskCompletedResponseSchema>> {
  await closeActivity(ctx, req.taskToken!, (p) => ({
    eventType: EventType.ACTIVITY_TASK_COMPLETED,
    activityTaskCompletedEventAttributes: { result: req.result, scheduledEventId: BigInt(p.scheduledEventId), startedEventId: BigInt(p.startedEventId!) },
  }));
  return {};
}

/** RespondActivityTaskFailed. */
export async function respondActivityTaskFailed(ctx: Swf, req: pb.RespondActivityTaskFailedRequest): Promise<Res<typeof pb.RespondActivityTaskFailedResponseSchema>> {
  await closeActivity(ctx, req.taskToken!, (p) => ({
    eventType: EventType.ACTIVITY_TASK_FAILED,
    activityTaskFailedEventAttributes: { reason: req.reason, details: req.details, scheduledEventId: BigInt(p.scheduledEventId), startedEventId: BigInt(p.startedEventId!) },
  }));
  return {};
}

/** RespondActivityTaskCanceled. */
export async function respondActivityTaskCanceled(ctx: Swf, req: pb.RespondActivityTaskCanceledRequest): Promise<Res<typeof pb.RespondActivityTaskCanceledResponseSchema>> {
  await closeActivity(ctx, req.taskToken!, (p) => ({
    eventType: EventType.ACTIVITY_TASK_CANCELED,
    activityTaskCanceledEventAttributes: {
      details: req.details,
      scheduledEventId: BigInt(p.scheduledEventId),
      startedEventId: BigInt(p.startedEventId!),
      latestCancelRequestedEventId: p.latestCancelRequestedEventId !== undefined ? BigInt(p.latestCancelRequestedEventId) : undefined,
    },
  }));
  return {};
}

async function closeActivity(ctx: Swf, token: string, event: (p: ActivityPayload) => Parameters<ExecutionTx["append"]>[0]): Promise<void> {
  await ctx.tx(async (uow) => {
    const { row, p, x } = await startedActivity(ctx, uow.sql, token);
    x.append(event(p));
    await ctx.tasks.close(uow, row, hasTimeouts(p));
    x.state.openActivityTasks = Math.max(0, x.state.openActivityTasks - 1);
    await scheduleDecision(ctx, uow, x);
    await x.flush(uow.sql, ctx.db.caps);
  });
}

/** CountPendingActivityTasks: the scheduled (not started) activity tasks of a task list. */
export async function countPendingActivityTasks(ctx: Swf, req: pb.CountPendingActivityTasksRequest): Promise<Res<typeof pb.CountPendingActivityTasksResponseSchema>> {
  const n = await ctx.db.tx(async (sql) => {
    await knownDomain(sql, req.domain!);
    return ctx.tasks.countScheduled(sql, queueName.activity(req.domain!, req.taskList!.name!));
  });
  return { count: n, truncated: false };
}
