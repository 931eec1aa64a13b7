// The data flow of a JSONPath state, in AWS's order: InputPath, then Parameters (or ItemSelector)
// build what the state works on; after the work, ResultSelector shapes the result, ResultPath puts
// it into the state's raw input, and OutputPath picks the state's output.
import type { Json } from "./json.ts";
import { StatesError } from "./errors.ts";
import type { IntrinsicEnv } from "./intrinsics.ts";
import { applyResultPath, evaluatePath } from "./paths.ts";
import { evaluateTemplate } from "./template.ts";

/**
 * The data-flow fields of a JSONPath state as the definition gives them. A path field that is
 * absent means `$`; `null` means: InputPath and OutputPath give `{}`, ResultPath discards the
 * result and keeps the raw input.
 */
export interface DataFlowFields {
  InputPath?: string | null;
  Parameters?: Json;
  ResultSelector?: Json;
  ResultPath?: string | null;
  OutputPath?: string | null;
}

/** What paths besides `$` read while a state runs: the context object (`$$`) and the workflow variables (`$name`). */
export interface DataFlowScope {
  context: Json;
  variables: Record<string, Json>;
}

/** A path field that is absent reads `$`; null gives `{}`; otherwise the value at the path (States.Runtime when it selects nothing). */
function applyPathField(path: string | null | undefined, value: Json, scope: DataFlowScope): Json {
  if (path === undefined || path === "$") return value;
  if (path === null) return {};
  return evaluatePath(path, value, scope.context, scope.variables);
}

/**
 * The effective input of a state: InputPath applied to the raw input, then Parameters (a payload
 * template whose `$` is the InputPath result). Raises States.Runtime for a path that selects
 * nothing and States.IntrinsicFailure for a failing intrinsic.
 */
export function stateInput(fields: DataFlowFields, rawInput: Json, scope: DataFlowScope, env: IntrinsicEnv): Json {
  const input = applyPathField(fields.InputPath, rawInput, scope);
  if (fields.Parameters === undefined) return input;
  return evaluateTemplate(fields.Parameters, { input, context: scope.context, variables: scope.variables }, env);
}

/**
 * The output of a state from its raw input and its result: ResultSelector (a payload template
 * whose `$` is the result), then ResultPath into the raw input (States.ResultPathMatchFailure when
 * it cannot be applied), then OutputPath (States.Runtime when it selects nothing).
 */
export function stateOutput(fields: DataFlowFields, rawInput: Json, result: Json, scope: DataFlowScope, env: IntrinsicEnv): Json {
  const selected =
    fields.ResultSelector === undefined ? result : evaluateTemplate(fields.ResultSelector, { input: result, context: scope.context, variables: scope.variables }, env);
  const merged = fields.ResultPath === undefined ? selected : applyResultPath(rawInput, selected, fields.ResultPath);
  return applyPathField(fields.OutputPath, merged, scope);
}

/**
 * The items a JSONPath Map state iterates: the value at ItemsPath (absent means `$`) in its
 * effective input. States.Runtime when the path selects nothing or the value is not an array
 * (AWS's cause: `Reference path "<path>" must point to array.`, a `$$` path named from the
 * context object's own root).
 */
export function itemsAt(itemsPath: string | undefined, input: Json, scope: DataFlowScope): Json[] {
  const path = itemsPath ?? "$";
  const items = path === "$" ? input : evaluatePath(path, input, scope.context, scope.variables);
  if (!Array.isArray(items)) {
    throw new StatesError("States.Runtime", `Reference path "${path.startsWith("$$") ? path.slice(1) : path}" must point to array.`);
  }
  return items;
}
