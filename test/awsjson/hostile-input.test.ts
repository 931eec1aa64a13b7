// The AWS JSON route under hostile bodies: pathological numbers, invalid UTF-8, lone surrogates,
// deep nesting, huge lists. Every one is answered with a 400 that names the problem, and the cost
// of a request stays linear in its body: the hostile bodies are as large as the route accepts, so
// work that grew faster than the body (a backtracking pattern, a quadratic scan) would not finish
// within the test's timeout, without a wall-clock assertion here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import type { ServiceImpl } from "@connectrpc/connect";
import { createAwsJsonHandler } from "../../src/awsjson/handler.ts";
import { swf } from "../../src/faults.ts";
import { loadModel } from "../../src/model/model.ts";
import { validateRequest } from "../../src/model/validate.ts";
import { defaults } from "../../src/server/config.ts";
import type { RegisteredService } from "../../src/services/registry.ts";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";

const model = loadModel("swf");
const names: string[] = [];
const m = SimpleWorkflowService.method;

const impl: Partial<ServiceImpl<typeof SimpleWorkflowService>> = {
  registerDomain(req) {
    validateRequest(model, "RegisterDomain", m.registerDomain.input, req);
    names.push(req.name ?? "");
    return {};
  },
  describeDomain(req) {
    throw swf.unknownResource(`Unknown domain: ${req.name ?? ""}`);
  },
  countOpenWorkflowExecutions() {
    return { count: 0 };
  },
  respondDecisionTaskCompleted(req) {
    validateRequest(model, "RespondDecisionTaskCompleted", m.respondDecisionTaskCompleted.input, req);
    return {};
  },
};

const service: RegisteredService = { desc: SimpleWorkflowService, impl: impl as unknown as ServiceImpl<typeof SimpleWorkflowService>, model };

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer(createAwsJsonHandler({ services: [service], logger: pino({ level: "silent" }), maxBodyBytes: defaults.maxBodyBytes }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function post(op: string, body: string | Uint8Array): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/`, { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `SimpleWorkflowService.${op}` }, body });
  const text = await res.text();
  return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function bytes(...parts: (string | number[])[]): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));
}

describe("AWS JSON route: numbers", () => {
  it("answers a timestamp of a body's worth of digits and a letter (60,000 once blocked the server for seconds)", async () => {
    const body = `{"domain":"d","startTimeFilter":{"oldestDate":"${"1".repeat(defaults.maxBodyBytes - 1024)}x"}}`;
    const r = await post("CountOpenWorkflowExecutions", body);
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe("com.amazon.coral.service#SerializationException");
    expect(r.json.message).toBe("Invalid value at 'startTimeFilter.oldestDate': expected a timestamp in epoch seconds, got a string.");
  });
});

describe("AWS JSON route: text must be valid Unicode", () => {
  it("refuses bodies that are not UTF-8 instead of turning bad bytes into U+FFFD", async () => {
    const before = names.length;
    for (const bad of [[0xff], [0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80] /* an encoded surrogate */, [0xe2, 0x82] /* truncated */]) {
      const r = await post("RegisterDomain", bytes('{"name":"al', bad, 'ias","workflowExecutionRetentionPeriodInDays":"1"}'));
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json).toEqual({ __type: "com.amazon.coral.service#SerializationException", message: "The request body is not valid UTF-8." });
    }
    expect(names.length).toBe(before);
  });

  it("refuses lone surrogate escapes in values and member names, and accepts pairs", async () => {
    for (const [body, path] of [
      ['{"name":"al\\ud800ias","workflowExecutionRetentionPeriodInDays":"1"}', "name"],
      ['{"name":"alias\\udc00","workflowExecutionRetentionPeriodInDays":"1"}', "name"],
      ['{"name":"a","x":[1,{"y\\ud800":2}],"workflowExecutionRetentionPeriodInDays":"1"}', "x.2.member.y\\ud800"],
      ['{"name":"a","x":["ok","\\udfff\\ud800"],"workflowExecutionRetentionPeriodInDays":"1"}', "x.2.member"],
    ] as const) {
      const r = await post("RegisterDomain", body);
      expect(r.status, body).toBe(400);
      expect(r.json.__type).toBe("com.amazon.coral.service#SerializationException");
      expect(String(r.json.message)).toContain(`at '${path.replace("\\ud800", "\ud800")}'`);
      expect(String(r.json.message)).toMatch(/unpaired surrogate \\u(d800|dc00|dfff)/);
    }
    const ok = await post("RegisterDomain", '{"name":"smile\\ud83d\\ude00","workflowExecutionRetentionPeriodInDays":"1"}');
    expect(ok.status).toBe(200);
    expect(names.at(-1)).toBe("smile\u{1F600}");
  });

  it("keeps distinct names distinct: no two byte strings alias", async () => {
    const answers = new Set<string>();
    for (const body of [bytes('{"name":"al', [0xff], 'ias"}'), bytes('{"name":"al', [0xfe], 'ias"}'), '{"name":"al\\ud800ias"}']) {
      const r = await post("DescribeDomain", body);
      expect(r.status).toBe(400);
      answers.add(String(r.json.__type));
    }
    expect([...answers]).toEqual(["com.amazon.coral.service#SerializationException"]);
    // U+FFFD itself is an ordinary character
    const r = await post("DescribeDomain", '{"name":"al\ufffdias"}');
    expect(r.json).toEqual({ __type: "com.amazonaws.swf.base.model#UnknownResourceFault", message: "Unknown domain: al\ufffdias" });
  });
});

describe("AWS JSON route: the cost of a request is bounded", () => {
  it("answers 100,000 levels of nesting with a SerializationException, not a stack overflow", async () => {
    for (const [op, body] of [
      ["RegisterDomain", `{"name":"d","x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`],
      ["RegisterDomain", `{"name":"d","x":${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`],
      ["RespondDecisionTaskCompleted", `{"taskToken":"t","decisions":${"[".repeat(100_000)}${"]".repeat(100_000)}}`],
    ] as const) {
      const r = await post(op, body);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ __type: "com.amazon.coral.service#SerializationException", message: "The request body nests arrays and objects more than 100 levels deep." });
    }
    // 100 levels are fine
    const r = await post("RegisterDomain", `{"name":"deep","workflowExecutionRetentionPeriodInDays":"1","x":${"[".repeat(99)}${"]".repeat(99)}}`);
    expect(r.status).toBe(200);
  });

  it("converts and validates a body at the size limit, whatever its shape", async () => {
    const limit = defaults.maxBodyBytes - 1024;
    const fill = (unit: string, head: string, tail: string): string => head + Array(Math.floor((limit - head.length - tail.length) / (unit.length + 1))).fill(unit).join(",") + tail;
    const bodies: [string, string][] = [
      // many decisions, each with violations (the message words the first 100 and counts the rest)
      ["RespondDecisionTaskCompleted", fill('{"decisionType":"StartTimer","startTimerDecisionAttributes":{}}', '{"taskToken":"t","decisions":[', "]}")],
      ["RespondDecisionTaskCompleted", fill("{}", '{"taskToken":"t","decisions":[', "]}")],
      // many strings in an unknown member (all checked for lone surrogates)
      ["RegisterDomain", fill('"\\ud83d\\ude00"', '{"name":"d","workflowExecutionRetentionPeriodInDays":"1","x":[', "]}")],
      // one huge string where a short one is expected
      ["RegisterDomain", `{"name":"${"x".repeat(limit - 100)}","workflowExecutionRetentionPeriodInDays":"1"}`],
      ["RegisterDomain", `{"name":"${" ".repeat(limit - 100)}x","workflowExecutionRetentionPeriodInDays":"1"}`],
      // many members
      ["RegisterDomain", `{${Array.from({ length: Math.floor(limit / 12) }, (_, i) => `"k${i.toString(36).padStart(6, "0")}":1`).join(",")}}`],
    ];
    for (const [op, body] of bodies) {
      expect(body.length).toBeLessThanOrEqual(defaults.maxBodyBytes);
      const r = await post(op, body);
      expect(r.status, body.slice(0, 80)).toBeLessThan(500);
      expect(JSON.stringify(r.json).length).toBeLessThan(64 * 1024);
    }
  });
});
