// A pipeline definition as the API carries it (PipelineObject, Field, ParameterObject,
// ParameterValue) and the model the scheduler reads: each object's effective fields after
// `parent` and `Default` inheritance, with parameter references substituted.

import type { ExprFieldValue, ExprObject } from "../expressions.ts";
import { scheduleSpec, type ScheduleSpec, type ScheduleType } from "../schedule.ts";

/** A Field of the API: a key with either a string value or a reference to another object's id (never both). */
export interface Field {
  readonly key: string;
  readonly stringValue?: string;
  readonly refValue?: string;
}

/** A PipelineObject of the API: id, name and its fields (a key may repeat for a multi-valued field). */
export interface PipelineObject {
  readonly id: string;
  readonly name: string;
  readonly fields: readonly Field[];
}

/** A ParameterAttribute of the API (`type`, `optional`, `allowedValues`, `isArray`, `default`, `description`, `watermark`, …). */
export interface ParameterAttribute {
  readonly key: string;
  readonly stringValue: string;
}

/** A ParameterObject of the API: a parameter's id (`myName`, or `*myName` for a masked one) and attributes. */
export interface ParameterObject {
  readonly id: string;
  readonly attributes: readonly ParameterAttribute[];
}

/** A ParameterValue of the API; an array parameter has one entry per element, all with its id. */
export interface ParameterValue {
  readonly id: string;
  readonly stringValue: string;
}

/** A ValidationError of the API: the object's id and the messages about it. */
export interface ValidationError {
  readonly id: string;
  readonly errors: string[];
}

/** A ValidationWarning of the API: the object's id and the messages about it. */
export interface ValidationWarning {
  readonly id: string;
  readonly warnings: string[];
}

/** One value of a field: a string or a reference to another object's id. */
export type FieldValue = { readonly kind: "string"; readonly value: string } | { readonly kind: "ref"; readonly value: string };

/** The id of the object whose fields every object without an explicit `parent` inherits. */
export const defaultObjectId = "Default";

/** An object of the model: its own fields and its effective ones (inherited and with parameters substituted). */
export interface ModelObject {
  readonly id: string;
  readonly name: string;
  /** The `type` field, never inherited; undefined for Default and abstract parent objects. */
  readonly type: string | undefined;
  /** Fields as the definition wrote them on this object, grouped by key in order. */
  readonly own: ReadonlyMap<string, readonly FieldValue[]>;
  /** Own fields, then those of each `parent` (or of Default when there is none), the nearest winning per key; parameters substituted. */
  readonly fields: ReadonlyMap<string, readonly FieldValue[]>;
}

/** A validated definition as the scheduler reads it. */
export interface PipelineModel {
  /** Every object by id, in definition order. */
  readonly objects: ReadonlyMap<string, ModelObject>;
  /** Parameter values by id (the given values, else the default); array parameters have several. */
  readonly parameters: ReadonlyMap<string, readonly string[]>;
  /** The pipeline's schedule type, from the Default object ("timeseries" when Default sets none). */
  readonly scheduleType: ScheduleType;
}

/** The first string value of a field, if it has one. */
export function stringField(fields: ReadonlyMap<string, readonly FieldValue[]>, key: string): string | undefined {
  const v = fields.get(key)?.[0];
  return v?.kind === "string" ? v.value : undefined;
}

/** The reference values of a field (ids), empty when it has none. */
export function refFields(fields: ReadonlyMap<string, readonly FieldValue[]>, key: string): string[] {
  return (fields.get(key) ?? []).filter((v) => v.kind === "ref").map((v) => v.value);
}

/** An object's fields grouped by key in order; a Field with neither or both values is skipped (validation reports it). */
export function groupFields(o: PipelineObject): Map<string, FieldValue[]> {
  const m = new Map<string, FieldValue[]>();
  for (const f of o.fields) {
    const hasS = f.stringValue !== undefined;
    const hasR = f.refValue !== undefined;
    if (hasS === hasR) continue;
    const v: FieldValue = hasS ? { kind: "string", value: f.stringValue as string } : { kind: "ref", value: f.refValue as string };
    const list = m.get(f.key);
    if (list) list.push(v);
    else m.set(f.key, [v]);
  }
  return m;
}

/** The ids an object inherits from, nearest first: its `parent` references, else Default (none for Default itself). */
export function parentsOf(id: string, own: ReadonlyMap<string, readonly FieldValue[]>, hasDefault: boolean): string[] {
  const refs = refFields(own, "parent");
  if (refs.length > 0) return refs;
  return hasDefault && id !== defaultObjectId ? [defaultObjectId] : [];
}

/**
 * A string value with every `#{myParam}` that names a parameter replaced by its value. A value that
 * names an array parameter becomes one value per element; other expressions are left for runtime.
 */
export function substituteParameters(s: string, params: ReadonlyMap<string, readonly string[]>): string[] {
  let out = [s];
  const seen = new Set<string>();
  for (const m of s.matchAll(/#\{\s*(\*?my[A-Za-z0-9_]*)\s*\}/g)) {
    const vals = params.get(m[1]);
    if (seen.has(m[0]) || vals === undefined || vals.length === 0) continue;
    seen.add(m[0]);
    out = out.flatMap((cur) => vals.map((v) => cur.split(m[0]).join(v)));
  }
  return out;
}

/**
 * Builds the model: effective fields by inheritance (parent chains are followed once; a cycle
 * stops where it closes) and parameter values substituted into string fields.
 */
export function buildModel(objects: readonly PipelineObject[], parameters: ReadonlyMap<string, readonly string[]>, scheduleType: ScheduleType): PipelineModel {
  const own = new Map<string, { o: PipelineObject; fields: Map<string, FieldValue[]> }>();
  for (const o of objects) if (!own.has(o.id)) own.set(o.id, { o, fields: groupFields(o) });
  const hasDefault = own.has(defaultObjectId);
  const effective = new Map<string, Map<string, FieldValue[]>>();
  const resolve = (id: string, seen: Set<string>): Map<string, FieldValue[]> => {
    const done = effective.get(id);
    if (done) return done;
    const entry = own.get(id);
    if (!entry || seen.has(id)) return new Map();
    seen.add(id);
    const m = new Map(entry.fields);
    for (const p of parentsOf(id, entry.fields, hasDefault)) {
      for (const [k, v] of resolve(p, seen)) if (!m.has(k) && k !== "type") m.set(k, v);
    }
    seen.delete(id);
    effective.set(id, m);
    return m;
  };
  const result = new Map<string, ModelObject>();
  for (const [id, { o, fields }] of own) {
    const eff = new Map<string, FieldValue[]>();
    for (const [k, vals] of resolve(id, new Set())) {
      eff.set(
        k,
        vals.flatMap((v): FieldValue[] => (v.kind === "string" ? substituteParameters(v.value, parameters).map((s) => ({ kind: "string" as const, value: s })) : [v])),
      );
    }
    result.set(id, { id, name: o.name, type: stringField(fields, "type"), own: fields, fields: eff });
  }
  return { objects: result, parameters, scheduleType };
}

/**
 * An object of the model as expressions see it, with runtime fields added (`@scheduledStartTime`
 * and `@scheduledEndTime` as instants, `@pipelineId`, …); `@id` is the object's id unless given.
 */
export function exprObject(o: ModelObject, runtime: Readonly<Record<string, string | number>> = {}): ExprObject {
  const fields = new Map<string, readonly ExprFieldValue[]>(o.fields);
  for (const [k, v] of Object.entries(runtime)) fields.set(k, [typeof v === "number" ? { kind: "dateTime", value: v } : { kind: "string", value: v }]);
  return { id: o.id, name: o.name, fields };
}

/**
 * The schedule an object's instances follow: the Schedule object its effective `schedule` field
 * references. Undefined for an on-demand pipeline, an object without a schedule, or a Schedule
 * object that does not validate (validateDefinition reports it).
 */
export function scheduleOf(model: PipelineModel, id: string): ScheduleSpec | undefined {
  if (model.scheduleType === "ondemand") return undefined;
  const o = model.objects.get(id);
  const ref = o === undefined ? undefined : refFields(o.fields, "schedule")[0];
  const s = ref === undefined ? undefined : model.objects.get(ref);
  if (s === undefined || s.type !== "Schedule") return undefined;
  const spec = scheduleSpec({
    period: stringField(s.fields, "period"),
    startAt: stringField(s.fields, "startAt"),
    startDateTime: stringField(s.fields, "startDateTime"),
    endDateTime: stringField(s.fields, "endDateTime"),
    occurrences: stringField(s.fields, "occurrences"),
  });
  return "errors" in spec ? undefined : spec;
}

/**
 * The worker group whose task runners get an object's tasks: its effective `workerGroup`, else
 * (for a precondition) that of the first object naming it in `precondition` that has one.
 * `runsOn` is never used: taskgate provisions no resources.
 */
export function workerGroupOf(model: PipelineModel, id: string): string | undefined {
  const o = model.objects.get(id);
  if (o === undefined) return undefined;
  const own = stringField(o.fields, "workerGroup");
  if (own !== undefined) return own;
  for (const user of model.objects.values()) {
    if (!refFields(user.fields, "precondition").includes(id)) continue;
    const wg = stringField(user.fields, "workerGroup");
    if (wg !== undefined) return wg;
  }
  return undefined;
}
