import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { Fault } from "../../src/faults.ts";
import type { Model } from "../../src/model/model.ts";
import { loadModel } from "../../src/model/model.ts";
import { requestViolations, skippedPatterns, validateRequest } from "../../src/model/validate.ts";
import {
  ListDomainsRequestSchema,
  PollForActivityTaskRequestSchema,
  PollForDecisionTaskRequestSchema,
  RegisterDomainRequestSchema,
  RespondDecisionTaskCompletedRequestSchema,
  StartWorkflowExecutionRequestSchema,
  StreamActivityTasksRequestSchema,
} from "../../gen/taskgate/swf/v1/service_pb.ts";
import { DecisionType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import type { RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";

const model = loadModel("swf");

function validate<Desc extends DescMessage>(operation: string, schema: Desc, init: MessageInitShape<Desc>, m: Model = model): string | undefined {
  try {
    validateRequest(m, operation, schema, create(schema, init));
    return undefined;
  } catch (e) {
    if (!(e instanceof Fault)) throw e;
    expect(e.type).toBe("ValidationException");
    expect(e.namespace).toBe("com.amazon.coral.validate");
    expect(e.status).toBe(400);
    return e.message;
  }
}

function poll(name: string): string | undefined {
  return validate("PollForActivityTask", PollForActivityTaskRequestSchema, { domain: "d", taskList: { name } });
}

describe("validateRequest", () => {
  it("accepts a valid request", () => {
    expect(poll("workers")).toBeUndefined();
    expect(validate("ListDomains", ListDomainsRequestSchema, { registrationStatus: 1 })).toBeUndefined();
  });

  it("reports missing required members, counting the errors", () => {
    expect(validate("PollForActivityTask", PollForActivityTaskRequestSchema, {})).toBe(
      "2 validation errors detected: Value null at 'domain' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'taskList' failed to satisfy constraint: Member must not be null",
    );
    expect(validate("PollForActivityTask", PollForActivityTaskRequestSchema, { domain: "d", taskList: {} })).toBe(
      "1 validation error detected: Value null at 'taskList.name' failed to satisfy constraint: Member must not be null",
    );
    // an enum member at 0 (UNSPECIFIED) is absent
    expect(validate("ListDomains", ListDomainsRequestSchema, {})).toBe(
      "1 validation error detected: Value null at 'registrationStatus' failed to satisfy constraint: Member must not be null",
    );
  });

  it("checks string lengths", () => {
    const long = "x".repeat(257);
    const msg = validate("PollForActivityTask", PollForActivityTaskRequestSchema, { domain: long, taskList: { name: "" } });
    expect(msg).toMatch(/^2 validation errors detected: /);
    expect(msg).toContain(`Value '${"x".repeat(128)}…' at 'domain' failed to satisfy constraint: Member must have length less than or equal to 256`);
    expect(msg).toContain("Value '' at 'taskList.name' failed to satisfy constraint: Member must have length greater than or equal to 1");
    expect(validate("PollForActivityTask", PollForActivityTaskRequestSchema, { domain: "x".repeat(256), taskList: { name: "t" } })).toBeUndefined();
  });

  it("checks integer ranges (maximumPageSize 0..1000)", () => {
    const v = (maximumPageSize: number) =>
      validate("PollForDecisionTask", PollForDecisionTaskRequestSchema, { domain: "d", taskList: { name: "t" }, maximumPageSize });
    expect(v(0)).toBeUndefined();
    expect(v(1000)).toBeUndefined();
    expect(v(1001)).toBe(
      "1 validation error detected: Value '1001' at 'maximumPageSize' failed to satisfy constraint: Member must have value less than or equal to 1000",
    );
    expect(v(-1)).toBe(
      "1 validation error detected: Value '-1' at 'maximumPageSize' failed to satisfy constraint: Member must have value greater than or equal to 0",
    );
  });

  it("checks list sizes", () => {
    const msg = validate("StartWorkflowExecution", StartWorkflowExecutionRequestSchema, {
      domain: "d",
      workflowId: "w",
      workflowType: { name: "n", version: "1" },
      tagList: ["a", "b", "c", "d", "e", "f"],
    });
    expect(msg).toBe(
      "1 validation error detected: Value '[a, b, c, d, e, f]' at 'tagList' failed to satisfy constraint: Member must have length less than or equal to 5",
    );
  });

  it("applies SWF's naming rule to task list names", () => {
    const rule = (v: string, text: string) =>
      `1 validation error detected: Value '${v}' at 'taskList.name' failed to satisfy constraint: Member ${text}`;
    expect(poll(" x")).toBe(rule(" x", "must not start or end with whitespace"));
    expect(poll("x ")).toBe(rule("x ", "must not start or end with whitespace"));
    expect(poll("x\t")).toMatch(/^2 validation errors detected: .*whitespace.*control characters$/);
    for (const bad of ["a:b", "a/b", "a|b", "a\u0000b", "\u001f", "a\u007fb", "a\u0085b", "\u009f"]) {
      expect(poll(bad)).toBe(rule(bad, "must not contain ':', '/', '|' or control characters"));
    }
    expect(poll("arn")).toBe(rule("arn", "must not be the literal string 'arn'"));
    for (const ok of ["arnx", "ARN", "a b", "a-b_c.d", "ü", "x\u00a1"]) {
      expect(poll(ok), JSON.stringify(ok)).toBeUndefined();
    }
  });

  it("takes the rule's sentences from each member's documentation", () => {
    // PollForDecisionTask.taskList's documentation has no whitespace sentence, the rest applies
    const v = (name: string) => validate("PollForDecisionTask", PollForDecisionTaskRequestSchema, { domain: "d", taskList: { name } });
    expect(v(" x")).toBeUndefined();
    expect(v("a:b")).toContain("must not contain");
    expect(v("arn")).toContain("must not be the literal string 'arn'");
    // RegisterDomain.name states all three; StartWorkflowExecution.domain states two
    expect(validate("RegisterDomain", RegisterDomainRequestSchema, { name: "d ", workflowExecutionRetentionPeriodInDays: "1" })).toContain(
      "at 'name' failed to satisfy constraint: Member must not start or end with whitespace",
    );
    const start = (init: { domain?: string; workflowId?: string; taskList?: { name: string }; input?: string }) =>
      validate("StartWorkflowExecution", StartWorkflowExecutionRequestSchema, { domain: "d", workflowId: "w", workflowType: { name: "n", version: "1" }, ...init });
    expect(start({ domain: "a/b" })).toContain("at 'domain' failed to satisfy constraint: Member must not contain");
    expect(start({ workflowId: "arn" })).toContain("at 'workflowId' failed to satisfy constraint: Member must not be the literal string 'arn'");
    expect(start({ taskList: { name: "a|b" } })).toContain("at 'taskList.name'");
    // not a naming-rule member: input may contain anything
    expect(start({ input: ":/|\u0000 arn " })).toBeUndefined();
  });

  it("walks nested lists and structures with AWS paths", () => {
    const msg = validate("RespondDecisionTaskCompleted", RespondDecisionTaskCompletedRequestSchema, {
      taskToken: "tok",
      decisions: [
        { decisionType: DecisionType.START_TIMER, startTimerDecisionAttributes: { timerId: "t1", startToFireTimeout: "5" } },
        {
          decisionType: DecisionType.SCHEDULE_ACTIVITY_TASK,
          scheduleActivityTaskDecisionAttributes: { activityId: "a:1", activityType: { name: "n" }, taskList: { name: "arn" } },
        },
      ],
    });
    expect(msg).toBe(
      "3 validation errors detected: " +
        "Value null at 'decisions.2.member.scheduleActivityTaskDecisionAttributes.activityType.version' failed to satisfy constraint: Member must not be null; " +
        "Value 'a:1' at 'decisions.2.member.scheduleActivityTaskDecisionAttributes.activityId' failed to satisfy constraint: Member must not contain ':', '/', '|' or control characters; " +
        "Value 'arn' at 'decisions.2.member.scheduleActivityTaskDecisionAttributes.taskList.name' failed to satisfy constraint: Member must not be the literal string 'arn'",
    );
    expect(validate("RespondDecisionTaskCompleted", RespondDecisionTaskCompletedRequestSchema, { taskToken: "tok", decisions: [{}] })).toBe(
      "1 validation error detected: Value null at 'decisions.1.member.decisionType' failed to satisfy constraint: Member must not be null",
    );
  });

  it("rejects enum numbers the model does not know (Connect clients)", () => {
    expect(validate("ListDomains", ListDomainsRequestSchema, { registrationStatus: 99 as RegistrationStatus })).toBe(
      "1 validation error detected: Value '99' at 'registrationStatus' failed to satisfy constraint: Member must satisfy enum value set: [REGISTERED, DEPRECATED]",
    );
  });

  it("checks model patterns and skips those JS cannot compile", () => {
    const withPattern = (pattern: string): Model => ({
      ...model,
      shapes: { ...model.shapes, DomainName: { ...model.shapes.DomainName, pattern } },
    });
    const m1 = withPattern("[a-z]+");
    const v = (domain: string, m: Model) => validate("PollForActivityTask", PollForActivityTaskRequestSchema, { domain, taskList: { name: "t" } }, m);
    expect(v("abc", m1)).toBeUndefined();
    expect(v("abc1", m1)).toBe(
      "1 validation error detected: Value 'abc1' at 'domain' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+",
    );
    const m2 = withPattern("\\p{ASCII}*");
    expect(v("abc", m2)).toBeUndefined();
    expect(v("é", m2)).toContain("Member must satisfy regular expression pattern: \\p{ASCII}*");
    const m3 = withPattern("a++b"); // Java possessive quantifier: not JS
    expect(v("zzz", m3)).toBeUndefined();
    expect(skippedPatterns()).toContain("a++b");
  });

  it("does not match a string over its maximum length against the pattern", () => {
    // (a+)+$ backtracks exponentially on "aaa…!" (about a second for 28 a's, days for 48); with
    // max 10 it never sees the 49-character string, so the test ends at once rather than at its
    // timeout.
    const m: Model = { ...model, shapes: { ...model.shapes, DomainName: { ...model.shapes.DomainName, pattern: "(a+)+", max: 10 } } };
    const msg = validate("PollForActivityTask", PollForActivityTaskRequestSchema, { domain: `${"a".repeat(48)}!`, taskList: { name: "t" } }, m);
    expect(msg).toBe(
      `1 validation error detected: Value '${"a".repeat(48)}!' at 'domain' failed to satisfy constraint: Member must have length less than or equal to 10`,
    );
    // within the maximum the pattern applies
    expect(validate("PollForActivityTask", PollForActivityTaskRequestSchema, { domain: "aa!", taskList: { name: "t" } }, m)).toContain("regular expression pattern");
  });

  it("words at most 100 violations and counts the rest", () => {
    const decisions = Array.from({ length: 250 }, () => ({ decisionType: DecisionType.START_TIMER, startTimerDecisionAttributes: {} }));
    const all = requestViolations(model, "RespondDecisionTaskCompleted", RespondDecisionTaskCompletedRequestSchema, create(RespondDecisionTaskCompletedRequestSchema, { taskToken: "t", decisions }));
    expect(all).toHaveLength(100);
    const msg = validate("RespondDecisionTaskCompleted", RespondDecisionTaskCompletedRequestSchema, { taskToken: "t", decisions: [...decisions, ...decisions] })!;
    expect(msg).toMatch(/^\d+ validation errors detected: /);
    const total = Number(/^(\d+)/.exec(msg)![1]);
    expect(total).toBeGreaterThan(100);
    expect(msg).toMatch(new RegExp(`; and ${total - 100} more$`));
    expect(msg.length).toBeLessThan(100 * 300);
  });

  it("validates taskgate-only requests against the operation whose members they share", () => {
    expect(requestViolations(model, "PollForActivityTask", StreamActivityTasksRequestSchema, create(StreamActivityTasksRequestSchema, { maxInFlight: 5 }))).toEqual([
      "Value null at 'domain' failed to satisfy constraint: Member must not be null",
      "Value null at 'taskList' failed to satisfy constraint: Member must not be null",
    ]);
  });

  it("throws a plain Error for an operation the model lacks", () => {
    expect(() => validateRequest(model, "NoSuchOperation", ListDomainsRequestSchema, create(ListDomainsRequestSchema))).toThrow(/no operation NoSuchOperation/);
  });
});
