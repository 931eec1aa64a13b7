// The contract between the Step Functions interpreter and the engine that runs it. The interpreter
// is a pure function: (definition tree, execution state, one event) → (new state, history events,
// commands). It reads no clock (the step's time is `env.nowMs`), starts no timer and does no I/O: a
// Wait state, a retry back-off and the execution timeout are `startTimer` commands, an activity is
// a `scheduleActivity` command. The engine stores the new state and the events in one transaction
// per step, then carries out the commands, and feeds back what happens as events.
//
// Stability: changes to this file are additive only.

import type { IntrinsicEnv } from "../asl/intrinsics.ts";
import type { JsonObject } from "../asl/json.ts";
import type { RunState } from "./state.ts";

/** What an execution is, as the engine knows it when it starts: fixed for the execution's life. */
export interface ExecutionContext {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;
  /** When StartExecution was accepted (epoch ms); `$$.Execution.StartTime` and ExecutionStarted's timestamp. */
  readonly startTimeMs: number;
}

/**
 * The interpreter's state of one execution between steps. JSON-serializable: the engine stores
 * `JSON.stringify(state)` and gives back `JSON.parse(text)`; everything but `nextEventId` and
 * `status` is opaque to the engine and may change shape between versions (`format` says which).
 */
export interface ExecutionState {
  /** The shape of `run`; 1 for now. */
  readonly format: 1;
  /** The id the next history event gets (the first event, ExecutionStarted, is 1). */
  readonly nextEventId: number;
  /** The execution's status after the step that produced this state. */
  readonly status: ExecutionStatus;
  /** Everything else: open states and their frames (Parallel branches, Map iterations), variables, retry counters, open task and timer refs. */
  readonly run: RunState;
}

/** An execution's status, spelled as the model's ExecutionStatus (PENDING_REDRIVE never occurs here). */
export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/**
 * What happened outside the interpreter. An event for a taskRef or timerRef that is no longer
 * open is ignored: step returns the state unchanged with no events and no commands.
 */
export type ExecutionEvent =
  /** A worker received the activity task (GetActivityTask answered it). */
  | { readonly type: "taskStarted"; readonly taskRef: string; readonly workerName?: string }
  /** SendTaskSuccess; `output` is JSON text the engine has checked parses. */
  | { readonly type: "taskSucceeded"; readonly taskRef: string; readonly output: string }
  /** SendTaskFailure; an absent error is matched by Retry/Catch as the empty name (only States.ALL and States.TaskFailed catch it). */
  | { readonly type: "taskFailed"; readonly taskRef: string; readonly error?: string; readonly cause?: string }
  /** The task's schedule-to-close timeout or (`heartbeat`) its heartbeat timeout passed: reported as States.Timeout; a heartbeat timeout is also matched by States.HeartbeatTimeout in Retry/Catch. */
  | { readonly type: "taskTimedOut"; readonly taskRef: string; readonly heartbeat: boolean }
  /** The task could not be scheduled, e.g. the activity does not exist; `error` and `cause` go to ActivityScheduleFailed and to Retry/Catch as given. */
  | { readonly type: "taskScheduleFailed"; readonly taskRef: string; readonly error: string; readonly cause: string }
  /** A timer the interpreter started has reached its fireAtMs. */
  | { readonly type: "timerFired"; readonly timerRef: string }
  /** StopExecution: the execution ends ABORTED (ExecutionAborted with this error and cause). */
  | { readonly type: "stop"; readonly error?: string; readonly cause?: string };

/** What the engine must carry out after storing a step's result, in the order given. */
export type Command =
  /**
   * Make an activity task available to GetActivityTask on `activityArn`. `input` is JSON text
   * (at most 256 KiB). `timeoutSeconds` is the schedule-to-close timeout (AWS's default 99999999
   * when the state gives none); `heartbeatSeconds`, when given, the longest gap between heartbeats.
   */
  | { readonly type: "scheduleActivity"; readonly taskRef: string; readonly activityArn: string; readonly input: string; readonly timeoutSeconds: number; readonly heartbeatSeconds?: number }
  /** Withdraw a scheduled or started task: its token becomes invalid (SendTask* answers TaskTimedOut / InvalidToken as the engine decides). */
  | { readonly type: "cancelActivity"; readonly taskRef: string }
  /** Fire `timerFired` for `timerRef` at `fireAtMs` (epoch ms; at once when in the past). */
  | { readonly type: "startTimer"; readonly timerRef: string; readonly fireAtMs: number }
  /** Forget a timer started earlier; firing it anyway is harmless (the event is ignored). */
  | { readonly type: "cancelTimer"; readonly timerRef: string };

/**
 * One history event, as GetExecutionHistory returns it once the engine converts the timestamp.
 * `type` is the model's HistoryEventType value; `details` holds the one `*EventDetails` member the
 * model defines for it (e.g. `{ stateEnteredEventDetails: { name, input, inputDetails } }`).
 * Ids are consecutive from 1 within an execution.
 */
export interface HistoryEventOut {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestampMs: number;
  readonly type: string;
  readonly details?: JsonObject;
}

/**
 * The outcome of one start or step. When `status` is not RUNNING the execution is closed: the
 * commands cancel every task and timer still open, `output` is set for SUCCEEDED, `error`/`cause`
 * for FAILED (either may be absent, as a Fail state may set neither) and for ABORTED when
 * StopExecution gave them; TIMED_OUT has none (AWS's ExecutionTimedOut details are empty).
 */
export interface StepResult {
  readonly state: ExecutionState;
  readonly events: readonly HistoryEventOut[];
  readonly commands: readonly Command[];
  readonly status: ExecutionStatus;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** What a step may use besides its arguments: hash/uuid/random for intrinsics and jitter, and the step's time (epoch ms). */
export interface InterpreterEnv extends IntrinsicEnv {
  readonly nowMs: number;
}

/** The most history events an execution may have; the event that would pass it fails the execution (see docs/sfn-interpreter.md). */
export const MAX_HISTORY_EVENTS = 25_000;

/** The largest state or execution input/output, in UTF-8 bytes (256 KiB). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** The schedule-to-close timeout of an activity task whose state gives none (AWS's default). */
export const DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;
