// What Step Functions and Data Pipeline calls are authorized as (access.ts), as data: action,
// resources and condition keys per operation and request.
import { describe, expect, it } from "vitest";
import { accessesOf, pipelineArn } from "../../src/auth/access.ts";

const R = "us-east-1";
const A = "123456789012";
const states = `arn:aws:states:${R}:${A}`;
const pipeline = (id: string) => `arn:aws:datapipeline:${R}:${A}:pipeline/${id}`;

const cases: { service: string; op: string; input: Record<string, unknown>; want: { action: string; resource: string; context?: Record<string, string> }[] }[] = [
  { service: "states", op: "CreateActivity", input: { name: "work" }, want: [{ action: "states:CreateActivity", resource: `${states}:activity:work` }] },
  { service: "states", op: "CreateStateMachine", input: { name: "sm", roleArn: "arn:aws:iam::1:role/r" }, want: [{ action: "states:CreateStateMachine", resource: `${states}:stateMachine:sm` }] },
  { service: "states", op: "GetActivityTask", input: { activityArn: `${states}:activity:work` }, want: [{ action: "states:GetActivityTask", resource: `${states}:activity:work` }] },
  { service: "states", op: "StartExecution", input: { stateMachineArn: `${states}:stateMachine:sm`, name: "x" }, want: [{ action: "states:StartExecution", resource: `${states}:stateMachine:sm` }] },
  { service: "states", op: "ListExecutions", input: { stateMachineArn: `${states}:stateMachine:sm` }, want: [{ action: "states:ListExecutions", resource: `${states}:stateMachine:sm` }] },
  { service: "states", op: "DescribeExecution", input: { executionArn: `${states}:execution:sm:x` }, want: [{ action: "states:DescribeExecution", resource: `${states}:execution:sm:x` }] },
  { service: "states", op: "TagResource", input: { resourceArn: `${states}:activity:work`, tags: [] }, want: [{ action: "states:TagResource", resource: `${states}:activity:work` }] },
  { service: "states", op: "SendTaskSuccess", input: { taskToken: "t", output: "{}" }, want: [{ action: "states:SendTaskSuccess", resource: "*" }] },
  { service: "states", op: "ListStateMachines", input: {}, want: [{ action: "states:ListStateMachines", resource: "*" }] },
  { service: "datapipeline", op: "CreatePipeline", input: { name: "p", uniqueId: "u" }, want: [{ action: "datapipeline:CreatePipeline", resource: "*" }] },
  { service: "datapipeline", op: "ActivatePipeline", input: { pipelineId: "df-1" }, want: [{ action: "datapipeline:ActivatePipeline", resource: pipeline("df-1") }] },
  {
    service: "datapipeline",
    op: "DescribePipelines",
    input: { pipelineIds: ["df-1", "df-2"] },
    want: [
      { action: "datapipeline:DescribePipelines", resource: pipeline("df-1") },
      { action: "datapipeline:DescribePipelines", resource: pipeline("df-2") },
    ],
  },
  { service: "datapipeline", op: "PollForTask", input: { workerGroup: "wg" }, want: [{ action: "datapipeline:PollForTask", resource: "*", context: { "datapipeline:workerGroup": "wg" } }] },
  { service: "datapipeline", op: "SetTaskStatus", input: { taskId: "t", taskStatus: "FINISHED" }, want: [{ action: "datapipeline:SetTaskStatus", resource: "*" }] },
  { service: "swf", op: "PollForActivityTask", input: { domain: "d", taskList: { name: "l" } }, want: [{ action: "swf:PollForActivityTask", resource: `arn:aws:swf:${R}:${A}:/domain/d`, context: { "swf:taskList.name": "l" } }] },
  // Authorized by the engine once the task's domain is known.
  { service: "swf", op: "RespondActivityTaskCompleted", input: { taskToken: "t" }, want: [] },
  { service: "other", op: "X", input: {}, want: [] },
];

describe("accessesOf", () => {
  it.each(cases.map((c) => [`${c.service} ${c.op}`, c] as const))("%s", (_name, c) => {
    expect(accessesOf(c.service, c.op, c.input, R, A)).toEqual(c.want.map((w) => ({ ...w, context: w.context ?? {} })));
  });

  it("pipeline ARNs follow the region's partition", () => {
    expect(pipelineArn("cn-north-1", A, "df-9")).toBe(`arn:aws-cn:datapipeline:cn-north-1:${A}:pipeline/df-9`);
  });
});
