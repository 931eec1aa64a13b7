// Per-decision authorization: each decision of RespondDecisionTaskCompleted is authorized as its
// own action (`swf:<DecisionType>`) on the execution's domain, with the condition keys AWS's SWF
// access-control documentation lists for that decision. A decision the caller may not make is
// recorded as its `*Failed` event with cause OPERATION_NOT_PERMITTED and the others in the same
// response still apply, as AWS does. ScheduleLambdaFunction is not authorized here (taskgate runs
// no Lambda functions; the decision always fails).
import {
  CancelTimerFailedCause,
  CancelWorkflowExecutionFailedCause,
  CompleteWorkflowExecutionFailedCause,
  ContinueAsNewWorkflowExecutionFailedCause,
  type Decision,
  DecisionType,
  EventType,
  FailWorkflowExecutionFailedCause,
  RecordMarkerFailedCause,
  RequestCancelActivityTaskFailedCause,
  RequestCancelExternalWorkflowExecutionFailedCause,
  ScheduleActivityTaskFailedCause,
  SignalExternalWorkflowExecutionFailedCause,
  StartChildWorkflowExecutionFailedCause,
  StartTimerFailedCause,
} from "../../../gen/taskgate/swf/v1/types_pb.ts";
import type { ExecutionTx } from "../history.ts";

type Event = Parameters<ExecutionTx["append"]>[0];

/** How one decision type is authorized: its condition keys and its OPERATION_NOT_PERMITTED event. */
interface DecisionPermission {
  /** The action's name after `swf:` (AWS's decision type name). */
  readonly action: string;
  /** The condition keys of the decision, from its attributes (absent members give no key). */
  keys(d: Decision): Record<string, string | undefined>;
  /** The `*Failed` event recording the refusal. */
  denied(d: Decision, dtc: bigint): Event;
}

/** swf:tagList.member.0 … 4 of a tag list. */
function tagKeys(tags: readonly string[] | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  (tags ?? []).slice(0, 5).forEach((t, i) => (out[`swf:tagList.member.${i}`] = t));
  return out;
}

const none = (): Record<string, string | undefined> => ({});

/** Every authorized decision type (ScheduleLambdaFunction excepted, see the file comment). */
const permissions: Partial<Record<DecisionType, DecisionPermission>> = {
  [DecisionType.SCHEDULE_ACTIVITY_TASK]: {
    action: "ScheduleActivityTask",
    keys: (d) => {
      const a = d.scheduleActivityTaskDecisionAttributes;
      return { "swf:activityType.name": a?.activityType?.name, "swf:activityType.version": a?.activityType?.version, "swf:taskList.name": a?.taskList?.name };
    },
    denied: (d, dtc) => {
      const a = d.scheduleActivityTaskDecisionAttributes;
      return {
        eventType: EventType.SCHEDULE_ACTIVITY_TASK_FAILED,
        scheduleActivityTaskFailedEventAttributes: { activityType: a?.activityType, activityId: a?.activityId, cause: ScheduleActivityTaskFailedCause.OPERATION_NOT_PERMITTED, decisionTaskCompletedEventId: dtc },
      };
    },
  },
  [DecisionType.REQUEST_CANCEL_ACTIVITY_TASK]: {
    action: "RequestCancelActivityTask",
    keys: none,
    denied: (d, dtc) => ({
      eventType: EventType.REQUEST_CANCEL_ACTIVITY_TASK_FAILED,
      requestCancelActivityTaskFailedEventAttributes: {
        activityId: d.requestCancelActivityTaskDecisionAttributes?.activityId,
        cause: RequestCancelActivityTaskFailedCause.OPERATION_NOT_PERMITTED,
        decisionTaskCompletedEventId: dtc,
      },
    }),
  },
  [DecisionType.COMPLETE_WORKFLOW_EXECUTION]: {
    action: "CompleteWorkflowExecution",
    keys: none,
    denied: (_d, dtc) => ({
      eventType: EventType.COMPLETE_WORKFLOW_EXECUTION_FAILED,
      completeWorkflowExecutionFailedEventAttributes: { cause: CompleteWorkflowExecutionFailedCause.OPERATION_NOT_PERMITTED, decisionTaskCompletedEventId: dtc },
    }),
  },
  [DecisionType.FAIL_WORKFLOW_EXECUTION]: {
    action: "FailWorkflowExecution",
    keys: none,
    denied: (_d, dtc) => ({
      eventType: EventType.FAIL_WORKFLOW_EXECUTION_FAILED,
      failWorkflowExecutionFailedEventAttributes: { cause: FailWorkflowExecutionFailedCause.OPERATION_NOT_PERMITTED, decisionTaskCompletedEventId: dtc },
    }),
  },
  [DecisionType.CANCEL_WORKFLOW_EXECUTION]: {
    action: "CancelWorkflowExecution",
    keys: none,
    denied: (_d, dtc) => ({
      eventType: EventType.CANCEL_WORKFLOW_EXECUTION_FAILED,
      cancelWorkflowExecutionFailedEventAttributes: { cause: CancelWorkflowExecutionFailedCause.OPERATION_NOT_PERMITTED, decisionTaskCompletedEventId: dtc },
    }),
  },
  [DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION]: {
    action: "ContinueAsNewWorkflowExecution",
    keys: (d) => {
      const a = d.continueAsNewWorkflowExecutionDecisionAttributes;
      return { ...tagKeys(a?.tagList), "swf:taskList.name": a?.taskList?.name, "swf:workflowType.version": a?.workflowTypeVersion };
    },
    denied: (_d, dtc) => ({
      eventType: EventType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION_FAILED,
      continueAsNewWorkflowExecutionFailedEventAttributes: { cause: ContinueAsNewWorkflowExecutionFailedCause.OPERATION_NOT_PERMITTED, decisionTaskCompletedEventId: dtc },
    }),
  },
  [DecisionType.RECORD_MARKER]: {
    action: "RecordMarker",
    keys: none,
    denied: (d, dtc) => ({
      eventType: EventType.RECORD_MARKER_FAILED,
      recordMarkerFailedEventAttributes: { markerName: d.recordMarkerDecisionAttributes?.markerName, cause: RecordMarkerFailedCause.OPERATION_NOT_PERMITTED, decisionTaskCompletedEventId: dtc },
    }),
  },
  [DecisionType.START_TIMER]: {
    action: "StartTimer",
    keys: none,
    denied: (d, dtc) => ({
      eventType: EventType.START_TIMER_FAILED,
      startTimerFailedEventAttributes: { timerId: d.startTimerDecisionAttributes?.timerId, cause: StartTimerFailedCause.OPERATION_NOT_PERMITTED, decisionTaskCompletedEventId: dtc },
    }),
  },
  [DecisionType.CANCEL_TIMER]: {
    action: "CancelTimer",
    keys: none,
    denied: (d, dtc) => ({
      eventType: EventType.CANCEL_TIMER_FAILED,
      cancelTimerFailedEventAttributes: { timerId: d.cancelTimerDecisionAttributes?.timerId, cause: CancelTimerFailedCause.OPERATION_NOT_PERMITTED, decisionTaskCompletedEventId: dtc },
    }),
  },
  [DecisionType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION]: {
    action: "SignalExternalWorkflowExecution",
    keys: none,
    denied: (d, dtc) => {
      const a = d.signalExternalWorkflowExecutionDecisionAttributes;
      return {
        eventType: EventType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        signalExternalWorkflowExecutionFailedEventAttributes: {
          workflowId: a?.workflowId,
          runId: a?.runId,
          cause: SignalExternalWorkflowExecutionFailedCause.OPERATION_NOT_PERMITTED,
          initiatedEventId: 0n,
          decisionTaskCompletedEventId: dtc,
          control: a?.control,
        },
      };
    },
  },
  [DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION]: {
    action: "RequestCancelExternalWorkflowExecution",
    keys: none,
    denied: (d, dtc) => {
      const a = d.requestCancelExternalWorkflowExecutionDecisionAttributes;
      return {
        eventType: EventType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        requestCancelExternalWorkflowExecutionFailedEventAttributes: {
          workflowId: a?.workflowId,
          runId: a?.runId,
          cause: RequestCancelExternalWorkflowExecutionFailedCause.OPERATION_NOT_PERMITTED,
          initiatedEventId: 0n,
          decisionTaskCompletedEventId: dtc,
          control: a?.control,
        },
      };
    },
  },
  [DecisionType.START_CHILD_WORKFLOW_EXECUTION]: {
    action: "StartChildWorkflowExecution",
    keys: (d) => {
      const a = d.startChildWorkflowExecutionDecisionAttributes;
      return {
        ...tagKeys(a?.tagList),
        "swf:taskList.name": a?.taskList?.name,
        "swf:workflowType.name": a?.workflowType?.name,
        "swf:workflowType.version": a?.workflowType?.version,
      };
    },
    denied: (d, dtc) => {
      const a = d.startChildWorkflowExecutionDecisionAttributes;
      return {
        eventType: EventType.START_CHILD_WORKFLOW_EXECUTION_FAILED,
        startChildWorkflowExecutionFailedEventAttributes: {
          workflowType: a?.workflowType,
          workflowId: a?.workflowId,
          cause: StartChildWorkflowExecutionFailedCause.OPERATION_NOT_PERMITTED,
          initiatedEventId: 0n,
          decisionTaskCompletedEventId: dtc,
          control: a?.control,
        },
      };
    },
  },
};

/** The action and condition keys a decision is authorized with, or undefined for a type not authorized. */
export function decisionAccess(d: Decision): { action: string; context: Record<string, string> } | undefined {
  const p = permissions[d.decisionType];
  if (p === undefined) return undefined;
  const context: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.keys(d))) if (v !== undefined) context[k] = v;
  return { action: `swf:${p.action}`, context };
}

/** The OPERATION_NOT_PERMITTED event of a refused decision (its type has a permission entry). */
export function deniedEvent(d: Decision, dtc: bigint): Event {
  const p = permissions[d.decisionType];
  if (p === undefined) throw new Error(`decision type ${d.decisionType} is not authorized`);
  return p.denied(d, dtc);
}
