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
});
