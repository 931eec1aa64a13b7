// PostgreSQL goes away under a running node: calls fail with a retryable error, never a crash;
// /healthz reports it; the node recovers by itself when the database is back.
import { afterAll, describe, expect, it } from "vitest";
import { connect, createServer, type Server, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { DescribeDomainCommand, PollForActivityTaskCommand } from "@aws-sdk/client-swf";
import { dropSchema } from "../../src/store/postgres.ts";
import { postgresUrl, startTaskgate, type StoreLocation, type Taskgate } from "../helpers/harness.ts";
import { setupDomain } from "../helpers/swf.ts";

/** A TCP proxy in front of PostgreSQL that the test can cut and restore on the same port. */
class Proxy {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  port = 0;

  async listen(): Promise<void> {
    const target = new URL(postgresUrl);
    const server = createServer((inbound) => {
      const outbound = connect(Number(target.port || 5432), target.hostname);
      this.#sockets.add(inbound).add(outbound);
      inbound.pipe(outbound).pipe(inbound);
      const drop = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on("error", drop).on("close", drop);
      outbound.on("error", drop).on("close", drop);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    const a = server.address();
    this.port = typeof a === "object" && a ? a.port : this.port;
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
  }
}

async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a PostgreSQL outage under a running node", () => {
  const proxy = new Proxy();
  let tg: Taskgate | undefined;
  const schema = `t_${randomBytes(6).toString("hex")}`;
  afterAll(async () => {
    await proxy.cut();
    await tg?.stop();
    await dropSchema(postgresUrl, schema);
  });

  it("answers with a retryable error, reports not ready, and recovers by itself", async () => {
    await proxy.listen();
    const u = new URL(postgresUrl);
    u.hostname = "127.0.0.1";
    u.port = String(proxy.port);
    const loc: StoreLocation = { kind: "postgres", database: { kind: "postgres", url: u.toString() }, schema, cleanup: async () => {} };
    tg = await startTaskgate({ store: loc, longPollSeconds: 0.5, config: { nodeTimeoutSeconds: 2 } });
    const f = await setupDomain(tg.swf);
    const healthz = async () => (await fetch(`${tg!.url}/healthz`)).status;
    expect(await healthz()).toBe(200);

    await proxy.cut();
    const err = await tg.swf.send(new DescribeDomainCommand({ name: f.domain })).then(
      () => undefined,
      (e: unknown) => e as { name: string; $metadata: { httpStatusCode: number }; $retryable?: unknown; $fault: string },
    );
    expect(err?.name).toBe("ServiceUnavailable");
    expect(err?.$metadata.httpStatusCode).toBe(503);
    expect(err?.$fault).toBe("server"); // the SDKs retry 503s
    // Readiness follows within a heartbeat or two, without any traffic.
    await eventually(async () => (await healthz()) === 503);
    // A poll during the outage fails cleanly too (polls check the domain once, then claim).
    await expect(tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }))).rejects.toBeDefined();

    await proxy.listen();
    await eventually(async () => (await healthz()) === 200);
    const d = await tg.swf.send(new DescribeDomainCommand({ name: f.domain }));
    expect(d.domainInfo?.name).toBe(f.domain);
    const empty = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } }));
    expect(empty.startedEventId).toBe(0);
  }, 60_000);
});
