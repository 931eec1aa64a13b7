// The closing decisions CompleteWorkflowExecution, FailWorkflowExecution and
// CancelWorkflowExecution: each closes the execution, unless events arrived while the decision
// task was started (then it fails with UNHANDLED_DECISION and a new decision task follows).
import { CompleteWorkflowExecutionFailedCause, type Decision, EventType } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import type { EventInit } from "../history.ts";
import { close } from "../execution.ts";
import type { DecisionRule } from "./rule.ts";

/** A closing decision: the event that closes, the event that records its failure, the close status. */
function closeRule<K extends "completeWorkflowExecutionDecisionAttributes" | "failWorkflowExecutionDecisionAttributes" | "cancelWorkflowExecutionDecisionAttributes">(
  attributes: K,
  name: string,
  closeStatus: string,
  closed: (a: Decision[K], dtc: bigint) => EventInit,
  failed: (dtc: bigint) => EventInit,
): DecisionRule<K> {
  return {
    attributes,
    name,
    required: false,
    closes: true,
    async apply({ ctx, uow, x, dtc, unhandled }, a) {
      if (unhandled) {
        x.append(failed(dtc));
        return "needs-decision";
      }
      x.append(closed(a, dtc));
      await close(ctx, uow, x, closeStatus);
      return "no-decision";
    },
  };
}

const unhandledDecision = CompleteWorkflowExecutionFailedCause.UNHANDLED_DECISION;

/** CompleteWorkflowExecution: closes the execution as COMPLETED with its result. */
export const completeWorkflowExecution = closeRule(
  "completeWorkflowExecutionDecisionAttributes",
  "CompleteWorkflowExecution",
  "COMPLETED",
  (a, dtc) => ({ eventType: EventType.WORKFLOW_EXECUTION_COMPLETED, workflowExecutionCompletedEventAttributes: { result: a?.result, decisionTaskCompletedEventId: dtc } }),
  (dtc) => ({ eventType: EventType.COMPLETE_WORKFLOW_EXECUTION_FAILED, completeWorkflowExecutionFailedEventAttributes: { cause: unhandledDecision, decisionTaskCompletedEventId: dtc } }),
);

/** FailWorkflowExecution: closes the execution as FAILED with a reason and details. */
export const failWorkflowExecution = closeRule(
  "failWorkflowExecutionDecisionAttributes",
  "FailWorkflowExecution",
  "FAILED",
  (a, dtc) => ({ eventType: EventType.WORKFLOW_EXECUTION_FAILED, workflowExecutionFailedEventAttributes: { reason: a?.reason, details: a?.details, decisionTaskCompletedEventId: dtc } }),
  (dtc) => ({ eventType: EventType.FAIL_WORKFLOW_EXECUTION_FAILED, failWorkflowExecutionFailedEventAttributes: { cause: unhandledDecision, decisionTaskCompletedEventId: dtc } }),
);

/** CancelWorkflowExecution: closes the execution as CANCELED. */
export const cancelWorkflowExecution = closeRule(
  "cancelWorkflowExecutionDecisionAttributes",
  "CancelWorkflowExecution",
  "CANCELED",
  (a, dtc) => ({ eventType: EventType.WORKFLOW_EXECUTION_CANCELED, workflowExecutionCanceledEventAttributes: { details: a?.details, decisionTaskCompletedEventId: dtc } }),
  (dtc) => ({ eventType: EventType.CANCEL_WORKFLOW_EXECUTION_FAILED, cancelWorkflowExecutionFailedEventAttributes: { cause: unhandledDecision, decisionTaskCompletedEventId: dtc } }),
);
