// Authentication in the real process (`node src/main.ts`): the start log with --auth off names the
// address anyone can reach; --auth sigv4 without a file and with a bad file stop the start with
// the reason; SIGHUP re-reads the principals file while a long poll is held on an open
// connection, and a bad file on SIGHUP keeps the principals in force; with --tls-cert/--tls-key
// the process serves https and SIGHUP swaps the certificate for new connections.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ListDomainsCommand, PollForActivityTaskCommand, RegisterDomainCommand, SWFClient } from "@aws-sdk/client-swf";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { eventually } from "../helpers/eventually.ts";

const root = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "taskgate-auth-proc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const allowAll = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
const a = { name: "a", accessKeyId: "AKIATASKGATEPRINCA01", secretAccessKey: "secret-a-0123456789abcdef", policies: [allowAll] };
const b = { name: "b", accessKeyId: "AKIATASKGATEPRINCB01", secretAccessKey: "secret-b-0123456789abcdef", policies: [allowAll] };

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(args: string[], env: Record<string, string> = {}): Proc {
  let out = "";
  const child = spawn(process.execPath, ["src/main.ts", "--port", "0", "--log-level", "info", "--database", `sqlite:${join(dir, `db-${Math.random().toString(36).slice(2)}.db`)}`, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (x: Buffer) => (out += x.toString()));
  child.stderr!.on("data", (x: Buffer) => (out += x.toString()));
  return { child, output: () => out, exited: new Promise((r) => child.on("exit", (code) => r(code))) };
}

async function listening(p: Proc): Promise<string> {
  return eventually(() => {
    const m = /listening on (https?:\/\/[^"\s]+)/.exec(p.output());
    if (m === null) throw new Error(`not listening yet: ${p.output()}`);
    return m[1];
  }, 15_000);
}

function swf(url: string, p: { accessKeyId: string; secretAccessKey: string }): SWFClient {
  return new SWFClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }, maxAttempts: 1, requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }) });
}

describe("the taskgate process with authentication", () => {
  it("--auth off warns at start, naming the address", async () => {
    const p = launch([]);
    const url = await listening(p);
    expect(p.output()).toContain(`authentication is off: anyone who can reach ${url} can call every operation with any credentials`);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("--auth sigv4 without --auth-file is a configuration error (exit 2)", async () => {
    const p = launch(["--auth", "sigv4"]);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain("taskgate: --auth sigv4 needs a principals file: give --auth-file <path> or TASKGATE_AUTH_FILE");
  });

  it("a bad principals file stops the start with the file, the index and the field (exit 1)", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ principals: [{ ...a, secretAccessKey: "short" }] }));
    const p = launch([], { TASKGATE_AUTH: "sigv4", TASKGATE_AUTH_FILE: file });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(`taskgate: could not start: ${file}: principals[0].secretAccessKey: expected a string of at least 16 printable ASCII characters`);
  });

  it("SIGHUP re-reads the file while a poll is held; a bad file keeps the principals in force", async () => {
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [a] }));
    const p = launch(["--auth", "sigv4", "--auth-file", file, "--long-poll-seconds", "2"]);
    try {
      const url = await listening(p);
      expect(p.output()).toContain(`authentication: sigv4, 1 principal(s) from ${file}`);
      const clientA = swf(url, a);
      await clientA.send(new RegisterDomainCommand({ name: "d", workflowExecutionRetentionPeriodInDays: "1" }));
      await expect(swf(url, b).send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }))).rejects.toMatchObject({ name: "UnrecognizedClientException" });
      // A poll held (2 s) across both reloads on a connection of its own.
      const held = swf(url, a).send(new PollForActivityTaskCommand({ domain: "d", taskList: { name: "t" } })).then(
        (r) => (r.taskToken === undefined ? "empty" : "task"),
        (e: { name: string }) => e.name,
      );
      writeFileSync(file, JSON.stringify({ principals: [a, b] }));
      p.child.kill("SIGHUP");
      await eventually(() => expect(p.output()).toContain(`reloaded 2 principal(s) from ${file}`));
      await expect(swf(url, b).send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }))).resolves.toBeDefined();

      writeFileSync(file, "{ not json");
      p.child.kill("SIGHUP");
      await eventually(() => expect(p.output()).toContain("principals file not reloaded, the previous principals stay in force"));
      await expect(swf(url, b).send(new ListDomainsCommand({ registrationStatus: "REGISTERED" }))).resolves.toBeDefined();
      // The held poll ran its course (the empty answer), not cut by the reloads.
      expect(await held).toBe("empty");
      expect(p.child.exitCode).toBeNull();
    } finally {
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    }
  });

  it("--tls-cert/--tls-key serve https; SIGHUP swaps the certificate, a bad pair keeps it", async () => {
    /** A self-signed certificate for 127.0.0.1 with common name `cn`. */
    const make = (cn: string): { cert: string; key: string } => {
      const cert = join(dir, `${cn}.pem`);
      const key = join(dir, `${cn}.key`);
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${cn}`, "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "pipe" });
      return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
    };
    const one = make("proc-one");
    const two = make("proc-two");
    const live = { cert: join(dir, "live.pem"), key: join(dir, "live.key") };
    writeFileSync(live.cert, one.cert);
    writeFileSync(live.key, one.key);
    /** The common name of the certificate a new connection is given. */
    const subject = (port: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
          const cn = s.getPeerCertificate().subject.CN;
          s.end();
          resolve(Array.isArray(cn) ? cn.join(",") : (cn ?? ""));
        });
        s.on("error", reject);
      });
    const p = launch(["--tls-cert", live.cert], { TASKGATE_TLS_KEY: live.key });
    try {
      const url = await listening(p);
      expect(url.startsWith("https://")).toBe(true);
      const port = Number(new URL(url).port);
      expect(await subject(port)).toBe("proc-one");
      writeFileSync(live.cert, "not a certificate");
      p.child.kill("SIGHUP");
      await eventually(() => expect(p.output()).toContain("TLS certificate not reloaded, the one in force stays"));
      expect(await subject(port)).toBe("proc-one");
      writeFileSync(live.cert, two.cert);
      writeFileSync(live.key, two.key);
      p.child.kill("SIGHUP");
      await eventually(() => expect(p.output()).toContain("reloaded the TLS certificate"));
      expect(await subject(port)).toBe("proc-two");
    } finally {
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    }
  });
});
