import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, request as httpRequest } from "node:http";
import type { Server } from "node:http";
import { connect as connectHttp2, createServer as createHttp2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  DescribeDomainCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RegisterDomainCommand,
  SWFClient,
  UnknownResourceFault,
} from "@aws-sdk/client-swf";
import { createAwsJsonHandler } from "../../src/awsjson/handler.ts";
import { deliveryKey } from "../../src/request/delivery.ts";
import { swf } from "../../src/faults.ts";
import { loadModel } from "../../src/model/model.ts";
import type { RegisteredService } from "../../src/services/registry.ts";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import type { PollForActivityTaskRequest, PollForDecisionTaskRequest, RegisterDomainRequest } from "../../gen/taskgate/swf/v1/service_pb.ts";

const model = loadModel("swf");
const logLines: Record<string, unknown>[] = [];
const logger = pino(
  { level: "debug" },
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split("\n")) if (line.trim() !== "") logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  }),
);

const seen: { registered: RegisterDomainRequest[]; pollAborted: boolean; undelivered: boolean } = { registered: [], pollAborted: false, undelivered: false };

const impl: Partial<ServiceImpl<typeof SimpleWorkflowService>> = {
  registerDomain(req: RegisterDomainRequest) {
    seen.registered.push(req);
    return {};
  },
  describeDomain(req: { name?: string }) {
    throw swf.unknownResource(`Unknown domain: ${req.name ?? ""}`);
  },
  pollForActivityTask(req: PollForActivityTaskRequest) {
    if (req.taskList?.name === "boom") throw new Error("secret database detail");
    if (req.taskList?.name === "connect-invalid") throw new ConnectError("bad thing", Code.InvalidArgument);
    if (req.taskList?.name === "connect-unavailable") throw new ConnectError("down", Code.Unavailable);
    if (req.taskList?.name === "connect-other") throw new ConnectError("weird", Code.DataLoss);
    return { startedEventId: 0n };
  },
  async pollForDecisionTask(_req: PollForDecisionTaskRequest, ctx: HandlerContext) {
    ctx.values.get(deliveryKey)?.onUndelivered(() => {
      seen.undelivered = true;
    });
    await new Promise<void>((resolve) => {
      ctx.signal.addEventListener("abort", () => {
        seen.pollAborted = true;
        resolve();
      });
    });
    return { taskToken: "too-late", startedEventId: 3n };
  },
};

const service: RegisteredService = {
  desc: SimpleWorkflowService,
  impl: impl as unknown as ServiceImpl<typeof SimpleWorkflowService>,
  model,
};
const sfnLike: RegisteredService = {
  desc: SimpleWorkflowService,
  impl: impl as unknown as ServiceImpl<typeof SimpleWorkflowService>,
  model: { ...model, metadata: { ...model.metadata, targetPrefix: "AWSStepFunctions" } },
};

let server: Server;
let url: string;
let client: SWFClient;

beforeAll(async () => {
  server = createServer(createAwsJsonHandler({ services: [service, sfnLike], logger, maxBodyBytes: 4096 }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new SWFClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" }, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function post(target: string | undefined, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const h: Record<string, string> = { "Content-Type": "application/x-amz-json-1.0", ...headers };
  if (target !== undefined) h["X-Amz-Target"] = target;
  const res = await fetch(`${url}/`, { method: "POST", headers: h, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe("AWS JSON handler with @aws-sdk/client-swf", () => {
  it("calls the implementation with the converted request", async () => {
    const out = await client.send(new RegisterDomainCommand({ name: "d1", workflowExecutionRetentionPeriodInDays: "1", description: "" }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const req = seen.registered.at(-1)!;
    expect(req.name).toBe("d1");
    expect(req.workflowExecutionRetentionPeriodInDays).toBe("1");
    expect(req.description).toBe("");
  });

  it("returns a typed modeled fault", async () => {
    const err: unknown = await client.send(new DescribeDomainCommand({ name: "x" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownResourceFault);
    const fault = err as UnknownResourceFault;
    expect(fault.message).toBe("Unknown domain: x");
    expect(fault.$metadata.httpStatusCode).toBe(400);
    expect(fault.$fault).toBe("client");
  });

  it("returns an empty activity poll as startedEventId 0 without a task token", async () => {
    const out = await client.send(new PollForActivityTaskCommand({ domain: "d", taskList: { name: "tl" } }));
    expect(out.startedEventId).toBe(0);
    expect(out.taskToken).toBeUndefined();
  });

  it("aborts the handler's signal and reports non-delivery when the client goes away", async () => {
    const ac = new AbortController();
    const pending = client.send(new PollForDecisionTaskCommand({ domain: "d", taskList: { name: "tl" } }), { abortSignal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    for (let i = 0; i < 50 && !(seen.pollAborted && seen.undelivered); i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.pollAborted).toBe(true);
    expect(seen.undelivered).toBe(true);
  });
});

describe("AWS JSON handler protocol errors", () => {
  it("answers a successful call with the model's content type and a request id", async () => {
    const r = await post("SimpleWorkflowService.PollForActivityTask", '{"domain":"d","taskList":{"name":"tl"}}', { "Content-Type": "application/json; charset=utf-8" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ startedEventId: 0 });
    expect(r.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(r.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("accepts an empty body as {}", async () => {
    const r = await post("SimpleWorkflowService.RegisterDomain", "");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({});
  });

  it("rejects malformed JSON with SerializationException", async () => {
    const r = await post("SimpleWorkflowService.RegisterDomain", '{"name": ');
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe("com.amazon.coral.service#SerializationException");
    expect(String(r.json.message)).toMatch(/not valid JSON/);
    expect(r.headers.get("x-amzn-errortype")).toBe("SerializationException");
    expect(r.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("rejects a JSON body that is not an object", async () => {
    for (const body of ["[]", "null", "3", '"x"']) {
      const r = await post("SimpleWorkflowService.RegisterDomain", body);
      expect(r.status).toBe(400);
      expect(r.json.__type).toBe("com.amazon.coral.service#SerializationException");
    }
  });

  it("names the member of a wrongly typed value", async () => {
    const r = await post("SimpleWorkflowService.PollForActivityTask", '{"domain":"d","taskList":{"name":7}}');
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe("com.amazon.coral.service#SerializationException");
    expect(String(r.json.message)).toContain("'taskList.name'");
  });

  it("rejects unknown targets and operations with UnknownOperationException", async () => {
    for (const target of ["Nope.RegisterDomain", "SimpleWorkflowService.Nope", "SimpleWorkflowService", "SimpleWorkflowService.StreamActivityTasks"]) {
      const r = await post(target, "{}");
      expect(r.status, target).toBe(400);
      expect(r.json.__type, target).toBe("com.amazon.coral.service#UnknownOperationException");
    }
    const r = await post(undefined, "{}");
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe("com.amazon.coral.service#UnknownOperationException");
    expect(String(r.json.message)).toMatch(/X-Amz-Target/);
  });

  it("accepts AmazonStatesService as an alias of AWSStepFunctions", async () => {
    const r = await post("AmazonStatesService.RegisterDomain", "{}");
    expect(r.status).toBe(200);
  });

  it("rejects an unsupported content type", async () => {
    const r = await post("SimpleWorkflowService.RegisterDomain", "{}", { "Content-Type": "text/plain" });
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe("com.amazon.coral.service#SerializationException");
    expect(String(r.json.message)).toContain("application/x-amz-json-1.0");
  });

  it("rejects an oversized body with 413", async () => {
    const r = await post("SimpleWorkflowService.RegisterDomain", JSON.stringify({ name: "x".repeat(5000) }));
    expect(r.status).toBe(413);
    expect(r.json.__type).toBe("com.amazon.coral.service#RequestEntityTooLargeException");
    expect(String(r.json.message)).toContain("4096");
    // the server still serves
    expect((await post("SimpleWorkflowService.RegisterDomain", "{}")).status).toBe(200);
  });

  it("rejects an oversized chunked body (no Content-Length) with 413", async () => {
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${url}/`, {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "SimpleWorkflowService.RegisterDomain", "Transfer-Encoding": "chunked" },
      });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      for (let i = 0; i < 5; i++) req.write("x".repeat(1000));
      req.end();
    });
    expect(status.status).toBe(413);
    expect(JSON.parse(status.body)).toMatchObject({ __type: "com.amazon.coral.service#RequestEntityTooLargeException" });
  });

  it("rejects an unknown enum value with AWS's validation message", async () => {
    const r = await post("SimpleWorkflowService.ListDomains", '{"registrationStatus":"GONE"}');
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      __type: "com.amazon.coral.validate#ValidationException",
      message:
        "1 validation error detected: Value 'GONE' at 'registrationStatus' failed to satisfy constraint: Member must satisfy enum value set: [REGISTERED, DEPRECATED]",
    });
  });

  it("rejects other methods and paths", async () => {
    const get = await fetch(`${url}/`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(((await get.json()) as Record<string, unknown>).__type).toBe("com.amazon.coral.service#UnknownOperationException");
    const other = await fetch(`${url}/foo`, { method: "POST", headers: { "X-Amz-Target": "SimpleWorkflowService.RegisterDomain" }, body: "{}" });
    expect(other.status).toBe(404);
    expect(((await other.json()) as Record<string, unknown>).__type).toBe("com.amazon.coral.service#UnknownOperationException");
  });

  it("hides internal errors and logs them", async () => {
    const r = await post("SimpleWorkflowService.PollForActivityTask", '{"domain":"d","taskList":{"name":"boom"}}');
    expect(r.status).toBe(500);
    expect(r.json.__type).toBe("com.amazon.coral.service#InternalFailure");
    expect(JSON.stringify(r.json)).not.toContain("secret");
    const logged = logLines.find((l) => l.level === 50 && JSON.stringify(l).includes("secret database detail"));
    expect(logged).toBeDefined();
  });

  it("maps ConnectErrors thrown by implementations", async () => {
    const call = (name: string) => post("SimpleWorkflowService.PollForActivityTask", JSON.stringify({ domain: "d", taskList: { name } }));
    const invalid = await call("connect-invalid");
    expect(invalid.status).toBe(400);
    expect(invalid.json).toEqual({ __type: "com.amazon.coral.validate#ValidationException", message: "bad thing" });
    const unavailable = await call("connect-unavailable");
    expect(unavailable.status).toBe(503);
    expect(unavailable.json.__type).toBe("com.amazon.coral.availability#ServiceUnavailable");
    const other = await call("connect-other");
    expect(other.status).toBe(500);
    expect(other.json.__type).toBe("com.amazon.coral.service#InternalFailure");
  });
});

describe("AWS JSON handler over HTTP/2 (h2c)", () => {
  it("serves calls and errors through the compatibility API", async () => {
    const h2 = createHttp2Server(createAwsJsonHandler({ services: [service], logger, maxBodyBytes: 64 }));
    await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", resolve));
    const session = connectHttp2(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
    const call = (body: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": "/",
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "SimpleWorkflowService.PollForActivityTask",
        });
        let status = 0;
        let text = "";
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.setEncoding("utf8");
        stream.on("data", (c: string) => (text += c));
        stream.on("end", () => resolve({ status, body: text }));
        stream.on("error", reject);
        stream.end(body);
      });
    try {
      const ok = await call('{"domain":"d","taskList":{"name":"tl"}}');
      expect(ok).toEqual({ status: 200, body: '{"startedEventId":0}' });
      const big = await call(JSON.stringify({ domain: "x".repeat(100) }));
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body)).toMatchObject({ __type: "com.amazon.coral.service#RequestEntityTooLargeException" });
    } finally {
      session.close();
      await new Promise<void>((resolve) => h2.close(() => resolve()));
    }
  });
});
