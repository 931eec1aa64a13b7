// The limits that protect the server at the edge, reached through the clients users run and
// answered as AWS does: ThrottlingException with x-amz-retry-after / Retry-After (the AWS SDK backs
// off by it and then succeeds), SWF's LimitExceededFault for polls per caller, RESOURCE_EXHAUSTED
// on the RPC routes, connections per client address closed on accept; the server serves
// afterwards. Polls and streams held per queue are the dispatch core's: poll-limits.test.ts.
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListDomainsCommand, PollForDecisionTaskCommand, SWFClient } from "@aws-sdk/client-swf";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Code, ConnectError } from "@connectrpc/connect";
import { RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";
import { setupDomain } from "../helpers/swf.ts";

interface Outcome {
  ok: boolean;
  name?: string;
  status?: number;
  retryAfter?: string;
  amzRetryAfter?: string;
}

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return { ok: true };
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string> } };
    const h = err.$response?.headers ?? {};
    return { ok: false, name: err.name, status: err.$metadata?.httpStatusCode, retryAfter: h["retry-after"], amzRetryAfter: h["x-amz-retry-after"] };
  }
}

async function healthy(tg: Taskgate): Promise<void> {
  const res = await fetch(`${tg.url}/healthz`);
  expect(res.status).toBe(200);
}

function swfClient(tg: Taskgate, maxAttempts: number): SWFClient {
  return new SWFClient({ endpoint: tg.url, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts, requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }) });
}

describe("request rates", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ config: { maxRequestsPerSecond: 3, maxOperationRequestsPerSecond: 2 } });
  });
  afterAll(async () => tg?.destroy());

  it("a burst over the caller's rate is ThrottlingException with the delay; the SDK backs off by it and succeeds", async () => {
    const burst = await Promise.all(Array.from({ length: 12 }, () => outcome(tg.swf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" })))));
    const refused = burst.filter((o) => !o.ok);
    expect(refused.length).toBeGreaterThanOrEqual(9);
    for (const r of refused) {
      expect(r).toMatchObject({ name: "ThrottlingException", status: 400 });
      expect(Number(r.amzRetryAfter)).toBeGreaterThan(0);
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    const patient = swfClient(tg, 10);
    await expect(patient.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }))).resolves.toBeDefined();
    await healthy(tg);
  });

  it("the RPC routes answer RESOURCE_EXHAUSTED naming ThrottlingException, with the delay in the metadata", async () => {
    const burst = await Promise.all(
      Array.from({ length: 12 }, () =>
        tg.connect.listDomains({ registrationStatus: RegistrationStatus.REGISTERED }).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        ),
      ),
    );
    const refused = burst.filter((e): e is ConnectError => e !== undefined);
    expect(refused.length).toBeGreaterThanOrEqual(9);
    for (const e of refused) {
      expect(e.code).toBe(Code.ResourceExhausted);
      expect(faultFromConnectError(e)?.name).toBe("ThrottlingException");
      expect(Number(e.metadata.get("x-amz-retry-after"))).toBeGreaterThan(0);
    }
    await healthy(tg);
  });
});

describe("long polls per caller", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ longPollSeconds: 1, config: { maxPollsPerCaller: 1 } });
  });
  afterAll(async () => tg?.destroy());

  it("a caller holding its polls is refused one more on another task list with LimitExceededFault", async () => {
    const f = await setupDomain(tg.swf);
    const both = await Promise.all(
      [f.decisionList, "other-list"].map((list) => outcome(tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: list } })))),
    );
    expect(both.filter((o) => o.ok)).toHaveLength(1);
    expect(both.find((o) => !o.ok)).toMatchObject({ name: "LimitExceededFault", status: 400 });
    await healthy(tg);
  });
});

describe("connections per client address", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ config: { maxConnectionsPerAddress: 2 } });
  });
  afterAll(async () => tg?.destroy());

  const open = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s = net.connect(tg.port, "127.0.0.1", () => resolve(s));
      s.on("error", reject);
    });

  it("one connection more than the limit is closed on accept; the server serves once one is freed", async () => {
    const held = [await open(), await open()];
    const extra = await open();
    await new Promise<void>((resolve) => extra.once("close", () => resolve()));
    expect(extra.destroyed).toBe(true);
    // The held ones are still open and usable.
    expect(held.every((s) => !s.destroyed)).toBe(true);
    const closed = new Promise<void>((resolve) => held[0].once("close", () => resolve()));
    held[0].destroy();
    await closed;
    // The server may see the close a moment after the client: one more retry at most.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) status = await fetch(`${tg.url}/healthz`).then((r) => r.status, () => 0);
    expect(status).toBe(200);
    held[1].destroy();
  });
});
