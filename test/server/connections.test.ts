// Connection limits, timeouts and protocol-shaped errors of the one-port server, with a fake
// SimpleWorkflowService: HTTP/2 idle and headers timeouts, the connection cap, the HTTP/2 stream
// limit, errors in each protocol's own shape, and the delivery settle window.
import { afterEach, describe, expect, it, vi } from "vitest";
import * as net from "node:net";
import * as http2 from "node:http2";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import type { Config } from "../../src/server/config.ts";
import type { RunningServer } from "../../src/server/server.ts";
import { fakeService, rpcUrl, startWithFake } from "./fake-service.ts";
import { callUnknownMethod } from "../helpers/unknown-method.ts";
import { ErrorCode, Flag, FrameType, RawH2, frame, headerBlock, json, postHeaders } from "./h2raw.ts";

const LIST_DOMAINS = `/${SimpleWorkflowService.typeName}/ListDomains`;

let running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.close()));
  running = [];
});

function start(over: Partial<Config> = {}) {
  return startWithFake(running, fakeService(), over);
}

/** Resolves with the time (ms) until `socket` closed, or rejects after `ms`. */
function closedWithin(socket: net.Socket, ms: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
}

/** Connects a raw TCP socket. */
async function tcp(port: number): Promise<net.Socket> {
  const s = net.connect({ host: "127.0.0.1", port });
  s.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  s.resume(); // read, so that the server's close is seen
  return s;
}

/** Sends raw bytes over HTTP/1.1 and returns everything the server sent until it closed. */
async function rawHttp(port: number, bytes: string | Buffer, ms = 5000): Promise<string> {
  const s = await tcp(port);
  let out = "";
  s.on("data", (c: Buffer) => (out += c.toString("latin1")));
  s.write(bytes);
  await closedWithin(s, ms);
  return out;
}

/** Status, headers and body of a raw HTTP/1.1 response. */
function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: raw.slice(end + 4) };
}

async function healthz(url: string): Promise<Record<string, unknown> & { connections: { open: number; max: number; refused: { count: number; last: string | null } } }> {
  const res = await fetch(`${url}/healthz`);
  return (await res.json()) as Record<string, unknown> & { connections: { open: number; max: number; refused: { count: number; last: string | null } } };
}

describe("HTTP/2 timeouts", () => {
  it("closes a connection that sends only the preface and SETTINGS once the headers timeout passes", async () => {
    const { server } = await start({ headersTimeoutSeconds: 0.3, idleTimeoutSeconds: 30 });
    const c = await RawH2.connect(server.port);
    const ms = await closedWithin(c.socket, 3000);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(c.goaway()?.code).toBe(ErrorCode.NO_ERROR);
  });

  it("closes a connection that sent part of the preface", async () => {
    const { server } = await start({ headersTimeoutSeconds: 0.3 });
    const s = await tcp(server.port);
    s.write("PRI * HTTP/2.0\r\n");
    expect(await closedWithin(s, 3000)).toBeGreaterThanOrEqual(250);
  });

  it("closes a connection whose first request headers never complete (slow headers)", async () => {
    const { server } = await start({ headersTimeoutSeconds: 0.4, idleTimeoutSeconds: 30 });
    // No SETTINGS ACK: nothing but CONTINUATION may follow an open header block.
    const c = await RawH2.connect(server.port, { ackSettings: false });
    // HEADERS without END_HEADERS, one CONTINUATION that does not finish the block either, then
    // silence (nghttp2 itself ends a session after a handful of CONTINUATION frames).
    c.write(frame(FrameType.HEADERS, 0, 1, headerBlock([[":method", "GET"]])));
    setTimeout(() => c.write(frame(FrameType.CONTINUATION, 0, 1, headerBlock([["x-slow", "1"]]))), 100);
    expect(await closedWithin(c.socket, 3000)).toBeGreaterThanOrEqual(350);
  });

  it("closes a session idle for the idle timeout with GOAWAY, and keeps one whose long poll is held", async () => {
    const { server, fake } = await start({ idleTimeoutSeconds: 0.3, headersTimeoutSeconds: 0.3 });
    // Session A: one request, then idle.
    const a = await RawH2.connect(server.port);
    a.request(1, [[":method", "GET"], [":scheme", "http"], [":authority", "x"], [":path", "/healthz"]]);
    await a.until(() => a.answered().has(1));
    // Session B: a poll held longer than both timeouts.
    const b = await RawH2.connect(server.port);
    b.request(1, postHeaders(LIST_DOMAINS, "application/json"), json({ nextPageToken: "hold" }));
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    expect(await closedWithin(a.socket, 3000)).toBeGreaterThan(0);
    expect(a.goaway()).toEqual({ lastStream: 1, code: ErrorCode.NO_ERROR });
    await new Promise((r) => setTimeout(r, 900)); // three idle timeouts
    expect(b.closed).toBe(false);
    expect(b.goaway()).toBeUndefined();
    fake.holds[0].release();
    await b.until(() => b.frames.some((f) => f.type === FrameType.DATA && f.stream === 1 && (f.flags & Flag.END_STREAM) !== 0));
    expect(fake.holds[0].undelivered).toBe(false);
    // Now B is idle too.
    await closedWithin(b.socket, 3000);
    expect(b.goaway()?.code).toBe(ErrorCode.NO_ERROR);
  });

  it("keeps an HTTP/1.1 keep-alive connection for the idle timeout, then closes it", async () => {
    const { server } = await start({ idleTimeoutSeconds: 0.3 });
    const s = await tcp(server.port);
    s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    // Node keeps the socket a further second (keepAliveTimeoutBuffer) past the announced timeout.
    expect(await closedWithin(s, 3000)).toBeGreaterThanOrEqual(250);
  });
});

describe("HTTP/1.1 parser rejections", () => {
  it("answers slow headers with 408 and a JSON body", async () => {
    const { server } = await start({ headersTimeoutSeconds: 0.3 });
    const s = await tcp(server.port);
    let out = "";
    s.on("data", (c: Buffer) => (out += c.toString("latin1")));
    s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const trickle = setInterval(() => s.writable && s.write("X-Slow: 1\r\n"), 50);
    try {
      await closedWithin(s, 3000);
    } finally {
      clearInterval(trickle);
    }
    const r = parseResponse(out);
    expect(r.status).toBe(408);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(r.body));
    expect(JSON.parse(r.body)).toMatchObject({ __type: "com.amazon.coral.service#RequestTimeoutException", code: "deadline_exceeded" });
  });

  it("answers a malformed request with 400 and a JSON body", async () => {
    const { server } = await start();
    const r = parseResponse(await rawHttp(server.port, "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n"));
    expect(r.status).toBe(400);
    expect(r.headers["x-amzn-errortype"]).toBe("SerializationException");
    const body = JSON.parse(r.body) as { __type: string; code: string; message: string };
    expect(body.__type).toBe("com.amazon.coral.service#SerializationException");
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(/^malformed HTTP\/1\.1 request: .+/);
  });

  it("answers oversized headers with 431 naming the limit", async () => {
    const { server } = await start();
    const r = parseResponse(await rawHttp(server.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`));
    expect(r.status).toBe(431);
    expect(JSON.parse(r.body)).toEqual({
      __type: "com.amazon.coral.service#RequestHeaderFieldsTooLargeException",
      code: "resource_exhausted",
      message: "request headers too large; limit 16384 bytes",
    });
  });
});

describe("requests without Host", () => {
  it("answers HTTP/1.1 without Host, and RPC requests without an authority, with 400 and a body; HTTP/1.0 elsewhere is served", async () => {
    const { server } = await start();
    const h11 = parseResponse(await rawHttp(server.port, "GET /healthz HTTP/1.1\r\n\r\n"));
    expect(h11.status).toBe(400);
    expect(JSON.parse(h11.body)).toMatchObject({ __type: "com.amazon.coral.service#SerializationException", code: "invalid_argument" });
    const rpc = parseResponse(await rawHttp(server.port, `POST ${LIST_DOMAINS} HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`));
    expect(rpc.status).toBe(400);
    expect(JSON.parse(rpc.body)).toEqual({ code: "invalid_argument", message: "the request names no authority: send a Host header (HTTP/1.x) or :authority (HTTP/2)" });
    const health = parseResponse(await rawHttp(server.port, "GET /healthz HTTP/1.0\r\n\r\n"));
    expect(health.status).toBe(200);
    // HTTP/2 without :authority or Host is malformed (RFC 9113 §8.3.1): nghttp2 resets the stream.
    const c = await RawH2.connect(server.port);
    c.request(1, [[":method", "POST"], [":scheme", "http"], [":path", LIST_DOMAINS], ["content-type", "application/grpc"]], Buffer.alloc(5));
    await c.until(() => c.resets().has(1));
    expect(c.resets().get(1)).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(c.goaway()).toBeUndefined();
    c.destroy();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe("the connection cap", () => {
  it("refuses connections over --max-connections at once, logs once per 10 s and counts them on /healthz", async () => {
    const { server, logs } = await start({ maxConnections: 4 });
    const held = await Promise.all([1, 2, 3, 4].map(() => tcp(server.port)));
    const over = await Promise.all([1, 2, 3].map(() => tcp(server.port)));
    for (const s of over) expect(await closedWithin(s, 1000)).toBeLessThan(1000);
    for (const s of held) expect(s.destroyed).toBe(false);
    const warnings = logs.lines.filter((l) => l.level === 40 && typeof l.msg === "string" && l.msg.includes("--max-connections 4 reached"));
    expect(warnings).toHaveLength(1); // the first refusal at once; the next two wait for the 10 s window
    expect(warnings[0]).toMatchObject({ refused: 1, total: 1, maxConnections: 4 });
    for (const s of held) s.destroy();
    await vi.waitFor(async () => {
      const h = await healthz(server.url);
      expect(h.connections).toMatchObject({ open: 1, max: 4 });
      // At least the three; a probe that raced the held connections' close is refused too.
      expect(h.connections.refused.count).toBeGreaterThanOrEqual(3);
      expect(Date.parse(h.connections.refused.last ?? "")).toBeGreaterThan(Date.now() - 10_000);
    });
  });
});

describe("the HTTP/2 stream limit", () => {
  it("advertises maxConcurrentStreams, refuses streams beyond it with REFUSED_STREAM, and the held ones still answer", async () => {
    const { server, fake } = await start({ maxConcurrentStreams: 8 });
    // A client that sends 12 requests before it has read the server's SETTINGS.
    const c = await RawH2.connect(server.port, { preface: false, ackSettings: false });
    const requests = [];
    for (let i = 0; i < 12; i++) {
      const id = 1 + 2 * i;
      requests.push(frame(FrameType.HEADERS, Flag.END_HEADERS, id, headerBlock(postHeaders(LIST_DOMAINS, "application/json"))));
      requests.push(frame(FrameType.DATA, Flag.END_STREAM, id, json({ nextPageToken: "hold" })));
    }
    c.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), frame(FrameType.SETTINGS, 0, 0), ...requests]));
    await vi.waitFor(() => expect(fake.holds).toHaveLength(8));
    await c.until(() => c.resets().size === 4);
    expect(c.serverSettings()?.get(3)).toBe(8); // SETTINGS_MAX_CONCURRENT_STREAMS
    expect([...c.resets().entries()]).toEqual([17, 19, 21, 23].map((id) => [id, ErrorCode.REFUSED_STREAM]));
    c.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
    for (const h of fake.holds) h.release();
    await c.until(() => c.answered().size === 8);
    expect([...c.answered()].sort((x, y) => x - y)).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
    expect(c.goaway()).toBeUndefined();
    expect(fake.holds.every((h) => !h.undelivered)).toBe(true);
    // A client that has read the SETTINGS queues its requests beyond the limit: all twelve complete.
    const client = createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: server.url }));
    await client.listDomains({});
    const calls = Array.from({ length: 12 }, () => client.listDomains({ nextPageToken: "hold" }));
    await vi.waitFor(() => expect(fake.holds).toHaveLength(16));
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.holds).toHaveLength(16); // no more than 8 at once
    for (let i = 8; i < 20; i++) {
      await vi.waitFor(() => expect(fake.holds.length).toBeGreaterThan(i));
      fake.holds[i].release();
    }
    expect((await Promise.all(calls)).map((r) => r.nextPageToken)).toEqual(Array(12).fill("released"));
    c.destroy();
  });
});

describe("errors in each protocol's own shape", () => {

  it("answers an unknown method as UNIMPLEMENTED on every RPC protocol, naming method and service", async () => {
    const { server } = await start();
    for (const [name, err] of Object.entries(await callUnknownMethod(server.url))) {
      expect(err?.code, name).toBe(Code.Unimplemented);
      expect(err?.rawMessage, name).toBe("method NoSuchMethod is not implemented by service taskgate.swf.v1.SimpleWorkflowService");
    }
  });

  it("uses each protocol's wire format for it", async () => {
    const { server } = await start();
    const url = rpcUrl(server.url, "NoSuchMethod");
    // Connect unary, JSON and proto: HTTP 404 with a JSON error.
    for (const type of ["application/json", "application/proto"]) {
      const r = await fetch(url, { method: "POST", headers: { "content-type": type }, body: "{}" });
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ code: "unimplemented", message: "method NoSuchMethod is not implemented by service taskgate.swf.v1.SimpleWorkflowService" });
    }
    // An unknown service.
    const other = await fetch(`${server.url}/acme.v1.Nope/Run`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ code: "unimplemented", message: "unknown service acme.v1.Nope (method Run); services here: taskgate.swf.v1.SimpleWorkflowService" });
    // Connect streaming: HTTP 200 and an end-of-stream message carrying the error.
    const stream = await fetch(url, { method: "POST", headers: { "content-type": "application/connect+json" }, body: Buffer.from([0, 0, 0, 0, 2, 123, 125]) });
    expect(stream.status).toBe(200);
    const bytes = Buffer.from(await stream.arrayBuffer());
    expect(bytes[0]).toBe(2);
    expect(JSON.parse(bytes.subarray(5).toString())).toEqual({ error: { code: "unimplemented", message: "method NoSuchMethod is not implemented by service taskgate.swf.v1.SimpleWorkflowService" } });
    // gRPC-Web: HTTP 200, status in the headers.
    const web = await fetch(url, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: Buffer.alloc(5) });
    expect(web.status).toBe(200);
    expect(web.headers.get("grpc-status")).toBe("12");
    expect(decodeURIComponent(web.headers.get("grpc-message") ?? "")).toContain("NoSuchMethod");
    // gRPC: HTTP 200, one HEADERS frame ending the stream (trailers-only).
    const c = await RawH2.connect(server.port);
    c.request(1, postHeaders(`/${SimpleWorkflowService.typeName}/NoSuchMethod`, "application/grpc", [["te", "trailers"]]), Buffer.alloc(5));
    await c.until(() => c.answered().has(1));
    const headers = c.frames.filter((f) => f.type === FrameType.HEADERS && f.stream === 1);
    expect(headers).toHaveLength(1);
    expect(headers[0].flags & Flag.END_STREAM).toBe(Flag.END_STREAM);
    c.destroy();
    // The AWS JSON route keeps its own errors.
    const aws = await fetch(`${server.url}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.NoSuchMethod" }, body: "{}" });
    expect(aws.status).toBe(400);
    expect(((await aws.json()) as { __type: string }).__type).toBe("com.amazon.coral.service#UnknownOperationException");
  });

  it("refuses a body over the limit with RESOURCE_EXHAUSTED naming the limit in bytes (413 on the AWS route)", async () => {
    const { server } = await start({ maxBodyBytes: 1000 });
    const big = JSON.stringify({ nextPageToken: "x".repeat(2000) });
    const connect = await fetch(rpcUrl(server.url, "ListDomains"), { method: "POST", headers: { "content-type": "application/json" }, body: big });
    expect(connect.status).toBe(429);
    expect(await connect.json()).toEqual({ code: "resource_exhausted", message: `request body of ${big.length} bytes is larger than the limit of 1000 bytes (--max-body-bytes)` });
    const grpc = createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: server.url }));
    const err = await grpc.listDomains({ nextPageToken: "x".repeat(2000) }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toMatch(/\b1000\b/);
    const aws = await fetch(`${server.url}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.ListDomains" }, body: big });
    expect(aws.status).toBe(413);
    expect(((await aws.json()) as { message: string }).message).toBe("The request body is larger than the limit of 1000 bytes.");
  });
});

describe("the delivery settle window", () => {
  const answer = "a".repeat(100_000);

  for (const connection of ["keep-alive", "close"]) {
    it(`reports undelivered when an HTTP/1.1 client resets while its answer is being written (Connection: ${connection})`, async () => {
      const { server, fake } = await start();
      const s = await tcp(server.port);
      s.pause();
      const body = JSON.stringify({ nextPageToken: "hold" });
      s.write(`POST ${LIST_DOMAINS} HTTP/1.1\r\nHost: x\r\nConnection: ${connection}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
      // The answer fits the socket buffers, so the server's write completes (and, for
      // Connection: close, the server closes its side); the client resets on its first bytes,
      // before it read the rest.
      s.once("data", () => s.resetAndDestroy());
      s.resume();
      fake.holds[0].release(answer);
      await vi.waitFor(() => expect(fake.holds[0].undelivered || fake.holds[0].delivered).toBe(true));
      expect(fake.holds[0]).toMatchObject({ undelivered: true, delivered: false });
    });
  }

  it("reports undelivered when an HTTP/2 connection is reset after the stream ended", async () => {
    const { server, fake } = await start();
    const raw = net.connect({ host: "127.0.0.1", port: server.port });
    raw.on("error", () => undefined);
    const session = http2.connect(server.url, { createConnection: () => raw });
    session.on("error", () => undefined);
    const req = session.request({ ":method": "POST", ":path": LIST_DOMAINS, "content-type": "application/json" });
    req.on("error", () => undefined);
    req.end(JSON.stringify({ nextPageToken: "hold" }));
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    req.once("data", () => raw.resetAndDestroy());
    fake.holds[0].release("b".repeat(50_000)); // within the stream's flow-control window
    await vi.waitFor(() => expect(fake.holds[0].undelivered || fake.holds[0].delivered).toBe(true));
    expect(fake.holds[0]).toMatchObject({ undelivered: true, delivered: false });
  });

  it("reports an error answer undelivered on every route, although it was written completely", async () => {
    const { server, fake } = await start();
    const transports: Transport[] = [
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: server.url }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    ];
    for (const [i, transport] of transports.entries()) {
      const call = createClient(SimpleWorkflowService, transport).listDomains({ nextPageToken: "hold" });
      await vi.waitFor(() => expect(fake.holds).toHaveLength(i + 1));
      fake.holds[i].release("fail");
      await expect(call).rejects.toMatchObject({ code: Code.Unavailable });
      await vi.waitFor(() => expect(fake.holds[i].undelivered).toBe(true));
      expect(fake.holds[i].delivered).toBe(false);
    }
    const aws = fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.ListDomains" },
      body: JSON.stringify({ registrationStatus: "REGISTERED", nextPageToken: "hold" }),
    });
    await vi.waitFor(() => expect(fake.holds).toHaveLength(4));
    fake.holds[3].release("fail");
    expect((await aws).status).toBe(503);
    await vi.waitFor(() => expect(fake.holds[3].undelivered).toBe(true));
    expect(fake.holds[3].delivered).toBe(false);
  });

  it("reports delivered when the client reads the answer", async () => {
    const { server, fake } = await start();
    const client = createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const call = client.listDomains({ nextPageToken: "hold" });
    await vi.waitFor(() => expect(fake.holds).toHaveLength(1));
    fake.holds[0].release(answer);
    expect((await call).nextPageToken).toBe(answer);
    await vi.waitFor(() => expect(fake.holds[0].delivered).toBe(true));
    expect(fake.holds[0].undelivered).toBe(false);
  });
});
