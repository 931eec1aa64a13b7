// One workflow execution opened for change inside a transaction: its row, its decoded state and
// the history events appended so far. Every SWF state change goes through `ExecutionTx`, so that
// events, the execution row, task rows and timers commit together or not at all.
import { create, fromBinary, isMessage, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
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

/** HistoryEvent's attribute members (every message member but the timestamp) by local name. */
const attributeMembers: ReadonlyMap<string, { number: number; message: DescMessage }> = new Map(
  HistoryEventSchema.fields.flatMap((f) => (f.fieldKind === "message" && f.number !== 1 ? [[f.localName, { number: f.number, message: f.message }] as const] : [])),
);

/**
 * The writer every event is encoded with: its buffer, grown to the largest event so far, is
 * kept, and finish() copies the event out and rewinds it. A new writer per event allocated and
 * grew a buffer every time (a quarter to a half of the encoding's time, measured).
 */
let eventWriter = new BinaryWriter();

/**
 * An event's binary encoding, as toBinary(HistoryEventSchema, …) gives it, written directly: the
 * timestamp, type and id, then the one attributes member it carries, encoded by its own (small)
 * descriptor. HistoryEvent has about 57 members; creating and encoding it walked all of them for
 * every event appended, which cost about a tenth of the server's time per completed activity.
 */
export function encodeEvent(init: EventInit, id: number, nowMs: number): Uint8Array {
  try {
    return writeEvent(eventWriter, init, id, nowMs);
  } catch (e) {
    // A writer left mid-message (an unknown member, a value that does not encode) is not reused.
    eventWriter = new BinaryWriter();
    throw e;
  }
}

function writeEvent(w: BinaryWriter, init: EventInit, id: number, nowMs: number): Uint8Array {
  // google.protobuf.Timestamp: seconds = 1, nanos = 2, each left out when zero.
  const seconds = Math.floor(nowMs / 1000);
  const nanos = (nowMs - seconds * 1000) * 1_000_000;
  w.tag(1, WireType.LengthDelimited).fork();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  w.join();
  if (init.eventType !== undefined && init.eventType !== 0) w.tag(2, WireType.Varint).int32(init.eventType);
  w.tag(3, WireType.Varint).int64(id);
  for (const name in init) {
    const value = (init as Record<string, unknown>)[name];
    if (name === "eventType" || value === undefined) continue;
    const member = attributeMembers.get(name);
    if (member === undefined) throw new Error(`HistoryEvent has no attributes member ${name}`);
    const attrs = isMessage(value, member.message) ? value : create(member.message, value as MessageInitShape<DescMessage>);
    w.tag(member.number, WireType.LengthDelimited).bytes(toBinary(member.message, attrs));
  }
  return w.finish();
}

/** An execution being changed in one transaction. */
export class ExecutionTx {
  readonly row: ExecutionRow;
  readonly state: ExecutionState;
  readonly nowMs: number;
  #pending: { id: number; data: Uint8Array }[] = [];
  /** The encoding of the last event appended in this transaction. */
  #last: Uint8Array | undefined;

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
    const data = encodeEvent(init, id, this.nowMs);
    this.#pending.push({ id, data });
    this.#last = data;
    return id;
  }

  /** The last event appended in this transaction, if any. */
  lastAppended(): HistoryEvent | undefined {
    return this.#last === undefined ? undefined : fromBinary(HistoryEventSchema, this.#last);
  }

  /** Writes the appended events and the execution row. */
  async flush(sql: Sql, caps: Capabilities): Promise<void> {
    const events = this.#pending;
    this.#pending = [];
    this.row.state = JSON.stringify(this.state);
    await saveExecution(sql, caps, this.row, events);
  }
}
