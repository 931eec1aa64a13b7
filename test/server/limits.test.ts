// The pieces behind the connection limits and the delivery settle window, one by one.
import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as net from "node:net";
import { Delivery } from "../../src/request/delivery.ts";
import { RateLimitedCounter, fdHeadroom, readOpenFileLimit } from "../../src/server/limits.ts";
import { DeliverySettler } from "../../src/server/settle.ts";
import { checkIntervalMs } from "../../src/server/timeouts.ts";
import { clientErrorResponse, encodeGrpcMessage, rpcPath, rpcProtocol, unimplementedMessage } from "../../src/server/protocol-errors.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("RateLimitedCounter", () => {
  it("reports the first occurrence at once, then at most once per interval with the count since the last report", () => {
    vi.useFakeTimers();
    const reports: [number, number][] = [];
    const c = new RateLimitedCounter(10_000, (n, total) => reports.push([n, total]));
    c.note();
    expect(reports).toEqual([[1, 1]]);
    for (let i = 0; i < 5; i++) c.note();
    vi.advanceTimersByTime(9_999);
    expect(reports).toEqual([[1, 1]]);
    vi.advanceTimersByTime(1);
    expect(reports).toEqual([
      [1, 1],
      [5, 6],
    ]);
    // Quiet for longer than the interval: the next one is reported at once.
    vi.advanceTimersByTime(20_000);
    c.note();
    expect(reports.at(-1)).toEqual([1, 7]);
    expect(c.count).toBe(7);
    expect(c.snapshot()).toEqual({ count: 7, last: new Date(c.lastAt ?? 0).toISOString() });
    c.note();
    c.close(); // flushes what is pending
    expect(reports.at(-1)).toEqual([1, 8]);
  });

  it("shows no occurrence as count 0, last null", () => {
    expect(new RateLimitedCounter(1000, () => undefined).snapshot()).toEqual({ count: 0, last: null });
  });
});

describe("the open-file budget", () => {
  it("reads the soft limit from /proc/self/limits", () => {
    const dir = mkdtempSync(join(tmpdir(), "limits-"));
    const file = join(dir, "limits");
    writeFileSync(file, "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n");
    expect(readOpenFileLimit(file)).toBe(1024);
    writeFileSync(file, "Max open files            unlimited            unlimited            files\n");
    expect(readOpenFileLimit(file)).toBeUndefined();
    expect(readOpenFileLimit(join(dir, "missing"))).toBeUndefined();
    if (process.platform === "linux") expect(readOpenFileLimit()).toBeGreaterThan(0);
  });

  it("keeps 1/32 of the limit for other files, between 8 and 64", () => {
    expect(fdHeadroom(64)).toBe(8);
    expect(fdHeadroom(1024)).toBe(32);
    expect(fdHeadroom(1_048_576)).toBe(64);
  });

  it("checks connections at a quarter of the shorter timeout, between 10 ms and 1 s", () => {
    expect(checkIntervalMs(60_000, 65_000)).toBe(1000);
    expect(checkIntervalMs(300, 2000)).toBe(75);
    expect(checkIntervalMs(5, 5)).toBe(10);
  });
});

describe("DeliverySettler", () => {
  const socket = (errored: Error | null = null) => ({ errored }) as unknown as net.Socket;

  it("reports delivered after the window when the connection did not fail, undelivered when it did", async () => {
    const failed = new Set<net.Socket>();
    const settler = new DeliverySettler((s) => failed.has(s), 15);
    const ok = new Delivery();
    const reset = new Delivery();
    const sessionFailed = new Delivery();
    const seen: string[] = [];
    ok.onDelivered(() => seen.push("ok delivered"));
    reset.onUndelivered(() => seen.push("reset undelivered"));
    sessionFailed.onUndelivered(() => seen.push("session undelivered"));
    const resetSocket = socket();
    const h2Socket = socket();
    settler.written(socket(), ok);
    settler.written(resetSocket, reset);
    settler.written(h2Socket, sessionFailed);
    expect(settler.pending).toBe(3);
    // Within the window the client resets one connection and another's session fails.
    (resetSocket as unknown as { errored: Error }).errored = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    failed.add(h2Socket);
    expect(seen).toEqual([]);
    await vi.waitFor(() => expect(settler.pending).toBe(0));
    expect(seen).toEqual(["ok delivered", "reset undelivered", "session undelivered"]);
  });

  it("settles everything at once on flush", () => {
    const settler = new DeliverySettler(() => false, 60_000);
    const d = new Delivery();
    let delivered = false;
    d.onDelivered(() => (delivered = true));
    settler.written(socket(), d);
    settler.flush();
    expect(delivered).toBe(true);
    expect(settler.pending).toBe(0);
  });
});

describe("protocol errors", () => {
  it("tells the RPC protocols apart by Content-Type, and plain JSON by the path's shape", () => {
    expect(rpcProtocol("application/grpc", "/")).toBe("grpc");
    expect(rpcProtocol("application/grpc+proto", "/a.B/C")).toBe("grpc");
    expect(rpcProtocol("application/grpc-web+proto", "/a.B/C")).toBe("grpc-web");
    expect(rpcProtocol("application/grpc-web-text", "/a.B/C")).toBe("grpc-web");
    expect(rpcProtocol("application/connect+json", "/a.B/C")).toBe("connect-stream");
    expect(rpcProtocol("application/proto", "/x")).toBe("connect");
    expect(rpcProtocol("application/json; charset=utf-8", "/a.v1.B/C")).toBe("connect");
    expect(rpcProtocol(undefined, "/a.v1.B/C")).toBe("connect");
    expect(rpcProtocol("application/json", "/")).toBeUndefined();
    expect(rpcProtocol("application/x-amz-json-1.0", "/a.v1.B/C")).toBeUndefined();
    expect(rpcProtocol(undefined, "/healthz")).toBeUndefined();
    expect(rpcPath("/taskgate.swf.v1.SimpleWorkflowService/PollForActivityTask")).toEqual({ service: "taskgate.swf.v1.SimpleWorkflowService", method: "PollForActivityTask" });
    expect(rpcPath("/NoPackage/Method")).toBeUndefined();
  });

  it("names method and service in the unimplemented message", () => {
    const served = new Set(["taskgate.swf.v1.SimpleWorkflowService"]);
    expect(unimplementedMessage("/taskgate.swf.v1.SimpleWorkflowService/Nope", served)).toBe("method Nope is not implemented by service taskgate.swf.v1.SimpleWorkflowService");
    expect(unimplementedMessage("/a.B/C", served)).toBe("unknown service a.B (method C); services here: taskgate.swf.v1.SimpleWorkflowService");
    expect(unimplementedMessage("/", served)).toContain('no RPC is served at "/"');
  });

  it("percent-encodes grpc-message outside printable ASCII", () => {
    expect(encodeGrpcMessage("plain text: ok")).toBe("plain text: ok");
    expect(encodeGrpcMessage("100% naïve\n")).toBe("100%25 na%C3%AFve%0A");
    expect(decodeURIComponent(encodeGrpcMessage("100% naïve\n"))).toBe("100% naïve\n");
  });

  it("writes complete HTTP/1.1 responses for parser errors, nothing for a reset", () => {
    const limits = { maxHeaderBytes: 16384, headersTimeoutMs: 60_000, requestTimeoutMs: 300_000 };
    const bad = clientErrorResponse(Object.assign(new Error("Parse Error: Invalid header value char"), { code: "HPE_INVALID_HEADER_TOKEN", reason: "Invalid header value char" }), limits) ?? "";
    const [head, body] = bad.split("\r\n\r\n");
    expect(head.split("\r\n")).toEqual([
      "HTTP/1.1 400 Bad Request",
      "Content-Type: application/json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "x-amzn-ErrorType: SerializationException",
      "Connection: close",
    ]);
    expect(JSON.parse(body)).toEqual({
      __type: "com.amazon.coral.service#SerializationException",
      code: "invalid_argument",
      message: "malformed HTTP/1.1 request: Invalid header value char (HPE_INVALID_HEADER_TOKEN)",
    });
    expect(clientErrorResponse(Object.assign(new Error("x"), { code: "HPE_HEADER_OVERFLOW" }), limits)).toMatch(/^HTTP\/1\.1 431 [^]*"request headers too large; limit 16384 bytes"/);
    expect(clientErrorResponse(Object.assign(new Error("x"), { code: "ERR_HTTP_REQUEST_TIMEOUT" }), limits)).toMatch(/^HTTP\/1\.1 408 [^]*within 60 s/);
    expect(clientErrorResponse(Object.assign(new Error("x"), { code: "ECONNRESET" }), limits)).toBeUndefined();
  });
});
