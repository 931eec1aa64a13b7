// What a Step Functions or Data Pipeline call is authorized as, from its request: the action
// (`states:<Operation>`, `datapipeline:<Operation>`), the resources (ARNs as AWS's service
// authorization reference names them) and the condition keys. Pure.
//
// Step Functions: the member naming an ARN (activityArn, stateMachineArn, executionArn,
// resourceArn, mapRunArn, stateMachineAliasArn, stateMachineVersionArn), else for CreateActivity
// and CreateStateMachine the ARN the call would create (`…:activity:<name>`,
// `…:stateMachine:<name>`), else `*` (ListActivities, ListStateMachines, SendTask*,
// ValidateStateMachineDefinition: AWS lists no resource type for them).
// Data Pipeline: `arn:<partition>:datapipeline:<region>:<account>:pipeline/<pipelineId>` for
// every operation naming a pipeline (DescribePipelines: one resource per id, each must be
// allowed), else `*`. Condition key `datapipeline:workerGroup` for PollForTask and
// ReportTaskRunnerHeartbeat. The task runner calls that name only a taskId (ReportTaskProgress,
// SetTaskStatus) are authorized as `datapipeline:<Operation>` on `*`.
import { swfAccess, type SwfAccess } from "./swf-access.ts";

/** The action, one resource and the condition keys of a call (several resources: several accesses). */
export type Access = SwfAccess;

type Json = Record<string, unknown>;

/** Members of a Step Functions request that name the resource acted on, in order of preference. */
const STATES_ARN_MEMBERS = ["executionArn", "stateMachineArn", "activityArn", "mapRunArn", "stateMachineAliasArn", "stateMachineVersionArn", "resourceArn"] as const;

/** The partition of a region, as ARNs spell it. */
function partition(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The ARN of a Data Pipeline pipeline in a region and account. */
export function pipelineArn(region: string, account: string, pipelineId: string): string {
  return `arn:${partition(region)}:datapipeline:${region}:${account}:pipeline/${pipelineId}`;
}

function statesAccess(operation: string, input: Json, region: string, account: string): Access {
  const action = `states:${operation}`;
  for (const m of STATES_ARN_MEMBERS) {
    const arn = str(input[m]);
    if (arn !== undefined) return { action, resource: arn, context: {} };
  }
  const base = `arn:${partition(region)}:states:${region}:${account}`;
  const name = str(input.name) ?? "";
  if (operation === "CreateActivity") return { action, resource: `${base}:activity:${name}`, context: {} };
  if (operation === "CreateStateMachine") return { action, resource: `${base}:stateMachine:${name}`, context: {} };
  return { action, resource: "*", context: {} };
}

function datapipelineAccess(operation: string, input: Json, region: string, account: string): Access[] {
  const action = `datapipeline:${operation}`;
  const context: Record<string, string> = {};
  const group = str(input.workerGroup);
  if (group !== undefined) context["datapipeline:workerGroup"] = group;
  const id = str(input.pipelineId);
  if (id !== undefined) return [{ action, resource: pipelineArn(region, account, id), context }];
  if (operation === "DescribePipelines" && Array.isArray(input.pipelineIds)) {
    const ids = input.pipelineIds.filter((v): v is string => typeof v === "string");
    if (ids.length > 0) return ids.map((p) => ({ action, resource: pipelineArn(region, account, p), context }));
  }
  return [{ action, resource: "*", context }];
}

/**
 * Every access one call needs (all must be allowed), for the SigV4 service names `swf`, `states`
 * and `datapipeline`; empty for an SWF operation swf-access.ts does not cover (authorized by the
 * engine once it knows the task's domain) or a service it does not know.
 */
export function accessesOf(service: string, operation: string, input: Json, region: string, account: string): Access[] {
  if (service === "swf") {
    const a = swfAccess(operation, input, region, account);
    return a === undefined ? [] : [a];
  }
  if (service === "states") return [statesAccess(operation, input, region, account)];
  if (service === "datapipeline") return datapipelineAccess(operation, input, region, account);
  return [];
}
