// ContinueAsNewWorkflowExecution: closes this run and starts the next one of the same workflowId.
import { ContinueAsNewWorkflowExecutionFailedCause, type Decision, EventType } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import * as st from "../../store/swf.ts";
import { checkDuration, parsePriority } from "../values.ts";
import { childPolicyName, childPolicyValue } from "../present.ts";
import type { WorkflowTypeConfig } from "../type-config.ts";
import { close, createExecution } from "../execution.ts";
import type { DecisionContext, DecisionRule, Outcome } from "./rule.ts";

/** ContinueAsNewWorkflowExecution: closes this run as CONTINUED_AS_NEW and starts the next with the same workflowId, inheriting what the decision leaves out. */
export const continueAsNewWorkflowExecution: DecisionRule<"continueAsNewWorkflowExecutionDecisionAttributes"> = {
  attributes: "continueAsNewWorkflowExecutionDecisionAttributes",
  name: "ContinueAsNewWorkflowExecution",
  required: false,
  closes: true,
  check(a, path) {
    checkDuration(a.executionStartToCloseTimeout, `${path}.executionStartToCloseTimeout`, false);
    checkDuration(a.taskStartToCloseTimeout, `${path}.taskStartToCloseTimeout`);
    parsePriority(a.taskPriority, `${path}.taskPriority`);
  },
  apply: continueAsNew,
};

async function continueAsNew({ ctx, uow, x, dtc, unhandled }: DecisionContext, attrs: Decision["continueAsNewWorkflowExecutionDecisionAttributes"]): Promise<Outcome> {
  const fail = (cause: ContinueAsNewWorkflowExecutionFailedCause): Outcome => {
    x.append({
      eventType: EventType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION_FAILED,
      continueAsNewWorkflowExecutionFailedEventAttributes: { cause, decisionTaskCompletedEventId: dtc },
    });
    return "needs-decision";
  };
  if (unhandled) return fail(ContinueAsNewWorkflowExecutionFailedCause.UNHANDLED_DECISION);
  const version = attrs?.workflowTypeVersion ?? x.row.typeVersion;
  const t = await st.getType(uow.sql, x.row.domain, "workflow", x.row.typeName, version);
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
  await st.updateExecution(uow.sql, { ...x.row, state: JSON.stringify(x.state) });
  const next = await createExecution(ctx, uow, {
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
  await next.flush(uow.sql, ctx.db.caps);
  await close(ctx, uow, x, "CONTINUED_AS_NEW");
  return "no-decision";
}
