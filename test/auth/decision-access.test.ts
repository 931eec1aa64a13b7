// What each SWF decision is authorized as (src/swf/decisions/permission.ts), as data: the action
// and the condition keys AWS's SWF access-control documentation lists for it, and the *Failed
// event a refusal records with cause OPERATION_NOT_PERMITTED.
import { describe, expect, it } from "vitest";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { DecisionSchema, DecisionType, EventType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { decisionAccess, deniedEvent } from "../../src/swf/decisions/permission.ts";

const cases: { decision: MessageInitShape<typeof DecisionSchema>; action: string; context: Record<string, string>; failed: EventType }[] = [
  {
    decision: { decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK, scheduleActivityTaskDecisionAttributes: { activityId: "a", activityType: { name: "charge", version: "2" }, taskList: { name: "urgent" } } },
    action: "swf:ScheduleActivityTask",
    context: { "swf:activityType.name": "charge", "swf:activityType.version": "2", "swf:taskList.name": "urgent" },
    failed: EventType.SCHEDULE_ACTIVITY_TASK_FAILED,
  },
  {
    decision: { decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK, scheduleActivityTaskDecisionAttributes: { activityId: "a", activityType: { name: "charge", version: "2" } } },
    action: "swf:ScheduleActivityTask",
    context: { "swf:activityType.name": "charge", "swf:activityType.version": "2" },
    failed: EventType.SCHEDULE_ACTIVITY_TASK_FAILED,
  },
  {
    decision: {
      decisionType: DecisionType.START_CHILD_WORKFLOW_EXECUTION,
      startChildWorkflowExecutionDecisionAttributes: { workflowId: "c", workflowType: { name: "wf", version: "1" }, taskList: { name: "l" }, tagList: ["t0", "t1"] },
    },
    action: "swf:StartChildWorkflowExecution",
    context: { "swf:workflowType.name": "wf", "swf:workflowType.version": "1", "swf:taskList.name": "l", "swf:tagList.member.0": "t0", "swf:tagList.member.1": "t1" },
    failed: EventType.START_CHILD_WORKFLOW_EXECUTION_FAILED,
  },
  {
    decision: { decisionType: DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION, continueAsNewWorkflowExecutionDecisionAttributes: { workflowTypeVersion: "3", taskList: { name: "l" }, tagList: ["x"] } },
    action: "swf:ContinueAsNewWorkflowExecution",
    context: { "swf:workflowType.version": "3", "swf:taskList.name": "l", "swf:tagList.member.0": "x" },
    failed: EventType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION_FAILED,
  },
  { decision: { decisionType: DecisionType.START_TIMER, startTimerDecisionAttributes: { timerId: "t", startToFireTimeout: "5" } }, action: "swf:StartTimer", context: {}, failed: EventType.START_TIMER_FAILED },
  { decision: { decisionType: DecisionType.CANCEL_TIMER, cancelTimerDecisionAttributes: { timerId: "t" } }, action: "swf:CancelTimer", context: {}, failed: EventType.CANCEL_TIMER_FAILED },
  { decision: { decisionType: DecisionType.RECORD_MARKER, recordMarkerDecisionAttributes: { markerName: "m" } }, action: "swf:RecordMarker", context: {}, failed: EventType.RECORD_MARKER_FAILED },
  {
    decision: { decisionType: DecisionType.REQUEST_CANCEL_ACTIVITY_TASK, requestCancelActivityTaskDecisionAttributes: { activityId: "a" } },
    action: "swf:RequestCancelActivityTask",
    context: {},
    failed: EventType.REQUEST_CANCEL_ACTIVITY_TASK_FAILED,
  },
  {
    decision: { decisionType: DecisionType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION, signalExternalWorkflowExecutionDecisionAttributes: { workflowId: "w", signalName: "s" } },
    action: "swf:SignalExternalWorkflowExecution",
    context: {},
    failed: EventType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
  },
  {
    decision: { decisionType: DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION, requestCancelExternalWorkflowExecutionDecisionAttributes: { workflowId: "w" } },
    action: "swf:RequestCancelExternalWorkflowExecution",
    context: {},
    failed: EventType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
  },
  { decision: { decisionType: DecisionType.COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionDecisionAttributes: {} }, action: "swf:CompleteWorkflowExecution", context: {}, failed: EventType.COMPLETE_WORKFLOW_EXECUTION_FAILED },
  { decision: { decisionType: DecisionType.FAIL_WORKFLOW_EXECUTION, failWorkflowExecutionDecisionAttributes: {} }, action: "swf:FailWorkflowExecution", context: {}, failed: EventType.FAIL_WORKFLOW_EXECUTION_FAILED },
  { decision: { decisionType: DecisionType.CANCEL_WORKFLOW_EXECUTION, cancelWorkflowExecutionDecisionAttributes: {} }, action: "swf:CancelWorkflowExecution", context: {}, failed: EventType.CANCEL_WORKFLOW_EXECUTION_FAILED },
];

describe("decisionAccess", () => {
  it.each(cases.map((c) => [c.action, c] as const))("%s", (_name, c) => {
    const d = create(DecisionSchema, c.decision);
    expect(decisionAccess(d)).toEqual({ action: c.action, context: c.context });
    const ev = deniedEvent(d, 7n);
    expect(ev.eventType).toBe(c.failed);
    const attrs = Object.values(ev).find((v) => typeof v === "object" && v !== null) as { cause?: unknown; decisionTaskCompletedEventId?: bigint };
    expect(attrs.decisionTaskCompletedEventId).toBe(7n);
    expect(String(attrs.cause)).not.toBe("0");
  });

  it("ScheduleLambdaFunction is not authorized (it always fails: no Lambda here)", () => {
    expect(decisionAccess(create(DecisionSchema, { decisionType: DecisionType.SCHEDULE_LAMBDA_FUNCTION, scheduleLambdaFunctionDecisionAttributes: { id: "l", name: "f" } }))).toBeUndefined();
  });
});
