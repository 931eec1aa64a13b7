// How a batch stream splits a claimed batch into messages (services/bind.ts): in order, every task
// once, each message under the limit unless one task alone is larger, and the weight an upper
// bound of the encoded size.
import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { StreamActivityTaskBatchesResponseSchema, StreamActivityTasksResponseSchema } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { StreamTaskBatchesResponseSchema } from "../../gen/taskgate/datapipeline/v1/service_pb.ts";
import { batchMessages, maxBatchMessageBytes, weight } from "../../src/services/bind.ts";

const task = (i: number, input: string) => ({
  taskToken: `token-${i}`,
  activityId: `a-${i}`,
  startedEventId: BigInt(i + 3),
  workflowExecution: { workflowId: "w", runId: "r".repeat(44) },
  activityType: { name: "act", version: "1" },
  input,
});

describe("batch stream messages", () => {
  it("keeps a batch under the limit in one message, in claim order", () => {
    const batch = Array.from({ length: 100 }, (_, i) => task(i, "x"));
    const out = [...batchMessages(batch)];
    expect(out).toHaveLength(1);
    expect(out[0].tasks).toEqual(batch);
  });

  it("splits where the next task would pass the limit; every task once, in order", () => {
    const batch = Array.from({ length: 10 }, (_, i) => task(i, "y".repeat(1000)));
    const w = weight(batch[0]);
    const out = [...batchMessages(batch, 3 * w + 1)];
    expect(out.map((m) => m.tasks.length)).toEqual([3, 3, 3, 1]);
    expect(out.flatMap((m) => m.tasks)).toEqual(batch);
  });

  it("sends a task larger than the limit alone", () => {
    const batch = [task(0, "s"), task(1, "L".repeat(5000)), task(2, "s")];
    expect([...batchMessages(batch, 2000)].map((m) => m.tasks.map((t) => t.activityId))).toEqual([["a-0"], ["a-1"], ["a-2"]]);
  });

  it("weighs at least the encoded size: ASCII, 3-byte and 4-byte characters, nested messages, maps", () => {
    for (const input of ["", "abc", "€".repeat(1000), "😀".repeat(700), "mixed é € 😀 ".repeat(50)]) {
      const t = task(7, input);
      expect(weight(t)).toBeGreaterThanOrEqual(toBinary(StreamActivityTasksResponseSchema, create(StreamActivityTasksResponseSchema, t)).byteLength);
      const batch = [t, t, t];
      expect([...batchMessages(batch)].length).toBe(1);
      expect(weight(batch) + 6).toBeGreaterThanOrEqual(toBinary(StreamActivityTaskBatchesResponseSchema, create(StreamActivityTaskBatchesResponseSchema, { tasks: batch })).byteLength);
    }
    const dp = {
      taskId: "t".repeat(100),
      pipelineId: "df-0123456789",
      attemptId: "@A_2026-01-01T00:00:00_Attempt=1",
      objects: { "@A_1": { id: "@A_1", name: "A", fields: [{ key: "command", stringValue: "é".repeat(300) }, { key: "runsOn", refValue: "R" }] } },
    };
    expect(weight({ tasks: [dp] })).toBeGreaterThanOrEqual(toBinary(StreamTaskBatchesResponseSchema, create(StreamTaskBatchesResponseSchema, { tasks: [dp] })).byteLength);
  });

  it("stays under gRPC's default 4 MiB receive limit", () => {
    expect(maxBatchMessageBytes).toBeLessThan(4 * 1024 * 1024);
    const batch = Array.from({ length: 60 }, (_, i) => task(i, "€".repeat(32_768)));
    for (const m of batchMessages(batch)) expect(toBinary(StreamActivityTaskBatchesResponseSchema, create(StreamActivityTaskBatchesResponseSchema, m)).byteLength).toBeLessThan(4 * 1024 * 1024);
  });
});
