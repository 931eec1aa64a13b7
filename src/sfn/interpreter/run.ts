// One start or step in progress: the mutable copy of the stored state, the history events and
// commands produced so far, and the minting of refs. Nothing here outlives the step.

import type { Json, JsonObject } from "../asl/json.ts";
import type { StateMachine } from "../asl/definition.ts";
import type { RunState, ThreadState, OpenState } from "./state.ts";
import { MAX_HISTORY_EVENTS, type Command, type ExecutionContext, type HistoryEventOut, type InterpreterEnv } from "./types.ts";

/** Raised when an event would take the history past MAX_HISTORY_EVENTS - 1 (the last id is kept for ExecutionFailed). */
export class HistoryLimitReached extends Error {
  constructor() {
    super("The execution history reached its limit");
    this.name = "HistoryLimitReached";
  }
}

/** A step's working set. Invariant: event ids are consecutive from the stored nextEventId. */
export class Run {
  readonly machine: StateMachine;
  readonly ctx: ExecutionContext;
  readonly env: InterpreterEnv;
  readonly data: RunState;
  nextEventId: number;
  readonly events: HistoryEventOut[] = [];
  readonly commands: Command[] = [];

  constructor(machine: StateMachine, ctx: ExecutionContext, env: InterpreterEnv, data: RunState, nextEventId: number) {
    this.machine = machine;
    this.ctx = ctx;
    this.env = env;
    this.data = data;
    this.nextEventId = nextEventId;
  }

  /**
   * Appends a history event on `thread` (its previousEventId is the thread's last event; 0 without
   * a thread) and returns its id. Throws HistoryLimitReached unless `closing`.
   */
  emit(thread: ThreadState | undefined, type: string, details?: JsonObject, closing = false): number {
    const id = this.nextEventId;
    if (!closing && id >= MAX_HISTORY_EVENTS) throw new HistoryLimitReached();
    const event: HistoryEventOut = { id, previousEventId: thread?.lastEventId ?? 0, timestampMs: this.env.nowMs, type, ...(details === undefined ? {} : { details }) };
    this.events.push(event);
    if (thread !== undefined) thread.lastEventId = id;
    this.nextEventId = id + 1;
    return id;
  }

  /** A new task ref, unique within the execution. */
  mintTask(): string {
    this.data.nextRef += 1;
    return `t${this.data.nextRef}`;
  }

  /** A new timer ref, unique within the execution. */
  mintTimer(): string {
    this.data.nextRef += 1;
    return `w${this.data.nextRef}`;
  }

  /** Queues a command; the engine carries out a step's commands in this order. */
  command(c: Command): void {
    this.commands.push(c);
  }
}

/** JSON text of a value as history events carry it. */
export function text(value: Json): string {
  return JSON.stringify(value);
}

/** The `{ truncated: false }` every input/output detail carries (taskgate never truncates). */
export const NOT_TRUNCATED: JsonObject = { truncated: false };

/** An epoch-ms instant as the context object writes it (ISO 8601, milliseconds, Z). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The context object (`$$`, `$states.context`) of a state: Execution, State, StateMachine, and
 * Map.Item while a Map state builds an iteration's input. No Task.Token: activity workers get
 * their token from GetActivityTask.
 */
export function contextObject(run: Run, open: OpenState, item?: { index: number; value: Json }): JsonObject {
  const ctx = run.ctx;
  const out: JsonObject = {
    Execution: {
      Id: ctx.executionArn,
      Input: run.data.executionInput,
      Name: ctx.executionName,
      RoleArn: ctx.roleArn,
      StartTime: isoTime(ctx.startTimeMs),
      RedriveCount: 0,
    },
    State: { EnteredTime: isoTime(open.enteredMs), Name: open.name, RetryCount: open.retryCount },
    StateMachine: { Id: ctx.stateMachineArn, Name: ctx.stateMachineName },
  };
  if (item !== undefined) out.Map = { Item: { Index: item.index, Value: item.value } };
  return out;
}
