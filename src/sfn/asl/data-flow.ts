// The data flow of a JSONPath state, in AWS's order: InputPath, then Parameters (or ItemSelector)
// build what the state works on; after the work, ResultSelector shapes the result, ResultPath puts
// it into the state's raw input, and OutputPath picks the state's output.
import type { Json } from "./json.ts";
import { StatesError } from "./errors.ts";
import type { IntrinsicEnv } from "./intrinsics.ts";
import { evaluateIntrinsic, isIntrinsic } from "./intrinsics.ts";
import { parseTimestamp } from "./choice.ts";
import { applyResultPath, evaluatePath, queryPath, runtimeParsed } from "./paths.ts";
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

/** How AWS quotes a value it refuses in a cause: strings as they are, anything else as JSON. */
function shownValue(value: Json): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A Wait state's SecondsPath: a whole number of seconds, 0 or more. States.Runtime with AWS's
 * causes when the path selects nothing, the value is not a whole number, or it is negative.
 */
export function waitSecondsAt(path: string, input: Json, scope: DataFlowScope): number {
  const value = queryPath(runtimeParsed(path), { input, context: scope.context, variables: scope.variables });
  if (value === undefined) throw new StatesError("States.Runtime", `The SecondsPath parameter does not reference an input value: ${path}`);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new StatesError("States.Runtime", `The SecondsPath parameter cannot be parsed as a long value: ${path} == ${shownValue(value)}`);
  }
  if (value < 0) throw new StatesError("States.Runtime", `The SecondsPath parameter references a negative value: ${path} == ${value}`);
  return value;
}

/**
 * A Wait state's TimestampPath: the epoch milliseconds of the RFC 3339 timestamp it names
 * (fractions below a millisecond dropped). States.Runtime with AWS's causes when the path selects
 * nothing or the value is not such a timestamp.
 */
export function waitTimestampAt(path: string, input: Json, scope: DataFlowScope): number {
  const value = queryPath(runtimeParsed(path), { input, context: scope.context, variables: scope.variables });
  if (value === undefined) throw new StatesError("States.Runtime", `The TimestampPath parameter does not reference an input value: ${path}`);
  const ns = typeof value === "string" ? parseTimestamp(value) : undefined;
  if (ns === undefined) {
    throw new StatesError(
      "States.Runtime",
      `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${path} == ${shownValue(value)}`,
    );
  }
  return Number(ns / 1_000_000n) - (ns % 1_000_000n < 0n ? 1 : 0);
}

/**
 * A whole number from one of a state's *Path fields (Map MaxConcurrencyPath, MaxItemsPath,
 * ToleratedFailureCountPath; Task TimeoutSecondsPath, HeartbeatSecondsPath): States.Runtime when
 * the path selects nothing (`Invalid path …`) or the value is not a whole number (AWS's cause
 * names the field, the value and the path). Range checks are the caller's.
 */
export function integerFieldAt(field: string, path: string, input: Json, scope: DataFlowScope): number {
  const value = evaluatePath(path, input, scope.context, scope.variables);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new StatesError("States.Runtime", `The ${field} field refers to value "${shownValue(value)}" which is not a valid integer: ${path}`);
  }
  return value;
}

/** A Map state's ToleratedFailurePercentagePath: a number; States.Runtime as integerFieldAt, worded for a float. Range checks are the caller's. */
export function percentageFieldAt(path: string, input: Json, scope: DataFlowScope): number {
  const value = evaluatePath(path, input, scope.context, scope.variables);
  if (typeof value !== "number") {
    throw new StatesError("States.Runtime", `The ToleratedFailurePercentagePath field refers to value "${shownValue(value)}" which is not a valid float: ${path}`);
  }
  return value;
}

/**
 * A Fail state's ErrorPath or CausePath (a path or an intrinsic call): the text it gives, a
 * non-string value as its JSON text. A path that selects nothing raises States.Runtime with AWS's
 * cause naming the field.
 */
export function failFieldAt(field: "ErrorPath" | "CausePath", expression: string, input: Json, scope: DataFlowScope, env: IntrinsicEnv): string {
  const pathScope = { input, context: scope.context, variables: scope.variables };
  let value: Json | undefined;
  if (isIntrinsic(expression)) value = evaluateIntrinsic(expression, { ...pathScope, field }, env);
  else {
    value = queryPath(runtimeParsed(expression), pathScope);
    if (value === undefined) {
      const source = expression.startsWith("$$") ? scope.context : input;
      throw new StatesError("States.Runtime", `The JSONPath '${expression}' specified for the field '${field}' could not be found in the input '${JSON.stringify(source)}'`);
    }
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}
