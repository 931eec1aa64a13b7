// ExecutionTx writes history events with its own encoder (encodeEvent in src/swf/history.ts) rather
// than creating and encoding a whole HistoryEvent: the bytes must be what protobuf-es gives.
import { describe, expect, it } from "vitest";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { EventType, HistoryEventSchema, WorkflowExecutionStartedEventAttributesSchema } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { encodeEvent, type EventInit } from "../../src/swf/history.ts";

const events: { name: string; init: EventInit }[] = [
  { name: "activity completed", init: { eventType: EventType.ACTIVITY_TASK_COMPLETED, activityTaskCompletedEventAttributes: { result: "ok", scheduledEventId: 5n, startedEventId: 6n } } },
  { name: "activity started, no identity", init: { eventType: EventType.ACTIVITY_TASK_STARTED, activityTaskStartedEventAttributes: { scheduledEventId: 5n } } },
  {
    name: "workflow started, nested members and a list",
    init: {
      eventType: EventType.WORKFLOW_EXECUTION_STARTED,
      workflowExecutionStartedEventAttributes: { input: "é\u0000🙂", taskList: { name: "t" }, tagList: ["a", "b"], workflowType: { name: "wf", version: "1" }, childPolicy: 1 },
    },
  },
  {
    name: "attributes given as a message",
    init: { eventType: EventType.WORKFLOW_EXECUTION_STARTED, workflowExecutionStartedEventAttributes: create(WorkflowExecutionStartedEventAttributesSchema, { input: "x" }) },
  },
  { name: "no attributes", init: { eventType: EventType.DECISION_TASK_TIMED_OUT } },
];

describe("history event encoding", () => {
  for (const { name, init } of events)
    for (const [id, nowMs] of [
      [1, 1_700_000_000_123],
      [123_456, 1_700_000_000_000],
      [25_000, 999],
      [2, 0],
    ] as const)
      it(`${name}, event ${id} at ${nowMs} ms: the bytes protobuf-es writes`, () => {
        const expected = toBinary(HistoryEventSchema, create(HistoryEventSchema, { ...init, eventId: BigInt(id), eventTimestamp: timestampFromMs(nowMs) } as MessageInitShape<typeof HistoryEventSchema>));
        expect(encodeEvent(init, id, nowMs)).toEqual(expected);
      });

  it("refuses a member HistoryEvent does not have", () => {
    expect(() => encodeEvent({ eventType: EventType.ACTIVITY_TASK_COMPLETED, noSuchAttributes: {} } as unknown as EventInit, 1, 0)).toThrow(/noSuchAttributes/);
  });

  // One writer encodes every event: nothing of an earlier event may reach a later one.
  const bytesOf = (init: EventInit, id: number, nowMs: number) =>
    toBinary(HistoryEventSchema, create(HistoryEventSchema, { ...init, eventId: BigInt(id), eventTimestamp: timestampFromMs(nowMs) } as MessageInitShape<typeof HistoryEventSchema>));
  const small: EventInit = { eventType: EventType.ACTIVITY_TASK_COMPLETED, activityTaskCompletedEventAttributes: { result: "ok", scheduledEventId: 5n, startedEventId: 6n } };

  it("encodes an event after one that failed halfway as if it were the first", () => {
    const half = { eventType: EventType.ACTIVITY_TASK_COMPLETED, activityTaskCompletedEventAttributes: { result: "r", scheduledEventId: 1n }, noSuchAttributes: {} } as unknown as EventInit;
    expect(() => encodeEvent(half, 3, 1_000)).toThrow(/noSuchAttributes/);
    expect(encodeEvent(small, 7, 2_000)).toEqual(bytesOf(small, 7, 2_000));
  });

  it("encodes a small event after a large one with nothing of the large one left", () => {
    const large: EventInit = { eventType: EventType.ACTIVITY_TASK_COMPLETED, activityTaskCompletedEventAttributes: { result: "L".repeat(40_000), scheduledEventId: 5n, startedEventId: 6n } };
    expect(encodeEvent(large, 8, 3_000)).toEqual(bytesOf(large, 8, 3_000));
    const out = encodeEvent(small, 9, 4_000);
    expect(out).toEqual(bytesOf(small, 9, 4_000));
    expect(out.buffer.byteLength).toBe(out.byteLength); // a copy of its own, not a view of the shared buffer
  });
});
