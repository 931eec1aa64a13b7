// The fault tier's fuzz: a bounded, seeded (deterministic) fuzz of the AWS JSON route and the
// Connect, gRPC and gRPC-Web routes of a real taskgate, on both stores. It sends malformed JSON
// and protobuf (random bytes, truncations, flipped bytes), a value of the wrong type for every
// member of every SWF operation (taken from the model), pathological strings (digit runs, deep
// nesting, invalid UTF-8, NULs, lone surrogates, huge strings and lists), and truncated and slow
// bodies. It asserts that no answer is a server error (AWS route: status < 500; Connect: no 5xx
// but 501 unimplemented, never internal, unknown or data loss; gRPC and gRPC-Web: never status
// 2, 13 or 15), that /healthz, polled concurrently the whole time, answers within 100 ms (no
// request stalls the others; see healthProbe for how a busy machine is told from a stall), and
// that the server serves normally afterwards.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import type { DescMethod } from "@bufbuild/protobuf";
import { DescribeDomainCommand, RegisterDomainCommand } from "@aws-sdk/client-swf";
import { awsJsonToMessage } from "../../src/awsjson/convert.ts";
import { loadModel } from "../../src/model/model.ts";
import { RespondActivityTaskCompletedRequestSchema, RespondActivityTasksRequestSchema, SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { ChildPolicy, RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { startTaskgate, type StoreKind, type Taskgate } from "../helpers/harness.ts";
import { baseline, members, withMember, type Fixture, type MemberKind } from "../awsjson/model-requests.ts";

const SEED = 0x5eed_f00d;
const model = loadModel("swf");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** mulberry32: a small seeded generator, so every run sends the same requests. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Transports: raw requests, so malformed bytes reach the server as they are.

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function h1(port: number, method: string, path: string, headers: Record<string, string>, body: Uint8Array | undefined): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  });
}

let session: http2.ClientHttp2Session | undefined;

function h2(url: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<Reply> {
  if (!session || session.closed || session.destroyed) {
    session = http2.connect(url);
    session.on("error", () => undefined);
  }
  const s = session;
  return new Promise((resolve, reject) => {
    const stream = s.request({ ":method": "POST", ":path": path, ...headers });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => (head = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve({ status: Number(head[":status"] ?? 0), headers: head as http.IncomingHttpHeaders, trailers, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  });
}

function envelope(data: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

/** The header fields of the first trailer frame (flag 0x80) of a gRPC-Web or the end-stream JSON of a Connect stream body. */
function lastFrame(body: Buffer, flag: number): Buffer | undefined {
  for (let at = 0; at + 5 <= body.length; ) {
    const len = body.readUInt32BE(at + 1);
    if ((body[at] & flag) !== 0) return body.subarray(at + 5, at + 5 + len);
    at += 5 + len;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// What counts as a server error, per protocol

type Protocol = "aws" | "connect" | "connect-stream" | "grpc" | "grpc-web";

/** gRPC status codes of a server error: UNKNOWN, INTERNAL, DATA_LOSS. */
const serverStatus = new Set(["2", "13", "15"]);

/** Why an answer is a server error, or undefined when it is not. */
function serverError(protocol: Protocol, r: Reply): string | undefined {
  switch (protocol) {
    case "aws":
      return r.status >= 500 ? `HTTP ${r.status} ${r.body.toString("utf8").slice(0, 200)}` : undefined;
    case "connect": {
      if (r.status < 500) return undefined;
      let code: unknown;
      try {
        code = (JSON.parse(r.body.toString("utf8")) as { code?: unknown }).code;
      } catch {
        // not a Connect error body: a server error all the same
      }
      // 501 is `unimplemented` (a method or compression the server does not offer): the client's.
      return r.status === 501 && code === "unimplemented" ? undefined : `HTTP ${r.status} ${r.body.toString("utf8").slice(0, 200)}`;
    }
    case "connect-stream": {
      if (r.status >= 500) return `HTTP ${r.status}`;
      const end = lastFrame(r.body, 0x02);
      if (!end) return r.status === 200 ? "no end-stream message" : undefined;
      const code = (JSON.parse(end.toString("utf8")) as { error?: { code?: string } }).error?.code;
      return code === "internal" || code === "unknown" || code === "data_loss" ? `end-stream ${end.toString("utf8").slice(0, 200)}` : undefined;
    }
    case "grpc": {
      const status = String(r.trailers["grpc-status"] ?? r.headers["grpc-status"] ?? "");
      if (r.status >= 500) return `HTTP ${r.status}`;
      return serverStatus.has(status) ? `grpc-status ${status} ${decodeURIComponent(String(r.trailers["grpc-message"] ?? r.headers["grpc-message"] ?? ""))}` : undefined;
    }
    case "grpc-web": {
      if (r.status >= 500) return `HTTP ${r.status}`;
      const trailer = lastFrame(r.body, 0x80)?.toString("utf8") ?? "";
      const status = /grpc-status:\s*(\d+)/i.exec(trailer)?.[1] ?? String(r.headers["grpc-status"] ?? "");
      return serverStatus.has(status) ? `grpc-status ${status} ${trailer.slice(0, 200)}` : undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The cases

interface Case {
  readonly name: string;
  readonly protocol: Protocol;
  readonly send: () => Promise<Reply>;
}

/** Values of the wrong JSON type for a member of each kind. */
const wrongValues: Record<MemberKind, unknown[]> = {
  string: [123, { s: 1 }, ["x"], true],
  enum: [7, { e: 1 }, "NOT_A_VALUE"],
  integer: ["12x", [], 1.5, 1e300],
  long: ["12x", {}, 2 ** 80],
  double: ["one", []],
  boolean: ["true", 1, {}],
  timestamp: ["yesterday", {}, `${"1".repeat(60_000)}x`],
  blob: [5, {}],
  structure: [[], "s", 5],
  list: [{}, "s", 5],
  map: [[], "m"],
};

const unaryMethods = SimpleWorkflowService.methods.filter((m) => m.methodKind === "unary");
const streamMethods = SimpleWorkflowService.methods.filter((m) => m.methodKind === "server_streaming");
const rpcPath = (m: DescMethod) => `/${SimpleWorkflowService.typeName}/${m.name}`;

function randomBytes(rnd: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

/** A valid binary request of `method` (its AWS baseline converted), for truncation and flipping. */
function binaryBaseline(method: DescMethod, fx: Fixture): Uint8Array {
  // The batch RespondActivityTasks is taskgate's own: one completed outcome, the baseline of its single call.
  if (method.name === "RespondActivityTasks") {
    const one = awsJsonToMessage(RespondActivityTaskCompletedRequestSchema, baseline(model, "RespondActivityTaskCompleted", fx), model);
    return toBinary(RespondActivityTasksRequestSchema, create(RespondActivityTasksRequestSchema, { outcomes: [{ outcome: { case: "completed", value: one } }] }));
  }
  // A task stream (or its batch stream) is validated as its poll: StreamActivityTasks and
  // StreamActivityTaskBatches as PollForActivityTask.
  const op = method.name.startsWith("Stream") ? method.name.replace("Stream", "PollFor").replace(/(Tasks|TaskBatches)$/, "Task") : method.name;
  const msg = awsJsonToMessage(method.input, baseline(model, op, fx), model);
  return toBinary(method.input, msg);
}

function buildCases(tg: Taskgate, fx: Fixture): Case[] {
  const rnd = random(SEED);
  const port = tg.port;
  const cases: Case[] = [];
  const aws = (name: string, op: string, body: Uint8Array | string): void => {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    cases.push({ name, protocol: "aws", send: () => h1(port, "POST", "/", { "content-type": "application/x-amz-json-1.0", "x-amz-target": `SimpleWorkflowService.${op}` }, bytes) });
  };
  const connect = (name: string, m: DescMethod, contentType: string, body: Uint8Array | string): void => {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    cases.push({ name, protocol: "connect", send: () => h1(port, "POST", rpcPath(m), { "content-type": contentType }, bytes) });
  };
  const grpc = (name: string, m: DescMethod, body: Uint8Array, contentType = "application/grpc"): void => {
    cases.push({ name, protocol: "grpc", send: () => h2(tg.url, rpcPath(m), { "content-type": contentType, te: "trailers" }, body) });
  };
  const grpcWeb = (name: string, m: DescMethod, body: Uint8Array, contentType = "application/grpc-web+proto"): void => {
    cases.push({ name, protocol: "grpc-web", send: () => h1(port, "POST", rpcPath(m), { "content-type": contentType }, body) });
  };
  const connectStream = (name: string, m: DescMethod, body: Uint8Array, contentType = "application/connect+proto"): void => {
    cases.push({ name, protocol: "connect-stream", send: () => h1(port, "POST", rpcPath(m), { "content-type": contentType }, body) });
  };

  // 1. A value of the wrong type for every member of every operation, on the AWS route and as
  //    Connect JSON (whose field names are the AWS member names).
  for (const op of Object.keys(model.operations)) {
    const base = baseline(model, op, fx);
    const method = SimpleWorkflowService.methods.find((m) => m.name === op)!;
    for (const member of members(model, op)) {
      const values = wrongValues[member.kind];
      const v = values[Math.floor(rnd() * values.length)];
      const w = values[0] === v ? values[1] : values[0];
      const where = `${op}.${member.path.join(".")}`;
      aws(`wrong type ${where} = ${JSON.stringify(v).slice(0, 20)}`, op, JSON.stringify(withMember(base, member.path, v)));
      aws(`wrong type ${where} = ${JSON.stringify(w).slice(0, 20)}`, op, JSON.stringify(withMember(base, member.path, w)));
      connect(`Connect JSON wrong type ${where} = ${JSON.stringify(v).slice(0, 20)}`, method, "application/json", JSON.stringify(withMember(base, member.path, v)));
      connect(`Connect JSON wrong type ${where} = ${JSON.stringify(w).slice(0, 20)}`, method, "application/json", JSON.stringify(withMember(base, member.path, w)));
    }
  }

  // 2. Malformed JSON: random bytes, truncations and flipped bytes of valid requests.
  const ops = Object.keys(model.operations);
  for (let i = 0; i < 450; i++) {
    const op = pick(rnd, ops);
    const valid = Buffer.from(JSON.stringify(baseline(model, op, fx)));
    const kind = i % 3;
    const body = kind === 0 ? randomBytes(rnd, Math.floor(rnd() * 512)) : kind === 1 ? valid.subarray(0, Math.floor(rnd() * valid.length)) : flip(rnd, valid);
    aws(`malformed JSON #${i} (${["random", "truncated", "flipped"][kind]}) for ${op}`, op, body);
    const m = unaryMethods.find((x) => x.name === op)!;
    connect(`malformed Connect JSON #${i} for ${op}`, m, "application/json", body);
  }

  // 3. Malformed protobuf on every protocol: random bytes, truncations, flipped bytes, deep groups.
  for (let i = 0; i < 720; i++) {
    const m = pick(rnd, unaryMethods);
    const valid = binaryBaseline(m, fx);
    const kind = i % 4;
    const body =
      kind === 0 ? randomBytes(rnd, Math.floor(rnd() * 256)) : kind === 1 ? valid.subarray(0, Math.max(0, Math.floor(rnd() * valid.length) - 1)) : kind === 2 ? flip(rnd, valid) : deepGroups(1 + Math.floor(rnd() * 50_000));
    const label = `${["random", "truncated", "flipped", "nested groups"][kind]} protobuf #${i} for ${m.name}`;
    switch (i % 3) {
      case 0:
        connect(`Connect ${label}`, m, "application/proto", body);
        break;
      case 1:
        grpc(`gRPC ${label}`, m, envelope(body));
        break;
      default:
        grpcWeb(`gRPC-Web ${label}`, m, envelope(body));
    }
  }
  for (const m of streamMethods) {
    const valid = binaryBaseline(m, fx);
    for (const [label, body] of [
      ["truncated", valid.subarray(0, valid.length - 1)],
      ["random", randomBytes(rnd, 64)],
      ["invalid UTF-8", Uint8Array.from([0x0a, 0x02, 0xc3, 0x28])],
    ] as const) {
      connectStream(`Connect stream ${label} ${m.name}`, m, envelope(body));
      grpc(`gRPC stream ${label} ${m.name}`, m, envelope(body));
      grpcWeb(`gRPC-Web stream ${label} ${m.name}`, m, envelope(body));
    }
    // an envelope promising more than it carries, a compressed flag without an encoding
    const partial = envelope(valid).subarray(0, 8);
    grpc(`gRPC short envelope ${m.name}`, m, partial);
    grpc(`gRPC compressed flag without encoding ${m.name}`, m, envelope(valid, 1));
    connectStream(`Connect stream JSON with a lone surrogate ${m.name}`, m, envelope(Buffer.from('{"domain":"\\ud800"}')), "application/connect+json");
  }
  grpc("gRPC compressed flag without encoding (unary)", unaryMethods[0], envelope(binaryBaseline(unaryMethods[0], fx), 1));
  const describe = unaryMethods.find((m) => m.name === "DescribeDomain")!;
  for (const q of ["base64=1&message=!!!!", "base64=1&message=%E0%A4%A", "message=%FF%FE", `base64=1&message=${Buffer.from(Uint8Array.from([0x0a, 0x09, 0x61])).toString("base64url")}`, "encoding=json&message=%7B%22name%22%3A%22%5Cud800%22%7D", "encoding=json&message=%7B"]) {
    const encoding = q.includes("encoding=") ? "" : "&encoding=proto";
    cases.push({ name: `Connect GET ${q}`, protocol: "connect", send: () => h1(port, "GET", `${rpcPath(describe)}?connect=v1${encoding}&${q}`, {}, undefined) });
  }

  // 4. Pathological strings and shapes.
  const digits = "7".repeat(60_000);
  const strings: [string, string][] = [
    ["digit run", `${digits}x`],
    ["NULs", "\u0000".repeat(1000)],
    ["control characters", Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("")],
    ["huge string", "x".repeat(600_000)],
    ["noncharacters", "\ufdd0\ufdd1\uffff\ufffe"],
  ];
  for (const [label, s] of strings) {
    for (const op of ["RegisterDomain", "DescribeDomain", "StartWorkflowExecution", "RespondActivityTaskCompleted", "CountOpenWorkflowExecutions", "TagResource"]) {
      for (const member of members(model, op).filter((x) => x.kind === "string" || x.kind === "timestamp")) {
        if (label === "huge string" && rnd() < 0.7) continue;
        const body = JSON.stringify(withMember(baseline(model, op, fx), member.path, s));
        aws(`${label} at ${op}.${member.path.join(".")}`, op, body);
        connect(`Connect JSON ${label} at ${op}.${member.path.join(".")}`, unaryMethods.find((m) => m.name === op)!, "application/json", body);
      }
    }
  }
  const jsonOnly: [string, string, string | Uint8Array][] = [
    ["deep array nesting", "RegisterDomain", `{"name":"d","x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`],
    ["deep object nesting", "RegisterDomain", `{"name":"d","x":${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`],
    ["deep nesting at a member", "RespondDecisionTaskCompleted", `{"taskToken":"t","decisions":${"[".repeat(50_000)}${"]".repeat(50_000)}}`],
    ["lone surrogate", "RegisterDomain", '{"name":"al\\ud800ias","workflowExecutionRetentionPeriodInDays":"1"}'],
    ["lone surrogate key", "RegisterDomain", '{"\\udc00":1}'],
    ["invalid UTF-8", "RegisterDomain", Buffer.concat([Buffer.from('{"name":"al'), Buffer.from([0xff]), Buffer.from('ias","workflowExecutionRetentionPeriodInDays":"1"}')])],
    ["overlong UTF-8", "DescribeDomain", Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])],
    ["encoded surrogate", "DescribeDomain", Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])],
    ["many decisions", "RespondDecisionTaskCompleted", `{"taskToken":"t","decisions":[${Array(20_000).fill('{"decisionType":"StartTimer"}').join(",")}]}`],
    ["many tags", "StartWorkflowExecution", JSON.stringify({ ...baseline(model, "StartWorkflowExecution", fx), tagList: Array(20_000).fill("t") })],
    ["many unknown members", "DescribeDomain", `{"name":"x",${Array.from({ length: 20_000 }, (_, i) => `"u${i}":[${i}]`).join(",")}}`],
    ["duplicate members", "DescribeDomain", `{"name":"a","name":"b","name":null}`],
    ["long digit run as a number", "ListDomains", `{"registrationStatus":"REGISTERED","maximumPageSize":${digits}}`],
    ["long fraction", "CountOpenWorkflowExecutions", `{"domain":"d","startTimeFilter":{"oldestDate":0.${digits}}}`],
    ["huge exponent", "CountOpenWorkflowExecutions", `{"domain":"d","startTimeFilter":{"oldestDate":1e${digits}}}`],
    ["numeric string exponent", "CountOpenWorkflowExecutions", `{"domain":"d","startTimeFilter":{"oldestDate":"1e${digits}x"}}`],
    ["BOM", "ListDomains", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"registrationStatus":"REGISTERED"}')])],
  ];
  for (const [label, op, body] of jsonOnly) {
    aws(label, op, body);
    connect(`Connect JSON ${label}`, unaryMethods.find((m) => m.name === op)!, "application/json", body);
  }

  // Shuffled, so no protocol or family runs in one block.
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [cases[i], cases[j]] = [cases[j], cases[i]];
  }
  return cases;
}

function flip(rnd: () => number, valid: Uint8Array): Uint8Array {
  const out = Uint8Array.from(valid);
  for (let k = 0; k < 1 + Math.floor(rnd() * 4) && out.length > 0; k++) out[Math.floor(rnd() * out.length)] ^= 1 << Math.floor(rnd() * 8);
  return out;
}

/** `depth` nested start-group tags of an unknown field: a parser that recurses on groups overflows its stack. */
function deepGroups(depth: number): Uint8Array {
  const start = (99 << 3) | 3;
  const tag = [0x80 | (start & 0x7f), start >> 7];
  const out = new Uint8Array(depth * 2);
  for (let i = 0; i < depth; i++) out.set(tag, i * 2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bodies that arrive slowly, are cut off, or come without a Host

/** A request whose body arrives in `pieces` parts `gapMs` apart; resolves with its answer. */
function slowBody(port: number, path: string, headers: Record<string, string>, body: Buffer, pieces: number, gapMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path, headers: { ...headers, "content-length": String(body.length) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    const size = Math.ceil(body.length / pieces);
    let i = 0;
    const next = (): void => {
      req.write(body.subarray(i * size, (i + 1) * size));
      if (++i < pieces) setTimeout(next, gapMs);
      else req.end();
    };
    next();
  });
}

/** Raw bytes on a fresh connection, closed after `closeAfterMs`; resolves with what came back. */
function raw(port: number, bytes: string, closeAfterMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let out = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (out += d));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(out));
    socket.write(bytes, "latin1");
    setTimeout(() => socket.destroy(), closeAfterMs);
  });
}

// ---------------------------------------------------------------------------------------------
// /healthz, polled the whole time

interface Probe {
  stop(): Promise<{ count: number; slow: number[] }>;
}

function healthProbe(port: number): Probe {
  let stopped = false;
  const slow: number[] = [];
  let count = 0;
  const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = http.get({ host: "127.0.0.1", port, path: "/healthz", agent: probeAgent }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`/healthz answered ${res.statusCode}`))));
      });
      req.on("error", reject);
    });
  // A probe of 100 ms or more is measured again at once. A request that blocks the event loop
  // holds back the first probe by its whole cost; the machine being busy elsewhere (other test
  // files, the database, on two shared cores) delays one probe now and then but not the next.
  // So a stall is a slow probe whose immediate retry is slow too, or any probe of 250 ms or more.
  const loop = (async () => {
    while (!stopped) {
      const ms = await once();
      count++;
      if (ms >= 250) slow.push(Math.round(ms));
      else if (ms >= 100) {
        const again = await once();
        count++;
        if (again >= 100) slow.push(Math.round(ms), Math.round(again));
      }
      await sleep(5);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      probeAgent.destroy();
      return { count, slow };
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe.each(["sqlite", "postgres"] as StoreKind[])("fault-tier fuzz (%s)", (kind) => {
  let tg: Taskgate;
  let fx: Fixture;

  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 0.05 });
    const domain = "fuzz";
    await tg.connect.registerDomain({ name: domain, workflowExecutionRetentionPeriodInDays: "1" });
    await tg.connect.registerWorkflowType({ domain, name: "wf", version: "1", defaultTaskList: { name: "tl" }, defaultExecutionStartToCloseTimeout: "600", defaultTaskStartToCloseTimeout: "60" });
    await tg.connect.registerActivityType({ domain, name: "act", version: "1", defaultTaskList: { name: "tl" } });
    const { runId } = await tg.connect.startWorkflowExecution({ domain, workflowId: "wid", workflowType: { name: "wf", version: "1" }, childPolicy: ChildPolicy.TERMINATE });
    fx = { domain, workflowType: { name: "wf", version: "1" }, activityType: { name: "act", version: "1" }, taskList: "tl", workflowId: "wid", runId: runId ?? "" };
  });

  afterAll(async () => {
    session?.destroy();
    session = undefined;
    agent.destroy();
    await tg?.destroy();
  });

  it("answers every malformed request as the client's error, stalls nothing, and stays healthy", async () => {
    const cases = buildCases(tg, fx);
    const errors: string[] = [];
    const record = (name: string, why: string | undefined): void => {
      if (why !== undefined && errors.length < 40) errors.push(`${name}: ${why}`);
    };
    const probe = healthProbe(tg.port);
    const started = performance.now();

    // Slow and cut-off bodies run alongside the rest.
    const body = Buffer.from(JSON.stringify(baseline(model, "DescribeDomain", fx)));
    const binary = envelope(binaryBaseline(unaryMethods.find((m) => m.name === "DescribeDomain")!, fx));
    const aside: Promise<void>[] = [
      slowBody(tg.port, "/", { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.DescribeDomain" }, body, 8, 150).then((r) => record("slow AWS body", serverError("aws", r))),
      slowBody(tg.port, rpcPath(unaryMethods.find((m) => m.name === "DescribeDomain")!), { "content-type": "application/grpc-web+proto" }, Buffer.from(binary), 8, 150).then((r) => record("slow gRPC-Web body", serverError("grpc-web", r))),
      raw(tg.port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: SimpleWorkflowService.DescribeDomain\r\nContent-Length: 500\r\n\r\n{"name":`, 300).then(() => undefined),
      raw(tg.port, `POST ${rpcPath(unaryMethods[0])} HTTP/1.1\r\nHost: x\r\nContent-Type: application/proto\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\n\u0003abc`, 300).then(() => undefined),
      raw(tg.port, `POST ${rpcPath(unaryMethods[0])} HTTP/1.0\r\nContent-Type: application/proto\r\nContent-Length: 0\r\n\r\n`, 500).then((out) => record("HTTP/1.0 RPC request without Host", /^HTTP\/1\.[01] [45]\d\d /.test(out) && !/^HTTP\/1\.[01] 5/.test(out) ? undefined : `answered ${JSON.stringify(out.slice(0, 80))}`)),
    ];

    let sent = 0;
    for (const c of cases) {
      let why: string | undefined;
      try {
        why = serverError(c.protocol, await c.send());
      } catch (e) {
        why = `request failed: ${e instanceof Error ? e.message : String(e)}`;
      }
      record(c.name, why);
      sent++;
    }
    await Promise.all(aside);
    const { count, slow } = await probe.stop();
    const seconds = (performance.now() - started) / 1000;

    expect(errors).toEqual([]);
    expect(sent).toBeGreaterThan(3000);
    expect(count).toBeGreaterThan(seconds * 20); // the probe really ran throughout
    expect(slow, "/healthz probes that show a stall (see healthProbe)").toEqual([]);

    // Healthy afterwards: a normal call on each route.
    await tg.swf.send(new RegisterDomainCommand({ name: "after-fuzz", workflowExecutionRetentionPeriodInDays: "1" }));
    const d = await tg.swf.send(new DescribeDomainCommand({ name: "after-fuzz" }));
    expect(d.domainInfo?.status).toBe("REGISTERED");
    expect((await tg.connect.describeDomain({ name: "after-fuzz" })).domainInfo?.name).toBe("after-fuzz");
    expect((await tg.grpc.describeDomain({ name: "fuzz" })).domainInfo?.name).toBe("fuzz");
    expect((await tg.grpcWeb.listDomains({ registrationStatus: RegistrationStatus.REGISTERED })).domainInfos.map((x) => x.name)).toContain("after-fuzz");
  }, 60_000);
});
