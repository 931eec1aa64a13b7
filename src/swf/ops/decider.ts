// The decider's operations: poll (with history paging) or stream decision tasks, complete them, count them.
import { fromBinary } from "@bufbuild/protobuf";
import { EventType, HistoryEventSchema, type HistoryEvent } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { validationError } from "../../faults.ts";
import type { PollOptions } from "../../dispatch/index.ts";
import { ExecutionTx } from "../history.ts";
import { parseDuration } from "../values.ts";
import { domainExists, knownDomain, unknownToken } from "../lookup.ts";
import { enforceHistoryLimit } from "../execution.ts";
import { type ClaimedDecision, type DecisionPayload, scheduleDecision } from "../decision-task.ts";
import { applyDecision, checkDecisions } from "../decisions/index.ts";
import { limits, pageSize, queueName, type Res, type Swf } from "../context.ts";
import { authorizeTaskOperation, callerAccess } from "../access.ts";
import { afterDomainCheck, pollLimitFault } from "./activity-worker.ts";
import type * as pb from "../../../gen/taskgate/swf/v1/service_pb.ts";
import * as st from "../../store/swf.ts";

/** The continuation of a decision task's history (PollForDecisionTask nextPageToken). */
interface DecisionPageToken {
  k: "d";
  t: string;
  r: string;
  w: string;
  n: string;
  v: string;
  s: number;
  p: number;
  dm: string;
  u: number;
  rev: boolean;
  c: number;
  lo: number;
}

/** PollForDecisionTask: a long poll for one decision task of a task list, with the first page of its history (or a further page, by nextPageToken). */
export function pollForDecisionTask(ctx: Swf, req: pb.PollForDecisionTaskRequest, opts: PollOptions): Promise<Res<typeof pb.PollForDecisionTaskResponseSchema>> {
  let limit: number;
  try {
    limit = pageSize(req.maximumPageSize);
  } catch (e) {
    return Promise.reject(e);
  }
  const reverse = req.reverseOrder ?? false;
  if (req.nextPageToken) return tokenPage(ctx, req.nextPageToken, req.domain, limit);
  // Not awaited in a frame of its own: a held poll keeps no suspended frame (see WorkerTasks.poll).
  const poll = (): Promise<Res<typeof pb.PollForDecisionTaskResponseSchema>> =>
    ctx.tasks.poll(
      ctx.decisionTask,
      queueName.decision(req.domain!, req.taskList!.name!),
      ctx.maxPollsPerTaskList,
      req.identity,
      opts,
      (claimed) => {
        const lo = req.startAtPreviousStartedEvent && claimed.previousStartedEventId > 0 ? claimed.previousStartedEventId : 1;
        return decisionPage(ctx, claimed, limit, reverse, undefined, lo);
      },
      (): Res<typeof pb.PollForDecisionTaskResponseSchema> => ({ startedEventId: 0n, previousStartedEventId: 0n }),
      decisionPollFault,
    );
  return afterDomainCheck(ctx, req.domain!, poll);
}

/** The fault of a PollForDecisionTask that failed (pollLimitFault). */
function decisionPollFault(e: unknown, limit: number): unknown {
  return pollLimitFault(e, "PollForDecisionTask", limit);
}

/** The further page of a decision task's history that a nextPageToken names. */
async function tokenPage(ctx: Swf, token: string, domain: string | undefined, limit: number): Promise<Res<typeof pb.PollForDecisionTaskResponseSchema>> {
  const t = ctx.pages.read<DecisionPageToken>(token, "d");
  if (t.dm !== domain) throw validationError("The nextPageToken was issued for another domain.");
  const claimed: ClaimedDecision = { token: t.t, runId: t.r, workflowId: t.w, typeName: t.n, typeVersion: t.v, startedEventId: t.s, previousStartedEventId: t.p, domain: t.dm, upTo: t.u };
  return decisionPage(ctx, claimed, limit, t.rev, t.c, t.lo);
}

/** One page of a decision task's history, with the token of the next. */
async function decisionPage(ctx: Swf, c: ClaimedDecision, limit: number, reverse: boolean, cursor: number | undefined, lo: number): Promise<Res<typeof pb.PollForDecisionTaskResponseSchema>> {
  const from = reverse ? lo : (cursor ?? lo);
  const to = reverse ? (cursor ?? c.upTo) : c.upTo;
  const data = await ctx.db.tx((sql) => st.readEvents(sql, c.runId, from, to, reverse, limit + 1));
  const events = data.slice(0, limit).map((d) => fromBinary(HistoryEventSchema, d));
  let next: string | undefined;
  if (data.length > limit) {
    const lastId = Number(events[events.length - 1].eventId);
    const t: DecisionPageToken = {
      k: "d",
      t: c.token,
      r: c.runId,
      w: c.workflowId,
      n: c.typeName,
      v: c.typeVersion,
      s: c.startedEventId,
      p: c.previousStartedEventId,
      dm: c.domain,
      u: c.upTo,
      rev: reverse,
      c: reverse ? lastId - 1 : lastId + 1,
      lo,
    };
    next = ctx.pages.issue(t);
  }
  return { ...decisionTask(c, events), nextPageToken: next };
}

/** The members a decision task carries on a poll and on a stream. */
function decisionTask(
  c: ClaimedDecision,
  events: HistoryEvent[],
): {
  taskToken: string;
  startedEventId: bigint;
  previousStartedEventId: bigint;
  workflowExecution: { workflowId: string; runId: string };
  workflowType: { name: string; version: string };
  events: HistoryEvent[];
} {
  return {
    taskToken: c.token,
    startedEventId: BigInt(c.startedEventId),
    previousStartedEventId: BigInt(c.previousStartedEventId),
    workflowExecution: { workflowId: c.workflowId, runId: c.runId },
    workflowType: { name: c.typeName, version: c.typeVersion },
    events,
  };
}

/** Server-streamed decision tasks, each with its whole history. */
export async function* streamDecisionTasks(ctx: Swf, req: pb.StreamDecisionTasksRequest, maxInFlight: number, signal: AbortSignal): AsyncGenerator<Res<typeof pb.StreamDecisionTasksResponseSchema>[]> {
  await domainExists(ctx, req.domain!);
  const queue = queueName.decision(req.domain!, req.taskList!.name!);
  const answer = async (c: ClaimedDecision): Promise<Res<typeof pb.StreamDecisionTasksResponseSchema>> => {
    const data = await ctx.db.tx((sql) => st.readEvents(sql, c.runId, 1, c.upTo, false, limits.historyEvents));
    return decisionTask(c, data.map((d) => fromBinary(HistoryEventSchema, d)));
  };
  // Each task's history is read and sent on its own (one-task batches); counted with the task list's polls.
  try {
    yield* ctx.tasks.stream(ctx.decisionTask, queue, ctx.maxPollsPerTaskList, req.identity, maxInFlight, signal, answer, true);
  } catch (e) {
    throw pollLimitFault(e, "PollForDecisionTask and StreamDecisionTasks", ctx.maxPollsPerTaskList);
  }
}

/** RespondDecisionTaskCompleted: checks the decision batch, records the completion and applies the decisions in order. */
export async function respondDecisionTaskCompleted(ctx: Swf, req: pb.RespondDecisionTaskCompletedRequest): Promise<Res<typeof pb.RespondDecisionTaskCompletedResponseSchema>> {
  checkDecisions(req.decisions);
  if (req.taskListScheduleToStartTimeout !== undefined) parseDuration(req.taskListScheduleToStartTimeout, "taskListScheduleToStartTimeout");
  const access = callerAccess(); // before any await (access.ts)
  await ctx.tx(async (uow) => {
    const found = await st.startedTaskWithExecution(uow.sql, ctx.db.caps, req.taskToken!);
    if (!found || found.task.key !== "decision") throw unknownToken();
    // Authorized on the task's domain, known only now (access.ts); a refusal changes nothing.
    authorizeTaskOperation(access, "RespondDecisionTaskCompleted", ctx.arnScope, found.execution.domain);
    const row = found.task;
    const x = new ExecutionTx(found.execution, ctx.clock.now());
    const p = JSON.parse(row.payload) as DecisionPayload;
    await ctx.tasks.close(uow, row);
    const s = x.state;
    const completedId = x.append({
      eventType: EventType.DECISION_TASK_COMPLETED,
      decisionTaskCompletedEventAttributes: {
        scheduledEventId: BigInt(p.scheduledEventId),
        startedEventId: BigInt(p.startedEventId!),
        executionContext: req.executionContext,
        taskList: req.taskList ? { name: req.taskList.name } : undefined,
        taskListScheduleToStartTimeout: req.taskListScheduleToStartTimeout,
      },
    });
    s.previousStartedEventId = p.startedEventId!;
    s.decision = undefined;
    if (req.executionContext !== undefined) s.latestExecutionContext = req.executionContext;
    let needDecision = s.decisionNeeded;
    const unhandled = s.decisionNeeded;
    s.decisionNeeded = false;
    let override: number | undefined;
    if (req.taskList?.name) {
      s.taskList = req.taskList.name;
      override = req.taskListScheduleToStartTimeout !== undefined ? parseDuration(req.taskListScheduleToStartTimeout, "taskListScheduleToStartTimeout") : undefined;
      if (override === undefined) s.originalTaskList = req.taskList.name; // a permanent override
    }
    for (const d of req.decisions) {
      if (!x.open) break;
      if ((await applyDecision({ ctx, uow, x, dtc: BigInt(completedId), unhandled, access }, d)) === "needs-decision") needDecision = true;
    }
    if (x.open && needDecision) await scheduleDecision(ctx, uow, x, override);
    else await enforceHistoryLimit(ctx, uow, x);
    await x.flush(uow.sql, ctx.db.caps);
  });
  return {};
}

/** CountPendingDecisionTasks: the scheduled (not started) decision tasks of a task list. */
export async function countPendingDecisionTasks(ctx: Swf, req: pb.CountPendingDecisionTasksRequest): Promise<Res<typeof pb.CountPendingDecisionTasksResponseSchema>> {
  const n = await ctx.db.tx(async (sql) => {
    await knownDomain(sql, req.domain!);
    return ctx.tasks.countScheduled(sql, queueName.decision(req.domain!, req.taskList!.name!));
  });
  return { count: n, truncated: false };
}
