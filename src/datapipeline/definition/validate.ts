// Validation of a pipeline definition (PutPipelineDefinition, ValidatePipelineDefinition): the
// errors and warnings AWS Data Pipeline reports per object id, and the model of a definition
// without errors.
//
// Messages take the form of the one AWS example on record ("INVALID_FIELD_VALUE:  'startDateTime'
// value must be a literal datetime value.", ValidatePipelineDefinition in AWS's API reference): a
// kind in capitals, a colon, two spaces, then the text quoting field names.

import { hasExpression, referencedNames, splitTemplate, ExpressionError } from "../expressions.ts";
import { firstActivation, isPeriodError, parseDateTime, parsePeriod, scheduleSpec, type ScheduleType } from "../schedule.ts";
import {
  buildModel,
  defaultObjectId,
  groupFields,
  refFields,
  stringField,
  type FieldValue,
  type ParameterObject,
  type ParameterValue,
  type PipelineModel,
  type PipelineObject,
  type ValidationError,
  type ValidationWarning,
} from "./objects.ts";
import { awsProvisionedTypes, commonFieldKinds, isUserDefinedField, objectTypes, universalFields, type Category, type FieldKind } from "./types.ts";

/** Limits a definition is checked against (AWS's defaults: 100 objects, 50 fields per object, 50 parameters). */
export interface DefinitionLimits {
  readonly maxObjects: number;
  readonly maxFieldsPerObject: number;
  readonly maxParameters: number;
}

/** AWS's limits: 100 objects per pipeline (adjustable there), 50 fields per object, 50 parameters. */
export const defaultLimits: DefinitionLimits = { maxObjects: 100, maxFieldsPerObject: 50, maxParameters: 50 };

/** The outcome of validating a definition. */
export interface DefinitionValidation {
  /** Errors by object (or parameter) id, in definition order; any error blocks activation. */
  readonly errors: ValidationError[];
  /** Warnings by object id; they do not block activation. */
  readonly warnings: ValidationWarning[];
  /**
   * Whether an error is one AWS refuses to save the definition for (PutPipelineDefinition answers
   * InvalidRequestException, see fatalDefinitionMessage): an object without id or name, a string or
   * reference field that is empty, a field with both or neither value, a duplicate id, or too many objects.
   */
  readonly fatal: boolean;
  /** The model, present only when there are no errors. */
  readonly model?: PipelineModel;
}

/**
 * The InvalidRequestException message PutPipelineDefinition answers a definition with fatal errors
 * with, in AWS's wording ("Pipeline definition has errors: Could not save the pipeline definition
 * due to FATAL errors: [...] Please call Validate to validate your pipeline"); where AWS prints Java
 * object names in the brackets, this names the objects with errors.
 */
export function fatalDefinitionMessage(errors: readonly ValidationError[]): string {
  return `Pipeline definition has errors: Could not save the pipeline definition due to FATAL errors: [${errors.map((e) => e.id).join(", ")}] Please call Validate to validate your pipeline`;
}

/** Attribute keys a parameter object may have. */
export const parameterAttributeKeys: readonly string[] = ["type", "optional", "allowedValues", "isArray", "default", "description", "watermark", "helpText", "helpLink"];

/** Parameter types AWS defines; String when a parameter names none. */
export const parameterTypes: readonly string[] = ["String", "Integer", "Double", "AWS::S3::ObjectKey"];

/** Values the enumeration fields checked here accept (compared case-insensitively, as AWS's examples write "CRON" and "cron"). */
const enumValues: Record<string, readonly string[]> = {
  scheduleType: ["cron", "ondemand", "timeseries"],
  failureAndRerunMode: ["cascade", "none"],
};

/** The categories a reference field must point at, when the target has a type. */
const refTargets: Record<string, readonly Category[]> = {
  schedule: ["schedule"],
  runsOn: ["resource"],
  precondition: ["precondition", "systemPrecondition"],
  onFail: ["action"],
  onSuccess: ["action"],
  onLateAction: ["action"],
  input: ["dataNode"],
  output: ["dataNode"],
  dataFormat: ["dataFormat"],
  database: ["database"],
  dependsOn: ["activity", "dataNode"],
  httpProxy: ["resource"],
};

const categoryName: Record<Category, string> = {
  activity: "an activity",
  dataNode: "a data node",
  resource: "a resource",
  precondition: "a precondition",
  systemPrecondition: "a precondition",
  action: "an action",
  utility: "a utility object",
  database: "a database",
  dataFormat: "a data format",
  schedule: "a Schedule",
};

class Report {
  readonly errors = new Map<string, string[]>();
  readonly warnings = new Map<string, string[]>();
  fatal = false;

  error(id: string, msg: string, fatal = false): void {
    const l = this.errors.get(id);
    if (l) {
      if (!l.includes(msg)) l.push(msg);
    } else this.errors.set(id, [msg]);
    if (fatal) this.fatal = true;
  }

  warn(id: string, msg: string): void {
    const l = this.warnings.get(id);
    if (l) {
      if (!l.includes(msg)) l.push(msg);
    } else this.warnings.set(id, [msg]);
  }
}

const q = (s: string): string => `'${s}'`;

function kindProblem(key: string, kind: FieldKind, v: FieldValue): string | undefined {
  if (kind === "ref") return v.kind === "ref" ? undefined : `INVALID_FIELD_VALUE:  ${q(key)} value must be a reference to another object.`;
  if (v.kind === "ref") return `INVALID_FIELD_VALUE:  ${q(key)} value must be a string, not a reference.`;
  const s = v.value;
  if (hasExpression(s)) return undefined;
  switch (kind) {
    case "period": {
      if (key === "period") return undefined; // a Schedule's period: checked with the schedule (15-minute minimum, ONDEMAND_PERIOD)
      const p = parsePeriod(s, 1);
      return isPeriodError(p) ? `INVALID_FIELD_VALUE:  ${q(key)} value ${p.error}` : undefined;
    }
    case "datetime":
      return parseDateTime(s) === undefined ? `INVALID_FIELD_VALUE:  ${q(key)} value must be a literal datetime value.` : undefined;
    case "integer":
      return /^-?\d+$/.test(s.trim()) ? undefined : `INVALID_FIELD_VALUE:  ${q(key)} value '${s}' must be an integer.`;
    case "double":
      return /^-?(\d+\.?\d*|\.\d+)$/.test(s.trim()) ? undefined : `INVALID_FIELD_VALUE:  ${q(key)} value '${s}' must be a number.`;
    case "boolean":
      return /^(true|false)$/i.test(s) ? undefined : `INVALID_FIELD_VALUE:  ${q(key)} value '${s}' must be true or false.`;
    case "enum": {
      const allowed = enumValues[key];
      if (allowed && !allowed.includes(s.toLowerCase())) return `INVALID_FIELD_VALUE:  ${q(key)} value '${s}' must be one of: ${allowed.join(", ")}.`;
      return undefined;
    }
    default:
      return undefined;
  }
}

interface ParamCheck {
  /** Values by id of declared parameters that have one (given or default). */
  readonly values: Map<string, string[]>;
  /** Ids of every declared parameter. */
  readonly declared: Set<string>;
}

function checkParameters(r: Report, objs: readonly ParameterObject[], vals: readonly ParameterValue[], limits: DefinitionLimits): ParamCheck {
  const declared = new Set<string>();
  const values = new Map<string, string[]>();
  const given = new Map<string, string[]>();
  for (const v of vals) given.set(v.id, [...(given.get(v.id) ?? []), v.stringValue]);
  if (objs.length > limits.maxParameters && objs.length > 0)
    r.error(objs[limits.maxParameters].id, `LIMIT_EXCEEDED:  The pipeline defines ${objs.length} parameters; the limit is ${limits.maxParameters}.`);
  for (const p of objs) {
    if (declared.has(p.id)) {
      r.error(p.id, `INVALID_PARAMETER:  Parameter ${q(p.id)} is defined more than once.`);
      continue;
    }
    declared.add(p.id);
    if (!/^\*?my[A-Za-z0-9_]*$/.test(p.id))
      r.error(p.id, `INVALID_PARAMETER:  Parameter id ${q(p.id)} must start with 'my' (or '*my' for a masked value) and contain only letters, digits and underscores.`);
    const attr = new Map<string, string[]>();
    for (const a of p.attributes) {
      if (!parameterAttributeKeys.includes(a.key)) r.error(p.id, `INVALID_PARAMETER:  ${q(a.key)} is not a parameter attribute; valid attributes are ${parameterAttributeKeys.join(", ")}.`);
      attr.set(a.key, [...(attr.get(a.key) ?? []), a.stringValue]);
    }
    const one = (k: string): string | undefined => attr.get(k)?.[0];
    const type = one("type") ?? "String";
    if (!parameterTypes.includes(type)) r.error(p.id, `INVALID_PARAMETER:  'type' value '${type}' must be one of: ${parameterTypes.join(", ")}.`);
    for (const k of ["optional", "isArray"]) {
      const b = one(k);
      if (b !== undefined && !/^(true|false)$/i.test(b)) r.error(p.id, `INVALID_PARAMETER:  ${q(k)} value '${b}' must be true or false.`);
    }
    const optional = one("optional")?.toLowerCase() === "true";
    const isArray = one("isArray")?.toLowerCase() === "true";
    const allowed = attr.get("allowedValues") ?? [];
    const defaults = attr.get("default") ?? [];
    const check = (v: string, what: string): void => {
      if (type === "Integer" && !/^-?\d+$/.test(v)) r.error(p.id, `INVALID_PARAMETER:  ${what} '${v}' of parameter ${q(p.id)} must be an Integer.`);
      if (type === "Double" && !/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) r.error(p.id, `INVALID_PARAMETER:  ${what} '${v}' of parameter ${q(p.id)} must be a Double.`);
      if (type === "AWS::S3::ObjectKey" && !/^s3n?:\/\/./.test(v)) r.error(p.id, `INVALID_PARAMETER:  ${what} '${v}' of parameter ${q(p.id)} must be an Amazon S3 location (s3://bucket/key).`);
      if (allowed.length > 0 && !allowed.includes(v)) r.error(p.id, `INVALID_PARAMETER:  ${what} '${v}' of parameter ${q(p.id)} is not one of its allowedValues: ${allowed.join(", ")}.`);
    };
    defaults.forEach((d) => check(d, "Default value"));
    const gv = given.get(p.id);
    gv?.forEach((v) => check(v, "Value"));
    const chosen = gv ?? defaults;
    if (!isArray && chosen.length > 1) r.error(p.id, `INVALID_PARAMETER:  Parameter ${q(p.id)} is not an array (isArray is false) but has ${chosen.length} values.`);
    if (chosen.length > 0) values.set(p.id, chosen);
    else if (!optional) r.error(p.id, `MISSING_PARAMETER_VALUE:  Parameter ${q(p.id)} is required but has no value and no default.`);
  }
  for (const id of given.keys()) if (!declared.has(id)) r.warn(id, `UNKNOWN_PARAMETER:  A value is given for ${q(id)}, but no parameter object defines it; the value is not used.`);
  return { values, declared };
}

/** Ids on a cycle of the graph `edges` (each id to the ids it points at). */
function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 1 | 2>();
  const found: string[][] = [];
  const stack: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 1);
    stack.push(id);
    for (const n of edges.get(id) ?? []) {
      if (!edges.has(n)) continue;
      const s = state.get(n);
      if (s === 1) found.push([...stack.slice(stack.indexOf(n)), n]);
      else if (s === undefined) visit(n);
    }
    stack.pop();
    state.set(id, 2);
  };
  for (const id of edges.keys()) if (!state.has(id)) visit(id);
  return found;
}

/**
 * Validates a definition as PutPipelineDefinition and ValidatePipelineDefinition do: object ids
 * and names, field shapes, object types and the fields each type requires or accepts, references,
 * `parent` and `dependsOn` cycles, Schedule objects, schedule types, parameter objects and values,
 * and the `#{…}` expressions of string fields. Resources only AWS provisions (Ec2Resource,
 * EmrCluster) are reported: taskgate hands tasks to task runners by `workerGroup` only.
 */
export function validateDefinition(
  objects: readonly PipelineObject[],
  parameterObjects: readonly ParameterObject[] = [],
  parameterValues: readonly ParameterValue[] = [],
  limits: DefinitionLimits = defaultLimits,
): DefinitionValidation {
  const r = new Report();

  // Ids, names, field shapes (the FATAL kinds first).
  if (objects.length > limits.maxObjects)
    r.error(objects[limits.maxObjects].id, `LIMIT_EXCEEDED:  The pipeline has ${objects.length} objects; the limit is ${limits.maxObjects}.`, true);
  const byId = new Map<string, { o: PipelineObject; own: Map<string, FieldValue[]> }>();
  for (const o of objects) {
    if (o.id === "") r.error(o.id, "MISSING_REQUIRED_FIELD:  An object is missing its 'id'.", true);
    if (o.name === "") r.error(o.id, "MISSING_REQUIRED_FIELD:  Object is missing its 'name'.", true);
    if (byId.has(o.id)) {
      r.error(o.id, `DUPLICATE_ID:  Object id ${q(o.id)} is used by more than one object.`, true);
      continue;
    }
    if (o.id.startsWith("@")) r.error(o.id, `INVALID_FIELD_VALUE:  Object id ${q(o.id)} must not start with '@'; such ids are reserved for the objects the service creates.`);
    if (o.fields.length > limits.maxFieldsPerObject)
      r.error(o.id, `LIMIT_EXCEEDED:  Object has ${o.fields.length} fields; the limit is ${limits.maxFieldsPerObject}.`);
    for (const f of o.fields) {
      const hasS = f.stringValue !== undefined;
      const hasR = f.refValue !== undefined;
      if (hasS && hasR) r.error(o.id, `INVALID_FIELD_VALUE:  ${q(f.key)} must have either a stringValue or a refValue, not both.`, true);
      else if (!hasS && !hasR) r.error(o.id, `INVALID_FIELD_VALUE:  ${q(f.key)} has no value; a string or reference field must not be empty.`, true);
      else if ((f.stringValue ?? f.refValue) === "") r.error(o.id, `INVALID_FIELD_VALUE:  ${q(f.key)} value is empty; a string or reference field must not be empty.`, true);
      if (f.key.startsWith("@")) r.error(o.id, `INVALID_FIELD_NAME:  ${q(f.key)} is a runtime field set by the service; a definition cannot set it.`);
    }
    byId.set(o.id, { o, own: groupFields(o) });
  }

  const params = checkParameters(r, parameterObjects, parameterValues, limits);

  // Parent cycles, then the effective fields.
  const parentEdges = new Map<string, string[]>();
  for (const [id, { own }] of byId) parentEdges.set(id, refFields(own, "parent"));
  for (const c of cycles(parentEdges)) for (const id of new Set(c)) r.error(id, `INVALID_FIELD_VALUE:  'parent' references form a cycle: ${c.join(" -> ")}.`);

  const dflt = byId.get(defaultObjectId)?.own;
  const scheduleTypeRaw = dflt ? stringField(dflt, "scheduleType") : undefined;
  const pipelineScheduleType: ScheduleType =
    scheduleTypeRaw !== undefined && ["cron", "ondemand", "timeseries"].includes(scheduleTypeRaw.toLowerCase())
      ? (scheduleTypeRaw.toLowerCase() as ScheduleType)
      : "timeseries";
  const model = buildModel(objects, params.values, pipelineScheduleType);
  const onDemand = pipelineScheduleType === "ondemand";

  // Which objects reference each object through `precondition` (user-managed preconditions run on their users' worker groups).
  const preconditionUsers = new Map<string, string[]>();
  for (const m of model.objects.values())
    for (const t of refFields(m.fields, "precondition")) preconditionUsers.set(t, [...(preconditionUsers.get(t) ?? []), m.id]);

  const dependsEdges = new Map<string, string[]>();
  const usedAsParent = new Set<string>([...parentEdges.values()].flat());

  for (const m of model.objects.values()) {
    const id = m.id;
    const spec = m.type === undefined ? undefined : objectTypes[m.type];
    if (m.type !== undefined && !spec)
      r.error(id, `INVALID_OBJECT_TYPE:  'type' value ${q(m.type)} is not a supported object type.`);
    if (m.type === undefined && id !== defaultObjectId && !usedAsParent.has(id))
      r.warn(id, "MISSING_TYPE:  Object has no 'type' and no object names it as its 'parent'; it has no effect.");

    // Own fields: names and kinds.
    for (const [key, vals] of m.own) {
      if (key.startsWith("@")) continue;
      let kind: FieldKind | undefined = universalFields[key] ?? (spec ? spec.fields[key] : commonFieldKinds[key]);
      if (kind === undefined && spec && commonFieldKinds[key] === undefined && !isUserDefinedField(key))
        r.warn(id, `UNKNOWN_FIELD:  ${q(key)} is not a field of type ${m.type}; it is ignored. User-defined fields start with 'my' followed by a capital letter or '_'.`);
      if (kind === undefined && spec && commonFieldKinds[key] !== undefined) kind = commonFieldKinds[key];
      if (kind === undefined) continue;
      for (const v of vals) {
        const p = kindProblem(key, kind, v);
        if (p) r.error(id, p);
      }
    }

    // References.
    for (const [key, vals] of m.own) {
      for (const v of vals) {
        if (v.kind !== "ref") continue;
        const target = model.objects.get(v.value);
        if (!target) {
          r.error(id, `INVALID_REFERENCE:  Object references invalid id: ${q(v.value)} (field ${q(key)}).`);
          continue;
        }
        const want = refTargets[key];
        const tspec = target.type === undefined ? undefined : objectTypes[target.type];
        if (want && tspec && !want.includes(tspec.category))
          r.error(id, `INVALID_REFERENCE:  ${q(key)} must reference ${want.map((c) => categoryName[c]).join(" or ")} object; ${q(target.id)} is a ${target.type}.`);
      }
    }
    dependsEdges.set(id, refFields(m.fields, "dependsOn"));

    // Schedule types.
    const ownType = stringField(m.own, "scheduleType");
    if (ownType !== undefined && ownType.toLowerCase() === "ondemand" && id !== defaultObjectId)
      r.error(id, "INVALID_FIELD_VALUE:  'scheduleType' ondemand must be set on the Default object only.");
    if (onDemand && ownType !== undefined && id !== defaultObjectId && ownType.toLowerCase() !== "ondemand")
      r.error(id, `INVALID_FIELD_VALUE:  'scheduleType' ${q(ownType)} conflicts with the pipeline's ondemand schedule type; ondemand must be the only scheduleType in the pipeline.`);

    // Expressions in own string fields.
    for (const [key, vals] of m.own) {
      for (const v of vals) {
        if (v.kind !== "string" || !hasExpression(v.value) || ["id", "name", "type"].includes(key)) continue;
        let names: string[] = [];
        try {
          names = splitTemplate(v.value).flatMap((p) => ("expr" in p ? referencedNames(p.expr) : []));
        } catch (e) {
          if (!(e instanceof ExpressionError)) throw e;
          r.error(id, `INVALID_FIELD_VALUE:  ${q(key)} value has an invalid expression: ${e.message}`);
          continue;
        }
        for (const n of names) {
          if (!/^\*?my/.test(n)) continue;
          if (params.declared.has(n)) {
            if (!params.values.has(n)) r.error(id, `MISSING_PARAMETER_VALUE:  ${q(key)} references parameter ${q(n)}, which has no value and no default.`);
          } else if (!m.fields.has(n)) r.error(id, `INVALID_FIELD_VALUE:  ${q(key)} references ${q(n)}, which is neither a parameter nor a field of the object.`);
        }
      }
    }

    if (!spec) continue;

    // Required fields and groups (effective: inherited fields count).
    for (const f of spec.required) if (!m.fields.has(f)) r.error(id, `MISSING_REQUIRED_FIELD:  Missing required field: ${q(f)}`);
    for (const g of spec.requiredGroups) {
      if (g.includes("workerGroup")) continue;
      if (!g.some((f) => m.fields.has(f))) r.error(id, `MISSING_REQUIRED_FIELD:  Missing required field: one of ${g.map(q).join(", ")}`);
    }
    if (spec.scheduled && !onDemand && !m.fields.has("schedule") && spec.category !== "resource")
      r.error(id, "MISSING_REQUIRED_FIELD:  Missing required field: 'schedule'");

    // Routing: taskgate hands work to task runners by worker group.
    const wg = stringField(m.fields, "workerGroup");
    const runsOn = refFields(m.fields, "runsOn");
    const needsRunner = spec.category === "activity" || (spec.category === "precondition" && spec.fields.workerGroup !== undefined);
    if (needsRunner && wg === undefined && runsOn.length === 0) {
      const users = preconditionUsers.get(id) ?? [];
      const viaUser = spec.category === "precondition" && users.some((u) => {
        const um = model.objects.get(u);
        return um !== undefined && (stringField(um.fields, "workerGroup") !== undefined || refFields(um.fields, "runsOn").length > 0);
      });
      if (!viaUser) r.error(id, "MISSING_REQUIRED_FIELD:  Missing required field: one of 'runsOn', 'workerGroup'");
    }
    if (needsRunner) {
      for (const ro of runsOn) {
        const t = model.objects.get(ro);
        if (!t?.type || !awsProvisionedTypes.includes(t.type)) continue;
        if (wg === undefined)
          r.error(id, `UNSUPPORTED_RESOURCE:  'runsOn' references ${t.type} ${q(ro)}; taskgate does not provision ${t.type} resources. Name a 'workerGroup' on the object instead and run a task runner for that worker group.`);
        else
          r.warn(id, `UNSUPPORTED_RESOURCE:  'runsOn' references ${t.type} ${q(ro)}, which taskgate does not provision; the object's tasks go to workerGroup ${q(wg)} instead.`);
      }
    }
    if (m.type !== undefined && awsProvisionedTypes.includes(m.type))
      r.warn(id, `UNSUPPORTED_RESOURCE:  taskgate does not provision ${m.type} resources; activities that name this object in 'runsOn' should name a 'workerGroup' instead.`);

    // Actions: onLateAction runs only with lateAfterTimeout, which applies to scheduled pipelines
    // only; an object that already ended has nothing for Terminate to cancel.
    if (refFields(m.fields, "onLateAction").length > 0 && stringField(m.fields, "lateAfterTimeout") === undefined)
      r.warn(id, "MISSING_FIELD:  'onLateAction' needs 'lateAfterTimeout', the time after the scheduled start after which the object is late; without it the action never runs.");
    if (stringField(m.fields, "lateAfterTimeout") !== undefined && onDemand && spec.category !== undefined && ["activity", "dataNode"].includes(spec.category))
      r.warn(id, "INVALID_FIELD_VALUE:  'lateAfterTimeout' applies only when the scheduleType is not ondemand; it is ignored.");
    for (const key of ["onSuccess", "onFail"])
      for (const ref of refFields(m.fields, key))
        if (model.objects.get(ref)?.type === "Terminate") r.warn(id, `INVALID_FIELD_VALUE:  ${q(key)} references Terminate ${q(ref)}; Terminate applies to 'onLateAction' only and is ignored here.`);

    // Schedule objects.
    if (m.type === "Schedule") {
      const period = stringField(m.fields, "period");
      if (period === "ONDEMAND_PERIOD" || stringField(m.fields, "startAt") === "ONDEMAND_ACTIVATION_TIME") {
        if (!onDemand) r.error(id, "INVALID_FIELD_VALUE:  'period' ONDEMAND_PERIOD and 'startAt' ONDEMAND_ACTIVATION_TIME need the Default object's scheduleType to be ondemand.");
        continue;
      }
      if (onDemand) r.error(id, "INVALID_FIELD_VALUE:  An ondemand pipeline must not use a Schedule object; remove it or set the Default object's scheduleType to cron or timeseries.");
      const s = scheduleSpec({
        period,
        startAt: stringField(m.fields, "startAt"),
        startDateTime: stringField(m.fields, "startDateTime"),
        endDateTime: stringField(m.fields, "endDateTime"),
        occurrences: stringField(m.fields, "occurrences"),
      });
      if ("errors" in s) {
        for (const e of s.errors) r.error(id, e.startsWith("Missing") ? `MISSING_REQUIRED_FIELD:  ${e}` : `INVALID_FIELD_VALUE:  ${e}`);
      } else if (stringField(m.fields, "startAt") === firstActivation) {
        r.warn(id, "DEPRECATED_FIELD_VALUE:  'startAt' FIRST_ACTIVATION_DATE_TIME is deprecated; AWS recommends an on-demand pipeline instead.");
      }
    }
  }

  for (const c of cycles(dependsEdges)) for (const id of new Set(c)) r.error(id, `INVALID_FIELD_VALUE:  'dependsOn' references form a cycle: ${c.join(" -> ")}.`);

  const errors = [...r.errors].map(([id, errs]) => ({ id, errors: errs }));
  const warnings = [...r.warnings].map(([id, ws]) => ({ id, warnings: ws }));
  return { errors, warnings, fatal: r.fatal, ...(errors.length === 0 ? { model } : {}) };
}
