// Definition operations: PutPipelineDefinition and ValidatePipelineDefinition (errors and warnings
// per object, in AWS's wording), GetPipelineDefinition (latest or active), EvaluateExpression.
import type * as pb from "../../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { datapipeline as dpf } from "../../faults.ts";
import { fatalDefinitionMessage, validateDefinition, type DefinitionValidation } from "../definition/validate.ts";
import { evaluateExpression, ExpressionError } from "../expressions.ts";
import type { Dp } from "../engine.ts";
import { exprContext, findObject, type Res } from "../present.ts";
import { PipelineTx, type StoredDefinition } from "../scheduler.ts";
import { openPipeline, readPipeline } from "./pipelines.ts";

/** A definition of a request as stored (absent members as empty strings: validation reports them). */
function storedOf(req: { pipelineObjects: pb.PutPipelineDefinitionRequest["pipelineObjects"]; parameterObjects: pb.PutPipelineDefinitionRequest["parameterObjects"]; parameterValues: pb.PutPipelineDefinitionRequest["parameterValues"] }, version: number): StoredDefinition {
  return {
    objects: req.pipelineObjects.map((o) => ({
      id: o.id ?? "",
      name: o.name ?? "",
      fields: o.fields.map((f) => ({ key: f.key ?? "", ...(f.stringValue !== undefined ? { stringValue: f.stringValue } : {}), ...(f.refValue !== undefined ? { refValue: f.refValue } : {}) })),
    })),
    parameterObjects: req.parameterObjects.map((p) => ({ id: p.id ?? "", attributes: p.attributes.map((a) => ({ key: a.key ?? "", stringValue: a.stringValue ?? "" })) })),
    parameterValues: req.parameterValues.map((v) => ({ id: v.id ?? "", stringValue: v.stringValue ?? "" })),
    version,
  };
}

/** The validation part of a Put or Validate answer. */
function answer(v: DefinitionValidation): { errored: boolean; validationErrors: DefinitionValidation["errors"]; validationWarnings: DefinitionValidation["warnings"] } {
  return { errored: v.errors.length > 0, validationErrors: v.errors, validationWarnings: v.warnings };
}

/**
 * PutPipelineDefinition: a definition without errors is saved as the pipeline's latest version
 * (warnings come back); one with errors is not saved and `errored` is true; one with FATAL errors
 * (objects without id or name, empty fields, duplicate ids, too many objects) is refused with
 * InvalidRequestException, as AWS refuses it, and so is any definition for a FINISHED pipeline.
 */
export async function putPipelineDefinition(ctx: Dp, req: pb.PutPipelineDefinitionRequest): Promise<Res<typeof pb.PutPipelineDefinitionResponseSchema>> {
  return ctx.tx(async (uow) => {
    const x = await openPipeline(ctx, uow, req.pipelineId!);
    if (x.state.pipelineState === "FINISHED") throw dpf.invalidRequest(`Pipeline ${x.row.id} is FINISHED; its definition cannot change.`);
    const def = storedOf(req, x.state.version + 1);
    const v = validateDefinition(def.objects, def.parameterObjects, def.parameterValues);
    if (v.fatal) throw dpf.invalidRequest(fatalDefinitionMessage(v.errors));
    if (v.errors.length === 0) {
      x.state.version = def.version;
      x.row.latest = JSON.stringify(def);
      x.rowChanged = true;
      await x.flush(uow);
    }
    return answer(v);
  });
}

/** ValidatePipelineDefinition: the errors and warnings PutPipelineDefinition would answer; nothing is saved. */
export async function validatePipelineDefinition(ctx: Dp, req: pb.ValidatePipelineDefinitionRequest): Promise<Res<typeof pb.ValidatePipelineDefinitionResponseSchema>> {
  await ctx.db.tx((sql) => readPipeline(ctx, sql, req.pipelineId!));
  const def = storedOf(req, 0);
  return answer(validateDefinition(def.objects, def.parameterObjects, def.parameterValues));
}

/** GetPipelineDefinition: version `latest` (the default) or `active`; empty when that version does not exist yet. */
export async function getPipelineDefinition(ctx: Dp, req: pb.GetPipelineDefinitionRequest): Promise<Res<typeof pb.GetPipelineDefinitionResponseSchema>> {
  const version = req.version ?? "latest";
  if (version !== "latest" && version !== "active") throw dpf.invalidRequest(`version must be 'latest' or 'active', not '${version}'.`);
  const row = await ctx.db.tx((sql) => readPipeline(ctx, sql, req.pipelineId!));
  const text = version === "active" ? row.active : row.latest;
  if (text === null) return { pipelineObjects: [], parameterObjects: [], parameterValues: [] };
  const def = JSON.parse(text) as StoredDefinition;
  return { pipelineObjects: def.objects, parameterObjects: def.parameterObjects, parameterValues: def.parameterValues };
}

/**
 * EvaluateExpression: `#{…}` expressions of a string evaluated against an object of the pipeline
 * (a component of the active definition, else of the latest; an instance; an attempt).
 */
export async function evaluateExpressionOp(ctx: Dp, req: pb.EvaluateExpressionRequest): Promise<Res<typeof pb.EvaluateExpressionResponseSchema>> {
  const { row, x, model, def } = await ctx.db.tx(async (sql) => {
    const row = await readPipeline(ctx, sql, req.pipelineId!);
    const text = row.active ?? row.latest;
    const def = text === null ? undefined : (JSON.parse(text) as StoredDefinition);
    const model = def ? ctx.modelOf(row.id, def) : undefined;
    const x = new PipelineTx(row, ctx.clock.now(), model);
    // One object is asked for: an instance by id, or an attempt by id (with its instance).
    await x.loadInstances(sql, [req.objectId!, req.objectId!.replace(/_Attempt=\d+$/, "")]);
    const inst = x.state.instances[req.objectId!.replace(/_Attempt=\d+$/, "")];
    if (inst && req.objectId !== inst.id) await x.loadAttempts(sql, [req.objectId!]);
    return { row, x, model, def };
  });
  const obj = findObject(x, model, req.objectId!, def?.version ?? 0);
  if (!obj) throw dpf.invalidRequest(`No object with id '${req.objectId}' exists in pipeline ${row.id}.`);
  try {
    return { evaluatedExpression: evaluateExpression(req.expression!, { ...exprContext(model), object: obj.expr }) };
  } catch (e) {
    if (e instanceof ExpressionError) throw e.toFault();
    throw e;
  }
}
