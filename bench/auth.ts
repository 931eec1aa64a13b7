// The cost of SigV4 verification per request (`npm run bench -- --suite auth`), measured in this
// process on requests signed as the AWS SDK for JavaScript v3 signs them (@smithy/signature-v4:
// nine signed headers, x-amz-content-sha256 sent, so the server hashes the body and compares) and
// as botocore signs them (four signed headers, no x-amz-content-sha256).
//
// Rows: body sizes of 200 bytes (a typical SWF call) and 64 KiB; "key cached" is the steady state
// (the derived signing key is cached per secret, day, region and service), "key derived" pays the
// four HMACs of the key derivation on every request (the first request of a principal each day).
// Each figure is the median of 5 rounds of N verifications (N = 20,000, 2,000 with --quick).
// Two more rows price what --auth sigv4 adds after the signature: one policy evaluation (the
// README's two-statement worker policy, a StringEqualsIfExists condition) and sealing plus opening
// one task token for the caller's account (AES-256-GCM, src/auth/tokens.ts).
import { createHash } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/protocol-http";
import { Hash } from "@smithy/hash-node";
import { SigningKeyCache, verifySigV4, type SignedRequest } from "../src/auth/sigv4.ts";
import { compilePolicy, evaluate } from "../src/auth/policy.ts";
import { open, seal, tokenKey } from "../src/auth/tokens.ts";

const credentials = { accessKeyId: "AKIABENCHMARK0000001", secretAccessKey: "bench-secret-0123456789abcdef" };
const NOW = Date.parse("2026-12-01T12:00:00Z");

async function signedRequest(bodyBytes: number, style: "js" | "botocore"): Promise<SignedRequest> {
  const body = JSON.stringify({ domain: "bench", taskList: { name: "x".repeat(Math.max(0, bodyBytes - 40)) } });
  const signer = new SignatureV4({ credentials, region: "us-east-1", service: "swf", sha256: Hash.bind(null, "sha256") });
  const headers: Record<string, string> =
    style === "js"
      ? {
          host: "127.0.0.1:8080",
          "content-type": "application/x-amz-json-1.0",
          "content-length": String(Buffer.byteLength(body)),
          "x-amz-target": "SimpleWorkflowService.PollForActivityTask",
          "x-amz-user-agent": "aws-sdk-js/3.1048.0",
          "amz-sdk-invocation-id": "00f25b8d-29cc-49a3-9b65-5b47015b804e",
          "amz-sdk-request": "attempt=1; max=3",
          "x-amz-content-sha256": createHash("sha256").update(body).digest("hex"),
        }
      : { host: "127.0.0.1:8080", "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.PollForActivityTask" };
  const out = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: "127.0.0.1", port: 8080, path: "/", headers, body }), { signingDate: new Date(NOW) });
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) lower[k.toLowerCase()] = v;
  return { method: "POST", url: "/", headers: lower, body: Buffer.from(body) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Microseconds per verification: the median of 5 rounds of n verifications. */
function measure(req: SignedRequest, n: number, cacheKeys: boolean): number {
  const lookup = (id: string) => (id === credentials.accessKeyId ? credentials : undefined);
  const rounds: number[] = [];
  for (let r = 0; r < 6; r++) {
    const keys = cacheKeys ? new SigningKeyCache() : undefined;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) verifySigV4(req, { region: "us-east-1", service: "swf", nowMs: NOW, lookup, keys });
    const us = ((performance.now() - t0) * 1000) / n;
    if (r > 0) rounds.push(us); // the first round warms up the JIT
  }
  return median(rounds);
}

/** Runs the measurement, prints its table and returns the figures (µs per verification by row). */
export async function authBench(quick: boolean): Promise<Record<string, number>> {
  const n = quick ? 2_000 : 20_000;
  const rows: [string, number][] = [];
  const results: Record<string, number> = {};
  for (const style of ["js", "botocore"] as const) {
    for (const size of [200, 65_536]) {
      const req = await signedRequest(size, style);
      for (const cached of [true, false]) {
        const us = measure(req, n, cached);
        const name = `${style === "js" ? "JS v3 SDK" : "botocore"}, ${size === 200 ? "200 B" : "64 KiB"} body, key ${cached ? "cached" : "derived"}`;
        rows.push([name, us]);
        results[`sigv4_us_${style}_${size}_${cached ? "cached" : "derived"}`] = us;
      }
    }
  }
  const policy = compilePolicy({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["swf:PollForActivityTask", "swf:RespondActivityTask*"],
        Resource: "arn:aws:swf:*:123456789012:/domain/department1",
        Condition: { StringEqualsIfExists: { "swf:taskList.name": ["mainTaskList", "urgent"] } },
      },
      { Effect: "Allow", Action: "swf:ScheduleActivityTask", Resource: "arn:aws:swf:us-east-1:123456789012:/domain/department1", Condition: { StringLike: { "swf:taskList.name": "safe-*" } } },
    ],
  });
  const request = {
    action: "swf:PollForActivityTask",
    resource: "arn:aws:swf:us-east-1:123456789012:/domain/department1",
    context: { "swf:taskList.name": "urgent", "aws:CurrentTime": new Date(NOW).toISOString(), "aws:SourceIp": "10.0.0.7", "aws:username": "worker" },
  };
  const key = tokenKey([credentials.secretAccessKey]);
  const extra: [string, string, () => void][] = [
    ["policy evaluation (2 statements, 1 condition)", "policy_us_evaluate", () => void evaluate([policy], request)],
    ["task token sealed and opened", "token_us_seal_open", () => void open(seal("h8jTEb_eQuIRLcL30wFV_oYg", "123456789012", key), "123456789012", [key])],
  ];
  for (const [name, id, fn] of extra) {
    const rounds: number[] = [];
    for (let r = 0; r < 6; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      if (r > 0) rounds.push(((performance.now() - t0) * 1000) / n);
    }
    rows.push([name, median(rounds)]);
    results[id] = median(rounds);
  }
  const width = Math.max(...rows.map(([r]) => r.length));
  console.log(`\nSigV4 verification per request (this process, node ${process.version}, median of 5 x ${n})`);
  for (const [name, us] of rows) console.log(`  ${name.padEnd(width)}  ${us.toFixed(1).padStart(7)} µs  (${Math.round(1e6 / us).toLocaleString("en-US")} /s on one core)`);
  return results;
}
