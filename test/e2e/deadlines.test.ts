// Deadline-aware long polls: a Connect/gRPC client whose deadline (connect-timeout-ms,
// grpc-timeout) is shorter than the hold receives the empty result shortly before its deadline,
// never DEADLINE_EXCEEDED; the AWS JSON route holds as before. Every long-poll RPC the server
// mounts (a method with the long_poll_seconds option) is covered; a new one fails the coverage
// check until it has a case here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PollForActivityTaskCommand } from "@aws-sdk/client-swf";
import { ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { StepFunctionsService } from "../../gen/taskgate/sfn/v1/service_pb.ts";
import { deadlineHoldMs, optionSeconds } from "../../src/services/longpoll.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";
import { setupDomain, type Fixture } from "../helpers/swf.ts";

/** The client's deadline, as the clients set it. */
const DEADLINE_MS = 1000;

type Call = (req: unknown, opts: { timeoutMs: number }) => Promise<Record<string, unknown>>;

/** One long-poll RPC: how to make a request that finds no task, and what the empty result looks like. */
interface Case {
  /** `<service type name>/<method name>`. */
  readonly rpc: string;
  readonly request: (tg: Taskgate, f: Fixture) => Promise<unknown>;
  readonly empty: (res: Record<string, unknown>) => boolean;
}

const cases: Case[] = [
  {
    rpc: "taskgate.swf.v1.SimpleWorkflowService/PollForActivityTask",
    request: async (_, f) => ({ domain: f.domain, taskList: { name: f.activityList } }),
    empty: (r) => !r.taskToken && !r.activityId,
  },
  {
    rpc: "taskgate.swf.v1.SimpleWorkflowService/PollForDecisionTask",
    request: async (_, f) => ({ domain: f.domain, taskList: { name: f.decisionList } }),
    empty: (r) => !r.taskToken && ((r.events as unknown[] | undefined) ?? []).length === 0,
  },
  {
    rpc: "taskgate.sfn.v1.StepFunctionsService/GetActivityTask",
    request: async (tg) => {
      const sfn = createClient(StepFunctionsService, createConnectTransport({ baseUrl: tg.url, httpVersion: "1.1" }));
      const { activityArn } = await sfn.createActivity({ name: `deadline-${Math.random().toString(36).slice(2, 10)}` });
      return { activityArn };
    },
    empty: (r) => !r.taskToken && !r.input,
  },
  {
    rpc: "taskgate.datapipeline.v1.DataPipelineService/PollForTask",
    request: async () => ({ workerGroup: `deadline-${Math.random().toString(36).slice(2, 10)}` }),
    empty: (r) => r.taskObject === undefined,
  },
];

const transports: { name: string; make: (url: string) => Transport }[] = [
  { name: "Connect", make: (url) => createConnectTransport({ baseUrl: url, httpVersion: "1.1" }) },
  { name: "Connect over HTTP/2", make: (url) => createConnectTransport({ baseUrl: url, httpVersion: "2" }) },
  { name: "gRPC", make: (url) => createGrpcTransport({ baseUrl: url }) },
  { name: "gRPC-Web", make: (url) => createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }) },
];

describe("deadlineHoldMs", () => {
  const table: { hold: number; remaining: number | undefined; want: number }[] = [
    { hold: 55_200, remaining: undefined, want: 55_200 }, // no deadline (AWS route): unchanged
    { hold: 55_200, remaining: 1000, want: 800 }, // at least 200 ms
    { hold: 55_200, remaining: 10_000, want: 9500 }, // 5 %
    { hold: 55_200, remaining: 4000, want: 3800 }, // 5 % = 200 ms
    { hold: 55_200, remaining: 190, want: 0 }, // claim once, answer at once
    { hold: 55_200, remaining: -5, want: 0 },
    { hold: 900, remaining: 60_000, want: 900 }, // the hold ends first
  ];
  for (const t of table) it(`hold ${t.hold} ms, ${t.remaining ?? "no"} ms left: ${t.want} ms`, () => expect(deadlineHoldMs(t.hold, t.remaining)).toBe(t.want));
});

describe("a long poll with a client deadline shorter than the hold", () => {
  let tg: Taskgate;
  let f: Fixture;
  beforeAll(async () => {
    // A hold far longer than the deadline: without deadline handling every call below would fail.
    tg = await startTaskgate({ longPollSeconds: 30, config: { shutdownGraceSeconds: 0 } });
    f = await setupDomain(tg.swf);
  });
  afterAll(() => tg.destroy());

  /** Every long-poll RPC the server mounts, as `<service>/<method>`. */
  const mounted = (): { rpc: string; service: DescService; localName: string }[] =>
    tg.app.services.flatMap((s) => s.desc.methods.filter((m) => m.methodKind === "unary" && optionSeconds(m) > 0).map((m) => ({ rpc: `${s.desc.typeName}/${m.name}`, service: s.desc, localName: m.localName })));

  it("covers every long-poll RPC the server mounts", () => {
    const rpcs = mounted().map((m) => m.rpc);
    expect(rpcs.length).toBeGreaterThanOrEqual(3);
    for (const rpc of rpcs) expect(cases.map((c) => c.rpc)).toContain(rpc);
  });

  it("answers the empty result before the deadline, on every transport, for every long-poll RPC", async () => {
    // One RPC at a time, its transports together (each call on a connection of its own).
    const outcomes: { what: string; ok: boolean; ms: number; error: string | undefined }[] = [];
    for (const { rpc, service, localName } of mounted()) {
      const c = cases.find((x) => x.rpc === rpc);
      if (c === undefined) continue;
      const req = await c.request(tg, f);
      outcomes.push(
        ...(await Promise.all(
          transports.map(async (t) => {
            const client = createClient(service, t.make(tg.url)) as Client<DescService> as unknown as Record<string, Call>;
            const started = performance.now();
            try {
              const res = await client[localName](req, { timeoutMs: DEADLINE_MS });
              return { what: `${rpc} over ${t.name}`, ok: c.empty(res), ms: performance.now() - started, error: undefined };
            } catch (e) {
              return { what: `${rpc} over ${t.name}`, ok: false, ms: performance.now() - started, error: ConnectError.from(e).message };
            }
          }),
        )),
      );
    }
    expect(outcomes.length).toBeGreaterThanOrEqual(3 * transports.length);
    for (const o of outcomes) {
      expect({ what: o.what, ok: o.ok, error: o.error }).toEqual({ what: o.what, ok: true, error: undefined });
      // It held (it did not just answer at once); the answer itself shows it beat the client's timer.
      expect(o.ms).toBeGreaterThan(DEADLINE_MS / 2);
    }
  }, 30_000);

  it("a deadline longer than the hold changes nothing: the hold ends first", async () => {
    const short = await startTaskgate({ longPollSeconds: 0.3 });
    try {
      const g = await setupDomain(short.swf);
      for (const client of [short.connect, short.grpc]) {
        const started = performance.now();
        const res = await client.pollForActivityTask({ domain: g.domain, taskList: { name: g.activityList } }, { timeoutMs: 5000 });
        expect(res.taskToken ?? "").toBe("");
        expect(performance.now() - started).toBeLessThan(2500);
      }
    } finally {
      await short.destroy();
    }
  });

  it("on the AWS route nothing changes: RPC deadline headers are not read there", async () => {
    const short = await startTaskgate({ longPollSeconds: 1 });
    try {
      const g = await setupDomain(short.swf);
      const cmd = new PollForActivityTaskCommand({ domain: g.domain, taskList: { name: g.activityList } });
      cmd.middlewareStack.add(
        (next) => (args) => {
          const r = args.request as { headers: Record<string, string> };
          r.headers["connect-timeout-ms"] = "100";
          r.headers["grpc-timeout"] = "100m";
          return next(args);
        },
        { step: "build" },
      );
      const started = performance.now();
      const res = await short.swf.send(cmd);
      expect(res.startedEventId).toBe(0);
      // Held for the configured 92–97 % of 1 s, not cut to the 100 ms the headers name.
      expect(performance.now() - started).toBeGreaterThan(800);
    } finally {
      await short.destroy();
    }
  });
});
