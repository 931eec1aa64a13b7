// State machine operations (create, describe, update, delete, list), definition validation, and
// the tags of activities and state machines.
import type * as pb from "../../../gen/taskgate/sfn/v1/service_pb.ts";
import { StateMachineType, ValidateStateMachineDefinitionResultCode, ValidateStateMachineDefinitionSeverity } from "../../../gen/taskgate/sfn/v1/types_pb.ts";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { sfn } from "../../faults.ts";
import { inScope, parseStatesArn, stateMachineArn } from "../../resources/arn.ts";
import type { Sql } from "../../store/db.ts";
import * as st from "../../store/sfn.ts";
import type { Sfn } from "../engine.ts";
import {
  checkEncryption,
  checkName,
  checkResourceTags,
  describeMachine,
  loggingOf,
  machineItem,
  maxTags,
  pageSize,
  tracingOf,
  type Res,
} from "../present.ts";
import { readToken } from "./activities.ts";
import { parseDefinition } from "../asl/parse.ts";
import { invalidDefinitionMessage, validationResult } from "../asl/analyse.ts";
import type { Diagnostic } from "../asl/definition.ts";

/** State machines an account may have (AWS's default quota: 10,000). */
export const maxStateMachines = 10_000;

/** The findings on a definition (the Amazon States Language analyser's diagnostics, AWS's codes and wording). */
function diagnose(text: string, type: "STANDARD" | "EXPRESS" = "STANDARD"): Diagnostic[] {
  return parseDefinition(text, { type }).diagnostics;
}

/** InvalidDefinition, in AWS's words, for a definition with errors; nothing otherwise. */
function checkDefinition(text: string): void {
  const diagnostics = diagnose(text);
  if (diagnostics.some((d) => d.severity === "ERROR")) throw sfn.invalidDefinition(invalidDefinitionMessage(diagnostics));
}

/** An IAM role ARN, the only thing AWS checks of roleArn at creation. */
const roleArnPattern = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

function checkRoleArn(arn: string): void {
  if (!roleArnPattern.test(arn)) throw sfn.invalidArn(`Invalid Arn: '${arn}': roleArn must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>`);
}

/** Versions are not served yet: `publish` and `versionDescription` answer ValidationException. */
function checkNoVersion(req: { publish?: boolean; versionDescription?: string }): void {
  if (req.publish) throw sfn.validation("Publishing state machine versions (publish: true) is not supported by taskgate yet; omit publish.");
  if (req.versionDescription !== undefined) throw sfn.validation("versionDescription can only be set when publish is true, and taskgate does not publish versions yet.");
}

/**
 * CreateStateMachine (STANDARD only). Idempotent: a request repeating the name, definition, type,
 * logging and tracing configuration of an existing state machine returns it unchanged; as AWS
 * documents, a different roleArn or tags are ignored then. Any other difference is
 * StateMachineAlreadyExists; a state machine being deleted is StateMachineDeleting.
 */
export async function createStateMachine(ctx: Sfn, req: pb.CreateStateMachineRequest): Promise<Res<typeof pb.CreateStateMachineResponseSchema>> {
  const name = req.name!;
  checkName(name, "state machine");
  if (req.type === StateMachineType.EXPRESS)
    throw sfn.stateMachineTypeNotSupported("EXPRESS state machines are not supported by taskgate yet; create a STANDARD state machine (type STANDARD or no type).");
  checkRoleArn(req.roleArn!);
  checkNoVersion(req);
  checkEncryption(req.encryptionConfiguration);
  const tags = checkResourceTags(req.tags, `state machine ${name}`);
  const logging = JSON.stringify(loggingOf(req.loggingConfiguration));
  const tracing = JSON.stringify(tracingOf(req.tracingConfiguration));
  checkDefinition(req.definition!);
  const arn = stateMachineArn(ctx.scope, name);
  const row = await ctx.tx(async (uow) => {
    const existing = await st.getStateMachine(uow.sql, name);
    if (existing) return sameMachine(existing, req.definition!, logging, tracing, arn);
    if ((await st.countStateMachines(uow.sql)) >= maxStateMachines)
      throw sfn.stateMachineLimitExceeded(`The maximum number of state machines (${maxStateMachines}) exists; delete one first.`);
    const m: st.StateMachineRow = {
      name,
      status: "ACTIVE",
      type: "STANDARD",
      definition: req.definition!,
      roleArn: req.roleArn!,
      logging,
      tracing,
      encryption: null,
      revisionId: ctx.newId(),
      createdMs: ctx.clock.now(),
      updatedMs: null,
    };
    if (!(await st.insertStateMachine(uow.sql, m))) return sameMachine((await st.getStateMachine(uow.sql, name))!, req.definition!, logging, tracing, arn);
    await st.putTags(uow.sql, "stateMachine", name, tags);
    return m;
  });
  return { stateMachineArn: arn, creationDate: timestampFromMs(row.createdMs) };
}

/** The existing state machine a repeated CreateStateMachine returns, or its conflict. */
function sameMachine(m: st.StateMachineRow, definition: string, logging: string, tracing: string, arn: string): st.StateMachineRow {
  if (m.status === "DELETING") throw sfn.stateMachineDeleting(`State machine is being deleted: '${arn}'`);
  const differs = [m.definition !== definition && "definition", m.type !== "STANDARD" && "type", m.logging !== logging && "loggingConfiguration", m.tracing !== tracing && "tracingConfiguration"].filter(
    (x): x is string => typeof x === "string",
  );
  if (differs.length > 0) throw sfn.stateMachineAlreadyExists(`State Machine Already Exists: '${arn}' with a different ${differs.join(", ")}; use UpdateStateMachine to change it.`);
  return m;
}

/** The name of the state machine an ARN names, or undefined when the ARN lies in another region or account. */
function machineName(ctx: Sfn, arn: string): string | undefined {
  const a = parseStatesArn(arn, "stateMachine");
  return inScope(a, ctx.scope) ? a.name : undefined;
}

function doesNotExist(arn: string): Error {
  return sfn.stateMachineDoesNotExist(`State Machine Does Not Exist: '${arn}'`);
}

/** DescribeStateMachine (a state machine being deleted is described with status DELETING). */
export async function describeStateMachine(ctx: Sfn, req: pb.DescribeStateMachineRequest): Promise<Res<typeof pb.DescribeStateMachineResponseSchema>> {
  const name = machineName(ctx, req.stateMachineArn!);
  const m = name === undefined ? undefined : await ctx.db.tx((sql) => st.getStateMachine(sql, name));
  if (!m) throw doesNotExist(req.stateMachineArn!);
  return describeMachine(ctx.scope, m);
}

/**
 * UpdateStateMachine: a new definition and/or role (MissingRequiredParameter when neither is
 * given), optionally a new logging and tracing configuration; a new revisionId and updateDate.
 */
export async function updateStateMachine(ctx: Sfn, req: pb.UpdateStateMachineRequest): Promise<Res<typeof pb.UpdateStateMachineResponseSchema>> {
  const name = machineName(ctx, req.stateMachineArn!);
  if (req.definition === undefined && req.roleArn === undefined)
    throw sfn.missingRequiredParameter("Either the definition or the roleArn must be specified, or both.");
  if (req.roleArn !== undefined) checkRoleArn(req.roleArn);
  checkNoVersion(req);
  checkEncryption(req.encryptionConfiguration);
  const logging = req.loggingConfiguration ? JSON.stringify(loggingOf(req.loggingConfiguration)) : undefined;
  const tracing = req.tracingConfiguration ? JSON.stringify(tracingOf(req.tracingConfiguration)) : undefined;
  if (req.definition !== undefined) checkDefinition(req.definition);
  if (name === undefined) throw doesNotExist(req.stateMachineArn!);
  const now = ctx.clock.now();
  const revisionId = ctx.newId();
  await ctx.tx(async (uow) => {
    const m = await st.getStateMachine(uow.sql, name);
    if (!m) throw doesNotExist(req.stateMachineArn!);
    if (m.status === "DELETING") throw sfn.stateMachineDeleting(`State machine is being deleted: '${req.stateMachineArn}'`);
    await st.updateStateMachine(uow.sql, {
      ...m,
      definition: req.definition ?? m.definition,
      roleArn: req.roleArn ?? m.roleArn,
      logging: logging ?? m.logging,
      tracing: tracing ?? m.tracing,
      revisionId,
      updatedMs: now,
    });
  });
  return { updateDate: timestampFromMs(now), revisionId };
}

/**
 * DeleteStateMachine. A state machine with running executions becomes DELETING until they end;
 * while no executions run (they are not served yet) it and its tags are deleted at once.
 * Deleting one that does not exist succeeds, as on AWS.
 */
export async function deleteStateMachine(ctx: Sfn, req: pb.DeleteStateMachineRequest): Promise<Res<typeof pb.DeleteStateMachineResponseSchema>> {
  const name = machineName(ctx, req.stateMachineArn!);
  if (name !== undefined) await ctx.tx((uow) => st.deleteStateMachine(uow.sql, name));
  return {};
}

/** ListStateMachines: by name, paged (maxResults 1 to 1000, default 100). */
export async function listStateMachines(ctx: Sfn, req: pb.ListStateMachinesRequest): Promise<Res<typeof pb.ListStateMachinesResponseSchema>> {
  const limit = pageSize(req.maxResults);
  const cursor = req.nextToken ? readToken<{ k: "sfn-lsm"; a: string }>(ctx, req.nextToken, "sfn-lsm") : undefined;
  const rows = await ctx.db.tx((sql) => st.listStateMachines(sql, cursor?.a, limit + 1));
  const items = rows.slice(0, limit);
  return {
    stateMachines: items.map((m) => machineItem(ctx.scope, m)),
    nextToken: rows.length > limit ? ctx.pages.issue({ k: "sfn-lsm", a: items[items.length - 1].name }) : undefined,
  };
}

/**
 * ValidateStateMachineDefinition: result FAIL when the definition has an error, OK otherwise
 * (warnings allowed). Diagnostics are filtered by severity (ERROR, the default: errors only;
 * WARNING: both) and cut at maxResults (0 or absent: 100), `truncated` telling whether any were
 * cut. `type` EXPRESS applies the rules of express machines (no activity Tasks).
 */
export async function validateStateMachineDefinition(
  _ctx: Sfn,
  req: pb.ValidateStateMachineDefinitionRequest,
): Promise<Res<typeof pb.ValidateStateMachineDefinitionResponseSchema>> {
  const type = req.type === StateMachineType.EXPRESS ? "EXPRESS" : "STANDARD";
  const severity = req.severity === ValidateStateMachineDefinitionSeverity.WARNING ? "WARNING" : "ERROR";
  const r = validationResult(diagnose(req.definition!, type), severity, req.maxResults ?? 0);
  return {
    result: r.result === "FAIL" ? ValidateStateMachineDefinitionResultCode.FAIL : ValidateStateMachineDefinitionResultCode.OK,
    diagnostics: r.diagnostics.map((d) => ({
      severity: d.severity === "ERROR" ? ValidateStateMachineDefinitionSeverity.ERROR : ValidateStateMachineDefinitionSeverity.WARNING,
      code: d.code,
      message: d.message,
      location: d.location,
    })),
    truncated: r.truncated,
  };
}

// ---- tags of activities and state machines ----

/** The tagged resource an ARN names (an activity or a state machine that exists), or ResourceNotFound. */
async function taggedResource(ctx: Sfn, sql: Sql, arn: string): Promise<{ kind: st.TaggedKind; name: string }> {
  const r = parseStatesArn(arn, "activity", "stateMachine");
  const exists = inScope(r, ctx.scope) && (r.kind === "activity" ? await st.getActivity(sql, r.name) : await st.getStateMachine(sql, r.name)) !== undefined;
  if (!exists) throw sfn.resourceNotFound(`Resource not found: '${arn}'`);
  return { kind: r.kind, name: r.name };
}

/** TagResource: adds or replaces tags (at most 50 on a resource in all). */
export async function tagResource(ctx: Sfn, req: pb.TagResourceRequest): Promise<Res<typeof pb.TagResourceResponseSchema>> {
  const tags = checkResourceTags(req.tags, req.resourceArn!);
  await ctx.tx(async (uow) => {
    const r = await taggedResource(ctx, uow.sql, req.resourceArn!);
    const keys = new Set([...(await st.tagsOf(uow.sql, r.kind, r.name)).map((t) => t.key), ...tags.map((t) => t.key)]);
    if (keys.size > maxTags) throw sfn.tooManyTags(`A resource can have at most ${maxTags} tags; ${req.resourceArn} would have ${keys.size}.`);
    await st.putTags(uow.sql, r.kind, r.name, tags);
  });
  return {};
}

/** UntagResource: removes tags by key (keys the resource lacks are ignored). */
export async function untagResource(ctx: Sfn, req: pb.UntagResourceRequest): Promise<Res<typeof pb.UntagResourceResponseSchema>> {
  await ctx.tx(async (uow) => {
    const r = await taggedResource(ctx, uow.sql, req.resourceArn!);
    await st.removeTags(uow.sql, r.kind, r.name, req.tagKeys);
  });
  return {};
}

/** ListTagsForResource: the tags in key order. */
export async function listTagsForResource(ctx: Sfn, req: pb.ListTagsForResourceRequest): Promise<Res<typeof pb.ListTagsForResourceResponseSchema>> {
  const tags = await ctx.db.tx(async (sql) => {
    const r = await taggedResource(ctx, sql, req.resourceArn!);
    return st.tagsOf(sql, r.kind, r.name);
  });
  return { tags };
}
