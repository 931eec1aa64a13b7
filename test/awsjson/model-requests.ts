// Requests built from the SWF model for sweeps over every member of every operation: the members
// of an input shape with their paths and kinds, a baseline request whose required members name
// existing entities, and setting one member of a request to another value.
import type { Model, ModelShape } from "../../src/model/model.ts";

/** What kind of JSON value a member holds. */
export type MemberKind = "string" | "enum" | "integer" | "long" | "double" | "boolean" | "timestamp" | "blob" | "structure" | "list" | "map";

/** A member at a path in a request: keys of structures, 0 for the first item of a list. */
export interface Member {
  readonly path: readonly (string | number)[];
  readonly kind: MemberKind;
  /** The member's shape name. */
  readonly shape: string;
}

function kindOf(s: ModelShape): MemberKind {
  if (s.type === "string") return s.enum ? "enum" : "string";
  if (s.type === "float") return "double";
  return s.type;
}

/** Every member reachable from an operation's input shape (containers and leaves, list items as index 0). */
export function members(model: Model, operation: string): Member[] {
  const out: Member[] = [];
  const walk = (shapeName: string, path: (string | number)[], seen: ReadonlySet<string>): void => {
    const shape = model.shapes[shapeName];
    if (shape.type === "structure") {
      for (const [name, m] of Object.entries(shape.members ?? {})) {
        const sub = model.shapes[m.shape];
        const p = [...path, name];
        out.push({ path: p, kind: kindOf(sub), shape: m.shape });
        if (!seen.has(m.shape)) walk(m.shape, p, new Set([...seen, m.shape]));
      }
    } else if (shape.type === "list" && shape.member) {
      const sub = model.shapes[shape.member.shape];
      const p = [...path, 0];
      out.push({ path: p, kind: kindOf(sub), shape: shape.member.shape });
      if (!seen.has(shape.member.shape)) walk(shape.member.shape, p, new Set([...seen, shape.member.shape]));
    }
  };
  const input = model.operations[operation].input?.shape;
  if (input) walk(input, [], new Set([input]));
  return out;
}

/** The entities a baseline request names. */
export interface Fixture {
  domain: string;
  workflowType: { name: string; version: string };
  activityType: { name: string; version: string };
  taskList: string;
  workflowId: string;
  runId: string;
}

/** A value for a required member of `shapeName`, naming the fixture's entities where the shape is one of them. */
function baselineValue(model: Model, shapeName: string, fx: Fixture): unknown {
  const shape = model.shapes[shapeName];
  switch (shapeName) {
    case "DomainName":
      return fx.domain;
    case "WorkflowType":
      return fx.workflowType;
    case "ActivityType":
      return fx.activityType;
    case "TaskList":
      return { name: fx.taskList };
    case "WorkflowExecution":
      return { workflowId: fx.workflowId, runId: fx.runId };
    case "WorkflowId":
      return fx.workflowId;
    case "WorkflowRunId":
      return fx.runId;
    case "Arn":
      return `arn:aws:swf:us-east-1:000000000000:/domain/${fx.domain}`;
    case "DurationInDays":
      return "1";
    case "DurationInSeconds":
    case "DurationInSecondsOptional":
      return "60";
    case "Version":
      return "1";
    case "Name":
      return "x";
    case "TaskToken":
      return "no-such-task-token";
    case "ResourceTag":
      return { key: "k", value: "v" };
  }
  switch (shape.type) {
    case "string":
      return shape.enum ? shape.enum[0] : "x";
    case "integer":
    case "long":
      return 1;
    case "double":
    case "float":
      return 1.5;
    case "boolean":
      return false;
    case "timestamp":
      return 0;
    case "list":
      return [baselineValue(model, shape.member!.shape, fx)];
    case "map":
      return {};
    case "blob":
      return "";
    case "structure": {
      const out: Record<string, unknown> = {};
      for (const r of shape.required ?? []) out[r] = baselineValue(model, shape.members![r].shape, fx);
      return out;
    }
  }
}

/** A request of `operation` with every required member set (recursively), naming the fixture's entities. */
export function baseline(model: Model, operation: string, fx: Fixture): Record<string, unknown> {
  const input = model.operations[operation].input?.shape;
  return input ? (baselineValue(model, input, fx) as Record<string, unknown>) : {};
}

/** A copy of `request` with the member at `path` set to `value`, creating the structures and lists on the way. */
export function withMember(request: Record<string, unknown>, path: readonly (string | number)[], value: unknown): Record<string, unknown> {
  const root = structuredClone(request);
  let at: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    const next = path[i + 1];
    let child = at[key];
    if (typeof next === "number" ? !Array.isArray(child) : typeof child !== "object" || child === null || Array.isArray(child)) {
      child = typeof next === "number" ? [] : {};
      at[key] = child;
    }
    at = child as Record<string | number, unknown>;
  }
  at[path[path.length - 1]] = value;
  return root;
}
