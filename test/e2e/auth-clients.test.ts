// Authentication end to end, with the clients users run: @aws-sdk/client-swf, client-sfn and
// client-data-pipeline signing with right and wrong secrets, unknown keys, another region, a
// skewed clock and session tokens; the generated Connect client over Connect and gRPC with a
// bearer token; SigV4 over HTTP on an RPC route; the principals file reloaded as on SIGHUP; and
// a whole SWF decision/activity cycle of a signed client on both stores.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import {
  ListDomainsCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RespondActivityTaskCompletedCommand,
  RespondDecisionTaskCompletedCommand,
  SWFClient,
  DescribeWorkflowExecutionCommand,
} from "@aws-sdk/client-swf";
import { ListActivitiesCommand, SFNClient } from "@aws-sdk/client-sfn";
import { DataPipelineClient, ListPipelinesCommand } from "@aws-sdk/client-data-pipeline";
import { NodeHttp2Handler, NodeHttpHandler } from "@smithy/node-http-handler";
import { SignatureV4 } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/protocol-http";
import { Hash } from "@smithy/hash-node";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.ts";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { freshStore, openStore, stores, type StoreKind } from "../helpers/harness.ts";
import { setupDomain, start } from "../helpers/swf.ts";

const run = promisify(execFile);

interface PrincipalEntry {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  policies: unknown[];
}

const allowAll = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
const worker: PrincipalEntry = { name: "worker", accessKeyId: "AKIATASKGATEWORKER01", secretAccessKey: "worker-secret-0123456789abcdef", policies: [allowAll] };
const temporary: PrincipalEntry = {
  name: "temporary",
  accessKeyId: "ASIATASKGATETEMP0001",
  secretAccessKey: "temporary-secret-0123456789abcd",
  sessionToken: "FwoGZXIvYXdzEXAMPLE-session-token",
  policies: [allowAll],
};

interface AuthTaskgate {
  url: string;
  app: App;
  server: RunningServer;
  writePrincipals(text: string): void;
  destroy(): Promise<void>;
}

/** Starts taskgate with --auth sigv4 on a principals file of `principals`; the file can be rewritten and reloaded. */
async function startAuthTaskgate(kind: StoreKind, principals: PrincipalEntry[]): Promise<AuthTaskgate> {
  const dir = mkdtempSync(join(tmpdir(), "taskgate-auth-"));
  const file = join(dir, "principals.json");
  const writePrincipals = (text: string) => writeFileSync(file, text);
  writePrincipals(JSON.stringify({ principals }));
  const store = freshStore(kind);
  const config: Config = { ...defaults, port: 0, database: store.database, longPollSeconds: 0.5, logLevel: "silent", shutdownGraceSeconds: 1, auth: "sigv4", authFile: file };
  const logger = pino({ level: process.env.TASKGATE_TEST_LOG ?? "silent" });
  const app = await createApp(config, logger, { db: await openStore(store) });
  const server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
  return {
    url: `http://127.0.0.1:${server.port}`,
    app,
    server,
    writePrincipals,
    destroy: async () => {
      await server.close();
      await app.close();
      await store.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function awsClients(url: string, credentials: Creds, opts: { region?: string; systemClockOffset?: number; maxAttempts?: number } = {}) {
  const common = {
    endpoint: url,
    region: opts.region ?? "us-east-1",
    // A copy: the SDK marks the object it is given.
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }) },
    maxAttempts: opts.maxAttempts ?? 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }),
    ...(opts.systemClockOffset === undefined ? {} : { systemClockOffset: opts.systemClockOffset }),
  };
  return { swf: new SWFClient(common), sfn: new SFNClient(common), dp: new DataPipelineClient(common) };
}

/** One read-only call per service, as each SDK sends it. */
const calls = {
  swf: (c: ReturnType<typeof awsClients>) => c.swf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" })),
  states: (c: ReturnType<typeof awsClients>) => c.sfn.send(new ListActivitiesCommand({})),
  datapipeline: (c: ReturnType<typeof awsClients>) => c.dp.send(new ListPipelinesCommand({})),
} as const;
const services = Object.keys(calls) as (keyof typeof calls)[];

async function awsError(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to fail");
}

describe("AWS SDK clients against --auth sigv4", () => {
  let tg: AuthTaskgate;
  beforeAll(async () => {
    tg = await startAuthTaskgate("sqlite", [worker, temporary]);
  });
  afterAll(async () => tg?.destroy());

  it.each(services)("%s: the right secret is served", async (service) => {
    await expect(calls[service](awsClients(tg.url, worker))).resolves.toBeDefined();
  });

  const refusals: { name: string; creds: () => Creds; region?: string; error: string; message: RegExp }[] = [
    { name: "a wrong secret", creds: () => ({ ...worker, secretAccessKey: "not-the-secret-0123456789" }), error: "InvalidSignatureException", message: /^The request signature we calculated does not match the signature you provided\./ },
    { name: "an unknown access key", creds: () => ({ accessKeyId: "AKIANOBODY0000000000", secretAccessKey: "x".repeat(20) }), error: "UnrecognizedClientException", message: /^The security token included in the request is invalid\.$/ },
    { name: "another region", creds: () => worker, region: "eu-west-1", error: "InvalidSignatureException", message: /^Credential should be scoped to a valid region, not 'eu-west-1'\./ },
    { name: "a session token missing", creds: () => ({ accessKeyId: temporary.accessKeyId, secretAccessKey: temporary.secretAccessKey }), error: "UnrecognizedClientException", message: /security token included in the request is invalid/ },
    { name: "a wrong session token", creds: () => ({ ...temporary, sessionToken: "wrong-token" }), error: "UnrecognizedClientException", message: /security token included in the request is invalid/ },
    { name: "a session token the principal does not have", creds: () => ({ ...worker, sessionToken: "unexpected" }), error: "UnrecognizedClientException", message: /security token included in the request is invalid/ },
  ];
  for (const r of refusals) {
    it.each(services)(`%s: ${r.name} is ${r.error} (HTTP 400)`, async (service) => {
      const got = await awsError(calls[service](awsClients(tg.url, r.creds(), { region: r.region })));
      expect(got).toMatchObject({ name: r.error, status: 400 });
      expect(got.message).toMatch(r.message);
    });
  }

  it.each(services)("%s: a session token that matches is served", async (service) => {
    await expect(calls[service](awsClients(tg.url, temporary))).resolves.toBeDefined();
  });

  it.each(services)("%s: a clock 20 minutes slow is refused as expired, and the SDK corrects it and retries", async (service) => {
    const once = await awsError(calls[service](awsClients(tg.url, worker, { systemClockOffset: -20 * 60_000 })));
    expect(once.name).toBe("InvalidSignatureException");
    expect(once.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
    const clients = awsClients(tg.url, worker, { systemClockOffset: -20 * 60_000, maxAttempts: 3 });
    await expect(calls[service](clients)).resolves.toBeDefined();
  });

  it("a clock 20 minutes fast is refused as not yet current", async () => {
    const once = await awsError(calls.swf(awsClients(tg.url, worker, { systemClockOffset: 20 * 60_000 })));
    expect(once.name).toBe("InvalidSignatureException");
    expect(once.message).toMatch(/^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/);
  });

  // A machine whose clock is wrong: the client runs in a process whose Date.now is shifted. The
  // SDK reads the server's Date header from the refusal, corrects its offset and retries.
  it.each([
    ["fast", 20],
    ["slow", -20],
  ])("a client on a machine whose clock is 20 minutes %s succeeds after the SDK's clock-skew correction", async (_how, minutes) => {
    const script = `
      const real = Date.now;
      Date.now = () => real() + ${minutes * 60_000};
      const { SWFClient, ListDomainsCommand } = await import("@aws-sdk/client-swf");
      const c = new SWFClient({ endpoint: ${JSON.stringify(tg.url)}, region: "us-east-1", maxAttempts: 3,
        credentials: { accessKeyId: ${JSON.stringify(worker.accessKeyId)}, secretAccessKey: ${JSON.stringify(worker.secretAccessKey)} } });
      const out = await c.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }));
      process.stdout.write(JSON.stringify({ attempts: out.$metadata.attempts, offset: c.config.systemClockOffset }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: join(import.meta.dirname, "../..") });
    const out = JSON.parse(stdout) as { attempts: number; offset: number };
    expect(out.attempts).toBe(2);
    expect(Math.abs(out.offset + minutes * 60_000)).toBeLessThan(5_000);
  });

  it("over HTTP/2 (h2c), where the host is :authority", async () => {
    const h2 = new SWFClient({ endpoint: tg.url, region: "us-east-1", credentials: { accessKeyId: worker.accessKeyId, secretAccessKey: worker.secretAccessKey }, maxAttempts: 1, requestHandler: new NodeHttp2Handler() });
    try {
      await expect(h2.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }))).resolves.toBeDefined();
      const bad = new SWFClient({ endpoint: tg.url, region: "us-east-1", credentials: { accessKeyId: worker.accessKeyId, secretAccessKey: "wrong-secret-0123456789" }, maxAttempts: 1, requestHandler: new NodeHttp2Handler() });
      expect((await awsError(bad.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" })))).name).toBe("InvalidSignatureException");
      bad.destroy();
    } finally {
      h2.destroy();
    }
  });

  it("an unsigned request is MissingAuthenticationTokenException; /healthz stays open", async () => {
    const res = await fetch(`${tg.url}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.ListDomains" }, body: '{"registrationStatus":"REGISTERED"}' });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    expect(await res.json()).toEqual({ __type: "com.amazon.coral.service#MissingAuthenticationTokenException", message: "Request is missing Authentication Token" });
    expect(res.headers.get("date")).not.toBeNull();
    expect((await fetch(`${tg.url}/healthz`)).status).toBe(200);
  });

  it("reloads the principals file: a removed key is refused, a bad file keeps the principals in force", async () => {
    const keep = awsClients(tg.url, worker);
    await expect(calls.swf(keep)).resolves.toBeDefined();
    tg.writePrincipals(JSON.stringify({ principals: [worker] }));
    expect(tg.server.reloadCredentials()).toEqual({ ok: true, principals: 1 });
    expect((await awsError(calls.swf(awsClients(tg.url, temporary)))).name).toBe("UnrecognizedClientException");
    // The same client (its keep-alive connection) carries on.
    await expect(calls.swf(keep)).resolves.toBeDefined();
    tg.writePrincipals('{"principals": [{"name": "x"}]}');
    const bad = tg.server.reloadCredentials();
    expect(bad.ok).toBe(false);
    expect(bad.ok ? "" : bad.error).toMatch(/principals\.json: principals\[0\]\.accessKeyId: expected 16 to 128 letters and digits/);
    await expect(calls.swf(keep)).resolves.toBeDefined();
    tg.writePrincipals(JSON.stringify({ principals: [worker, temporary] }));
    expect(tg.server.reloadCredentials()).toEqual({ ok: true, principals: 2 });
    await expect(calls.swf(awsClients(tg.url, temporary))).resolves.toBeDefined();
  });
});

// ---- RPC routes

function bearer(token: string, sessionToken?: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    if (sessionToken !== undefined) req.header.set("x-amz-security-token", sessionToken);
    return next(req);
  };
}

async function rpcError(p: Promise<unknown>): Promise<{ code: Code; fault: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = ConnectError.from(e);
    return { code: err.code, fault: faultFromConnectError(err)?.name };
  }
  throw new Error("expected the call to fail");
}

describe("Connect, gRPC and gRPC-Web against --auth sigv4", () => {
  let tg: AuthTaskgate;
  beforeAll(async () => {
    tg = await startAuthTaskgate("sqlite", [worker, temporary]);
  });
  afterAll(async () => tg?.destroy());

  const transports = {
    connect: (url: string, interceptors: Interceptor[]) => createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors }),
    grpc: (url: string, interceptors: Interceptor[]) => createGrpcTransport({ baseUrl: url, interceptors }),
    grpcWeb: (url: string, interceptors: Interceptor[]) => createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1", interceptors }),
  };
  const kinds = Object.keys(transports) as (keyof typeof transports)[];
  const list = (kind: keyof typeof transports, interceptors: Interceptor[]) =>
    createClient(SimpleWorkflowService, transports[kind](tg.url, interceptors)).listDomains({ registrationStatus: RegistrationStatus.REGISTERED });

  it.each(kinds)("%s: a bearer token of a principal is served", async (kind) => {
    await expect(list(kind, [bearer(`${worker.accessKeyId}:${worker.secretAccessKey}`)])).resolves.toBeDefined();
    await expect(list(kind, [bearer(`${temporary.accessKeyId}:${temporary.secretAccessKey}`, temporary.sessionToken)])).resolves.toBeDefined();
  });

  const refusals: { name: string; interceptors: Interceptor[]; fault: string }[] = [
    { name: "no credentials", interceptors: [], fault: "MissingAuthenticationTokenException" },
    { name: "a wrong secret", interceptors: [bearer(`${worker.accessKeyId}:wrong-secret-0123456789`)], fault: "UnrecognizedClientException" },
    { name: "an unknown key", interceptors: [bearer("AKIANOBODY0000000000:whatever-secret-0123")], fault: "UnrecognizedClientException" },
    { name: "a malformed token", interceptors: [bearer("just-a-secret")], fault: "IncompleteSignatureException" },
    { name: "a session token missing", interceptors: [bearer(`${temporary.accessKeyId}:${temporary.secretAccessKey}`)], fault: "UnrecognizedClientException" },
    { name: "a wrong session token", interceptors: [bearer(`${temporary.accessKeyId}:${temporary.secretAccessKey}`, "wrong")], fault: "UnrecognizedClientException" },
  ];
  for (const r of refusals) {
    it.each(kinds)(`%s: ${r.name} is UNAUTHENTICATED with ${r.fault}`, async (kind) => {
      expect(await rpcError(list(kind, r.interceptors))).toEqual({ code: Code.Unauthenticated, fault: r.fault });
    });
  }

  it("gRPC health answers without credentials (as /healthz); server reflection does not", async () => {
    const health = createClient(Health, transports.grpc(tg.url, []));
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const reflection = createClient(ServerReflection, transports.grpc(tg.url, []));
    const read = async () => {
      for await (const _ of reflection.serverReflectionInfo(
        (async function* () {
          yield { host: "", messageRequest: { case: "listServices" as const, value: "" } };
        })(),
      ))
        break;
    };
    expect(await rpcError(read())).toEqual({ code: Code.Unauthenticated, fault: "MissingAuthenticationTokenException" });
  });

  it("a server stream is refused before it starts", async () => {
    const client = createClient(SimpleWorkflowService, transports.grpc(tg.url, []));
    const read = async () => {
      for await (const _ of client.streamActivityTasks({ domain: "d", taskList: { name: "t" }, maxInFlight: 1 })) break;
    };
    expect(await rpcError(read())).toEqual({ code: Code.Unauthenticated, fault: "MissingAuthenticationTokenException" });
  });

  async function sigv4Connect(credentials: Creds, service = "swf"): Promise<Response> {
    const body = JSON.stringify({ registrationStatus: "REGISTRATION_STATUS_REGISTERED" });
    const signer = new SignatureV4({ credentials, region: "us-east-1", service, sha256: Hash.bind(null, "sha256") });
    const host = new URL(tg.url).host;
    const path = "/taskgate.swf.v1.SimpleWorkflowService/ListDomains";
    const signed = await signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: "http:",
        hostname: "127.0.0.1",
        path,
        headers: { host, "content-type": "application/json", "x-amz-content-sha256": createHash("sha256").update(body).digest("hex") },
        body,
      }),
    );
    return fetch(`${tg.url}${path}`, { method: "POST", headers: signed.headers, body });
  }

  it("SigV4 over HTTP on a Connect route: signed for swf is served, a wrong secret or service is refused", async () => {
    const ok = await sigv4Connect(worker);
    expect(ok.status).toBe(200);
    expect(await ok.json()).not.toHaveProperty("code");
    const wrong = await sigv4Connect({ ...worker, secretAccessKey: "wrong-secret-0123456789" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: "unauthenticated", message: expect.stringMatching(/^The request signature we calculated does not match/) });
    const otherService = await sigv4Connect(worker, "states");
    expect(otherService.status).toBe(401);
    expect(await otherService.json()).toMatchObject({ code: "unauthenticated", message: "Credential should be scoped to correct service: 'swf'. " });
  });
});

// ---- a whole SWF cycle, signed, on both stores

describe.each(stores)("a signed SWF decider and worker (%s)", (kind) => {
  let tg: AuthTaskgate;
  beforeAll(async () => {
    tg = await startAuthTaskgate(kind, [worker, temporary]);
  });
  afterAll(async () => tg?.destroy());

  it("schedules, delivers and completes an activity", async () => {
    const { swf } = awsClients(tg.url, worker);
    const { swf: tempSwf } = awsClients(tg.url, temporary);
    const f = await setupDomain(swf);
    const runId = await start(swf, f, "wf-auth");
    const decision = await tempSwf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList }, identity: "decider" }));
    expect(decision.taskToken).toBeDefined();
    await tempSwf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: decision.taskToken,
        decisions: [{ decisionType: "ScheduleActivityTask", scheduleActivityTaskDecisionAttributes: { activityId: "a1", activityType: f.activityType } }],
      }),
    );
    const task = await swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList }, identity: "worker" }));
    expect(task.activityId).toBe("a1");
    await swf.send(new RespondActivityTaskCompletedCommand({ taskToken: task.taskToken, result: "done" }));
    const d = await swf.send(new DescribeWorkflowExecutionCommand({ domain: f.domain, execution: { workflowId: "wf-auth", runId } }));
    expect(d.openCounts?.openActivityTasks).toBe(0);
    // The same calls unsigned are refused.
    expect((await awsError(awsClients(tg.url, { ...worker, secretAccessKey: "wrong-secret-0123456789" }).swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name: f.activityList } })))).name).toBe(
      "InvalidSignatureException",
    );
  });
});
