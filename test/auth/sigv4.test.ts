// SigV4 verification: AWS's published test suite, the failures AWS answers (as data), and
// agreement with the AWS SDK's own signer (@smithy/signature-v4) on random requests.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SignatureV4 } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/protocol-http";
import { Hash } from "@smithy/hash-node";
import { AuthFailure } from "../../src/auth/errors.ts";
import { SigningKeyCache, amzDate, uriEncode, verifySigV4, type SignedRequest, type SigningCredentials } from "../../src/auth/sigv4.ts";

interface SuiteCase {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}
interface Suite {
  credentials: Required<SigningCredentials>;
  region: string;
  service: string;
  now: string;
  cases: SuiteCase[];
}

const suite = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/sigv4/aws-test-suite.json"), "utf8")) as Suite;

function failure(f: () => unknown): { type: string; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof AuthFailure) return { type: e.fault.type, message: e.fault.message };
    throw e;
  }
  throw new Error("expected an AuthFailure");
}

describe("AWS SigV4 test suite", () => {
  const keys = new SigningKeyCache();
  const verify = (c: SuiteCase, signature?: string) => {
    const headers = { ...c.headers };
    if (signature !== undefined) headers.authorization = headers.authorization.replace(/Signature=[0-9a-f]+/, `Signature=${signature}`);
    const withToken = headers["x-amz-security-token"] !== undefined;
    const principal = withToken ? suite.credentials : { accessKeyId: suite.credentials.accessKeyId, secretAccessKey: suite.credentials.secretAccessKey };
    return verifySigV4({ method: c.method, url: c.url, headers, body: Buffer.from(c.body ?? "") }, {
      region: suite.region,
      service: suite.service,
      nowMs: Date.parse(suite.now),
      lookup: (id) => (id === principal.accessKeyId ? principal : undefined),
      keys,
    });
  };

  it.each(suite.cases.map((c) => [c.name, c] as const))("%s verifies", (_name, c) => {
    expect(verify(c).accessKeyId).toBe("AKIDEXAMPLE");
  });

  it.each(suite.cases.map((c) => [c.name, c] as const))("%s with one signature digit changed is InvalidSignatureException", (_name, c) => {
    const sig = /Signature=([0-9a-f]+)/.exec(c.headers.authorization)?.[1] ?? "";
    const flipped = `${sig.slice(0, 10)}${sig[10] === "0" ? "1" : "0"}${sig.slice(11)}`;
    const f = failure(() => verify(c, flipped));
    expect(f.type).toBe("InvalidSignatureException");
    expect(f.message).toMatch(/^The request signature we calculated does not match the signature you provided\./);
  });
});

// ---- failures, as data

const creds = { accessKeyId: "AKIDEXAMPLE00000", secretAccessKey: "secret-secret-secret" };
const tokenCreds = { accessKeyId: "AKIDTOKEN0000000", secretAccessKey: "another-secret-key", sessionToken: "session-token-1" };
const NOW = Date.parse("2026-03-04T05:06:07Z");

async function signed(opts: { body?: string; at?: number; credentials?: SigningCredentials; region?: string; service?: string; headers?: Record<string, string>; checksum?: boolean } = {}): Promise<SignedRequest & { body: Buffer }> {
  const body = opts.body ?? '{"domain":"d"}';
  const signer = new SignatureV4({
    credentials: opts.credentials ?? creds,
    region: opts.region ?? "us-east-1",
    service: opts.service ?? "swf",
    sha256: Hash.bind(null, "sha256"),
    applyChecksum: opts.checksum ?? false,
  });
  const req = new HttpRequest({
    method: "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    port: 8080,
    path: "/",
    headers: { host: "127.0.0.1:8080", "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.DescribeDomain", ...opts.headers },
    body,
  });
  const out = await signer.sign(req, { signingDate: new Date(opts.at ?? NOW) });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) headers[k.toLowerCase()] = v;
  return { method: "POST", url: "/", headers, body: Buffer.from(body) };
}

const lookup = (id: string): SigningCredentials | undefined => (id === creds.accessKeyId ? creds : id === tokenCreds.accessKeyId ? tokenCreds : undefined);

function check(req: SignedRequest, over: { region?: string; service?: string; nowMs?: number } = {}) {
  return verifySigV4(req, { region: over.region ?? "us-east-1", service: over.service ?? "swf", nowMs: over.nowMs ?? NOW, lookup });
}

type Mutation = (r: SignedRequest & { body: Buffer }) => SignedRequest;
const setHeader =
  (name: string, value: string | undefined): Mutation =>
  (r) => {
    const headers = { ...r.headers };
    if (value === undefined) delete headers[name];
    else headers[name] = value;
    return { ...r, headers };
  };
const editAuth =
  (f: (a: string) => string): Mutation =>
  (r) => ({ ...r, headers: { ...r.headers, authorization: f(String(r.headers.authorization)) } });

const failures: { name: string; sign?: Parameters<typeof signed>[0]; mutate?: Mutation; verify?: Parameters<typeof check>[1]; type: string; message: RegExp }[] = [
  { name: "no Authorization header", mutate: setHeader("authorization", undefined), type: "MissingAuthenticationTokenException", message: /^Request is missing Authentication Token$/ },
  { name: "another algorithm", mutate: editAuth((a) => a.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")), type: "IncompleteSignatureException", message: /Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'/ },
  { name: "no Signature parameter", mutate: editAuth((a) => a.replace(/, Signature=[0-9a-f]+/, "")), type: "IncompleteSignatureException", message: /Authorization header requires 'Signature' parameter\./ },
  { name: "no Credential parameter", mutate: editAuth((a) => a.replace(/Credential=[^,]+, /, "")), type: "IncompleteSignatureException", message: /Authorization header requires 'Credential' parameter\./ },
  { name: "no SignedHeaders parameter", mutate: editAuth((a) => a.replace(/SignedHeaders=[^,]+, /, "")), type: "IncompleteSignatureException", message: /requires 'SignedHeaders' parameter/ },
  { name: "no date header", mutate: setHeader("x-amz-date", undefined), type: "IncompleteSignatureException", message: /requires existence of either a 'X-Amz-Date' or a 'Date' header/ },
  { name: "credential of 4 parts", mutate: editAuth((a) => a.replace("/swf/aws4_request", "/aws4_request")), type: "IncompleteSignatureException", message: /Credential must have exactly 5 slash-delimited elements/ },
  { name: "malformed X-Amz-Date", mutate: setHeader("x-amz-date", "2026-03-04T05:06:07Z"), type: "IncompleteSignatureException", message: /Date must be in ISO-8601 'basic format'/ },
  { name: "wrong terminator", mutate: editAuth((a) => a.replace("aws4_request", "aws4_reqest")), type: "InvalidSignatureException", message: /valid terminator: 'aws4_request', not 'aws4_reqest'/ },
  { name: "scope date differs from X-Amz-Date", mutate: editAuth((a) => a.replace("/20260304/", "/20260303/")), type: "InvalidSignatureException", message: /Date in Credential scope does not match YYYYMMDD.*'20260303' != '20260304', from '20260304T050607Z'/ },
  { name: "signed for another region", sign: { region: "eu-west-1" }, type: "InvalidSignatureException", message: /^Credential should be scoped to a valid region, not 'eu-west-1'\. $/ },
  { name: "signed for another service", sign: { service: "states" }, type: "InvalidSignatureException", message: /^Credential should be scoped to correct service: 'swf'\. $/ },
  {
    name: "16 minutes old",
    sign: { at: NOW - 16 * 60_000 },
    type: "InvalidSignatureException",
    message: /^Signature expired: 20260304T045007Z is now earlier than 20260304T045107Z \(20260304T050607Z - 15 min\.\)$/,
  },
  {
    name: "16 minutes ahead",
    sign: { at: NOW + 16 * 60_000 },
    type: "InvalidSignatureException",
    message: /^Signature not yet current: 20260304T052207Z is still later than 20260304T052107Z \(20260304T050607Z \+ 15 min\.\)$/,
  },
  { name: "an unknown access key", sign: { credentials: { accessKeyId: "AKIDUNKNOWN00000", secretAccessKey: "x" } }, type: "UnrecognizedClientException", message: /^The security token included in the request is invalid\.$/ },
  { name: "a wrong secret", sign: { credentials: { ...creds, secretAccessKey: "wrong-secret-wrong" } }, type: "InvalidSignatureException", message: /Check your AWS Secret Access Key and signing method/ },
  { name: "session token missing", sign: { credentials: { accessKeyId: tokenCreds.accessKeyId, secretAccessKey: tokenCreds.secretAccessKey } }, type: "UnrecognizedClientException", message: /security token included in the request is invalid/ },
  { name: "session token wrong", sign: { credentials: { ...tokenCreds, sessionToken: "session-token-2" } }, type: "UnrecognizedClientException", message: /security token included in the request is invalid/ },
  { name: "a session token the principal does not have", sign: { credentials: { ...creds, sessionToken: "unexpected" } }, type: "UnrecognizedClientException", message: /security token included in the request is invalid/ },
  { name: "host not signed", mutate: editAuth((a) => a.replace(/SignedHeaders=([^,]*)host;/, "SignedHeaders=$1")), type: "InvalidSignatureException", message: /'Host' or ':authority' must be a 'SignedHeader'/ },
  { name: "body changed after signing", mutate: (r) => ({ ...r, body: Buffer.from('{"domain":"e"}') }), type: "InvalidSignatureException", message: /The Canonical String for this request should have been/ },
  { name: "x-amz-content-sha256 not the body's hash", sign: { checksum: true }, mutate: (r) => ({ ...r, body: Buffer.from("{}") }), type: "InvalidSignatureException", message: /'x-amz-content-sha256' header does not match/ },
  { name: "a signed header changed", mutate: setHeader("x-amz-target", "SimpleWorkflowService.DeprecateDomain"), type: "InvalidSignatureException", message: /does not match the signature you provided/ },
  { name: "no body hash where the body is not available", mutate: (r) => ({ ...r, body: undefined }), type: "IncompleteSignatureException", message: /requires the 'x-amz-content-sha256' header/ },
];

describe("SigV4 failures answer AWS's errors", () => {
  it.each(failures.map((f) => [f.name, f] as const))("%s", async (_name, f) => {
    const req = await signed(f.sign);
    // Every case must verify before its one change.
    if (f.mutate !== undefined && f.sign?.checksum !== true) expect(check(req).accessKeyId).toBeDefined();
    const got = failure(() => check(f.mutate ? f.mutate(req) : req, f.verify));
    expect(got.type).toBe(f.type);
    expect(got.message).toMatch(f.message);
  });

  it("accepts a session token when the principal has it, and the Date header in place of X-Amz-Date", async () => {
    expect(check(await signed({ credentials: tokenCreds })).accessKeyId).toBe(tokenCreds.accessKeyId);
    // 15 minutes either way is still accepted.
    expect(check(await signed({ at: NOW - 15 * 60_000 })).accessKeyId).toBe(creds.accessKeyId);
    expect(check(await signed({ at: NOW + 15 * 60_000 })).accessKeyId).toBe(creds.accessKeyId);
    expect(amzDate(NOW)).toBe("20260304T050607Z");
  });

  it("trusts x-amz-content-sha256 (UNSIGNED-PAYLOAD included) only where the body is not available", async () => {
    const req = await signed({ headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
    expect(check({ ...req, body: undefined }).accessKeyId).toBe(creds.accessKeyId);
    expect(failure(() => check(req)).type).toBe("InvalidSignatureException");
  });
});

// ---- agreement with the SDK's signer

/** A deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("agrees with @smithy/signature-v4 on random requests", () => {
  const rnd = prng(20261201);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const alphabet = "abcXYZ019-_.~ !*'()%/+=&?,;:@$ሴé";
  const text = (max: number): string => Array.from({ length: Math.floor(rnd() * max) }, () => pick([...alphabet])).join("");

  it("verifies 300 requests and refuses each after one change", async () => {
    for (let i = 0; i < 300; i++) {
      const query: Record<string, string | string[]> = {};
      for (let q = Math.floor(rnd() * 4); q > 0; q--) {
        const k = text(6) || "k";
        query[k] = rnd() < 0.2 ? [text(5), text(5)] : text(8);
      }
      const headers: Record<string, string> = { host: pick(["127.0.0.1:8080", "localhost", "example.amazonaws.com"]) };
      for (let h = Math.floor(rnd() * 4); h > 0; h--) headers[`x-test-${h}`] = ` ${text(10).replace(/[^\x20-\x7e]/g, "a")}  v `;
      const body = rnd() < 0.3 ? "" : text(200);
      const path = pick(["/", "/taskgate.swf.v1.SimpleWorkflowService/DescribeDomain", "/a/b/", "/a b/c"]);
      const service = pick(["swf", "states", "datapipeline"]);
      const region = pick(["us-east-1", "eu-west-2"]);
      const at = NOW + Math.floor((rnd() - 0.5) * 20 * 60_000);
      const secret = `secret-${i}-${text(12)}`;
      const signer = new SignatureV4({ credentials: { accessKeyId: "AKIDRANDOM000000", secretAccessKey: secret }, region, service, sha256: Hash.bind(null, "sha256"), applyChecksum: rnd() < 0.5 });
      const out = await signer.sign(new HttpRequest({ method: pick(["GET", "POST", "PUT"]), protocol: "http:", hostname: "h", path, query, headers, body }), { signingDate: new Date(at) });
      const raw = Object.entries(query)
        .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${uriEncode(k)}=${uriEncode(x)}`))
        .join("&");
      const lower: Record<string, string> = {};
      for (const [k, v] of Object.entries(out.headers)) lower[k.toLowerCase()] = v;
      const req: SignedRequest = { method: out.method, url: `${path.replace(/ /g, "%20")}${raw === "" ? "" : `?${raw}`}`, headers: lower, body: Buffer.from(body) };
      const principal = { accessKeyId: "AKIDRANDOM000000", secretAccessKey: secret };
      const opts = { region, service, nowMs: NOW, lookup: (id: string) => (id === principal.accessKeyId ? principal : undefined) };
      // The SDK signs the path as given ("/a b/c"), its wire form is percent-encoded: only the
      // encoded form is a valid request target, and the canonical URI encodes it once more.
      if (path.includes(" ")) continue;
      expect(verifySigV4(req, opts), `request ${i}`).toBe(principal);
      const changed: SignedRequest = { ...req, body: Buffer.concat([Buffer.from(body), Buffer.from("x")]) };
      expect(failure(() => verifySigV4(changed, opts)).type).toBe("InvalidSignatureException");
    }
  });
});
