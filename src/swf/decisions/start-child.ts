// StartChildWorkflowExecution: the child starts in the same transaction, with the workflow type's
// defaults for what the decision leaves out.
import { type Decision, EventType, StartChildWorkflowExecutionFailedCause } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import * as st from "../../store/swf.ts";
import { checkDuration, parsePriority } from "../values.ts";
import { childPolicyName, childPolicyValue, execRef, execTypeInfo } from "../present.ts";
import type { WorkflowTypeConfig } from "../type-config.ts";
import { createExecution } from "../execution.ts";
import { type DecisionContext, type DecisionRule, type Outcome, required } from "./rule.ts";

/** StartChildWorkflowExecution: starts a child execution in the same domain. */
export const startChildWorkflowExecution: DecisionRule<"startChildWorkflowExecutionDecisionAttributes"> = {
  attributes: "startChildWorkflowExecutionDecisionAttributes",
  name: "StartChildWorkflowExecution",
  required: true,
  closes: false,
  check(a, path) {
    checkDuration(a.executionStartToCloseTimeout, `${path}.executionStartToCloseTimeout`, false);
    checkDuration(a.taskStartToCloseTimeout, `${path}.taskStartToCloseTimeout`);
    parsePriority(a.taskPriority, `${path}.taskPriority`);
  },
  apply: (c, a) => startChild(c, required(a)),
};

async function startChild({ ctx, uow, x, dtc }: DecisionContext, a: NonNullable<Decision["startChildWorkflowExecutionDecisionAttributes"]>): Promise<Outcome> {
  const fail = (cause: StartChildWorkflowExecutionFailedCause, initiatedEventId = 0): Outcome => {
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
    return "needs-decision";
  };
  const t = await st.getType(uow.sql, x.row.domain, "workflow", a.workflowType!.name!, a.workflowType!.version!);
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
  const child = await createExecution(ctx, uow, {
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
  await child.flush(uow.sql, ctx.db.caps);
  x.append({
    eventType: EventType.CHILD_WORKFLOW_EXECUTION_STARTED,
    childWorkflowExecutionStartedEventAttributes: { workflowExecution: execRef(child), workflowType: execTypeInfo(child), initiatedEventId: BigInt(initiatedId) },
  });
  x.state.openChildWorkflowExecutions++;
  return "needs-decision";
}
