// What an SWF operation is authorized as, from its request: the action (`swf:<Operation>`), the
// resource (the domain's ARN, as SWF's access-control documentation states for each operation)
// and the SWF condition keys of that operation, read from the request members. Pure.
//
// Resources: every operation with a `domain` member -> arn:<partition>:swf:<region>:<account>:/domain/<domain>;
// RegisterDomain, DescribeDomain, DeprecateDomain, UndeprecateDomain -> the ARN of the domain they name; ListDomains -> …:/domain/* (all domains);
// TagResource, UntagResource, ListTagsForResource -> their resourceArn.
// Not covered here (swfAccess answers undefined): the operations that name no domain but a task
// token (RespondActivityTask*, RecordActivityTaskHeartbeat, RespondDecisionTaskCompleted), whose
// domain is the task's, and the decisions inside RespondDecisionTaskCompleted.

/** The action, resource and condition keys of one SWF call. */
export interface SwfAccess {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

type Json = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function member(input: Json, path: string): unknown {
  let v: unknown = input;
  for (const p of path.split(".")) v = typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json)[p] : undefined;
  return v;
}

/** Condition keys by operation: key -> request member path (a list member gives a multivalued key). */
const KEYS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  PollForActivityTask: { "swf:taskList.name": "taskList.name" },
  PollForDecisionTask: { "swf:taskList.name": "taskList.name" },
  CountPendingActivityTasks: { "swf:taskList.name": "taskList.name" },
  CountPendingDecisionTasks: { "swf:taskList.name": "taskList.name" },
  StartWorkflowExecution: {
    "swf:taskList.name": "taskList.name",
    "swf:workflowType.name": "workflowType.name",
    "swf:workflowType.version": "workflowType.version",
    "swf:tagList.member.0": "tagList.0",
    "swf:tagList.member.1": "tagList.1",
    "swf:tagList.member.2": "tagList.2",
    "swf:tagList.member.3": "tagList.3",
    "swf:tagList.member.4": "tagList.4",
  },
  RegisterActivityType: { "swf:defaultTaskList.name": "defaultTaskList.name", "swf:name": "name", "swf:version": "version" },
  RegisterWorkflowType: { "swf:defaultTaskList.name": "defaultTaskList.name", "swf:name": "name", "swf:version": "version" },
  DeprecateActivityType: { "swf:activityType.name": "activityType.name", "swf:activityType.version": "activityType.version" },
  UndeprecateActivityType: { "swf:activityType.name": "activityType.name", "swf:activityType.version": "activityType.version" },
  DeleteActivityType: { "swf:activityType.name": "activityType.name", "swf:activityType.version": "activityType.version" },
  DescribeActivityType: { "swf:activityType.name": "activityType.name", "swf:activityType.version": "activityType.version" },
  DeprecateWorkflowType: { "swf:workflowType.name": "workflowType.name", "swf:workflowType.version": "workflowType.version" },
  UndeprecateWorkflowType: { "swf:workflowType.name": "workflowType.name", "swf:workflowType.version": "workflowType.version" },
  DeleteWorkflowType: { "swf:workflowType.name": "workflowType.name", "swf:workflowType.version": "workflowType.version" },
  DescribeWorkflowType: { "swf:workflowType.name": "workflowType.name", "swf:workflowType.version": "workflowType.version" },
  ListOpenWorkflowExecutions: { "swf:tagFilter.tag": "tagFilter.tag", "swf:typeFilter.name": "typeFilter.name", "swf:typeFilter.version": "typeFilter.version" },
  ListClosedWorkflowExecutions: { "swf:tagFilter.tag": "tagFilter.tag", "swf:typeFilter.name": "typeFilter.name", "swf:typeFilter.version": "typeFilter.version" },
  CountOpenWorkflowExecutions: { "swf:tagFilter.tag": "tagFilter.tag", "swf:typeFilter.name": "typeFilter.name", "swf:typeFilter.version": "typeFilter.version" },
  CountClosedWorkflowExecutions: { "swf:tagFilter.tag": "tagFilter.tag", "swf:typeFilter.name": "typeFilter.name", "swf:typeFilter.version": "typeFilter.version" },
};

/** Operations whose `name` member is the domain they act on. */
const DOMAIN_BY_NAME: ReadonlySet<string> = new Set(["RegisterDomain", "DescribeDomain", "DeprecateDomain", "UndeprecateDomain"]);

/** The ARN prefix of SWF domains in a region and account (`arn:<partition>:swf:<region>:<account>:/domain/`). */
export function swfDomainArnPrefix(region: string, account: string): string {
  const partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
  return `arn:${partition}:swf:${region}:${account}:/domain/`;
}

/**
 * The action, resource and condition keys an SWF operation is authorized with, or undefined for
 * an operation this table does not cover (see the file comment). `input` is the request's JSON.
 */
export function swfAccess(operation: string, input: Json, region: string, account: string): SwfAccess | undefined {
  const domains = swfDomainArnPrefix(region, account);
  let resource: string | undefined;
  if (operation === "ListDomains") resource = `${domains}*`;
  else if (DOMAIN_BY_NAME.has(operation)) resource = `${domains}${str(input.name) ?? ""}`;
  else if (operation === "TagResource" || operation === "UntagResource" || operation === "ListTagsForResource") resource = str(input.resourceArn) ?? "";
  else if (typeof input.domain === "string") resource = `${domains}${input.domain}`;
  if (resource === undefined) return undefined;
  const context: Record<string, string | readonly string[]> = {};
  for (const [key, path] of Object.entries(KEYS[operation] ?? {})) {
    const v = member(input, path.replace(/\.(\d+)$/, ""));
    const index = /\.(\d+)$/.exec(path)?.[1];
    const value = index === undefined ? v : Array.isArray(v) ? (v as unknown[])[Number(index)] : undefined;
    if (typeof value === "string") context[key] = value;
  }
  return { action: `swf:${operation}`, resource, context };
}
