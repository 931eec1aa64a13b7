// Rows and execution state as the SWF wire shapes: domain, type and execution infos, activity tasks,
// child policies and close statuses by their AWS names.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ChildPolicy, CloseStatus, ExecutionStatus, RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { ExecutionTx } from "./history.ts";
import type { ClaimedActivity } from "./activity-task.ts";
import * as st from "../store/swf.ts";
import { swfDomainArn, type ArnScope } from "../resources/arn.ts";

/** The workflow type of an execution. */
export const execTypeInfo = (x: ExecutionTx) => ({ name: x.row.typeName, version: x.row.typeVersion });

/** The workflowId and runId of an execution. */
export const execRef = (x: ExecutionTx) => ({ workflowId: x.row.workflowId, runId: x.row.runId });

/** A started activity task as PollForActivityTask and the stream answer it. */
export function activityTask(c: ClaimedActivity) {
  return {
    taskToken: c.token,
    activityId: c.payload.activityId,
    startedEventId: BigInt(c.payload.startedEventId!),
    workflowExecution: { workflowId: c.payload.workflowId, runId: c.runId },
    activityType: { name: c.payload.typeName, version: c.payload.typeVersion },
    input: c.payload.input,
  };
}

/** A type as AWS messages name it: `WorkflowType=[name=…, version=…]`. */
export function typeLabel(kind: "workflow" | "activity", name: string, version: string): string {
  return `${kind === "workflow" ? "WorkflowType" : "ActivityType"}=[name=${name}, version=${version}]`;
}

/** A domain row as DomainInfo, its ARN in the given region and account. */
export function domainInfo(d: st.DomainRow, scope: ArnScope) {
  return {
    name: d.name,
    status: d.status === "REGISTERED" ? RegistrationStatus.REGISTERED : RegistrationStatus.DEPRECATED,
    description: d.description ?? undefined,
    arn: swfDomainArn(scope, d.name),
  };
}

function typeInfoBase(t: st.TypeRow) {
  return {
    status: t.status === "REGISTERED" ? RegistrationStatus.REGISTERED : RegistrationStatus.DEPRECATED,
    description: t.description ?? undefined,
    creationDate: timestampFromMs(t.createdMs),
    deprecationDate: t.deprecatedMs !== null ? timestampFromMs(t.deprecatedMs) : undefined,
  };
}

/** A workflow type row as WorkflowTypeInfo. */
export function workflowTypeInfo(t: st.TypeRow) {
  return { workflowType: { name: t.name, version: t.version }, ...typeInfoBase(t) };
}

/** An activity type row as ActivityTypeInfo. */
export function activityTypeInfo(t: st.TypeRow) {
  return { activityType: { name: t.name, version: t.version }, ...typeInfoBase(t) };
}

/** A RegistrationStatus as stored. */
export function registrationStatusName(s: RegistrationStatus): string {
  return s === RegistrationStatus.DEPRECATED ? "DEPRECATED" : "REGISTERED";
}

const childPolicies: [ChildPolicy, string][] = [
  [ChildPolicy.TERMINATE, "TERMINATE"],
  [ChildPolicy.REQUEST_CANCEL, "REQUEST_CANCEL"],
  [ChildPolicy.ABANDON, "ABANDON"],
];

/** A ChildPolicy as stored. */
export function childPolicyName(p: ChildPolicy): string {
  return childPolicies.find(([v]) => v === p)?.[1] ?? "TERMINATE";
}

/** A stored child policy as ChildPolicy. */
export function childPolicyValue(name: string): ChildPolicy {
  return childPolicies.find(([, n]) => n === name)?.[0] ?? ChildPolicy.UNSPECIFIED;
}

/** Stored close statuses as CloseStatus. */
export const closeStatusValue: Record<string, CloseStatus> = {
  COMPLETED: CloseStatus.COMPLETED,
  FAILED: CloseStatus.FAILED,
  CANCELED: CloseStatus.CANCELED,
  TERMINATED: CloseStatus.TERMINATED,
  CONTINUED_AS_NEW: CloseStatus.CONTINUED_AS_NEW,
  TIMED_OUT: CloseStatus.TIMED_OUT,
};

/** An execution as WorkflowExecutionInfo. */
export function executionInfo(x: ExecutionTx) {
  return {
    execution: execRef(x),
    workflowType: execTypeInfo(x),
    startTimestamp: timestampFromMs(x.row.startMs),
    closeTimestamp: x.row.closeMs !== null ? timestampFromMs(x.row.closeMs) : undefined,
    executionStatus: x.open ? ExecutionStatus.OPEN : ExecutionStatus.CLOSED,
    closeStatus: x.row.closeStatus ? closeStatusValue[x.row.closeStatus] : undefined,
    parent: x.state.parent ? { workflowId: x.state.parent.workflowId, runId: x.state.parent.runId } : undefined,
    tagList: x.state.tagList,
    cancelRequested: x.state.cancelRequested,
  };
}
