// The lean path of the unary calls (src/server/lean-unary.ts), long polls above all, with the real Connect clients,
// on every protocol and codec it takes: answers, the empty answer, errors with their Fault
// detail, deadlines, client aborts (the poll is given up, the task goes to the next poll),
// compression both ways, and a malformed request replayed through connect-es.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { leanUnaryCounts } from "../../src/server/lean-unary.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";
import { connectFixture } from "../helpers/swf.ts";

type Swf = Client<typeof SimpleWorkflowService>;

/** Every protocol and codec the lean path takes, with and without compression. */
const transports: { name: string; make: (url: string) => Transport }[] = [
  { name: "Connect JSON, HTTP/1.1", make: (url) => createConnectTransport({ baseUrl: url, httpVersion: "1.1" }) },
  { name: "Connect binary, HTTP/2, gzip", make: (url) => createConnectTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: true, sendCompression: compressionGzip, acceptCompression: [compressionGzip], compressMinBytes: 1 }) },
  { name: "gRPC", make: (url) => createGrpcTransport({ baseUrl: url }) },
  { name: "gRPC JSON, gzip", make: (url) => createGrpcTransport({ baseUrl: url, useBinaryFormat: false, sendCompression: compressionGzip, acceptCompression: [compressionGzip], compressMinBytes: 1 }) },
  { name: "gRPC-Web, HTTP/1.1", make: (url) => createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }) },
  { name: "gRPC-Web JSON, HTTP/2, gzip", make: (url) => createGrpcWebTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: false, sendCompression: compressionGzip, acceptCompression: [compressionGzip], compressMinBytes: 1 }) },
];

/** Waits (up to 2 s, checking every 5 ms) until the lean path has taken more than `served` calls: the poll is on the server. */
async function taken(served: number): Promise<void> {
  for (let i = 0; i < 400 && leanUnaryCounts.served <= served; i++) await new Promise((r) => setTimeout(r, 5));
  expect(leanUnaryCounts.served).toBeGreaterThan(served);
}

describe.each(transports)("lean unary long polls: $name", ({ make }) => {
  let tg: Taskgate;
  let c: Swf;
  let domain: string;
  beforeAll(async () => {
    tg = await startTaskgate({ longPollSeconds: 5 });
    c = createClient(SimpleWorkflowService, make(tg.url));
    domain = await connectFixture(tg.connect, "lean");
  });
  afterAll(() => tg.destroy());

  it("hands a decision task to a parked poll, its input intact (2 KiB: compressed when negotiated)", async () => {
    const before = leanUnaryCounts.served;
    const input = "x".repeat(2048);
    const poll = c.pollForDecisionTask({ domain, taskList: { name: "d" } });
    await taken(before);
    await tg.connect.startWorkflowExecution({ domain, workflowId: `w-${Math.random()}`, workflowType: { name: "wf", version: "1" }, input });
    const d = await poll;
    expect(d.taskToken).toBeTruthy();
    expect(d.events.find((e) => e.workflowExecutionStartedEventAttributes)?.workflowExecutionStartedEventAttributes?.input).toBe(input);
  });

  it("answers empty when the hold ends, and before a shorter client deadline", async () => {
    // An answer after the deadline would fail the call with DeadlineExceeded.
    const r = await c.pollForActivityTask({ domain, taskList: { name: `none-${Math.random()}` } }, { timeoutMs: 800 });
    expect(r.taskToken ?? "").toBe("");
  });

  it("sends a fault as its code with the Fault detail", async () => {
    const e = await c.pollForActivityTask({ domain: "no-such-domain", taskList: { name: "a" } }).then(
      () => undefined,
      (err: unknown) => ConnectError.from(err),
    );
    expect(e?.code).toBe(Code.NotFound);
    expect(e && faultFromConnectError(e)?.name).toBe("UnknownResourceFault");
  });

  it("serves ordinary unary calls too: a call that changes state, a read, and a fault", async () => {
    const before = leanUnaryCounts.served;
    const replayed = leanUnaryCounts.replayed;
    const workflowId = `w-${Math.random()}`;
    const run = await c.startWorkflowExecution({ domain, workflowId, workflowType: { name: "wf", version: "1" }, input: "i".repeat(2048) });
    const d = await c.describeWorkflowExecution({ domain, execution: { workflowId, runId: run.runId } });
    expect(d.executionInfo?.execution?.runId).toBe(run.runId);
    expect(d.openCounts?.openDecisionTasks).toBe(1);
    const e = await c.describeDomain({ name: "no-such-domain" }).then(
      () => undefined,
      (err: unknown) => ConnectError.from(err),
    );
    expect(e?.code).toBe(Code.NotFound);
    expect(e && faultFromConnectError(e)?.name).toBe("UnknownResourceFault");
    expect(leanUnaryCounts.served).toBe(before + 3);
    expect(leanUnaryCounts.replayed).toBe(replayed);
  });

  it("gives up an aborted poll: the next task goes to the next poll", async () => {
    const ac = new AbortController();
    const list = `ab-${Math.random().toString(36).slice(2)}`;
    let served = leanUnaryCounts.served;
    const gone = c.pollForDecisionTask({ domain, taskList: { name: list } }, { signal: ac.signal }).catch((e: unknown) => ConnectError.from(e));
    await taken(served);
    ac.abort();
    expect(((await gone) as ConnectError).code).toBe(Code.Canceled);
    served = leanUnaryCounts.served;
    const next = c.pollForDecisionTask({ domain, taskList: { name: list } });
    await taken(served);
    await tg.connect.startWorkflowExecution({ domain, workflowId: `w-${Math.random()}`, workflowType: { name: "wf", version: "1" }, taskList: { name: list } });
    expect((await next).taskToken).toBeTruthy();
  });
});

describe("lean unary long polls: requests left to connect-es", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ longPollSeconds: 0.3 });
  });
  afterAll(() => tg.destroy());

  // Each is answered as connect-es answers it, after the lean path read the body.
  const cases: { name: string; contentType: string; body: Uint8Array; status: number; code: string }[] = [
    { name: "a gRPC message that does not parse", contentType: "application/grpc", body: Uint8Array.from([0, 0, 0, 0, 2, 0xff, 0xff]), status: 200, code: "3" },
    { name: "two gRPC messages for a unary method", contentType: "application/grpc", body: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), status: 200, code: "12" },
    { name: "a gRPC message flagged compressed without an encoding", contentType: "application/grpc", body: Uint8Array.from([1, 0, 0, 0, 0]), status: 200, code: "3" },
    { name: "Connect JSON that is not an object", contentType: "application/json", body: new TextEncoder().encode("[1]"), status: 400, code: "invalid_argument" },
  ];
  for (const t of cases) {
    it(`${t.name}: answered by connect-es, replayed`, async () => {
      const before = leanUnaryCounts.replayed;
      const h2 = await import("node:http2");
      const session = h2.connect(tg.url);
      try {
        const res = await new Promise<{ status: number; headers: Record<string, unknown>; trailers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const req = session.request({ ":method": "POST", ":path": "/taskgate.swf.v1.SimpleWorkflowService/PollForActivityTask", "content-type": t.contentType, te: "trailers" });
          let headers: Record<string, unknown> = {};
          let trailers: Record<string, unknown> = {};
          const chunks: Buffer[] = [];
          req.on("response", (h) => (headers = h));
          req.on("trailers", (h) => (trailers = h));
          req.on("data", (d: Buffer) => chunks.push(d));
          req.on("end", () => resolve({ status: Number(headers[":status"]), headers, trailers, body: Buffer.concat(chunks).toString() }));
          req.on("error", reject);
          req.end(t.body);
        });
        expect(res.status).toBe(t.status);
        if (t.contentType.startsWith("application/grpc")) expect(String(res.trailers["grpc-status"] ?? res.headers["grpc-status"])).toBe(t.code);
        else expect((JSON.parse(res.body) as { code: string }).code).toBe(t.code);
        expect(leanUnaryCounts.replayed).toBeGreaterThan(before);
      } finally {
        session.close();
      }
    });
  }
});
