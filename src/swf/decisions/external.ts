// SignalExternalWorkflowExecution and RequestCancelExternalWorkflowExecution: the initiated event,
// then the target (another open execution of the domain) changed in the same transaction and the
// outcome recorded at once.
import { type Decision, EventType, RequestCancelExternalWorkflowExecutionFailedCause, SignalExternalWorkflowExecutionFailedCause } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { ExecutionTx } from "../history.ts";
import { execRef } from "../present.ts";
import { externalOpen } from "../lookup.ts";
import { scheduleDecision } from "../decision-task.ts";
import { type DecisionContext, type DecisionRule, type Outcome, required } from "./rule.ts";

/** SignalExternalWorkflowExecution: signals another open execution of the domain. */
export const signalExternalWorkflowExecution: DecisionRule<"signalExternalWorkflowExecutionDecisionAttributes"> = {
  attributes: "signalExternalWorkflowExecutionDecisionAttributes",
  name: "SignalExternalWorkflowExecution",
  required: true,
  closes: false,
  apply: (c, a) => signalExternal(c, required(a)),
};

/** RequestCancelExternalWorkflowExecution: records a cancel request in another open execution of the domain. */
export const requestCancelExternalWorkflowExecution: DecisionRule<"requestCancelExternalWorkflowExecutionDecisionAttributes"> = {
  attributes: "requestCancelExternalWorkflowExecutionDecisionAttributes",
  name: "RequestCancelExternalWorkflowExecution",
  required: true,
  closes: false,
  apply: (c, a) => cancelExternal(c, required(a)),
};

async function signalExternal({ ctx, uow, x, dtc }: DecisionContext, a: NonNullable<Decision["signalExternalWorkflowExecutionDecisionAttributes"]>): Promise<Outcome> {
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
  const trow = await externalOpen(ctx, uow.sql, x, a.workflowId!, a.runId);
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
    return "needs-decision";
  }
  const target = new ExecutionTx(trow, x.nowMs);
  target.append({
    eventType: EventType.WORKFLOW_EXECUTION_SIGNALED,
    workflowExecutionSignaledEventAttributes: { signalName: a.signalName, input: a.input, externalWorkflowExecution: execRef(x), externalInitiatedEventId: BigInt(initiatedId) },
  });
  await scheduleDecision(ctx, uow, target);
  await target.flush(uow.sql, ctx.db.caps);
  x.append({
    eventType: EventType.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
    externalWorkflowExecutionSignaledEventAttributes: { workflowExecution: execRef(target), initiatedEventId: BigInt(initiatedId) },
  });
  return "needs-decision";
}

async function cancelExternal({ ctx, uow, x, dtc }: DecisionContext, a: NonNullable<Decision["requestCancelExternalWorkflowExecutionDecisionAttributes"]>): Promise<Outcome> {
  const initiatedId = x.append({
    eventType: EventType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    requestCancelExternalWorkflowExecutionInitiatedEventAttributes: { workflowId: a.workflowId, runId: a.runId, control: a.control, decisionTaskCompletedEventId: dtc },
  });
  const trow = await externalOpen(ctx, uow.sql, x, a.workflowId!, a.runId);
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
    return "needs-decision";
  }
  const target = new ExecutionTx(trow, x.nowMs);
  if (!target.state.cancelRequested) {
    target.state.cancelRequested = true;
    target.append({
      eventType: EventType.WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      workflowExecutionCancelRequestedEventAttributes: { externalWorkflowExecution: execRef(x), externalInitiatedEventId: BigInt(initiatedId) },
    });
    await scheduleDecision(ctx, uow, target);
  }
  await target.flush(uow.sql, ctx.db.caps);
  x.append({
    eventType: EventType.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
    externalWorkflowExecutionCancelRequestedEventAttributes: { workflowExecution: execRef(target), initiatedEventId: BigInt(initiatedId) },
  });
  return "needs-decision";
}
