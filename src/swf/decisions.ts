// The 13 decisions of RespondDecisionTaskCompleted: their checks before anything is written and
// their effects on the execution.
import { CancelTimerFailedCause, CompleteWorkflowExecutionFailedCause, ContinueAsNewWorkflowExecutionFailedCause, type Decision, DecisionType, EventType, RequestCancelActivityTaskFailedCause, RequestCancelExternalWorkflowExecutionFailedCause, ScheduleActivityTaskFailedCause, ScheduleLambdaFunctionFailedCause, SignalExternalWorkflowExecutionFailedCause, StartChildWorkflowExecutionFailedCause, StartTimerFailedCause } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { validationError } from "../faults.ts";
import { TaskState, type UnitOfWork } from "../dispatch/index.ts";
import type { Sql } from "../store/db.ts";
import { ExecutionTx } from "./history.ts";
import { checkDuration, parseDuration, parsePriority } from "./values.ts";
import { childPolicyName, childPolicyValue, execRef, execTypeInfo } from "./present.ts";
import type { ActivityTypeConfig, WorkflowTypeConfig } from "./type-config.ts";
import { externalOpen } from "./lookup.ts";
import { close, createExecution } from "./execution.ts";
import { scheduleDecision } from "./decision-task.ts";
import type { ActivityPayload } from "./activity-task.ts";
import { T } from "./timers.ts";
import { limits, queueName, type Swf } from "./context.ts";
import * as st from "../store/swf.ts";

export const closeDecisions = new Set<DecisionType>([
  DecisionType.COMPLETE_WORKFLOW_EXECUTION,
  DecisionType.FAIL_WORKFLOW_EXECUTION,
  DecisionType.CANCEL_WORKFLOW_EXECUTION,
  DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
]);

/** The decision-attributes member each decision type requires, with its AWS name. */
export const decisionAttr: Record<number, [keyof Decision, string, string]> = {
  [DecisionType.SCHEDULE_ACTIVITY_TASK]: ["scheduleActivityTaskDecisionAttributes", "ScheduleActivityTaskDecisionAttributes", "ScheduleActivityTask"],
  [DecisionType.REQUEST_CANCEL_ACTIVITY_TASK]: ["requestCancelActivityTaskDecisionAttributes", "RequestCancelActivityTaskDecisionAttributes", "RequestCancelActivityTask"],
  [DecisionType.COMPLETE_WORKFLOW_EXECUTION]: ["completeWorkflowExecutionDecisionAttributes", "", "CompleteWorkflowExecution"],
  [DecisionType.FAIL_WORKFLOW_EXECUTION]: ["failWorkflowExecutionDecisionAttributes", "", "FailWorkflowExecution"],
  [DecisionType.CANCEL_WORKFLOW_EXECUTION]: ["cancelWorkflowExecutionDecisionAttributes", "", "CancelWorkflowExecution"],
  [DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION]: ["continueAsNewWorkflowExecutionDecisionAttributes", "", "ContinueAsNewWorkflowExecution"],
  [DecisionType.RECORD_MARKER]: ["recordMarkerDecisionAttributes", "RecordMarkerDecisionAttributes", "RecordMarker"],
  [DecisionType.START_TIMER]: ["startTimerDecisionAttributes", "StartTimerDecisionAttributes", "StartTimer"],
  [DecisionType.CANCEL_TIMER]: ["cancelTimerDecisionAttributes", "CancelTimerDecisionAttributes", "CancelTimer"],
  [DecisionType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION]: [
    "signalExternalWorkflowExecutionDecisionAttributes",
    "SignalExternalWorkflowExecutionDecisionAttributes",
    "SignalExternalWorkflowExecution",
  ],
  [DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION]: [
    "requestCancelExternalWorkflowExecutionDecisionAttributes",
    "RequestCancelExternalWorkflowExecutionDecisionAttributes",
    "RequestCancelExternalWorkflowExecution",
  ],
  [DecisionType.START_CHILD_WORKFLOW_EXECUTION]: [
    "startChildWorkflowExecutionDecisionAttributes",
    "StartChildWorkflowExecutionDecisionAttributes",
    "StartChildWorkflowExecution",
  ],
  [DecisionType.SCHEDULE_LAMBDA_FUNCTION]: ["scheduleLambdaFunctionDecisionAttributes", "ScheduleLambdaFunctionDecisionAttributes", "ScheduleLambdaFunction"],
};

/**
 * Checks a decision batch before anything is written, as AWS does with a synchronous 400: each
 * decision carries the attributes of its type, a closing decision comes last, durations and
 * priorities parse. Nothing is applied when one decision is invalid.
 */
export function checkDecisions(decisions: Decision[]): void {
  decisions.forEach((d, i) => {
    const path = `decisions.${i + 1}.member`;
    if (d.decisionType === DecisionType.UNSPECIFIED) throw validationError(`1 validation error detected: Value null at '${path}.decisionType' failed to satisfy constraint: Member must not be null`);
    const [field, awsName, typeName] = decisionAttr[d.decisionType];
    if (awsName && d[field] === undefined) throw validationError(`${awsName} must be specified for decision of type ${typeName}`);
    if (closeDecisions.has(d.decisionType) && i !== decisions.length - 1) throw validationError("Close must be last decision in list");
    const a = d.scheduleActivityTaskDecisionAttributes;
    if (d.decisionType === DecisionType.SCHEDULE_ACTIVITY_TASK && a) {
      checkDuration(a.scheduleToCloseTimeout, `${path}.scheduleActivityTaskDecisionAttributes.scheduleToCloseTimeout`);
      checkDuration(a.scheduleToStartTimeout, `${path}.scheduleActivityTaskDecisionAttributes.scheduleToStartTimeout`);
      checkDuration(a.startToCloseTimeout, `${path}.scheduleActivityTaskDecisionAttributes.startToCloseTimeout`);
      checkDuration(a.heartbeatTimeout, `${path}.scheduleActivityTaskDecisionAttributes.heartbeatTimeout`);
      parsePriority(a.taskPriority, `${path}.scheduleActivityTaskDecisionAttributes.taskPriority`);
    }
    if (d.decisionType === DecisionType.START_TIMER && d.startTimerDecisionAttributes)
      parseDuration(d.startTimerDecisionAttributes.startToFireTimeout ?? "", `${path}.startTimerDecisionAttributes.startToFireTimeout`, false);
    const c = d.continueAsNewWorkflowExecutionDecisionAttributes;
    if (d.decisionType === DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION && c) {
      checkDuration(c.executionStartToCloseTimeout, `${path}.continueAsNewWorkflowExecutionDecisionAttributes.executionStartToCloseTimeout`, false);
      checkDuration(c.taskStartToCloseTimeout, `${path}.continueAsNewWorkflowExecutionDecisionAttributes.taskStartToCloseTimeout`);
      parsePriority(c.taskPriority, `${path}.continueAsNewWorkflowExecutionDecisionAttributes.taskPriority`);
    }
    const s = d.startChildWorkflowExecutionDecisionAttributes;
    if (d.decisionType === DecisionType.START_CHILD_WORKFLOW_EXECUTION && s) {
      checkDuration(s.executionStartToCloseTimeout, `${path}.startChildWorkflowExecutionDecisionAttributes.executionStartToCloseTimeout`, false);
      checkDuration(s.taskStartToCloseTimeout, `${path}.startChildWorkflowExecutionDecisionAttributes.taskStartToCloseTimeout`);
      parsePriority(s.taskPriority, `${path}.startChildWorkflowExecutionDecisionAttributes.taskPriority`);
    }
  });
}

/** Applies one decision; returns true when it recorded an event that needs a new decision. */
export async function applyDecision(ctx: Swf, sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, completedId: number, unhandled: boolean): Promise<boolean> {
  const dtc = BigInt(completedId);
  switch (d.decisionType) {
    case DecisionType.SCHEDULE_ACTIVITY_TASK:
      return scheduleActivity(ctx, sql, uow, x, d.scheduleActivityTaskDecisionAttributes!, dtc);
    case DecisionType.REQUEST_CANCEL_ACTIVITY_TASK: {
      const a = d.requestCancelActivityTaskDecisionAttributes!;
      const row = await ctx.tasks.byKey(uow, x.row.runId, `a:${a.activityId}`);
      if (!row) {
        x.append({
          eventType: EventType.REQUEST_CANCEL_ACTIVITY_TASK_FAILED,
          requestCancelActivityTaskFailedEventAttributes: { activityId: a.activityId, cause: RequestCancelActivityTaskFailedCause.ACTIVITY_ID_UNKNOWN, decisionTaskCompletedEventId: dtc },
        });
        return true;
      }
      const p = JSON.parse(row.payload) as ActivityPayload;
      const reqId = x.append({
        eventType: EventType.ACTIVITY_TASK_CANCEL_REQUESTED,
        activityTaskCancelRequestedEventAttributes: { activityId: a.activityId, decisionTaskCompletedEventId: dtc },
      });
      if (row.state === TaskState.scheduled) {
        x.append({
          eventType: EventType.ACTIVITY_TASK_CANCELED,
          activityTaskCanceledEventAttributes: { scheduledEventId: BigInt(p.scheduledEventId), startedEventId: 0n, latestCancelRequestedEventId: BigInt(reqId) },
        });
        await ctx.tasks.close(uow, row);
        x.state.openActivityTasks--;
        return true;
      }
      p.cancelRequested = true;
      p.latestCancelRequestedEventId = reqId;
      await ctx.tasks.updatePayload(uow, row, p);
      return false;
    }
    case DecisionType.COMPLETE_WORKFLOW_EXECUTION:
      if (unhandled) {
        x.append({
          eventType: EventType.COMPLETE_WORKFLOW_EXECUTION_FAILED,
          completeWorkflowExecutionFailedEventAttributes: { cause: CompleteWorkflowExecutionFailedCause.UNHANDLED_DECISION, decisionTaskCompletedEventId: dtc },
        });
        return true;
      }
      x.append({
        eventType: EventType.WORKFLOW_EXECUTION_COMPLETED,
        workflowExecutionCompletedEventAttributes: { result: d.completeWorkflowExecutionDecisionAttributes?.result, decisionTaskCompletedEventId: dtc },
      });
      await close(ctx, sql, uow, x, "COMPLETED");
      return false;
    case DecisionType.FAIL_WORKFLOW_EXECUTION:
      if (unhandled) {
        x.append({
          eventType: EventType.FAIL_WORKFLOW_EXECUTION_FAILED,
          failWorkflowExecutionFailedEventAttributes: { cause: CompleteWorkflowExecutionFailedCause.UNHANDLED_DECISION, decisionTaskCompletedEventId: dtc },
        });
        return true;
      }
      x.append({
        eventType: EventType.WORKFLOW_EXECUTION_FAILED,
        workflowExecutionFailedEventAttributes: {
          reason: d.failWorkflowExecutionDecisionAttributes?.reason,
          details: d.failWorkflowExecutionDecisionAttributes?.details,
          decisionTaskCompletedEventId: dtc,
        },
      });
      await close(ctx, sql, uow, x, "FAILED");
      return false;
    case DecisionType.CANCEL_WORKFLOW_EXECUTION:
      if (unhandled) {
        x.append({
          eventType: EventType.CANCEL_WORKFLOW_EXECUTION_FAILED,
          cancelWorkflowExecutionFailedEventAttributes: { cause: CompleteWorkflowExecutionFailedCause.UNHANDLED_DECISION, decisionTaskCompletedEventId: dtc },
        });
        return true;
      }
      x.append({
        eventType: EventType.WORKFLOW_EXECUTION_CANCELED,
        workflowExecutionCanceledEventAttributes: { details: d.cancelWorkflowExecutionDecisionAttributes?.details, decisionTaskCompletedEventId: dtc },
      });
      await close(ctx, sql, uow, x, "CANCELED");
      return false;
    case DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
      return continueAsNew(ctx, sql, uow, x, d, dtc, unhandled);
    case DecisionType.RECORD_MARKER: {
      const a = d.recordMarkerDecisionAttributes!;
      x.append({ eventType: EventType.MARKER_RECORDED, markerRecordedEventAttributes: { markerName: a.markerName, details: a.details, decisionTaskCompletedEventId: dtc } });
      return false;
    }
    case DecisionType.START_TIMER: {
      const a = d.startTimerDecisionAttributes!;
      const fail = (cause: StartTimerFailedCause) => {
        x.append({ eventType: EventType.START_TIMER_FAILED, startTimerFailedEventAttributes: { timerId: a.timerId, cause, decisionTaskCompletedEventId: dtc } });
        return true;
      };
      if (x.state.timers[a.timerId!]) return fail(StartTimerFailedCause.TIMER_ID_ALREADY_IN_USE);
      if (x.state.openTimers >= limits.openTimers) return fail(StartTimerFailedCause.OPEN_TIMERS_LIMIT_EXCEEDED);
      const id = x.append({
        eventType: EventType.TIMER_STARTED,
        timerStartedEventAttributes: { timerId: a.timerId, control: a.control, startToFireTimeout: a.startToFireTimeout, decisionTaskCompletedEventId: dtc },
      });
      x.state.timers[a.timerId!] = { startedEventId: id, control: a.control };
      x.state.openTimers++;
      const secs = parseDuration(a.startToFireTimeout!, "startToFireTimeout", false)!;
      await uow.addTimer(T.timer, x.row.runId, `timer:${a.timerId}`, x.nowMs + secs * 1000);
      return false;
    }
    case DecisionType.CANCEL_TIMER: {
      const a = d.cancelTimerDecisionAttributes!;
      const t = x.state.timers[a.timerId!];
      if (!t) {
        x.append({
          eventType: EventType.CANCEL_TIMER_FAILED,
          cancelTimerFailedEventAttributes: { timerId: a.timerId, cause: CancelTimerFailedCause.TIMER_ID_UNKNOWN, decisionTaskCompletedEventId: dtc },
        });
        return true;
      }
      delete x.state.timers[a.timerId!];
      x.state.openTimers--;
      await uow.deleteTimers(x.row.runId, `timer:${a.timerId}`);
      x.append({
        eventType: EventType.TIMER_CANCELED,
        timerCanceledEventAttributes: { timerId: a.timerId, startedEventId: BigInt(t.startedEventId), decisionTaskCompletedEventId: dtc },
      });
      return false;
    }
    case DecisionType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
      return signalExternal(ctx, sql, uow, x, d, dtc);
    case DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
      return cancelExternal(ctx, sql, uow, x, d, dtc);
    case DecisionType.START_CHILD_WORKFLOW_EXECUTION:
      return startChild(ctx, sql, uow, x, d, dtc);
    case DecisionType.SCHEDULE_LAMBDA_FUNCTION: {
      const a = d.scheduleLambdaFunctionDecisionAttributes!;
      // taskgate runs no AWS Lambda functions: the decision fails as it does in a region without Lambda.
      x.append({
        eventType: EventType.SCHEDULE_LAMBDA_FUNCTION_FAILED,
        scheduleLambdaFunctionFailedEventAttributes: {
          id: a.id,
          name: a.name,
          cause: ScheduleLambdaFunctionFailedCause.LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION,
          decisionTaskCompletedEventId: dtc,
        },
      });
      return true;
    }
    default:
      return false;
  }
}

export async function scheduleActivity(ctx: Swf, sql: Sql, uow: UnitOfWork, x: ExecutionTx, a: NonNullable<Decision["scheduleActivityTaskDecisionAttributes"]>, dtc: bigint): Promise<boolean> {
  const fail = (cause: ScheduleActivityTaskFailedCause) => {
    x.append({
      eventType: EventType.SCHEDULE_ACTIVITY_TASK_FAILED,
      scheduleActivityTaskFailedEventAttributes: { activityType: a.activityType, activityId: a.activityId, cause, decisionTaskCompletedEventId: dtc },
    });
    return true;
  };
  const [typeName, typeVersion] = [a.activityType!.name!, a.activityType!.version!];
  const t = await uow.memo(JSON.stringify(["type", x.row.domain, "activity", typeName, typeVersion]), () => st.getType(sql, x.row.domain, "activity", typeName, typeVersion));
  if (!t) return fail(ScheduleActivityTaskFailedCause.ACTIVITY_TYPE_DOES_NOT_EXIST);
  if (t.status !== "REGISTERED") return fail(ScheduleActivityTaskFailedCause.ACTIVITY_TYPE_DEPRECATED);
  if (x.state.openActivityTasks >= limits.openActivities) return fail(ScheduleActivityTaskFailedCause.OPEN_ACTIVITIES_LIMIT_EXCEEDED);
  const c = JSON.parse(t.config) as ActivityTypeConfig;
  const taskList = a.taskList?.name ?? c.defaultTaskList;
  if (taskList === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_TASK_LIST_UNDEFINED);
  const s2c = a.scheduleToCloseTimeout ?? c.defaultTaskScheduleToCloseTimeout;
  if (s2c === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED);
  const s2s = a.scheduleToStartTimeout ?? c.defaultTaskScheduleToStartTimeout;
  if (s2s === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED);
  const stc = a.startToCloseTimeout ?? c.defaultTaskStartToCloseTimeout;
  if (stc === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED);
  const hb = a.heartbeatTimeout ?? c.defaultTaskHeartbeatTimeout;
  if (hb === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED);
  const priority = a.taskPriority !== undefined ? String(parsePriority(a.taskPriority, "taskPriority")) : (c.defaultTaskPriority ?? "0");
  const scheduledEventId = x.row.nextEventId; // ActivityTaskScheduled, appended once the task row exists
  const payload: ActivityPayload = {
    activityId: a.activityId!,
    typeName: t.name,
    typeVersion: t.version,
    workflowId: x.row.workflowId,
    domain: x.row.domain,
    input: a.input,
    scheduledEventId,
    scheduleToStartTimeout: s2s,
    scheduleToCloseTimeout: s2c,
    startToCloseTimeout: stc,
    heartbeatTimeout: hb,
  };
  // The open activityId is unique per execution (the tasks (owner, key) index): the insert itself
  // is the check, so scheduling costs no lookup first.
  const id = await ctx.tasks.schedule(uow, ctx.activityTask, x, {
    queue: queueName.activity(x.row.domain, taskList),
    priority: Number(priority),
    ownerId: x.row.runId,
    key: `a:${a.activityId}`,
    payload,
    unique: true,
    nowMs: x.nowMs,
    scheduleToStart: parseDuration(s2s, "scheduleToStartTimeout"),
    scheduleToClose: parseDuration(s2c, "scheduleToCloseTimeout"),
  });
  if (id === undefined) return fail(ScheduleActivityTaskFailedCause.ACTIVITY_ID_ALREADY_IN_USE);
  x.append({
    eventType: EventType.ACTIVITY_TASK_SCHEDULED,
    activityTaskScheduledEventAttributes: {
      activityType: { name: t.name, version: t.version },
      activityId: a.activityId,
      input: a.input,
      control: a.control,
      scheduleToStartTimeout: s2s,
      scheduleToCloseTimeout: s2c,
      startToCloseTimeout: stc,
      heartbeatTimeout: hb,
      taskList: { name: taskList },
      taskPriority: priority,
      decisionTaskCompletedEventId: dtc,
    },
  });
  x.state.openActivityTasks++;
  x.state.latestActivityTaskMs = x.nowMs;
  return false;
}

export async function continueAsNew(ctx: Swf, sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, dtc: bigint, unhandled: boolean): Promise<boolean> {
  const attrs = d.continueAsNewWorkflowExecutionDecisionAttributes;
  const fail = (cause: ContinueAsNewWorkflowExecutionFailedCause) => {
    x.append({
      eventType: EventType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION_FAILED,
      continueAsNewWorkflowExecutionFailedEventAttributes: { cause, decisionTaskCompletedEventId: dtc },
    });
    return true;
  };
  if (unhandled) return fail(ContinueAsNewWorkflowExecutionFailedCause.UNHANDLED_DECISION);
  const version = attrs?.workflowTypeVersion ?? x.row.typeVersion;
  const t = await st.getType(sql, x.row.domain, "workflow", x.row.typeName, version);
  if (!t) return fail(ContinueAsNewWorkflowExecutionFailedCause.WORKFLOW_TYPE_DOES_NOT_EXIST);
  if (t.status !== "REGISTERED") return fail(ContinueAsNewWorkflowExecutionFailedCause.WORKFLOW_TYPE_DEPRECATED);
  const c = JSON.parse(t.config) as WorkflowTypeConfig;
  const cfg = {
    taskList: attrs?.taskList?.name ?? x.state.taskList ?? c.defaultTaskList,
    executionStartToCloseTimeout: attrs?.executionStartToCloseTimeout ?? x.state.executionStartToCloseTimeout ?? c.defaultExecutionStartToCloseTimeout,
    taskStartToCloseTimeout: attrs?.taskStartToCloseTimeout ?? x.state.taskStartToCloseTimeout ?? c.defaultTaskStartToCloseTimeout,
    childPolicy: attrs?.childPolicy ? childPolicyName(attrs.childPolicy) : (x.state.childPolicy ?? c.defaultChildPolicy),
    taskPriority: attrs?.taskPriority !== undefined ? String(parsePriority(attrs.taskPriority, "taskPriority")) : x.state.taskPriority,
    lambdaRole: attrs?.lambdaRole ?? x.state.lambdaRole,
  };
  const tagList = attrs && attrs.tagList.length > 0 ? attrs.tagList : x.state.tagList;
  // Close this run first so the workflowId is free for the new one.
  x.row.status = "CLOSED";
  await st.updateExecution(sql, { ...x.row, state: JSON.stringify(x.state) });
  const next = await createExecution(ctx, sql, uow, {
    domain: x.row.domain,
    workflowId: x.row.workflowId,
    typeName: t.name,
    typeVersion: t.version,
    input: attrs?.input,
    tagList,
    taskList: cfg.taskList,
    executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
    taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
    childPolicy: cfg.childPolicy,
    taskPriority: cfg.taskPriority,
    lambdaRole: cfg.lambdaRole,
    parent: x.state.parent,
    continuedExecutionRunId: x.row.runId,
  });
  x.row.status = "OPEN";
  if (!next) throw new Error("continue-as-new: the workflowId is still open");
  x.append({
    eventType: EventType.WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    workflowExecutionContinuedAsNewEventAttributes: {
      input: attrs?.input,
      decisionTaskCompletedEventId: dtc,
      newExecutionRunId: next.row.runId,
      executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
      taskList: { name: cfg.taskList },
      taskPriority: cfg.taskPriority,
      taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
      childPolicy: childPolicyValue(cfg.childPolicy),
      tagList,
      workflowType: { name: t.name, version: t.version },
      lambdaRole: cfg.lambdaRole,
    },
  });
  await next.flush(sql, ctx.db.caps);
  await close(ctx, sql, uow, x, "CONTINUED_AS_NEW");
  return false;
}

export async function signalExternal(ctx: Swf, sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, dtc: bigint): Promise<boolean> {
  const a = d.signalExternalWorkflowExecutionDecisionAttributes!;
  const initiatedId = x.append({
    eventType: EventType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    signalExternalWorkflowExecutionInitiatedEventAttributes: {
      workflowId: a.workflowId,
      runId: a.runId,
      signalName: a.signalName,
      input: a.input,
      control: a.control,
      decisionTaskCompletedEventId: dtc,
    },
  });
  const trow = await externalOpen(ctx, sql, x, a.workflowId!, a.runId);
  if (!trow) {
    x.append({
      eventType: EventType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
      signalExternalWorkflowExecutionFailedEventAttributes: {
        workflowId: a.workflowId,
        runId: a.runId,
        cause: SignalExternalWorkflowExecutionFailedCause.UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION,
        initiatedEventId: BigInt(initiatedId),
        decisionTaskCompletedEventId: dtc,
        control: a.control,
      },
    });
    return true;
  }
  const target = new ExecutionTx(trow, x.nowMs);
  target.append({
    eventType: EventType.WORKFLOW_EXECUTION_SIGNALED,
    workflowExecutionSignaledEventAttributes: { signalName: a.signalName, input: a.input, externalWorkflowExecution: execRef(x), externalInitiatedEventId: BigInt(initiatedId) },
  });
  await scheduleDecision(ctx, sql, uow, target);
  await target.flush(sql, ctx.db.caps);
  x.append({
    eventType: EventType.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
    externalWorkflowExecutionSignaledEventAttributes: { workflowExecution: execRef(target), initiatedEventId: BigInt(initiatedId) },
  });
  return true;
}

export async function cancelExternal(ctx: Swf, sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, dtc: bigint): Promise<boolean> {
  const a = d.requestCancelExternalWorkflowExecutionDecisionAttributes!;
  const initiatedId = x.append({
    eventType: EventType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    requestCancelExternalWorkflowExecutionInitiatedEventAttributes: { workflowId: a.workflowId, runId: a.runId, control: a.control, decisionTaskCompletedEventId: dtc },
  });
  const trow = await externalOpen(ctx, sql, x, a.workflowId!, a.runId);
  if (!trow) {
    x.append({
      eventType: EventType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
      requestCancelExternalWorkflowExecutionFailedEventAttributes: {
        workflowId: a.workflowId,
        runId: a.runId,
        cause: RequestCancelExternalWorkflowExecutionFailedCause.UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION,
        initiatedEventId: BigInt(initiatedId),
        decisionTaskCompletedEventId: dtc,
        control: a.control,
      },
    });
    return true;
  }
  const target = new ExecutionTx(trow, x.nowMs);
  if (!target.state.cancelRequested) {
    target.state.cancelRequested = true;
    target.append({
      eventType: EventType.WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      workflowExecutionCancelRequestedEventAttributes: { externalWorkflowExecution: execRef(x), externalInitiatedEventId: BigInt(initiatedId) },
    });
    await scheduleDecision(ctx, sql, uow, target);
  }
  await target.flush(sql, ctx.db.caps);
  x.append({
    eventType: EventType.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
    externalWorkflowExecutionCancelRequestedEventAttributes: { workflowExecution: execRef(target), initiatedEventId: BigInt(initiatedId) },
  });
  return true;
}

export async function startChild(ctx: Swf, sql: Sql, uow: UnitOfWork, x: ExecutionTx, d: Decision, dtc: bigint): Promise<boolean> {
  const a = d.startChildWorkflowExecutionDecisionAttributes!;
  const fail = (cause: StartChildWorkflowExecutionFailedCause, initiatedEventId = 0) => {
    x.append({
      eventType: EventType.START_CHILD_WORKFLOW_EXECUTION_FAILED,
      startChildWorkflowExecutionFailedEventAttributes: {
        workflowType: a.workflowType,
        workflowId: a.workflowId,
        cause,
        initiatedEventId: BigInt(initiatedEventId),
        decisionTaskCompletedEventId: dtc,
        control: a.control,
      },
    });
    return true;
  };
  const t = await st.getType(sql, x.row.domain, "workflow", a.workflowType!.name!, a.workflowType!.version!);
  if (!t) return fail(StartChildWorkflowExecutionFailedCause.WORKFLOW_TYPE_DOES_NOT_EXIST);
  if (t.status !== "REGISTERED") return fail(StartChildWorkflowExecutionFailedCause.WORKFLOW_TYPE_DEPRECATED);
  const c = JSON.parse(t.config) as WorkflowTypeConfig;
  const cfg = {
    taskList: a.taskList?.name ?? c.defaultTaskList,
    executionStartToCloseTimeout: a.executionStartToCloseTimeout ?? c.defaultExecutionStartToCloseTimeout,
    taskStartToCloseTimeout: a.taskStartToCloseTimeout ?? c.defaultTaskStartToCloseTimeout,
    childPolicy: a.childPolicy ? childPolicyName(a.childPolicy) : c.defaultChildPolicy,
  };
  if (cfg.taskList === undefined) return fail(StartChildWorkflowExecutionFailedCause.DEFAULT_TASK_LIST_UNDEFINED);
  if (cfg.executionStartToCloseTimeout === undefined) return fail(StartChildWorkflowExecutionFailedCause.DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED);
  if (cfg.taskStartToCloseTimeout === undefined) return fail(StartChildWorkflowExecutionFailedCause.DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED);
  if (cfg.childPolicy === undefined) return fail(StartChildWorkflowExecutionFailedCause.DEFAULT_CHILD_POLICY_UNDEFINED);
  const priority = a.taskPriority !== undefined ? String(parsePriority(a.taskPriority, "taskPriority")) : (c.defaultTaskPriority ?? "0");
  const initiatedId = x.append({
    eventType: EventType.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    startChildWorkflowExecutionInitiatedEventAttributes: {
      workflowId: a.workflowId,
      workflowType: a.workflowType,
      control: a.control,
      input: a.input,
      executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
      taskList: { name: cfg.taskList },
      taskPriority: priority,
      decisionTaskCompletedEventId: dtc,
      childPolicy: childPolicyValue(cfg.childPolicy),
      taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
      tagList: a.tagList,
      lambdaRole: a.lambdaRole,
    },
  });
  const child = await createExecution(ctx, sql, uow, {
    domain: x.row.domain,
    workflowId: a.workflowId!,
    typeName: t.name,
    typeVersion: t.version,
    input: a.input,
    tagList: a.tagList,
    taskList: cfg.taskList,
    executionStartToCloseTimeout: cfg.executionStartToCloseTimeout,
    taskStartToCloseTimeout: cfg.taskStartToCloseTimeout,
    childPolicy: cfg.childPolicy,
    taskPriority: priority,
    lambdaRole: a.lambdaRole ?? c.defaultLambdaRole,
    // ChildWorkflowExecutionStarted is the parent's next event, appended right below.
    parent: { workflowId: x.row.workflowId, runId: x.row.runId, initiatedEventId: initiatedId, startedEventId: x.row.nextEventId, domain: x.row.domain },
  });
  if (!child) return fail(StartChildWorkflowExecutionFailedCause.WORKFLOW_ALREADY_RUNNING, initiatedId);
  await child.flush(sql, ctx.db.caps);
  x.append({
    eventType: EventType.CHILD_WORKFLOW_EXECUTION_STARTED,
    childWorkflowExecutionStartedEventAttributes: { workflowExecution: execRef(child), workflowType: execTypeInfo(child), initiatedEventId: BigInt(initiatedId) },
  });
  x.state.openChildWorkflowExecutions++;
  return true;
}
