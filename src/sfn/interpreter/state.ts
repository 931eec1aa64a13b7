// The interpreter's own part of an execution's stored state (ExecutionState.run): a tree of
// threads. The top level is one thread; an open Parallel state holds one thread per branch and an
// open Map state one per started iteration. Each thread has at most one open state, and each open
// state waits on at most one thing: a task (taskRef), a timer (timerRef: Wait or retry back-off),
// or its child threads. Everything here is plain JSON; the engine never reads it.

import type { Json, JsonObject } from "../asl/json.ts";

/** The interpreter's part of ExecutionState (format 1). */
export interface RunState {
  /** The execution input, for `$$.Execution.Input`. */
  executionInput: Json;
  /** The counter refs are minted from (`t<n>` tasks, `w<n>` timers); never reused in an execution. */
  nextRef: number;
  /** The execution-timeout timer, when the machine sets TimeoutSeconds. */
  timeoutTimerRef?: string;
  /** The top-level thread. */
  root: ThreadState;
}

/** One running machine: the top level, a Parallel branch or a Map iteration. */
export interface ThreadState {
  /** This thread's own workflow variables (VariableScopeJson.variables); outer scopes are its ancestors'. */
  variables: JsonObject;
  /** The id of the last history event of this thread (the next one's previousEventId). */
  lastEventId: number;
  /** The state running now; undefined once the thread has ended. */
  open?: OpenState;
  /** Set when the thread ended successfully: its output. */
  output?: Json;
  /** Map iterations: the item's index and value (`$$.Map.Item`). */
  item?: { index: number; value: Json };
}

/** A state that has been entered and not exited. */
export interface OpenState {
  name: string;
  /** The raw state input. */
  input: Json;
  /** When the state was entered (epoch ms), for `$$.State.EnteredTime`. */
  enteredMs: number;
  /** The id of its StateEntered event (AWS's runtime causes name it). */
  enteredEventId: number;
  /** Task, Parallel and Map: what the state works on (after InputPath/Parameters or Arguments), kept for retries. */
  effectiveInput?: Json;
  /** Retries taken so far, per retrier of the state (index = Retry position). */
  retries: number[];
  /** Attempts after the first (`$$.State.RetryCount`). */
  retryCount: number;
  /** What the state waits on; undefined only while the state runs within one step. */
  wait?: Waiting;
}

/** What an open state waits on. */
export type Waiting =
  | { kind: "task"; taskRef: string; started: boolean }
  | { kind: "timer"; timerRef: string; purpose: "wait" | "retry" }
  | { kind: "parallel"; branches: ThreadState[] }
  | {
      kind: "map";
      items: Json[];
      /** The most iterations open at once; 0 means no limit. */
      maxConcurrency: number;
      /** Iterations started so far, by index (the first `iterations.length` items). */
      iterations: ThreadState[];
    };
