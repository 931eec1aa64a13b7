// Object operations: DescribeObjects (with evaluateExpressions, paged), QueryObjects (components,
// instances or attempts matching selectors, paged) and SetStatus (PAUSE and RESUME on components;
// TRY_CANCEL, CANCEL, RERUN and MARK_FINISHED on instances).
import type * as pb from "../../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { OperatorType, type Selector } from "../../../gen/taskgate/datapipeline/v1/types_pb.ts";
import { datapipeline as dpf } from "../../faults.ts";
import type * as st from "../../store/datapipeline.ts";
import type { Sql } from "../../store/db.ts";
import type { PipelineModel } from "../definition/objects.ts";
import type { Dp } from "../engine.ts";
import { attemptObject, componentObject, fieldValues, findObject, instanceObject, wireObject, type Res, type RuntimeObject } from "../present.ts";
import { advance, cancelInstance, isFinal, PipelineTx, type StoredDefinition } from "../scheduler.ts";
import { openPipeline, readMarker, readPipeline } from "./pipelines.ts";

/** Objects per DescribeObjects page (AWS takes up to 25 ids a call, so a call of 25 or fewer ids is one page). */
const describePage = 25;

/** QueryObjects' default page size (AWS: 100) and the largest taskgate accepts. */
const queryPage = { default: 100, max: 1000 };

/** A pipeline read for its objects: the row, its whole run and the model of its active (else latest) definition. */
async function viewOf(ctx: Dp, sql: Sql, id: string): Promise<{ row: st.PipelineRow; x: PipelineTx; model: PipelineModel | undefined; version: number }> {
  const row = await readPipeline(ctx, sql, id);
  const text = row.active ?? row.latest;
  const def = text === null ? undefined : (JSON.parse(text) as StoredDefinition);
  const model = def ? ctx.modelOf(row.id, def) : undefined;
  const x = await new PipelineTx(row, ctx.clock.now(), model).load(sql, true);
  return { row, x, model, version: def?.version ?? 0 };
}

/** DescribeObjects: the objects named, in request order (ids the pipeline does not have are skipped), 25 a page. */
export async function describeObjects(ctx: Dp, req: pb.DescribeObjectsRequest): Promise<Res<typeof pb.DescribeObjectsResponseSchema>> {
  const { row, x, model, version } = await ctx.db.tx((sql) => viewOf(ctx, sql, req.pipelineId!));
  const from = req.marker ? readMarker<{ k: "dp-do"; p: string; o: number }>(ctx, req.marker, "dp-do") : undefined;
  if (from && from.p !== row.id) throw dpf.invalidRequest("The marker was issued for another pipeline.");
  const offset = from?.o ?? 0;
  const ids = req.objectIds.slice(offset, offset + describePage);
  const objects = ids.map((id) => findObject(x, model, id, version)).filter((o): o is RuntimeObject => o !== undefined);
  const more = offset + describePage < req.objectIds.length;
  return {
    pipelineObjects: objects.map((o) => wireObject(o, model, req.evaluateExpressions ?? false)),
    hasMoreResults: more,
    marker: more ? ctx.pages.issue({ k: "dp-do", p: row.id, o: offset + describePage }) : undefined,
  };
}

/** Whether an object matches one selector (a field it lacks fails the condition, as AWS documents). */
function matches(obj: RuntimeObject, sel: Selector): boolean {
  const key = sel.fieldName;
  const op = sel.operator;
  if (key === undefined || !op) return true;
  const vals = fieldValues(obj, key);
  const want = op.values;
  switch (op.type) {
    case OperatorType.EQ:
      return vals.some((v) => v.kind === "string" && want.includes(v.value));
    case OperatorType.REF_EQ:
      return vals.some((v) => v.kind === "ref" && want.includes(v.value));
    case OperatorType.LE:
      return want[0] !== undefined && vals.some((v) => v.kind === "string" && v.value <= want[0]);
    case OperatorType.GE:
      return want[0] !== undefined && vals.some((v) => v.kind === "string" && v.value >= want[0]);
    case OperatorType.BETWEEN:
      return want.length >= 2 && vals.some((v) => v.kind === "string" && v.value >= want[0] && v.value <= want[1]);
    default:
      throw dpf.invalidRequest("Each selector's operator needs a type: EQ, REF_EQ, LE, GE or BETWEEN.");
  }
}

/** QueryObjects: ids of the components, instances or attempts that match every selector, in creation order, paged. */
export async function queryObjects(ctx: Dp, req: pb.QueryObjectsRequest): Promise<Res<typeof pb.QueryObjectsResponseSchema>> {
  const sphere = req.sphere!;
  if (sphere !== "COMPONENT" && sphere !== "INSTANCE" && sphere !== "ATTEMPT") throw dpf.invalidRequest(`sphere must be COMPONENT, INSTANCE or ATTEMPT, not '${sphere}'.`);
  const limit = req.limit ?? queryPage.default;
  if (limit < 1 || limit > queryPage.max) throw dpf.invalidRequest(`limit must be between 1 and ${queryPage.max}.`);
  const { row, x, model, version } = await ctx.db.tx((sql) => viewOf(ctx, sql, req.pipelineId!));
  const from = req.marker ? readMarker<{ k: "dp-qo"; p: string; o: number }>(ctx, req.marker, "dp-qo") : undefined;
  if (from && from.p !== row.id) throw dpf.invalidRequest("The marker was issued for another pipeline.");
  const all: RuntimeObject[] =
    sphere === "COMPONENT"
      ? [...(model?.objects.values() ?? [])].map((o) => componentObject(x, o, version))
      : sphere === "INSTANCE"
        ? Object.values(x.state.instances).map((i) => instanceObject(x, i))
        : Object.values(x.state.attempts).map((a) => attemptObject(x, a));
  const selectors = req.query?.selectors ?? [];
  const ids = all.filter((o) => selectors.every((s) => matches(o, s))).map((o) => o.id);
  const offset = from?.o ?? 0;
  const page = ids.slice(offset, offset + limit);
  const more = offset + limit < ids.length;
  return { ids: page, hasMoreResults: more, marker: more ? ctx.pages.issue({ k: "dp-qo", p: row.id, o: offset + limit }) : undefined };
}

/** The statuses SetStatus accepts, by the sphere they apply to. */
const statusSpheres: Record<string, "COMPONENT" | "INSTANCE"> = { PAUSE: "COMPONENT", RESUME: "COMPONENT", TRY_CANCEL: "INSTANCE", CANCEL: "INSTANCE", RERUN: "INSTANCE", MARK_FINISHED: "INSTANCE" };

/**
 * SetStatus: PAUSE or RESUME components (a paused component starts no new attempts), TRY_CANCEL
 * (or CANCEL), RERUN or MARK_FINISHED instances. Every id must name an object of the sphere the
 * status applies to; refused on a FINISHED pipeline, as AWS refuses it.
 */
export async function setStatus(ctx: Dp, req: pb.SetStatusRequest): Promise<Res<typeof pb.SetStatusResponseSchema>> {
  const status = req.status!;
  const sphere = statusSpheres[status];
  if (!sphere) throw dpf.invalidRequest(`status must be PAUSE or RESUME for components, or TRY_CANCEL, RERUN or MARK_FINISHED for instances, not '${status}'.`);
  await ctx.tx(async (uow) => {
    const x = await openPipeline(ctx, uow, req.pipelineId!);
    if (x.state.pipelineState === "FINISHED") throw dpf.invalidRequest(`Pipeline ${x.row.id} is FINISHED; SetStatus cannot change its objects.`);
    if (sphere === "INSTANCE") await x.loadInstances(uow.sql, req.objectIds);
    for (const id of req.objectIds) {
      const ok = sphere === "COMPONENT" ? (x.model ?? undefined)?.objects.has(id) : x.state.instances[id] !== undefined;
      if (!ok) throw dpf.invalidRequest(`${status} applies to ${sphere === "COMPONENT" ? "components" : "instances"}; '${id}' is not one of pipeline ${x.row.id}${sphere === "COMPONENT" && !x.model ? " (the pipeline was never activated)" : ""}.`);
    }
    for (const id of req.objectIds) {
      if (status === "PAUSE") {
        if (!x.state.paused.includes(id)) x.state.paused.push(id);
        continue;
      }
      if (status === "RESUME") {
        x.state.paused = x.state.paused.filter((p) => p !== id);
        continue;
      }
      const inst = x.state.instances[id];
      if (status === "TRY_CANCEL" || status === "CANCEL") await cancelInstance(ctx, uow, x, inst);
      else if (status === "MARK_FINISHED") {
        if (!isFinal(inst.status)) await cancelInstance(ctx, uow, x, inst);
        inst.status = "FINISHED";
        inst.errorMessage = undefined;
        inst.actualEnd = x.nowMs;
      } else if (isFinal(inst.status)) {
        // RERUN: the instance waits again and gets a new attempt once its dependencies allow.
        inst.status = "WAITING_ON_DEPENDENCIES";
        inst.rerunAt = inst.attempts;
        inst.errorMessage = undefined;
        inst.actualEnd = undefined;
      }
    }
    await advance(ctx, uow, x);
    await x.flush(uow);
  });
  return {};
}
