// Connection timeouts the protocol servers do not enforce themselves, checked by one shared timer:
//
// - a connection whose first bytes do not tell its protocol (nothing sent, or only part of the
//   HTTP/2 preface) within the headers timeout is destroyed;
// - an HTTP/2 connection that has not completed the headers of its first request within the
//   headers timeout, counted from its start, is closed: GOAWAY, then destroyed;
// - an HTTP/2 connection without open streams for the idle timeout is closed with GOAWAY
//   (NO_ERROR), as HTTP/1.1 keep-alive connections are by http.Server's keepAliveTimeout.
//
// Open streams are never timed out: a held long poll (up to 60-90 s) or a server-streaming RPC
// (indefinitely) keeps its connection. A connection that has not closed `closeGraceMs` after its
// GOAWAY is destroyed.
import type * as net from "node:net";
import type * as http2 from "node:http2";
import type { Logger } from "pino";

export interface TimeoutOptions {
  readonly headersMs: number;
  readonly idleMs: number;
  readonly log: Logger;
}

interface Session {
  readonly session: http2.ServerHttp2Session;
  readonly socket: net.Socket;
  readonly startedAt: number;
  streams: number;
  sawStream: boolean;
  idleSince: number;
  closingAt: number | undefined;
}

/** How often the shared timer looks (and http.Server's connection check runs): a quarter of the shorter timeout, between 10 ms and 1 s. */
export function checkIntervalMs(headersMs: number, idleMs: number): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(headersMs, idleMs) / 4)));
}

/** Enforces the timeouts above for the connections it is told about. */
export class ConnectionTimeouts {
  readonly #headersMs: number;
  readonly #idleMs: number;
  readonly #closeGraceMs: number;
  readonly #log: Logger;
  readonly #undetected = new Map<net.Socket, number>();
  readonly #sessions = new Map<http2.ServerHttp2Session, Session>();
  readonly #closed = new WeakSet<http2.ServerHttp2Session>();
  readonly #timer: NodeJS.Timeout;

  constructor(opts: TimeoutOptions) {
    this.#headersMs = opts.headersMs;
    this.#idleMs = opts.idleMs;
    this.#closeGraceMs = Math.min(5000, opts.headersMs);
    this.#log = opts.log;
    this.#timer = setInterval(() => this.check(performance.now()), checkIntervalMs(opts.headersMs, opts.idleMs)).unref();
  }

  /** A new connection whose protocol is not known yet. */
  undetected(socket: net.Socket, startedAt: number): void {
    this.#undetected.set(socket, startedAt);
  }

  /** The connection's protocol is known (or it closed). */
  detected(socket: net.Socket): void {
    this.#undetected.delete(socket);
  }

  /** An HTTP/2 session on `socket`, which connected at `startedAt`. */
  session(session: http2.ServerHttp2Session, socket: net.Socket, startedAt: number): void {
    const s: Session = { session, socket, startedAt, streams: 0, sawStream: false, idleSince: startedAt, closingAt: undefined };
    this.#sessions.set(session, s);
    // One close listener per session, shared by its streams ('close' fires once per stream).
    const onStreamClose = (): void => {
      if (--s.streams === 0) s.idleSince = performance.now();
    };
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      s.streams++;
      s.sawStream = true;
      stream.on("close", onStreamClose);
    });
    session.once("close", () => this.#sessions.delete(session));
  }

  /** Whether this closed `session` (idle, or no request headers in time). */
  closedByServer(session: http2.ServerHttp2Session): boolean {
    return this.#closed.has(session);
  }

  /** HTTP/2 sessions open. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Applies the timeouts as of `now` (performance.now() ms); the shared timer calls this. */
  check(now: number): void {
    for (const [socket, startedAt] of this.#undetected) {
      if (now - startedAt < this.#headersMs) continue;
      this.#undetected.delete(socket);
      this.#log.debug({ remote: socket.remoteAddress }, "connection closed: no request within the headers timeout");
      socket.destroy();
    }
    for (const s of this.#sessions.values()) {
      if (s.closingAt !== undefined) {
        if (now - s.closingAt >= this.#closeGraceMs) {
          s.session.destroy();
          s.socket.destroy();
        }
        continue;
      }
      if (!s.sawStream && now - s.startedAt >= this.#headersMs) {
        this.#log.debug({ remote: s.socket.remoteAddress }, "http/2 connection closed: no complete request headers within the headers timeout");
        this.#close(s, now);
      } else if (s.sawStream && s.streams === 0 && now - s.idleSince >= this.#idleMs) {
        this.#log.debug({ remote: s.socket.remoteAddress }, "http/2 connection closed: idle");
        this.#close(s, now);
      }
    }
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #close(s: Session, now: number): void {
    s.closingAt = now;
    this.#closed.add(s.session);
    // With no open stream, close() sends GOAWAY and ends the session at once.
    if (!s.session.closed && !s.session.destroyed) s.session.close();
  }
}
