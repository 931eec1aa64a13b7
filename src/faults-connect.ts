// Faults on the Connect/gRPC routes: a `Fault` becomes a ConnectError whose code is the fault's
// Connect code and whose details carry a taskgate.common.v1.Fault naming the AWS fault, so a
// Connect client learns the same name (`UnknownResourceFault`) an AWS client reads from `__type`.
// Anything that is neither a Fault nor a ConnectError is an internal failure: its cause stays in
// the server (ConnectError.cause is never serialized) and the client gets a generic message.
//
// Malformed requests are the client's error, on every protocol (connectRoutes below):
//   - connect-es answers a binary message it cannot parse (truncated, bad wire type, invalid
//     UTF-8 in a string) and a Connect GET whose `message` is not base64 with Code.Internal, before
//     any interceptor runs. connectRoutes wraps each method's handler: an internal or unknown error
//     answered before the implementation was reached is re-encoded in the same protocol (Connect
//     unary JSON error body, gRPC trailers, gRPC-Web trailer frame) as invalid_argument with a
//     SerializationException Fault detail. For streaming methods, whose input is read inside the
//     interceptors, createFaultInterceptor turns errors of reading the input into the same.
//   - JSON messages (Connect, gRPC and gRPC-Web with +json) are read by parseJsonBody (strict
//     UTF-8, no lone surrogates, nesting at most 100) and checked against the method's input
//     descriptor before protobuf-es parses them: an unknown field and an enum value the
//     descriptor lacks are refused by name (connect-es would ignore both by default, and the
//     service would then report a required member as null). An unknown field's message names
//     the message type, its fields and the closest of them; an enum value spelled as AWS spells
//     it (`REGISTERED` for `REGISTRATION_STATUS_REGISTERED`) is refused with the proto name to
//     send instead (read as it is, it would mean something on the JSON routes that the binary
//     ones cannot carry). A Connect GET's query must be valid percent-encoded UTF-8
//     (URLSearchParams would turn `%FF` into U+FFFD).
//   - A Content-Type the method does not read (415) and an HTTP method it does not take (405),
//     answered by connect-es with an empty body, get a Connect error body saying what it accepts.
import { Code, ConnectError, createContextKey, createContextValues } from "@connectrpc/connect";
import type { ConnectRouter, ContextValues, HandlerContext, Interceptor, MethodImpl, StreamResponse } from "@connectrpc/connect";
import { ScalarType } from "@bufbuild/protobuf";
import type { DescField, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { createAsyncIterable, encodeEnvelope } from "@connectrpc/connect/protocol";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { deliveryKey } from "./request/delivery.ts";
import { FaultSchema } from "../gen/taskgate/common/v1/options_pb.ts";
import { coralViolation, Fault, internalFailure, notAJsonObject, parseJsonBody, quoted, serializationError, wrongJsonType } from "./faults.ts";

/** The ConnectError a failure is sent as. A ConnectError passes through unchanged. */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const fault = e instanceof Fault ? e : internalFailure(e);
  return new ConnectError(
    fault.message,
    Code[fault.code],
    undefined,
    [{ desc: FaultSchema, value: { name: fault.type, namespace: fault.namespace, message: fault.message } }],
    fault.cause ?? fault,
  );
}

/** The AWS fault a ConnectError carries in its details (for clients and tests). */
export function faultFromConnectError(e: ConnectError): { name: string; namespace: string; message: string } | undefined {
  const f = e.findDetails(FaultSchema)[0];
  return f === undefined ? undefined : { name: f.name, namespace: f.namespace, message: f.message };
}

async function* translateErrors<T>(source: AsyncIterable<T>, onInternal: ((cause: unknown) => void) | undefined): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (e) {
    throw translate(e, onInternal);
  }
}

function translate(e: unknown, onInternal: ((cause: unknown) => void) | undefined): ConnectError {
  if (onInternal !== undefined && !(e instanceof ConnectError) && (!(e instanceof Fault) || e.status >= 500)) {
    onInternal(e instanceof Fault ? (e.cause ?? e) : e);
  }
  return toConnectError(e);
}

/**
 * A server-side interceptor that turns every error of a handler (unary, or a streaming handler
 * while it produces messages) into toConnectError(e). `onInternal` sees the cause of each
 * internal failure (a non-Fault error, or a Fault with status >= 500) so it can be logged.
 */
export function createFaultInterceptor(onInternal?: (cause: unknown) => void): Interceptor {
  // Not an async function: a held long poll keeps one reaction on its call's promise rather than
  // a suspended frame of this interceptor.
  return (next) => (req) => {
    reached(req.contextValues);
    // A streaming method's input is parsed while the handler reads it: a message that cannot be
    // parsed is the client's error.
    if (req.stream) req = { ...req, message: translateInput(req.message, req.method.input) };
    const values = req.contextValues;
    const failed = (e: unknown): never => {
      // An error answer carries no task: anything claimed for this request goes back to its queue.
      values.get(deliveryKey)?.undelivered();
      throw translate(e, onInternal);
    };
    let pending: ReturnType<typeof next>;
    try {
      pending = next(req);
    } catch (e) {
      return Promise.reject(e).catch(failed);
    }
    return pending.then((res) => {
      if (!res.stream) return res;
      const wrapped: StreamResponse = { ...res, message: translateErrors(res.message, onInternal) };
      return wrapped;
    }, failed);
  };
}

/** createFaultInterceptor() without a hook for internal failures. */
export const faultInterceptor: Interceptor = createFaultInterceptor();

// ---------------------------------------------------------------------------------------------
// Malformed requests

/** Whether the request reached the interceptors and the implementation (set per request by connectRoutes). */
const reachedKey = createContextKey<{ reached: boolean } | undefined>(undefined, { description: "taskgate: the request reached its implementation" });

function reached(values: ContextValues): void {
  const probe = values.get(reachedKey);
  if (probe) probe.reached = true;
}

/** Whether a code means connect-es failed on its own (a parse failure it does not classify). */
function isUnclassified(code: Code): boolean {
  return code === Code.Internal || code === Code.Unknown;
}

/** The SerializationException a malformed message of `input` is answered with. */
function malformed(input: DescMessage, problem: string): ConnectError {
  const detail = problem.replace(/^parse binary: /, "");
  return toConnectError(serializationError(`The request is not a valid ${input.typeName} message: ${detail === "internal error" ? "it could not be decoded" : detail}.`));
}

async function* translateInput<T>(source: AsyncIterable<T>, input: DescMessage): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (e) {
    if (e instanceof ConnectError && !isUnclassified(e.code)) throw e;
    throw malformed(input, e instanceof ConnectError ? e.rawMessage : e instanceof Error ? e.message : String(e));
  }
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (body) for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The same response with a body iterable that runs `after` once the body is through (before trailers are sent). */
function afterBody(res: UniversalServerResponse, after: () => void): UniversalServerResponse {
  const body = res.body;
  after();
  return {
    ...res,
    body: (async function* () {
      if (body) yield* body;
      after();
    })(),
  };
}

/** The error a Connect GET carries when its `message` parameter is not base64 (connect-es reports "internal error"). */
function getProblem(req: UniversalServerRequest, problem: string): string {
  if (req.method !== "GET" || problem !== "internal error") return problem;
  const q = new URL(req.url).searchParams;
  if (q.get("base64") === "1" && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(q.get("message") ?? "")) return "the message query parameter is not base64";
  return problem;
}

/**
 * Re-encodes a response connect-es gave before the implementation was reached: an internal or
 * unknown error there is a request it could not decode, answered as invalid_argument in the
 * response's own protocol. Any other response is returned as it is.
 */
async function clientFault(method: DescMethod, req: UniversalServerRequest, res: UniversalServerResponse, onMalformed: ((e: ConnectError) => void) | undefined): Promise<UniversalServerResponse> {
  const replace = (err: ConnectError): ConnectError => {
    const e = malformed(method.input, getProblem(req, err.rawMessage));
    onMalformed?.(e);
    return e;
  };
  const contentType = res.header?.get("content-type") ?? "";
  // gRPC: the status is in the trailers, complete once the body is through.
  if (res.trailer !== undefined) {
    const trailer = res.trailer;
    return afterBody(res, () => {
      const err = findTrailerError(trailer);
      if (err === undefined || !isUnclassified(err.code)) return;
      for (const k of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) trailer.delete(k);
      setTrailerStatus(trailer, replace(err));
    });
  }
  // gRPC-Web: the status is in the trailer frame that ends the body.
  if (contentType.startsWith("application/grpc-web")) {
    const bytes = await readAll(res.body);
    const out: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; ) {
      if (at + 5 > bytes.length) {
        out.push(bytes.subarray(at));
        break;
      }
      const flags = bytes[at];
      const end = Math.min(bytes.length, at + 5 + new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0));
      let frame = bytes.subarray(at, end);
      if ((flags & trailerFlag) !== 0 && (flags & 1) === 0) {
        const trailer = trailerParse(frame.subarray(5));
        const err = findTrailerError(trailer);
        if (err !== undefined && isUnclassified(err.code)) {
          for (const k of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) trailer.delete(k);
          frame = encodeEnvelope(trailerFlag, trailerSerialize(setTrailerStatus(trailer, replace(err))));
        }
      }
      out.push(frame);
      at = end;
    }
    return { ...res, body: createAsyncIterable([Buffer.concat(out)]) };
  }
  // Connect unary: an HTTP error status with a JSON error body.
  if (res.status < 500 || !contentType.startsWith("application/json") || res.header?.has("content-encoding")) return res;
  const bytes = await readAll(res.body);
  let code: unknown;
  try {
    code = (JSON.parse(new TextDecoder().decode(bytes)) as { code?: unknown }).code;
  } catch {
    // not an error body connect-es wrote: left as it is
  }
  if (code !== "internal" && code !== "unknown") return { ...res, body: createAsyncIterable([bytes]) };
  const body = errorToJsonBytes(replace(errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Internal))), {});
  const header = new Headers(res.header);
  header.set("content-length", String(body.byteLength));
  return { ...res, status: codeToHttpStatus(Code.InvalidArgument), header, body: createAsyncIterable([body]) };
}

/**
 * Whether every name and value of a URL's query is valid percent-encoded UTF-8. connect-es reads
 * a GET's `message` with URLSearchParams, which turns invalid sequences into U+FFFD: `%FF` and
 * `%FE` would name the same thing.
 */
function strictQuery(url: string): boolean {
  const q = url.indexOf("?");
  if (q < 0) return true;
  const hash = url.indexOf("#", q);
  for (const part of url.slice(q + 1, hash < 0 ? undefined : hash).split("&")) {
    try {
      decodeURIComponent(part);
    } catch {
      return false;
    }
  }
  return true;
}

/** A Connect unary error response (a GET is always Connect unary). */
function connectUnaryError(e: ConnectError): UniversalServerResponse {
  const body = errorToJsonBytes(e, {});
  return {
    status: codeToHttpStatus(e.code),
    header: new Headers({ "content-type": "application/json", "content-length": String(body.byteLength) }),
    body: createAsyncIterable([body]),
  };
}

/**
 * The Content-Types a method's routes read: Connect (unary: application/json and
 * application/proto; streaming: application/connect+json and application/connect+proto), gRPC
 * over HTTP/2 and gRPC-Web, each in the binary and the JSON codec.
 */
export function acceptedContentTypes(method: DescMethod): string[] {
  const connect = method.methodKind === "unary" ? ["application/json", "application/proto"] : ["application/connect+json", "application/connect+proto"];
  return [...connect, "application/grpc", "application/grpc+proto", "application/grpc+json", "application/grpc-web", "application/grpc-web+proto", "application/grpc-web+json"];
}

/**
 * connect-es answers a Content-Type it does not read with 415 and a method it does not take with
 * 405, both with an empty body. The same statuses, with a Connect error body that says what the
 * method accepts, and `Accept-Post` / `Allow` headers (RFC 9110 §15.5.16, RFC 7694).
 */
function explainRefusal(h: UniversalHandler, req: UniversalServerRequest, res: UniversalServerResponse): UniversalServerResponse {
  const path = new URL(req.url).pathname;
  const header = new Headers({ "content-type": "application/json" });
  let message: string;
  if (res.status === 405) {
    const get = h.allowedMethods.includes("GET");
    header.set("allow", h.allowedMethods.join(", "));
    message = `HTTP method '${quoted(req.method)}' is not allowed for ${path}: send POST${get ? " (or GET with ?connect=v1&encoding=json&message=<the request as URL-encoded JSON>, for this method has no side effects)" : ""}.`;
  } else {
    const types = acceptedContentTypes(h.method);
    const sent = req.header.get("content-type");
    header.set("accept-post", types.join(", "));
    const connect = h.method.methodKind === "unary" ? "application/json (proto JSON) or application/proto (binary)" : "application/connect+json or application/connect+proto";
    message =
      `${sent === null || sent === "" ? "The request has no Content-Type" : `Content-Type '${quoted(sent)}' is not supported`} for ${path}. ` +
      `Connect clients and curl send ${connect}; gRPC clients application/grpc, application/grpc+proto or application/grpc+json (over HTTP/2); ` +
      `gRPC-Web clients application/grpc-web, application/grpc-web+proto or application/grpc-web+json.`;
  }
  const body = errorToJsonBytes(new ConnectError(message, Code.InvalidArgument), {});
  header.set("content-length", String(body.byteLength));
  return { status: res.status, header, body: createAsyncIterable([body]) };
}

/** A method's handler that answers requests connect-es cannot decode as the client's error. */
function guarded(h: UniversalHandler, onMalformed: ((e: ConnectError) => void) | undefined): UniversalHandler {
  const handle = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    if (req.method === "GET" && h.allowedMethods.includes("GET") && !strictQuery(req.url)) {
      const e = malformed(h.method.input, "the query string is not valid percent-encoded UTF-8");
      onMalformed?.(e);
      return connectUnaryError(e);
    }
    const probe = { reached: false };
    const contextValues = req.contextValues ?? createContextValues();
    contextValues.set(reachedKey, probe);
    const res = await h({ ...req, contextValues });
    if (probe.reached) return res;
    if (res.status === 415 || res.status === 405) return explainRefusal(h, req, res);
    return clientFault(h.method, req, res, onMalformed);
  };
  return Object.assign(handle, {
    protocolNames: h.protocolNames,
    service: h.service,
    method: h.method,
    requestPath: h.requestPath,
    allowedMethods: h.allowedMethods,
    supportedContentType: h.supportedContentType,
  });
}

// ---- JSON messages

interface JsonFields {
  /** By JSON name and by proto name, as protobuf-es accepts both. */
  readonly byName: ReadonlyMap<string, DescField>;
  readonly names: readonly string[];
}

const jsonFieldCache = new WeakMap<DescMessage, JsonFields>();

function jsonFields(desc: DescMessage): JsonFields {
  let f = jsonFieldCache.get(desc);
  if (!f) {
    const byName = new Map<string, DescField>();
    for (const field of desc.fields) {
      byName.set(field.jsonName, field);
      byName.set(field.name, field);
    }
    f = { byName, names: desc.fields.map((x) => x.jsonName) };
    jsonFieldCache.set(desc, f);
  }
  return f;
}

type ItemKind =
  | { readonly kind: "scalar"; readonly scalar: ScalarType }
  | { readonly kind: "enum"; readonly values: readonly { readonly name: string; readonly localName: string; readonly number: number }[] }
  | { readonly kind: "message"; readonly message: DescMessage };

function itemKind(field: DescField): ItemKind {
  switch (field.fieldKind) {
    case "scalar":
      return { kind: "scalar", scalar: field.scalar };
    case "enum":
      return { kind: "enum", values: field.enum.values };
    case "message":
      return { kind: "message", message: field.message };
    case "list":
      return field.listKind === "scalar" ? { kind: "scalar", scalar: field.scalar } : field.listKind === "enum" ? { kind: "enum", values: field.enum.values } : { kind: "message", message: field.message };
    case "map":
      return field.mapKind === "scalar" ? { kind: "scalar", scalar: field.scalar } : field.mapKind === "enum" ? { kind: "enum", values: field.enum.values } : { kind: "message", message: field.message };
  }
}

/** Letters and digits of a name, upper-cased: `REGISTRATION_STATUS_REGISTERED`, `registrationStatus` and `Registration-Status` compare alike. */
function fold(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, "").toUpperCase();
}

/** Edit distance of two short strings (field names): insertions, deletions, substitutions and swaps of neighbours count 1. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The field name `key` most likely meant, comparing names by letters and digits regardless of
 * case (`task_list`, `TaskList` and `taskList` compare alike): one equal to it; else the only one
 * that begins with it or that it begins with; else the nearest by edit distance, if within a
 * third of the name's length (at least 1, at most 3), the first declared on a tie. Undefined when
 * none is that close.
 */
export function closestName(key: string, names: readonly string[]): string | undefined {
  const k = fold(key);
  if (k === "") return undefined;
  const same = names.find((n) => fold(n) === k);
  if (same !== undefined) return same;
  const prefixed = names.filter((n) => fold(n).startsWith(k) || k.startsWith(fold(n)));
  if (prefixed.length === 1) return prefixed[0];
  const limit = Math.min(3, Math.max(1, Math.floor(k.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const n of names) {
    const d = editDistance(k, fold(n));
    if (d < bestDistance) {
      best = n;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * What to add to the message of an enum value the enum lacks: when `v` is the value's name
 * without the enum's prefix (AWS's spelling, `REGISTERED` for `REGISTRATION_STATUS_REGISTERED`),
 * or differs from one only in case and separators, the proto name to send instead. These
 * spellings are refused rather than read, so that a request means the same on every RPC client;
 * the AWS JSON route (`POST /` with `X-Amz-Target`) reads AWS's spellings.
 */
function enumHint(values: readonly { readonly name: string; readonly localName: string; readonly number: number }[], v: string): string {
  const folded = fold(v);
  const match = values.filter((x) => x.number !== 0 && (fold(x.localName) === folded || fold(x.name) === folded));
  if (match.length !== 1) return " (proto enum value names, or their numbers)";
  return `. The Connect and gRPC routes take proto enum value names: send '${match[0].name}' (or ${match[0].number}) for '${quoted(v)}'; AWS's spellings are read on the AWS JSON route`;
}

function checkJsonItem(item: ItemKind, v: unknown, path: string): void {
  switch (item.kind) {
    case "scalar":
      switch (item.scalar) {
        case ScalarType.STRING:
        case ScalarType.BYTES:
          if (typeof v !== "string") throw wrongJsonType(path, "a string", v);
          return;
        case ScalarType.BOOL:
          if (typeof v !== "boolean") throw wrongJsonType(path, "true or false", v);
          return;
        default:
          if (typeof v !== "number" && typeof v !== "string") throw wrongJsonType(path, "a number", v);
          return;
      }
    case "enum":
      if (typeof v === "number") return; // open enums: the service checks the number
      if (typeof v !== "string") throw wrongJsonType(path, "an enum value name", v);
      if (!item.values.some((x) => x.name === v)) {
        const names = item.values.filter((x) => x.number !== 0).map((x) => x.name);
        throw coralViolation(quoted(v), path, `Member must satisfy enum value set: [${names.join(", ")}]${enumHint(item.values, v)}`);
      }
      return;
    case "message":
      // Well-known types have their own JSON forms (a Timestamp is an RFC 3339 string); protobuf-es checks them.
      if (item.message.typeName.startsWith("google.protobuf.")) return;
      checkJsonMessage(item.message, v, path);
      return;
  }
}

/**
 * Checks a JSON value against a message descriptor: an object whose members are fields of the
 * message (by JSON or proto name), with values of the field's JSON type and enum values the enum
 * has. Recursion is bounded by the nesting limit parseJsonBody already enforced.
 */
function checkJsonMessage(desc: DescMessage, v: unknown, path: string): void {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    if (path === "") throw notAJsonObject(v);
    throw wrongJsonType(path, "an object", v);
  }
  const fields = jsonFields(desc);
  const obj = v as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const at = path === "" ? key : `${path}.${key}`;
    const field = fields.byName.get(key);
    if (field === undefined) {
      const guess = closestName(key, fields.names);
      const hint = guess === undefined ? "" : ` Did you mean '${guess}'?`;
      throw serializationError(`Unknown field '${quoted(at)}': ${desc.typeName} has no field '${quoted(key)}'.${hint} Its fields are ${fields.names.join(", ")}.`);
    }
    const value = obj[key];
    if (value === null) continue; // null means absent
    const item = itemKind(field);
    if (field.fieldKind === "list") {
      if (!Array.isArray(value)) throw wrongJsonType(at, "an array", value);
      for (let i = 0; i < value.length; i++) {
        const x: unknown = value[i];
        if (x === null) throw wrongJsonType(`${at}.${i + 1}.member`, "a value", x);
        checkJsonItem(item, x, `${at}.${i + 1}.member`);
      }
    } else if (field.fieldKind === "map") {
      if (typeof value !== "object" || Array.isArray(value)) throw wrongJsonType(at, "an object", value);
      const map = value as Record<string, unknown>;
      for (const k of Object.keys(map)) checkJsonItem(item, map[k], `${at}.${k}`);
    } else {
      checkJsonItem(item, value, at);
    }
  }
}

/**
 * The JSON options of one method's routes: its JSON messages are read by parseJsonBody and
 * checked against its input descriptor (see the file comment); protobuf-es then parses the text,
 * refusing unknown fields itself too.
 */
function jsonOptionsFor(input: DescMessage) {
  return {
    ignoreUnknownFields: false,
    textDecoder: {
      decode(data: Uint8Array): string {
        try {
          const { text, value } = parseJsonBody(data);
          checkJsonMessage(input, value, "");
          return text;
        } catch (e) {
          throw e instanceof Fault ? toConnectError(e) : e;
        }
      },
    },
  };
}

/** What connectRoutes mounts: a service descriptor and its implementation. */
export interface ConnectService {
  readonly desc: DescService;
  readonly impl: object;
}

/**
 * The `routes` of connectNodeAdapter for `services`: every method of every service, each with the
 * JSON reading described in the file comment and a handler that answers requests connect-es
 * cannot decode as invalid_argument instead of internal. `onMalformed` sees each such answer (for
 * a debug log line). The interceptors and limits are the adapter's own options.
 */
export function connectRoutes(services: readonly ConnectService[], onMalformed?: (e: ConnectError) => void): (router: ConnectRouter) => void {
  return (router) => {
    for (const { desc, impl } of services) {
      for (const method of desc.methods) {
        const fn: unknown = (impl as Record<string, unknown>)[method.localName];
        const call = (req: unknown, ctx: HandlerContext): unknown => {
          reached(ctx.values);
          if (typeof fn !== "function") throw new ConnectError(`${desc.typeName}.${method.name} is not implemented`, Code.Unimplemented);
          return (fn as (r: unknown, c: HandlerContext) => unknown).call(impl, req, ctx);
        };
        router.rpc(method, call as unknown as MethodImpl<DescMethod>, { jsonOptions: jsonOptionsFor(method.input) });
        const i = router.handlers.length - 1;
        router.handlers[i] = guarded(router.handlers[i], onMalformed);
      }
    }
  };
}
