// The one-port server: every protocol on one port, /healthz, delivery tracking and graceful
// shutdown, with a fake SimpleWorkflowService built on the real generated descriptor.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as net from "node:net";
import * as http from "node:http";
import * as http2 from "node:http2";
import { Writable } from "node:stream";
import { createClient, ConnectError, Code, type ServiceImpl, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { Delivery, deliveryKey } from "../../src/request/delivery.ts";
import { loadModel } from "../../src/model/model.ts";
import type { RegisteredService } from "../../src/services/registry.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { createLogger } from "../../src/server/logger.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";

/** A promise and its resolve function (Promise.withResolvers, which Node 20 lacks). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A request the fake impl holds until the test releases it. */
interface Hold {
  delivery: Delivery | undefined;
  undelivered: boolean;
  signalAborted: boolean;
  release(): void;
}

/** A fake SimpleWorkflowService: ListDomains echoes; nextPageToken "hold" waits for release(); StreamActivityTasks yields n tasks. */
function fakeService() {
  const holds: Hold[] = [];
  const deliveries: Delivery[] = [];
  const impl: Partial<ServiceImpl<typeof SimpleWorkflowService>> = {
    async listDomains(req, ctx) {
      const delivery = ctx.values.get(deliveryKey);
      if (delivery) deliveries.push(delivery);
      if (req.nextPageToken === "hold") {
        const { promise, resolve } = deferred();
        const hold: Hold = { delivery, undelivered: false, signalAborted: false, release: resolve };
        delivery?.onUndelivered(() => {
          hold.undelivered = true;
        });
        ctx.signal.addEventListener("abort", () => {
          hold.signalAborted = true;
        });
        holds.push(hold);
        await promise;
        return { domainInfos: [], nextPageToken: "released" };
      }
      return { domainInfos: [], nextPageToken: `echo:${req.nextPageToken ?? ""}` };
    },
    async *streamActivityTasks(req) {
      for (let i = 0; i < (req.maxInFlight ?? 1); i++) yield { activityId: `a${i}`, taskToken: `t${i}` };
    },
  };
  const service: RegisteredService = { desc: SimpleWorkflowService, impl: impl as RegisteredService["impl"], model: loadModel("swf") };
  return { service, holds, deliveries };
}

/** Log lines as parsed JSON. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger("debug", dest) };
}

function testConfig(over: Partial<Config> = {}): Config {
  return { ...defaults, port: 0, logLevel: "debug", shutdownGraceSeconds: 2, ...over };
}

/** Resolves true when host:port accepts a TCP connection. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("server on one port", () => {
  const fake = fakeService();
  const logs = captureLogs();
  let ready = true;
  let server: RunningServer;
  const transports: Record<string, Transport> = {};

  beforeAll(async () => {
    server = await startServer({ config: testConfig(), logger: logs.logger, services: [fake.service], ready: () => ready, onShutdown: async () => {} });
    const baseUrl = server.url;
    transports["connect http/1.1"] = createConnectTransport({ baseUrl, httpVersion: "1.1" });
    transports["connect http/2"] = createConnectTransport({ baseUrl, httpVersion: "2" });
    transports["grpc h2c"] = createGrpcTransport({ baseUrl });
    transports["grpc-web http/1.1"] = createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
  });
  afterAll(async () => {
    await server.close();
  });

  it("binds a free port when asked for port 0", () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.host).toBe("127.0.0.1");
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  for (const name of ["connect http/1.1", "connect http/2", "grpc h2c", "grpc-web http/1.1"]) {
    it(`serves unary and server-streaming calls over ${name}`, async () => {
      const client = createClient(SimpleWorkflowService, transports[name]);
      const res = await client.listDomains({ nextPageToken: name });
      expect(res.nextPageToken).toBe(`echo:${name}`);
      expect(res.domainInfos).toEqual([]);
      const ids: string[] = [];
      for await (const t of client.streamActivityTasks({ maxInFlight: 3 })) ids.push(t.activityId ?? "");
      expect(ids).toEqual(["a0", "a1", "a2"]);
    });
  }

  it("serves plain JSON POSTs on the Connect routes", async () => {
    const res = await fetch(`${server.url}/taskgate.swf.v1.SimpleWorkflowService/ListDomains`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ registrationStatus: "REGISTRATION_STATUS_REGISTERED", nextPageToken: "curl" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ nextPageToken: "echo:curl" });
  });

  it("hands AWS JSON requests to the AWS route", async () => {
    const res = await fetch(`${server.url}/`, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.ListDomains" },
      body: JSON.stringify({ registrationStatus: "REGISTERED", nextPageToken: "aws" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(await res.json()).toEqual({ domainInfos: [], nextPageToken: "echo:aws" });
  });

  it("answers /healthz with 200 when ready and 503 when not", async () => {
    ready = true;
    const ok = await fetch(`${server.url}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "ok" });
    ready = false;
    try {
      const down = await fetch(`${server.url}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: "unavailable" });
    } finally {
      ready = true;
    }
  });

  it("answers /healthz over HTTP/2 too", async () => {
    const session = http2.connect(server.url);
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ":path": "/healthz" });
        let status = 0;
        let body = "";
        req.on("response", (h) => (status = Number(h[":status"])));
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => resolve({ status, body }));
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ status: "ok" });
    } finally {
      session.close();
    }
  });

  it("tells HTTP/1.1 from HTTP/2 when the first bytes arrive one by one", async () => {
    // HTTP/1.1 whose first byte is also the preface's first byte ("P").
    const h1Reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port: server.port });
      let out = "";
      s.on("data", (c: Buffer) => {
        out += c.toString("latin1");
        if (out.includes("\r\n\r\n")) {
          s.destroy();
          resolve(out);
        }
      });
      s.on("error", reject);
      s.write("P");
      setTimeout(() => s.write("UT /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), 30);
    });
    expect(h1Reply.startsWith("HTTP/1.1 ")).toBe(true);

    // HTTP/2 preface split in two writes, then an empty SETTINGS frame: the server answers with its SETTINGS.
    const h2Reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port: server.port });
      s.once("data", (c: Buffer) => {
        s.destroy();
        resolve(c);
      });
      s.on("error", reject);
      s.write("PRI * HTTP/2.0\r\n");
      setTimeout(() => s.write(Buffer.concat([Buffer.from("\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])])), 30);
    });
    expect(h2Reply[3]).toBe(4); // frame type SETTINGS
  });

  it("reports delivery of a completed response", async () => {
    const client = createClient(SimpleWorkflowService, transports["connect http/1.1"]);
    const before = fake.deliveries.length;
    await client.listDomains({ nextPageToken: "x" });
    const d = fake.deliveries[before];
    expect(d).toBeInstanceOf(Delivery);
    // Delivered once the connection outlived the settle window after the last byte was written.
    let delivered = false;
    d.onDelivered(() => (delivered = true));
    await vi.waitFor(() => expect(delivered).toBe(true));
    let ran = false;
    // delivered() settled it: a late undelivered() and late registrations are ignored.
    d.onUndelivered(() => (ran = true));
    d.undelivered();
    expect(ran).toBe(false);
  });

  for (const name of ["connect http/1.1", "connect http/2", "grpc h2c", "grpc-web http/1.1"]) {
    it(`reports an undelivered response when the client aborts (${name})`, async () => {
      const client = createClient(SimpleWorkflowService, transports[name]);
      const before = fake.holds.length;
      const abort = new AbortController();
      const call = client.listDomains({ nextPageToken: "hold" }, { signal: abort.signal });
      await vi.waitFor(() => expect(fake.holds.length).toBe(before + 1));
      const hold = fake.holds[before];
      expect(hold.delivery).toBeInstanceOf(Delivery);
      abort.abort();
      await expect(call).rejects.toSatisfy((e) => ConnectError.from(e).code === Code.Canceled);
      await vi.waitFor(() => expect(hold.undelivered).toBe(true));
      expect(hold.signalAborted).toBe(true);
      hold.release();
    });
  }

  it("logs one line per request at debug", async () => {
    await fetch(`${server.url}/healthz?probe=1`);
    await vi.waitFor(() =>
      expect(logs.lines).toContainEqual(expect.objectContaining({ component: "server", method: "GET", path: "/healthz?probe=1", status: 200, msg: "request" })),
    );
    const line = logs.lines.find((l) => l.path === "/healthz?probe=1");
    expect(typeof line?.ms).toBe("number");
    // An AWS JSON call gets exactly one line too, naming its target.
    const before = logs.lines.length;
    await fetch(`${server.url}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.ListDomains" }, body: "{}" });
    await vi.waitFor(() => expect(logs.lines.slice(before).filter((l) => l.target === "SimpleWorkflowService.ListDomains")).toHaveLength(1));
  });
});

describe("server shutdown", () => {
  it("closes: runs onShutdown, lets held requests finish, closes idle keep-alive connections, frees the port", async () => {
    const fake = fakeService();
    let shutdownCalls = 0;
    const server = await startServer({
      config: testConfig({ shutdownGraceSeconds: 20 }),
      logger: createLogger("silent"),
      services: [fake.service],
      ready: () => true,
      // The app answers every waiting poll on shutdown.
      onShutdown: async () => {
        shutdownCalls++;
        for (const h of fake.holds) h.release();
      },
    });
    const port = server.port;
    const h1 = createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const h2 = createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: server.url }));
    // Open keep-alive connections of both kinds, now idle.
    await h1.listDomains({});
    await h2.listDomains({});
    await fetch(`${server.url}/healthz`);
    // And two long polls in flight.
    const held1 = h1.listDomains({ nextPageToken: "hold" });
    const held2 = h2.listDomains({ nextPageToken: "hold" });
    await vi.waitFor(() => expect(fake.holds.length).toBe(2));

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(10_000); // well before the 20 s grace
    expect(shutdownCalls).toBe(1);
    expect((await held1).nextPageToken).toBe("released");
    expect((await held2).nextPageToken).toBe("released");
    expect(fake.holds.every((h) => !h.undelivered)).toBe(true);
    expect(await canConnect(port)).toBe(false);
    await server.close(); // idempotent

    // The port is free again.
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.listen(port, "127.0.0.1", () => resolve());
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });

  it("cuts requests still open when the grace period ends", async () => {
    const fake = fakeService();
    const server = await startServer({
      config: testConfig({ shutdownGraceSeconds: 0.3 }),
      logger: createLogger("silent"),
      services: [fake.service],
      ready: () => true,
      onShutdown: async () => {}, // answers nothing
    });
    const h1 = createClient(SimpleWorkflowService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const h2 = createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: server.url }));
    const held1 = h1.listDomains({ nextPageToken: "hold" });
    const held2 = h2.listDomains({ nextPageToken: "hold" });
    const settled = Promise.allSettled([held1, held2]);
    await vi.waitFor(() => expect(fake.holds.length).toBe(2));
    await server.close();
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await vi.waitFor(() => expect(fake.holds.every((h) => h.undelivered && h.signalAborted)).toBe(true));
    for (const h of fake.holds) h.release();
    expect(await canConnect(server.port)).toBe(false);
  });

  it("stops waiting for a shutdown hook that hangs once the grace period ends", async () => {
    const server = await startServer({
      config: testConfig({ shutdownGraceSeconds: 0.2 }),
      logger: createLogger("silent"),
      services: [],
      ready: () => true,
      onShutdown: () => new Promise<void>(() => {}),
    });
    await fetch(`${server.url}/healthz`);
    await server.close();
    expect(await canConnect(server.port)).toBe(false);
  });

  it("asks HTTP/1.1 clients to close once shutdown has started", async () => {
    const fake = fakeService();
    const { promise: shutdownGate, resolve: openGate } = deferred();
    const server = await startServer({
      config: testConfig(),
      logger: createLogger("silent"),
      services: [fake.service],
      ready: () => true,
      onShutdown: () => shutdownGate,
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const send = (method: string, path: string, body?: string) =>
      new Promise<{ res: http.IncomingMessage; text: string }>((resolve, reject) => {
        const req = http.request(`${server.url}${path}`, { method, agent, headers: body === undefined ? {} : { "content-type": "application/json" } }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ res, text }));
        });
        req.on("error", reject);
        req.end(body);
      });
    const first = await send("GET", "/healthz");
    expect(first.res.headers.connection).toBe("keep-alive");
    // A long poll in flight when shutdown starts.
    const held = send("POST", "/taskgate.swf.v1.SimpleWorkflowService/ListDomains", JSON.stringify({ nextPageToken: "hold" }));
    await vi.waitFor(() => expect(fake.holds.length).toBe(1));
    const closing = server.close();
    // New connections are refused, and the idle keep-alive connection is gone.
    await expect(send("GET", "/healthz")).rejects.toThrow();
    // The app answers the poll; its response tells the client to close the connection.
    fake.holds[0].release();
    const answered = await held;
    expect(answered.res.statusCode).toBe(200);
    expect(answered.res.headers.connection).toBe("close");
    expect(JSON.parse(answered.text)).toEqual({ nextPageToken: "released" });
    openGate();
    await closing;
    agent.destroy();
  });

  it("rejects when the port is taken", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(
        startServer({ config: testConfig({ port }), logger: createLogger("silent"), services: [], ready: () => true, onShutdown: async () => {} }),
      ).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
