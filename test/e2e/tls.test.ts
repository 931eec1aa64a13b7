// TLS on the one port (--tls-cert, --tls-key), with a CA and server certificate made by openssl
// in the test: the AWS SDK over HTTPS (SigV4 with --auth sigv4), gRPC over h2 and Connect over
// HTTP/1.1 through the Connect node client and gRPC through the lean client transport, the AWS
// route and /healthz with curl over HTTP/1.1 and h2 (ALPN), and a certificate swapped by
// reloadTls (SIGHUP) while a connection stays open.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as https from "node:https";
import * as tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { ListDomainsCommand, RegisterDomainCommand, SWFClient } from "@aws-sdk/client-swf";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SimpleWorkflowService } from "../../gen/taskgate/swf/v1/service_pb.ts";
import { RegistrationStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { createApp, type App } from "../../src/app.ts";
import { createLeanGrpcTransport } from "../../src/client/grpc-transport.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freshStore, type StoreLocation } from "../helpers/harness.ts";

const run = promisify(execFile);

const admin = {
  name: "admin",
  accessKeyId: "AKIATASKGATETLS00001",
  secretAccessKey: "tls-secret-0123456789abcdef",
  policies: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }],
};

/** A CA and a server certificate for 127.0.0.1 and localhost signed by it, as PEM files in `dir`; `tag` names the CA. */
function makeCertificates(dir: string, tag: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => join(dir, `${tag}-${name}`);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", `/CN=taskgate test CA ${tag}`);
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("key.pem"), "-out", f("server.csr"), "-subj", "/CN=localhost");
  writeFileSync(f("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  ssl("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("cert.pem"), "-days", "2", "-extfile", f("ext.cnf"));
  return { ca: f("ca.pem"), cert: f("cert.pem"), key: f("key.pem") };
}

/** May list domains only over TLS (aws:SecureTransport). */
const secureOnly = {
  name: "secure-only",
  accessKeyId: "AKIATASKGATETLS00002",
  secretAccessKey: "tls-secure-only-0123456789abcdef",
  policies: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "swf:ListDomains", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } }] }],
};

function bearerOf(p: { accessKeyId: string; secretAccessKey: string }): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${p.accessKeyId}:${p.secretAccessKey}`);
    return next(req);
  };
}

const bearer = bearerOf(admin);

/** The issuer CN of the certificate a new TLS connection is given. */
function issuerOf(port: number, ca: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost", ALPNProtocols: ["http/1.1"] }, () => {
      const issuer = s.getPeerCertificate().issuer.CN;
      s.end();
      resolve(Array.isArray(issuer) ? issuer.join(",") : (issuer ?? ""));
    });
    s.on("error", reject);
  });
}

describe("TLS on the one port", () => {
  let app: App;
  let server: RunningServer;
  let store: StoreLocation;
  let dir = "";
  let first: { ca: string; cert: string; key: string };
  let second: { ca: string; cert: string; key: string };
  let caPem: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-tls-"));
    first = makeCertificates(dir, "one");
    second = makeCertificates(dir, "two");
    caPem = readFileSync(first.ca, "utf8");
    const live = { cert: join(dir, "live-cert.pem"), key: join(dir, "live-key.pem") };
    writeFileSync(live.cert, readFileSync(first.cert));
    writeFileSync(live.key, readFileSync(first.key));
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [admin, secureOnly] }));
    store = freshStore("sqlite");
    const config: Config = { ...defaults, port: 0, database: store.database, logLevel: "silent", shutdownGraceSeconds: 1, auth: "sigv4", authFile: file, tlsCert: live.cert, tlsKey: live.key };
    const logger = pino({ level: "silent" });
    app = await createApp(config, logger);
    server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await store?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("announces an https URL", () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
  });

  it("the AWS SDK signs and calls over HTTPS", async () => {
    const swf = new SWFClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: admin,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: caPem }) }),
    });
    await swf.send(new RegisterDomainCommand({ name: "tls-domain", workflowExecutionRetentionPeriodInDays: "1" }));
    const domains = await swf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }));
    expect(domains.domainInfos?.map((d) => d.name)).toContain("tls-domain");
  });

  const transports = {
    "gRPC over h2": () => createGrpcTransport({ baseUrl: server.url, interceptors: [bearer], nodeOptions: { ca: caPem } }),
    "Connect over HTTP/1.1": () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: [bearer], nodeOptions: { ca: caPem } }),
    "Connect over h2": () => createConnectTransport({ baseUrl: server.url, httpVersion: "2", interceptors: [bearer], nodeOptions: { ca: caPem } }),
    "gRPC over h2, lean client transport": () => createLeanGrpcTransport({ baseUrl: server.url, interceptors: [bearer], nodeOptions: { ca: caPem } }),
  };
  it.each(Object.keys(transports) as (keyof typeof transports)[])("%s through TLS", async (kind) => {
    const swf = createClient(SimpleWorkflowService, transports[kind]());
    const res = await swf.listDomains({ registrationStatus: RegistrationStatus.REGISTERED });
    expect(res.domainInfos.map((d) => d.name)).toContain("tls-domain");
  });

  it("aws:SecureTransport is true over TLS, on HTTP/1.1 and h2", async () => {
    const swf = new SWFClient({ endpoint: server.url, region: "us-east-1", credentials: secureOnly, maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: caPem }) }) });
    await expect(swf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }))).resolves.toBeDefined();
    const grpc = createClient(SimpleWorkflowService, createGrpcTransport({ baseUrl: server.url, interceptors: [bearerOf(secureOnly)], nodeOptions: { ca: caPem } }));
    await expect(grpc.listDomains({ registrationStatus: RegistrationStatus.REGISTERED })).resolves.toBeDefined();
  });

  it.each([
    ["--http1.1", "1.1"],
    ["--http2", "2"],
  ])("curl %s reaches /healthz and the signed AWS route (ALPN)", async (flag, version) => {
    const health = await run("curl", ["-sS", flag, "--cacert", first.ca, "-o", "/dev/null", "-w", "%{http_code} %{http_version}", `${server.url}/healthz`]);
    expect(health.stdout).toBe(`200 ${version}`);
    const aws = await run("curl", [
      "-sS",
      flag,
      "--cacert",
      first.ca,
      "--aws-sigv4",
      "aws:amz:us-east-1:swf",
      "--user",
      `${admin.accessKeyId}:${admin.secretAccessKey}`,
      "-H",
      "content-type: application/x-amz-json-1.0",
      "-H",
      "x-amz-target: SimpleWorkflowService.ListDomains",
      "--data",
      '{"registrationStatus":"REGISTERED"}',
      `${server.url}/`,
    ]);
    expect(JSON.parse(aws.stdout)).toMatchObject({ domainInfos: expect.arrayContaining([expect.objectContaining({ name: "tls-domain" })]) });
  });

  it("a plaintext request to the TLS port gets no answer, and the server keeps serving", async () => {
    const plain = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${server.port}/healthz`]).catch((e: { stdout: string }) => e);
    expect((plain as { stdout: string }).stdout).toBe("000");
    expect(await issuerOf(server.port, [caPem])).toBe("taskgate test CA one");
  });

  it("reloadTls swaps the certificate for new connections while an open one carries on; a bad pair keeps it", async () => {
    const swf = createClient(SimpleWorkflowService, transports["gRPC over h2"]());
    await swf.listDomains({ registrationStatus: RegistrationStatus.REGISTERED }); // the h2 connection is open now
    const live = { cert: join(dir, "live-cert.pem"), key: join(dir, "live-key.pem") };
    writeFileSync(live.cert, "not a certificate");
    expect(server.reloadTls()).toMatchObject({ ok: false });
    expect(await issuerOf(server.port, [caPem])).toBe("taskgate test CA one");
    writeFileSync(live.cert, readFileSync(second.cert));
    writeFileSync(live.key, readFileSync(second.key));
    expect(server.reloadTls()).toEqual({ ok: true, tls: true });
    expect(await issuerOf(server.port, [readFileSync(second.ca, "utf8")])).toBe("taskgate test CA two");
    // The connection opened before the swap still serves, on the old certificate.
    await expect(swf.listDomains({ registrationStatus: RegistrationStatus.REGISTERED })).resolves.toBeDefined();
  });
});
