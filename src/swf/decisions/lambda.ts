// ScheduleLambdaFunction: taskgate runs no AWS Lambda functions.
import { EventType, ScheduleLambdaFunctionFailedCause } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { type DecisionRule, required } from "./rule.ts";

/** ScheduleLambdaFunction: always fails with LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION. */
export const scheduleLambdaFunction: DecisionRule<"scheduleLambdaFunctionDecisionAttributes"> = {
  attributes: "scheduleLambdaFunctionDecisionAttributes",
  name: "ScheduleLambdaFunction",
  required: true,
  closes: false,
  async apply({ x, dtc }, attrs) {
    const a = required(attrs);
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
    return "needs-decision";
  },
};
