// One workflow execution opened for change inside a transaction: its row, its decoded state and
// the history events appended so far. Every SWF state change goes through `ExecutionTx`, so that
// events, the execution row, task rows and timers commit together or not at all.
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { HistoryEventSchema, type HistoryEvent } from "../../gen/taskgate/swf/v1/types_pb.ts";
import type { Capabilities, Sql } from "../store/db.ts";
import { saveExecution, type ExecutionRow } from "../store/swf.ts";

/** The JSON kept in swf_executions.state: configuration, counters and decision-task state. */
export interface ExecutionState {
  taskList: string;
  /** The task list given at start, restored when a decision task's schedule-to-start override times out. */
  originalTaskList: string;
  taskPriority: string;
  executionStartToCloseTimeout: string;
  taskStartToCloseTimeout: string;
  childPolicy: string;
  lambdaRole?: string;
  tagList: string[];
  openActivityTasks: number;
  openTimers: number;
  openChildWorkflowExecutions: number;
  openLambdaFunctions: number;
  /** DecisionTaskStarted id of the last decision task completed, 0 before the first. */
  previousStartedEventId: number;
  /** The open decision task (scheduled, and started when startedEventId is set). */
  decision?: { scheduledEventId: number; startedEventId?: number };
  /** Events arrived while a decision task was started: schedule another when it completes. */
  decisionNeeded: boolean;
  latestActivityTaskMs?: number;
  latestExecutionContext?: string;
  cancelRequested: boolean;
  /** Open SWF timers by timerId. */
  timers: Record<string, { startedEventId: number; control?: string }>;
  /** The execution that started this one as a child, if any. */
  parent?: { workflowId: string; runId: string; initiatedEventId: number; startedEventId: number; domain: string };
  continuedExecutionRunId?: string;
}

/** An event to append: everything but its id and timestamp. */
export type EventInit = Omit<MessageInitShape<typeof HistoryEventSchema>, "eventId" | "eventTimestamp" | "$typeName">;

/** An execution being changed in one transaction. */
export class ExecutionTx {
  readonly row: ExecutionRow;
  readonly state: ExecutionState;
  readonly nowMs: number;
  #pending: { id: number; data: Uint8Array }[] = [];
  /** Events appended in this transaction, in order. */
  readonly appended: HistoryEvent[] = [];

  constructor(row: ExecutionRow, nowMs: number) {
    this.row = row;
    this.state = JSON.parse(row.state) as ExecutionState;
    this.nowMs = nowMs;
  }

  get open(): boolean {
    return this.row.status === "OPEN";
  }

  /** Appends an event and returns its id. */
  append(init: EventInit): number {
    const id = this.row.nextEventId++;
    const ev = create(HistoryEventSchema, { ...init, eventId: BigInt(id), eventTimestamp: timestampFromMs(this.nowMs) } as MessageInitShape<typeof HistoryEventSchema>);
    this.#pending.push({ id, data: toBinary(HistoryEventSchema, ev) });
    this.appended.push(ev);
    return id;
  }

  /** Writes the appended events and the execution row. */
  async flush(sql: Sql, caps: Capabilities): Promise<void> {
    const events = this.#pending;
    this.#pending = [];
    this.row.state = JSON.stringify(this.state);
    await saveExecution(sql, caps, this.row, events);
  }
}
