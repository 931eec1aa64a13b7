// Workflow and activity type operations: register, describe, list, deprecate, undeprecate, delete.
import { RegistrationStatus } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { swf } from "../../faults.ts";
import { checkDuration, priorityString } from "../values.ts";
import { activityTypeInfo, childPolicyName, childPolicyValue, registrationStatusName, typeLabel, workflowTypeInfo } from "../present.ts";
import type { ActivityTypeConfig, WorkflowTypeConfig } from "../type-config.ts";
import { knownDomain, registeredDomain } from "../lookup.ts";
import { limits, pageSize, type Res, type Swf } from "../context.ts";
import type * as pb from "../../../gen/taskgate/swf/v1/service_pb.ts";
import * as st from "../../store/swf.ts";

/** RegisterWorkflowType. */
export async function registerWorkflowType(ctx: Swf, req: pb.RegisterWorkflowTypeRequest): Promise<Res<typeof pb.RegisterWorkflowTypeResponseSchema>> {
  checkDuration(req.defaultTaskStartToCloseTimeout, "defaultTaskStartToCloseTimeout");
  checkDuration(req.defaultExecutionStartToCloseTimeout, "defaultExecutionStartToCloseTimeout", false);
  const config: WorkflowTypeConfig = {
    defaultTaskStartToCloseTimeout: req.defaultTaskStartToCloseTimeout,
    defaultExecutionStartToCloseTimeout: req.defaultExecutionStartToCloseTimeout,
    defaultTaskList: req.defaultTaskList?.name,
    defaultTaskPriority: priorityString(req.defaultTaskPriority, "defaultTaskPriority"),
    defaultChildPolicy: req.defaultChildPolicy ? childPolicyName(req.defaultChildPolicy) : undefined,
    defaultLambdaRole: req.defaultLambdaRole,
  };
  await registerType(ctx, req.domain!, "workflow", req.name!, req.version!, req.description, config);
  return {};
}

/** RegisterActivityType. */
export async function registerActivityType(ctx: Swf, req: pb.RegisterActivityTypeRequest): Promise<Res<typeof pb.RegisterActivityTypeResponseSchema>> {
  checkDuration(req.defaultTaskStartToCloseTimeout, "defaultTaskStartToCloseTimeout");
  checkDuration(req.defaultTaskHeartbeatTimeout, "defaultTaskHeartbeatTimeout");
  checkDuration(req.defaultTaskScheduleToStartTimeout, "defaultTaskScheduleToStartTimeout");
  checkDuration(req.defaultTaskScheduleToCloseTimeout, "defaultTaskScheduleToCloseTimeout");
  const config: ActivityTypeConfig = {
    defaultTaskStartToCloseTimeout: req.defaultTaskStartToCloseTimeout,
    defaultTaskHeartbeatTimeout: req.defaultTaskHeartbeatTimeout,
    defaultTaskList: req.defaultTaskList?.name,
    defaultTaskPriority: priorityString(req.defaultTaskPriority, "defaultTaskPriority"),
    defaultTaskScheduleToStartTimeout: req.defaultTaskScheduleToStartTimeout,
    defaultTaskScheduleToCloseTimeout: req.defaultTaskScheduleToCloseTimeout,
  };
  await registerType(ctx, req.domain!, "activity", req.name!, req.version!, req.description, config);
  return {};
}

async function registerType(ctx: Swf, domain: string, kind: "workflow" | "activity", name: string, version: string, description: string | undefined, config: object): Promise<void> {
  await ctx.tx(async (uow) => {
    await registeredDomain(uow.sql, domain);
    if ((await st.countTypes(uow.sql, domain, kind)) >= limits.typesPerDomain)
      throw swf.limitExceeded(`The maximum number of ${kind} types (${limits.typesPerDomain}) is registered in domain ${domain}.`);
    const ok = await st.insertType(uow.sql, {
      domain,
      kind,
      name,
      version,
      status: "REGISTERED",
      description: description ?? null,
      createdMs: ctx.clock.now(),
      deprecatedMs: null,
      config: JSON.stringify(config),
    });
    if (!ok) throw swf.typeAlreadyExists(typeLabel(kind, name, version));
  });
}

/** DescribeWorkflowType. */
export async function describeWorkflowType(ctx: Swf, req: pb.DescribeWorkflowTypeRequest): Promise<Res<typeof pb.DescribeWorkflowTypeResponseSchema>> {
  const t = await ctx.db.tx(async (sql) => {
    await knownDomain(sql, req.domain!);
    return st.getType(sql, req.domain!, "workflow", req.workflowType!.name!, req.workflowType!.version!);
  });
  if (!t) throw swf.unknownResource(`Unknown type: ${typeLabel("workflow", req.workflowType!.name!, req.workflowType!.version!)}`);
  const c = JSON.parse(t.config) as WorkflowTypeConfig;
  return {
    typeInfo: workflowTypeInfo(t),
    configuration: {
      defaultTaskStartToCloseTimeout: c.defaultTaskStartToCloseTimeout,
      defaultExecutionStartToCloseTimeout: c.defaultExecutionStartToCloseTimeout,
      defaultTaskList: c.defaultTaskList !== undefined ? { name: c.defaultTaskList } : undefined,
      defaultTaskPriority: c.defaultTaskPriority,
      defaultChildPolicy: c.defaultChildPolicy ? childPolicyValue(c.defaultChildPolicy) : undefined,
      defaultLambdaRole: c.defaultLambdaRole,
    },
  };
}

/** DescribeActivityType. */
export async function describeActivityType(ctx: Swf, req: pb.DescribeActivityTypeRequest): Promise<Res<typeof pb.DescribeActivityTypeResponseSchema>> {
  const t = await ctx.db.tx(async (sql) => {
    await knownDomain(sql, req.domain!);
    return st.getType(sql, req.domain!, "activity", req.activityType!.name!, req.activityType!.version!);
  });
  if (!t) throw swf.unknownResource(`Unknown type: ${typeLabel("activity", req.activityType!.name!, req.activityType!.version!)}`);
  const c = JSON.parse(t.config) as ActivityTypeConfig;
  return {
    typeInfo: activityTypeInfo(t),
    configuration: {
      defaultTaskStartToCloseTimeout: c.defaultTaskStartToCloseTimeout,
      defaultTaskHeartbeatTimeout: c.defaultTaskHeartbeatTimeout,
      defaultTaskList: c.defaultTaskList !== undefined ? { name: c.defaultTaskList } : undefined,
      defaultTaskPriority: c.defaultTaskPriority,
      defaultTaskScheduleToStartTimeout: c.defaultTaskScheduleToStartTimeout,
      defaultTaskScheduleToCloseTimeout: c.defaultTaskScheduleToCloseTimeout,
    },
  };
}

/** ListWorkflowTypes. */
export async function listWorkflowTypes(ctx: Swf, req: pb.ListWorkflowTypesRequest): Promise<Res<typeof pb.ListWorkflowTypesResponseSchema>> {
  const { rows, next } = await listTypes(ctx, "workflow", req.domain!, req.name, req.registrationStatus, req.maximumPageSize, req.nextPageToken, req.reverseOrder);
  return { typeInfos: rows.map(workflowTypeInfo), nextPageToken: next };
}

/** ListActivityTypes. */
export async function listActivityTypes(ctx: Swf, req: pb.ListActivityTypesRequest): Promise<Res<typeof pb.ListActivityTypesResponseSchema>> {
  const { rows, next } = await listTypes(ctx, "activity", req.domain!, req.name, req.registrationStatus, req.maximumPageSize, req.nextPageToken, req.reverseOrder);
  return { typeInfos: rows.map(activityTypeInfo), nextPageToken: next };
}

async function listTypes(
  ctx: Swf,
  kind: "workflow" | "activity",
  domain: string,
  name: string | undefined,
  status: RegistrationStatus,
  maximumPageSize: number | undefined,
  token: string | undefined,
  reverse: boolean | undefined,
): Promise<{ rows: st.TypeRow[]; next: string | undefined }> {
  const limit = pageSize(maximumPageSize);
  const k = kind === "workflow" ? "lw" : "la";
  const cursor = token ? ctx.pages.read<{ k: string; a: [string, string] }>(token, k) : undefined;
  const rows = await ctx.db.tx(async (sql) => {
    await knownDomain(sql, domain);
    return st.listTypes(sql, { domain, kind, status: registrationStatusName(status), name, after: cursor?.a, reverse: reverse ?? false, limit: limit + 1 });
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > limit ? ctx.pages.issue({ k, a: [last.name, last.version] }) : undefined };
}

/** DeprecateWorkflowType. */
export async function deprecateWorkflowType(ctx: Swf, req: pb.DeprecateWorkflowTypeRequest): Promise<Res<typeof pb.DeprecateWorkflowTypeResponseSchema>> {
  await setTypeStatus(ctx, req.domain!, "workflow", req.workflowType!.name!, req.workflowType!.version!, "deprecate");
  return {};
}

/** UndeprecateWorkflowType. */
export async function undeprecateWorkflowType(ctx: Swf, req: pb.UndeprecateWorkflowTypeRequest): Promise<Res<typeof pb.UndeprecateWorkflowTypeResponseSchema>> {
  await setTypeStatus(ctx, req.domain!, "workflow", req.workflowType!.name!, req.workflowType!.version!, "undeprecate");
  return {};
}

/** DeleteWorkflowType (a deprecated type only). */
export async function deleteWorkflowType(ctx: Swf, req: pb.DeleteWorkflowTypeRequest): Promise<Res<typeof pb.DeleteWorkflowTypeResponseSchema>> {
  await setTypeStatus(ctx, req.domain!, "workflow", req.workflowType!.name!, req.workflowType!.version!, "delete");
  return {};
}

/** DeprecateActivityType. */
export async function deprecateActivityType(ctx: Swf, req: pb.DeprecateActivityTypeRequest): Promise<Res<typeof pb.DeprecateActivityTypeResponseSchema>> {
  await setTypeStatus(ctx, req.domain!, "activity", req.activityType!.name!, req.activityType!.version!, "deprecate");
  return {};
}

/** UndeprecateActivityType. */
export async function undeprecateActivityType(ctx: Swf, req: pb.UndeprecateActivityTypeRequest): Promise<Res<typeof pb.UndeprecateActivityTypeResponseSchema>> {
  await setTypeStatus(ctx, req.domain!, "activity", req.activityType!.name!, req.activityType!.version!, "undeprecate");
  return {};
}

/** DeleteActivityType (a deprecated type only). */
export async function deleteActivityType(ctx: Swf, req: pb.DeleteActivityTypeRequest): Promise<Res<typeof pb.DeleteActivityTypeResponseSchema>> {
  await setTypeStatus(ctx, req.domain!, "activity", req.activityType!.name!, req.activityType!.version!, "delete");
  return {};
}

/** Deprecates, undeprecates or deletes a type, with AWS's faults for each wrong starting state. */
async function setTypeStatus(ctx: Swf, domain: string, kind: "workflow" | "activity", name: string, version: string, action: "deprecate" | "undeprecate" | "delete"): Promise<void> {
  await ctx.tx(async (uow) => {
    await knownDomain(uow.sql, domain);
    const t = await st.getType(uow.sql, domain, kind, name, version);
    if (!t) throw swf.unknownResource(`Unknown type: ${typeLabel(kind, name, version)}`);
    const registered = t.status === "REGISTERED";
    if (action === "deprecate") {
      if (!registered) throw swf.typeDeprecated(`Type is already deprecated: ${typeLabel(kind, name, version)}`);
      await st.setTypeStatus(uow.sql, t, "DEPRECATED", ctx.clock.now());
    } else if (action === "undeprecate") {
      if (registered) throw swf.typeAlreadyExists(typeLabel(kind, name, version));
      await st.setTypeStatus(uow.sql, t, "REGISTERED", null);
    } else {
      if (registered) throw swf.typeNotDeprecated(`The type is currently registered and cannot be deleted in its current state; deprecate it first: ${typeLabel(kind, name, version)}`);
      await st.deleteType(uow.sql, t);
    }
  });
}
