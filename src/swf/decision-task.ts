// The decision-task state machine. At most one decision task is open per execution (scheduled, or
// started by one decider). An event that needs a decision schedules one unless one is open; when
// one is started the event is appended at once and `decisionNeeded` makes its completion (or
// timeout) schedule the next. The decision task is a worker-task kind of the dispatch core.
import { DecisionTaskTimeoutType, EventType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import type { TaskKind, UnitOfWork } from "../dispatch/index.ts";
import { ExecutionTx } from "./history.ts";
import { parseDuration } from "./values.ts";
import { loadOpen } from "./lookup.ts";
import { enforceHistoryLimit, withdrawStarted } from "./execution.ts";
import { T } from "./timers.ts";
import { queueName, queuePrefix, type Swf } from "./context.ts";

/** What a decision task row carries (tasks.payload). */
export interface DecisionPayload {
  scheduledEventId: number;
  startedEventId?: number;
  domain: string;
  workflowId: string;
  typeName: string;
  typeVersion: string;
  /** Set while a RespondDecisionTaskCompleted task-list override with schedule-to-start is pending. */
  overrideTaskList?: boolean;
}

/** A started decision task as the poll and stream answers carry it. */
export interface ClaimedDecision {
  token: string;
  runId: string;
  workflowId: string;
  typeName: string;
  typeVersion: string;
  startedEventId: number;
  previousStartedEventId: number;
  domain: string;
  /** Last event id visible to this task (the DecisionTaskStarted event or later). */
  upTo: number;
}

/** An event that needs a decision was appended: schedule a decision task unless one is open. */
export async function scheduleDecision(ctx: Swf, uow: UnitOfWork, x: ExecutionTx, scheduleToStart?: number): Promise<void> {
  if (!x.open || (await enforceHistoryLimit(ctx, uow, x))) return;
  if (x.state.decision) {
    if (x.state.decision.startedEventId !== undefined) x.state.decisionNeeded = true;
    return;
  }
  const s = x.state;
  const scheduledEventId = x.append({
    eventType: EventType.DECISION_TASK_SCHEDULED,
    decisionTaskScheduledEventAttributes: {
      taskList: { name: s.taskList },
      taskPriority: s.taskPriority,
      startToCloseTimeout: s.taskStartToCloseTimeout,
      scheduleToStartTimeout: scheduleToStart !== undefined ? String(scheduleToStart) : undefined,
    },
  });
  s.decision = { scheduledEventId };
  const payload: DecisionPayload = {
    scheduledEventId,
    domain: x.row.domain,
    workflowId: x.row.workflowId,
    typeName: x.row.typeName,
    typeVersion: x.row.typeVersion,
    overrideTaskList: scheduleToStart !== undefined ? true : undefined,
  };
  await ctx.tasks.schedule(uow, ctx.decisionTask, x, {
    queue: queueName.decision(x.row.domain, s.taskList),
    priority: Number(s.taskPriority),
    ownerId: x.row.runId,
    key: "decision",
    payload,
    nowMs: x.nowMs,
    scheduleToStart,
  });
}

/**
 * The decision task as a worker-task kind: its start appends DecisionTaskStarted, marks the open
 * decision task started and arms the execution's task start-to-close timeout; a timeout
 * appends DecisionTaskTimedOut and schedules the next decision task.
 */
export function decisionTaskKind(ctx: Swf): TaskKind<ExecutionTx, DecisionPayload, ClaimedDecision> {
  return {
    prefix: queuePrefix.decision,
    timerKinds: { scheduleToStart: T.decisionScheduleToStart, startToClose: T.decisionStartToClose },
    open: (uow, runId) => loadOpen(ctx, uow.sql, runId),
    live: (x) => x.open,
    flush: (uow, x) => x.flush(uow.sql, uow.caps),
    starting: (x, p) => void (p.startedEventId = x.row.nextEventId),
    started: (_uow, x, t, identity) => {
      const p = t.payload;
      const startedEventId = x.append({
        eventType: EventType.DECISION_TASK_STARTED,
        decisionTaskStartedEventAttributes: { identity, scheduledEventId: BigInt(p.scheduledEventId) },
      });
      x.state.decision = { scheduledEventId: p.scheduledEventId, startedEventId };
      x.state.decisionNeeded = false;
      return {
        claimed: {
          token: t.token,
          runId: x.row.runId,
          workflowId: x.row.workflowId,
          typeName: x.row.typeName,
          typeVersion: x.row.typeVersion,
          startedEventId,
          previousStartedEventId: x.state.previousStartedEventId,
          domain: x.row.domain,
          upTo: startedEventId,
        },
        startToClose: parseDuration(x.state.taskStartToCloseTimeout, "taskStartToCloseTimeout"),
        // Only a task-list override (RespondDecisionTaskCompleted) arms a schedule-to-start timeout.
        clearsScheduleToStart: p.overrideTaskList === true,
      };
    },
    requeued: async (uow, x, _row, p) => {
      await withdrawStarted(uow, x, p);
      x.state.decision = { scheduledEventId: p.scheduledEventId };
      x.state.decisionNeeded = false;
      return {};
    },
    timedOut: async (uow, x, _row, p, which) => {
      const type = which === "scheduleToStart" ? DecisionTaskTimeoutType.SCHEDULE_TO_START : DecisionTaskTimeoutType.START_TO_CLOSE;
      x.append({
        eventType: EventType.DECISION_TASK_TIMED_OUT,
        decisionTaskTimedOutEventAttributes: { timeoutType: type, scheduledEventId: BigInt(p.scheduledEventId), startedEventId: BigInt(p.startedEventId ?? 0) },
      });
      x.state.decision = undefined;
      x.state.decisionNeeded = false;
      // A temporary task-list override (taskListScheduleToStartTimeout) is reverted when its decision
      // task is not started in time, or started but not completed in time.
      if (type === DecisionTaskTimeoutType.SCHEDULE_TO_START || p.overrideTaskList) x.state.taskList = x.state.originalTaskList;
      await scheduleDecision(ctx, uow, x);
    },
  };
}
