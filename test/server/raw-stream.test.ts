// The lean long-poll path served from the raw HTTP/2 stream (server.ts routes a unary long poll
// there instead of Node's compatibility API; lean-unary.ts serves it), with a fake
// SimpleWorkflowService whose PollForActivityTask holds until the test releases it: which
// requests take it, the answer, errors, deadlines and cancellation on gRPC, gRPC-Web and Connect,
// the undelivered-answer rule (a reset after the answer, a cancelled stream, an error answer),
// CORS headers, the request's headers and URL as the implementation sees them, the request log
// line, and shutdown.
import { afterEach, describe, expect, it, vi } from "vitest";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Code, ConnectError, createClient, type HandlerContext, type ServiceImpl, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { deliveryKey } from "../../src/request/delivery.ts";
import { serviceUnavailable } from "../../src/faults.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { loadModel } from "../../src/model/model.ts";
import type { RegisteredService } from "../../src/services/registry.ts";
import type { Config } from "../../src/server/config.ts";
import { leanUnaryCounts } from "../../src/server/lean-unary.ts";
import type { RunningServer } from "../../src/server/server.ts";
import { startWithFake } from "./fake-service.ts";

const POLL = `/${SimpleWorkflowService.typeName}/PollForActivityTask`;

/** A held PollForActivityTask. */
interface Hold {
  delivered: boolean;
  undelivered: boolean;
  aborted: unknown;
  url: string;
  header: string | null;
  timeoutMs: number | undefined;
  /** Answers the poll with this task token, or a ServiceUnavailable fault for "fail". */
  release(answer?: string): void;
}

function fakePolls() {
  const holds: Hold[] = [];
  const impl: Partial<ServiceImpl<typeof SimpleWorkflowService>> = {
    async pollForActivityTask(req, ctx: HandlerContext) {
      const delivery = ctx.values.get(deliveryKey);
      let release = (_answer: string): void => {};
      const answered = new Promise<string>((r) => (release = r));
      const hold: Hold = { delivered: false, undelivered: false, aborted: undefined, url: "", header: null, timeoutMs: ctx.timeoutMs(), release: (answer = "token") => release(answer) };
      delivery?.onDelivered(() => (hold.delivered = true));
      delivery?.onUndelivered(() => (hold.undelivered = true));
      ctx.signal.addEventListener("abort", () => (hold.aborted = ctx.signal.reason ?? true));
      holds.push(hold);
      const answer = await Promise.race([answered, new Promise<string>((r) => ctx.signal.addEventListener("abort", () => r("")))]);
      // Read once the wait is over, as an implementation could.
      hold.url = ctx.url;
      hold.header = ctx.requestHeader.get("x-test");
      if (answer === "fail") throw serviceUnavailable(new Error("the answer failed"));
      // Given up (deadline, client gone): as the engine's polls do, the signal's reason is the answer.
      if (answer === "" && ctx.signal.aborted) throw ctx.signal.reason;
      return { taskToken: answer, activityId: req.taskList?.name ?? "" };
    },
  };
  const service: RegisteredService = { desc: SimpleWorkflowService, impl: impl as RegisteredService["impl"], model: loadModel("swf") };
  return { service, holds };
}

let running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.close()));
  running = [];
});

function start(over: Partial<Config> = {}) {
  return startWithFake(running, fakePolls(), over, "shutdown");
}

const transports: { name: string; raw: boolean; make: (url: string) => Transport }[] = [
  { name: "gRPC", raw: true, make: (url) => createGrpcTransport({ baseUrl: url, interceptors: [(next) => (req) => (req.header.set("x-test", "seen"), next(req))] }) },
  { name: "gRPC JSON, gzip", raw: true, make: (url) => createGrpcTransport({ baseUrl: url, useBinaryFormat: false, sendCompression: compressionGzip, acceptCompression: [compressionGzip], compressMinBytes: 1 }) },
  { name: "gRPC-Web, HTTP/2", raw: true, make: (url) => createGrpcWebTransport({ baseUrl: url, httpVersion: "2" }) },
  { name: "Connect binary, HTTP/2, gzip", raw: true, make: (url) => createConnectTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: true, sendCompression: compressionGzip, acceptCompression: [compressionGzip], compressMinBytes: 1 }) },
  { name: "Connect JSON, HTTP/1.1", raw: false, make: (url) => createConnectTransport({ baseUrl: url, httpVersion: "1.1" }) },
];

describe.each(transports)("lean long polls from the raw stream: $name", ({ name, raw, make }) => {
  it(`${raw ? "takes" : "does not take"} the raw path, answers, and reports the answer delivered`, async () => {
    const { server, fake } = await start();
    const before = { raw: leanUnaryCounts.rawStreams, served: leanUnaryCounts.served };
    const c = createClient(SimpleWorkflowService, make(server.url));
    const poll = c.pollForActivityTask({ domain: "d", taskList: { name: "list" } });
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    expect(leanUnaryCounts.served).toBe(before.served + 1);
    expect(leanUnaryCounts.rawStreams).toBe(before.raw + (raw ? 1 : 0));
    fake.holds[0].release("t".repeat(2048)); // compressed when negotiated
    const r = await poll;
    expect(r.taskToken).toBe("t".repeat(2048));
    expect(r.activityId).toBe("list");
    await vi.waitFor(() => expect(fake.holds[0].delivered).toBe(true));
    expect(fake.holds[0].undelivered).toBe(false);
    expect(fake.holds[0].url).toBe(`${server.url}${POLL}`);
    if (name === "gRPC") expect(fake.holds[0].header).toBe("seen");
  });

  it("sends a fault with its Fault detail, and an error answer counts as undelivered", async () => {
    const { server, fake } = await start();
    const c = createClient(SimpleWorkflowService, make(server.url));
    const poll = c.pollForActivityTask({ domain: "d", taskList: { name: "list" } }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    fake.holds[0].release("fail");
    const e = await poll;
    expect(e?.code).toBe(Code.Unavailable);
    expect(e && faultFromConnectError(e)?.name).toBe("ServiceUnavailable");
    await vi.waitFor(() => expect(fake.holds[0].undelivered).toBe(true));
    expect(fake.holds[0].delivered).toBe(false);
  });

  it("passes the client's deadline to the call", async () => {
    const { server, fake } = await start();
    const c = createClient(SimpleWorkflowService, make(server.url));
    const poll = c.pollForActivityTask({ domain: "d", taskList: { name: "list" } }, { timeoutMs: 5000 });
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    const t = fake.holds[0].timeoutMs;
    expect(t).toBeGreaterThan(0);
    expect(t).toBeLessThanOrEqual(5000);
    fake.holds[0].release("in time");
    expect((await poll).taskToken).toBe("in time");
  });

  it("gives up the call when the client cancels: its signal aborts, its answer is undelivered", async () => {
    const { server, fake } = await start();
    const c = createClient(SimpleWorkflowService, make(server.url));
    const ac = new AbortController();
    const poll = c.pollForActivityTask({ domain: "d", taskList: { name: "list" } }, { signal: ac.signal }).catch((e: unknown) => ConnectError.from(e));
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    ac.abort();
    expect(((await poll) as ConnectError).code).toBe(Code.Canceled);
    await vi.waitFor(() => expect(fake.holds[0].aborted).toBeTruthy());
    await vi.waitFor(() => expect(fake.holds[0].undelivered).toBe(true));
    expect(fake.holds[0].delivered).toBe(false);
  });
});

/** A raw HTTP/2 gRPC PollForActivityTask over its own connection; `raw` is the TCP socket under it. */
function rawPoll(url: string, headers: http2.OutgoingHttpHeaders = {}, body: Buffer = Buffer.from([0, 0, 0, 0, 3, 0x0a, 0x01, 0x64])) {
  const raw = net.connect({ host: "127.0.0.1", port: Number(new URL(url).port) });
  raw.on("error", () => undefined);
  const session = http2.connect(url, { createConnection: () => raw });
  session.on("error", () => undefined);
  const req = session.request({ ":method": "POST", ":path": POLL, "content-type": "application/grpc", te: "trailers", ...headers });
  req.on("error", () => undefined);
  const response = new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer }>((resolve) => {
    let h: http2.IncomingHttpHeaders = {};
    let t: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on("response", (x) => (h = x));
    req.on("trailers", (x) => (t = x));
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("close", () => resolve({ headers: h, trailers: t, body: Buffer.concat(chunks) }));
  });
  // By default PollForActivityTaskRequest { domain: "d" }.
  req.end(body);
  return { raw, session, req, response };
}

describe("lean long polls from the raw stream: delivery, CORS, logging, shutdown", () => {
  it("reports undelivered when the connection is reset after the stream ended", async () => {
    const { server, fake } = await start();
    const p = rawPoll(server.url);
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    p.req.once("data", () => p.raw.resetAndDestroy());
    fake.holds[0].release("b".repeat(50_000)); // within the stream's flow-control window
    await vi.waitFor(() => expect(fake.holds[0].undelivered || fake.holds[0].delivered).toBe(true));
    expect(fake.holds[0]).toMatchObject({ undelivered: true, delivered: false });
  });

  it("reports undelivered when the client resets the stream before the answer, and aborts the call with Canceled", async () => {
    const { server, fake, logs } = await start();
    const p = rawPoll(server.url);
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    p.req.close(http2.constants.NGHTTP2_CANCEL);
    await vi.waitFor(() => expect(fake.holds[0].undelivered).toBe(true));
    expect(fake.holds[0].aborted).toBeInstanceOf(ConnectError);
    expect((fake.holds[0].aborted as ConnectError).code).toBe(Code.Canceled);
    await vi.waitFor(() => expect(logs.lines.some((l) => l.msg === "request" && l.path === POLL && l.aborted === true)).toBe(true));
    p.session.destroy();
  });

  it("answers with the CORS headers of an allowed origin, and logs the request line", async () => {
    const { server, fake, logs } = await start({ corsOrigins: ["https://app.example"] });
    const p = rawPoll(server.url, { origin: "https://app.example" });
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    fake.holds[0].release("cors");
    const r = await p.response;
    expect(r.headers[":status"]).toBe(200);
    expect(r.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(r.headers["access-control-allow-credentials"]).toBe("true");
    expect(r.headers.vary).toBe("Origin");
    expect(r.headers["content-type"]).toBe("application/grpc+proto");
    expect(r.trailers["grpc-status"]).toBe("0");
    await vi.waitFor(() => expect(logs.lines.find((l) => l.msg === "request" && l.path === POLL)).toMatchObject({ method: "POST", http: "2.0", status: 200 }));
    p.session.close();
  });

  it("ends the call at the deadline the client sent (grpc-timeout): DeadlineExceeded, its signal aborted with it", async () => {
    const { server, fake } = await start();
    const p = rawPoll(server.url, { "grpc-timeout": "300m" });
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    const r = await p.response;
    expect(r.trailers["grpc-status"]).toBe(String(Code.DeadlineExceeded));
    expect((fake.holds[0].aborted as ConnectError).code).toBe(Code.DeadlineExceeded);
    await vi.waitFor(() => expect(fake.holds[0].undelivered).toBe(true));
    p.session.close();
  });

  it("leaves a request with a body declared over the limit to the compatibility path, which refuses it", async () => {
    const { server } = await start({ maxBodyBytes: 1024 });
    const before = leanUnaryCounts.rawStreams;
    const p = rawPoll(server.url, { "content-length": "5000" }, Buffer.concat([Buffer.from([0, 0, 0, 0x13, 0x83]), Buffer.alloc(4995)]));
    const r = await p.response;
    expect(r.trailers["grpc-status"] ?? r.headers["grpc-status"]).toBe(String(Code.ResourceExhausted));
    expect(leanUnaryCounts.rawStreams).toBe(before);
    p.session.close();
  });

  it("answers a held poll at shutdown, then closes", async () => {
    const { server, fake } = await start();
    const p = rawPoll(server.url);
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    const closed = server.close();
    const r = await p.response;
    expect(r.trailers["grpc-status"]).toBe("0");
    await closed;
    expect(fake.holds[0].delivered || fake.holds[0].undelivered).toBe(true);
  });
});
