// A lean server path for the unary RPCs on the Connect, gRPC and gRPC-Web routes. connect-es runs
// every call through a pipeline of async iterables: a poll held for a minute kept about 30 KiB of
// heap in it (measured with 20,000 held polls), and every short call allocated about 45 KiB in it,
// which, at a few thousand calls a second, made the young generation's collections long enough to
// show in dispatch latency. This path reads the request, calls the same bound implementation
// behind the same interceptors and writes the answer with connect-es's own protocol helpers, so
// what stays alive while a call waits is the call itself.
//
// Scope and fallbacks (everything else is connect-es, unchanged):
// - Taken: POST to a unary method with Content-Type application/grpc[+proto|+json],
//   application/grpc-web[+proto|+json], or application/proto / application/json (Connect unary).
//   Anything else (GET, gRPC-Web text, streaming methods) goes to connect-es untouched.
// - A request this path cannot take as it is (more or less than one message, a body over the
//   read limit, an unknown compression, a bad timeout header, a message that does not parse) is
//   replayed through connect-es's own handler of the method with the bytes already read, so
//   every such answer (codes, messages, the malformed-request rules of faults-connect.ts) is the
//   one connect-es gives.
// - Once the message parsed, the call is as connect-es makes it: the adapter's interceptors in
//   order, the deadline (grpc-timeout, connect-timeout-ms) on the handler's signal and in
//   timeoutMs(), the signal aborted when the client goes away, the deadline passes, the server's
//   shutdown signal fires, or the call ends; responses, errors (status, message, details,
//   metadata), compression and trailers encoded as connect-es encodes them.
import { create, isMessage, type DescMessage, type DescMethod, type DescMethodUnary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, createContextValues, type ConnectRouter, type ContextValues, type HandlerContext, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, connectNodeAdapter, universalRequestFromNodeRequest, universalResponseToNodeResponse, type ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import {
  compressedFlag,
  compressionNegotiate,
  createMethodSerializationLookup,
  encodeEnvelope,
  envelopeCompress,
  validateUniversalHandlerOptions,
  type Compression,
  type MethodSerializationLookup,
  type UniversalHandler,
} from "@connectrpc/connect/protocol";
import * as connectProtocol from "@connectrpc/connect/protocol-connect";
import * as grpcProtocol from "@connectrpc/connect/protocol-grpc";
import * as grpcWebProtocol from "@connectrpc/connect/protocol-grpc-web";
import { headerValue } from "./protocol-errors.ts";
import * as http2 from "node:http2";
import type { IncomingHttpHeaders } from "node:http";

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type NodeRequest = Parameters<NodeHandler>[0];
type NodeResponse = Parameters<NodeHandler>[1];
type AnyMethod = DescMethodUnary<DescMessage, DescMessage>;
type Next = (req: UnaryRequest) => Promise<UnaryResponse>;

/** The three wire protocols this path speaks. */
type Wire = "grpc" | "grpc-web" | "connect";

/** What the path keeps per unary method, built once. */
interface LeanMethod {
  readonly method: AnyMethod;
  readonly serialization: MethodSerializationLookup<DescMessage, DescMessage>;
  readonly readMaxBytes: number;
  readonly compressMinBytes: number;
  readonly maxTimeoutMs: number;
  readonly acceptCompression: Compression[];
  readonly jsonOptions: Parameters<typeof connectProtocol.errorToJsonBytes>[1];
  /** The interceptors around the implementation, composed once. */
  readonly next: Next;
  /** connect-es's handler of the method (the adapter's own, with faults-connect.ts's rules): replays. */
  handler: UniversalHandler | undefined;
}

/** HTTP/2 reset codes that abort a call with a reason, as connect-node maps them (others abort without one). */
const resetCodes: ReadonlyMap<number, { name: string; code: Code }> = new Map([
  [0x1, { name: "PROTOCOL_ERROR", code: Code.Internal }],
  [0x2, { name: "INTERNAL_ERROR", code: Code.Internal }],
  [0x3, { name: "FLOW_CONTROL_ERROR", code: Code.Internal }],
  [0x4, { name: "SETTINGS_TIMEOUT", code: Code.Internal }],
  [0x6, { name: "FRAME_SIZE_ERROR", code: Code.Internal }],
  [0x7, { name: "REFUSED_STREAM", code: Code.Unavailable }],
  [0x8, { name: "CANCEL", code: Code.Canceled }],
  [0x9, { name: "COMPRESSION_ERROR", code: Code.Internal }],
  [0xa, { name: "CONNECT_ERROR", code: Code.Internal }],
  [0xb, { name: "ENHANCE_YOUR_CALM", code: Code.ResourceExhausted }],
  [0xc, { name: "INADEQUATE_SECURITY", code: Code.PermissionDenied }],
  [0xd, { name: "HTTP_1_1_REQUIRED", code: Code.PermissionDenied }],
]);

/** A request header by name (any case), as connect-es's Headers.get reads it. */
function header(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v) ?? null;
}

/** The request's Headers as connect-node builds them (pseudo-headers left out). */
function webHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(":") || v === undefined) continue;
    if (typeof v === "string") out.append(k, v);
    else if (typeof v === "number") out.append(k, String(v));
    else for (const e of v) out.append(k, e);
  }
  return out;
}

/** Node's header object of a Headers (repeated names as arrays). */
function nodeHeaders(h: Headers, into: Record<string, string | string[]>): Record<string, string | string[]> {
  h.forEach((value, key) => {
    const prev = into[key];
    into[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  });
  return into;
}

/** Where the interceptors' innermost step finds the call (interceptors may copy the request, never its values). */
const leanCallKey = createContextKey<LeanCall | undefined>(undefined, { description: "taskgate lean unary call" });

/** The request's URL as connect-node reports it (scheme by the connection, authority from :authority or Host). */
function urlOf(req: NodeRequest): string {
  const encrypted = "encrypted" in req.socket && req.socket.encrypted === true;
  const authority = "authority" in req ? req.authority : req.headers.host;
  return new URL(req.url ?? "", `${encrypted ? "https" : "http"}://${authority}`).toString();
}

/** The first value of a header in Node's raw list (`[name, value, name, value, …]`, HTTP/2 names in lower case). */
function rawValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i] === name) return raw[i + 1];
  return undefined;
}

/** A raw HTTP/2 request's URL, as urlOf reports it for the same request through the compatibility API. */
function streamUrlOf(stream: http2.ServerHttp2Stream, headers: IncomingHttpHeaders | readonly string[]): string {
  const encrypted = stream.session?.encrypted === true;
  const get = (name: string): string | undefined => (isRaw(headers) ? rawValue(headers, name) : headerValue(headers[name]));
  return new URL(get(":path") ?? "", `${encrypted ? "https" : "http"}://${get(":authority") ?? get("host")}`).toString();
}

function isRaw(headers: IncomingHttpHeaders | readonly string[]): headers is readonly string[] {
  return Array.isArray(headers);
}

/**
 * The raw list of a request that names no header twice (then Node's header object holds the
 * same names and values, and webHeaders() of it equals rawWebHeaders() of the list), else the
 * header object.
 */
function compactHeaders(headers: IncomingHttpHeaders, raw: readonly string[]): IncomingHttpHeaders | readonly string[] {
  for (let i = 2; i < raw.length; i += 2) for (let j = 0; j < i; j += 2) if (raw[i] === raw[j]) return headers;
  return raw;
}

/** The Headers webHeaders() makes of the header object of a request whose raw list names no header twice. */
function rawWebHeaders(raw: readonly string[]): Headers {
  const out = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i].startsWith(":")) out.append(raw[i], raw[i + 1]);
  return out;
}

/**
 * Where a call's answer goes: a request of the compatibility API or of HTTP/1.1 (`req`/`res`), or
 * a raw HTTP/2 stream (`stream`, with response headers to add, e.g. CORS). A raw stream's call
 * keeps the request's raw header list rather than Node's header object made of it (a dictionary
 * of about 450 bytes) when the two say the same (compactHeaders): the Headers and URL are made
 * of it if something asks.
 */
type Io =
  | { readonly req: NodeRequest; readonly res: NodeResponse; readonly stream?: undefined }
  | { readonly stream: http2.ServerHttp2Stream; readonly headers: IncomingHttpHeaders | readonly string[]; readonly extraHeaders: Readonly<Record<string, string>> | undefined; readonly req?: undefined };

/**
 * One call on the lean path: the HandlerContext its implementation receives, and what its answer
 * needs. Headers objects and the URL are made only when something reads them (the
 * implementations do not), so a held poll keeps little besides its signal.
 */
class LeanCall implements HandlerContext {
  readonly method: AnyMethod;
  readonly service: HandlerContext["service"];
  readonly protocolName: Wire;
  readonly requestMethod = "POST";
  values: ContextValues;
  readonly lean: LeanMethod;
  readonly binary: boolean;
  readonly io: Io;
  /** The negotiated response compression (none: null). */
  readonly compression: Compression | null;
  readonly #controller = new AbortController();
  readonly #deadline: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #requestHeader: Headers | undefined;
  #responseHeader: Headers | undefined;
  #responseTrailer: Headers | undefined;

  constructor(m: LeanMethod, wire: Wire, binary: boolean, io: Io, values: ContextValues, compression: Compression | null, timeoutMs: number | undefined) {
    this.method = m.method;
    this.service = m.method.parent;
    this.protocolName = wire;
    this.lean = m;
    this.binary = binary;
    this.io = io;
    this.values = values;
    this.compression = compression;
    if (timeoutMs !== undefined) {
      this.#deadline = Date.now() + timeoutMs;
      this.#timer = setTimeout(() => this.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)), timeoutMs);
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get url(): string {
    const io = this.io;
    return io.stream === undefined ? urlOf(io.req) : streamUrlOf(io.stream, io.headers);
  }

  get requestHeader(): Headers {
    const io = this.io;
    return (this.#requestHeader ??= io.stream === undefined ? webHeaders(io.req.headers) : isRaw(io.headers) ? rawWebHeaders(io.headers) : webHeaders(io.headers));
  }

  get responseHeader(): Headers {
    return (this.#responseHeader ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.#responseTrailer ??= new Headers());
  }

  /** Response headers set by an interceptor or the implementation, if any. */
  get extraHeader(): Headers | undefined {
    return this.#responseHeader;
  }

  /** Response trailers set by an interceptor or the implementation, if any. */
  get extraTrailer(): Headers | undefined {
    return this.#responseTrailer;
  }

  timeoutMs(): number | undefined {
    return this.#deadline === undefined ? undefined : this.#deadline - Date.now();
  }

  /** Ends the call's signal (idempotent) and its deadline timer. */
  abort(reason?: unknown): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** The response closed: before the answer, the client went away (HTTP/2: with the stream's reset code as the reason). */
  closed(): void {
    const io = this.io;
    const stream = io.stream ?? ("stream" in io.req ? io.req.stream : undefined);
    const reset = stream === undefined ? undefined : resetCodes.get(stream.rstCode);
    this.abort(reset === undefined || stream === undefined ? undefined : new ConnectError(`http/2 stream closed with error code ${reset.name} (0x${stream.rstCode.toString(16)})`, reset.code));
  }
}

/** Where the request's url and header are read from: the call, on first use (copies made with spread read them then). */
const callOf = Symbol("lean call");
const requestAccessors: PropertyDescriptorMap = {
  url: {
    enumerable: true,
    get(this: { [callOf]: LeanCall }): string {
      return this[callOf].url;
    },
  },
  header: {
    enumerable: true,
    get(this: { [callOf]: LeanCall }): Headers {
      return this[callOf].requestHeader;
    },
  },
};

/** The request a unary interceptor sees. */
function unaryRequest(call: LeanCall, message: unknown): UnaryRequest {
  const r = { [callOf]: call, stream: false, service: call.service, method: call.method, requestMethod: call.requestMethod, signal: call.signal, contextValues: call.values, message };
  return Object.defineProperties(r, requestAccessors) as unknown as UnaryRequest;
}

/**
 * Calls taken by the lean path in this process, those of them replayed through connect-es, and
 * those taken from a raw HTTP/2 stream (for tests and diagnostics).
 */
export const leanUnaryCounts = { served: 0, replayed: 0, rawStreams: 0 };

/**
 * connectNodeAdapter with the lean path in front for the unary RPCs (see the file
 * comment). Takes the same options; every request the lean path does not take goes to the adapter
 * built from them, and a request it replays goes to that adapter's handler of its method.
 */
export function leanUnaryAdapter(options: ConnectNodeAdapterOptions): LeanUnaryHandler {
  // connect-node's default, set here so that both paths negotiate the same encodings.
  const acceptCompression = options.acceptCompression ?? [compressionGzip, compressionBrotli];
  const prefix = options.requestPathPrefix ?? "";
  const lean = new Map<string, LeanMethod>();
  const pending: { path: string; index: number }[] = [];
  const routes = options.routes;
  const adapter = connectNodeAdapter({
    ...options,
    acceptCompression,
    routes: (router: ConnectRouter) => {
      const rpc = router.rpc.bind(router);
      router.rpc = ((method: DescMethod, impl: unknown, rpcOptions?: Parameters<ConnectRouter["rpc"]>[2]) => {
        rpc(method, impl as never, rpcOptions);
        // Every unary method takes the lean path; streaming methods stay with connect-es.
        if (method.methodKind !== "unary" || typeof impl !== "function") return router;
        const opt = validateUniversalHandlerOptions({ ...options, acceptCompression, ...rpcOptions });
        const m = method as AnyMethod;
        const fn = impl as (req: unknown, ctx: HandlerContext) => unknown;
        // The innermost step, as connect-es's: the implementation with the call as its context, its
        // result made a message of the output type.
        // (Not an async function: its frame would stay alive for the whole wait.)
        const call: Next = (req) => {
          const ctx = req.contextValues.get(leanCallKey) as LeanCall;
          ctx.values = req.contextValues;
          return Promise.resolve(fn(req.message, ctx)).then((out) => {
            const message = isMessage(out, m.output) ? out : create(m.output, out as MessageInitShape<DescMessage>);
            return { stream: false, service: m.parent, method: m, header: ctx.responseHeader, trailer: ctx.responseTrailer, message };
          });
        };
        const path = `${prefix}/${m.parent.typeName}/${m.name}`;
        lean.set(path, {
          method: m,
          serialization: createMethodSerializationLookup(m, opt.binaryOptions, opt.jsonOptions, opt),
          readMaxBytes: opt.readMaxBytes,
          compressMinBytes: opt.compressMinBytes,
          maxTimeoutMs: opt.maxTimeoutMs,
          acceptCompression: opt.acceptCompression,
          jsonOptions: opt.jsonOptions,
          // The first interceptor outermost, as connect-es applies them.
          next: [...opt.interceptors].reverse().reduce<Next>((n, i) => i(n as never) as unknown as Next, call),
          handler: undefined,
        });
        pending.push({ path, index: router.handlers.length - 1 });
        return router;
      }) as ConnectRouter["rpc"];
      routes(router);
      // Read once every route is in: a route may replace its handler after rpc() returned.
      for (const p of pending) {
        const m = lean.get(p.path);
        if (m) m.handler = router.handlers[p.index];
      }
    },
  });

  /** Calls in progress, aborted together when the server's shutdown signal fires. */
  const open = new Set<LeanCall>();
  const shutdown = options.shutdownSignal;
  shutdown?.addEventListener("abort", () => {
    for (const c of open) c.abort(shutdown.reason);
  });

  const handler: NodeHandler = (req, res) => {
    const m = req.method === "POST" ? lean.get((req.url ?? "").split("?", 2)[0]) : undefined;
    const wire = m === undefined ? undefined : wireOf(header(req.headers, "content-type"));
    if (m === undefined || m.handler === undefined || wire === undefined) {
      adapter(req, res);
      return;
    }
    const values = options.contextValues?.(req) ?? createContextValues();
    readBody(req, m.readMaxBytes + 5).then(
      (read) => serve(m, wire, req.headers, { req, res }, read, values, open, shutdown, () => ({ req, res })),
      () => {
        // the request broke while it was read: the client is gone, there is no one to answer
      },
    );
  };
  return Object.assign(handler, {
    route(headers: IncomingHttpHeaders): LeanRoute | undefined {
      if (headers[":method"] !== "POST") return undefined;
      const m = lean.get((headerValue(headers[":path"]) ?? "").split("?", 2)[0]);
      if (m === undefined || m.handler === undefined) return undefined;
      const wire = wireOf(header(headers, "content-type"));
      return wire === undefined ? undefined : { method: m, wire: wire.wire, binary: wire.binary };
    },
    serveStream(route: LeanRoute, stream: http2.ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[], values: ContextValues, extraHeaders: Readonly<Record<string, string>> | undefined): void {
      const m = route.method;
      leanUnaryCounts.rawStreams++;
      stream.on("error", ignore);
      readBody(stream, m.readMaxBytes + 5).then(
        (read) => serve(m, route, headers, { stream, headers: compactHeaders(headers, rawHeaders), extraHeaders }, read, values, open, shutdown, () => compatOf(stream, headers, rawHeaders, extraHeaders)),
        () => {
          // the stream broke while it was read: the client is gone, there is no one to answer
        },
      );
    },
    streamClosed(stream: http2.ServerHttp2Stream): void {
      rawCalls.get(stream)?.closed();
    },
  });
}

/** A lean unary call recognised by its request headers alone (LeanUnaryHandler.route). */
export interface LeanRoute {
  readonly method: LeanMethod;
  readonly wire: Wire;
  readonly binary: boolean;
}

/**
 * The handler leanUnaryAdapter returns: the request handler of Node's compatibility API and
 * HTTP/1.1, and the same lean path served from a raw HTTP/2 stream (no compatibility objects are
 * made for a held poll, which saves about 4 KiB per held poll).
 */
export interface LeanUnaryHandler extends NodeHandler {
  /** The lean route of an HTTP/2 request by its headers (POST to a unary method, a Content-Type the path takes), or undefined. */
  route(headers: IncomingHttpHeaders): LeanRoute | undefined;
  /**
   * Serves a raw HTTP/2 stream whose request route() recognised, as the compatibility request
   * would be served: the answer (with `extraHeaders` added) is written on the stream; a request
   * replayed through connect-es gets compatibility objects made for it then. Listens for the
   * stream's errors (a reset stream reports one); the caller reports its close (streamClosed),
   * so that one listener serves both.
   */
  serveStream(route: LeanRoute, stream: http2.ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[], values: ContextValues, extraHeaders: Readonly<Record<string, string>> | undefined): void;
  /** A stream given to serveStream closed: its call, if still running, is given up (the client went away). */
  streamClosed(stream: http2.ServerHttp2Stream): void;
}

function ignore(): void {
  // a stream error: the close that follows ends the call
}

/** Compatibility objects for a raw stream, as Node's http2 server makes them (the replay path needs them). */
function compatOf(stream: http2.ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[], extraHeaders: Readonly<Record<string, string>> | undefined): { req: NodeRequest; res: NodeResponse } {
  const req = new http2.Http2ServerRequest(stream, headers, {}, rawHeaders);
  const res = new http2.Http2ServerResponse(stream);
  if (extraHeaders !== undefined) for (const [k, v] of Object.entries(extraHeaders)) res.setHeader(k, v);
  return { req, res };
}

/** The wire protocol and codec of a Content-Type this path takes, or undefined. */
function wireOf(contentType: string | null): { wire: Wire; binary: boolean } | undefined {
  if (contentType === null) return undefined;
  if (/^application\/grpc-web/i.test(contentType)) {
    const t = grpcWebProtocol.parseContentType(contentType);
    return t === undefined || t.text ? undefined : { wire: "grpc-web", binary: t.binary };
  }
  if (/^application\/grpc/i.test(contentType)) {
    const t = grpcProtocol.parseContentType(contentType);
    return t === undefined ? undefined : { wire: "grpc", binary: t.binary };
  }
  const t = connectProtocol.parseContentType(contentType);
  return t === undefined || t.stream ? undefined : { wire: "connect", binary: t.binary };
}

/** A request body as read: every chunk, or the chunks up to the first past `limit` (`complete` false, the rest unread). */
interface ReadBody {
  readonly chunks: Buffer[];
  readonly complete: boolean;
}

/** Reads the request body, stopping (paused) once it passes `limit`. Rejects if the request breaks or closes before its end. */
function readBody(req: NodeRequest | http2.ServerHttp2Stream, limit: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onError);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        stop();
        req.pause();
        resolve({ chunks, complete: false });
      }
    };
    const onEnd = (): void => {
      stop();
      resolve({ chunks, complete: true });
    };
    const onError = (e?: Error): void => {
      stop();
      reject(e ?? new Error("the request closed before its end"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onError);
  });
}

/** Hands the request to connect-es's handler of its method, the bytes already read first. */
function replay(m: LeanMethod, req: NodeRequest, res: NodeResponse, read: ReadBody, values: ContextValues): void {
  leanUnaryCounts.replayed++;
  const handler = m.handler as UniversalHandler;
  const uReq = universalRequestFromNodeRequest(req, res, undefined, values);
  const { chunks, complete } = read;
  const body = (async function* (): AsyncGenerator<Uint8Array> {
    yield* chunks;
    if (!complete) for await (const c of req as AsyncIterable<Buffer>) yield c;
  })();
  handler({ ...uReq, body })
    .then((uRes) => universalResponseToNodeResponse(uRes, res))
    .catch(() => {
      // the answer could not be written: the client went away (connect-node logs nothing either)
    });
}

/** The one message of an enveloped (gRPC, gRPC-Web) body; undefined unless it is exactly one plain or compressed message within the limit. */
function oneEnvelope(body: Buffer, readMaxBytes: number): { flags: number; data: Uint8Array } | undefined {
  if (body.length < 5) return undefined;
  const flags = body[0];
  const len = body.readUInt32BE(1);
  if ((flags & ~compressedFlag) !== 0 || len > readMaxBytes || body.length !== 5 + len) return undefined;
  return { flags, data: body.subarray(5) };
}

/** Thrown inside parse(): the request goes to connect-es instead. */
class Replay extends Error {}

/** The request message, as connect-es would read it; throws when connect-es must answer instead. */
async function parse(m: LeanMethod, wire: Wire, binary: boolean, read: ReadBody, contentLength: string | null, compression: Compression | null): Promise<unknown> {
  if (!read.complete) throw new Replay();
  const body = read.chunks.length === 1 ? read.chunks[0] : Buffer.concat(read.chunks);
  let data: Uint8Array;
  if (wire !== "connect") {
    const env = oneEnvelope(body, m.readMaxBytes);
    if (env === undefined) throw new Replay();
    if ((env.flags & compressedFlag) === 0) data = env.data;
    else if (compression === null) throw new Replay();
    else data = await compression.decompress(env.data, m.readMaxBytes);
  } else {
    if (body.length > m.readMaxBytes || (contentLength !== null && Number(contentLength) !== body.length)) throw new Replay();
    data = compression === null ? body : await compression.decompress(body, m.readMaxBytes);
  }
  return m.serialization.getI(binary).parse(data);
}

/** Parses the request and runs the call; a request that is not plain goes to replay(), through the objects `compat` gives. */
async function serve(
  m: LeanMethod,
  { wire, binary }: { wire: Wire; binary: boolean },
  headers: IncomingHttpHeaders,
  io: Io,
  read: ReadBody,
  values: ContextValues,
  open: Set<LeanCall>,
  shutdown: AbortSignal | undefined,
  compat: () => { req: NodeRequest; res: NodeResponse },
): Promise<void> {
  const grpcLike = wire !== "connect";
  const acceptName = grpcLike ? grpcProtocol.headerAcceptEncoding : connectProtocol.headerUnaryAcceptEncoding;
  const compression = compressionNegotiate(m.acceptCompression, header(headers, grpcLike ? grpcProtocol.headerEncoding : connectProtocol.headerUnaryEncoding), header(headers, acceptName), acceptName);
  const timeout = grpcLike ? grpcProtocol.parseTimeout(header(headers, grpcProtocol.headerTimeout), m.maxTimeoutMs) : connectProtocol.parseTimeout(header(headers, connectProtocol.headerTimeout), m.maxTimeoutMs);
  let message: unknown;
  try {
    if (compression.error !== undefined || timeout.error !== undefined) throw new Replay();
    message = await parse(m, wire, binary, read, header(headers, connectProtocol.headerUnaryContentLength), compression.request);
  } catch {
    const { req, res } = compat();
    replay(m, req, res, read, values);
    return;
  }

  leanUnaryCounts.served++;
  const call = new LeanCall(m, wire, binary, io, values, compression.response, timeout.timeoutMs);
  if (shutdown?.aborted === true) call.abort(shutdown.reason);
  values.set(leanCallKey, call);
  open.add(call);
  run(call, message, open);
}

/** The call of each raw stream while it runs, for LeanUnaryHandler.streamClosed. */
const rawCalls = new WeakMap<http2.ServerHttp2Stream, LeanCall>();

/**
 * Runs the call and writes its answer. Not an async function: what stays alive while the call
 * waits is the call and one reaction on its promise (an awaiting frame would keep a generator,
 * its registers and two closures besides).
 */
function run(call: LeanCall, message: unknown, open: Set<LeanCall>): void {
  const io = call.io;
  let onClose: (() => void) | undefined;
  if (io.stream === undefined) {
    // 'close' fires once; `on` rather than `once` spares a wrapper per held call.
    onClose = (): void => call.closed();
    io.res.on("close", onClose);
  } else {
    // The caller of serveStream reports the stream's close (streamClosed).
    rawCalls.set(io.stream, call);
  }
  // A client gone while the request was read and parsed (a decompression waits for the thread
  // pool) closed the response before the listener above: the call starts given up.
  const gone =
    io.stream !== undefined
      ? io.stream.closed || io.stream.destroyed
      : "stream" in io.res
        ? io.res.stream.closed || io.res.stream.destroyed
        : (io.res as { closed?: boolean }).closed === true || io.res.destroyed;
  if (gone) call.closed();
  let answer: Promise<UnaryResponse>;
  try {
    answer = call.lean.next(unaryRequest(call, message));
  } catch (e) {
    answer = Promise.reject(e);
  }
  answer.then(
    (r) => finish(call, open, onClose, r, undefined),
    (e: unknown) => finish(call, open, onClose, undefined, e),
  );
}

/**
 * The reason an answered call's signal gives: one shared object. Aborting with no reason creates
 * a DOMException, whose stack capture cost about 7 µs per call (8.3 against 1.4 µs an abort);
 * nothing reads the reason of a call that has answered.
 */
const answered = new ConnectError("the call has been answered", Code.Canceled);

/** The call ended (answer `r`, or `failure`): ends its signal and writes its answer. */
function finish(call: LeanCall, open: Set<LeanCall>, onClose: (() => void) | undefined, r: UnaryResponse | undefined, failure: unknown): void {
  open.delete(call);
  let out: Uint8Array | undefined;
  let error: ConnectError | undefined;
  if (r !== undefined) {
    try {
      out = call.lean.serialization.getO(call.binary).serialize(r.message);
    } catch (e) {
      failure = e;
    }
  }
  if (out === undefined) error = failure instanceof ConnectError ? failure : new ConnectError("internal error", Code.Internal, undefined, undefined, failure);
  call.abort(error ?? answered);
  const io = call.io;
  if (io.stream === undefined) {
    if (onClose !== undefined) io.res.off("close", onClose);
    if (io.res.destroyed || io.res.writableEnded) return;
  } else {
    rawCalls.delete(io.stream);
    if (io.stream.destroyed || io.stream.closed || io.stream.headersSent) return;
  }
  (call.protocolName === "connect" ? writeConnect(call, out, error) : writeGrpc(call, out, error)).catch(() => {
    // the client went away while the answer was written
  });
}

/**
 * Writes status, headers, body and trailers on a raw stream as Node's compatibility response
 * writes them (writeHead, write, addTrailers, end): the headers with waitForTrailers, then the
 * trailers (empty when there are none) once the body is out.
 */
function respond(stream: http2.ServerHttp2Stream, extra: Readonly<Record<string, string>> | undefined, status: number, headers: Record<string, string | string[]>, body: Uint8Array | undefined, trailers: Record<string, string | string[]> | undefined): void {
  stream.respond({ ...extra, ...headers, ":status": status }, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers(trailers ?? {}));
  if (body === undefined) stream.end();
  else stream.end(body);
}

/** Writes a gRPC or gRPC-Web answer: the message (if any), then the status in trailers or in the trailer frame. */
async function writeGrpc(call: LeanCall, out: Uint8Array | undefined, error: ConnectError | undefined): Promise<void> {
  const { lean: m, binary, io, compression } = call;
  const web = call.protocolName === "grpc-web";
  const head = new Headers();
  head.set(grpcProtocol.headerContentType, web ? (binary ? grpcWebProtocol.contentTypeProto : grpcWebProtocol.contentTypeJson) : binary ? grpcProtocol.contentTypeProto : grpcProtocol.contentTypeJson);
  if (compression) head.set(grpcProtocol.headerEncoding, compression.name);
  call.extraHeader?.forEach((v, k) => head.set(k, v));
  const trailer = new Headers({ [grpcProtocol.headerGrpcStatus]: grpcProtocol.grpcStatusOk });
  call.extraTrailer?.forEach((v, k) => trailer.set(k, v));
  if (error !== undefined) grpcProtocol.setTrailerStatus(trailer, error);
  const parts: Uint8Array[] = [];
  if (out !== undefined) {
    const env = await envelopeCompress({ flags: 0, data: out }, compression, m.compressMinBytes);
    parts.push(encodeEnvelope(env.flags, env.data));
  }
  if (web) {
    const env = await envelopeCompress({ flags: grpcWebProtocol.trailerFlag, data: grpcWebProtocol.trailerSerialize(trailer) }, compression, m.compressMinBytes);
    parts.push(encodeEnvelope(env.flags, env.data));
  }
  const body = parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : Buffer.concat(parts);
  if (io.stream !== undefined) {
    respond(io.stream, io.extraHeaders, 200, nodeHeaders(head, {}), body, web ? undefined : nodeHeaders(trailer, {}));
    return;
  }
  const res = io.res;
  res.writeHead(200, nodeHeaders(head, {}));
  if (body !== undefined) res.write(body);
  if (!web) res.addTrailers(nodeHeaders(trailer, {}));
  res.end();
}

/** Writes a Connect unary answer: the message with status 200, or the error as JSON with its HTTP status. */
async function writeConnect(call: LeanCall, out: Uint8Array | undefined, error: ConnectError | undefined): Promise<void> {
  const { lean: m, binary, io, compression } = call;
  const head = new Headers();
  let status = 200;
  let body: Uint8Array;
  call.extraHeader?.forEach((v, k) => head.set(k, v));
  if (error === undefined && out !== undefined) {
    head.set(connectProtocol.headerContentType, binary ? connectProtocol.contentTypeUnaryProto : connectProtocol.contentTypeUnaryJson);
    body = out;
  } else {
    const e = error ?? new ConnectError("internal error", Code.Internal);
    status = connectProtocol.codeToHttpStatus(e.code);
    head.set(connectProtocol.headerContentType, connectProtocol.contentTypeUnaryJson);
    e.metadata.forEach((v, k) => head.set(k, v));
    body = connectProtocol.errorToJsonBytes(e, m.jsonOptions ?? {});
  }
  if (compression && body.byteLength >= m.compressMinBytes) {
    body = await compression.compress(body);
    head.set(connectProtocol.headerUnaryEncoding, compression.name);
  }
  const all = call.extraTrailer ? connectProtocol.trailerMux(head, call.extraTrailer) : head;
  all.set(connectProtocol.headerUnaryContentLength, body.byteLength.toString(10));
  if (io.stream !== undefined) {
    respond(io.stream, io.extraHeaders, status, nodeHeaders(all, {}), body, undefined);
    return;
  }
  io.res.writeHead(status, nodeHeaders(all, {}));
  io.res.end(body);
}
