// Pipeline operations: CreatePipeline (idempotent on uniqueId and name), DeletePipeline,
// DescribePipelines, ListPipelines (paged), AddTags, RemoveTags, ActivatePipeline and
// DeactivatePipeline.
import type * as pb from "../../../gen/taskgate/datapipeline/v1/service_pb.ts";
import type { UnitOfWork } from "../../dispatch/index.ts";
import { datapipeline as dpf, Fault } from "../../faults.ts";
import { checkTags } from "../../resources/tags.ts";
import type { Sql } from "../../store/db.ts";
import * as st from "../../store/datapipeline.ts";
import { validateDefinition } from "../definition/validate.ts";
import { formatDateTime } from "../schedule.ts";
import type { Dp } from "../engine.ts";
import { caller, callerAccount } from "../access.ts";
import type { Res, WireField } from "../present.ts";
import { advance, cancelInstance, createDueInstances, isFinal, newRunState, stateText, withdrawWaiting, type PipelineTx, type RunState, type StoredDefinition } from "../scheduler.ts";

/** AWS's limit of tags per pipeline. */
export const maxTags = 10;

/** DescribePipelines takes at most 25 ids (AWS). */
export const maxDescribe = 25;

/** Pipelines per ListPipelines page. */
const listPage = 100;

/** The fault for a pipeline id that names no pipeline. */
export function notFound(id: string): Fault {
  return dpf.pipelineNotFound(`Pipeline with id '${id}' does not exist.`);
}

/** The fault for a pipeline that was deleted. */
export function deleted(id: string): Fault {
  return dpf.pipelineDeleted(`Pipeline with id '${id}' was deleted.`);
}

/** A pipeline row for reading: PipelineNotFoundException or PipelineDeletedException otherwise. */
export async function readPipeline(ctx: Dp, sql: Sql, id: string): Promise<st.PipelineRow> {
  const row = await st.getPipeline(sql, ctx.db.caps, id);
  if (!row) throw notFound(id);
  if (row.deleted) throw deleted(id);
  return row;
}

/** A pipeline opened for change: PipelineNotFoundException or PipelineDeletedException otherwise. */
export async function openPipeline(ctx: Dp, uow: UnitOfWork, id: string): Promise<PipelineTx> {
  const x = await ctx.open(uow, id);
  if (x) return x;
  const row = await st.getPipeline(uow.sql, uow.caps, id);
  throw row ? deleted(id) : notFound(id);
}

/** Tags as stored. */
type Tags = { key: string; value: string }[];

/** Checks tags against the model's characters and AWS's limit of 10 per pipeline. */
function checkedTags(tags: { key?: string; value?: string }[]): Tags {
  return checkTags(tags, "tags", maxTags, (n) => dpf.invalidRequest(`A pipeline may have at most ${maxTags} tags; the request would give it ${n}.`));
}

/** CreatePipeline: a new pipeline, or the live one created before with the same uniqueId and name. */
export async function createPipeline(ctx: Dp, req: pb.CreatePipelineRequest): Promise<Res<typeof pb.CreatePipelineResponseSchema>> {
  const tags = checkedTags(req.tags);
  // Before any await: the caller's context. The creator is the launching principal: its tasks go
  // to its queues (docs/datapipeline.md, "Who receives a pipeline's tasks").
  const creatorAccount = callerAccount(ctx.accountId);
  const creatorPrincipal = caller(ctx.accountId)?.name ?? null;
  const id = await ctx.tx(async (uow) => {
    const existing = await st.pipelineByUniqueId(uow.sql, req.uniqueId!, req.name!);
    if (existing) return existing.id;
    const id = `df-${ctx.newId()}`;
    await st.insertPipeline(uow.sql, {
      id,
      name: req.name!,
      uniqueId: req.uniqueId!,
      description: req.description ?? null,
      createdMs: ctx.clock.now(),
      deleted: false,
      tags: JSON.stringify(tags),
      latest: null,
      active: null,
      state: stateText(newRunState()),
      creatorAccount,
      creatorPrincipal,
    });
    return id;
  });
  return { pipelineId: id };
}

/** DeletePipeline: its objects, tasks and timers go; later calls naming it answer PipelineDeletedException. */
export async function deletePipeline(ctx: Dp, req: pb.DeletePipelineRequest): Promise<Res<typeof pb.DeletePipelineResponseSchema>> {
  await ctx.tx(async (uow) => {
    const row = await st.getPipeline(uow.sql, uow.caps, req.pipelineId!, true);
    if (!row || row.deleted) throw notFound(req.pipelineId!);
    await ctx.tasks.dropOwner(uow, row.id);
    await st.deleteRun(uow.sql, row.id);
    await st.updatePipeline(uow.sql, { ...row, deleted: true, latest: null, active: null, state: stateText(newRunState()) });
  });
  return {};
}

/** The fields DescribePipelines shows for a pipeline. */
function describeFields(ctx: Dp, row: st.PipelineRow, s: RunState, unhealthy: boolean): WireField[] {
  const f: WireField[] = [
    { key: "@id", stringValue: row.id },
    { key: "name", stringValue: row.name },
    { key: "uniqueId", stringValue: row.uniqueId },
    { key: "@sphere", stringValue: "PIPELINE" },
    { key: "@pipelineState", stringValue: s.pipelineState },
    { key: "@creationTime", stringValue: formatDateTime(row.createdMs) },
    { key: "@accountId", stringValue: ctx.accountId },
    { key: "@userId", stringValue: ctx.accountId },
    { key: "pipelineCreator", stringValue: row.creatorPrincipal ?? ctx.accountId },
    { key: "@version", stringValue: String(s.version) },
    { key: "@healthStatus", stringValue: unhealthy ? "ERROR" : "HEALTHY" },
  ];
  const times: [string, number | undefined][] = [
    ["@firstActivationTime", s.firstActivationMs],
    ["@lastActivationTime", s.lastActivationMs],
    ["@lastDeactivatedTime", s.lastDeactivatedMs],
    ["@latestRunTime", s.latestRunMs],
    ["@nextRunTime", s.pipelineState === "SCHEDULED" ? s.nextRunMs : undefined],
  ];
  for (const [key, t] of times) if (t !== undefined) f.push({ key, stringValue: formatDateTime(t) });
  if (row.description !== null) f.push({ key: "description", stringValue: row.description });
  return f;
}

/** DescribePipelines: 1 to 25 pipelines, in request order. */
export async function describePipelines(ctx: Dp, req: pb.DescribePipelinesRequest): Promise<Res<typeof pb.DescribePipelinesResponseSchema>> {
  if (req.pipelineIds.length === 0 || req.pipelineIds.length > maxDescribe)
    throw dpf.invalidRequest(`pipelineIds must name 1 to ${maxDescribe} pipelines; it names ${req.pipelineIds.length}.`);
  const rows = await ctx.db.tx(async (sql) => {
    const out: { row: st.PipelineRow; unhealthy: boolean }[] = [];
    for (const id of req.pipelineIds) {
      const row = await readPipeline(ctx, sql, id);
      out.push({ row, unhealthy: await st.anyInstanceWith(sql, row.id, ["FAILED", "TIMEDOUT", "CASCADE_FAILED"]) });
    }
    return out;
  });
  return {
    pipelineDescriptionList: rows.map(({ row, unhealthy }) => ({
      pipelineId: row.id,
      name: row.name,
      description: row.description ?? undefined,
      fields: describeFields(ctx, row, JSON.parse(row.state) as RunState, unhealthy),
      tags: JSON.parse(row.tags) as Tags,
    })),
  };
}

/** Reads a marker; InvalidRequestException for one that is bad, expired or of another operation. */
export function readMarker<B extends { k: string }>(ctx: Dp, marker: string, kind: string): B {
  try {
    return ctx.pages.read<B>(marker, kind);
  } catch (e) {
    if (e instanceof Fault) throw dpf.invalidRequest(`The marker is not valid: ${e.message}`);
    throw e;
  }
}

/** ListPipelines: live pipelines by id, 100 a page. */
export async function listPipelines(ctx: Dp, req: pb.ListPipelinesRequest): Promise<Res<typeof pb.ListPipelinesResponseSchema>> {
  const cursor = req.marker ? readMarker<{ k: "dp-lp"; a: string }>(ctx, req.marker, "dp-lp") : undefined;
  const rows = await ctx.db.tx((sql) => st.listPipelines(sql, cursor?.a, listPage + 1));
  const page = rows.slice(0, listPage);
  const more = rows.length > listPage;
  return { pipelineIdList: page, hasMoreResults: more, marker: more ? ctx.pages.issue({ k: "dp-lp", a: page[page.length - 1].id }) : undefined };
}

/** AddTags: adds or replaces tags; at most 10 in all. */
export async function addTags(ctx: Dp, req: pb.AddTagsRequest): Promise<Res<typeof pb.AddTagsResponseSchema>> {
  const add = checkedTags(req.tags);
  await ctx.tx(async (uow) => {
    const x = await openPipeline(ctx, uow, req.pipelineId!);
    const tags = new Map((JSON.parse(x.row.tags) as Tags).map((t) => [t.key, t.value]));
    for (const t of add) tags.set(t.key, t.value);
    if (tags.size > maxTags) throw dpf.invalidRequest(`A pipeline may have at most ${maxTags} tags; the request would give it ${tags.size}.`);
    x.row.tags = JSON.stringify([...tags].map(([key, value]) => ({ key, value })));
    x.rowChanged = true;
    await x.flush(uow);
  });
  return {};
}

/** RemoveTags: removes tags by key; keys it does not have are ignored. */
export async function removeTags(ctx: Dp, req: pb.RemoveTagsRequest): Promise<Res<typeof pb.RemoveTagsResponseSchema>> {
  await ctx.tx(async (uow) => {
    const x = await openPipeline(ctx, uow, req.pipelineId!);
    x.row.tags = JSON.stringify((JSON.parse(x.row.tags) as Tags).filter((t) => !req.tagKeys.includes(t.key)));
    x.rowChanged = true;
    await x.flush(uow);
  });
  return {};
}

/**
 * ActivatePipeline: the saved definition (with the request's parameter values, when given) becomes
 * the active one and the pipeline SCHEDULED. An on-demand pipeline runs once per activation (an
 * activation while it runs cancels the running objects and runs again); a scheduled one creates
 * the instances of every period due since its schedule's start, then one per period on durable
 * timers, from startTimestamp when given. Activating a scheduled pipeline that is SCHEDULED
 * changes nothing.
 */
export async function activatePipeline(ctx: Dp, req: pb.ActivatePipelineRequest): Promise<Res<typeof pb.ActivatePipelineResponseSchema>> {
  await ctx.tx(async (uow) => {
    const x = await openPipeline(ctx, uow, req.pipelineId!);
    if (x.row.latest === null) throw dpf.invalidRequest(`Pipeline ${x.row.id} has no pipeline definition; call PutPipelineDefinition first.`);
    const latest = JSON.parse(x.row.latest) as StoredDefinition;
    const def: StoredDefinition =
      req.parameterValues.length > 0 ? { ...latest, parameterValues: req.parameterValues.map((v) => ({ id: v.id!, stringValue: v.stringValue! })) } : latest;
    const v = validateDefinition(def.objects, def.parameterObjects, def.parameterValues);
    if (!v.model) throw dpf.invalidRequest(`The pipeline definition has errors with these parameter values: ${v.errors.map((e) => `${e.id}: ${e.errors.join(" ")}`).join("; ")}`);
    const s = x.state;
    const onDemand = v.model.scheduleType === "ondemand";
    if (s.pipelineState === "SCHEDULED" && !onDemand) return;
    if (onDemand) for (const inst of Object.values(s.instances)) await cancelInstance(ctx, uow, x, inst);
    s.gen += 1;
    s.pipelineState = "SCHEDULED";
    s.activeVersion = def.version;
    s.firstActivationMs ??= x.nowMs;
    s.lastActivationMs = x.nowMs;
    if (req.startTimestamp && !onDemand) s.startFromMs = Number(req.startTimestamp.seconds) * 1000;
    x.row.active = JSON.stringify(def);
    x.rowChanged = true;
    x.model = ctx.modelOf(x.row.id, def);
    // Instances waiting for a retry whose timer belonged to the earlier activation try again now.
    for (const inst of Object.values(s.instances)) if (inst.retryAt !== undefined) inst.retryAt = undefined;
    await createDueInstances(ctx, uow, x, true);
    await advance(ctx, uow, x);
    await x.flush(uow);
  });
  return {};
}

/**
 * DeactivatePipeline: the pipeline becomes INACTIVE and starts no more attempts. With cancelActive
 * (the default) every object that has not ended is CANCELED, and a task runner holding one of its
 * attempts is told so by ReportTaskProgress; without it, running attempts finish and waiting ones
 * are withdrawn until the next activation.
 */
export async function deactivatePipeline(ctx: Dp, req: pb.DeactivatePipelineRequest): Promise<Res<typeof pb.DeactivatePipelineResponseSchema>> {
  await ctx.tx(async (uow) => {
    const x = await openPipeline(ctx, uow, req.pipelineId!);
    const s = x.state;
    if (s.pipelineState !== "SCHEDULED") return;
    s.gen += 1;
    s.pipelineState = "INACTIVE";
    s.lastDeactivatedMs = x.nowMs;
    for (const inst of Object.values(s.instances)) {
      if (isFinal(inst.status)) continue;
      if (req.cancelActive ?? true) await cancelInstance(ctx, uow, x, inst);
      else await withdrawWaiting(ctx, uow, x, inst);
    }
    await x.flush(uow);
  });
  return {};
}
