// One port for everything: the AWS JSON route, Connect, gRPC (h2c), gRPC-Web and /healthz.
//
// A net.Server accepts every connection and reads its first bytes: a connection that opens with
// the HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, RFC 9113 §3.4) goes to an
// http2.Server, any other to an http.Server, after the peeked bytes are pushed back onto the
// socket. Both servers run the same handler: connectNodeAdapter for the registered services (the
// unary calls on a lean path in front of it, lean-unary.ts), whose fallback answers
// /healthz, answers an unknown RPC path in its protocol's own shape (protocol-errors.ts) and
// hands every other request to the AWS JSON handler.
//
// Limits (README, "Connections and limits"): at most config.maxConnections connections (Node's
// maxConnections; the excess is closed on accept and counted); a connection accepted while the
// process is within a small reserve of its open-file limit is closed and counted too (limits.ts:
// Node reports nothing when accept() itself fails with EMFILE). Both counts are logged at most
// every 10 s and shown on /healthz. Timeouts: the headers timeout for a connection's first bytes
// and an HTTP/2 connection's first request headers, and the idle timeout for HTTP/2 connections
// without open streams (timeouts.ts); http.Server enforces the same two for HTTP/1.1. HTTP/2
// advertises config.maxConcurrentStreams; nghttp2 answers streams opened beyond it before the
// client acknowledged the setting with RST_STREAM(REFUSED_STREAM), and the session memory budget
// is sized so that held streams up to the limit never make Node refuse streams or end the session.
//
// With --cors-origins, every request passes the CORS policy first (cors.ts): preflights are
// answered before routing, other responses get the CORS headers.
//
// Every request gets a Delivery (src/request/delivery.ts) tied to its response. `delivered()` once the
// response was written completely (HTTP/1.1: 'finish', i.e. the kernel accepted the last byte;
// HTTP/2: ended, stream closed with NO_ERROR) and its connection then did not fail within a short
// settle window (settle.ts); `undelivered()` when the response closed before that (client gone,
// socket broken, stream reset) or the connection failed within the window, so a long poll can put
// back a task it could not hand over.
//
// Shutdown (close()): stop accepting connections; ask HTTP/1.1 clients to close after their
// current response and send HTTP/2 GOAWAY; await onShutdown (the app answers open long polls with
// the empty result and ends streams); close idle connections as they become idle; after
// shutdownGraceSeconds abort what still runs and destroy every remaining socket.
import * as net from "node:net";
import * as tls from "node:tls";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import type * as stream from "node:stream";
import { Code, ConnectError, type ContextKey, type ContextValues } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { Delivery, deliveryKey } from "../request/delivery.ts";
import { CallLimits, ThrottlingFault, createAuthenticator, principalKey, sourceKey, type ReloadResult, type RequestSource } from "../auth/index.ts";
import type { Interceptor } from "@connectrpc/connect";
import { createAwsJsonHandler, type AwsJsonRequest, type AwsJsonResponse } from "../awsjson/handler.ts";
import { connectRoutes, createFaultInterceptor, toConnectError } from "../faults-connect.ts";
import { Fault } from "../faults.ts";
import { awsServices, type MountedService } from "../services/registry.ts";
import type { Config } from "./config.ts";
import { corsDecision, corsPolicy } from "./cors.ts";
import { child } from "./logger.ts";
import { RateLimitedCounter, countOpenFiles, fdHeadroom, fdOf, readOpenFileLimit } from "./limits.ts";
import { clientErrorResponse, headerValue, rpcProtocol, sendBadRequest, sendRpcError, tooLargeMessage, unimplementedMessage, type ClientError, type ParserLimits } from "./protocol-errors.ts";
import { DeliverySettler } from "./settle.ts";
import { leanUnaryAdapter } from "./lean-unary.ts";
import { ConnectionTimeouts, checkIntervalMs } from "./timeouts.ts";

/** What startServer needs. */
export interface ServerOptions {
  readonly config: Config;
  /** The root logger; the server logs under component "server". */
  readonly logger: Logger;
  /** Every service to mount: all on the Connect/gRPC/gRPC-Web routes, those with an AWS model on the AWS JSON route too. */
  readonly services: readonly MountedService[];
  /** Whether /healthz answers 200 (true) or 503 (false). */
  readonly ready: () => boolean;
  /** Called by close() after new connections are refused: answer open long polls, end streams. */
  readonly onShutdown: () => Promise<void>;
}

/** A listening server. */
export interface RunningServer {
  /** The bound port (the chosen one when config.port is 0). */
  readonly port: number;
  /** config.host as given. */
  readonly host: string;
  /** `http://<host>:<port>`, or `https://…` with TLS (IPv6 hosts in brackets). */
  readonly url: string;
  /** Graceful shutdown (see the file comment); resolves once every connection is closed. Idempotent. */
  close(): Promise<void>;
  /** Re-reads the principals file (SIGHUP); a bad file keeps the principals in force. Logged either way. */
  reloadCredentials(): ReloadResult;
  /**
   * Re-reads --tls-cert and --tls-key (SIGHUP): new connections get the new certificate, open
   * ones carry on. A pair that cannot be read or does not match keeps the one in force. Logged.
   */
  reloadTls(): { ok: true; tls: boolean } | { ok: false; error: string };
}

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type NodeRequest = Parameters<NodeHandler>[0];
type NodeResponse = Parameters<NodeHandler>[1];

/** The HTTP/2 client connection preface. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Node's default time for receiving a whole HTTP/1.1 request (headers and body). */
const REQUEST_TIMEOUT_MS = 300_000;

/** Refused connections and descriptor exhaustion are logged at most this often. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Node's accounting limit of one HTTP/2 session's memory, in MiB (default 10): over it, Node
 * refuses new streams with ENHANCE_YOUR_CALM and, after 100 refusals in a row, ends the session
 * with every stream on it. About 10,000 held streams reach the default; allow 10 KiB per
 * permitted stream, at least 64 MiB, so the stream limit is what bounds a connection.
 */
function sessionMemoryMiB(maxConcurrentStreams: number): number {
  return Math.max(64, Math.ceil(maxConcurrentStreams / 100));
}

/**
 * Streams opened beyond the limit before the client acknowledged it are refused and counted by
 * Node as invalid frames; past maxSessionInvalidFrames (default 1000) Node ends the session.
 * A client that fires thousands of requests right after connecting must not lose them all.
 */
const MAX_SESSION_INVALID_FRAMES = 10_000;

/** Starts the server on config.host:config.port; rejects if the port cannot be bound. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { config } = opts;
  const log = child(opts.logger, "server");
  /** The services also served on the AWS JSON route (those with an AWS model). */
  const awsRouted = awsServices(opts.services);
  // Authentication (src/auth): the principals file is read now, so a bad one stops the start.
  const auth = createAuthenticator({
    mode: config.auth,
    file: config.authFile,
    region: config.region,
    accountId: config.accountId,
    rpcServices: new Map(awsRouted.map((s) => [s.desc.typeName, s.model.metadata.endpointPrefix])),
  });
  // Limits that protect the server (src/auth/limits.ts), by caller: the principal, else the client address.
  const limits = new CallLimits(config);
  const awsPrefixes: ReadonlyMap<string, string> = new Map(awsRouted.map((s) => [s.desc.typeName, s.model.metadata.endpointPrefix]));
  const callerOf = (values: ContextValues): string => {
    const p = values.get(principalKey);
    return p === undefined ? `address ${values.get(sourceKey).ip ?? ""}` : `principal ${p.name}`;
  };
  /** The response of each request, for headers a refusal sets before the AWS route answers. */
  const graceMs = Math.round(config.shutdownGraceSeconds * 1000);
  const idleMs = Math.round(config.idleTimeoutSeconds * 1000);
  const headersMs = Math.round(config.headersTimeoutSeconds * 1000);
  const parserLimits: ParserLimits = { maxHeaderBytes: http.maxHeaderSize, headersTimeoutMs: headersMs, requestTimeoutMs: Math.max(REQUEST_TIMEOUT_MS, headersMs) };

  // --- TLS ---------------------------------------------------------------------------------------

  /** The certificate new connections get (swapped by reloadTls); undefined: plaintext. Read now, so a bad pair stops the start. */
  let secureContext: tls.SecureContext | undefined = config.tlsCert === undefined || config.tlsKey === undefined ? undefined : loadSecureContext(config.tlsCert, config.tlsKey);
  const reloadTls = (): { ok: true; tls: boolean } | { ok: false; error: string } => {
    if (config.tlsCert === undefined || config.tlsKey === undefined) return { ok: true, tls: false };
    try {
      secureContext = loadSecureContext(config.tlsCert, config.tlsKey);
      log.info({ tlsCert: config.tlsCert }, `reloaded the TLS certificate from ${config.tlsCert}`);
      return { ok: true, tls: true };
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      log.error({ tlsCert: config.tlsCert, tlsKey: config.tlsKey, error }, `TLS certificate not reloaded, the one in force stays: ${error}`);
      return { ok: false, error };
    }
  };

  // --- connection limits -------------------------------------------------------------------------

  /** Every accepted connection until it closes. */
  const sockets = new Set<net.Socket>();
  const fdLimit = readOpenFileLimit();
  const fdReserve = fdLimit === undefined ? 0 : fdHeadroom(fdLimit);
  /** An accepted socket whose descriptor number is at least this finds the table nearly full. */
  const fdCeiling = fdLimit === undefined ? undefined : fdLimit - fdReserve;
  if (fdCeiling !== undefined) {
    const room = fdCeiling - (countOpenFiles() ?? 0);
    if (room < config.maxConnections) {
      log.warn(
        { openFileLimit: fdLimit, room, maxConnections: config.maxConnections },
        `the open-file limit (${fdLimit}) leaves room for about ${room} connections, fewer than --max-connections ${config.maxConnections}; raise it (ulimit -n, systemd LimitNOFILE=, docker run --ulimit nofile=)`,
      );
    }
  }
  const refusedAtCap = new RateLimitedCounter(REFUSAL_LOG_INTERVAL_MS, (n, total) =>
    log.warn({ refused: n, total, open: sockets.size, maxConnections: config.maxConnections }, `refused ${n} connection(s): --max-connections ${config.maxConnections} reached`),
  );
  const fdExhausted = new RateLimitedCounter(REFUSAL_LOG_INTERVAL_MS, (n, total) =>
    log.error(
      { refused: n, total, open: sockets.size, openFileLimit: fdLimit ?? null },
      `refused ${n} connection(s): the process is out of file descriptors (open-file limit ${fdLimit ?? "unknown"}); raise it with ulimit -n, systemd LimitNOFILE= or docker run --ulimit nofile=`,
    ),
  );
  /** Open connections by client address (with --max-connections-per-address). */
  const perAddress = new Map<string, number>();
  const refusedPerAddress = new RateLimitedCounter(REFUSAL_LOG_INTERVAL_MS, (n, total) =>
    log.warn({ refused: n, total, maxConnectionsPerAddress: config.maxConnectionsPerAddress }, `refused ${n} connection(s): --max-connections-per-address ${config.maxConnectionsPerAddress} reached`),
  );
  const timeouts = new ConnectionTimeouts({ headersMs, idleMs, log });
  const cors = corsPolicy(config.corsOrigins);

  // --- per-request delivery tracking and logging -------------------------------------------------

  /** Each request of onRequest (its Delivery) until its response closes. */
  const tracked = new WeakMap<object, Tracked>();
  /** The client address and transport of each connection (for aws:SourceIp and aws:SecureTransport), made once per connection. */
  const sources = new WeakMap<object, RequestSource>();
  const sourceOf = (connection: object | undefined, ip: string | undefined, secure: boolean): RequestSource => {
    if (connection === undefined) return { ip, secure };
    let s = sources.get(connection);
    if (s === undefined) sources.set(connection, (s = Object.freeze({ ip, secure })));
    return s;
  };
  /** Context values of a request: its Delivery under deliveryKey. */
  const contextValues = (req: NodeRequest): ContextValues => {
    // Not seen by onRequest (cannot happen for requests of these servers): untracked but valid.
    const d: Delivery = tracked.get(req) ?? new Delivery();
    const socket = (req as { socket?: net.Socket }).socket;
    return new RequestValues()
      .set(deliveryKey, d)
      .set(sourceKey, sourceOf(socket, socket?.remoteAddress, socket instanceof tls.TLSSocket));
  };

  const shutdown = new AbortController();
  let closing = false;
  /** HTTP/1.1 responses not yet closed, to mark `Connection: close` when shutdown starts. */
  const openH1 = new Set<http.ServerResponse>();

  const aws = createAwsJsonHandler({
    services: awsRouted,
    logger: opts.logger,
    maxBodyBytes: config.maxBodyBytes,
    contextValues,
    edgeReportsClose: true,
    authenticate: auth.mode === "off" ? undefined : (req, body, service, values) => auth.authenticateAwsJson({ method: req.method ?? "", url: req.url ?? "/", headers: req.headers }, body, service, values),
    authorize: auth.mode === "off" ? undefined : (_req, service, operation, input, values) => auth.authorizeAwsJson(service, operation, input, values),
    openTokens: auth.mode === "off" ? undefined : (service, input, values) => auth.openTokens(service, input, values),
    sealTokens: auth.mode === "off" ? undefined : (service, output, values) => auth.sealTokens(service, output, values),
    admit: (req, service, operation, values) => {
      try {
        return limits.admit(callerOf(values), service, operation, Date.now());
      } catch (e) {
        // The SDKs back off by these headers; sendFault keeps headers already set.
        if (e instanceof ThrottlingFault) for (const [k, v] of Object.entries(e.headers)) tracked.get(req)?.res.setHeader(k, v);
        throw e;
      }
    },
    inScope: (values, call) => auth.inScope(values, call),
  });

  /** RPC routes: the same limits, after authentication (the caller is known then). */
  const limitsInterceptor: Interceptor = (next) => (req) => {
    const service = awsPrefixes.get(req.service.typeName);
    if (service === undefined) return next(req);
    const caller = callerOf(req.contextValues);
    let release: () => void;
    try {
      release = limits.admit(caller, service, req.method.name, Date.now());
    } catch (e) {
      if (!(e instanceof Fault)) return Promise.reject(e);
      const err = toConnectError(e);
      if (e instanceof ThrottlingFault) for (const [k, v] of Object.entries(e.headers)) err.metadata.set(k, v);
      return Promise.reject(err);
    }
    // A stream is counted against the rates only; a unary call holds its slots until answered.
    if (req.stream) {
      release();
      return next(req);
    }
    let answer: ReturnType<typeof next>;
    try {
      answer = next(req);
    } catch (e) {
      release();
      return Promise.reject(e);
    }
    // Not awaited in a frame of its own: a held poll keeps one reaction and its two callbacks
    // rather than a suspended async function.
    return answer.then(
      (r) => (release(), r),
      (e: unknown) => {
        release();
        throw e;
      },
    );
  };

  /** Full names of the services on the Connect routes, for "unimplemented" messages. */
  const served: ReadonlySet<string> = new Set(opts.services.map((s) => s.desc.typeName));

  const fallback: NodeHandler = (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      const ok = opts.ready();
      // Counters only: nothing here walks the connections or the file table.
      const body = JSON.stringify({
        status: ok ? "ok" : "unavailable",
        connections: { open: sockets.size, max: config.maxConnections, http2Sessions: timeouts.sessions, refused: refusedAtCap.snapshot() },
        openFiles: { limit: fdLimit ?? null, reserved: fdReserve, exhausted: fdExhausted.snapshot() },
      });
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store" });
      if (req.method === "HEAD") res.end();
      else res.end(body);
      return;
    }
    // connect-node narrows the request and response types to what both http and http2 share; the
    // objects are the servers' own, which the AWS handler and the error writers take.
    const protocol = rpcProtocol(headerValue(req.headers["content-type"]), path);
    if (protocol !== undefined) {
      (req as AwsJsonRequest).resume(); // discard the body; the connection stays usable
      sendRpcError(req as AwsJsonRequest, res as AwsJsonResponse, protocol, "unimplemented", unimplementedMessage(path, served));
      return;
    }
    aws(req as AwsJsonRequest, res as AwsJsonResponse);
  };

  // Unary calls take a lean path in front of connect-es (lean-unary.ts); same options.
  const handler = leanUnaryAdapter({
    // Every method of every service; a request connect-es cannot decode is invalid_argument.
    routes: connectRoutes(opts.services, (e) => log.debug({ err: e }, "malformed RPC request")),
    fallback,
    contextValues,
    interceptors: [createFaultInterceptor((cause) => log.error({ err: cause }, "internal failure in an RPC handler")), auth.interceptor, limitsInterceptor],
    readMaxBytes: config.maxBodyBytes,
    shutdownSignal: shutdown.signal,
  });

  /** The TCP connection under each HTTP/2 session. */
  const h2Sockets = new WeakMap<http2.Http2Session, net.Socket>();
  /** Connections whose HTTP/2 session failed or ended abruptly (the socket itself reports no error then). */
  const failedSockets = new WeakSet<net.Socket>();
  const settler = new DeliverySettler((socket) => failedSockets.has(socket), config.deliverySettleMs);

  /** What a raw lean stream's close settles and logs. */
  const leanStreams = new WeakMap<http2.ServerHttp2Stream, TrackedStream>();
  /**
   * A raw lean stream closed (`this`): as onRequest's close listener for an HTTP/2 response, its
   * answer counts as written if it was ended and the stream closed without error, and must then
   * survive the settle window; otherwise it is undelivered. One function for every stream.
   */
  function onLeanStreamClose(this: http2.ServerHttp2Stream): void {
    const t = leanStreams.get(this);
    if (t === undefined) return;
    leanStreams.delete(this);
    // A stream its session's end destroyed reports itself ended too: only an answer that was
    // started (headers sent) and ended counts as written.
    const finished = this.headersSent && this.writableEnded && this.rstCode === http2.constants.NGHTTP2_NO_ERROR;
    if (finished) written(t);
    else t.undelivered();
    handler.streamClosed(this);
    const status = this.headersSent ? Number(this.sentHeaders[":status"]) : 200;
    const line = { method: "POST", path: t.path, http: "2.0", status, ms: Math.round((performance.now() - t.started) * 10) / 10, ...(finished ? {} : { aborted: true }) };
    if (finished && status >= 500) log.error(line, "request failed");
    else log.debug(line, "request");
  }

  /**
   * Takes an HTTP/2 stream whose request is a lean unary call (handler.route) and serves it raw,
   * with what onRequest gives every request: a Delivery settled on close, the request's log
   * line, CORS headers, the client address. Requests onRequest or the compatibility API answer
   * themselves (no authority, a body declared over the limit, an Expect header) are left to them.
   * False: not taken, the stream is untouched.
   */
  const onLeanStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[]): boolean => {
    const route = handler.route(headers);
    if (route === undefined) return false;
    // An Expect header is answered by the compatibility API (100 Continue, or 417).
    if (headers.expect !== undefined) return false;
    const authority = headers[":authority"] ?? headers.host;
    if (authority === undefined || authority === "") return false;
    if (Number(headerValue(headers["content-length"])) > config.maxBodyBytes) return false;
    const c = corsDecision(cors, "POST", headers);
    if (c.kind === "preflight") return false;
    // The stream no longer names its session once closed: the connection is noted now.
    const session = stream.session;
    const socket = session === undefined ? undefined : h2Sockets.get(session);
    const delivery = new TrackedStream(performance.now(), headerValue(headers[":path"]) ?? "", socket);
    leanStreams.set(stream, delivery);
    stream.on("close", onLeanStreamClose);
    const values = new RequestValues().set(deliveryKey, delivery).set(sourceKey, sourceOf(session, socket?.remoteAddress, session?.encrypted === true));
    try {
      handler.serveStream(route, stream, headers, rawHeaders, values, c.kind === "actual" ? c.headers : undefined);
    } catch (e) {
      log.error({ err: e, method: "POST", path: headers[":path"] }, "request refused before routing");
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
    return true;
  };

  /** An answer was written completely: delivered once its connection survives the settle window. */
  function written(t: Delivery & { readonly connection: net.Socket | undefined }): void {
    if (t.connection === undefined) t.delivered();
    else settler.written(t.connection, t);
  }
  // HTTP/1.1: 'finish' means the socket's write callback for the last byte ran (the kernel took
  // it). HTTP/2's compatibility response emits 'finish' (and reports writableFinished) also for
  // a reset stream, so there the response counts as written only if it was ended and its stream
  // closed without error. Either way the connection must then survive the settle window.
  function onH1Finish(this: http.ServerResponse): void {
    const t = tracked.get(this.req);
    if (t === undefined || t.finished) return;
    t.finished = true;
    written(t);
  }
  function onResponseClose(this: http.ServerResponse | http2.Http2ServerResponse): void {
    const t = tracked.get(this.req);
    if (t === undefined) return;
    const { req } = t;
    tracked.delete(req);
    const h1 = this instanceof http.ServerResponse ? this : undefined;
    if (h1 === undefined) {
      const h2res = this as http2.Http2ServerResponse;
      t.finished = h2res.writableEnded && h2res.stream.rstCode === http2.constants.NGHTTP2_NO_ERROR;
      if (t.finished) written(t);
      else t.undelivered();
    } else {
      if (!t.finished) t.undelivered();
      openH1.delete(h1);
      // During shutdown a keep-alive connection is closed as soon as it has nothing to do.
      if (closing) setImmediate(() => h1Server.closeIdleConnections());
    }
    // The AWS JSON handler learns of the close here rather than by a listener of its own.
    aws.closed(this);
    const target = req.headers["x-amz-target"];
    const line = {
      method: req.method,
      path: req.url,
      ...(typeof target === "string" ? { target } : {}),
      http: req.httpVersion,
      status: this.statusCode,
      ms: Math.round((performance.now() - t.started) * 10) / 10,
      ...(t.finished ? {} : { aborted: true }),
    };
    // A client that went away is not an error; a 5xx other than an unready /healthz is.
    if (t.finished && this.statusCode >= 500 && !(req.url ?? "").startsWith("/healthz")) log.error(line, "request failed");
    else log.debug(line, "request");
  }

  const onRequest = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const h1 = res instanceof http.ServerResponse ? res : undefined;
    const h2session = h1 === undefined ? (res as http2.Http2ServerResponse).stream.session : undefined;
    /** The TCP connection the response goes out on. */
    const connection: net.Socket | undefined = h1 !== undefined ? (req as http.IncomingMessage).socket : h2session === undefined ? undefined : h2Sockets.get(h2session);
    if (h1 !== undefined) {
      openH1.add(h1);
      if (closing) h1.setHeader("connection", "close");
    }
    tracked.set(req, new Tracked(req, res, performance.now(), connection));
    // Each fires once: `on` rather than `once` spares a wrapper per request.
    if (h1 !== undefined) h1.on("finish", onH1Finish);
    res.on("close", onResponseClose);
    // CORS (cors.ts) before any route: a preflight is answered here; an actual request's
    // response gets its headers whatever the route writes.
    const c = corsDecision(cors, req.method, req.headers);
    if (c.kind === "preflight") {
      req.resume();
      res.statusCode = c.status;
      for (const [k, v] of Object.entries({ ...c.headers, "content-length": "0" })) res.setHeader(k, v);
      res.end();
      return;
    }
    if (c.kind === "actual") for (const [k, v] of Object.entries(c.headers)) res.setHeader(k, v);
    const url = req.url ?? "";
    const path = url.split("?", 1)[0];
    const rpc = path !== "/" && path !== "/healthz";
    // HTTP/1.1 requires Host (RFC 9112 §3.2; http.Server's own check would answer without a
    // body), and the RPC routes need an authority (connect-node throws without one), which an
    // HTTP/1.0 request may not name. (nghttp2 resets an HTTP/2 request without one.)
    const authority = h1 === undefined ? (req as http2.Http2ServerRequest).authority : req.headers.host;
    if ((authority === undefined || authority === "") && (rpc || req.httpVersion === "1.1")) {
      req.resume();
      sendBadRequest(req, res, path, "the request names no authority: send a Host header (HTTP/1.x) or :authority (HTTP/2)");
      return;
    }
    if (rpc) {
      const protocol = rpcProtocol(headerValue(req.headers["content-type"]), path);
      // A body declared over the limit on an RPC route is refused before it is read, with the
      // limit in the message (Connect's own check reports it as "readMaxBytes").
      const declared = Number(headerValue(req.headers["content-length"]));
      if (protocol !== undefined && declared > config.maxBodyBytes) {
        req.resume();
        sendRpcError(req, res, protocol, "resource_exhausted", tooLargeMessage(declared, config.maxBodyBytes), true);
        return;
      }
    }
    try {
      handler(req as NodeRequest, res as NodeResponse);
    } catch (e) {
      // A request the Connect adapter cannot take; never let it escape as an uncaught exception.
      log.error({ err: e, method: req.method, path: req.url }, "request refused before routing");
      if (!res.headersSent) sendRpcError(req, res, rpcProtocol(headerValue(req.headers["content-type"]), path) ?? "connect", "internal", "internal error", true);
      else res.destroy();
    }
  };

  // --- the two protocol servers ------------------------------------------------------------------

  const h1Server = http.createServer(
    {
      keepAlive: true,
      keepAliveTimeout: idleMs,
      headersTimeout: headersMs,
      requestTimeout: parserLimits.requestTimeoutMs,
      connectionsCheckingInterval: checkIntervalMs(headersMs, idleMs),
      // Checked in onRequest, to answer with a body.
      requireHostHeader: false,
    },
    onRequest,
  );
  // http.Server tracks its connections (for closeIdleConnections and the headersTimeout /
  // requestTimeout checks) only from its 'listening' event, which a server that never listens
  // itself does not get. Emitting it starts that tracking; nothing else listens for it.
  h1Server.emit("listening");
  /** Connections already answered for a parser error (the parser reports each further chunk again). */
  const rejected = new WeakSet<stream.Duplex>();
  h1Server.on("clientError", (err: ClientError, socket: stream.Duplex) => {
    if (rejected.has(socket)) return;
    rejected.add(socket);
    // Write nothing into a response already under way, as Node's default handler does.
    const inFlight = (socket as unknown as { _httpMessage?: http.ServerResponse | null })._httpMessage;
    const text = socket.writable && !(inFlight?.headersSent ?? false) ? clientErrorResponse(err, parserLimits) : undefined;
    if (text === undefined) {
      socket.destroy();
      return;
    }
    log.debug({ code: err.code, reason: err.reason ?? err.message }, "rejected a request the HTTP/1.1 parser could not read");
    socket.end(text);
    // Closing at once could turn unread request bytes into a reset that discards the response;
    // give the client a moment to read it and close.
    const linger = setTimeout(() => socket.destroy(), 1000).unref();
    socket.once("close", () => clearTimeout(linger));
  });

  const h2Server = http2.createServer(
    {
      settings: { maxConcurrentStreams: config.maxConcurrentStreams },
      maxSessionMemory: sessionMemoryMiB(config.maxConcurrentStreams),
      maxSessionInvalidFrames: MAX_SESSION_INVALID_FRAMES,
    },
    onRequest,
  );
  // A unary call is served from its raw stream (lean-unary.ts): no compatibility request and
  // response are made for it. Every other stream goes to the listener through which Node's
  // compatibility API makes them and calls onRequest, as before.
  const compatStream = h2Server.listeners("stream");
  h2Server.removeAllListeners("stream");
  h2Server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (onLeanStream(stream, headers, rawHeaders)) return;
    for (const l of compatStream) Reflect.apply(l, h2Server, [stream, headers, flags, rawHeaders]);
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  /** The connection being handed to h2Server (its 'session' event fires synchronously). */
  let handingOver: { socket: net.Socket; startedAt: number } | undefined;
  h2Server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    const origin = handingOver;
    if (origin !== undefined) {
      h2Sockets.set(session, origin.socket);
      timeouts.session(session, origin.socket, origin.startedAt);
      // Node reports a connection reset under an HTTP/2 session as a plain close. A client that
      // ends a connection in order sends GOAWAY first; one that vanishes without it (crashed,
      // reset) has not read what was still in flight. Closes the server starts are not failures.
      let peerGoaway = false;
      session.on("goaway", () => (peerGoaway = true));
      session.on("error", () => failedSockets.add(origin.socket));
      session.once("close", () => {
        if (!peerGoaway && !closing && !timeouts.closedByServer(session)) failedSockets.add(origin.socket);
      });
    }
    if (closing) session.close();
  });
  h2Server.on("sessionError", (err: Error) => log.debug({ err }, "http/2 session error"));

  // --- the listening socket ----------------------------------------------------------------------

  /** Sockets whose first bytes have not arrived yet. */
  const peeking = new Set<net.Socket>();

  /** A connection closed (`this`): forget it. One function for every connection. */
  function onSocketClose(this: net.Socket): void {
    sockets.delete(this);
    peeking.delete(this);
    timeouts.detected(this);
  }
  /** With --max-connections-per-address: a connection closed (`this`), its address holds one fewer. */
  function onAddressClose(this: net.Socket): void {
    const address = this.remoteAddress ?? "";
    const n = (perAddress.get(address) ?? 1) - 1;
    if (n <= 0) perAddress.delete(address);
    else perAddress.set(address, n);
  }
  /**
   * After a last response (`Connection: close`) http.Server calls destroySoon() on the socket
   * (`this`): send FIN but keep reading through the settle window, so a reset of that response is
   * still seen.
   */
  function destroyAfterWindow(this: net.Socket): void {
    settler.closeAfterWindow(this);
  }

  /** Hands a connection whose protocol is known to the server of that protocol. */
  const handOver = (socket: net.Socket, transport: net.Socket, h2: boolean, startedAt: number): void => {
    if (h2) {
      handingOver = { socket, startedAt };
      try {
        h2Server.emit("connection", transport);
      } finally {
        handingOver = undefined;
      }
    } else {
      transport.destroySoon = destroyAfterWindow;
      h1Server.emit("connection", transport);
    }
  };

  /**
   * Reads a plaintext connection's first bytes to tell its protocol, then pushes them back and
   * hands it over. In a function of its own: the listeners and the bytes read are released once
   * the protocol is known (a closure the connection keeps would otherwise keep them all).
   */
  const peek = (socket: net.Socket, startedAt: number): void => {
    let buffered: Buffer = Buffer.alloc(0);
    const onError = (err: Error): void => {
      log.debug({ err }, "connection failed before its first request");
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, H2_PREFACE.length);
      const isH2 = buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && buffered.length < H2_PREFACE.length) return; // a prefix of the preface: wait for more
      socket.off("data", onData);
      socket.off("error", onError);
      socket.pause();
      socket.unshift(buffered);
      peeking.delete(socket);
      timeouts.detected(socket);
      handOver(socket, socket, isH2, startedAt);
      // http.Server reads with a 'data' listener, which does not restart a paused socket.
      if (!isH2) socket.resume();
    };
    socket.on("error", onError);
    socket.on("data", onData);
  };

  /** TLS: the protocol is the one ALPN agreed on (h2, else HTTP/1.1); the headers timeout covers the handshake as it covers a plaintext connection's first bytes. */
  const handshake = (socket: net.Socket, startedAt: number, context: tls.SecureContext): void => {
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: ["h2", "http/1.1"] });
    secure.on("error", (err: Error) => {
      log.debug({ err }, "TLS connection failed");
      socket.destroy();
    });
    secure.once("secure", () => {
      // tls.Server clears this flag once a server-side handshake is done; a TLSSocket made by
      // hand keeps it, and an HTTP/2 session would then wait for a client-side event forever.
      (secure as unknown as { secureConnecting: boolean }).secureConnecting = false;
      peeking.delete(socket);
      timeouts.detected(socket);
      handOver(socket, secure, secure.alpnProtocol === "h2", startedAt);
    });
  };

  const onConnection = (socket: net.Socket): void => {
    // The kernel hands out the lowest free descriptor: one this high means the table is nearly
    // full, and the next accept() would fail without Node noticing (see limits.ts).
    if (fdCeiling !== undefined) {
      const fd = fdOf(socket);
      if (fd !== undefined && fd >= fdCeiling) {
        socket.destroy();
        fdExhausted.note();
        return;
      }
    }
    if (config.maxConnectionsPerAddress > 0) {
      const address = socket.remoteAddress ?? "";
      const open = perAddress.get(address) ?? 0;
      if (open >= config.maxConnectionsPerAddress) {
        socket.destroy();
        refusedPerAddress.note();
        return;
      }
      perAddress.set(address, open + 1);
      socket.on("close", onAddressClose);
    }
    const startedAt = performance.now();
    sockets.add(socket);
    socket.on("close", onSocketClose);
    if (closing) {
      socket.destroy();
      return;
    }
    peeking.add(socket);
    timeouts.undetected(socket, startedAt);
    if (secureContext !== undefined) handshake(socket, startedAt, secureContext);
    else peek(socket, startedAt);
  };

  const netServer = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 }, onConnection);
  netServer.maxConnections = config.maxConnections;
  netServer.on("drop", () => refusedAtCap.note());
  await new Promise<void>((resolve, reject) => {
    const onListenError = (err: Error): void => {
      timeouts.stop();
      reject(err);
    };
    netServer.once("error", onListenError);
    netServer.listen({ host: config.host, port: config.port }, () => {
      netServer.off("error", onListenError);
      resolve();
    });
  });
  netServer.on("error", (err: NodeJS.ErrnoException) => {
    // Reported only when libuv has no spare descriptor left to refuse the connection with.
    if (err.code === "EMFILE" || err.code === "ENFILE") fdExhausted.note();
    else log.error({ err }, "listening socket failed");
  });

  const address = netServer.address() as net.AddressInfo;
  const port = address.port;
  const host = config.host;
  const url = `${secureContext === undefined ? "http" : "https"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (auth.mode === "off") {
    log.warn({ auth: "off", url }, `authentication is off: anyone who can reach ${url} can call every operation with any credentials; start with --auth sigv4 --auth-file <principals.json> on a shared network`);
  } else {
    log.info({ auth: auth.mode, authFile: config.authFile, principals: auth.principals }, `authentication: sigv4, ${auth.principals} principal(s) from ${config.authFile ?? ""}`);
  }
  const reloadCredentials = (): ReloadResult => {
    if (auth.mode === "off") {
      log.info("authentication is off: no principals file to reload");
      return { ok: true, principals: 0 };
    }
    const r = auth.reload();
    if (r.ok) log.info({ authFile: config.authFile, principals: r.principals }, `reloaded ${r.principals} principal(s) from ${config.authFile ?? "(none)"}`);
    else log.error({ authFile: config.authFile, error: r.error }, `principals file not reloaded, the previous principals stay in force: ${r.error}`);
    return r;
  };

  // --- graceful shutdown -------------------------------------------------------------------------

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      const allClosed = new Promise<void>((resolve) => netServer.close(() => resolve()));
      for (const s of peeking) s.destroy();
      for (const res of openH1) if (!res.headersSent) res.setHeader("connection", "close");
      h1Server.closeIdleConnections();
      for (const s of sessions) s.close();

      let graceOver = (): void => {};
      const graceExpired = new Promise<void>((resolve) => (graceOver = resolve));
      const deadline = setTimeout(() => {
        if (sockets.size > 0) log.warn({ connections: sockets.size, graceSeconds: config.shutdownGraceSeconds }, "shutdown grace period over: closing remaining connections");
        shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
        graceOver();
      }, graceMs);

      let hookDone = false;
      const hook = opts.onShutdown().then(
        () => void (hookDone = true),
        (err: unknown) => {
          hookDone = true;
          log.error({ err }, "shutdown hook failed");
        },
      );
      // A hook that hangs must not keep the process up past the grace period.
      await Promise.race([hook, graceExpired]);
      if (!hookDone) log.error({ graceSeconds: config.shutdownGraceSeconds }, "shutdown hook did not finish within the grace period");
      // close() also stops http.Server's connection-checking interval.
      h1Server.close();
      h2Server.close();
      h1Server.closeIdleConnections();
      await allClosed;
      clearTimeout(deadline);
      // Every connection is gone: what waited for its settle window is decided now.
      settler.flush();
      timeouts.stop();
      refusedAtCap.close();
      refusedPerAddress.close();
      fdExhausted.close();
    })();
    return closed;
  };

  return { port, host, url, close, reloadCredentials, reloadTls };
}

/** A secure context from a PEM certificate chain and key; throws naming the file that cannot be read or the mismatch. */
function loadSecureContext(certFile: string, keyFile: string): tls.SecureContext {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`${what} ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };
  const cert = read(certFile, "--tls-cert");
  const key = read(keyFile, "--tls-key");
  try {
    return tls.createSecureContext({ cert, key });
  } catch (e) {
    throw new Error(`--tls-cert ${certFile} and --tls-key ${keyFile} do not form a usable pair: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** One request of onRequest until its response closes: its Delivery, and what the close settles and logs (one object per request). */
class Tracked extends Delivery {
  readonly req: http.IncomingMessage | http2.Http2ServerRequest;
  readonly res: http.ServerResponse | http2.Http2ServerResponse;
  readonly started: number;
  /** The TCP connection the response goes out on. */
  readonly connection: net.Socket | undefined;
  finished = false;

  constructor(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse, started: number, connection: net.Socket | undefined) {
    super();
    this.req = req;
    this.res = res;
    this.started = started;
    this.connection = connection;
  }
}

/** A raw lean stream's request until its stream closes (server.ts onLeanStream): its Delivery and what its close logs. */
class TrackedStream extends Delivery {
  readonly started: number;
  readonly path: string;
  /** The TCP connection under the stream's session (a closed stream no longer names its session). */
  readonly connection: net.Socket | undefined;

  constructor(started: number, path: string, connection: net.Socket | undefined) {
    super();
    this.started = started;
    this.path = path;
    this.connection = connection;
  }
}

/**
 * A request's context values, as connect-es's createContextValues() keeps them (under each key's
 * id on the object itself), with the methods on the prototype: a held request keeps one object
 * rather than one and three closures.
 */
class RequestValues implements ContextValues {
  get<T>(key: ContextKey<T>): T {
    const own = this as unknown as Record<symbol, T>;
    return key.id in own ? own[key.id] : key.defaultValue;
  }

  set<T>(key: ContextKey<T>, value: T): this {
    (this as unknown as Record<symbol, T>)[key.id] = value;
    return this;
  }

  delete(key: ContextKey<unknown>): this {
    delete (this as unknown as Record<symbol, unknown>)[key.id];
    return this;
  }
}
