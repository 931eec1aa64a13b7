// A gRPC transport for Node clients of taskgate: the `Transport` of @connectrpc/connect, so
// `createClient` and the generated service descriptors are used unchanged, with each call driven
// directly on one HTTP/2 stream of a shared session.
//
// Why not connect-node's createGrpcTransport: it runs every call through a pipeline of async
// generators (serialize, envelope, compress, join, split, parse, validate), about 8 per unary
// call, and a worker completing 200 tasks a second allocated ~40 MB/s with it, a quarter of it
// still alive at each young-generation collection; the 15-50 ms pauses that followed were most of
// the dispatch latency's 99th percentile. Here a unary call is one promise, one stream and its
// listeners, and a streamed message is decoded straight from the stream's data.
//
// What it speaks: gRPC with binary protobuf over HTTP/2 (http:// cleartext or https:// TLS),
// unary and server-streaming calls, deadlines (grpc-timeout), abort signals, request headers,
// interceptors, and errors as connect-es reports them (status, message, details, metadata). It
// asks for no response compression (requests go uncompressed too). Client- and bidi-streaming
// calls go to connect-node's own gRPC transport with the same options.
import http2 from "node:http2";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescMethodStreaming, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues, type Interceptor, type StreamRequest, type StreamResponse, type Transport, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus, findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { createGrpcTransport } from "@connectrpc/connect-node";

export interface LeanGrpcTransportOptions {
  /** Where the server is: `http://host:port` (cleartext HTTP/2) or `https://host:port` (TLS), with an optional path prefix. */
  baseUrl: string;
  /** Options of `http2.connect` (TLS: `ca`, `cert`, `key`, `servername`, ...). */
  nodeOptions?: http2.ClientSessionOptions | http2.SecureClientSessionOptions;
  /** Run on every call, first one outermost, as connect-es runs them. */
  interceptors?: Interceptor[];
  /** Deadline of a call that gives none (milliseconds; none by default). */
  defaultTimeoutMs?: number;
  /** The largest response message accepted; a larger one fails the call with ResourceExhausted. Default 4 MiB, gRPC's. */
  readMaxBytes?: number;
  /** Messages a server stream buffers before it stops reading from the network until the caller catches up. Default 16. */
  streamHighWater?: number;
}

const defaultReadMaxBytes = 4 * 1024 * 1024;
const userAgent = `taskgate-grpc-node/${process.versions.node}`;
const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

type Raw = http2.IncomingHttpHeaders;
type HeadersInit = ConstructorParameters<typeof Headers>[0];

/** A transport for `createClient` that drives gRPC calls directly on HTTP/2 streams (see the file comment). */
export function createLeanGrpcTransport(options: LeanGrpcTransportOptions): Transport {
  const base = new URL(options.baseUrl);
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error(`baseUrl ${options.baseUrl}: expected http:// or https://`);
  const prefix = base.pathname.replace(/\/+$/, "");
  const sessions = new Sessions(base.origin, options.nodeOptions ?? {});
  const readMax = options.readMaxBytes ?? defaultReadMaxBytes;
  const highWater = options.streamHighWater ?? 16;
  const interceptors = options.interceptors ?? [];
  let fallback: Transport | undefined;
  const other = () => (fallback ??= createGrpcTransport({ baseUrl: options.baseUrl, nodeOptions: options.nodeOptions, interceptors, defaultTimeoutMs: options.defaultTimeoutMs, readMaxBytes: readMax }));
  const path = (m: { parent: { typeName: string }; name: string }) => `${prefix}/${m.parent.typeName}/${m.name}`;

  function unaryCall<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, signal: AbortSignal | undefined, timeoutMs: number | undefined, header: Headers | HeadersInit | undefined, message: MessageShape<I>): Promise<UnaryResponse<I, O>> {
    const body = encodeEnvelope(0, toBinary(method.input, message)); // flags 0: uncompressed
    return new Promise<UnaryResponse<I, O>>((resolve, reject) => {
      const call = new Call(sessions, requestHeaders(path(method), header, timeoutMs), signal, timeoutMs, readMax, (e, raw, trailer) => {
        if (e !== undefined) return reject(e);
        const { messages } = call;
        if (messages.length !== 1) return reject(new ConnectError(`protocol error: ${messages.length === 0 ? "missing" : "more than one"} output message for unary method`, Code.Unimplemented));
        let output: MessageShape<O>;
        try {
          output = fromBinary(method.output, messages[0]);
        } catch (err) {
          return reject(new ConnectError(`parse binary: ${err instanceof Error ? err.message : String(err)}`, Code.Internal));
        }
        resolve(new Answer(method, output, raw, trailer));
      });
      call.start(body);
    });
  }

  async function streamCall<I extends DescMessage, O extends DescMessage>(method: DescMethodStreaming<I, O>, signal: AbortSignal | undefined, timeoutMs: number | undefined, header: Headers | HeadersInit | undefined, message: MessageShape<I>): Promise<StreamResponse<I, O>> {
    const body = encodeEnvelope(0, toBinary(method.input, message)); // flags 0: uncompressed
    const messages = new Messages<O>(method.output, highWater);
    const call = new Call(sessions, requestHeaders(path(method), header, timeoutMs), signal, timeoutMs, readMax, (e) => messages.end(e), messages);
    messages.call = call;
    await new Promise<void>((headersIn) => call.start(body, headersIn));
    return new Streamed(method, messages, call);
  }

  /** What an interceptor's request carries besides its kind, method and message. */
  const common = (method: DescMethod, signal: AbortSignal | undefined, header: HeadersInit | undefined, contextValues: ContextValues | undefined) => ({
    service: method.parent,
    requestMethod: "POST",
    url: `${base.origin}${path(method)}`,
    signal: signal ?? new AbortController().signal,
    header: new Headers(header),
    contextValues: contextValues ?? createContextValues(),
  });

  const direct = {
    unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, signal: AbortSignal | undefined, timeoutMs: number | undefined, header: HeadersInit | undefined, input: MessageInitShape<I>, contextValues?: ContextValues): Promise<UnaryResponse<I, O>> {
      const t = timeoutMs ?? options.defaultTimeoutMs;
      if (interceptors.length === 0) return unaryCall(method, signal, t, header, create(method.input, input));
      const req: UnaryRequest<I, O> = { ...common(method, signal, header, contextValues), stream: false, method, message: create(method.input, input) };
      const terminal = (r: UnaryRequest | StreamRequest) => (r.stream ? Promise.reject(new ConnectError("an interceptor turned a unary call into a stream", Code.Internal)) : unaryCall(r.method, r.signal, t, r.header, r.message));
      return intercepted(interceptors, terminal)(req) as Promise<UnaryResponse<I, O>>;
    },
    async stream<I extends DescMessage, O extends DescMessage>(method: DescMethodStreaming<I, O>, signal: AbortSignal | undefined, timeoutMs: number | undefined, header: HeadersInit | undefined, input: AsyncIterable<MessageInitShape<I>>, contextValues?: ContextValues): Promise<StreamResponse<I, O>> {
      if (method.methodKind !== "server_streaming") return other().stream(method, signal, timeoutMs, header, input, contextValues);
      const t = timeoutMs ?? options.defaultTimeoutMs;
      const message = create(method.input, await single(input));
      if (interceptors.length === 0) return streamCall(method, signal, t, header, message);
      const req: StreamRequest<I, O> = { ...common(method, signal, header, contextValues), stream: true, method, message: once(message) };
      const terminal = async (r: UnaryRequest | StreamRequest) => {
        if (!r.stream || r.method.methodKind !== "server_streaming") throw new ConnectError("an interceptor changed the kind of a server-streaming call", Code.Internal);
        return streamCall(r.method, r.signal, t, r.header, await single(r.message));
      };
      return intercepted(interceptors, terminal)(req) as Promise<StreamResponse<I, O>>;
    },
  };
  return direct;
}

type Next = (req: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;

/** `terminal` wrapped in `interceptors`, the first outermost (connect-es's order). */
function intercepted(interceptors: Interceptor[], terminal: Next): Next {
  let next = terminal;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i](next);
  return next;
}

/** The one request message of a server-streaming call. */
async function single<T>(input: AsyncIterable<T>): Promise<T> {
  let first: T | undefined;
  let n = 0;
  for await (const m of input) {
    if (n++ === 0) first = m;
  }
  if (n !== 1 || first === undefined) throw new ConnectError(`a server-streaming call takes exactly one request message, not ${n}`, Code.InvalidArgument);
  return first;
}

async function* once<T>(m: T): AsyncIterable<T> {
  yield m;
}

/** The request headers of a call to `path`; `grpc-timeout` when the call has a deadline. */
function requestHeaders(path: string, header: Headers | HeadersInit | undefined, timeoutMs: number | undefined): http2.OutgoingHttpHeaders {
  const h: http2.OutgoingHttpHeaders = { ":method": "POST", ":path": path, "content-type": "application/grpc+proto", te: "trailers", "user-agent": userAgent };
  if (header !== undefined) {
    for (const [k, v] of header instanceof Headers ? header : new Headers(header)) {
      const prev = h[k];
      h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
  }
  if (timeoutMs !== undefined) h["grpc-timeout"] = `${Math.max(0, Math.ceil(timeoutMs))}m`;
  return h;
}

/** An HTTP/2 header object as Headers, without the pseudo headers. */
function toHeaders(raw: Raw | undefined): Headers {
  const h = new Headers();
  if (raw === undefined) return h;
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith(":") || v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else h.append(k, String(v));
  }
  return h;
}

/** The status of an answered call: undefined when it succeeded, otherwise its error as connect-es reports it. */
function statusError(header: Raw | undefined, trailer: Raw | undefined): ConnectError | undefined {
  if (header === undefined) return new ConnectError("protocol error: the stream closed without response headers", Code.Unavailable);
  const status = Number(header[":status"]);
  if (status !== 200) return new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status), toHeaders(header));
  const ct = header["content-type"];
  if (typeof ct !== "string" || !/^application\/grpc(?:\+proto)?(?:;|$)/i.test(ct)) return new ConnectError(`unsupported content type ${String(ct)}`, Code.Unknown);
  const where = trailer ?? header; // a trailers-only answer carries its status in the headers
  const grpcStatus = where["grpc-status"];
  if (grpcStatus === "0" && where["grpc-status-details-bin"] === undefined) return undefined;
  if (grpcStatus === undefined) return new ConnectError("protocol error: missing status", Code.Internal);
  const merged = toHeaders(header);
  if (trailer !== undefined) for (const [k, v] of toHeaders(trailer)) merged.set(k, v);
  return findTrailerError(merged);
}

/** The error of a stream reset by the peer, per gRPC's HTTP/2 mapping. */
function resetError(rstCode: number): ConnectError {
  const c = http2.constants;
  const code =
    rstCode === c.NGHTTP2_REFUSED_STREAM || rstCode === NGHTTP2_NO_ERROR
      ? Code.Unavailable
      : rstCode === NGHTTP2_CANCEL
        ? Code.Canceled
        : rstCode === c.NGHTTP2_ENHANCE_YOUR_CALM
          ? Code.ResourceExhausted
          : rstCode === c.NGHTTP2_INADEQUATE_SECURITY
            ? Code.PermissionDenied
            : Code.Internal;
  return new ConnectError(`the HTTP/2 stream closed before the call was answered (code 0x${rstCode.toString(16)})`, code);
}

/** One HTTP/2 session to the server at a time, made when needed; a session referenced only while it carries calls, so an idle client lets the process exit. */
class Sessions {
  readonly origin: string;
  readonly options: http2.ClientSessionOptions | http2.SecureClientSessionOptions;
  #current: Session | undefined;
  constructor(origin: string, options: http2.ClientSessionOptions | http2.SecureClientSessionOptions) {
    this.origin = origin;
    this.options = options;
  }

  get(): Session {
    const s = this.#current;
    if (s !== undefined && !s.h2.closed && !s.h2.destroyed && !s.draining) return s;
    const next = new Session(http2.connect(this.origin, this.options));
    // A session that closes or is told to go away takes no new call; its calls finish on it.
    const drop = () => {
      next.drain();
      if (this.#current === next) this.#current = undefined;
    };
    next.h2.on("goaway", drop);
    next.h2.on("close", drop);
    next.h2.on("error", drop); // each call on it reports the error through its stream
    this.#current = next;
    return next;
  }
}

class Session {
  readonly h2: http2.ClientHttp2Session;
  active = 0;
  draining = false;
  constructor(h2: http2.ClientHttp2Session) {
    this.h2 = h2;
    h2.unref();
  }
  opened(): void {
    if (this.active++ === 0) this.h2.ref();
  }
  closed(): void {
    if (--this.active !== 0) return;
    this.h2.unref();
    if (this.draining && !this.h2.closed) this.h2.close();
  }
  /** Takes no new call; closes once its calls have ended. */
  drain(): void {
    this.draining = true;
    if (this.active === 0 && !this.h2.closed) this.h2.close();
  }
}

/** How a call reports its end: the error (none when it succeeded) and the response's headers and trailers. */
type Report = (e: ConnectError | undefined, header: Raw | undefined, trailer: Raw | undefined) => void;

/** What a call hands its messages to as they arrive (a server stream); a unary call keeps them. */
interface Sink {
  push(data: Uint8Array): void;
}

/**
 * One call on one HTTP/2 stream: writes the request, splits the response body into messages,
 * and reports once, when the stream has closed, with the status of the answer.
 */
class Call {
  readonly messages: Uint8Array[] = [];
  stream: http2.ClientHttp2Stream | undefined;
  #session: Session | undefined;
  #header: Raw | undefined;
  #trailer: Raw | undefined;
  #error: ConnectError | undefined;
  #timer: NodeJS.Timeout | undefined;
  #done = false;
  /** Bytes of a message not yet complete, and how many the next step needs. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  #flags = -1;
  #need = 5;

  readonly sessions: Sessions;
  readonly headers: http2.OutgoingHttpHeaders;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number | undefined;
  readonly readMax: number;
  readonly report: Report;
  readonly sink: Sink | undefined;

  constructor(sessions: Sessions, headers: http2.OutgoingHttpHeaders, signal: AbortSignal | undefined, timeoutMs: number | undefined, readMax: number, report: Report, sink?: Sink) {
    this.sessions = sessions;
    this.headers = headers;
    this.signal = signal;
    this.timeoutMs = timeoutMs;
    this.readMax = readMax;
    this.report = report;
    this.sink = sink;
  }

  /** Sends the request; `started` is called once the response headers arrived or the call ended (a server stream waits for it; a unary call does not). */
  start(body: Uint8Array, started?: () => void): void {
    if (this.signal?.aborted) {
      this.#finish(canceled(this.signal));
      return started?.();
    }
    let session: Session;
    let stream: http2.ClientHttp2Stream;
    try {
      session = this.sessions.get();
      try {
        stream = session.h2.request(this.headers);
      } catch (e) {
        // A session that cannot open another stream (its stream ids are used up after about a
        // billion calls, or it is going away) takes no more calls: once more on a new one.
        // Anything else (a header Node refuses) is the call's own fault and fails it.
        if (!sessionSpent(e)) throw e;
        session.drain();
        session = this.sessions.get();
        stream = session.h2.request(this.headers);
      }
    } catch (e) {
      const message = `cannot open an HTTP/2 stream: ${e instanceof Error ? e.message : String(e)}`;
      this.#finish(new ConnectError(message, sessionSpent(e) ? Code.Unavailable : Code.Internal, undefined, undefined, e));
      return started?.();
    }
    this.#session = session;
    this.stream = stream;
    session.opened();
    if (this.signal) this.signal.addEventListener("abort", this, { once: true });
    if (this.timeoutMs !== undefined) this.#timer = setTimeout(() => this.cancel(new ConnectError(`the deadline of ${this.timeoutMs} ms passed`, Code.DeadlineExceeded)), this.timeoutMs);
    stream.on("response", (h: Raw) => {
      this.#header = h;
      started?.();
    });
    stream.on("data", (chunk: Buffer) => this.#data(chunk));
    stream.on("trailers", (t: Raw) => (this.#trailer = t));
    stream.on("error", (e: Error) => {
      this.#error ??= new ConnectError(e.message, Code.Unavailable, undefined, undefined, e);
    });
    stream.on("close", () => {
      started?.();
      this.#closed(stream.rstCode);
    });
    stream.end(body);
  }

  /** The abort signal fired. */
  handleEvent(): void {
    if (this.signal) this.cancel(canceled(this.signal));
  }

  /** Ends the call with `e` and resets its stream (CANCEL). */
  cancel(e: ConnectError): void {
    if (this.#done) return;
    this.#error = e;
    const s = this.stream;
    if (s !== undefined && !s.closed && !s.destroyed) s.close(NGHTTP2_CANCEL);
    else this.#finish(e);
  }

  #data(chunk: Buffer): void {
    if (this.#done || this.#error !== undefined) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered < this.#need) return;
    const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#buffered);
    let off = 0;
    for (;;) {
      if (this.#flags < 0) {
        if (all.length - off < 5) break;
        this.#flags = all[off];
        this.#need = all.readUInt32BE(off + 1);
        off += 5;
        if (this.#flags !== 0) return this.cancel(new ConnectError(this.#flags & 1 ? "protocol error: a compressed message, although none was asked for" : `protocol error: message flags 0x${this.#flags.toString(16)}`, Code.Internal));
        if (this.#need > this.readMax) return this.cancel(new ConnectError(`message size ${this.#need} is larger than configured readMaxBytes ${this.readMax}`, Code.ResourceExhausted));
      }
      if (all.length - off < this.#need) break;
      const data = all.subarray(off, off + this.#need);
      off += this.#need;
      this.#flags = -1;
      this.#need = 5;
      if (this.sink) this.sink.push(data);
      else this.messages.push(data);
    }
    const rest = all.subarray(off);
    this.#chunks = rest.length === 0 ? [] : [rest];
    this.#buffered = rest.length;
  }

  #closed(rstCode: number | undefined): void {
    if (this.#done) return;
    let e = this.#error;
    if (e === undefined && this.#buffered !== 0) e = new ConnectError("protocol error: the response ended inside a message", Code.Internal);
    if (e === undefined) {
      const answered = this.#header !== undefined && (this.#trailer !== undefined || this.#header["grpc-status"] !== undefined);
      e = answered || rstCode === undefined || rstCode === NGHTTP2_NO_ERROR ? statusError(this.#header, this.#trailer) : resetError(rstCode);
    }
    this.#finish(e);
  }

  /** The response headers, once they arrived. */
  get responseHeader(): Raw | undefined {
    return this.#header;
  }

  /** The response trailers, once the call ended. */
  get responseTrailer(): Raw | undefined {
    return this.#trailer;
  }

  #finish(e: ConnectError | undefined): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.signal?.removeEventListener("abort", this);
    this.#session?.closed();
    this.report(e, this.#header, this.#trailer);
  }
}

/** Whether `request()` failed because its session can take no more streams (not because of the call). */
function sessionSpent(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ERR_HTTP2_OUT_OF_STREAMS" || code === "ERR_HTTP2_GOAWAY_SESSION" || code === "ERR_HTTP2_INVALID_SESSION";
}

function canceled(signal: AbortSignal): ConnectError {
  const r: unknown = signal.reason;
  if (r instanceof ConnectError) return r;
  return new ConnectError(r instanceof Error ? r.message : "the operation was aborted", Code.Canceled, undefined, undefined, r);
}

/** A unary call's answer; its headers become Headers objects only when read. */
class Answer<I extends DescMessage, O extends DescMessage> implements UnaryResponse<I, O> {
  readonly stream = false;
  readonly service: DescMethodUnary<I, O>["parent"];
  readonly method: DescMethodUnary<I, O>;
  readonly message: MessageShape<O>;
  readonly rawHeader: Raw | undefined;
  readonly rawTrailer: Raw | undefined;
  #header: Headers | undefined;
  #trailer: Headers | undefined;
  constructor(method: DescMethodUnary<I, O>, message: MessageShape<O>, rawHeader: Raw | undefined, rawTrailer: Raw | undefined) {
    this.service = method.parent;
    this.method = method;
    this.message = message;
    this.rawHeader = rawHeader;
    this.rawTrailer = rawTrailer;
  }
  get header(): Headers {
    return (this.#header ??= toHeaders(this.rawHeader));
  }
  get trailer(): Headers {
    return (this.#trailer ??= toHeaders(this.rawTrailer));
  }
}

/** A server stream's answer: its messages as they arrive. */
class Streamed<I extends DescMessage, O extends DescMessage> implements StreamResponse<I, O> {
  readonly stream = true;
  readonly service: DescMethodStreaming<I, O>["parent"];
  readonly method: DescMethodStreaming<I, O>;
  readonly message: Messages<O>;
  readonly call: Call;
  #header: Headers | undefined;
  constructor(method: DescMethodStreaming<I, O>, message: Messages<O>, call: Call) {
    this.service = method.parent;
    this.method = method;
    this.message = message;
    this.call = call;
  }
  get header(): Headers {
    return (this.#header ??= toHeaders(this.call.responseHeader));
  }
  /** Complete once the stream has ended. */
  get trailer(): Headers {
    return toHeaders(this.call.responseTrailer);
  }
}

/**
 * The messages of a server stream as an async iterable: decoded as they arrive, at most
 * `highWater` buffered before reading pauses. Leaving the iteration (return) cancels the call.
 */
class Messages<O extends DescMessage> implements AsyncIterableIterator<MessageShape<O>>, Sink {
  call: Call | undefined;
  #queue: MessageShape<O>[] = [];
  #head = 0;
  #ended = false;
  #error: ConnectError | undefined;
  #waiting: { resolve: (r: IteratorResult<MessageShape<O>>) => void; reject: (e: unknown) => void } | undefined;
  #paused = false;
  #left = false;
  readonly schema: O;
  readonly highWater: number;

  constructor(schema: O, highWater: number) {
    this.schema = schema;
    this.highWater = highWater;
  }

  push(data: Uint8Array): void {
    let m: MessageShape<O>;
    try {
      m = fromBinary(this.schema, data);
    } catch (err) {
      this.call?.cancel(new ConnectError(`parse binary: ${err instanceof Error ? err.message : String(err)}`, Code.Internal));
      return;
    }
    const w = this.#waiting;
    if (w !== undefined) {
      this.#waiting = undefined;
      w.resolve({ value: m, done: false });
      return;
    }
    this.#queue.push(m);
    if (!this.#paused && this.#queue.length - this.#head >= this.highWater) {
      this.#paused = true;
      this.call?.stream?.pause();
    }
  }

  end(e: ConnectError | undefined): void {
    if (this.#left) return; // the caller left: the cancellation is not an error to it
    this.#ended = true;
    this.#error = e;
    const w = this.#waiting;
    if (w === undefined) return;
    this.#waiting = undefined;
    if (e !== undefined) w.reject(e);
    else w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<MessageShape<O>>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head++];
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      if (this.#paused && this.#queue.length - this.#head < this.highWater / 2) {
        this.#paused = false;
        this.call?.stream?.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return this.#error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#error);
    if (this.#paused) {
      this.#paused = false;
      this.call?.stream?.resume();
    }
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<MessageShape<O>>> {
    this.#left = true;
    if (!this.#ended) this.call?.cancel(new ConnectError("the caller left the stream", Code.Canceled));
    this.#queue = [];
    this.#head = 0;
    this.#ended = true;
    this.#error = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
