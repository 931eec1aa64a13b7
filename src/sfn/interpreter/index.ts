// The Step Functions interpreter: start an execution, then step it one event at a time. Pure:
// the result depends only on the arguments (time is env.nowMs; randomness, hashing and ids are
// env's), and the state given is never modified. See docs/sfn-interpreter.md for the design.

import type { StateMachine } from "../asl/definition.ts";
import type { Json } from "../asl/json.ts";
import { HistoryLimitReached, NOT_TRUNCATED, Run, text } from "./run.ts";
import { childChanged, drive, findRef, openRefs, resume, type Frame, type Outcome, type RefEvent } from "./states.ts";
import type { RunState } from "./state.ts";
import {
  MAX_HISTORY_EVENTS,
  type ExecutionContext,
  type ExecutionEvent,
  type ExecutionState,
  type ExecutionStatus,
  type InterpreterEnv,
  type StepResult,
} from "./types.ts";

/** The contract's types and limits, so the engine imports the interpreter from this one module. */
export type * from "./types.ts";
export { MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES, DEFAULT_TASK_TIMEOUT_SECONDS } from "./types.ts";

/** The error and cause of an execution that reaches MAX_HISTORY_EVENTS (its ExecutionFailed is event number 25,000). */
export const HISTORY_LIMIT_ERROR = { error: "States.Runtime", cause: `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).` } as const;

function rootFrame(machine: StateMachine, data: RunState): Frame {
  return { machine, thread: data.root, ancestors: [] };
}

/** Closes the execution: cancels every open task and timer (and the execution timer unless it fired), emits the closing event. */
function close(run: Run, status: Exclude<ExecutionStatus, "RUNNING">, fields: { output?: Json; error?: string; cause?: string }, timeoutFired = false): StepResult {
  const refs = openRefs(run.data.root);
  for (const taskRef of refs.tasks) run.command({ type: "cancelActivity", taskRef });
  for (const timerRef of refs.timers) run.command({ type: "cancelTimer", timerRef });
  if (run.data.timeoutTimerRef !== undefined && !timeoutFired) run.command({ type: "cancelTimer", timerRef: run.data.timeoutTimerRef });
  run.data.root.open = undefined;
  // An empty error name (a Fail state or a worker failure without one) is left out, as AWS leaves it out.
  const errorFields = { ...(fields.error === undefined || fields.error === "" ? {} : { error: fields.error }), ...(fields.cause === undefined ? {} : { cause: fields.cause }) };
  const root = run.data.root;
  switch (status) {
    case "SUCCEEDED":
      run.emit(root, "ExecutionSucceeded", { executionSucceededEventDetails: { output: text(fields.output ?? null), outputDetails: NOT_TRUNCATED } }, true);
      break;
    case "FAILED":
      run.emit(root, "ExecutionFailed", { executionFailedEventDetails: errorFields }, true);
      break;
    case "ABORTED":
      run.emit(root, "ExecutionAborted", { executionAbortedEventDetails: errorFields }, true);
      break;
    case "TIMED_OUT":
      run.emit(root, "ExecutionTimedOut", { executionTimedOutEventDetails: errorFields }, true);
      break;
  }
  return {
    state: { format: 1, nextEventId: run.nextEventId, status, run: run.data },
    events: run.events,
    commands: run.commands,
    status,
    ...(status === "SUCCEEDED" ? { output: text(fields.output ?? null) } : {}),
    ...errorFields,
  };
}

/** The result of a step that leaves the top-level thread with `outcome`. */
function conclude(run: Run, outcome: Outcome): StepResult {
  if (outcome.kind === "done") return close(run, "SUCCEEDED", { output: outcome.output });
  if (outcome.kind === "failed") return close(run, "FAILED", { error: outcome.error, ...(outcome.cause === undefined ? {} : { cause: outcome.cause }) });
  return { state: { format: 1, nextEventId: run.nextEventId, status: "RUNNING", run: run.data }, events: run.events, commands: run.commands, status: "RUNNING" };
}

/**
 * Runs `work`; when the history limit is reached, the step's commands are dropped (nothing it
 * scheduled was carried out), everything open before the step is cancelled, and the execution
 * fails with HISTORY_LIMIT_ERROR as event MAX_HISTORY_EVENTS.
 */
async function limited(run: Run, before: RunState, work: () => Promise<StepResult>): Promise<StepResult> {
  try {
    return await work();
  } catch (e) {
    if (!(e instanceof HistoryLimitReached)) throw e;
    run.commands.length = 0;
    const refs = openRefs(before.root);
    for (const taskRef of refs.tasks) run.command({ type: "cancelActivity", taskRef });
    for (const timerRef of refs.timers) run.command({ type: "cancelTimer", timerRef });
    run.data.root = { variables: {}, lastEventId: run.nextEventId - 1 };
    return close(run, "FAILED", { ...HISTORY_LIMIT_ERROR });
  }
}

/**
 * Starts an execution of `machine` with `input` (JSON text the caller has checked parses and is
 * within 256 KiB): ExecutionStarted, the execution timer when the machine sets TimeoutSeconds,
 * then the states up to the first that waits (or the end).
 */
export async function start(machine: StateMachine, ctx: ExecutionContext, input: string, env: InterpreterEnv): Promise<StepResult> {
  const value = JSON.parse(input) as Json;
  const data: RunState = { executionInput: value, nextRef: 0, root: { variables: {}, lastEventId: 0 } };
  const run = new Run(machine, ctx, env, data, 1);
  return limited(run, structuredClone(data), async () => {
    run.emit(undefined, "ExecutionStarted", { executionStartedEventDetails: { input, inputDetails: NOT_TRUNCATED, roleArn: ctx.roleArn } });
    if (machine.timeoutSeconds !== undefined) {
      const timerRef = run.mintTimer();
      data.timeoutTimerRef = timerRef;
      run.command({ type: "startTimer", timerRef, fireAtMs: ctx.startTimeMs + machine.timeoutSeconds * 1000 });
    }
    const outcome = await drive(run, rootFrame(machine, data), { kind: "next", name: machine.startAt, input: value });
    return conclude(run, outcome);
  });
}

/** The task and timer refs a stored execution has open (the execution timer included): what the engine may still receive events for. */
export function openWork(state: ExecutionState): { tasks: string[]; timers: string[] } {
  if (state.status !== "RUNNING") return { tasks: [], timers: [] };
  const refs = openRefs(state.run.root);
  if (state.run.timeoutTimerRef !== undefined) refs.timers.push(state.run.timeoutTimerRef);
  return refs;
}

/** The result of an event that changes nothing: the state as given, no events, no commands. */
function unchanged(state: ExecutionState): StepResult {
  return { state, events: [], commands: [], status: state.status };
}

/**
 * Applies one event to a running execution. An event for a closed execution, or for a task or
 * timer that is no longer open, changes nothing (see unchanged). `state` is not modified.
 */
export async function step(machine: StateMachine, ctx: ExecutionContext, state: ExecutionState, event: ExecutionEvent, env: InterpreterEnv): Promise<StepResult> {
  if (state.status !== "RUNNING") return unchanged(state);
  const data = structuredClone(state.run);
  const run = new Run(machine, ctx, env, data, state.nextEventId);
  const root = rootFrame(machine, data);
  if (event.type === "stop") {
    return limited(run, state.run, async () => close(run, "ABORTED", { ...(event.error === undefined ? {} : { error: event.error }), ...(event.cause === undefined ? {} : { cause: event.cause }) }));
  }
  if (event.type === "timerFired" && event.timerRef === data.timeoutTimerRef) {
    return limited(run, state.run, async () => close(run, "TIMED_OUT", {}, true));
  }
  const ref = event.type === "timerFired" ? event.timerRef : event.taskRef;
  const frames = findRef(root, ref);
  if (frames === undefined) return unchanged(state);
  const target = frames[frames.length - 1];
  const w = target.thread.open?.wait;
  if (event.type === "timerFired" ? w?.kind !== "timer" : w?.kind !== "task") return unchanged(state);
  if (event.type === "taskStarted" && w?.kind === "task" && w.started) return unchanged(state);
  return limited(run, state.run, async () => {
    const { type } = event;
    const refEvent: RefEvent =
      type === "timerFired" ? { type }
      : type === "taskStarted" ? { type, ...(event.workerName === undefined ? {} : { workerName: event.workerName }) }
      : type === "taskSucceeded" ? { type, output: event.output }
      : type === "taskFailed" ? { type, ...(event.error === undefined ? {} : { error: event.error }), ...(event.cause === undefined ? {} : { cause: event.cause }) }
      : type === "taskTimedOut" ? { type, heartbeat: event.heartbeat }
      : { type, error: event.error, cause: event.cause };
    let outcome = await drive(run, target, await resume(run, target, refEvent));
    for (let i = frames.length - 2; i >= 0; i--) {
      if (outcome.kind === "blocked") break;
      outcome = await drive(run, frames[i], await childChanged(run, frames[i], frames[i + 1].thread, outcome));
    }
    return conclude(run, outcome);
  });
}
