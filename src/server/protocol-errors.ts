// Errors the server itself answers, each in the shape its client reads.
//
// Routes are told apart by Content-Type and path. The Connect routes are
// `/<package>.<Service>/<Method>`; an unknown method or service there gets the protocol's own
// "unimplemented" error, not the AWS JSON route's:
//
//   Content-Type                         answer
//   application/grpc[+proto|+json]       HTTP 200, grpc-status 12 (UNIMPLEMENTED), grpc-message (trailers-only)
//   application/grpc-web[-text][+…]      HTTP 200, grpc-status 12 and grpc-message in the headers (trailers-only)
//   application/connect+proto|+json      HTTP 200, an end-of-stream message {"error":{"code":"unimplemented",…}}
//   application/proto, application/json, none (Connect unary, GET included)
//                                        HTTP 404, {"code":"unimplemented","message":…}
//
// A body declared larger than --max-body-bytes on those routes is refused before it is read, with
// the protocol's standard code for an over-size message, RESOURCE_EXHAUSTED (Connect unary: HTTP
// 429), naming the limit in bytes; the AWS JSON route answers the same with 413.
//
// Requests Node's HTTP/1.1 parser rejects never reach a route; they get a complete response with
// a JSON body readable by both kinds of client (`__type` for AWS SDKs, `code` for Connect). So
// does a request without Host (HTTP/1.1 always; HTTP/1.0 and HTTP/2 on the RPC routes, which
// need an authority), as 400 invalid_argument:
//   malformed request         400  SerializationException / invalid_argument
//   headers over the limit    431  RequestHeaderFieldsTooLargeException / resource_exhausted
//   headers or body too slow  408  RequestTimeoutException / deadline_exceeded
//   chunk extensions too big  413  RequestEntityTooLargeException / resource_exhausted
import type * as http from "node:http";
import type * as http2 from "node:http2";

/** The response objects of both servers, as far as these errors use them. */
export type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;
export type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;

/** The RPC protocol a request speaks, by its Content-Type (and path for plain JSON). */
export type RpcProtocol = "grpc" | "grpc-web" | "connect-stream" | "connect";

/** `/<package>.<Service>/<Method>`: the service's full name and the method's name. */
const RPC_PATH = /^\/((?:[A-Za-z_][A-Za-z0-9_]*\.)+[A-Za-z_][A-Za-z0-9_]*)\/([A-Za-z_][A-Za-z0-9_]*)$/;

/** The service and method a path names, if it has the shape of an RPC path. */
export function rpcPath(path: string): { service: string; method: string } | undefined {
  const m = RPC_PATH.exec(path);
  return m === null ? undefined : { service: m[1], method: m[2] };
}

/**
 * The RPC protocol of a request, or undefined for a request that belongs to the AWS JSON route
 * (or to no route at all): gRPC, gRPC-Web and Connect streaming by Content-Type alone; Connect
 * unary (application/proto, application/json or no Content-Type) only on an RPC-shaped path.
 */
export function rpcProtocol(contentType: string | undefined, path: string): RpcProtocol | undefined {
  const type = (contentType ?? "").split(";", 1)[0].trim().toLowerCase();
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type === "application/grpc" || type.startsWith("application/grpc+")) return "grpc";
  if (type.startsWith("application/connect+")) return "connect-stream";
  if (type === "application/proto") return "connect";
  if ((type === "" || type === "application/json") && rpcPath(path) !== undefined) return "connect";
  return undefined;
}

/** A Connect error code (https://connectrpc.com/docs/protocol#error-codes) and its gRPC number. */
export const rpcCodes = {
  invalid_argument: 3,
  deadline_exceeded: 4,
  resource_exhausted: 8,
  unimplemented: 12,
  internal: 13,
} as const;
export type RpcCode = keyof typeof rpcCodes;

/** HTTP status of a Connect unary error. An unknown route is 404, as for any unmatched path. */
const connectStatus: Record<RpcCode, number> = { invalid_argument: 400, deadline_exceeded: 504, resource_exhausted: 429, unimplemented: 404, internal: 500 };

/** grpc-message: UTF-8, percent-encoded outside printable ASCII (and `%` itself). */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const b of Buffer.from(message, "utf8")) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Writes an RPC error in the protocol's shape and ends the response. */
export function sendRpcError(req: AnyRequest, res: AnyResponse, protocol: RpcProtocol, code: RpcCode, message: string, closeConnection = false): void {
  if (res.headersSent || res.writableEnded) return;
  const requestType = (headerValue(req.headers["content-type"]) ?? "").split(";", 1)[0].trim().toLowerCase();
  const out = res as http.ServerResponse; // both response kinds share these members
  if (closeConnection && req.httpVersionMajor < 2) out.setHeader("connection", "close");
  switch (protocol) {
    case "grpc":
    case "grpc-web": {
      // Trailers-only: the status travels in the one header block, the body is empty.
      out.statusCode = 200;
      out.setHeader("content-type", requestType === "" ? `application/${protocol}+proto` : requestType);
      out.setHeader("grpc-status", String(rpcCodes[code]));
      out.setHeader("grpc-message", encodeGrpcMessage(message));
      if (req.httpVersionMajor < 2) out.setHeader("content-length", "0");
      out.end();
      return;
    }
    case "connect-stream": {
      const json = Buffer.from(JSON.stringify({ error: { code, message } }));
      const envelope = Buffer.alloc(5 + json.length);
      envelope[0] = 0b10; // end-of-stream message
      envelope.writeUInt32BE(json.length, 1);
      json.copy(envelope, 5);
      out.statusCode = 200;
      out.setHeader("content-type", requestType);
      out.setHeader("content-length", String(envelope.length));
      out.end(envelope);
      return;
    }
    case "connect": {
      const body = JSON.stringify({ code, message });
      out.statusCode = connectStatus[code];
      out.setHeader("content-type", "application/json");
      out.setHeader("content-length", String(Buffer.byteLength(body)));
      out.end(body);
      return;
    }
  }
}

/**
 * A request refused before any route saw it (no Host): in the RPC protocol's shape on an RPC
 * request, otherwise 400 with the JSON body of a parser rejection. The connection is closed.
 */
export function sendBadRequest(req: AnyRequest, res: AnyResponse, path: string, message: string): void {
  const protocol = rpcProtocol(headerValue(req.headers["content-type"]), path);
  if (protocol !== undefined) return sendRpcError(req, res, protocol, "invalid_argument", message, true);
  if (res.headersSent || res.writableEnded) return;
  const out = res as http.ServerResponse; // both response kinds share these members
  const body = JSON.stringify({ __type: "com.amazon.coral.service#SerializationException", code: "invalid_argument", message });
  out.statusCode = 400;
  out.setHeader("content-type", "application/json");
  out.setHeader("content-length", String(Buffer.byteLength(body)));
  out.setHeader("x-amzn-ErrorType", "SerializationException");
  if (req.httpVersionMajor < 2) out.setHeader("connection", "close");
  out.end(body);
}

/** The "unimplemented" message for a path no route serves, naming the method and service. */
export function unimplementedMessage(path: string, served: ReadonlySet<string>): string {
  const target = rpcPath(path);
  const list = [...served].join(", ") || "none";
  if (target === undefined) return `no RPC is served at ${JSON.stringify(path)}; RPC paths are /<package>.<Service>/<Method> (services here: ${list})`;
  if (!served.has(target.service)) return `unknown service ${target.service} (method ${target.method}); services here: ${list}`;
  return `method ${target.method} is not implemented by service ${target.service}`;
}

/** The message for a request body over the limit. */
export function tooLargeMessage(declared: number, limit: number): string {
  return `request body of ${declared} bytes is larger than the limit of ${limit} bytes (--max-body-bytes)`;
}

/** The first value of a header as Node gives it (a string, or a list for a repeated name). */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** An error Node's HTTP/1.1 server reports on a connection ('clientError'). */
export interface ClientError extends Error {
  code?: string;
  reason?: string;
}

/** Limits named in parser-error messages. */
export interface ParserLimits {
  /** Largest request head Node accepts (http.maxHeaderSize), in bytes. */
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * The complete HTTP/1.1 response for a request the parser rejected, or undefined when nothing
 * should be written (the client reset the connection).
 */
export function clientErrorResponse(err: ClientError, limits: ParserLimits): string | undefined {
  if (err.code === "ECONNRESET" || err.code === "EPIPE") return undefined;
  let status: number;
  let reasonPhrase: string;
  let type: string;
  let code: RpcCode;
  let message: string;
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      status = 431;
      reasonPhrase = "Request Header Fields Too Large";
      type = "RequestHeaderFieldsTooLargeException";
      code = "resource_exhausted";
      message = `request headers too large; limit ${limits.maxHeaderBytes} bytes`;
      break;
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      status = 413;
      reasonPhrase = "Payload Too Large";
      type = "RequestEntityTooLargeException";
      code = "resource_exhausted";
      message = "chunk extensions of the request body too large";
      break;
    case "ERR_HTTP_REQUEST_TIMEOUT":
      status = 408;
      reasonPhrase = "Request Timeout";
      type = "RequestTimeoutException";
      code = "deadline_exceeded";
      message = `request not received in time: headers are due within ${limits.headersTimeoutMs / 1000} s, the whole request within ${limits.requestTimeoutMs / 1000} s`;
      break;
    default:
      status = 400;
      reasonPhrase = "Bad Request";
      type = "SerializationException";
      code = "invalid_argument";
      message = `malformed HTTP/1.1 request: ${err.reason ?? err.message}${err.code === undefined ? "" : ` (${err.code})`}`;
  }
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, code, message });
  return (
    `HTTP/1.1 ${status} ${reasonPhrase}\r\n` +
    `Content-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `x-amzn-ErrorType: ${type}\r\n` +
    `Connection: close\r\n` +
    `\r\n` +
    body
  );
}
