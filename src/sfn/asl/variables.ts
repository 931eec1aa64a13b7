// Workflow variables (`Assign`), in both query languages: the names a definition may declare, the
// scopes a running execution keeps (top level, each Parallel branch, each Map iteration) and the
// size limits AWS enforces on what is assigned.
//
// The rules, from AWS's "Passing data between states with variables":
// - every expression of one state (all of its Assign values, its Output) reads the variables as
//   they were when the state was entered; its assignments take effect for the states after it;
// - a Parallel branch or a Map iteration reads the variables of the scopes around it, cannot
//   assign a name one of them defines, and its own variables end with it (only Output carries data
//   out); a Catch of a Parallel or Map state assigns in the scope of that state;
// - a distributed Map's iterations read no outer variables (give their scope no parent).

import { StatesError } from "./errors.ts";
import type { IntrinsicEnv } from "./intrinsics.ts";
import { evaluateJsonata, type JsonataBindings, type JsonataEnv } from "./jsonata.ts";
import type { PathScope } from "./paths.ts";
import { evaluateTemplate } from "./template.ts";
import { isJsonObject, type Json, type JsonObject } from "./json.ts";

/** The longest variable name AWS accepts, in characters. */
export const MAX_VARIABLE_NAME_LENGTH = 80;

/** The name reserved by the States Language for the `$states` object of JSONata states. */
export const RESERVED_VARIABLE_NAME = "states";

const ID_START = /^\p{ID_Start}$/u;
const ID_CONTINUE = /^\p{ID_Continue}$/u;

/**
 * Why `name` cannot be a workflow variable, or undefined when it can. AWS's rules: a Unicode
 * identifier (UAX #31: the first character ID_Start, so neither a digit nor `_`; the rest
 * ID_Continue), at most 80 characters, and not `states`. A sub-path (`x.y`, `x[0]`) is no name.
 */
export function checkVariableName(name: string): string | undefined {
  const chars = [...name];
  if (chars.length === 0) return "The variable name must not be empty";
  if (chars.length > MAX_VARIABLE_NAME_LENGTH) {
    return `The variable name '${name}' is ${chars.length} characters long; the maximum is ${MAX_VARIABLE_NAME_LENGTH}`;
  }
  if (name === RESERVED_VARIABLE_NAME) {
    return `The variable name '${name}' is reserved and cannot be assigned`;
  }
  if (!ID_START.test(chars[0]) || !chars.slice(1).every((c) => ID_CONTINUE.test(c))) {
    return `The variable name '${name}' is not a valid identifier: the first character must be a Unicode ID_Start character and the others ID_Continue characters`;
  }
  return undefined;
}

/** The largest value one variable may hold: 256 KiB of UTF-8 JSON. */
export const MAX_VARIABLE_BYTES = 256 * 1024;

/** The largest Assign of one state: 256 KiB for all of its values together (the sum of their sizes). */
export const MAX_ASSIGN_BYTES = 256 * 1024;

/** The most all variables of an execution may hold together: 10 MiB (see VariableScope.totalBytes). */
export const MAX_EXECUTION_VARIABLE_BYTES = 10 * 1024 * 1024;

/** The error AWS raises when a value exceeds a size limit. */
export const DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded";

const encoder = new TextEncoder();

/** The size of a value as AWS counts it: the bytes of its JSON text in UTF-8. */
export function jsonBytes(value: Json): number {
  return encoder.encode(JSON.stringify(value)).length;
}

/**
 * Why a Parallel branch or Map iteration may not assign `name`: it is a variable of a scope
 * around it. AWS rejects such a definition; the analyser reports this message for it.
 */
export function outerScopeAssignProblem(name: string): string {
  return `The variable '${name}' is defined in an outer scope and cannot be assigned in a Parallel branch or Map iteration`;
}

/** The variable names an Assign field declares (a JSONPath `name.$` key declares `name`). */
function assignedNames(assign: Json | undefined): string[] {
  if (!isJsonObject(assign)) return [];
  return Object.keys(assign).map((k) => (k.endsWith(".$") ? k.slice(0, -2) : k));
}

/** Every Assign of a state with its location: the state's own, each Choice rule's and each Catch's. */
function stateAssigns(state: JsonObject, at: string): { at: string; names: string[] }[] {
  const found = [{ at: `${at}/Assign`, names: assignedNames(state.Assign) }];
  for (const list of ["Choices", "Catch"] as const) {
    const entries = state[list];
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry, i) => {
      if (isJsonObject(entry)) found.push({ at: `${at}/${list}[${i}]/Assign`, names: assignedNames(entry.Assign) });
    });
  }
  return found.filter((f) => f.names.length > 0);
}

/** The machines nested in a state (Parallel branches, a Map's ItemProcessor or Iterator), and whether each reads outer variables. */
function nestedMachines(state: JsonObject, at: string): { machine: JsonObject; at: string; readsOuter: boolean }[] {
  const nested: { machine: JsonObject; at: string; readsOuter: boolean }[] = [];
  if (Array.isArray(state.Branches)) {
    state.Branches.forEach((b, i) => {
      if (isJsonObject(b)) nested.push({ machine: b, at: `${at}/Branches[${i}]`, readsOuter: true });
    });
  }
  for (const key of ["ItemProcessor", "Iterator"] as const) {
    const processor = state[key];
    if (!isJsonObject(processor)) continue;
    const config = processor.ProcessorConfig;
    const distributed = isJsonObject(config) && config.Mode === "DISTRIBUTED";
    nested.push({ machine: processor, at: `${at}/${key}`, readsOuter: !distributed });
  }
  return nested;
}

/**
 * Every Assign in a definition that declares a name an enclosing scope declares too: a Parallel
 * branch or (inline) Map iteration may not assign a variable of the machine around it, at any
 * depth, wherever that machine assigns it. Sibling branches may reuse names; a distributed Map's
 * iterations read no outer variables, so their names are free. `machine` is the definition (or a
 * nested machine) as JSON; each problem reads `<location>: <outerScopeAssignProblem>`, locations
 * like "/States/P/Branches[0]/States/S/Assign". Malformed parts are skipped (the parser reports them).
 */
export function checkVariableScopes(machine: Json, where = "", outer: ReadonlySet<string> = new Set()): string[] {
  if (!isJsonObject(machine) || !isJsonObject(machine.States)) return [];
  const states = Object.entries(machine.States).filter((e): e is [string, JsonObject] => isJsonObject(e[1]));
  const declared = new Set(outer);
  for (const [name, state] of states) for (const a of stateAssigns(state, `${where}/States/${name}`)) for (const n of a.names) declared.add(n);
  const problems: string[] = [];
  for (const [name, state] of states) {
    const at = `${where}/States/${name}`;
    for (const a of stateAssigns(state, at)) {
      for (const n of a.names) if (outer.has(n)) problems.push(`${a.at}: ${outerScopeAssignProblem(n)}`);
    }
    for (const nested of nestedMachines(state, at)) {
      problems.push(...checkVariableScopes(nested.machine, nested.at, nested.readsOuter ? declared : new Set()));
    }
  }
  return problems;
}

/** The stored form of a scope: its own variables only (a branch's parent is stored on its own). */
export interface VariableScopeJson {
  variables: JsonObject;
}

/**
 * The workflow variables of one scope: the top level of an execution, one Parallel branch or one
 * Map iteration. Reads see the scope's own variables, then its parent's, outward; writes go to
 * the scope itself and never to a parent. Invariants: no name is defined both here and in a
 * parent; every value is within MAX_VARIABLE_BYTES; the scope and its parents together hold at
 * most MAX_EXECUTION_VARIABLE_BYTES.
 */
export class VariableScope {
  /** The scope around this one, or undefined at the top level (and for a distributed Map iteration). */
  readonly parent: VariableScope | undefined;
  readonly #values = new Map<string, Json>();
  readonly #sizes = new Map<string, number>();

  constructor(parent?: VariableScope) {
    this.parent = parent;
  }

  /** The value of a variable visible here, or undefined when no scope outward defines it. */
  get(name: string): Json | undefined {
    return this.#values.has(name) ? this.#values.get(name) : this.parent?.get(name);
  }

  /** True when a scope around this one defines `name` (this scope may then not assign it). */
  definedOutside(name: string): boolean {
    return this.parent !== undefined && (this.parent.#values.has(name) || this.parent.definedOutside(name));
  }

  /** Every variable visible here, by name: the bindings an expression of a state in this scope sees. */
  visible(): Record<string, Json> {
    const outer = this.parent?.visible() ?? {};
    for (const [name, value] of this.#values) outer[name] = value;
    return outer;
  }

  /** This scope's own variables, by name. */
  own(): Record<string, Json> {
    return Object.fromEntries(this.#values);
  }

  /** The bytes (JSON, UTF-8) of the variables of this scope and every scope around it. */
  totalBytes(): number {
    let total = this.parent?.totalBytes() ?? 0;
    for (const size of this.#sizes.values()) total += size;
    return total;
  }

  /**
   * Applies one state's evaluated Assign: all values at once, or none when one breaks a rule.
   * Each name must be a valid variable name (else States.Runtime) not defined in an outer scope
   * (else States.Runtime: the definition analyser rejects both first). Sizes: each value at most
   * MAX_VARIABLE_BYTES, the whole Assign at most MAX_ASSIGN_BYTES, the execution's variables at
   * most MAX_EXECUTION_VARIABLE_BYTES, else States.DataLimitExceeded. Returns the assigned values
   * as JSON text by name (the `assignedVariables` of a StateExited history event).
   */
  assign(values: Readonly<Record<string, Json>>): Record<string, string> {
    const texts: Record<string, string> = {};
    const sizes = new Map<string, number>();
    for (const [name, value] of Object.entries(values)) {
      const problem = checkVariableName(name);
      if (problem !== undefined) throw new StatesError("States.Runtime", problem);
      if (this.definedOutside(name)) throw new StatesError("States.Runtime", outerScopeAssignProblem(name));
      const text = JSON.stringify(value);
      const size = encoder.encode(text).length;
      if (size > MAX_VARIABLE_BYTES) {
        throw new StatesError(DATA_LIMIT_EXCEEDED, `The value assigned to the variable '${name}' has a size exceeding the maximum number of bytes service limit (${MAX_VARIABLE_BYTES} bytes).`);
      }
      texts[name] = text;
      sizes.set(name, size);
    }
    let assigned = 0;
    for (const size of sizes.values()) assigned += size;
    if (assigned > MAX_ASSIGN_BYTES) {
      throw new StatesError(DATA_LIMIT_EXCEEDED, `The values of the Assign field have a size exceeding the maximum number of bytes service limit (${MAX_ASSIGN_BYTES} bytes).`);
    }
    let total = this.totalBytes();
    for (const [name, size] of sizes) total += size - (this.#sizes.get(name) ?? 0);
    if (total > MAX_EXECUTION_VARIABLE_BYTES) {
      throw new StatesError(DATA_LIMIT_EXCEEDED, `The workflow variables of the execution have a size exceeding the maximum number of bytes service limit (${MAX_EXECUTION_VARIABLE_BYTES} bytes).`);
    }
    for (const [name, value] of Object.entries(values)) {
      this.#values.set(name, structuredClone(value));
      this.#sizes.set(name, sizes.get(name) ?? 0);
    }
    return texts;
  }

  /** The stored form of this scope's own variables (the parent is stored, and restored, separately). */
  toJson(): VariableScopeJson {
    return { variables: this.own() };
  }

  /** A scope restored from toJson() output, inside `parent` when it is a branch or iteration scope. Throws TypeError on a malformed value. */
  static fromJson(json: Json, parent?: VariableScope): VariableScope {
    if (!isJsonObject(json) || !isJsonObject(json.variables)) throw new TypeError("A stored variable scope is an object with a 'variables' object");
    const scope = new VariableScope(parent);
    for (const [name, value] of Object.entries(json.variables)) {
      scope.#values.set(name, value);
      scope.#sizes.set(name, jsonBytes(value));
    }
    return scope;
  }
}

/**
 * Evaluates the Assign of a JSONata state (or of a Choice rule or Catch): every value is a JSONata
 * template evaluated against `bindings`, which hold the variables from before the state, so the
 * values see none of each other's new values (`{"x": "{% $y %}", "y": "{% $x %}"}` swaps). Errors
 * name the field 'Assign/<name>'. Apply the result with VariableScope.assign after the state's
 * Output is evaluated (Output, too, sees the variables from before the state).
 */
export async function evaluateAssignJsonata(assign: JsonObject, bindings: JsonataBindings, env: JsonataEnv): Promise<Record<string, Json>> {
  const values: Record<string, Json> = {};
  for (const [name, template] of Object.entries(assign)) values[name] = await evaluateJsonata(template, bindings, env, `Assign/${name}`);
  return values;
}

/**
 * Evaluates the Assign of a JSONPath state: the field is a payload template (`"name.$"` members
 * are paths or intrinsic calls, evaluated by evaluateTemplate; other members are literal).
 * `scope.variables` must be the variables from before the state, as for JSONata. The result maps
 * each variable name (without `.$`) to its value; errors are evaluateTemplate's (States.Runtime
 * for a path that selects nothing, States.IntrinsicFailure).
 */
export function evaluateAssignJsonPath(assign: JsonObject, scope: PathScope, env: IntrinsicEnv): Record<string, Json> {
  const result = evaluateTemplate(assign, scope, env);
  if (!isJsonObject(result)) throw new StatesError("States.Runtime", "The Assign field did not evaluate to an object");
  return result;
}
