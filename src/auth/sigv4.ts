// AWS Signature Version 4 verification of one HTTP request (AWS4-HMAC-SHA256 in the
// Authorization header; presigned URLs are not accepted).
//
// The canonical request is built from the headers the Authorization header names (never a fixed
// list), the normalized and URI-encoded path, the sorted canonical query, and the payload hash:
// SHA-256 of the body when `x-amz-content-sha256` is absent, and checked against the body when it
// is present. Where the caller cannot hand over the body (the Connect/gRPC routes, whose bodies
// are streams), `x-amz-content-sha256` is required and taken as given (`UNSIGNED-PAYLOAD` too).
//
// Checks, in order, each answered as AWS answers it (errors.ts): Authorization present
// (MissingAuthenticationToken); algorithm, Credential, SignedHeaders, Signature and a date header
// present and well formed (IncompleteSignature); credential scope terminator, date, region and
// service (InvalidSignature); the request time within 15 minutes of the server's clock
// (InvalidSignature "Signature expired" / "Signature not yet current"); `host` (or `:authority`)
// signed (InvalidSignature); the access key known and the session token right
// (UnrecognizedClient: a principal with a session token requires `x-amz-security-token` equal to
// it, one without refuses any); the payload hash; the signature, compared in constant time
// (InvalidSignature with the canonical request and string to sign, as AWS reports them).
//
// The derived signing key is cached per (secret, date, region, service): a request costs two
// SHA-256 hashes and one HMAC after the first of the day.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { AuthFailure, incompleteSignature, invalidSignature, missingAuthenticationToken, signatureMismatchMessage, unrecognizedClient } from "./errors.ts";

/** The request as received: method, raw target (path and query), headers with lower-case names, and the raw body when available. */
export interface SignedRequest {
  readonly method: string;
  /** The request target exactly as sent, e.g. `/` or `/pkg.Service/Method?x=1`. */
  readonly url: string;
  /** Lower-case names, as Node gives them; HTTP/2's `:authority` stands in for a missing `host`. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The body, or undefined when it cannot be hashed here (then `x-amz-content-sha256` is required and trusted). */
  readonly body: Uint8Array | undefined;
}

/** The secret half of a principal's credentials. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** When set, every request must carry it as `x-amz-security-token`. */
  readonly sessionToken?: string;
}

/** What a request must be signed for, the clock, and where access keys are looked up. */
export interface VerifyOptions<P extends SigningCredentials> {
  /** The region in the credential scope (taskgate's --region). */
  readonly region: string;
  /** The service in the credential scope: `swf`, `states` or `datapipeline`. */
  readonly service: string;
  /** The server's clock, epoch milliseconds. */
  readonly nowMs: number;
  /** The principal of an access key id, or undefined when none has it. */
  readonly lookup: (accessKeyId: string) => P | undefined;
  /** Signing keys already derived (shared across requests). */
  readonly keys?: SigningKeyCache;
}

/** Largest accepted difference between the request's date and the server's clock: 15 minutes, as AWS. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

const ALGORITHM = "AWS4-HMAC-SHA256";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** RFC 3986 encoding as SigV4 spells it: everything but A-Z a-z 0-9 - _ . ~ percent-encoded, upper-case hex. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeLenient(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The canonical URI: `.` and `..` and empty segments removed, then URI-encoded with `/` kept. */
export function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") segments.pop();
    else segments.push(seg);
  }
  const normalized = `${path.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
  return uriEncode(normalized === "" ? "/" : normalized).replace(/%2F/g, "/");
}

/** The canonical query: each name and value decoded then URI-encoded, sorted by name then value; X-Amz-Signature left out. */
export function canonicalQuery(query: string): string {
  if (query === "") return "";
  const pairs: [string, string][] = [];
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = uriEncode(decodeLenient(eq < 0 ? part : part.slice(0, eq)));
    if (name.toLowerCase() === "x-amz-signature") continue;
    pairs.push([name, uriEncode(decodeLenient(eq < 0 ? "" : part.slice(eq + 1)))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function headerText(headers: SignedRequest["headers"], name: string): string | undefined {
  const v = headers[name] ?? (name === "host" ? headers[":authority"] : undefined);
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : v.join(",");
}

/** The canonical request of SigV4 for the given signed header names and payload hash. */
export function canonicalRequest(req: Pick<SignedRequest, "method" | "url" | "headers">, signedHeaders: readonly string[], payloadHash: string): string {
  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? "" : req.url.slice(q + 1);
  let headers = "";
  for (const name of signedHeaders) headers += `${name}:${(headerText(req.headers, name) ?? "").trim().replace(/\s+/g, " ")}\n`;
  return `${req.method.toUpperCase()}\n${canonicalUri(path)}\n${canonicalQuery(query)}\n${headers}\n${signedHeaders.join(";")}\n${payloadHash}`;
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Derived SigV4 signing keys by (secret, date, region, service); bounded, cleared when full. */
export class SigningKeyCache {
  readonly #keys = new Map<string, Buffer>();
  readonly #max: number;

  /** `max`: most keys held before the cache starts over (default 4096). */
  constructor(max = 4096) {
    this.#max = max;
  }

  /** The signing key of a secret for one day, region and service. */
  key(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${date}\u0000${region}\u0000${service}\u0000${secret}`;
    let k = this.#keys.get(id);
    if (k === undefined) {
      k = deriveSigningKey(secret, date, region, service);
      if (this.#keys.size >= this.#max) this.#keys.clear();
      this.#keys.set(id, k);
    }
    return k;
  }
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac("sha256", `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update(service).digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

/** The parts of an AWS4-HMAC-SHA256 Authorization header. */
export interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Reads an Authorization header; throws AuthFailure (IncompleteSignature) naming what is missing. */
export function parseAuthorization(header: string, hasDate: boolean): ParsedAuthorization {
  const sp = header.indexOf(" ");
  const algorithm = sp < 0 ? header : header.slice(0, sp);
  if (algorithm !== ALGORITHM) throw incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm}'. Sign requests with ${ALGORITHM} (Signature Version 4).`);
  const params = new Map<string, string>();
  for (const part of header.slice(sp + 1).split(",")) {
    const p = part.trim();
    const eq = p.indexOf("=");
    if (eq > 0) params.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const missing: string[] = [];
  for (const name of ["Credential", "Signature", "SignedHeaders"]) if (!params.get(name)) missing.push(`Authorization header requires '${name}' parameter.`);
  if (!hasDate) missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (missing.length > 0) throw incompleteSignature(`${missing.join(" ")} Authorization=${header}`);
  const credential = params.get("Credential") ?? "";
  const scope = credential.split("/");
  if (scope.length !== 5) throw incompleteSignature(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  const signature = params.get("Signature") ?? "";
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incompleteSignature(`Signature must be 64 lower-case hexadecimal characters, got '${signature}'`);
  return {
    accessKeyId: scope[0],
    date: scope[1],
    region: scope[2],
    service: scope[3],
    terminator: scope[4],
    signedHeaders: (params.get("SignedHeaders") ?? "").split(";").map((h) => h.trim().toLowerCase()),
    signature,
  };
}

/** `yyyyMMddTHHmmssZ` of an epoch-milliseconds time. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** The request time: X-Amz-Date (ISO 8601 basic) or else Date (HTTP date), as the basic form and epoch ms. */
function requestTime(req: SignedRequest): { text: string; ms: number } {
  const x = headerText(req.headers, "x-amz-date");
  if (x !== undefined) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(x.trim());
    const ms = m === null ? NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    if (Number.isNaN(ms)) throw incompleteSignature(`Date must be in ISO-8601 'basic format'. Got '${x}'. See http://en.wikipedia.org/wiki/ISO_8601`);
    return { text: x.trim(), ms };
  }
  const d = headerText(req.headers, "date") ?? "";
  const ms = Date.parse(d);
  if (Number.isNaN(ms)) throw incompleteSignature(`Date must be an HTTP date or X-Amz-Date must be in ISO-8601 'basic format'. Got '${d}'.`);
  return { text: amzDate(ms), ms };
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * Verifies the SigV4 signature of a request and returns the principal whose access key signed
 * it. Throws AuthFailure with AWS's error name and message for every failure (file comment).
 */
export function verifySigV4<P extends SigningCredentials>(req: SignedRequest, opts: VerifyOptions<P>): P {
  const header = headerText(req.headers, "authorization");
  if (header === undefined || header.trim() === "") throw missingAuthenticationToken();
  const hasDate = headerText(req.headers, "x-amz-date") !== undefined || headerText(req.headers, "date") !== undefined;
  const auth = parseAuthorization(header.trim(), hasDate);
  const time = requestTime(req);
  if (auth.terminator !== "aws4_request") throw invalidSignature(`Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator}'.`);
  if (auth.date !== time.text.slice(0, 8)) {
    throw invalidSignature(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${time.text.slice(0, 8)}', from '${time.text}'.`);
  }
  if (auth.region !== opts.region) throw invalidSignature(`Credential should be scoped to a valid region, not '${auth.region}'. `);
  if (auth.service !== opts.service) throw invalidSignature(`Credential should be scoped to correct service: '${opts.service}'. `);
  if (time.ms < opts.nowMs - MAX_SKEW_MS) {
    throw invalidSignature(`Signature expired: ${time.text} is now earlier than ${amzDate(opts.nowMs - MAX_SKEW_MS)} (${amzDate(opts.nowMs)} - 15 min.)`);
  }
  if (time.ms > opts.nowMs + MAX_SKEW_MS) {
    throw invalidSignature(`Signature not yet current: ${time.text} is still later than ${amzDate(opts.nowMs + MAX_SKEW_MS)} (${amzDate(opts.nowMs)} + 15 min.)`);
  }
  if (!auth.signedHeaders.includes("host") && !auth.signedHeaders.includes(":authority")) {
    throw invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const principal = opts.lookup(auth.accessKeyId);
  if (principal === undefined) throw unrecognizedClient();
  const token = headerText(req.headers, "x-amz-security-token");
  if (principal.sessionToken === undefined ? token !== undefined : token === undefined || !sameSecret(token, principal.sessionToken)) throw unrecognizedClient();

  const declared = headerText(req.headers, "x-amz-content-sha256")?.trim();
  let payloadHash: string;
  if (req.body === undefined) {
    if (declared === undefined) throw incompleteSignature("This route requires the 'x-amz-content-sha256' header (the body's SHA-256 in hex, or UNSIGNED-PAYLOAD), signed.");
    payloadHash = declared;
  } else {
    payloadHash = req.body.length === 0 ? EMPTY_SHA256 : sha256Hex(req.body);
    if (declared !== undefined && declared !== payloadHash) throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const creq = canonicalRequest(req, auth.signedHeaders, payloadHash);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${time.text}\n${scope}\n${sha256Hex(creq)}`;
  const key = opts.keys?.key(principal.secretAccessKey, auth.date, auth.region, auth.service) ?? deriveSigningKey(principal.secretAccessKey, auth.date, auth.region, auth.service);
  const expected = createHmac("sha256", key).update(stringToSign).digest();
  const given = Buffer.from(auth.signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalidSignature(`${signatureMismatchMessage}\n\nThe Canonical String for this request should have been\n'${creq}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`);
  }
  return principal;
}

/** Whether an error is an authentication failure of this module. */
export function isAuthFailure(e: unknown): e is AuthFailure {
  return e instanceof AuthFailure;
}
