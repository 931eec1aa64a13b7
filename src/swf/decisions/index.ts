// The decision registry: one rule per decision type, exhaustive over DecisionType (the compiler
// refuses a missing or unknown type), each defined in its own file. RespondDecisionTaskCompleted
// checks the whole batch with `checkDecisions` before anything is written, then applies the
// decisions in order with `applyDecision`.
import { DecisionType, type Decision } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { coralViolation, validationError } from "../../faults.ts";
import { requestCancelActivityTask, scheduleActivityTask } from "./activity.ts";
import { cancelWorkflowExecution, completeWorkflowExecution, failWorkflowExecution } from "./close.ts";
import { continueAsNewWorkflowExecution } from "./continue-as-new.ts";
import { requestCancelExternalWorkflowExecution, signalExternalWorkflowExecution } from "./external.ts";
import { scheduleLambdaFunction } from "./lambda.ts";
import { recordMarker } from "./marker.ts";
import type { DecisionContext, DecisionRule, Outcome } from "./rule.ts";
import { startChildWorkflowExecution } from "./start-child.ts";
import { decisionAccess, deniedEvent } from "./permission.ts";
import { swfDomainArn } from "../../resources/arn.ts";
import { cancelTimer, startTimer } from "./timer.ts";

export type { DecisionContext, Outcome } from "./rule.ts";

/** The decision types of the model (an UnknownEnum number is none of them). */
type KnownDecisionType = Exclude<(typeof DecisionType)[keyof typeof DecisionType], typeof DecisionType.UNSPECIFIED>;

/** Every decision type's rule. */
export const decisionRules = {
  [DecisionType.SCHEDULE_ACTIVITY_TASK]: scheduleActivityTask,
  [DecisionType.REQUEST_CANCEL_ACTIVITY_TASK]: requestCancelActivityTask,
  [DecisionType.COMPLETE_WORKFLOW_EXECUTION]: completeWorkflowExecution,
  [DecisionType.FAIL_WORKFLOW_EXECUTION]: failWorkflowExecution,
  [DecisionType.CANCEL_WORKFLOW_EXECUTION]: cancelWorkflowExecution,
  [DecisionType.CONTINUE_AS_NEW_WORKFLOW_EXECUTION]: continueAsNewWorkflowExecution,
  [DecisionType.RECORD_MARKER]: recordMarker,
  [DecisionType.START_TIMER]: startTimer,
  [DecisionType.CANCEL_TIMER]: cancelTimer,
  [DecisionType.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION]: signalExternalWorkflowExecution,
  [DecisionType.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION]: requestCancelExternalWorkflowExecution,
  [DecisionType.START_CHILD_WORKFLOW_EXECUTION]: startChildWorkflowExecution,
  [DecisionType.SCHEDULE_LAMBDA_FUNCTION]: scheduleLambdaFunction,
} satisfies Record<KnownDecisionType, DecisionRule>;

/** The rule of a decision type; an unknown type (an enum number the model lacks) is an internal failure. */
function ruleOf(type: DecisionType): DecisionRule {
  const rule: DecisionRule | undefined = (decisionRules as Partial<Record<DecisionType, DecisionRule>>)[type];
  if (!rule) throw new Error(`no rule for decision type ${type}`);
  return rule;
}

/** AWS's name of an attributes member: `scheduleActivityTaskDecisionAttributes` → `ScheduleActivityTaskDecisionAttributes`. */
function awsName(member: string): string {
  return member[0].toUpperCase() + member.slice(1);
}

/**
 * Checks a decision batch before anything is written, as AWS does with a synchronous 400: each
 * decision carries the attributes of its type, a closing decision comes last, durations and
 * priorities parse. Nothing is applied when one decision is invalid.
 */
export function checkDecisions(decisions: Decision[]): void {
  decisions.forEach((d, i) => {
    const path = `decisions.${i + 1}.member`;
    if (d.decisionType === DecisionType.UNSPECIFIED) throw coralViolation(null, `${path}.decisionType`, "Member must not be null");
    const rule = ruleOf(d.decisionType);
    const a = d[rule.attributes];
    if (rule.required && a === undefined) throw validationError(`${awsName(rule.attributes)} must be specified for decision of type ${rule.name}`);
    if (rule.closes && i !== decisions.length - 1) throw validationError("Close must be last decision in list");
    if (a !== undefined) rule.check?.(a, `${path}.${rule.attributes}`);
  });
}

/**
 * Applies one decision of a checked batch. A decision the caller's policies do not allow
 * (permission.ts) is recorded as its `*Failed` event with cause OPERATION_NOT_PERMITTED instead.
 */
export function applyDecision(c: DecisionContext, d: Decision): Promise<Outcome> {
  const access = c.access;
  const wanted = access === undefined ? undefined : decisionAccess(d);
  if (access !== undefined && wanted !== undefined && !access.allows(wanted.action, swfDomainArn(c.ctx.arnScope, c.x.row.domain), wanted.context)) {
    c.x.append(deniedEvent(d, c.dtc));
    return Promise.resolve("needs-decision");
  }
  const rule = ruleOf(d.decisionType);
  return rule.apply(c, d[rule.attributes]);
}
