// Cross-origin requests from browsers (CORS, https://fetch.spec.whatwg.org/#http-cors-protocol)
// on every route of the shared port: Connect, gRPC-Web and the AWS JSON route.
//
// Off unless --cors-origins names origins: then no response carries a CORS header and an OPTIONS
// request is routed as any other request. With origins configured, for a request that carries
// `Origin`:
//   - an allowed origin gets `Access-Control-Allow-Origin` (the origin itself; `*` when only the
//     wildcard allows it), on a preflight (OPTIONS with Access-Control-Request-Method, answered
//     204 here and never routed) also the methods, request headers and max age, and on an actual
//     request the response headers a script may read. Credentials (cookies, HTTP auth) are
//     allowed for origins listed exactly, never through `*`;
//   - a refused origin gets no CORS header (the browser then blocks the response); its preflight
//     is answered 403.
// Every response of a CORS-enabled server says `Vary: Origin`, since its headers depend on it.
import { cors as connectCors } from "@connectrpc/connect";

/** Which origins may call, built once from config.corsOrigins. */
export interface CorsPolicy {
  /** Exact origins as browsers send them (`https://app.example.com`). */
  readonly exact: ReadonlySet<string>;
  /** Whether `*` was configured: any other origin is allowed too, without credentials. */
  readonly any: boolean;
}

/** The policy of a configured origin list; undefined (CORS off) when the list is empty. */
export function corsPolicy(origins: readonly string[]): CorsPolicy | undefined {
  if (origins.length === 0) return undefined;
  return { exact: new Set(origins.filter((o) => o !== "*")), any: origins.includes("*") };
}

/** Methods a page may use: those of the Connect protocols (POST, GET); the AWS route is POST. */
export const CORS_ALLOWED_METHODS: readonly string[] = [...new Set([...connectCors.allowedMethods, "POST"])];

/**
 * Request headers a page may send: the Connect, gRPC-Web and gRPC lists published by
 * `@connectrpc/connect`, and what the AWS SDKs send on the AWS JSON route. Header names a
 * preflight asks for that start with `x-amz-` or `amz-sdk-` are allowed too (the SDKs add more
 * over time).
 */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  ...new Set([
    ...connectCors.allowedHeaders.map((h) => h.toLowerCase()),
    "content-type",
    "authorization",
    "x-amz-target",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
  ]),
];

/** Prefixes of further request headers a preflight may ask for (AWS SDK headers). */
const ALLOWED_HEADER_PREFIXES = ["x-amz-", "amz-sdk-"];

/**
 * Response headers a page may read besides the CORS-safelisted ones: the gRPC-Web status and
 * error details and the Connect encodings published by `@connectrpc/connect`, the AWS route's
 * request id and error type, and `date` (the AWS SDKs correct their clock skew from it when a
 * signature is refused as expired).
 */
export const CORS_EXPOSED_HEADERS: readonly string[] = [
  ...new Set([...connectCors.exposedHeaders.map((h) => h.toLowerCase()), "grpc-status", "grpc-message", "grpc-status-details-bin", "x-amzn-requestid", "x-amzn-errortype", "date"]),
];

/** How long a browser may cache a preflight's answer, in seconds (Chromium caps it at 7200). */
export const CORS_MAX_AGE_SECONDS = 7200;

/** What a request needs from CORS, decided from its method and headers alone. */
export type CorsDecision =
  /** CORS off, or no Origin header: nothing to add. */
  | { readonly kind: "none" }
  /** A preflight: answer it with `status` and `headers` (empty on 403), and route it no further. */
  | { readonly kind: "preflight"; readonly status: 204 | 403; readonly headers: Readonly<Record<string, string>> }
  /** An actual request: add `headers` to its response, whatever the route answers. */
  | { readonly kind: "actual"; readonly headers: Readonly<Record<string, string>> };

/** The request headers CORS reads (Node's lower-case names). */
export interface CorsRequestHeaders {
  readonly origin?: string | string[];
  readonly "access-control-request-method"?: string | string[];
  readonly "access-control-request-headers"?: string | string[];
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Decides what CORS adds to a request (pure: a function of the policy, the method and the headers). */
export function corsDecision(policy: CorsPolicy | undefined, method: string | undefined, headers: CorsRequestHeaders): CorsDecision {
  if (policy === undefined) return { kind: "none" };
  const origin = one(headers.origin);
  const preflight = method === "OPTIONS" && one(headers["access-control-request-method"]) !== undefined;
  const vary = { vary: "Origin" };
  // Without Origin it is no CORS request (nor a preflight): routed as it is.
  if (origin === undefined) return { kind: "actual", headers: vary };
  const exact = policy.exact.has(origin);
  if (!exact && !policy.any) return preflight ? { kind: "preflight", status: 403, headers: vary } : { kind: "actual", headers: vary };
  const allow: Record<string, string> = { ...vary, "access-control-allow-origin": exact ? origin : "*" };
  if (exact) allow["access-control-allow-credentials"] = "true";
  if (!preflight) return { kind: "actual", headers: { ...allow, "access-control-expose-headers": CORS_EXPOSED_HEADERS.join(", ") } };
  const requested = (one(headers["access-control-request-headers"]) ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== "" && !CORS_ALLOWED_HEADERS.includes(h) && ALLOWED_HEADER_PREFIXES.some((p) => h.startsWith(p)));
  return {
    kind: "preflight",
    status: 204,
    headers: {
      ...allow,
      "access-control-allow-methods": CORS_ALLOWED_METHODS.join(", "),
      "access-control-allow-headers": [...CORS_ALLOWED_HEADERS, ...new Set(requested)].join(", "),
      "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
    },
  };
}
