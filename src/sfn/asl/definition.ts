// The typed tree of a Step Functions state machine definition: what parse.ts builds from the
// Amazon States Language text and what the interpreter walks. Everything the interpreter needs is
// resolved here once: each state's query language (its own QueryLanguage, else the top level's), End
// versus Next, the defaults of Retry and of the JSONPath paths, and an index by state name.
//
// A state carries only the fields of its query language: JSONPath states never have Arguments,
// Output or Condition; JSONata states never have InputPath, Parameters, ResultSelector,
// ResultPath, OutputPath or a *Path field. A JSONata-capable field that holds an expression keeps
// the whole `{% … %}` string (see jsonata.ts).

import type { Json, JsonObject } from "./json.ts";

/** The two query languages; a state without its own QueryLanguage uses the top level's (default JSONPath). */
export type QueryLanguage = "JSONPath" | "JSONata";

/** The eight state types, spelled as in the definition's `Type` field. */
export type StateType = "Task" | "Pass" | "Choice" | "Wait" | "Succeed" | "Fail" | "Parallel" | "Map";

/** A field that holds a literal of type T in JSONPath and JSONata states, or a `{% … %}` expression string (JSONata states only). */
export type OrExpression<T> = T | string;

/**
 * A state machine, or a nested one (a Parallel branch, a Map item processor). `states` keeps the
 * definition's order; `index` maps every state name of this machine (not of nested ones) to its
 * state; `startAt` names a state in `index` once the definition has no errors.
 */
export interface StateMachine {
  /** Where this machine is in the definition: "" for the top level, e.g. "/States/P/Branches[0]" for a branch. */
  readonly path: string;
  readonly comment?: string;
  readonly startAt: string;
  /** The top level's query language; a nested machine cannot set its own (AWS: states inside branches and item processors inherit the top level's). */
  readonly queryLanguage: QueryLanguage;
  /** Whole-execution timeout (top level only, positive integer seconds). */
  readonly timeoutSeconds?: number;
  /** The definition's `Version` field, when given ("1.0"). */
  readonly version?: string;
  readonly states: readonly State[];
  readonly index: ReadonlyMap<string, State>;
}

/** Fields every state has. */
export interface StateBase {
  readonly type: StateType;
  readonly name: string;
  /** Where the state is, for messages: "/States/Foo", or "/States/P/Branches[0]/States/Foo" in a branch. */
  readonly path: string;
  readonly comment?: string;
  /** The state's query language: its own QueryLanguage, else the top level's (never an enclosing Parallel's or Map's, as on AWS). */
  readonly queryLanguage: QueryLanguage;
  /** Workflow variables the state assigns (`Assign`), as written; names are valid variable names. */
  readonly assign?: JsonObject;
}

/** How a non-terminal-by-type state continues: `next` names a state of the same machine, or `end` is true and `next` is undefined. */
export interface Transition {
  readonly next?: string;
  readonly end: boolean;
}

/**
 * JSONPath input and output processing. Defaults are resolved: `inputPath` and `outputPath` are "$"
 * unless given; null means the JSON null value was given (discard: the state sees `{}` / outputs `{}`).
 */
export interface JsonPathIo {
  readonly inputPath: string | null;
  readonly outputPath: string | null;
}

/** JSONPath result handling of Task, Parallel and Map: `resultPath` "$" by default, null discards the result. */
export interface JsonPathResult {
  /** A payload template (`.$` fields) applied to the effective input. */
  readonly parameters?: JsonObject;
  /** A payload template applied to the raw result. */
  readonly resultSelector?: JsonObject;
  readonly resultPath: string | null;
}

/** A Retrier with AWS's defaults resolved. */
export interface Retrier {
  readonly path: string;
  /** Non-empty; "States.ALL" only alone and in the last retrier. */
  readonly errorEquals: readonly string[];
  /** Seconds before the first retry (default 1, at least 1). */
  readonly intervalSeconds: number;
  /** Retries after the first attempt (default 3, 0 means never retry). */
  readonly maxAttempts: number;
  /** Multiplier of the interval per retry (default 2.0, at least 1.0). */
  readonly backoffRate: number;
  /** Upper bound of one interval, when given (1 to 31622400). */
  readonly maxDelaySeconds?: number;
  /** "FULL" randomizes each interval in [0, interval]; default "NONE". */
  readonly jitterStrategy: "FULL" | "NONE";
}

/** A Catcher: where an error matching `errorEquals` goes, and what it carries. */
export interface Catcher {
  readonly path: string;
  readonly errorEquals: readonly string[];
  readonly next: string;
  /** JSONPath states: where the error output goes ("$" by default, null discards). */
  readonly resultPath?: string | null;
  /** JSONata states: the catcher's Output. */
  readonly output?: Json;
  readonly assign?: JsonObject;
}

/** A Task state. Only activity resources are accepted: `arn:<partition>:states:<region>:<account>:activity:<name>`. */
export interface TaskState extends StateBase, Transition {
  readonly type: "Task";
  readonly resource: string;
  /** The activity named by `resource`. */
  readonly activity: { readonly partition: string; readonly region: string; readonly account: string; readonly name: string };
  /** Positive integer, or an expression (JSONata). */
  readonly timeoutSeconds?: OrExpression<number>;
  readonly timeoutSecondsPath?: string;
  /** Positive integer smaller than timeoutSeconds when both are literals, or an expression (JSONata). */
  readonly heartbeatSeconds?: OrExpression<number>;
  readonly heartbeatSecondsPath?: string;
  readonly retry: readonly Retrier[];
  readonly catch: readonly Catcher[];
  /** JSONPath only. */
  readonly io?: JsonPathIo & JsonPathResult;
  /** JSONata only: the task's input (object template or expression). */
  readonly arguments?: Json;
  /** JSONata only. */
  readonly output?: Json;
}

/** A Pass state. */
export interface PassState extends StateBase, Transition {
  readonly type: "Pass";
  /** JSONPath: the fixed result (`Result`), when given. */
  readonly result?: Json;
  readonly io?: JsonPathIo & { readonly parameters?: JsonObject; readonly resultPath: string | null };
  readonly output?: Json;
}

/** One comparison or combination of a JSONPath Choice rule. */
export type ChoiceCondition =
  | { readonly kind: "and"; readonly of: readonly ChoiceCondition[] }
  | { readonly kind: "or"; readonly of: readonly ChoiceCondition[] }
  | { readonly kind: "not"; readonly of: ChoiceCondition }
  | {
      readonly kind: "compare";
      /** A reference path (`$.x`, `$$.x`, `$var`). */
      readonly variable: string;
      /** A key of choice.ts comparisonOperators. */
      readonly operator: string;
      /** The literal operand (string, number, boolean), or a reference path for `…Path` operators. */
      readonly operand: string | number | boolean;
    };

/** A top-level Choice rule: JSONPath rules have `when`, JSONata rules `condition` (a `{% %}` expression or a boolean). */
export interface ChoiceRule {
  readonly path: string;
  /** The rule as written (what choice.ts evaluateChoiceRule takes). */
  readonly rule: JsonObject;
  readonly next: string;
  readonly when?: ChoiceCondition;
  readonly condition?: OrExpression<boolean>;
  readonly assign?: JsonObject;
  /** JSONata only. */
  readonly output?: Json;
}

/** A Choice state: the first matching rule's `next`, else `default`, else States.NoChoiceMatched. */
export interface ChoiceState extends StateBase {
  readonly type: "Choice";
  readonly choices: readonly ChoiceRule[];
  readonly default?: string;
  readonly io?: JsonPathIo;
  readonly output?: Json;
}

/** A Wait state: exactly one of seconds, timestamp, secondsPath, timestampPath. */
export interface WaitState extends StateBase, Transition {
  readonly type: "Wait";
  /** Non-negative integer, or an expression (JSONata). */
  readonly seconds?: OrExpression<number>;
  /** RFC 3339 timestamp, or an expression (JSONata). */
  readonly timestamp?: string;
  readonly secondsPath?: string;
  readonly timestampPath?: string;
  readonly io?: JsonPathIo;
  readonly output?: Json;
}

/** A Succeed state (terminal). */
export interface SucceedState extends StateBase {
  readonly type: "Succeed";
  readonly io?: JsonPathIo;
  readonly output?: Json;
}

/** A Fail state (terminal): at most one of error/errorPath and of cause/causePath. */
export interface FailState extends StateBase {
  readonly type: "Fail";
  /** Literal, or an expression (JSONata). */
  readonly error?: string;
  readonly cause?: string;
  /** JSONPath only: a reference path or an intrinsic call. */
  readonly errorPath?: string;
  readonly causePath?: string;
}

/** A Parallel state: every branch runs on the state's input; the result is the array of branch outputs. */
export interface ParallelState extends StateBase, Transition {
  readonly type: "Parallel";
  readonly branches: readonly StateMachine[];
  readonly retry: readonly Retrier[];
  readonly catch: readonly Catcher[];
  readonly io?: JsonPathIo & JsonPathResult;
  readonly arguments?: Json;
  readonly output?: Json;
}

/**
 * A Map state in INLINE mode (the only mode taskgate runs; DISTRIBUTED and its fields are refused
 * at parse time, as are ToleratedFailure*). `Iterator` is read as `itemProcessor`, and the older
 * `Parameters` as `itemSelector`.
 */
export interface MapState extends StateBase, Transition {
  readonly type: "Map";
  readonly itemProcessor: StateMachine;
  readonly processorMode: "INLINE";
  /** JSONPath states: where the items are, a reference path ("$" when not given); absent in JSONata states. */
  readonly itemsPath?: string;
  /** JSONata: the items (an array or an expression); the state input when absent. */
  readonly items?: Json;
  /** A template applied per item (JSONPath payload template or JSONata template). */
  readonly itemSelector?: Json;
  /** Non-negative integer, or an expression (JSONata); absent or 0 means no limit. */
  readonly maxConcurrency?: OrExpression<number>;
  readonly maxConcurrencyPath?: string;
  readonly retry: readonly Retrier[];
  readonly catch: readonly Catcher[];
  readonly io?: JsonPathIo & { readonly resultSelector?: JsonObject; readonly resultPath: string | null };
  readonly output?: Json;
}

/** Any state; `type` discriminates. */
export type State = TaskState | PassState | ChoiceState | WaitState | SucceedState | FailState | ParallelState | MapState;

/** A diagnostic as ValidateStateMachineDefinition reports it (code, message and location in AWS's words). */
export interface Diagnostic {
  readonly severity: "ERROR" | "WARNING";
  readonly code: string;
  readonly message: string;
  /** A JSON-pointer-like place ("/States/Foo/Next", "/States/T/Retry[0]/ErrorEquals[0]"); absent when AWS gives none. */
  readonly location?: string;
}

/** Every state of a machine and of its nested machines, depth first in definition order. */
export function allStates(machine: StateMachine): State[] {
  const out: State[] = [];
  for (const state of machine.states) {
    out.push(state);
    for (const nested of nestedMachines(state)) out.push(...allStates(nested));
  }
  return out;
}

/** The machines nested directly in a state: a Parallel's branches, a Map's item processor. */
export function nestedMachines(state: State): readonly StateMachine[] {
  if (state.type === "Parallel") return state.branches;
  if (state.type === "Map") return [state.itemProcessor];
  return [];
}
