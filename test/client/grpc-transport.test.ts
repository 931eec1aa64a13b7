// The lean gRPC transport (src/client/grpc-transport.ts) against a real server on both stores:
// the same answers and the same errors as connect-node's gRPC transport, server streams with
// abort, leaving, deadlines and backpressure, interceptors, large messages and their limit, an
// unreachable server, and an idle client that lets its process exit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import http2 from "node:http2";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createLeanGrpcTransport } from "../../src/client/grpc-transport.ts";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { connectFixture, scheduleActivities } from "../helpers/swf.ts";

type Swf = Client<typeof SimpleWorkflowService>;

/** The error a call failed with, as code, message and SWF fault name. */
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; fault: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const ce = ConnectError.from(e);
    return { code: Code[ce.code], message: ce.rawMessage, fault: faultFromConnectError(ce)?.name };
  }
  throw new Error("the call succeeded");
}

/** Reads the next message of a stream, failing after `ms`. */
async function next<T>(it: AsyncIterator<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([it.next(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
  if (r.done) throw new Error("the stream ended");
  return r.value;
}

describe.each(stores)("lean gRPC transport (%s)", (kind) => {
  let tg: Taskgate;
  let lean: Swf;
  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 1 });
    lean = createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: tg.url }));
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  it("answers unary calls as connect-node's gRPC transport does, headers and trailers included", async () => {
    const domain = await connectFixture(lean, "lean");
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const viaLean = await lean.describeDomain({ name: domain }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    const viaConnect = await tg.grpc.describeDomain({ name: domain });
    expect(viaLean).toEqual(viaConnect);
    expect(viaLean.domainInfo?.status).toBe(RegistrationStatus.REGISTERED);
    expect(header?.get("content-type")).toMatch(/^application\/grpc/);
    expect(trailer?.get("grpc-status")).toBe("0");
  });

  it("reports a fault with the code, message and details connect-node reports", async () => {
    const calls: ((c: Swf) => Promise<unknown>)[] = [
      (c) => c.describeDomain({ name: "no-such-domain-anywhere" }),
      (c) => c.describeDomain({}),
      (c) => c.registerDomain({ name: "bad:name", workflowExecutionRetentionPeriodInDays: "1" }),
      (c) => c.respondActivityTaskCompleted({ taskToken: "not-a-token" }),
    ];
    for (const call of calls) {
      const viaLean = await failure(call(lean));
      expect(viaLean).toEqual(await failure(call(tg.grpc)));
      expect(viaLean.fault).toBeDefined();
    }
  });

  it("streams tasks, completes them, and closes the stream on abort without losing the next task", async () => {
    const domain = await connectFixture(lean, "lean-stream");
    await scheduleActivities(lean, domain, "w1", 3);
    const stop = new AbortController();
    const it = lean.streamActivityTasks({ domain, taskList: { name: "a" }, maxInFlight: 10 }, { signal: stop.signal })[Symbol.asyncIterator]();
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t = await next(it);
      got.push(t.activityId!);
      await lean.respondActivityTaskCompleted({ taskToken: t.taskToken, result: "ok" });
    }
    expect(got.sort()).toEqual(["w1-0", "w1-1", "w1-2"]);
    stop.abort();
    expect((await failure(it.next())).code).toBe("Canceled");
    // The closed stream takes no more tasks: the next one goes to a poll.
    await scheduleActivities(lean, domain, "w2", 1);
    const polled = await lean.pollForActivityTask({ domain, taskList: { name: "a" } });
    expect(polled.activityId).toBe("w2-0");
  });

  it("cancels a stream the caller leaves, and the server takes the stream's place back", async () => {
    const domain = await connectFixture(lean, "lean-leave");
    await scheduleActivities(lean, domain, "w1", 2);
    const transport = createLeanGrpcTransport({ baseUrl: tg.url });
    const method = SimpleWorkflowService.method.streamActivityTasks;
    const res = await transport.stream(method, undefined, undefined, undefined, (async function* () {
      yield { domain, taskList: { name: "a" }, maxInFlight: 1 };
    })());
    const it = res.message[Symbol.asyncIterator]();
    expect((await next(it)).activityId).toBe("w1-0");
    await it.return?.();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    await new Promise((r) => setTimeout(r, 50)); // the stream's close has arrived by now
    expect(await it.next()).toEqual({ value: undefined, done: true });
    // The second task was never sent to the left stream (its credit was one): a poll gets it.
    const polled = await lean.pollForActivityTask({ domain, taskList: { name: "a" } });
    expect(polled.activityId).toBe("w1-1");
  });

  it("reads a stream whose caller is slower than the server without losing or reordering messages", async () => {
    const domain = await connectFixture(lean, "lean-slow");
    const slow = createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: tg.url, streamHighWater: 2 }));
    await scheduleActivities(lean, domain, "w1", 40);
    const stop = new AbortController();
    const it = slow.streamActivityTasks({ domain, taskList: { name: "a" }, maxInFlight: 40 }, { signal: stop.signal })[Symbol.asyncIterator]();
    const got: string[] = [];
    for (let i = 0; i < 40; i++) {
      got.push((await next(it)).activityId!);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    stop.abort();
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `w1-${i}`));
  });

  it("ends an aborted poll with Canceled, and does not send a call whose signal is already aborted", async () => {
    const domain = await connectFixture(lean, "lean-abort");
    const ac = new AbortController();
    const held = lean.pollForActivityTask({ domain, taskList: { name: "empty" } }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect((await failure(held)).code).toBe("Canceled");
    const aborted = new AbortController();
    aborted.abort();
    expect((await failure(lean.describeDomain({ name: domain }, { signal: aborted.signal }))).code).toBe("Canceled");
  });

  it("fails a call whose header HTTP/2 refuses with Internal, and keeps the session for the next", async () => {
    const domain = await connectFixture(lean, "lean-badheader");
    expect(await failure(lean.describeDomain({ name: domain }, { headers: { connection: "close" } }))).toMatchObject({ code: "Internal" });
    expect((await lean.describeDomain({ name: domain })).domainInfo?.name).toBe(domain);
  });

  it("runs interceptors outermost first, with the request's headers and the response's", async () => {
    const seen: string[] = [];
    const tag =
      (name: string): Interceptor =>
      (nextFn) =>
      async (req) => {
        seen.push(`${name}>${req.method.name}`);
        req.header.set(`x-${name}`, "1");
        const res = await nextFn(req);
        seen.push(`${name}<${res.header.get("content-type")?.startsWith("application/grpc") ? "grpc" : "?"}`);
        return res;
      };
    const c = createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: tg.url, interceptors: [tag("a"), tag("b")] }));
    const domain = await connectFixture(lean, "lean-icpt");
    await c.describeDomain({ name: domain });
    expect(seen).toEqual(["a>DescribeDomain", "b>DescribeDomain", "b<grpc", "a<grpc"]);
    seen.length = 0;
    await scheduleActivities(lean, domain, "w1", 1);
    const stop = new AbortController();
    const it = c.streamActivityTasks({ domain, taskList: { name: "a" } }, { signal: stop.signal })[Symbol.asyncIterator]();
    expect((await next(it)).activityId).toBe("w1-0");
    stop.abort();
    expect(seen).toEqual(["a>StreamActivityTasks", "b>StreamActivityTasks", "b<grpc", "a<grpc"]);
  });

  it("reads a message larger than one HTTP/2 frame, and refuses one over readMaxBytes with ResourceExhausted", async () => {
    const domain = await connectFixture(lean, "lean-big");
    const input = "x".repeat(30_000);
    const runId = await scheduleActivities(lean, domain, "w1", 4, input);
    const h = await lean.getWorkflowExecutionHistory({ domain, execution: { workflowId: "w1", runId } });
    expect(h.events.filter((e) => e.activityTaskScheduledEventAttributes !== undefined).length).toBe(4);
    const small = createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: tg.url, readMaxBytes: 50_000 }));
    expect((await failure(small.getWorkflowExecutionHistory({ domain, execution: { workflowId: "w1", runId } }))).code).toBe("ResourceExhausted");
    // The session stays usable after the refused answer.
    expect((await small.describeDomain({ name: domain })).domainInfo?.name).toBe(domain);
  });
});

describe("lean gRPC transport without a server", () => {
  it("fails a call to a port nobody listens on with Unavailable", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const c = createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    expect((await failure(c.describeDomain({ name: "d" }))).code).toBe("Unavailable");
  });

  it("sends the deadline as grpc-timeout, and ends a call unanswered by then with DeadlineExceeded and a cancelled stream", async () => {
    const reset: number[] = [];
    const timeouts: unknown[] = [];
    const server = http2.createServer();
    server.on("stream", (stream, headers) => {
      timeouts.push(headers["grpc-timeout"]);
      stream.on("close", () => reset.push(stream.rstCode));
      stream.resume(); // reads the request, never answers
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const c = createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}` }));
      expect((await failure(c.describeDomain({ name: "d" }, { timeoutMs: 100 }))).code).toBe("DeadlineExceeded");
      const dflt = createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`, defaultTimeoutMs: 100 }));
      expect((await failure(dflt.describeDomain({ name: "d" }))).code).toBe("DeadlineExceeded");
      await new Promise((r) => setTimeout(r, 100));
      expect(reset).toEqual([http2.constants.NGHTTP2_CANCEL, http2.constants.NGHTTP2_CANCEL]);
      expect(timeouts).toEqual(["100m", "100m"]); // the server learns the deadline
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("refuses a base URL that is not http or https", () => {
    expect(() => createLeanGrpcTransport({ baseUrl: "ftp://127.0.0.1:1" })).toThrow(/expected http/);
  });

  it("lets an idle client's process exit", async () => {
    const tg = await startTaskgate({ kind: "sqlite" });
    try {
      const script = [
        `import { createClient } from "@connectrpc/connect";`,
        `import { createLeanGrpcTransport } from "./src/client/grpc-transport.ts";`,
        `import { SimpleWorkflowService } from "./gen/taskgate/swf/v1/service_pb.ts";`,
        `const c = createClient(SimpleWorkflowService, createLeanGrpcTransport({ baseUrl: ${JSON.stringify(tg.url)} }));`,
        `const r = await c.listDomains({ registrationStatus: 1 });`,
        `console.log("listed", r.domainInfos.length);`,
      ].join("\n");
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: `${import.meta.dirname}/../..`, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (b: Buffer) => (out += b.toString()));
      child.stderr.on("data", (b: Buffer) => (out += b.toString()));
      const code = await new Promise<number | string>((resolve) => {
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          resolve("still running after 15 s");
        }, 15_000);
        child.once("exit", (c) => (clearTimeout(t), resolve(c ?? "killed")));
      });
      expect({ code, out: out.trim() }).toEqual({ code: 0, out: expect.stringMatching(/^listed \d+$/) as unknown as string });
    } finally {
      await tg.destroy();
    }
  });
});
