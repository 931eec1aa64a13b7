// Payload templates of the JSONPath query language: Parameters, ResultSelector, ItemSelector and
// Assign. A key ending in `.$` takes the value of a path (`$…`, `$$…`, `$var…`) or an intrinsic
// call, under the key without its `.$`; every other value is copied; objects and arrays recurse.
import type { Json, JsonObject } from "./json.ts";
import { isJsonObject } from "./json.ts";
import { StatesError } from "./errors.ts";
import type { IntrinsicEnv } from "./intrinsics.ts";
import { evaluateIntrinsic, isIntrinsic, parseIntrinsic } from "./intrinsics.ts";
import type { PathScope } from "./paths.ts";
import { PathSyntaxError, parsePath, queryPath, runtimeParsed } from "./paths.ts";

/**
 * Builds a payload from a template. A `.$` path that selects nothing raises States.Runtime with
 * AWS's cause (`The JSONPath '…' specified for the field '….$' could not be found in the input
 * '…'`), as does path or intrinsic text that does not parse; an intrinsic that fails raises
 * States.IntrinsicFailure. The template is not modified.
 */
export function evaluateTemplate(template: Json, scope: PathScope, env: IntrinsicEnv): Json {
  if (Array.isArray(template)) return template.map((t) => evaluateTemplate(t, scope, env));
  if (!isJsonObject(template)) return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith(".$") && key.length > 2) {
      out[key.slice(0, -2)] = evaluateField(key, value, scope, env);
    } else {
      out[key] = evaluateTemplate(value, scope, env);
    }
  }
  return out;
}

/** The value of one `.$` field. */
function evaluateField(key: string, expression: Json, scope: PathScope, env: IntrinsicEnv): Json {
  if (typeof expression !== "string") {
    throw new StatesError("States.Runtime", `The value of the field '${key}' must be a JSONPath or an intrinsic function, got ${JSON.stringify(expression)}`);
  }
  if (isIntrinsic(expression)) return evaluateIntrinsic(expression, { ...scope, field: key }, env);
  const path = runtimeParsed(expression);
  const value = queryPath(path, scope);
  if (value !== undefined) return value;
  if (path.root.kind === "variable" && !Object.hasOwn(scope.variables, path.root.name)) {
    throw new StatesError("States.Runtime", `The variable '$${path.root.name}' referenced by the JSONPath '${expression}' specified for the field '${key}' is not defined`);
  }
  const input = path.root.kind === "context" ? scope.context : path.root.kind === "variable" ? scope.variables[path.root.name] : scope.input;
  throw new StatesError("States.Runtime", `The JSONPath '${expression}' specified for the field '${key}' could not be found in the input '${JSON.stringify(input)}'`);
}

/**
 * The problems of a payload template, for a definition check: a `.$` field whose value is not a
 * string, a path that does not parse, or an intrinsic that does not parse or breaks a static
 * rule. Each problem names `where` and the field.
 */
export function checkTemplate(template: Json, where: string): string[] {
  const problems: string[] = [];
  const visit = (node: Json, at: string): void => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => visit(n, `${at}[${i}]`));
      return;
    }
    if (!isJsonObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const fieldAt = `${at}/${key}`;
      if (!key.endsWith(".$") || key.length <= 2) {
        visit(value, fieldAt);
        continue;
      }
      if (typeof value !== "string") {
        problems.push(`${fieldAt}: a field ending in '.$' takes a JSONPath or an intrinsic function as a string, got ${JSON.stringify(value)}`);
        continue;
      }
      try {
        if (isIntrinsic(value)) parseIntrinsic(value);
        else if (value.startsWith("$")) parsePath(value);
        else problems.push(`${fieldAt}: '${value}' is neither a JSONPath (starting with '$') nor an intrinsic function`);
      } catch (e) {
        if (!(e instanceof PathSyntaxError)) throw e;
        problems.push(`${fieldAt}: ${e.message}`);
      }
    }
  };
  visit(template, where);
  return problems;
}
