import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { awsEnumTable, awsJsonToMessage, messageToAwsJson, parseDecimalString, parseIntegerString } from "../../src/awsjson/convert.ts";
import { Fault } from "../../src/faults.ts";
import { loadModel } from "../../src/model/model.ts";
import { protoEnumValueName } from "../../src/model/names.ts";
import {
  DescribeWorkflowExecutionResponseSchema,
  ListDomainsResponseSchema,
  PollForActivityTaskRequestSchema,
  PollForActivityTaskResponseSchema,
  PollForDecisionTaskRequestSchema,
  PollForDecisionTaskResponseSchema,
  RespondDecisionTaskCompletedRequestSchema,
  StartWorkflowExecutionRequestSchema,
  file_taskgate_swf_v1_service,
} from "../../gen/taskgate/swf/v1/service_pb.ts";
import { ChildPolicy, DecisionType, EventType, HistoryEventSchema, file_taskgate_swf_v1_types } from "../../gen/taskgate/swf/v1/types_pb.ts";

const model = loadModel("swf");

function faultOf(fn: () => unknown): Fault {
  try {
    fn();
  } catch (e) {
    if (e instanceof Fault) return e;
    throw e;
  }
  throw new Error("expected a Fault, nothing was thrown");
}

const decisionTask = {
  taskToken: "tok-1",
  startedEventId: 7,
  workflowExecution: { workflowId: "wf-1", runId: "run-1" },
  workflowType: { name: "Flow", version: "1.0" },
  events: [
    {
      eventTimestamp: 1700000000.123,
      eventType: "WorkflowExecutionStarted",
      eventId: 1,
      workflowExecutionStartedEventAttributes: {
        input: "{}",
        executionStartToCloseTimeout: "3600",
        taskStartToCloseTimeout: "30",
        childPolicy: "TERMINATE",
        taskList: { name: "deciders" },
        workflowType: { name: "Flow", version: "1.0" },
        tagList: ["a", "b"],
      },
    },
    {
      eventTimestamp: 1700000001,
      eventType: "DecisionTaskScheduled",
      eventId: 2,
      decisionTaskScheduledEventAttributes: { taskList: { name: "deciders" }, startToCloseTimeout: "30" },
    },
    {
      eventTimestamp: 1700000002.5,
      eventType: "TimerFired",
      eventId: 3,
      timerFiredEventAttributes: { timerId: "t1", startedEventId: 0 },
    },
    {
      eventTimestamp: 1700000003.999,
      eventType: "ActivityTaskTimedOut",
      eventId: 4,
      activityTaskTimedOutEventAttributes: { timeoutType: "SCHEDULE_TO_START", scheduledEventId: 2, startedEventId: 0 },
    },
  ],
  nextPageToken: "page-2",
  previousStartedEventId: 0,
};

describe("awsJsonToMessage / messageToAwsJson", () => {
  it("round-trips a PollForDecisionTask response with events, timestamps, int64s and enums", () => {
    const msg = awsJsonToMessage(PollForDecisionTaskResponseSchema, decisionTask, model);
    expect(msg.taskToken).toBe("tok-1");
    expect(msg.startedEventId).toBe(7n);
    expect(msg.previousStartedEventId).toBe(0n);
    expect(msg.events).toHaveLength(4);
    expect(msg.events[0].eventType).toBe(EventType.WORKFLOW_EXECUTION_STARTED);
    expect(msg.events[0].eventId).toBe(1n);
    expect(timestampMs(msg.events[0].eventTimestamp!)).toBe(1700000000123);
    expect(msg.events[0].workflowExecutionStartedEventAttributes?.childPolicy).toBe(ChildPolicy.TERMINATE);
    expect(msg.events[0].workflowExecutionStartedEventAttributes?.tagList).toEqual(["a", "b"]);
    expect(msg.events[2].eventType).toBe(EventType.TIMER_FIRED);
    expect(msg.events[2].timerFiredEventAttributes?.startedEventId).toBe(0n);
    expect(timestampMs(msg.events[3].eventTimestamp!)).toBe(1700000003999);

    const back = messageToAwsJson(PollForDecisionTaskResponseSchema, msg, model);
    expect(back).toEqual(decisionTask);
    // numbers, not strings or bigints, on the wire
    expect(JSON.stringify(back)).toContain('"eventTimestamp":1700000000.123');
    expect(JSON.stringify(back)).toContain('"startedEventId":7');
  });

  it("emits explicitly present zero values and omits absent ones (empty long poll)", () => {
    const empty = create(PollForActivityTaskResponseSchema, { startedEventId: 0n });
    expect(messageToAwsJson(PollForActivityTaskResponseSchema, empty, model)).toEqual({ startedEventId: 0 });
    const emptyDecision = create(PollForDecisionTaskResponseSchema, { startedEventId: 0n, previousStartedEventId: 0n });
    // events is required by DecisionTask, but taskToken etc. are absent: AWS omits it here
    expect(JSON.stringify(messageToAwsJson(PollForDecisionTaskResponseSchema, emptyDecision, model))).toBe(
      '{"startedEventId":0,"previousStartedEventId":0}',
    );
    const withEmptyString = create(PollForActivityTaskResponseSchema, { taskToken: "", startedEventId: 0n });
    expect(messageToAwsJson(PollForActivityTaskResponseSchema, withEmptyString, model)).toEqual({ taskToken: "", startedEventId: 0 });
  });

  it("emits a required empty list as [] when the structure is otherwise complete", () => {
    expect(messageToAwsJson(ListDomainsResponseSchema, create(ListDomainsResponseSchema), model)).toEqual({ domainInfos: [] });
  });

  it("writes timestamps as epoch seconds with a millisecond fraction", () => {
    const msg = create(DescribeWorkflowExecutionResponseSchema, {
      latestActivityTaskTimestamp: timestampFromMs(1700000000123),
    });
    const json = messageToAwsJson(DescribeWorkflowExecutionResponseSchema, msg, model);
    expect(json.latestActivityTaskTimestamp).toBe(1700000000.123);
    expect(JSON.stringify(json)).toBe('{"latestActivityTaskTimestamp":1700000000.123}');
  });

  it("reads timestamps from integers, fractions and numeric strings", () => {
    for (const [input, ms] of [
      [1700000000, 1700000000000],
      [1700000000.123, 1700000000123],
      ["1700000000.5", 1700000000500],
      [1.786560427599e9, 1786560427599],
    ] as const) {
      const ev = awsJsonToMessage(HistoryEventSchema, { eventTimestamp: input }, model);
      expect(timestampMs(ev.eventTimestamp!)).toBe(ms);
    }
    const f = faultOf(() => awsJsonToMessage(HistoryEventSchema, { eventTimestamp: "2023-11-14T22:13:20Z" }, model));
    expect(f.type).toBe("SerializationException");
    expect(f.message).toContain("'eventTimestamp'");
  });

  it("reads longs from numbers and numeric strings", () => {
    expect(awsJsonToMessage(HistoryEventSchema, { eventId: 42 }, model).eventId).toBe(42n);
    expect(awsJsonToMessage(HistoryEventSchema, { eventId: "9007199254740993" }, model).eventId).toBe(9007199254740993n);
    expect(faultOf(() => awsJsonToMessage(HistoryEventSchema, { eventId: 1.5 }, model)).type).toBe("SerializationException");
    expect(faultOf(() => awsJsonToMessage(HistoryEventSchema, { eventId: "x" }, model)).type).toBe("SerializationException");
  });

  it("reads numbers with a linear scanner: the grammar of JSON-ish decimals, nothing else", () => {
    for (const [s, n] of [
      ["1", 1],
      [" -12.5e3 ", -12500],
      ["5.", 5],
      [".5", 0.5],
      ["-.5", -0.5],
      ["1E+2", 100],
      ["007", 7],
      ["\t1700000000.5\n", 1700000000.5],
    ] as const) {
      expect(parseDecimalString(s), s).toBe(n);
    }
    for (const s of ["", " ", "-", ".", "-.", "1e", "1e+", "e5", "1.2.3", "0x10", "Infinity", "1_000", "+1", "1 2", "١"]) {
      expect(parseDecimalString(s), s).toBeUndefined();
    }
    for (const [s, n] of [
      ["0", 0n],
      ["-0", 0n],
      ["000000000000000000000000000042", 42n],
      ["-9223372036854775808", -9223372036854775808n],
    ] as const) {
      expect(parseIntegerString(s), s).toBe(n);
    }
    for (const s of ["", "-", "+1", " 1", "1.0", "1e3", "0x1"]) expect(parseIntegerString(s), s).toBeUndefined();
    // more than 20 significant digits: beyond any 64-bit value, without converting them
    expect(parseIntegerString(`1${"0".repeat(25)}`)! > 2n ** 64n - 1n).toBe(true);
    expect(parseIntegerString(`-1${"0".repeat(25)}`)! < -(2n ** 63n)).toBe(true);
  });

  it("answers a long digit run at once (the old regex took seconds: it backtracked quadratically)", () => {
    const digits = "1".repeat(60_000);
    for (const v of [`${digits}x`, `${digits}.${digits}x`, `${digits}e${digits}x`, ` ${digits} x`]) {
      const started = performance.now();
      const f = faultOf(() => awsJsonToMessage(HistoryEventSchema, { eventTimestamp: v }, model));
      expect(performance.now() - started).toBeLessThan(100);
      expect(f.type).toBe("SerializationException");
      expect(f.message.length).toBeLessThan(300); // the value is quoted cut short, if at all
    }
    // a megabyte of digits as a long: out of range, without a superlinear BigInt conversion
    const started = performance.now();
    const f = faultOf(() => awsJsonToMessage(HistoryEventSchema, { eventId: "7".repeat(1_000_000) }, model));
    expect(performance.now() - started).toBeLessThan(100);
    expect(f.message).toMatch(/^Invalid value at 'eventId': 7{128}… is out of range for a 64-bit integer\.$/);
    expect(faultOf(() => awsJsonToMessage(HistoryEventSchema, { eventTimestamp: "9".repeat(1_000) }, model)).message).toContain(`${"9".repeat(128)}…`);
  });

  it("ignores unknown members and treats null as absent", () => {
    const msg = awsJsonToMessage(
      PollForActivityTaskRequestSchema,
      { domain: "d", taskList: { name: "tl", bogus: 1 }, identity: null, bogusTop: { x: [1] } },
      model,
    );
    expect(msg.domain).toBe("d");
    expect(msg.taskList?.name).toBe("tl");
    expect(msg.identity).toBeUndefined();
    expect("identity" in msg && msg.identity !== undefined).toBe(false);
  });

  it("rejects values of the wrong JSON type with a SerializationException naming the path", () => {
    const cases: [DescMessage, unknown, string, string][] = [
      [PollForActivityTaskRequestSchema, { taskList: { name: 5 } }, "taskList.name", "a string"],
      [PollForActivityTaskRequestSchema, { taskList: "tl" }, "taskList", "an object"],
      [PollForActivityTaskRequestSchema, { domain: true }, "domain", "a string"],
      [RespondDecisionTaskCompletedRequestSchema, { decisions: { decisionType: "StartTimer" } }, "decisions", "an array"],
      [StartWorkflowExecutionRequestSchema, { tagList: [1] }, "tagList.1.member", "a string"],
      [
        RespondDecisionTaskCompletedRequestSchema,
        { decisions: [{ decisionType: "StartTimer" }, { decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { taskList: { name: [] } } }] },
        "decisions.2.member.scheduleActivityTaskDecisionAttributes.taskList.name",
        "a string",
      ],
      [HistoryEventSchema, { eventType: 3 }, "eventType", "a string"],
    ];
    for (const [schema, json, path, expected] of cases) {
      const f = faultOf(() => awsJsonToMessage(schema, json, model));
      expect(f.type).toBe("SerializationException");
      expect(f.namespace).toBe("com.amazon.coral.service");
      expect(f.status).toBe(400);
      expect(f.message).toContain(`'${path}'`);
      expect(f.message).toContain(`expected ${expected}`);
    }
  });

  it("range-checks int32 members", () => {
    expect(awsJsonToMessage(PollForDecisionTaskRequestSchema, { maximumPageSize: 1000 }, model).maximumPageSize).toBe(1000);
    expect(awsJsonToMessage(PollForDecisionTaskRequestSchema, { maximumPageSize: 0 }, model).maximumPageSize).toBe(0);
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, "5"]) {
      const f = faultOf(() => awsJsonToMessage(PollForDecisionTaskRequestSchema, { maximumPageSize: bad }, model));
      expect(f.type).toBe("SerializationException");
      expect(f.message).toContain("'maximumPageSize'");
    }
  });

  it("rejects a body that is not an object", () => {
    for (const body of [[], "x", 1, null, true]) {
      const f = faultOf(() => awsJsonToMessage(PollForActivityTaskRequestSchema, body, model));
      expect(f.type).toBe("SerializationException");
      expect(f.message).toMatch(/must be a JSON object/);
    }
  });

  it("rejects an unknown enum value with AWS's enum message", () => {
    const f = faultOf(() =>
      awsJsonToMessage(RespondDecisionTaskCompletedRequestSchema, { taskToken: "t", decisions: [{ decisionType: "StartTimer" }, { decisionType: "Bogus" }] }, model),
    );
    expect(f.type).toBe("ValidationException");
    expect(f.namespace).toBe("com.amazon.coral.validate");
    expect(f.message).toBe(
      "1 validation error detected: Value 'Bogus' at 'decisions.2.member.decisionType' failed to satisfy constraint: " +
        "Member must satisfy enum value set: [ScheduleActivityTask, RequestCancelActivityTask, CompleteWorkflowExecution, " +
        "FailWorkflowExecution, CancelWorkflowExecution, ContinueAsNewWorkflowExecution, RecordMarker, StartTimer, CancelTimer, " +
        "SignalExternalWorkflowExecution, RequestCancelExternalWorkflowExecution, StartChildWorkflowExecution, ScheduleLambdaFunction]",
    );
    const ok = awsJsonToMessage(RespondDecisionTaskCompletedRequestSchema, { decisions: [{ decisionType: "StartTimer" }] }, model);
    expect(ok.decisions[0].decisionType).toBe(DecisionType.START_TIMER);
  });
});

describe("enum table", () => {
  /** Every singular enum field of every generated message, by enum type name. */
  function enumFields(): Map<string, { message: DescMessage; field: DescField }> {
    const out = new Map<string, { message: DescMessage; field: DescField }>();
    for (const file of [file_taskgate_swf_v1_types, file_taskgate_swf_v1_service]) {
      for (const message of file.messages) {
        for (const field of message.fields) {
          if (field.fieldKind === "enum" && !out.has(field.enum.typeName)) out.set(field.enum.typeName, { message, field });
        }
      }
    }
    return out;
  }

  it("round-trips every value of every enum of the SWF model", () => {
    const generated = new Map<string, DescEnum>(file_taskgate_swf_v1_types.enums.map((e) => [e.name, e]));
    const fields = enumFields();
    const enumShapes = Object.entries(model.shapes).filter(([, s]) => s.enum !== undefined);
    expect(enumShapes.length).toBeGreaterThanOrEqual(26);
    let checked = 0;
    for (const [shapeName, shape] of enumShapes) {
      const desc = generated.get(shapeName);
      expect(desc, `generated enum for ${shapeName}`).toBeDefined();
      if (!desc) continue;
      expect(desc.typeName).toBe(`taskgate.swf.v1.${shapeName}`);
      const table = awsEnumTable(model, desc);
      expect(table.values).toEqual(shape.enum);
      // every non-zero proto value is covered
      expect(desc.values.filter((v) => v.number !== 0).length).toBe(shape.enum!.length);
      const usage = fields.get(desc.typeName);
      expect(usage, `a message field of type ${shapeName}`).toBeDefined();
      for (const awsValue of shape.enum!) {
        const n = table.toNumber.get(awsValue);
        expect(n).toBeDefined();
        expect(desc.value[n!].name).toBe(protoEnumValueName(shapeName, awsValue));
        expect(table.toAws.get(n!)).toBe(awsValue);
        // through the converter, both directions
        const json = { [usage!.field.jsonName]: awsValue };
        const msg = awsJsonToMessage(usage!.message, json, model);
        expect((msg as unknown as Record<string, unknown>)[usage!.field.localName]).toBe(n);
        expect(messageToAwsJson(usage!.message, msg, model)[usage!.field.jsonName]).toBe(awsValue);
        checked++;
      }
    }
    expect(checked).toBe(enumShapes.reduce((n, [, s]) => n + s.enum!.length, 0));
    expect(checked).toBeGreaterThan(140);
  });

  it("is built once per model", () => {
    const desc = file_taskgate_swf_v1_types.enums.find((e) => e.name === "EventType")!;
    expect(awsEnumTable(model, desc)).toBe(awsEnumTable(model, desc));
  });
});
