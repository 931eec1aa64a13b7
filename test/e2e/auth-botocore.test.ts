// Authentication with boto3 and the AWS CLI (both botocore: SigV4 without x-amz-content-sha256,
// so the server hashes the body itself): right and wrong secrets, an unknown key, session tokens,
// and a clock 20 minutes fast, for SWF, Step Functions and Data Pipeline. The cases run in one
// Python process; the CLI runs once per case.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { createApp, type App } from "../../src/app.ts";
import { defaults, type Config } from "../../src/server/config.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { freshStore, type StoreLocation } from "../helpers/harness.ts";

const run = promisify(execFile);

const allowAll = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
const worker = { name: "worker", accessKeyId: "AKIATASKGATEWORKER01", secretAccessKey: "worker-secret-0123456789abcdef", policies: [allowAll] };
const temporary = { name: "temporary", accessKeyId: "ASIATASKGATETEMP0001", secretAccessKey: "temporary-secret-0123456789abcd", sessionToken: "FwoGZXIvYXdzEXAMPLE-session-token", policies: [allowAll] };

interface Creds {
  key: string;
  secret: string;
  token?: string;
}

/** Credential variants and what each must get: "ok", or the error code and a message pattern. */
const variants: { name: string; creds: Creds; skewMinutes?: number; expect: "ok" | { code: string; message: RegExp } }[] = [
  { name: "the right secret", creds: { key: worker.accessKeyId, secret: worker.secretAccessKey }, expect: "ok" },
  { name: "a wrong secret", creds: { key: worker.accessKeyId, secret: "not-the-secret-0123456789" }, expect: { code: "InvalidSignatureException", message: /^The request signature we calculated does not match/ } },
  { name: "an unknown key", creds: { key: "AKIANOBODY0000000000", secret: "whatever-secret-0123" }, expect: { code: "UnrecognizedClientException", message: /^The security token included in the request is invalid\.$/ } },
  { name: "a session token that matches", creds: { key: temporary.accessKeyId, secret: temporary.secretAccessKey, token: temporary.sessionToken }, expect: "ok" },
  { name: "a session token missing", creds: { key: temporary.accessKeyId, secret: temporary.secretAccessKey }, expect: { code: "UnrecognizedClientException", message: /security token included in the request is invalid/ } },
  { name: "a wrong session token", creds: { key: temporary.accessKeyId, secret: temporary.secretAccessKey, token: "wrong" }, expect: { code: "UnrecognizedClientException", message: /security token included in the request is invalid/ } },
  { name: "a clock 20 minutes fast", creds: { key: worker.accessKeyId, secret: worker.secretAccessKey }, skewMinutes: 20, expect: { code: "InvalidSignatureException", message: /^Signature not yet current: / } },
  { name: "a clock 20 minutes slow", creds: { key: worker.accessKeyId, secret: worker.secretAccessKey }, skewMinutes: -20, expect: { code: "InvalidSignatureException", message: /^Signature expired: / } },
];

/** One read-only call per service: boto3 client name, method, CLI command. */
const services = [
  { boto: "swf", method: "list_domains", kwargs: "registrationStatus='REGISTERED'", cli: ["swf", "list-domains", "--registration-status", "REGISTERED"] },
  { boto: "stepfunctions", method: "list_activities", kwargs: "", cli: ["stepfunctions", "list-activities"] },
  { boto: "datapipeline", method: "list_pipelines", kwargs: "", cli: ["datapipeline", "list-pipelines"] },
];

const PY = `
import json, sys, datetime
import boto3, botocore.auth
from botocore.config import Config
from botocore.exceptions import ClientError
url, cases = sys.argv[1], json.loads(sys.argv[2])
real = botocore.auth.get_current_datetime
out = []
for c in cases:
    skew = datetime.timedelta(minutes=c.get("skew", 0))
    botocore.auth.get_current_datetime = lambda remove_tzinfo=True, skew=skew: real(remove_tzinfo) + skew
    client = boto3.client(c["service"], endpoint_url=url, region_name="us-east-1", aws_access_key_id=c["key"], aws_secret_access_key=c["secret"],
                          aws_session_token=c.get("token"), config=Config(retries={"max_attempts": 0}))
    try:
        getattr(client, c["method"])(**c["kwargs"])
        out.append({"ok": True})
    except ClientError as e:
        out.append({"ok": False, "code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]})
print(json.dumps(out))
`;

describe("boto3 and the AWS CLI against --auth sigv4", () => {
  let app: App;
  let server: RunningServer;
  let store: StoreLocation;
  let url = "";
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "taskgate-auth-"));
    const file = join(dir, "principals.json");
    writeFileSync(file, JSON.stringify({ principals: [worker, temporary] }));
    store = freshStore("sqlite");
    const config: Config = { ...defaults, port: 0, database: store.database, longPollSeconds: 0.5, logLevel: "silent", shutdownGraceSeconds: 1, auth: "sigv4", authFile: file };
    const logger = pino({ level: "silent" });
    app = await createApp(config, logger);
    server = await startServer({ config, logger, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
    url = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await store?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("boto3: every variant on every service", async () => {
    const cases = services.flatMap((s) =>
      variants.map((v) => ({
        service: s.boto,
        method: s.method,
        kwargs: s.kwargs === "" ? {} : { registrationStatus: "REGISTERED" },
        key: v.creds.key,
        secret: v.creds.secret,
        ...(v.creds.token === undefined ? {} : { token: v.creds.token }),
        skew: v.skewMinutes ?? 0,
      })),
    );
    const { stdout } = await run("python3", ["-c", PY, url, JSON.stringify(cases)], { timeout: 60_000 });
    const results = JSON.parse(stdout) as { ok: boolean; code?: string; message?: string; status?: number }[];
    let i = 0;
    for (const s of services) {
      for (const v of variants) {
        const r = results[i++];
        const what = `${s.boto} with ${v.name}`;
        if (v.expect === "ok") expect(r, what).toEqual({ ok: true });
        else {
          expect({ code: r.code, status: r.status }, what).toEqual({ code: v.expect.code, status: 400 });
          expect(r.message, what).toMatch(v.expect.message);
        }
      }
    }
  });

  const cliVariants = variants.filter((v) => v.skewMinutes === undefined);
  for (const s of services) {
    it.each(cliVariants.map((v) => [v.name, v] as const))(`aws ${s.cli[0]} ${s.cli[1]} with %s`, async (_name, v) => {
      const env = {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        AWS_CONFIG_FILE: join(dir, "none"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
        AWS_ACCESS_KEY_ID: v.creds.key,
        AWS_SECRET_ACCESS_KEY: v.creds.secret,
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_MAX_ATTEMPTS: "1",
        ...(v.creds.token === undefined ? {} : { AWS_SESSION_TOKEN: v.creds.token }),
      };
      const result = await run("aws", [...s.cli, "--endpoint-url", url, "--output", "json"], { env, timeout: 60_000 }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
      if (v.expect === "ok") {
        expect(result.code, result.stderr).toBe(0);
        expect(() => JSON.parse(result.stdout === "" ? "{}" : result.stdout)).not.toThrow();
      } else {
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(`An error occurred (${v.expect.code})`);
      }
    });
  }
});
