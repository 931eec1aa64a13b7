// The wire shapes of Data Pipeline objects: components as their definition wrote them plus their
// runtime fields, instances and attempts as the component's effective fields plus theirs
// (`@status`, `@scheduledStartTime`, `@componentParent`, …), pipeline descriptions, and the
// evaluation of `#{…}` expressions in them. Runtime DateTime fields print as AWS writes them
// ("2012-12-12T00:00:00", UTC).
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type * as pb from "../../gen/taskgate/datapipeline/v1/types_pb.ts";
import { exprObject, type FieldValue, type ModelObject, type PipelineModel } from "./definition/objects.ts";
import { evaluateExpression, hasExpression, verbatimFields, type ExprObject } from "./expressions.ts";
import { formatDateTime } from "./schedule.ts";
import type { Attempt, Instance, PipelineTx, RunState } from "./scheduler.ts";

/** The init shape of a response message, as operations return it. */
export type Res<S extends DescMessage> = MessageInitShape<S>;

/** A Field on the wire. */
export type WireField = MessageInitShape<typeof pb.FieldSchema>;

/** A PipelineObject on the wire. */
export type WireObject = { id: string; name: string; fields: WireField[] };

/** One object of a pipeline as DescribeObjects, QueryObjects and PollForTask see it. */
export interface RuntimeObject {
  id: string;
  name: string;
  sphere: "COMPONENT" | "INSTANCE" | "ATTEMPT";
  /** Fields to show, runtime fields first; string values may hold expressions. */
  fields: { key: string; value: FieldValue }[];
  /** The object expressions in its fields are evaluated against. */
  expr: ExprObject;
}

function str(key: string, value: string): { key: string; value: FieldValue } {
  return { key, value: { kind: "string", value } };
}
function ref(key: string, value: string): { key: string; value: FieldValue } {
  return { key, value: { kind: "ref", value } };
}

/** The status a component shows: PAUSED when paused, else the pipeline's. */
function componentStatus(s: RunState, id: string): string {
  if (s.paused.includes(id)) return "PAUSED";
  return s.pipelineState === "SCHEDULED" ? "SCHEDULED" : s.pipelineState === "PENDING" ? "PENDING" : s.pipelineState;
}

/** A component: its own fields as defined, then `@sphere`, `@status`, `@pipelineId`, `@version`. */
export function componentObject(x: PipelineTx, o: ModelObject, version: number): RuntimeObject {
  const fields: RuntimeObject["fields"] = [];
  for (const [key, vals] of o.own) for (const v of vals) fields.push({ key, value: v });
  fields.push(str("@sphere", "COMPONENT"), str("@status", componentStatus(x.state, o.id)), str("@pipelineId", x.row.id), str("@version", String(version)));
  return { id: o.id, name: o.name, sphere: "COMPONENT", fields, expr: exprObject(o, { "@pipelineId": x.row.id }) };
}

/** The runtime fields shared by an instance and its attempts. */
function periodFields(x: PipelineTx, inst: Instance): Record<string, string | number> {
  return { "@scheduledStartTime": inst.start, "@scheduledEndTime": inst.end, "@pipelineId": x.row.id };
}

/** The component's effective fields (without `parent`, which names the component instead). */
function inherited(o: ModelObject | undefined): { key: string; value: FieldValue }[] {
  const out: { key: string; value: FieldValue }[] = [];
  if (!o) return out;
  for (const [key, vals] of o.fields) if (key !== "parent") for (const v of vals) out.push({ key, value: v });
  return out;
}

/** Runtime fields with DateTime values, skipped when absent. */
function times(pairs: [string, number | undefined][]): { key: string; value: FieldValue }[] {
  return pairs.filter((p): p is [string, number] => p[1] !== undefined).map(([k, t]) => str(k, formatDateTime(t)));
}

/** An instance: `@sphere INSTANCE`, its status, period, attempts, and its component's fields. */
export function instanceObject(x: PipelineTx, inst: Instance): RuntimeObject {
  const o = x.model?.objects.get(inst.component);
  const fields: RuntimeObject["fields"] = [
    ref("@componentParent", inst.component),
    ref("parent", inst.component),
    str("@sphere", "INSTANCE"),
    str("@status", inst.status),
    str("@attemptCount", String(inst.attempts)),
    ...(inst.head ? [ref("@headAttempt", inst.head)] : []),
    ...times([
      ["@scheduledStartTime", inst.start],
      ["@scheduledEndTime", inst.end],
      ["@actualStartTime", inst.actualStart],
      ["@actualEndTime", inst.actualEnd],
    ]),
    ...(inst.errorMessage !== undefined ? [str("errorMessage", inst.errorMessage)] : []),
    ...(inst.cancellationReason !== undefined ? [str("cancellationReason", inst.cancellationReason)] : []),
    ...times([["@lateTime", inst.lateAt]]),
    ...(inst.alarms ?? []).map((a) => str("@snsAlarm", a)),
    str("@pipelineId", x.row.id),
    str("@version", String(x.state.activeVersion ?? x.state.version)),
    ...inherited(o),
  ];
  return { id: inst.id, name: inst.id, sphere: "INSTANCE", fields, expr: runtimeExpr(inst.id, o, periodFields(x, inst)) };
}

/** An attempt: `@sphere ATTEMPT`, its status, times, host, errors, and its component's fields. */
export function attemptObject(x: PipelineTx, a: Attempt): RuntimeObject {
  const inst = x.state.instances[a.instance];
  const o = inst ? x.model?.objects.get(inst.component) : undefined;
  const fields: RuntimeObject["fields"] = [
    ...(inst ? [ref("@componentParent", inst.component), ref("parent", inst.component)] : []),
    ref("@instanceParent", a.instance),
    str("@sphere", "ATTEMPT"),
    str("@status", a.status),
    str("@attemptNumber", String(a.n)),
    ...times([
      ["@scheduledStartTime", inst?.start],
      ["@scheduledEndTime", inst?.end],
      ["@actualStartTime", a.actualStart],
      ["@actualEndTime", a.actualEnd],
    ]),
    ...(a.hostname !== undefined ? [str("hostname", a.hostname)] : []),
    ...(a.errorId !== undefined ? [str("errorId", a.errorId)] : []),
    ...(a.errorMessage !== undefined ? [str("errorMessage", a.errorMessage)] : []),
    ...(a.errorStackTrace !== undefined ? [str("errorStackTrace", a.errorStackTrace)] : []),
    ...(inst ? [ref("@activeInstances", inst.id)] : []),
    str("@pipelineId", x.row.id),
    str("@version", String(x.state.activeVersion ?? x.state.version)),
    ...inherited(o),
  ];
  return { id: a.id, name: a.id, sphere: "ATTEMPT", fields, expr: runtimeExpr(a.id, o, inst ? periodFields(x, inst) : { "@pipelineId": x.row.id }) };
}

/** The expression view of an instance or attempt: the component's effective fields plus runtime fields. */
function runtimeExpr(id: string, o: ModelObject | undefined, runtime: Record<string, string | number>): ExprObject {
  if (!o) return { id, fields: new Map() };
  const e = exprObject(o, runtime);
  return { id, name: id, fields: e.fields };
}

/** Any object of the pipeline by id: an attempt, an instance or a component of `model`. */
export function findObject(x: PipelineTx, model: PipelineModel | undefined, id: string, version: number): RuntimeObject | undefined {
  const a = x.state.attempts[id];
  if (a) return attemptObject(x, a);
  const i = x.state.instances[id];
  if (i) return instanceObject(x, i);
  const o = model?.objects.get(id);
  return o ? componentObject(x, o, version) : undefined;
}

/** What expressions of a pipeline resolve against: its components (for references) and parameters. */
export function exprContext(model: PipelineModel | undefined): { lookup: (id: string) => ExprObject | undefined; parameters: ReadonlyMap<string, readonly string[]> } {
  return {
    lookup: (id) => {
      const o = model?.objects.get(id);
      return o ? exprObject(o) : undefined;
    },
    parameters: model?.parameters ?? new Map(),
  };
}

/** Evaluates one string value; a value whose expression cannot be evaluated is kept as written. */
function evaluated(key: string, v: FieldValue, obj: RuntimeObject, model: PipelineModel | undefined): FieldValue {
  if (v.kind !== "string" || verbatimFields.includes(key) || !hasExpression(v.value)) return v;
  try {
    return { kind: "string", value: evaluateExpression(v.value, { ...exprContext(model), object: obj.expr }) };
  } catch {
    return v;
  }
}

/** An object on the wire; with `evaluate` its `#{…}` expressions are evaluated. */
export function wireObject(obj: RuntimeObject, model: PipelineModel | undefined, evaluate: boolean): WireObject {
  return {
    id: obj.id,
    name: obj.name,
    fields: obj.fields.map(({ key, value }) => {
      const v = evaluate ? evaluated(key, value, obj, model) : value;
      return v.kind === "string" ? { key, stringValue: v.value } : { key, refValue: v.value };
    }),
  };
}

/** The string or reference values of a field of an object (QueryObjects selectors). */
export function fieldValues(obj: RuntimeObject, key: string): FieldValue[] {
  return obj.fields.filter((f) => f.key === key).map((f) => f.value);
}
