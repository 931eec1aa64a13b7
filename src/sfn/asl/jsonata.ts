// The JSONata query language of Step Functions (`QueryLanguage: "JSONata"`): which strings are
// expressions, whether they compile, and (at run time) what they evaluate to.

import jsonata from "jsonata";
import { StatesError } from "./errors.ts";
import type { IntrinsicEnv } from "./intrinsics.ts";
import { isJsonObject, type Json, type JsonObject } from "./json.ts";

const OPEN = "{%";
const CLOSE = "%}";

/**
 * True when a field value is a JSONata expression: the string starts with `{%` and ends with
 * `%}` exactly, as AWS recognizes it (no whitespace before `{%` or after `%}`; whitespace inside
 * is part of the expression). Any other string is a literal.
 */
export function isJsonataExpression(value: string): boolean {
  return value.length >= OPEN.length + CLOSE.length && value.startsWith(OPEN) && value.endsWith(CLOSE);
}

/** The expression text between the `{%` and `%}` of a JSONata field value. */
export function jsonataBody(value: string): string {
  return value.slice(OPEN.length, value.length - CLOSE.length);
}

interface JsonataFailure {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

function isFailure(e: unknown): e is JsonataFailure {
  return typeof e === "object" && e !== null && ("code" in e || "message" in e);
}

/**
 * Why a JSONata field value does not compile, or undefined when it does. `value` is the whole
 * `{% … %}` string (a bare expression is accepted too). Compile only: nothing is evaluated, so a
 * call of a function Step Functions does not offer (`$eval`) fails only when it runs, as on AWS.
 */
export function checkJsonata(value: string): string | undefined {
  const body = isJsonataExpression(value) ? jsonataBody(value) : value;
  if (body.trim() === "") return "The JSONata expression is empty";
  try {
    compile(body);
  } catch (e) {
    return compileProblem(body, e);
  }
  return undefined;
}

function compileProblem(body: string, e: unknown): string {
  const failure = isFailure(e) ? e : {};
  const at = typeof failure.position === "number" ? ` at position ${failure.position}` : "";
  return `The JSONata expression '${body.trim()}' is not valid${at}: ${failure.message ?? failure.code ?? String(e)}`;
}

/**
 * Every problem of the JSONata expressions in a template: the string itself when it is one, or
 * each string leaf of an object/array at any depth. Each problem starts with its location:
 * `where`, then `.key` or `[index]` per level.
 */
export function checkJsonataTemplate(template: Json, where: string): string[] {
  const problems: string[] = [];
  forEachExpression(template, where, (body, at) => {
    const problem = checkJsonata(`${OPEN}${body}${CLOSE}`);
    if (problem !== undefined) problems.push(`${at}: ${problem}`);
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** The error AWS raises when a JSONata expression fails or yields no JSON value. */
export const QUERY_EVALUATION_ERROR = "States.QueryEvaluationError";

/**
 * Guards on one evaluation of one expression, through jsonata's own options: at most this many
 * nested evaluation frames (runaway recursion; a non-tail recursion 1,000 calls deep fits) and this
 * many milliseconds (a tail-recursive loop). Either ends the evaluation with a
 * States.QueryEvaluationError (jsonata codes D1011 and D1012).
 */
export const JSONATA_LIMITS = { maxDepth: 5_000, timeoutMs: 10_000 } as const;

/** How many compiled expressions are kept; the oldest is dropped past this. */
const CACHE_SIZE = 2_000;

/** A compiled expression and the `$states` members it reads by name. */
interface Compiled {
  expression: jsonata.Expression;
  statesRead: ReadonlySet<string>;
}

const cache = new Map<string, Compiled>();

/** The compiled form of an expression body, compiled once per text (compiling is costly). Throws jsonata's error. */
function compile(body: string): Compiled {
  let compiled = cache.get(body);
  if (compiled === undefined) {
    const expression = jsonata(body, { stack: JSONATA_LIMITS.maxDepth, timeout: JSONATA_LIMITS.timeoutMs });
    compiled = { expression, statesRead: statesMembersRead(expression.ast()) };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(body, compiled);
  }
  return compiled;
}

/** The members of the reserved `$states` variable. */
export type StatesMember = "input" | "context" | "result" | "errorOutput";

/**
 * The reserved `$states` variable of a JSONata state. `input` and `context` exist in every field;
 * `result` only in the Output and Assign of a Task, Parallel or Map state that succeeded; and
 * `errorOutput` only in the Output and Assign of a Catch. A member the field does not have is
 * left out (not set to null): an expression that reads it fails (see evaluateJsonata).
 */
export interface StatesVariable {
  input: Json;
  context: Json;
  result?: Json;
  errorOutput?: Json;
}

/** What a JSONata expression sees: `$states`, the workflow variables as `$name`, and the time `$now()`/`$millis()` report. */
export interface JsonataBindings {
  states: StatesVariable;
  /**
   * The visible workflow variables (VariableScope.visible()); each is bound as `$name`. A variable
   * named like a function (`sum`, `partition`) hides that function in the expressions of the field.
   */
  variables?: Readonly<Record<string, Json>>;
  /** Epoch milliseconds `$now()` and `$millis()` return, the same for every call in one evaluation. */
  nowMs: number;
}

/** The effects the Step Functions functions need, injected: `$hash`, `$uuid`, and `$random` without a seed. */
export type JsonataEnv = IntrinsicEnv;

/** The `$states` members an expression reads by name (`$states.result…`), found in its syntax tree. */
function statesMembersRead(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) statesMembersRead(n, found);
    return found;
  }
  if (typeof node !== "object" || node === null) return found;
  const n = node as { type?: unknown; steps?: unknown };
  if (n.type === "path" && Array.isArray(n.steps) && n.steps.length >= 2) {
    const [first, second] = n.steps as { type?: unknown; value?: unknown }[];
    if (first.type === "variable" && first.value === "states" && second.type === "name" && typeof second.value === "string") {
      found.add(second.value);
    }
  }
  for (const v of Object.values(node)) statesMembersRead(v, found);
  return found;
}

/**
 * Every `$states.result` / `$states.errorOutput` read in a template that the field does not
 * offer: `available` lists the members it has. Each problem starts with its location as in
 * checkJsonataTemplate. Expressions that do not compile are left to checkJsonataTemplate.
 */
export function checkStatesReferences(template: Json, available: readonly StatesMember[], where: string): string[] {
  const problems: string[] = [];
  forEachExpression(template, where, (body, at) => {
    let statesRead: ReadonlySet<string>;
    try {
      statesRead = compile(body).statesRead;
    } catch {
      return;
    }
    for (const member of statesRead) {
      if (isStatesMember(member) && !available.includes(member)) problems.push(`${at}: ${unavailableMember(body, member)}`);
    }
  });
  return problems;
}

function isStatesMember(name: string): name is StatesMember {
  return name === "input" || name === "context" || name === "result" || name === "errorOutput";
}

function unavailableMember(body: string, member: string, field?: string): string {
  const where = field === undefined ? "" : ` specified for the field '${field}'`;
  return `The JSONata expression '${body.trim()}'${where} references $states.${member}, which is not available in this field`;
}

/** Sets an own member, even one named `__proto__` (which plain assignment would take as the prototype). */
function setMember(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Calls `visit` with the body and location of every `{% %}` string in a template. */
function forEachExpression(template: Json, where: string, visit: (body: string, at: string) => void): void {
  if (typeof template === "string") {
    if (isJsonataExpression(template)) visit(jsonataBody(template), where);
  } else if (Array.isArray(template)) {
    template.forEach((v, i) => forEachExpression(v, `${where}[${i}]`, visit));
  } else if (isJsonObject(template)) {
    for (const [k, v] of Object.entries(template)) forEachExpression(v, `${where}.${k}`, visit);
  }
}

/** A failure inside one of the Step Functions functions; its message becomes the cause. */
class FunctionFailure extends Error {}

function fail(message: string): never {
  throw new FunctionFailure(message);
}

/** The hash algorithms `$hash` accepts (AWS's list, as for States.Hash). */
export const HASH_ALGORITHMS: readonly string[] = ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

/** The most elements `$range` produces (as States.ArrayRange). */
export const MAX_RANGE_ITEMS = 1000;

function isNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** A JSONata sequence or array as a plain array; a single value as a one-element array. */
function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? [...v] : [v];
}

/**
 * The next double of java.util.Random seeded with `seed`: `$random(seed)` is deterministic per
 * seed (the same seed always yields the same number in [0, 1)).
 */
function seededRandom(seed: number): number {
  const mask = (1n << 48n) - 1n;
  const multiplier = 0x5deece66dn;
  let state = (BigInt.asIntN(64, BigInt(Math.trunc(seed))) ^ multiplier) & mask;
  const next = (bits: bigint): bigint => {
    state = (state * multiplier + 0xbn) & mask;
    return state >> (48n - bits);
  };
  const high = next(26n);
  const low = next(27n);
  return Number((high << 27n) + low) / 2 ** 53;
}

/** A function as jsonata calls its own: with the evaluation's focus (environment) as `this`. */
function native(implementation: (this: jsonata.Focus, ...args: never[]) => unknown): unknown {
  return { _jsonata_function: true, implementation };
}

/** Step Functions' own JSONata functions and its changes to the standard library, for one evaluation. */
function stepFunctionsFunctions(env: JsonataEnv, nowMs: number): Record<string, unknown> {
  const functions: Record<string, (this: jsonata.Focus, ...args: never[]) => unknown> = {
    partition(array: unknown, size: unknown): unknown[] {
      if (array === undefined || size === undefined) fail("$partition expects an array and a chunk size");
      if (!isNumber(size) || !Number.isInteger(size) || size <= 0) fail("The chunk size of $partition must be a positive integer");
      const items = asArray(array);
      const chunks: unknown[][] = [];
      for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
      return chunks;
    },
    range(start: unknown, end: unknown, step: unknown): number[] {
      if (!isNumber(start) || !isNumber(end) || !isNumber(step)) fail("$range expects a start, an end and a step, all numbers");
      if (step === 0) fail("The step of $range must not be 0");
      const count = Math.floor((end - start) / step) + 1;
      if (count > MAX_RANGE_ITEMS) fail(`$range would produce ${count} items; the maximum is ${MAX_RANGE_ITEMS}`);
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(start + i * step);
      return out;
    },
    hash(data: unknown, algorithm: unknown): string {
      if (typeof data !== "string") fail("The data argument of $hash must be a string");
      if (typeof algorithm !== "string" || !HASH_ALGORITHMS.includes(algorithm)) {
        fail(`The algorithm argument of $hash must be one of ${HASH_ALGORITHMS.join(", ")}`);
      }
      return env.hash(algorithm, data);
    },
    random(seed?: unknown): number {
      if (seed === undefined) return env.random();
      if (!isNumber(seed)) fail("The seed argument of $random must be a number");
      return seededRandom(seed);
    },
    uuid(): string {
      return env.uuid();
    },
    parse(text: unknown): unknown {
      if (typeof text !== "string") fail("The argument of $parse must be a string");
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return fail(`The argument of $parse is not valid JSON: ${text}`);
      }
    },
    now(this: jsonata.Focus, picture?: unknown, timezone?: unknown): unknown {
      if (picture === undefined && timezone === undefined) return new Date(nowMs).toISOString();
      const fromMillis = this.environment.lookup("fromMillis") as { implementation: (...args: unknown[]) => unknown };
      return fromMillis.implementation.call(this, nowMs, picture, timezone);
    },
    millis(): number {
      return nowMs;
    },
  };
  return {
    ...Object.fromEntries(Object.entries(functions).map(([name, f]) => [name, native(f)])),
    // Not available in Step Functions: calling it fails with T1006 ("Attempted to invoke a non-function").
    eval: undefined,
  };
}

/**
 * A JSONata result as plain JSON (sequences become arrays; undefined members and items are left
 * out), or undefined when it holds something JSON cannot: a function, NaN or an infinite number.
 */
function toJson(value: unknown): { json: Json } | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return { json: value };
  if (typeof value === "number") return Number.isFinite(value) ? { json: value } : undefined;
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (const item of value) {
      if (item === undefined) continue;
      const j = toJson(item);
      if (j === undefined) return undefined;
      out.push(j.json);
    }
    return { json: out };
  }
  if (typeof value === "object" && !isJsonataFunction(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const j = toJson(v);
      if (j === undefined) return undefined;
      setMember(out, k, j.json);
    }
    return { json: out };
  }
  return undefined;
}

function isJsonataFunction(value: object): boolean {
  return "_jsonata_function" in value || "_jsonata_lambda" in value;
}

function queryError(body: string, field: string, what: string): StatesError {
  return new StatesError(QUERY_EVALUATION_ERROR, `The JSONata expression '${body.trim()}' specified for the field '${field}' ${what}`);
}

/** Evaluates one `{% %}` expression body: the JSON value, or a StatesError as AWS reports it. */
async function evaluateExpression(body: string, field: string, bindings: JsonataBindings, env: JsonataEnv): Promise<Json> {
  let compiled: Compiled;
  try {
    compiled = compile(body);
  } catch (e) {
    throw new StatesError(QUERY_EVALUATION_ERROR, compileProblem(body, e));
  }
  for (const member of compiled.statesRead) {
    if ((member === "result" || member === "errorOutput") && !(member in bindings.states)) {
      throw new StatesError(QUERY_EVALUATION_ERROR, unavailableMember(body, member, field));
    }
  }
  const scope: Record<string, unknown> = {
    ...stepFunctionsFunctions(env, bindings.nowMs),
    ...bindings.variables,
    states: bindings.states,
  };
  let value: unknown;
  try {
    value = await compiled.expression.evaluate(undefined, scope);
  } catch (e) {
    if (e instanceof FunctionFailure) throw queryError(body, field, `threw an error during evaluation. ${e.message}`);
    const failure = isFailure(e) ? e : { message: String(e) };
    const code = failure.code === undefined ? "" : `${failure.code}: `;
    throw queryError(body, field, `threw an error during evaluation. ${code}${failure.message ?? ""}`);
  }
  if (value === undefined) throw queryError(body, field, "returned nothing (undefined).");
  const json = toJson(value);
  if (json === undefined) throw queryError(body, field, "returned an unsupported result type.");
  return json.json;
}

/**
 * Evaluates a JSONata field value: a `{% %}` string is evaluated; an object or array is a
 * template whose `{% %}` string leaves (at any depth) are evaluated and whose other values are
 * kept; any other value is returned as it is. `field` names the field in error causes, nested
 * template members as `Field/key` (e.g. 'Output/result', as AWS writes them).
 *
 * Errors are StatesError("States.QueryEvaluationError") with AWS's causes: "The JSONata
 * expression '…' specified for the field '…' returned nothing (undefined)." (no match), "…
 * returned an unsupported result type." (a function, NaN, ±Infinity), "… threw an error during
 * evaluation. T1006: …" (jsonata's code and message), and a read of `$states.result` or
 * `$states.errorOutput` the field does not offer. The interpreter prefixes the state's name.
 */
export async function evaluateJsonata(template: Json, bindings: JsonataBindings, env: JsonataEnv, field = ""): Promise<Json> {
  if (typeof template === "string") {
    return isJsonataExpression(template) ? evaluateExpression(jsonataBody(template), field, bindings, env) : template;
  }
  if (Array.isArray(template)) {
    const out: Json[] = [];
    for (let i = 0; i < template.length; i++) out.push(await evaluateJsonata(template[i], bindings, env, `${field}[${i}]`));
    return out;
  }
  if (isJsonObject(template)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(template)) setMember(out, k, await evaluateJsonata(v, bindings, env, field === "" ? k : `${field}/${k}`));
    return out;
  }
  return template;
}

/** The JSON type names AWS uses in "Expected 'array', but was 'string'". */
export type JsonTypeName = "array" | "object" | "string" | "number" | "integer" | "boolean" | "null";

/** AWS's name of a JSON value's type: 'array', 'object', 'string', 'number', 'boolean' or 'null'. */
export function jsonTypeName(value: Json): Exclude<JsonTypeName, "integer"> {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  return typeof value as "string" | "number" | "boolean";
}

/**
 * evaluateJsonata for a field that needs one type (Items: 'array'; Condition: 'boolean';
 * TimeoutSeconds, HeartbeatSeconds, Seconds, MaxConcurrency: 'integer'; Timestamp, Error, Cause:
 * 'string'). A value of another type fails with States.QueryEvaluationError and AWS's cause
 * "… returned an unexpected result type. Expected 'array', but was 'string' for value: \"x\"".
 */
export async function evaluateJsonataAs(template: Json, bindings: JsonataBindings, env: JsonataEnv, field: string, expected: JsonTypeName): Promise<Json> {
  const value = await evaluateJsonata(template, bindings, env, field);
  const actual = jsonTypeName(value);
  const ok = expected === "integer" ? typeof value === "number" && Number.isInteger(value) : actual === expected;
  if (ok) return value;
  const what = `returned an unexpected result type. Expected '${expected}', but was '${actual}' for value: ${JSON.stringify(value)}`;
  if (typeof template === "string" && isJsonataExpression(template)) throw queryError(jsonataBody(template), field, what);
  throw new StatesError(QUERY_EVALUATION_ERROR, `The value specified for the field '${field}' ${what}`);
}
