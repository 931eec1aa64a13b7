// One port for everything: the AWS JSON route, Connect, gRPC (h2c), gRPC-Web and /healthz.
//
// A net.Server accepts every connection and reads its first bytes: a connection that opens with
// the HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, RFC 9113 §3.4) goes to an
// http2.Server, any other to an http.Server, after the peeked bytes are pushed back onto the
// socket. Both servers run the same handler: connectNodeAdapter for the registered services, whose
// fallback answers /healthz and hands every other request to the AWS JSON handler.
//
// Every request gets a Delivery (src/context.ts) tied to its response: `delivered()` once the
// response is completely written (HTTP/1.1 'finish'; HTTP/2: ended, stream closed with NO_ERROR),
// `undelivered()` when the response closes before that (client gone, socket broken, stream
// reset), so a long poll can put back a task it could not hand over.
//
// Shutdown (close()): stop accepting connections; ask HTTP/1.1 clients to close after their
// current response and send HTTP/2 GOAWAY; await onShutdown (the app answers open long polls with
// the empty result and ends streams); close idle connections as they become idle; after
// shutdownGraceSeconds abort what still runs and destroy every remaining socket.
import * as net from "node:net";
import * as http from "node:http";
import * as http2 from "node:http2";
import { Code, ConnectError, createContextValues, type ConnectRouter, type ContextValues } from "@connectrpc/connect";
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { Delivery, deliveryKey } from "../context.ts";
import { createAwsJsonHandler, type AwsJsonRequest, type AwsJsonResponse } from "../awsjson/handler.ts";
import { createFaultInterceptor } from "../faults-connect.ts";
import type { RegisteredService } from "../services/registry.ts";
import type { Config } from "./config.ts";
import { child } from "./logger.ts";

/** What startServer needs. */
export interface ServerOptions {
  readonly config: Config;
  /** The root logger; the server logs under component "server". */
  readonly logger: Logger;
  /** Every service to mount, on the Connect/gRPC/gRPC-Web routes and on the AWS JSON route. */
  readonly services: RegisteredService[];
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
  /** `http://<host>:<port>` (IPv6 hosts in brackets). */
  readonly url: string;
  /** Graceful shutdown (see the file comment); resolves once every connection is closed. Idempotent. */
  close(): Promise<void>;
}

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type NodeRequest = Parameters<NodeHandler>[0];
type NodeResponse = Parameters<NodeHandler>[1];

/** The HTTP/2 client connection preface. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** A connection that sends nothing for this long before its first bytes is dropped (http's own headersTimeout takes over after). */
const FIRST_BYTES_TIMEOUT_MS = 60_000;

/**
 * How long an idle HTTP/1.1 keep-alive connection stays open. Longer than the idle timeouts of
 * common clients (Node's global agent drops idle sockets after 5 s) so a client rarely
 * reuses a connection the server is closing at the same moment.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Starts the server on config.host:config.port; rejects if the port cannot be bound. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { config } = opts;
  const log = child(opts.logger, "server");
  const graceMs = Math.round(config.shutdownGraceSeconds * 1000);

  // --- per-request delivery tracking and logging -------------------------------------------------

  const deliveries = new WeakMap<NodeRequest, Delivery>();
  /** Context values of a request: its Delivery under deliveryKey. */
  const contextValues = (req: NodeRequest): ContextValues => {
    let d = deliveries.get(req);
    if (d === undefined) {
      // Not seen by onRequest (cannot happen for requests of these servers); untracked but valid.
      d = new Delivery();
      deliveries.set(req, d);
    }
    return createContextValues().set(deliveryKey, d);
  };

  const shutdown = new AbortController();
  let closing = false;
  /** HTTP/1.1 responses not yet closed, to mark `Connection: close` when shutdown starts. */
  const openH1 = new Set<http.ServerResponse>();

  const aws = createAwsJsonHandler({
    services: opts.services,
    logger: opts.logger,
    maxBodyBytes: config.maxBodyBytes,
    contextValues,
  });

  const fallback: NodeHandler = (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      const ok = opts.ready();
      const body = JSON.stringify({ status: ok ? "ok" : "unavailable" });
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store" });
      if (req.method === "HEAD") res.end();
      else res.end(body);
      return;
    }
    // connect-node narrows the response type to what both http and http2 share; the objects are
    // the servers' own ServerResponse / Http2ServerResponse, which the AWS handler takes.
    aws(req as AwsJsonRequest, res as AwsJsonResponse);
  };

  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      for (const s of opts.services) router.service(s.desc, s.impl);
    },
    fallback,
    contextValues,
    interceptors: [createFaultInterceptor((cause) => log.error({ err: cause }, "internal failure in an RPC handler"))],
    readMaxBytes: config.maxBodyBytes,
    shutdownSignal: shutdown.signal,
  });

  const onRequest = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const started = performance.now();
    const delivery = new Delivery();
    deliveries.set(req, delivery);
    const h1 = res instanceof http.ServerResponse ? res : undefined;
    if (h1 !== undefined) {
      openH1.add(h1);
      if (closing) h1.setHeader("connection", "close");
    }
    let finished = false;
    // HTTP/1.1: 'finish' means the whole response went to the socket. HTTP/2's compatibility
    // response emits 'finish' (and reports writableFinished) also for a reset stream, so there
    // the response counts as delivered only if it was ended and its stream closed without error.
    if (h1 !== undefined) {
      h1.once("finish", () => {
        finished = true;
        delivery.delivered();
      });
    }
    res.once("close", () => {
      if (h1 === undefined) {
        const h2res = res as http2.Http2ServerResponse;
        finished = h2res.writableEnded && h2res.stream.rstCode === http2.constants.NGHTTP2_NO_ERROR;
      } else {
        finished ||= h1.writableFinished;
      }
      if (finished) delivery.delivered();
      else delivery.undelivered();
      if (h1 !== undefined) {
        openH1.delete(h1);
        // During shutdown a keep-alive connection is closed as soon as it has nothing to do.
        if (closing) setImmediate(() => h1Server.closeIdleConnections());
      }
      const target = req.headers["x-amz-target"];
      const line = {
        method: req.method,
        path: req.url,
        ...(typeof target === "string" ? { target } : {}),
        http: req.httpVersion,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(finished ? {} : { aborted: true }),
      };
      // A client that went away is not an error; a 5xx other than an unready /healthz is.
      if (finished && res.statusCode >= 500 && !(req.url ?? "").startsWith("/healthz")) log.error(line, "request failed");
      else log.debug(line, "request");
    });
    handler(req as NodeRequest, res as NodeResponse);
  };

  // --- the two protocol servers ------------------------------------------------------------------

  const h1Server = http.createServer({ keepAlive: true, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, onRequest);
  // http.Server tracks its connections (for closeIdleConnections and the headersTimeout /
  // requestTimeout checks) only from its 'listening' event, which a server that never listens
  // itself does not get. Emitting it starts that tracking; nothing else listens for it.
  h1Server.emit("listening");

  const h2Server = http2.createServer({}, onRequest);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2Server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (closing) session.close();
  });
  h2Server.on("sessionError", (err: Error) => log.debug({ err }, "http/2 session error"));

  // --- the listening socket ----------------------------------------------------------------------

  const sockets = new Set<net.Socket>();
  /** Sockets whose first bytes have not arrived yet. */
  const peeking = new Set<net.Socket>();

  const onConnection = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      peeking.delete(socket);
    });
    if (closing) {
      socket.destroy();
      return;
    }
    peeking.add(socket);
    let buffered: Buffer = Buffer.alloc(0);
    const onTimeout = (): void => {
      socket.destroy();
    };
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
      socket.setTimeout(0, onTimeout);
      socket.pause();
      socket.unshift(buffered);
      peeking.delete(socket);
      if (isH2) {
        h2Server.emit("connection", socket);
      } else {
        h1Server.emit("connection", socket);
        // http.Server reads with a 'data' listener, which does not restart a paused socket.
        socket.resume();
      }
    };
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, onTimeout);
    socket.on("error", onError);
    socket.on("data", onData);
  };

  const netServer = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 }, onConnection);
  await new Promise<void>((resolve, reject) => {
    const onListenError = (err: Error): void => reject(err);
    netServer.once("error", onListenError);
    netServer.listen({ host: config.host, port: config.port }, () => {
      netServer.off("error", onListenError);
      resolve();
    });
  });
  netServer.on("error", (err: Error) => log.error({ err }, "listening socket failed"));

  const address = netServer.address() as net.AddressInfo;
  const port = address.port;
  const host = config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

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
    })();
    return closed;
  };

  return { port, host, url, close };
}
