// How each state type runs inside one thread (the top level, a Parallel branch or a Map
// iteration): entering, waiting, resuming on an event, retrying, catching, exiting, and aborting.
// A thread runs state after state until one must wait (a task, a timer, its child threads) or the
// thread ends (a terminal state, or an error no Retry/Catch takes).

import type { MapState, ParallelState, State, StateMachine, TaskState, WaitState, Catcher } from "../asl/definition.ts";
import { StatesError } from "../asl/errors.ts";
import { isJsonObject, type Json, type JsonObject } from "../asl/json.ts";
import { evaluateChoiceRule, parseTimestamp } from "../asl/choice.ts";
import { itemsAt, stateInput, stateOutput, type DataFlowScope } from "../asl/data-flow.ts";
import { evaluateJsonata, evaluateJsonataAs, isJsonataExpression, type JsonataBindings, type StatesVariable } from "../asl/jsonata.ts";
import { applyResultPath, evaluatePath } from "../asl/paths.ts";
import { evaluateTemplate } from "../asl/template.ts";
import { DATA_LIMIT_EXCEEDED, evaluateAssignJsonata, evaluateAssignJsonPath, jsonBytes, VariableScope } from "../asl/variables.ts";
import { backoffMs, catcherFor, retrierFor } from "./retry-catch.ts";
import { contextObject, HistoryLimitReached, NOT_TRUNCATED, text, type Run } from "./run.ts";
import type { OpenState, ThreadState, Waiting } from "./state.ts";
import { DEFAULT_TASK_TIMEOUT_SECONDS, MAX_PAYLOAD_BYTES } from "./types.ts";

/** A thread with the machine it runs and the threads around it (outermost first): what variable scopes and nesting need. */
export interface Frame {
  readonly machine: StateMachine;
  readonly thread: ThreadState;
  readonly ancestors: readonly ThreadState[];
}

/** How a thread ended, or that it waits. */
export type Outcome = { kind: "blocked" } | { kind: "done"; output: Json } | Failure;

/** A thread or state that failed: the error Retry/Catch match and the cause reported with it. */
export interface Failure {
  kind: "failed";
  error: string;
  cause?: string;
  /** Other names Retry/Catch may match it by (States.HeartbeatTimeout for a heartbeat timeout). */
  aliases?: readonly string[];
}

/** What a state hands to its thread: go on to `name` with `input`, or an Outcome. */
export type StepOut = { kind: "next"; name: string; input: Json } | Outcome;

const BLOCKED: Outcome = { kind: "blocked" };

/** The frame of a child thread (a branch or an iteration) of `parent`. */
export function childFrame(parent: Frame, machine: StateMachine, thread: ThreadState): Frame {
  return { machine, thread, ancestors: [...parent.ancestors, parent.thread] };
}

/** A new child thread of `parent`: no variables, its history chained after the parent's last event. */
export function newThread(parent: ThreadState, item?: { index: number; value: Json }): ThreadState {
  return { variables: {}, lastEventId: parent.lastEventId, ...(item === undefined ? {} : { item }) };
}

/** The state a thread has open. */
function stateOf(f: Frame, open: OpenState): State {
  const state = f.machine.index.get(open.name);
  if (state === undefined) throw new Error(`The stored execution names a state '${open.name}' its machine does not have`);
  return state;
}

/** The variable scope of a frame: its own variables inside its ancestors'. */
function scopeOf(f: Frame): VariableScope {
  let scope: VariableScope | undefined;
  for (const t of [...f.ancestors, f.thread]) scope = VariableScope.fromJson({ variables: t.variables }, scope);
  return scope as VariableScope;
}

/** Runs a thread from `out` until it waits or ends; an ended thread has no open state, and `output` when it succeeded. */
export async function drive(run: Run, f: Frame, out: StepOut): Promise<Outcome> {
  let next = out;
  while (next.kind === "next") next = await enter(run, f, next.name, next.input);
  if (next.kind !== "blocked") f.thread.open = undefined;
  if (next.kind === "done") f.thread.output = next.output;
  return next;
}

/** The runtime-error cause AWS writes: where the error happened, then why. */
function runtimeCause(open: OpenState, detail: string): string {
  return `An error occurred while executing the state '${open.name}' (entered at the event id #${open.enteredEventId}). ${detail}`;
}

/** A StatesError raised by the state's own processing, as a Failure (EvaluationFailed is emitted for JSONata errors, as AWS does). */
function processingFailure(run: Run, f: Frame, open: OpenState, e: unknown): Failure {
  if (e instanceof HistoryLimitReached || !(e instanceof StatesError)) throw e;
  const cause = runtimeCause(open, e.detail);
  if (e.error === "States.QueryEvaluationError") {
    const location = /specified for the field '([^']*)'/.exec(e.detail)?.[1];
    run.emit(f.thread, "EvaluationFailed", {
      evaluationFailedEventDetails: { error: e.error, cause, ...(location === undefined ? {} : { location }), state: open.name },
    });
  }
  return { kind: "failed", error: e.error, cause };
}

/** Runs `work` for the open state; a StatesError it raises goes to the state's Retry/Catch (Task, Parallel, Map) or fails the thread. */
async function guarded(run: Run, f: Frame, open: OpenState, work: () => Promise<StepOut>): Promise<StepOut> {
  try {
    return await work();
  } catch (e) {
    return handleError(run, f, open, processingFailure(run, f, open, e));
  }
}

/** Enters state `name` with raw input `input`. */
async function enter(run: Run, f: Frame, name: string, input: Json): Promise<StepOut> {
  const state = f.machine.index.get(name);
  if (state === undefined) throw new Error(`No state '${name}' in the machine at '${f.machine.path}'`);
  const enteredEventId = run.emit(f.thread, `${state.type}StateEntered`, {
    stateEnteredEventDetails: { name, input: text(input), inputDetails: NOT_TRUNCATED },
  });
  const open: OpenState = { name, input, enteredMs: run.env.nowMs, enteredEventId, retries: [], retryCount: 0 };
  f.thread.open = open;
  return guarded(run, f, open, async () => {
    checkSize(input, `The state '${name}' received an input with a size exceeding the maximum number of bytes service limit.`);
    return begin(run, f, state, open);
  });
}

/** States.DataLimitExceeded when a value is over 256 KiB of JSON text. */
function checkSize(value: Json, cause: string): void {
  if (jsonBytes(value) > MAX_PAYLOAD_BYTES) throw new StatesError(DATA_LIMIT_EXCEEDED, cause);
}

/** What paths and templates of the open state read. */
function pathScope(run: Run, f: Frame, open: OpenState, input: Json, item?: { index: number; value: Json }): { input: Json; context: Json; variables: Record<string, Json> } {
  return { input, context: contextObject(run, open, item), variables: scopeOf(f).visible() };
}

/** What JSONata expressions of the open state see. */
function bindings(run: Run, f: Frame, open: OpenState, extra: Partial<StatesVariable> = {}, item?: { index: number; value: Json }): JsonataBindings {
  return { states: { input: open.input, context: contextObject(run, open, item), ...extra }, variables: scopeOf(f).visible(), nowMs: run.env.nowMs };
}

/** The JSONPath I/O fields a state may have, all optional. */
interface IoFields {
  readonly inputPath?: string | null;
  readonly outputPath?: string | null;
  readonly parameters?: JsonObject;
  readonly resultSelector?: JsonObject;
  readonly resultPath?: string | null;
}

/** The JSONPath I/O fields of a state, with AWS's defaults. */
function io(state: State): { inputPath: string | null; outputPath: string | null; parameters?: JsonObject; resultSelector?: JsonObject; resultPath: string | null } {
  const d: IoFields = ("io" in state ? state.io : undefined) ?? {};
  return {
    inputPath: d.inputPath === undefined ? "$" : d.inputPath,
    outputPath: d.outputPath === undefined ? "$" : d.outputPath,
    ...(d.parameters === undefined ? {} : { parameters: d.parameters }),
    ...(d.resultSelector === undefined ? {} : { resultSelector: d.resultSelector }),
    resultPath: d.resultPath === undefined ? "$" : d.resultPath,
  };
}

/** The effective input of a JSONPath state (InputPath, then Parameters when `withParameters`). */
function effectiveInputJsonPath(run: Run, f: Frame, state: State, open: OpenState, withParameters: boolean): Json {
  const fields = io(state);
  const scope: DataFlowScope = { context: contextObject(run, open), variables: scopeOf(f).visible() };
  return stateInput({ InputPath: fields.inputPath, ...(withParameters && fields.parameters !== undefined ? { Parameters: fields.parameters } : {}) }, open.input, scope, run.env);
}

/** A JSONPath state's output from its effective input alone (OutputPath). */
function outputPathOnly(run: Run, f: Frame, state: State, open: OpenState, effective: Json): Json {
  const scope: DataFlowScope = { context: contextObject(run, open), variables: scopeOf(f).visible() };
  return stateOutput({ OutputPath: io(state).outputPath }, effective, effective, scope, run.env);
}

/** Evaluates an Assign (JSONPath: `$` is `dollar`; JSONata: `$states` as given) with the variables from before the state. */
async function evaluateAssign(run: Run, f: Frame, open: OpenState, state: State, assign: JsonObject | undefined, dollar: Json, extra: Partial<StatesVariable>): Promise<Record<string, Json> | undefined> {
  if (assign === undefined) return undefined;
  if (state.queryLanguage === "JSONata") return evaluateAssignJsonata(assign, bindings(run, f, open, extra), run.env);
  return evaluateAssignJsonPath(assign, pathScope(run, f, open, dollar), run.env);
}

/** Applies evaluated assignments to the thread's scope; returns assignedVariables for the StateExited event. */
function applyAssign(f: Frame, values: Record<string, Json> | undefined): Record<string, string> | undefined {
  if (values === undefined) return undefined;
  const scope = scopeOf(f);
  const texts = scope.assign(values);
  f.thread.variables = scope.own() as JsonObject;
  return texts;
}

/**
 * Exits the open state with `output`, applying its evaluated Assign `values` (only once the
 * output is known to fit), and goes on to `next` (its Next, or a Catcher's), or ends the thread.
 */
function exit(run: Run, f: Frame, state: State, output: Json, values: Record<string, Json> | undefined, next?: string): StepOut {
  checkSize(output, `The state '${state.name}' returned an output with a size exceeding the maximum number of bytes service limit.`);
  const assigned = applyAssign(f, values);
  run.emit(f.thread, `${state.type}StateExited`, {
    stateExitedEventDetails: {
      name: state.name,
      output: text(output),
      outputDetails: NOT_TRUNCATED,
      ...(assigned === undefined ? {} : { assignedVariables: assigned, assignedVariablesDetails: NOT_TRUNCATED }),
    },
  });
  f.thread.open = undefined;
  const target = next ?? ("next" in state ? state.next : undefined);
  if (target === undefined) return { kind: "done", output };
  return { kind: "next", name: target, input: output };
}

/** Runs a state just entered. */
async function begin(run: Run, f: Frame, state: State, open: OpenState): Promise<StepOut> {
  const jsonata = state.queryLanguage === "JSONata";
  switch (state.type) {
    case "Pass": {
      if (jsonata) {
        const output = state.output === undefined ? open.input : await evaluateJsonata(state.output, bindings(run, f, open), run.env, "Output");
        const values = await evaluateAssign(run, f, open, state, state.assign, open.input, {});
        return exit(run, f, state, output, values);
      }
      const effective = effectiveInputJsonPath(run, f, state, open, true);
      const result = state.result !== undefined ? state.result : effective;
      const fields = io(state);
      const scope: DataFlowScope = { context: contextObject(run, open), variables: scopeOf(f).visible() };
      const output = stateOutput({ ResultPath: fields.resultPath, OutputPath: fields.outputPath }, open.input, result, scope, run.env);
      const values = await evaluateAssign(run, f, open, state, state.assign, result, {});
      return exit(run, f, state, output, values);
    }
    case "Choice": {
      const effective = jsonata ? open.input : effectiveInputJsonPath(run, f, state, open, false);
      for (const rule of state.choices) {
        let holds: boolean;
        if (jsonata) {
          const c = rule.condition;
          holds = typeof c === "string" ? (await evaluateJsonataAs(c, bindings(run, f, open), run.env, "Condition", "boolean")) === true : c === true;
        } else {
          holds = evaluateChoiceRule(rule.rule, pathScope(run, f, open, effective));
        }
        if (!holds) continue;
        const outputTemplate = rule.output ?? state.output;
        const output = jsonata
          ? outputTemplate === undefined ? open.input : await evaluateJsonata(outputTemplate, bindings(run, f, open), run.env, "Output")
          : outputPathOnly(run, f, state, open, effective);
        const values = await evaluateAssign(run, f, open, state, rule.assign, effective, {});
        return exit(run, f, state, output, values, rule.next);
      }
      if (state.default === undefined) throw new StatesError("States.NoChoiceMatched", "No Matches!");
      const output = jsonata
        ? state.output === undefined ? open.input : await evaluateJsonata(state.output, bindings(run, f, open), run.env, "Output")
        : outputPathOnly(run, f, state, open, effective);
      const values = await evaluateAssign(run, f, open, state, state.assign, effective, {});
      return exit(run, f, state, output, values, state.default);
    }
    case "Wait": {
      const fireAtMs = await waitUntil(run, f, state, open);
      const timerRef = run.mintTimer();
      run.command({ type: "startTimer", timerRef, fireAtMs });
      open.wait = { kind: "timer", timerRef, purpose: "wait" };
      return BLOCKED;
    }
    case "Succeed": {
      const output = jsonata
        ? state.output === undefined ? open.input : await evaluateJsonata(state.output, bindings(run, f, open), run.env, "Output")
        : outputPathOnly(run, f, state, open, effectiveInputJsonPath(run, f, state, open, false));
      const values = await evaluateAssign(run, f, open, state, state.assign, open.input, {});
      return exit(run, f, state, output, values);
    }
    case "Fail": {
      const error = await failField(run, f, state.queryLanguage, open, state.error, state.errorPath, "Error");
      const cause = await failField(run, f, state.queryLanguage, open, state.cause, state.causePath, "Cause");
      return { kind: "failed", error: error ?? "", ...(cause === undefined ? {} : { cause }) };
    }
    case "Task":
      return scheduleAttempt(run, f, state, open);
    case "Parallel":
      return startParallel(run, f, state, open);
    case "Map":
      return startMap(run, f, state, open);
  }
}

/** A Fail state's Error or Cause: literal, JSONata expression, or ErrorPath/CausePath (a reference path or an intrinsic). */
async function failField(run: Run, f: Frame, ql: string, open: OpenState, literal: string | undefined, path: string | undefined, field: string): Promise<string | undefined> {
  if (literal !== undefined) {
    if (ql === "JSONata" && isJsonataExpression(literal)) return String(await evaluateJsonataAs(literal, bindings(run, f, open), run.env, field, "string"));
    return literal;
  }
  if (path === undefined) return undefined;
  const value = evaluateTemplate({ [`${field}.$`]: path }, pathScope(run, f, open, open.input), run.env);
  const v = isJsonObject(value) ? value[field] : undefined;
  if (typeof v !== "string") throw new StatesError("States.Runtime", `The ${field}Path '${path}' must reference a string, got ${JSON.stringify(v ?? null)}`);
  return v;
}

/** When a Wait state's timer fires (epoch ms). */
async function waitUntil(run: Run, f: Frame, state: WaitState, open: OpenState): Promise<number> {
  const now = run.env.nowMs;
  if (state.queryLanguage === "JSONata") {
    if (state.seconds !== undefined) {
      const s = typeof state.seconds === "number" ? state.seconds : Number(await evaluateJsonataAs(state.seconds, bindings(run, f, open), run.env, "Seconds", "integer"));
      if (s < 0) throw new StatesError("States.QueryEvaluationError", `The JSONata expression specified for the field 'Seconds' returned a negative number: ${s}`);
      return now + s * 1000;
    }
    const t = state.timestamp ?? "";
    const value = isJsonataExpression(t) ? String(await evaluateJsonataAs(t, bindings(run, f, open), run.env, "Timestamp", "string")) : t;
    const ns = parseTimestamp(value);
    if (ns === undefined) {
      throw new StatesError("States.QueryEvaluationError", `The Timestamp field does not reference a valid ISO-8601 extended offset date-time format string: ${value}`);
    }
    return Number(ns / 1_000_000n);
  }
  const effective = effectiveInputJsonPath(run, f, state, open, false);
  if (typeof state.seconds === "number") return now + state.seconds * 1000;
  if (state.timestamp !== undefined) return Number((parseTimestamp(state.timestamp) ?? 0n) / 1_000_000n);
  const scope = pathScope(run, f, open, effective);
  if (state.secondsPath !== undefined) {
    const s = evaluatePath(state.secondsPath, effective, scope.context, scope.variables);
    if (typeof s !== "number" || !Number.isInteger(s) || s < 0) {
      throw new StatesError("States.Runtime", `The SecondsPath parameter does not reference a valid non-negative integer value: ${state.secondsPath} == ${JSON.stringify(s)}`);
    }
    return now + s * 1000;
  }
  const path = state.timestampPath ?? "$";
  const t = evaluatePath(path, effective, scope.context, scope.variables);
  const ns = typeof t === "string" ? parseTimestamp(t) : undefined;
  if (ns === undefined) {
    throw new StatesError("States.Runtime", `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${path} == ${typeof t === "string" ? t : JSON.stringify(t)}`);
  }
  return Number(ns / 1_000_000n);
}

/** A Task's TimeoutSeconds or HeartbeatSeconds: literal, JSONata expression, or *Path (a positive integer). */
async function taskSeconds(run: Run, f: Frame, state: TaskState, open: OpenState, value: number | string | undefined, path: string | undefined, field: string): Promise<number | undefined> {
  let n: Json | undefined;
  if (typeof value === "number") return value;
  if (typeof value === "string") n = await evaluateJsonataAs(value, bindings(run, f, open), run.env, field, "integer");
  else if (path !== undefined) {
    const scope = pathScope(run, f, open, open.input);
    n = evaluatePath(path, open.input, scope.context, scope.variables);
  } else return undefined;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > DEFAULT_TASK_TIMEOUT_SECONDS) {
    const error = state.queryLanguage === "JSONata" ? "States.QueryEvaluationError" : "States.Runtime";
    throw new StatesError(error, `The ${field} value must be a positive integer of at most ${DEFAULT_TASK_TIMEOUT_SECONDS}, got ${JSON.stringify(n)}`);
  }
  return n;
}

/**
 * The effective input of a Task or Parallel attempt (Map: of the Map state), evaluated anew for
 * each attempt so that `$$.State.RetryCount` counts: InputPath and Parameters, or Arguments.
 */
async function argumentsOf(run: Run, f: Frame, state: TaskState | ParallelState | MapState, open: OpenState): Promise<Json> {
  let input: Json;
  if (state.queryLanguage === "JSONata") {
    const args = state.type === "Map" ? undefined : state.arguments;
    input = args === undefined ? open.input : await evaluateJsonata(args, bindings(run, f, open), run.env, "Arguments");
  } else {
    input = effectiveInputJsonPath(run, f, state, open, state.type !== "Map");
  }
  open.effectiveInput = input;
  return input;
}

/** Schedules one attempt of a Task state's activity (a new taskRef per attempt). */
async function scheduleAttempt(run: Run, f: Frame, state: TaskState, open: OpenState): Promise<StepOut> {
  const input = await argumentsOf(run, f, state, open);
  const timeoutSeconds = await taskSeconds(run, f, state, open, state.timeoutSeconds, state.timeoutSecondsPath, "TimeoutSeconds");
  const heartbeatSeconds = await taskSeconds(run, f, state, open, state.heartbeatSeconds, state.heartbeatSecondsPath, "HeartbeatSeconds");
  checkSize(input, `The state '${state.name}' produced a task input with a size exceeding the maximum number of bytes service limit.`);
  const taskRef = run.mintTask();
  run.command({
    type: "scheduleActivity",
    taskRef,
    activityArn: state.resource,
    input: text(input),
    timeoutSeconds: timeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS,
    ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }),
  });
  run.emit(f.thread, "ActivityScheduled", {
    activityScheduledEventDetails: {
      resource: state.resource,
      input: text(input),
      inputDetails: NOT_TRUNCATED,
      ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
      ...(heartbeatSeconds === undefined ? {} : { heartbeatInSeconds: heartbeatSeconds }),
    },
  });
  open.wait = { kind: "task", taskRef, started: false };
  return BLOCKED;
}

/** Finishes a Task, Parallel or Map state with its result: ResultSelector/ResultPath/OutputPath or Output, then Assign, then exit. */
async function finishWithResult(run: Run, f: Frame, state: TaskState | ParallelState | MapState, open: OpenState, result: Json): Promise<StepOut> {
  if (state.queryLanguage === "JSONata") {
    const output = state.output === undefined ? result : await evaluateJsonata(state.output, bindings(run, f, open, { result }), run.env, "Output");
    const values = await evaluateAssign(run, f, open, state, state.assign, result, { result });
    return exit(run, f, state, output, values);
  }
  const fields = io(state);
  const scope = pathScope(run, f, open, result);
  const selected = fields.resultSelector === undefined ? result : evaluateTemplate(fields.resultSelector, scope, run.env);
  const output = stateOutput({ ResultPath: fields.resultPath, OutputPath: fields.outputPath }, open.input, selected, scope, run.env);
  const values = await evaluateAssign(run, f, open, state, state.assign, selected, {});
  return exit(run, f, state, output, values);
}

/**
 * An error of the open state: the first matching Retrier with attempts left starts a back-off
 * timer; else the first matching Catcher exits the state to its Next; else the thread fails.
 * Only Task, Parallel and Map states have Retry and Catch.
 */
async function handleError(run: Run, f: Frame, open: OpenState, failure: Failure): Promise<StepOut> {
  const state = stateOf(f, open);
  if (state.type !== "Task" && state.type !== "Parallel" && state.type !== "Map") return failure;
  const r = retrierFor(state.retry, failure.error, failure.aliases);
  if (r >= 0) {
    const retrier = state.retry[r];
    const used = open.retries[r] ?? 0;
    if (used < retrier.maxAttempts) {
      const delay = backoffMs(retrier, used, run.env.random);
      while (open.retries.length <= r) open.retries.push(0);
      open.retries[r] = used + 1;
      open.retryCount += 1;
      const timerRef = run.mintTimer();
      run.command({ type: "startTimer", timerRef, fireAtMs: run.env.nowMs + delay });
      open.wait = { kind: "timer", timerRef, purpose: "retry" };
      return BLOCKED;
    }
  }
  const catcher = catcherFor(state.catch, failure.error, failure.aliases);
  if (catcher === undefined) return failure;
  try {
    return await caught(run, f, state, open, catcher, failure);
  } catch (e) {
    return processingFailure(run, f, open, e);
  }
}

/** Exits a state through a Catcher: the error output `{ Error, Cause }` placed by ResultPath (JSONPath) or shaped by Output (JSONata). */
async function caught(run: Run, f: Frame, state: TaskState | ParallelState | MapState, open: OpenState, catcher: Catcher, failure: Failure): Promise<StepOut> {
  const errorOutput: JsonObject = { Error: failure.error, ...(failure.cause === undefined ? {} : { Cause: failure.cause }) };
  let output: Json;
  if (state.queryLanguage === "JSONata") {
    output = catcher.output === undefined ? errorOutput : await evaluateJsonata(catcher.output, bindings(run, f, open, { errorOutput }), run.env, "Output");
  } else {
    output = applyResultPath(open.input, errorOutput, catcher.resultPath === undefined ? "$" : catcher.resultPath);
  }
  const values = await evaluateAssign(run, f, open, state, catcher.assign, errorOutput, { errorOutput });
  return exit(run, f, state, output, values, catcher.next);
}

/** Starts (or restarts, on a retry) a Parallel state's branches on its effective input. */
async function startParallel(run: Run, f: Frame, state: ParallelState, open: OpenState): Promise<StepOut> {
  const input = await argumentsOf(run, f, state, open);
  run.emit(f.thread, "ParallelStateStarted");
  const branches = state.branches.map(() => newThread(f.thread));
  open.wait = { kind: "parallel", branches };
  for (let i = 0; i < branches.length; i++) {
    const bf = childFrame(f, state.branches[i], branches[i]);
    const outcome = await drive(run, bf, { kind: "next", name: state.branches[i].startAt, input });
    f.thread.lastEventId = Math.max(f.thread.lastEventId, branches[i].lastEventId);
    if (outcome.kind === "failed") return parallelFailed(run, f, state, open, outcome);
  }
  return parallelProgress(run, f, state, open);
}

/** A Parallel state after a branch changed: done when every branch has its output. */
async function parallelProgress(run: Run, f: Frame, state: ParallelState, open: OpenState): Promise<StepOut> {
  const w = open.wait;
  if (w?.kind !== "parallel") return BLOCKED;
  const outputs: Json[] = [];
  for (const b of w.branches) {
    if (b.output === undefined) return BLOCKED;
    outputs.push(b.output);
  }
  run.emit(f.thread, "ParallelStateSucceeded");
  return guarded(run, f, open, () => finishWithResult(run, f, state, open, outputs));
}

/** A branch failed: the others are aborted, the Parallel state fails with the branch's error. */
async function parallelFailed(run: Run, f: Frame, state: ParallelState, open: OpenState, failure: Failure): Promise<StepOut> {
  const w = open.wait;
  if (w?.kind === "parallel") w.branches.forEach((b, i) => abortThread(run, childFrame(f, state.branches[i], b)));
  run.emit(f.thread, "ParallelStateFailed");
  return handleError(run, f, open, failure);
}

/** The iteration limit of a Map state (0: none). */
async function maxConcurrency(run: Run, f: Frame, state: MapState, open: OpenState): Promise<number> {
  let n: Json;
  if (typeof state.maxConcurrency === "number") return state.maxConcurrency;
  if (typeof state.maxConcurrency === "string") n = await evaluateJsonataAs(state.maxConcurrency, bindings(run, f, open), run.env, "MaxConcurrency", "integer");
  else if (state.maxConcurrencyPath !== undefined) {
    const scope = pathScope(run, f, open, open.effectiveInput ?? open.input);
    n = evaluatePath(state.maxConcurrencyPath, scope.input, scope.context, scope.variables);
  } else return 0;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new StatesError(state.queryLanguage === "JSONata" ? "States.QueryEvaluationError" : "States.Runtime", `The MaxConcurrency value must be a non-negative integer, got ${JSON.stringify(n)}`);
  }
  return n;
}

/** Starts (or restarts, on a retry) a Map state: its items, MapStateStarted, then as many iterations as MaxConcurrency allows. */
async function startMap(run: Run, f: Frame, state: MapState, open: OpenState): Promise<StepOut> {
  await argumentsOf(run, f, state, open);
  let items: Json[];
  if (state.queryLanguage === "JSONata") {
    const value = state.items === undefined ? open.input : await evaluateJsonataAs(state.items, bindings(run, f, open), run.env, "Items", "array");
    if (!Array.isArray(value)) throw new StatesError("States.QueryEvaluationError", `The Map state's input must be an array when Items is not given, got ${JSON.stringify(value)}`);
    items = value;
  } else {
    const effective = open.effectiveInput ?? open.input;
    items = itemsAt(state.itemsPath, effective, { context: contextObject(run, open), variables: scopeOf(f).visible() });
  }
  const limit = await maxConcurrency(run, f, state, open);
  run.emit(f.thread, "MapStateStarted", { mapStateStartedEventDetails: { length: items.length } });
  open.wait = { kind: "map", items, maxConcurrency: limit, iterations: [] };
  return mapProgress(run, f, state, open);
}

/** The input of iteration `index`: ItemSelector (with `$$.Map.Item`) or the item itself. */
async function iterationInput(run: Run, f: Frame, state: MapState, open: OpenState, index: number, value: Json): Promise<Json> {
  if (state.itemSelector === undefined) return value;
  const item = { index, value };
  if (state.queryLanguage === "JSONata") return evaluateJsonata(state.itemSelector, bindings(run, f, open, {}, item), run.env, "ItemSelector");
  return evaluateTemplate(state.itemSelector, pathScope(run, f, open, open.effectiveInput ?? open.input, item), run.env);
}

/** A Map state after an iteration changed: starts iterations while under MaxConcurrency; done when every item's iteration succeeded. */
async function mapProgress(run: Run, f: Frame, state: MapState, open: OpenState): Promise<StepOut> {
  for (;;) {
    const w = open.wait;
    if (w?.kind !== "map") return BLOCKED;
    const running = w.iterations.filter((t) => t.output === undefined).length;
    if (w.iterations.length === w.items.length) {
      if (running > 0) return BLOCKED;
      run.emit(f.thread, "MapStateSucceeded");
      const outputs = w.iterations.map((t) => t.output ?? null);
      return guarded(run, f, open, () => finishWithResult(run, f, state, open, outputs));
    }
    if (w.maxConcurrency > 0 && running >= w.maxConcurrency) return BLOCKED;
    const index = w.iterations.length;
    const value = w.items[index];
    let input: Json;
    try {
      input = await iterationInput(run, f, state, open, index, value);
    } catch (e) {
      return mapFailed(run, f, state, open, processingFailure(run, f, open, e));
    }
    const thread = newThread(f.thread, { index, value });
    w.iterations.push(thread);
    run.emit(thread, "MapIterationStarted", { mapIterationStartedEventDetails: { name: state.name, index } });
    const outcome = await drive(run, childFrame(f, state.itemProcessor, thread), { kind: "next", name: state.itemProcessor.startAt, input });
    const next = await iterationEnded(run, f, state, open, thread, outcome);
    if (next !== undefined) return next;
  }
}

/** Records the end of a Map iteration: MapIterationSucceeded, or MapIterationFailed and the Map state fails. Undefined when the Map goes on. */
async function iterationEnded(run: Run, f: Frame, state: MapState, open: OpenState, thread: ThreadState, outcome: Outcome): Promise<StepOut | undefined> {
  if (outcome.kind === "blocked") return undefined;
  const index = thread.item?.index ?? 0;
  const kind = outcome.kind === "done" ? "MapIterationSucceeded" : "MapIterationFailed";
  const key = outcome.kind === "done" ? "mapIterationSucceededEventDetails" : "mapIterationFailedEventDetails";
  run.emit(thread, kind, { [key]: { name: state.name, index } });
  f.thread.lastEventId = thread.lastEventId;
  if (outcome.kind === "failed") return mapFailed(run, f, state, open, outcome);
  return undefined;
}

/** An iteration (or the ItemSelector) failed: open iterations are aborted, the Map state fails with that error. */
async function mapFailed(run: Run, f: Frame, state: MapState, open: OpenState, failure: Failure): Promise<StepOut> {
  const w = open.wait;
  if (w?.kind === "map") {
    for (const t of w.iterations) {
      if (t.open === undefined) continue;
      abortThread(run, childFrame(f, state.itemProcessor, t));
      run.emit(t, "MapIterationAborted", { mapIterationAbortedEventDetails: { name: state.name, index: t.item?.index ?? 0 } });
    }
  }
  run.emit(f.thread, "MapStateFailed");
  return handleError(run, f, open, failure);
}

/** Ends a thread's open state because a sibling failed: cancels its task or timer, aborts nested threads, and emits the *Aborted events AWS has. */
export function abortThread(run: Run, f: Frame): void {
  const open = f.thread.open;
  if (open === undefined) return;
  const state = stateOf(f, open);
  const w = open.wait;
  if (w?.kind === "task") run.command({ type: "cancelActivity", taskRef: w.taskRef });
  if (w?.kind === "timer") run.command({ type: "cancelTimer", timerRef: w.timerRef });
  if (w?.kind === "parallel" && state.type === "Parallel") w.branches.forEach((b, i) => abortThread(run, childFrame(f, state.branches[i], b)));
  if (w?.kind === "map" && state.type === "Map") {
    for (const t of w.iterations) {
      if (t.open === undefined) continue;
      abortThread(run, childFrame(f, state.itemProcessor, t));
      run.emit(t, "MapIterationAborted", { mapIterationAbortedEventDetails: { name: state.name, index: t.item?.index ?? 0 } });
    }
  }
  const aborted = { Task: "TaskStateAborted", Wait: "WaitStateAborted", Parallel: "ParallelStateAborted", Map: "MapStateAborted" } as Record<string, string>;
  const type = aborted[state.type];
  if (type !== undefined) run.emit(f.thread, type);
  f.thread.open = undefined;
}

/** Every task and timer ref open in a thread and its children. */
export function openRefs(thread: ThreadState): { tasks: string[]; timers: string[] } {
  const out = { tasks: [] as string[], timers: [] as string[] };
  const walk = (t: ThreadState): void => {
    const w: Waiting | undefined = t.open?.wait;
    if (w?.kind === "task") out.tasks.push(w.taskRef);
    if (w?.kind === "timer") out.timers.push(w.timerRef);
    if (w?.kind === "parallel") w.branches.forEach(walk);
    if (w?.kind === "map") w.iterations.forEach(walk);
  };
  walk(thread);
  return out;
}

/** The frames from the top level down to the thread whose open state waits on `ref`, or undefined when none does. */
export function findRef(root: Frame, ref: string): Frame[] | undefined {
  const open = root.thread.open;
  const w = open?.wait;
  if (open === undefined || w === undefined) return undefined;
  if ((w.kind === "task" && w.taskRef === ref) || (w.kind === "timer" && w.timerRef === ref)) return [root];
  const state = stateOf(root, open);
  const children: Frame[] = [];
  if (w.kind === "parallel" && state.type === "Parallel") w.branches.forEach((b, i) => children.push(childFrame(root, state.branches[i], b)));
  if (w.kind === "map" && state.type === "Map") for (const t of w.iterations) children.push(childFrame(root, state.itemProcessor, t));
  for (const c of children) {
    const found = findRef(c, ref);
    if (found !== undefined) return [root, ...found];
  }
  return undefined;
}

/** The engine's event for the open state of frame `f` (whose wait holds the event's ref). */
export type RefEvent =
  | { type: "taskStarted"; workerName?: string }
  | { type: "taskSucceeded"; output: string }
  | { type: "taskFailed"; error?: string; cause?: string }
  | { type: "taskTimedOut"; heartbeat: boolean }
  | { type: "taskScheduleFailed"; error: string; cause: string }
  | { type: "timerFired" };

/** Applies an event to the state waiting on its ref; returns what the thread does next. */
export async function resume(run: Run, f: Frame, event: RefEvent): Promise<StepOut> {
  const open = f.thread.open;
  if (open === undefined || open.wait === undefined) return BLOCKED;
  const state = stateOf(f, open);
  const w = open.wait;
  if (event.type === "timerFired") {
    if (w.kind !== "timer") return BLOCKED;
    open.wait = undefined;
    if (w.purpose === "wait") {
      return guarded(run, f, open, async () => {
        const output =
          state.queryLanguage === "JSONata"
            ? !("output" in state) || state.output === undefined ? open.input : await evaluateJsonata(state.output, bindings(run, f, open), run.env, "Output")
            : outputPathOnly(run, f, state, open, effectiveInputJsonPath(run, f, state, open, false));
        const values = await evaluateAssign(run, f, open, state, state.assign, open.input, {});
        return exit(run, f, state, output, values);
      });
    }
    return guarded(run, f, open, async () => {
      if (state.type === "Task") return scheduleAttempt(run, f, state, open);
      if (state.type === "Parallel") return startParallel(run, f, state, open);
      if (state.type === "Map") return startMap(run, f, state, open);
      return BLOCKED;
    });
  }
  if (w.kind !== "task" || state.type !== "Task") return BLOCKED;
  switch (event.type) {
    case "taskStarted":
      w.started = true;
      run.emit(f.thread, "ActivityStarted", { activityStartedEventDetails: event.workerName === undefined ? {} : { workerName: event.workerName } });
      return BLOCKED;
    case "taskSucceeded": {
      open.wait = undefined;
      run.emit(f.thread, "ActivitySucceeded", { activitySucceededEventDetails: { output: event.output, outputDetails: NOT_TRUNCATED } });
      return guarded(run, f, open, async () => {
        const result = JSON.parse(event.output) as Json;
        checkSize(result, `The state '${state.name}' returned a result with a size exceeding the maximum number of bytes service limit.`);
        return finishWithResult(run, f, state, open, result);
      });
    }
    case "taskFailed": {
      open.wait = undefined;
      run.emit(f.thread, "ActivityFailed", { activityFailedEventDetails: { ...(event.error === undefined ? {} : { error: event.error }), ...(event.cause === undefined ? {} : { cause: event.cause }) } });
      return handleError(run, f, open, { kind: "failed", error: event.error ?? "", ...(event.cause === undefined ? {} : { cause: event.cause }) });
    }
    case "taskTimedOut": {
      open.wait = undefined;
      const error = "States.Timeout";
      run.emit(f.thread, "ActivityTimedOut", { activityTimedOutEventDetails: { error } });
      return handleError(run, f, open, { kind: "failed", error, ...(event.heartbeat ? { aliases: ["States.HeartbeatTimeout"] } : {}) });
    }
    case "taskScheduleFailed": {
      open.wait = undefined;
      run.emit(f.thread, "ActivityScheduleFailed", { activityScheduleFailedEventDetails: { error: event.error, cause: event.cause } });
      return handleError(run, f, open, { kind: "failed", error: event.error, cause: event.cause });
    }
  }
}

/** A child thread of the open Parallel or Map state of `parent` ended or changed: what `parent`'s thread does next. */
export async function childChanged(run: Run, parent: Frame, child: ThreadState, outcome: Outcome): Promise<StepOut> {
  const open = parent.thread.open;
  if (open === undefined) return BLOCKED;
  const state = stateOf(parent, open);
  if (state.type === "Parallel") {
    if (outcome.kind === "blocked") return BLOCKED;
    parent.thread.lastEventId = Math.max(parent.thread.lastEventId, child.lastEventId);
    if (outcome.kind === "failed") return parallelFailed(run, parent, state, open, outcome);
    return parallelProgress(run, parent, state, open);
  }
  if (state.type === "Map") {
    const ended = await iterationEnded(run, parent, state, open, child, outcome);
    if (ended !== undefined) return ended;
    if (outcome.kind === "blocked") return BLOCKED;
    return mapProgress(run, parent, state, open);
  }
  return BLOCKED;
}
