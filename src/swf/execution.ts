// The life of an execution: created with its first events and timers; closed (every task and
// timer dropped, retention purge armed, the parent told); child policy; the history-limit rule.
import { EventType, WorkflowExecutionCancelRequestedCause, WorkflowExecutionTerminatedCause, WorkflowExecutionTimeoutType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import type { UnitOfWork } from "../dispatch/index.ts";
import { type ExecutionState, ExecutionTx } from "./history.ts";
import { parseDuration, parseRetentionDays } from "./values.ts";
import { newRunId } from "../resources/ids.ts";
import { childPolicyValue, execRef, execTypeInfo } from "./present.ts";
import { scheduleDecision } from "./decision-task.ts";
import { T } from "./timers.ts";
import type { Swf } from "./context.ts";
import * as st from "../store/swf.ts";

/** Creates an open execution with its first events; undefined if the workflowId is already open. */
export async function createExecution(
  ctx: Swf,
  uow: UnitOfWork,
  c: {
    domain: string;
    workflowId: string;
    typeName: string;
    typeVersion: string;
    input?: string;
    tagList: string[];
    taskList: string;
    executionStartToCloseTimeout: string;
    taskStartToCloseTimeout: string;
    childPolicy: string;
    taskPriority: string;
    lambdaRole?: string;
    parent?: ExecutionState["parent"];
    continuedExecutionRunId?: string;
  },
): Promise<ExecutionTx | undefined> {
  const now = ctx.clock.now();
  const runId = newRunId();
  const state: ExecutionState = {
    taskList: c.taskList,
    originalTaskList: c.taskList,
    taskPriority: c.taskPriority,
    executionStartToCloseTimeout: c.executionStartToCloseTimeout,
    taskStartToCloseTimeout: c.taskStartToCloseTimeout,
    childPolicy: c.childPolicy,
    lambdaRole: c.lambdaRole,
    tagList: c.tagList,
    openActivityTasks: 0,
    openTimers: 0,
    openChildWorkflowExecutions: 0,
    openLambdaFunctions: 0,
    previousStartedEventId: 0,
    decisionNeeded: false,
    cancelRequested: false,
    timers: {},
    parent: c.parent,
    continuedExecutionRunId: c.continuedExecutionRunId,
  };
  const row: st.ExecutionRow = {
    runId,
    domain: c.domain,
    workflowId: c.workflowId,
    typeName: c.typeName,
    typeVersion: c.typeVersion,
    status: "OPEN",
    closeStatus: null,
    startMs: now,
    closeMs: null,
    nextEventId: 1,
    state: JSON.stringify(state),
  };
  if (!(await st.insertExecution(uow.sql, row, c.parent?.runId))) return undefined;
  if (c.tagList.length > 0) await st.insertTags(uow.sql, runId, c.tagList);
  const x = new ExecutionTx(row, now);
  x.append({
    eventType: EventType.WORKFLOW_EXECUTION_STARTED,
    workflowExecutionStartedEventAttributes: {
      input: c.input,
      executionStartToCloseTimeout: c.executionStartToCloseTimeout,
      taskStartToCloseTimeout: c.taskStartToCloseTimeout,
      childPolicy: childPolicyValue(c.childPolicy),
      taskList: { name: c.taskList },
      taskPriority: c.taskPriority,
      workflowType: { name: c.typeName, version: c.typeVersion },
      tagList: c.tagList,
      lambdaRole: c.lambdaRole,
      parentInitiatedEventId: BigInt(c.parent?.initiatedEventId ?? 0),
      parentWorkflowExecution: c.parent ? { workflowId: c.parent.workflowId, runId: c.parent.runId } : undefined,
      continuedExecutionRunId: c.continuedExecutionRunId,
    },
  });
  const execSeconds = parseDuration(c.executionStartToCloseTimeout, "executionStartToCloseTimeout", false)!;
  await uow.addTimer(T.execution, runId, "execution", now + execSeconds * 1000);
  await scheduleDecision(ctx, uow, x);
  return x;
}

/** Closes an execution: status, close time, every task and timer dropped, retention purge armed. */
export async function close(ctx: Swf, uow: UnitOfWork, x: ExecutionTx, closeStatus: string): Promise<void> {
  x.row.status = "CLOSED";
  x.row.closeStatus = closeStatus;
  x.row.closeMs = x.nowMs;
  x.state.decision = undefined;
  x.state.decisionNeeded = false;
  x.state.openActivityTasks = 0;
  x.state.openTimers = 0;
  x.state.timers = {};
  await ctx.tasks.dropOwner(uow, x.row.runId);
  const d = await st.getDomain(uow.sql, x.row.domain);
  const days = d ? parseRetentionDays(d.retentionDays, "workflowExecutionRetentionPeriodInDays") : 0;
  await uow.addTimer(T.purge, x.row.runId, "purge", x.nowMs + days * 86_400_000);
  if (x.state.parent) await notifyParent(ctx, uow, x, closeStatus);
}

/** Records the close of a child execution in its parent's history. */
async function notifyParent(ctx: Swf, uow: UnitOfWork, child: ExecutionTx, closeStatus: string): Promise<void> {
  const p = child.state.parent!;
  const prow = await st.getExecution(uow.sql, ctx.db.caps, p.runId);
  if (!prow || prow.status !== "OPEN") return;
  const parent = new ExecutionTx(prow, child.nowMs);
  const ref = { workflowExecution: execRef(child), workflowType: execTypeInfo(child), initiatedEventId: BigInt(p.initiatedEventId) };
  const started = BigInt(p.startedEventId);
  const closing = child.lastAppended();
  switch (closeStatus) {
    case "COMPLETED":
      parent.append({
        eventType: EventType.CHILD_WORKFLOW_EXECUTION_COMPLETED,
        childWorkflowExecutionCompletedEventAttributes: { ...ref, startedEventId: started, result: closing?.workflowExecutionCompletedEventAttributes?.result },
      });
      break;
    case "FAILED":
      parent.append({
        eventType: EventType.CHILD_WORKFLOW_EXECUTION_FAILED,
        childWorkflowExecutionFailedEventAttributes: {
          ...ref,
          startedEventId: started,
          reason: closing?.workflowExecutionFailedEventAttributes?.reason,
          details: closing?.workflowExecutionFailedEventAttributes?.details,
        },
      });
      break;
    case "CANCELED":
      parent.append({
        eventType: EventType.CHILD_WORKFLOW_EXECUTION_CANCELED,
        childWorkflowExecutionCanceledEventAttributes: { ...ref, startedEventId: started, details: closing?.workflowExecutionCanceledEventAttributes?.details },
      });
      break;
    case "TERMINATED":
      parent.append({ eventType: EventType.CHILD_WORKFLOW_EXECUTION_TERMINATED, childWorkflowExecutionTerminatedEventAttributes: { ...ref, startedEventId: started } });
      break;
    case "TIMED_OUT":
      parent.append({
        eventType: EventType.CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        childWorkflowExecutionTimedOutEventAttributes: { ...ref, startedEventId: started, timeoutType: WorkflowExecutionTimeoutType.START_TO_CLOSE },
      });
      break;
    default:
      return; // CONTINUED_AS_NEW: the child lives on under a new run
  }
  parent.state.openChildWorkflowExecutions = Math.max(0, parent.state.openChildWorkflowExecutions - 1);
  await scheduleDecision(ctx, uow, parent);
  await parent.flush(uow.sql, ctx.db.caps);
}

/**
 * A parent that was terminated or timed out applies its child policy to its open children:
 * TERMINATE closes them (each applying its own policy in turn), REQUEST_CANCEL records a cancel
 * request in each, ABANDON leaves them running.
 */
export async function applyChildPolicy(ctx: Swf, uow: UnitOfWork, parentRunId: string, policy: string, nowMs: number): Promise<void> {
  if (policy === "ABANDON") return;
  for (const runId of await st.openChildren(uow.sql, parentRunId)) {
    const row = await st.getExecution(uow.sql, ctx.db.caps, runId);
    if (!row || row.status !== "OPEN") continue;
    const child = new ExecutionTx(row, nowMs);
    if (policy === "TERMINATE") {
      child.append({
        eventType: EventType.WORKFLOW_EXECUTION_TERMINATED,
        workflowExecutionTerminatedEventAttributes: {
          childPolicy: childPolicyValue(child.state.childPolicy),
          cause: WorkflowExecutionTerminatedCause.CHILD_POLICY_APPLIED,
        },
      });
      await close(ctx, uow, child, "TERMINATED");
      await child.flush(uow.sql, ctx.db.caps);
      await applyChildPolicy(ctx, uow, runId, child.state.childPolicy, nowMs);
    } else if (!child.state.cancelRequested) {
      child.state.cancelRequested = true;
      child.append({
        eventType: EventType.WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        workflowExecutionCancelRequestedEventAttributes: { cause: WorkflowExecutionCancelRequestedCause.CHILD_POLICY_APPLIED },
      });
      await scheduleDecision(ctx, uow, child);
      await child.flush(uow.sql, ctx.db.caps);
    }
  }
}

/**
 * SWF's hard limit on history size: an execution whose history grew past it is terminated with
 * cause EVENT_LIMIT_EXCEEDED (and its child policy applied). Checked wherever a history grows
 * by more than one event (every path that may schedule a decision, and every decision batch),
 * so a history overshoots the limit by at most one batch. Returns whether it terminated.
 */
export async function enforceHistoryLimit(ctx: Swf, uow: UnitOfWork, x: ExecutionTx): Promise<boolean> {
  if (!x.open || x.row.nextEventId <= ctx.historyLimit) return false;
  x.append({
    eventType: EventType.WORKFLOW_EXECUTION_TERMINATED,
    workflowExecutionTerminatedEventAttributes: { childPolicy: childPolicyValue(x.state.childPolicy), cause: WorkflowExecutionTerminatedCause.EVENT_LIMIT_EXCEEDED },
  });
  await close(ctx, uow, x, "TERMINATED");
  await applyChildPolicy(ctx, uow, x.row.runId, x.state.childPolicy, x.nowMs);
  return true;
}

/**
 * A started task goes back to its queue: its Started event is withdrawn when it is still the
 * newest event of the history; otherwise it stays as the record of the lost attempt and the next
 * claim appends a new one.
 */
export async function withdrawStarted(uow: UnitOfWork, x: ExecutionTx, p: { startedEventId?: number }): Promise<void> {
  if (p.startedEventId !== undefined && p.startedEventId === x.row.nextEventId - 1) {
    await st.deleteEvent(uow.sql, x.row.runId, p.startedEventId);
    x.row.nextEventId--;
  }
  p.startedEventId = undefined;
}
