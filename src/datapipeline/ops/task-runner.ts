// The task runner's operations: PollForTask (a long poll of a worker group), StreamTasks,
// ReportTaskProgress, SetTaskStatus (one at a time or in a batch), ReportTaskRunnerHeartbeat.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type * as pb from "../../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { TaskStatus } from "../../../gen/taskgate/datapipeline/v1/types_pb.ts";
import { PollLimitExceeded, type PollOptions, type TaskRow, type UnitOfWork } from "../../dispatch/index.ts";
import { datapipeline as dpf, Fault, throttling } from "../../faults.ts";
import * as st from "../../store/datapipeline.ts";
import type { ClaimedAttempt } from "../attempt-task.ts";
import type { Dp } from "../engine.ts";
import type { Res } from "../present.ts";
import { advance, attemptFailed, periodSeconds, PipelineTx, queueOf, runActions, type AttemptPayload } from "../scheduler.ts";
import { caller, callerAccount, type Caller } from "../access.ts";

/** The TaskObject of a started attempt. */
function taskObject(c: ClaimedAttempt): Res<typeof pb.StreamTasksResponseSchema> {
  return { taskId: c.token, pipelineId: c.pipelineId, attemptId: c.attemptId, objects: c.objects };
}

/** Records the host that polled on the attempt: the hostname, else the instance identity document. */
function identityOf(req: { hostname?: string; instanceIdentity?: { document?: string } }): string | undefined {
  return req.hostname ?? req.instanceIdentity?.document;
}

/**
 * PollForTask: the next attempt of the worker group (exact and case-sensitive) at once when one
 * waits, else the poll holds until one does or the hold ends (90 s, or --long-poll-seconds), and
 * answers `{}` then.
 */
export function pollForTask(ctx: Dp, req: pb.PollForTaskRequest, opts: PollOptions): Promise<Res<typeof pb.PollForTaskResponseSchema>> {
  // Not an async function: a held poll keeps no suspended frame of its own (see WorkerTasks.poll).
  const poll = (queues: string | string[]): Promise<Res<typeof pb.PollForTaskResponseSchema>> =>
    ctx.tasks.poll(
      ctx.attemptTask,
      queues,
      ctx.maxPollsPerWorkerGroup,
      identityOf(req),
      opts,
      (c) => ({ taskObject: taskObject(c) }),
      () => ({}),
      pollForTaskFault,
    );
  let who: Caller | null;
  let account: string | null;
  try {
    who = caller(ctx.accountId);
    account = callerAccount(ctx.accountId);
    // Without a caller the queue is known at once: no reaction is kept while the poll is held.
    if (who === null) return poll(queueOf(req.workerGroup!, account));
  } catch (e) {
    return Promise.reject(e);
  }
  return runnerQueues(ctx, req.workerGroup!, who, account).then(poll);
}

/** The fault of a PollForTask that failed (pollLimitFault). */
function pollForTaskFault(e: unknown, limit: number): unknown {
  return pollLimitFault(e, "PollForTask", limit);
}

/** Server-streamed tasks of a worker group, sent in the batches they were claimed in; counted with the worker group's polls. */
export async function* streamTasks(ctx: Dp, req: pb.StreamTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamTasksResponseSchema>[]> {
  const queues = await runnerQueues(ctx, req.workerGroup!, caller(ctx.accountId), callerAccount(ctx.accountId));
  try {
    yield* ctx.tasks.stream(ctx.attemptTask, queues, ctx.maxPollsPerWorkerGroup, identityOf(req), maxInFlight, signal, taskObject, false);
  } catch (e) {
    throw pollLimitFault(e, "PollForTask and StreamTasks", ctx.maxPollsPerWorkerGroup);
  }
}

/**
 * ThrottlingException (Data Pipeline's model has no limit error) for a poll or stream the dispatch
 * core refused (PollLimitExceeded): a queue it waits on already holds `--max-polls-per-task-list`
 * polls and streams on this node. Anything else is returned as it is.
 */
function pollLimitFault(e: unknown, what: string, limit: number): unknown {
  if (!(e instanceof PollLimitExceeded)) return e;
  return throttling(`More than ${limit} ${what} calls are held on this worker group; retry when one returns.`);
}

/**
 * The queues a task runner of a worker group takes tasks from (access.ts; `who` and `account`
 * read before any await). With --auth off, the worker group's one queue. With --auth sigv4, the
 * queues of pipelines of its account launched by its own principal, by each principal that has
 * live pipelines in the account and that its policy grants (datapipeline:PipelineCreator), and by
 * no recorded principal. A principal whose first pipeline is created while a poll is held is seen
 * by the runner's next poll (or the stream's next start).
 */
async function runnerQueues(ctx: Dp, workerGroup: string, who: Caller | null, account: string | null): Promise<string | string[]> {
  if (who === null) return queueOf(workerGroup, account);
  const creators = await ctx.db.tx((sql) => st.creatorsOf(sql, account));
  const granted = creators.filter((c) => c !== who.name && who.mayServe("datapipeline:PollForTask", c, workerGroup));
  return [queueOf(workerGroup, account, who.name), ...granted.map((c) => queueOf(workerGroup, account, c)), queueOf(workerGroup, account)];
}

/** Whether the caller may act on a task of this pipeline: its account's, and (auth on) launched by a principal it may serve. */
function mayTouch(pipeline: st.PipelineRow, who: Caller | null, account: string | null): boolean {
  if (who === null) return true;
  if ((pipeline.creatorAccount ?? null) !== account) return false;
  const creator = pipeline.creatorPrincipal ?? null;
  return creator === null || who.mayServe("datapipeline:PollForTask", creator, undefined);
}

/** The fault for a task id that holds no running attempt. */
function taskNotFound(): Fault {
  return dpf.taskNotFound("The task id is not valid: it names no task that a task runner holds (it is unknown, or the task already has its final status).");
}

/** The running attempt of a task id, with its pipeline opened for change. */
async function heldTask(ctx: Dp, uow: UnitOfWork, taskId: string, waiting: boolean, who: Caller | null, account: string | null): Promise<{ row: TaskRow; p: AttemptPayload; x: PipelineTx }> {
  const found = (await st.startedTasks(uow.sql, uow.caps, [taskId])).get(taskId);
  if (!found || !mayTouch(found.pipeline, who, account)) throw taskNotFound();
  const x = await ctx.open(uow, found.task.owner, false);
  if (!x) throw taskNotFound();
  const p = JSON.parse(found.task.payload) as AttemptPayload;
  await loadTask(uow, x, p, waiting);
  return { row: found.task, p, x };
}

/** Reads what a task's report needs: its attempt and instance, and for a status the instances it may move on. */
async function loadTask(uow: UnitOfWork, x: PipelineTx, p: AttemptPayload, waiting: boolean): Promise<void> {
  await x.loadInstances(uow.sql, [p.instance]);
  await x.loadAttempts(uow.sql, [p.attempt]);
  if (waiting) await x.loadWaiting(uow.sql);
}

/**
 * ReportTaskProgress: extends the attempt's lease by its reportProgressTimeout; answers
 * `canceled: true` (and the task ends) once the pipeline was deactivated or the object canceled.
 */
export async function reportTaskProgress(ctx: Dp, req: pb.ReportTaskProgressRequest): Promise<Res<typeof pb.ReportTaskProgressResponseSchema>> {
  const who = caller(ctx.accountId);
  const account = callerAccount(ctx.accountId);
  return ctx.tx(async (uow) => {
    // A progress report reads only its attempt and instance.
    const { row, p, x } = await heldTask(ctx, uow, req.taskId!, false, who, account);
    const a = x.state.attempts[p.attempt];
    if (!a || a.canceled || a.status !== "RUNNING") {
      await ctx.tasks.close(uow, row);
      await x.flush(uow);
      return { canceled: true };
    }
    const inst = x.state.instances[a.instance];
    const o = inst ? x.model?.objects.get(inst.component) : undefined;
    await ctx.tasks.heartbeat(uow, ctx.attemptTask, row, p, periodSeconds(o, "reportProgressTimeout"));
    return { canceled: false };
  });
}

/**
 * Applies one final status to a held task (not flushed): FINISHED finishes the attempt and its
 * instance; FAILED (and FALSE, a precondition that does not hold) fails the attempt with the
 * error given and retries per maximumRetries and retryDelay. A canceled attempt only ends.
 */
async function applyStatus(ctx: Dp, uow: UnitOfWork, row: TaskRow, p: AttemptPayload, x: PipelineTx, req: pb.SetTaskStatusRequest, closing?: TaskRow[]): Promise<void> {
  if (closing) closing.push(row);
  else await ctx.tasks.close(uow, row);
  const a = x.state.attempts[p.attempt];
  const inst = x.state.instances[p.instance];
  if (!a || !inst || a.canceled || a.status !== "RUNNING") return;
  a.actualEnd = x.nowMs;
  a.taskId = undefined;
  if (req.taskStatus === TaskStatus.FINISHED) {
    a.status = "FINISHED";
    inst.status = "FINISHED";
    inst.actualEnd = x.nowMs;
    await runActions(ctx, x, inst, "onSuccess");
    await advance(ctx, uow, x);
    return;
  }
  a.status = "FAILED";
  a.errorId = req.errorId;
  a.errorMessage = req.errorMessage ?? (req.taskStatus === TaskStatus.FALSE ? "The precondition does not hold (the task runner answered FALSE)." : undefined);
  a.errorStackTrace = req.errorStackTrace;
  await attemptFailed(ctx, uow, x, inst, "FAILED");
}

/** Checks a status request: a known status, and no errorId in the namespace AWS reserves. */
function checkStatus(req: pb.SetTaskStatusRequest): void {
  if (req.taskStatus !== TaskStatus.FINISHED && req.taskStatus !== TaskStatus.FAILED && req.taskStatus !== TaskStatus.FALSE) throw dpf.invalidRequest("taskStatus must be FINISHED, FAILED or FALSE.");
  if (req.errorId?.startsWith("Service_")) throw dpf.invalidRequest("errorId must not start with 'Service_', which is reserved by the system.");
}

/** SetTaskStatus: the final status of a task; a second status for the same task answers TaskNotFoundException. */
export async function setTaskStatus(ctx: Dp, req: pb.SetTaskStatusRequest): Promise<Res<typeof pb.SetTaskStatusResponseSchema>> {
  checkStatus(req);
  const who = caller(ctx.accountId);
  const account = callerAccount(ctx.accountId);
  await ctx.tx(async (uow) => {
    const { row, p, x } = await heldTask(ctx, uow, req.taskId!, true, who, account);
    await applyStatus(ctx, uow, row, p, x, req);
    await x.flush(uow);
  });
  return {};
}

/** A per-entry fault as the batch response carries it. */
function faultResult(f: Fault): Res<typeof pb.PipelineTaskStatusResultSchema> {
  return { fault: { name: f.type, namespace: f.namespace, message: f.message } };
}

/**
 * RespondPipelineTasks: every status in one transaction. Task ids are looked up in one statement;
 * an entry whose task id holds no running task the caller may serve (or was settled earlier in the batch) answers
 * TaskNotFoundException and the rest apply; each pipeline is opened and written once.
 */
export async function respondPipelineTasks(ctx: Dp, req: pb.RespondPipelineTasksRequest): Promise<Res<typeof pb.RespondPipelineTasksResponseSchema>> {
  const entries = req.statuses.map((s) => (s.entry.case === "status" ? s.entry.value : undefined));
  const who = caller(ctx.accountId);
  const account = callerAccount(ctx.accountId);
  const results = await ctx.tx(async (uow) => {
    const ids = entries.map((e) => e?.taskId).filter((t): t is string => t !== undefined);
    const found = await st.startedTasks(uow.sql, uow.caps, [...new Set(ids)]);
    const pipelines = new Map<string, PipelineTx | undefined>();
    const done = new Set<string>();
    const closing: TaskRow[] = [];
    const out: Res<typeof pb.PipelineTaskStatusResultSchema>[] = [];
    for (const e of entries) {
      try {
        if (!e) throw dpf.invalidRequest("Each entry must set status.");
        checkStatus(e);
        const f = found.get(e.taskId!);
        if (!f || done.has(e.taskId!) || !mayTouch(f.pipeline, who, account)) throw taskNotFound();
        if (!pipelines.has(f.task.owner)) pipelines.set(f.task.owner, await ctx.open(uow, f.task.owner, false));
        const x = pipelines.get(f.task.owner);
        if (!x) throw taskNotFound();
        done.add(e.taskId!);
        const p = JSON.parse(f.task.payload) as AttemptPayload;
        await loadTask(uow, x, p, true);
        await applyStatus(ctx, uow, f.task, p, x, e, closing);
        out.push({});
      } catch (err) {
        if (!(err instanceof Fault) || err.status >= 500) throw err;
        out.push(faultResult(err));
      }
    }
    await ctx.tasks.closeMany(uow, closing.map((row) => ({ row, timers: true })));
    for (const x of pipelines.values()) if (x) await x.flush(uow);
    return out;
  });
  return { results };
}

/** ReportTaskRunnerHeartbeat: records the runner's last heartbeat; taskgate never asks a runner to terminate. */
/**
 * ListTaskRunners (taskgate's own, Connect/gRPC only): the runners that reported
 * ReportTaskRunnerHeartbeat, newest heartbeat first, at most 1000, optionally of one worker group.
 */
export async function listTaskRunners(ctx: Dp, req: pb.ListTaskRunnersRequest): Promise<Res<typeof pb.ListTaskRunnersResponseSchema>> {
  const group = req.workerGroup;
  if (group !== undefined && (group.length < 1 || group.length > 1024)) throw dpf.invalidRequest("workerGroup must be 1 to 1024 characters.");
  const runners = await ctx.db.tx((sql) => st.listRunners(sql, group, 1000));
  return {
    taskRunners: runners.map((r) => ({
      taskrunnerId: r.id,
      workerGroup: r.workerGroup ?? undefined,
      hostname: r.hostname ?? undefined,
      lastHeartbeat: timestampFromMs(r.heartbeatMs),
    })),
  };
}

export async function reportTaskRunnerHeartbeat(ctx: Dp, req: pb.ReportTaskRunnerHeartbeatRequest): Promise<Res<typeof pb.ReportTaskRunnerHeartbeatResponseSchema>> {
  await ctx.tx((uow) => st.heartbeatRunner(uow.sql, { id: req.taskrunnerId!, workerGroup: req.workerGroup ?? null, hostname: req.hostname ?? null, nowMs: ctx.clock.now() }));
  return { terminate: false };
}
