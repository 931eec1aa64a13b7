// Malformed requests on the Connect, gRPC and gRPC-Web routes are the client's error: a binary
// message connect-es cannot parse, a Connect GET whose message is not base64, JSON that is not
// UTF-8, has lone surrogates, unknown fields or enum values the descriptor lacks. Each answers
// invalid_argument with a SerializationException (or ValidationException) Fault detail and a
// message naming the problem, never internal; the internal-failure hook (error log) stays quiet.
// The routes are mounted as the server mounts them: connectNodeAdapter with connectRoutes and the
// fault interceptor.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { connect as connectHttp2, createServer as createHttp2Server, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { connectRoutes, createFaultInterceptor, faultFromConnectError } from "../../src/faults-connect.ts";
import { swf } from "../../src/faults.ts";
import { loadModel } from "../../src/model/model.ts";
import { validateRequest } from "../../src/model/validate.ts";
import { RegisterDomainRequestSchema, SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";

const model = loadModel("swf");
const m = SimpleWorkflowService.method;
const names: string[] = [];
const internal: unknown[] = [];
const malformed: ConnectError[] = [];

const impl: Partial<ServiceImpl<typeof SimpleWorkflowService>> = {
  registerDomain(req) {
    validateRequest(model, "RegisterDomain", m.registerDomain.input, req);
    names.push(req.name ?? "");
    return {};
  },
  describeDomain(req) {
    throw swf.unknownResource(`Unknown domain: ${req.name ?? ""}`);
  },
  listDomains(req) {
    validateRequest(model, "ListDomains", m.listDomains.input, req);
    return { domainInfos: [{ name: `listed-${req.registrationStatus}` }] };
  },
  async *streamActivityTasks(req) {
    validateRequest(model, "PollForActivityTask", m.pollForActivityTask.input, req as never);
    yield { taskToken: `t-${req.domain ?? ""}`, startedEventId: 1n };
  },
};

const adapter = connectNodeAdapter({
  routes: connectRoutes([{ desc: SimpleWorkflowService, impl }], (e) => malformed.push(e)),
  interceptors: [createFaultInterceptor((cause) => internal.push(cause))],
  readMaxBytes: 1024 * 1024,
});

let h1: Server;
let h2: Http2Server;
let url: string;
let url2: string;

beforeAll(async () => {
  h1 = createServer(adapter);
  h2 = createHttp2Server(adapter);
  await new Promise<void>((resolve) => h1.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(h1.address() as AddressInfo).port}`;
  url2 = `http://127.0.0.1:${(h2.address() as AddressInfo).port}`;
});

afterAll(async () => {
  h1.closeAllConnections();
  await new Promise<void>((resolve) => h1.close(() => resolve()));
  await new Promise<void>((resolve) => h2.close(() => resolve()));
});

const path = (method: string) => `/taskgate.swf.v1.SimpleWorkflowService/${method}`;

/** A binary RegisterDomainRequest whose `name` (field 1) holds `bytes`. */
function nameField(bytes: number[]): Uint8Array {
  return Uint8Array.from([0x0a, bytes.length, ...bytes]);
}
const truncated = Uint8Array.from([0x0a, 0x05, 0x61]); // field 1, length 5, one byte
const badUtf8 = nameField([0x61, 0x6c, 0xff, 0x69, 0x61, 0x73]); // "al\xffias"

function envelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

function expectSerializationFault(code: string | number, message: string, detailsOrFault: { name: string } | undefined): void {
  expect(code).toBe(typeof code === "string" ? "invalid_argument" : Code.InvalidArgument);
  expect(message).toMatch(/^The request is not a valid taskgate\.swf\.v1\.\w+ message: .+\.$/);
  expect(detailsOrFault?.name).toBe("SerializationException");
}

/** A Connect unary error body's code, message and Fault detail. */
async function connectError(res: Response): Promise<{ status: number; code: string; message: string; fault: { name: string; message: string } | undefined }> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const body = JSON.parse(new TextDecoder().decode(bytes)) as { code: string; message: string };
  const ce = errorFromJsonBytes(bytes, undefined, new ConnectError("not an error body", Code.Unknown));
  return { status: res.status, code: body.code, message: body.message, fault: faultFromConnectError(ce) };
}

async function h2Call(path: string, headers: Record<string, string>, body: Uint8Array): Promise<{ headers: Record<string, string>; trailers: Record<string, string>; body: Buffer }> {
  const session = connectHttp2(url2);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": path, ...headers });
      const chunks: Buffer[] = [];
      let head: Record<string, string> = {};
      let trailers: Record<string, string> = {};
      stream.on("response", (h) => (head = h as Record<string, string>));
      stream.on("trailers", (t) => (trailers = t as Record<string, string>));
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => resolve({ headers: head, trailers, body: Buffer.concat(chunks) }));
      stream.on("error", reject);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

/** The trailer frame of a gRPC-Web body as a header map. */
function grpcWebTrailer(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (let at = 0; at + 5 <= body.length; ) {
    const len = body.readUInt32BE(at + 1);
    if ((body[at] & 0x80) !== 0) {
      for (const line of body.subarray(at + 5, at + 5 + len).toString("utf8").split("\r\n")) {
        const i = line.indexOf(":");
        if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
    }
    at += 5 + len;
  }
  return out;
}

describe("malformed protobuf is invalid_argument on every protocol", () => {
  it("Connect unary: a truncated message and invalid UTF-8 in a string", async () => {
    for (const body of [truncated, badUtf8, Uint8Array.from([0x0f]), Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])]) {
      const res = await fetch(url + path("RegisterDomain"), { method: "POST", headers: { "content-type": "application/proto" }, body });
      const e = await connectError(res);
      expect(e.status).toBe(400);
      expectSerializationFault(e.code, e.message, e.fault);
    }
    const e = await connectError(await fetch(url + path("RegisterDomain"), { method: "POST", headers: { "content-type": "application/proto" }, body: truncated }));
    expect(e.message).toBe("The request is not a valid taskgate.swf.v1.RegisterDomainRequest message: premature EOF.");
    expect(names).toEqual([]);
  });

  it("Connect GET: a message that is not base64, and one that is not protobuf", async () => {
    const get = (message: string) => fetch(`${url}${path("DescribeDomain")}?connect=v1&encoding=proto&base64=1&message=${encodeURIComponent(message)}`);
    const bad = await connectError(await get("!!!!"));
    expect(bad.status).toBe(400);
    expectSerializationFault(bad.code, bad.message, bad.fault);
    expect(bad.message).toContain("the message query parameter is not base64");
    const trunc = await connectError(await get(Buffer.from(truncated).toString("base64url")));
    expect(trunc.status).toBe(400);
    expect(trunc.message).toContain("premature EOF");
    // a good GET still works
    const ok = await connectError(await get(Buffer.from(toBinary(m.describeDomain.input, create(m.describeDomain.input, { name: "x" }))).toString("base64url")));
    expect(ok).toMatchObject({ status: 404, code: "not_found", fault: { name: "UnknownResourceFault" } });
  });

  it("Connect GET: a query that is not percent-encoded UTF-8 (no aliasing through U+FFFD)", async () => {
    const get = (message: string) => fetch(`${url}${path("DescribeDomain")}?connect=v1&encoding=json&message=${message}`);
    for (const bad of ["%7B%22name%22%3A%22al%FFias%22%7D", "%7B%22name%22%3A%22al%FEias%22%7D", "%7B%22name%22%3A%22al%ED%A0%80ias%22%7D"]) {
      const e = await connectError(await get(bad));
      expect(e.status).toBe(400);
      expectSerializationFault(e.code, e.message, e.fault);
      expect(e.message).toContain("the query string is not valid percent-encoded UTF-8");
    }
    const real = await connectError(await get("%7B%22name%22%3A%22al%EF%BF%BDias%22%7D"));
    expect(real).toMatchObject({ status: 404, code: "not_found", message: "Unknown domain: al\ufffdias" });
  });

  it("gRPC: grpc-status 3 in the trailers", async () => {
    for (const body of [truncated, badUtf8]) {
      const r = await h2Call(path("RegisterDomain"), { "content-type": "application/grpc", te: "trailers" }, envelope(0, body));
      const status = r.trailers["grpc-status"] ?? r.headers["grpc-status"];
      expect(status).toBe("3");
      expect(decodeURIComponent(r.trailers["grpc-message"] ?? r.headers["grpc-message"])).toMatch(/^The request is not a valid taskgate\.swf\.v1\.RegisterDomainRequest message: /);
      expect(r.trailers["grpc-status-details-bin"] ?? r.headers["grpc-status-details-bin"]).toBeDefined();
    }
  });

  it("gRPC-Web: grpc-status 3 in the trailer frame", async () => {
    for (const body of [truncated, badUtf8]) {
      const res = await fetch(url + path("RegisterDomain"), { method: "POST", headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" }, body: envelope(0, body) });
      const trailer = grpcWebTrailer(Buffer.from(await res.arrayBuffer()));
      expect(trailer["grpc-status"]).toBe("3");
      expect(decodeURIComponent(trailer["grpc-message"])).toMatch(/^The request is not a valid taskgate\.swf\.v1\.RegisterDomainRequest message: /);
    }
  });

  it("server streaming (Connect, gRPC, gRPC-Web): the input message is checked the same way", async () => {
    const stream = await fetch(url + path("StreamActivityTasks"), { method: "POST", headers: { "content-type": "application/connect+proto" }, body: envelope(0, truncated) });
    const bytes = Buffer.from(await stream.arrayBuffer());
    expect(bytes[0] & 0x02).toBe(2); // the end-stream message
    const end = JSON.parse(bytes.subarray(5).toString("utf8")) as { error: { code: string; message: string } };
    expect(end.error.code).toBe("invalid_argument");
    expect(end.error.message).toMatch(/^The request is not a valid taskgate\.swf\.v1\.StreamActivityTasksRequest message: /);
    const g = await h2Call(path("StreamActivityTasks"), { "content-type": "application/grpc", te: "trailers" }, envelope(0, badUtf8));
    expect(g.trailers["grpc-status"] ?? g.headers["grpc-status"]).toBe("3");
    const web = await fetch(url + path("StreamActivityTasks"), { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: envelope(0, truncated) });
    expect(grpcWebTrailer(Buffer.from(await web.arrayBuffer()))["grpc-status"]).toBe("3");
  });

  it("never reports these as internal failures", () => {
    expect(internal).toEqual([]);
    expect(malformed.length).toBeGreaterThan(0);
    expect(malformed.every((e) => e.code === Code.InvalidArgument)).toBe(true);
  });
});

describe("Connect JSON names the problem", () => {
  const post = async (method: string, body: string | Uint8Array) =>
    connectError(await fetch(url + path(method), { method: "POST", headers: { "content-type": "application/json" }, body }));

  it("an unknown field", async () => {
    const e = await post("RegisterDomain", '{"nmae":"x","workflowExecutionRetentionPeriodInDays":"1"}');
    expect(e.status).toBe(400);
    expect(e.code).toBe("invalid_argument");
    expect(e.message).toMatch(/^Unknown field 'nmae': taskgate\.swf\.v1\.RegisterDomainRequest has no field 'nmae'\. Did you mean 'name'\? Its fields are name, description, workflowExecutionRetentionPeriodInDays, tags\.$/);
    expect(e.fault?.name).toBe("SerializationException");
    const nested = await post("ListOpenWorkflowExecutions", '{"domain":"d","startTimeFilter":{"oldest":"2020-01-01T00:00:00Z"}}');
    expect(nested.message).toMatch(/^Unknown field 'startTimeFilter\.oldest': /);
  });

  it("an enum value the enum lacks, with the accepted values", async () => {
    const e = await post("ListDomains", '{"registrationStatus":"REGISTERED"}');
    expect(e).toMatchObject({ status: 400, code: "invalid_argument", fault: { name: "ValidationException" } });
    expect(e.message).toBe(
      "1 validation error detected: Value 'REGISTERED' at 'registrationStatus' failed to satisfy constraint: Member must satisfy enum value set: [REGISTRATION_STATUS_REGISTERED, REGISTRATION_STATUS_DEPRECATED]. The Connect and gRPC routes take proto enum value names: send 'REGISTRATION_STATUS_REGISTERED' (or 1) for 'REGISTERED'; AWS's spellings are read on the AWS JSON route",
    );
  });

  it("a value of the wrong type", async () => {
    const e = await post("RegisterDomain", '{"name":7}');
    expect(e).toMatchObject({ status: 400, code: "invalid_argument", message: "Invalid value at 'name': expected a string, got a number." });
  });

  it("JSON that is not UTF-8, has lone surrogates or nests too deep", async () => {
    const bad = await post("RegisterDomain", Buffer.concat([Buffer.from('{"name":"al'), Buffer.from([0xff]), Buffer.from('ias"}')]));
    expect(bad).toMatchObject({ status: 400, code: "invalid_argument", message: "The request body is not valid UTF-8.", fault: { name: "SerializationException" } });
    const lone = await post("RegisterDomain", '{"name":"al\\ud800ias"}');
    expect(lone).toMatchObject({ status: 400, code: "invalid_argument", fault: { name: "SerializationException" } });
    expect(lone.message).toContain("unpaired surrogate \\ud800");
    const deep = await post("RegisterDomain", `{"tags":${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
    expect(deep).toMatchObject({ status: 400, code: "invalid_argument", message: "The request body nests arrays and objects more than 100 levels deep." });
    expect(names).toEqual([]);
  });

  it("accepts proto field names, enum names, numbers and null as protobuf JSON does", async () => {
    const client = createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false }));
    expect((await client.listDomains({ registrationStatus: RegistrationStatus.DEPRECATED })).domainInfos[0].name).toBe("listed-2");
    const raw = await fetch(url + path("ListDomains"), { method: "POST", headers: { "content-type": "application/json" }, body: '{"registration_status":1,"nextPageToken":null}' });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({ domainInfos: [{ name: "listed-1" }] });
  });
});

describe("well-formed requests are unaffected", () => {
  it("every protocol, binary and JSON, unary and streaming", async () => {
    const clients = [
      createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
      createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false })),
      createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: url, httpVersion: "1.1", useHttpGet: true })),
      createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: url2 })),
      createClient(SimpleWorkflowService, createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" })),
      createClient(SimpleWorkflowService, createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false })),
    ];
    for (const [i, c] of clients.entries()) {
      await c.registerDomain(create(RegisterDomainRequestSchema, { name: `ok-${i}-\u{1F600}`, workflowExecutionRetentionPeriodInDays: "1" }));
      expect(names.at(-1)).toBe(`ok-${i}-\u{1F600}`);
      const err = await c.describeDomain({ name: "nope" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.NotFound);
      const got: string[] = [];
      for await (const t of c.streamActivityTasks({ domain: `s${i}`, taskList: { name: "tl" } })) got.push(t.taskToken ?? "");
      expect(got).toEqual([`t-s${i}`]);
    }
    expect(internal).toEqual([]);
  });
});
