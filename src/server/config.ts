// The server's configuration: one typed object with documented defaults, read from environment
// variables and command-line flags (a flag wins over its variable, a variable over the default).
// Parsing is a pure function of (argv, env) so every rule is unit-tested; the entry point turns a
// ConfigError into a one-line message and exit code 2.
import type { AuthMode } from "../auth/index.ts";
import { LOG_LEVELS, type LogLevel } from "./logger.ts";

/** Where the store lives. */
export type DatabaseConfig =
  /** Embedded SQLite through node:sqlite; `path` is a file path or `:memory:`. */
  | { readonly kind: "sqlite"; readonly path: string }
  /** PostgreSQL; `url` is the `postgres://` / `postgresql://` connection string as given. */
  | { readonly kind: "postgres"; readonly url: string };

/** SQLite's `PRAGMA synchronous` in WAL mode: `normal` may lose the last commits on power loss (never corrupts), `full` fsyncs every commit. */
export type SqliteSync = "normal" | "full";

/** Everything the server reads at start. */
export interface Config {
  /** Interface to listen on. Default `127.0.0.1` (local only); `0.0.0.0` or `::` for every interface. */
  readonly host: string;
  /** TCP port for every protocol (AWS JSON, Connect, gRPC, gRPC-Web, /healthz). Default 8080; 0 picks a free port. */
  readonly port: number;
  /** The store. Default `sqlite:./data/taskgate.db`. */
  readonly database: DatabaseConfig;
  /**
   * Hold time, in seconds (fractions allowed), for every long poll, replacing each API's own AWS
   * hold time (60 s for SWF and Step Functions, 90 s for Data Pipeline). Undefined by default:
   * each API keeps its AWS hold time. Tests set a short one.
   */
  readonly longPollSeconds: number | undefined;
  /** pino level. Default `info`. */
  readonly logLevel: LogLevel;
  /** Largest request body accepted on any route, in bytes. Default 1 MiB + 64 KiB (SWF's own request limit is 1 MB). */
  readonly maxBodyBytes: number;
  /** SQLite durability. Default `normal`. Ignored for PostgreSQL. */
  readonly sqliteSync: SqliteSync;
  /** On shutdown, how long open requests and connections may take to finish before they are cut, in seconds. Default 10. */
  readonly shutdownGraceSeconds: number;
  /**
   * With several nodes on one PostgreSQL database: how long a node may miss its heartbeats (sent
   * every 2 s) before another node declares it dead and returns the tasks it had claimed but not
   * yet delivered to their queues. Default 10.
   */
  readonly nodeTimeoutSeconds: number;
  /**
   * Most TCP connections open at once (every protocol together). A connection over the cap is
   * closed as soon as it is accepted, and the refusals are logged (at most every 10 s). Default
   * 10,000. Connections are also refused, whatever this cap, when the process is about to run out
   * of file descriptors (see README, "Connections and limits").
   */
  readonly maxConnections: number;
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS advertised on every HTTP/2 connection: how many requests (held
   * long polls, streams) one connection may have open at once. Default 1,000.
   */
  readonly maxConcurrentStreams: number;
  /**
   * A connection with no request in progress (HTTP/1.1 keep-alive between requests, an HTTP/2
   * connection without open streams) is closed after this many seconds (HTTP/2: with GOAWAY).
   * Default 65, above the idle timeouts of common clients.
   */
  readonly idleTimeoutSeconds: number;
  /**
   * Time a client gets to send a request's headers, in seconds. A new connection gets this long
   * to send its first bytes; then HTTP/1.1 gets it for each request's headers (answered 408 when
   * late), HTTP/2 for its first request's headers, counted from the connection's start (closed
   * with GOAWAY when late). Default 60.
   */
  readonly headersTimeoutSeconds: number;
  /**
   * How long a written long-poll answer waits for its connection to fail before it counts as
   * delivered, in milliseconds (a reset within it puts the task back at once). Set it above the
   * round trip to the farthest workers. Default 20.
   */
  readonly deliverySettleMs: number;
  /**
   * The AWS region taskgate answers as: the region in every ARN it issues (SWF domains, Step
   * Functions activities, state machines, executions). Default `us-east-1`.
   */
  readonly region: string;
  /** The 12-digit AWS account id in every ARN taskgate issues. Default `000000000000`. */
  readonly accountId: string;
  /**
   * Most Step Functions GetActivityTask polls (and StreamActivityTasks streams) held at once on
   * one activity on this node; one more answers ActivityWorkerLimitExceeded. Default 1000.
   */
  readonly maxActivityPollers: number;
  /**
   * How requests are authenticated: `off` (anyone who reaches the port may do anything; the
   * start log says so) or `sigv4` (AWS Signature Version 4 on the AWS JSON route, SigV4 or a
   * bearer token on the RPC routes, against the principals of `authFile`). Default `off`.
   */
  readonly auth: AuthMode;
  /** The principals file (JSON, see README "Security"); required with `auth: "sigv4"`, re-read on SIGHUP. */
  readonly authFile: string | undefined;
  /**
   * Browser origins allowed to call taskgate across origins (CORS), on every route: exact
   * origins (`https://app.example.com`, `http://localhost:5173`) and/or `*` for any origin (local
   * development; never with credentials). Empty by default: no CORS headers at all, and a
   * preflight is answered as before CORS existed.
   */
  readonly corsOrigins: readonly string[];
  /**
   * TLS certificate chain (PEM file). With `tlsKey`, every connection is TLS: ALPN offers h2 and
   * http/1.1 on the one port, so every route and protocol works over TLS. Both files are re-read
   * on SIGHUP; new connections get the new certificate, open ones are not dropped. Default none.
   */
  readonly tlsCert: string | undefined;
  /** TLS private key (PEM file) of `tlsCert`; the two are given together. Default none. */
  readonly tlsKey: string | undefined;
  /**
   * Requests per second one caller (a principal with --auth sigv4, else a client address) may
   * make, as a token bucket holding one second's worth; over it: ThrottlingException with
   * Retry-After / x-amz-retry-after. 0 = unlimited (default).
   */
  readonly maxRequestsPerSecond: number;
  /** The same per caller and operation (a flood of one operation leaves the others open). 0 = unlimited (default). */
  readonly maxOperationRequestsPerSecond: number;
  /**
   * Long polls and task streams held at once per SWF task list (PollForActivityTask and
   * StreamActivityTasks, PollForDecisionTask and StreamDecisionTasks, each kind apart) and per Data
   * Pipeline worker group (PollForTask, StreamTasks) on this node, counted by the dispatch core;
   * one more answers SWF's LimitExceededFault or, for Data Pipeline, ThrottlingException.
   * Default 1000, as AWS.
   */
  readonly maxPollsPerTaskList: number;
  /**
   * Long polls one caller may hold at once across every queue (SWF, Step Functions, Data
   * Pipeline) on this node; over it the service's limit error. 0 = unlimited (default).
   */
  readonly maxPollsPerCaller: number;
  /** Connections one client address may hold open at once; more are closed on accept. 0 = unlimited (default). */
  readonly maxConnectionsPerAddress: number;
}

/** The defaults, as documented in `usage`. */
export const defaults: Config = {
  host: "127.0.0.1",
  port: 8080,
  database: { kind: "sqlite", path: "./data/taskgate.db" },
  longPollSeconds: undefined,
  logLevel: "info",
  maxBodyBytes: 1024 * 1024 + 64 * 1024,
  sqliteSync: "normal",
  shutdownGraceSeconds: 10,
  nodeTimeoutSeconds: 10,
  maxConnections: 10_000,
  maxConcurrentStreams: 1000,
  idleTimeoutSeconds: 65,
  headersTimeoutSeconds: 60,
  deliverySettleMs: 20,
  region: "us-east-1",
  accountId: "000000000000",
  maxActivityPollers: 1000,
  auth: "off",
  authFile: undefined,
  corsOrigins: [],
  tlsCert: undefined,
  tlsKey: undefined,
  maxRequestsPerSecond: 0,
  maxOperationRequestsPerSecond: 0,
  maxPollsPerTaskList: 1000,
  maxPollsPerCaller: 0,
  maxConnectionsPerAddress: 0,
};

/** A bad flag or variable; the message is one line naming it, the bad value and what is accepted. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Thrown by parseConfig when `--help` or `-h` is given; the caller prints `usage` and exits 0. */
export class HelpRequested extends Error {
  constructor() {
    super("help requested");
    this.name = "HelpRequested";
  }
}

/** The `--help` text. */
export const usage = `Usage: taskgate [flags]

Serves the Amazon SWF and AWS Step Functions JSON APIs, gRPC, gRPC-Web and Connect on one port.
Every flag has an environment variable; a flag wins over its variable.

  --host <addr>                 TASKGATE_HOST                    interface to listen on (default 127.0.0.1)
  --port <n>                    TASKGATE_PORT                    TCP port, 0..65535; 0 = any free port (default 8080)
  --database <url>              TASKGATE_DATABASE                sqlite:<path>, sqlite::memory:, or postgres://user:pass@host:port/db
                                                                 (default sqlite:./data/taskgate.db)
  --long-poll-seconds <s>       TASKGATE_LONG_POLL_SECONDS       hold time for every long poll, > 0, fractions allowed
                                                                 (default: each API's AWS hold time, 60 s or 90 s)
  --log-level <level>           TASKGATE_LOG_LEVEL               fatal, error, warn, info, debug, trace or silent (default info)
  --max-body-bytes <n>          TASKGATE_MAX_BODY_BYTES          largest request body in bytes (default 1114112 = 1 MiB + 64 KiB)
  --sqlite-sync <mode>          TASKGATE_SQLITE_SYNC             normal or full (default normal)
  --shutdown-grace-seconds <s>  TASKGATE_SHUTDOWN_GRACE_SECONDS  time open requests get to finish on shutdown, >= 0 (default 10)
  --node-timeout-seconds <s>    TASKGATE_NODE_TIMEOUT_SECONDS    silence after which another node declares this one dead and
                                                                 requeues its undelivered tasks, >= 0 (default 10)
  --max-connections <n>         TASKGATE_MAX_CONNECTIONS         most connections open at once; more are refused (default 10000)
  --max-concurrent-streams <n>  TASKGATE_MAX_CONCURRENT_STREAMS  most requests open at once on one HTTP/2 connection (default 1000)
  --idle-timeout-seconds <s>    TASKGATE_IDLE_TIMEOUT_SECONDS    a connection with no request in progress is closed after this
                                                                 long, > 0 (default 65)
  --headers-timeout-seconds <s> TASKGATE_HEADERS_TIMEOUT_SECONDS time a client gets to send a request's headers, > 0 (default 60)
  --delivery-settle-ms <ms>     TASKGATE_DELIVERY_SETTLE_MS      how long a written long-poll answer waits for its connection to fail
                                                                 before it counts as delivered; above the workers' round trip
                                                                 (default 20)
  --region <region>             TASKGATE_REGION                  AWS region in the ARNs taskgate issues, e.g. eu-west-1 (default us-east-1)
  --account-id <id>             TASKGATE_ACCOUNT_ID              12-digit AWS account id in the ARNs taskgate issues (default 000000000000)
  --max-activity-pollers <n>    TASKGATE_MAX_ACTIVITY_POLLERS    Step Functions polls and task streams held at once per activity on
                                                                 this node; one more is ActivityWorkerLimitExceeded (default 1000)
  --auth <mode>                 TASKGATE_AUTH                    off (anyone who reaches the port may do anything) or sigv4
                                                                 (requests signed by a principal of --auth-file) (default off)
  --auth-file <path>            TASKGATE_AUTH_FILE               principals file (JSON) for --auth sigv4; re-read on SIGHUP
  --cors-origins <list>         TASKGATE_CORS_ORIGINS            browser origins allowed cross-origin (CORS), comma-separated, e.g.
                                                                 https://app.example.com,http://localhost:5173; * = any (default none)
  --tls-cert <path>             TASKGATE_TLS_CERT                TLS certificate chain (PEM); with --tls-key every connection is TLS
                                                                 (h2 and http/1.1 by ALPN); re-read on SIGHUP (default none)
  --tls-key <path>              TASKGATE_TLS_KEY                 TLS private key (PEM) of --tls-cert (default none)
  --max-requests-per-second <n> TASKGATE_MAX_REQUESTS_PER_SECOND requests per second per caller (principal, else client address);
                                                                 over it ThrottlingException; 0 = unlimited (default 0)
  --max-operation-requests-per-second <n>
                                TASKGATE_MAX_OPERATION_REQUESTS_PER_SECOND
                                                                 the same per caller and operation; 0 = unlimited (default 0)
  --max-polls-per-task-list <n> TASKGATE_MAX_POLLS_PER_TASK_LIST long polls and task streams held at once per SWF task list or
                                                                 Data Pipeline worker group on this node; one more is
                                                                 LimitExceededFault (SWF) or ThrottlingException (default 1000)
  --max-polls-per-caller <n>    TASKGATE_MAX_POLLS_PER_CALLER    long polls one caller may hold at once; 0 = unlimited (default 0)
  --max-connections-per-address <n>
                                TASKGATE_MAX_CONNECTIONS_PER_ADDRESS
                                                                 connections open at once per client address; 0 = unlimited (default 0)
  -h, --help                                                     print this text

Flags take their value as "--port 9000" or "--port=9000". An empty variable counts as unset.
`;

type Key = keyof Config;

interface Option {
  readonly key: Key;
  readonly flag: string;
  readonly env: string;
}

const options: readonly Option[] = [
  { key: "host", flag: "--host", env: "TASKGATE_HOST" },
  { key: "port", flag: "--port", env: "TASKGATE_PORT" },
  { key: "database", flag: "--database", env: "TASKGATE_DATABASE" },
  { key: "longPollSeconds", flag: "--long-poll-seconds", env: "TASKGATE_LONG_POLL_SECONDS" },
  { key: "logLevel", flag: "--log-level", env: "TASKGATE_LOG_LEVEL" },
  { key: "maxBodyBytes", flag: "--max-body-bytes", env: "TASKGATE_MAX_BODY_BYTES" },
  { key: "sqliteSync", flag: "--sqlite-sync", env: "TASKGATE_SQLITE_SYNC" },
  { key: "shutdownGraceSeconds", flag: "--shutdown-grace-seconds", env: "TASKGATE_SHUTDOWN_GRACE_SECONDS" },
  { key: "nodeTimeoutSeconds", flag: "--node-timeout-seconds", env: "TASKGATE_NODE_TIMEOUT_SECONDS" },
  { key: "maxConnections", flag: "--max-connections", env: "TASKGATE_MAX_CONNECTIONS" },
  { key: "maxConcurrentStreams", flag: "--max-concurrent-streams", env: "TASKGATE_MAX_CONCURRENT_STREAMS" },
  { key: "idleTimeoutSeconds", flag: "--idle-timeout-seconds", env: "TASKGATE_IDLE_TIMEOUT_SECONDS" },
  { key: "headersTimeoutSeconds", flag: "--headers-timeout-seconds", env: "TASKGATE_HEADERS_TIMEOUT_SECONDS" },
  { key: "deliverySettleMs", flag: "--delivery-settle-ms", env: "TASKGATE_DELIVERY_SETTLE_MS" },
  { key: "region", flag: "--region", env: "TASKGATE_REGION" },
  { key: "accountId", flag: "--account-id", env: "TASKGATE_ACCOUNT_ID" },
  { key: "maxActivityPollers", flag: "--max-activity-pollers", env: "TASKGATE_MAX_ACTIVITY_POLLERS" },
  { key: "auth", flag: "--auth", env: "TASKGATE_AUTH" },
  { key: "authFile", flag: "--auth-file", env: "TASKGATE_AUTH_FILE" },
  { key: "corsOrigins", flag: "--cors-origins", env: "TASKGATE_CORS_ORIGINS" },
  { key: "tlsCert", flag: "--tls-cert", env: "TASKGATE_TLS_CERT" },
  { key: "tlsKey", flag: "--tls-key", env: "TASKGATE_TLS_KEY" },
  { key: "maxRequestsPerSecond", flag: "--max-requests-per-second", env: "TASKGATE_MAX_REQUESTS_PER_SECOND" },
  { key: "maxOperationRequestsPerSecond", flag: "--max-operation-requests-per-second", env: "TASKGATE_MAX_OPERATION_REQUESTS_PER_SECOND" },
  { key: "maxPollsPerTaskList", flag: "--max-polls-per-task-list", env: "TASKGATE_MAX_POLLS_PER_TASK_LIST" },
  { key: "maxPollsPerCaller", flag: "--max-polls-per-caller", env: "TASKGATE_MAX_POLLS_PER_CALLER" },
  { key: "maxConnectionsPerAddress", flag: "--max-connections-per-address", env: "TASKGATE_MAX_CONNECTIONS_PER_ADDRESS" },
];

/** A raw value and where it came from, for error messages. */
interface Raw {
  readonly value: string;
  /** `--port` or `TASKGATE_PORT`. */
  readonly source: string;
}

function bad(raw: Raw, accepted: string): ConfigError {
  return new ConfigError(`${raw.source}: invalid value ${JSON.stringify(raw.value)}; expected ${accepted}`);
}

const UNSIGNED_INT = /^\d+$/;
const UNSIGNED_DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

function parsePort(raw: Raw): number {
  const accepted = "an integer port from 0 to 65535 (0 = any free port)";
  if (!UNSIGNED_INT.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (n > 65535) throw bad(raw, accepted);
  return n;
}

function parseHost(raw: Raw): string {
  if (raw.value.trim() === "" || /\s/.test(raw.value)) throw bad(raw, "a host name or IP address, e.g. 127.0.0.1, 0.0.0.0 or ::");
  return raw.value;
}

function parseDatabase(raw: Raw): DatabaseConfig {
  const accepted = "sqlite:<path>, sqlite::memory: or postgres://user:password@host:port/database";
  const v = raw.value;
  if (v.startsWith("sqlite:")) {
    let path = v.slice("sqlite:".length);
    // sqlite:///abs/path.db and sqlite://rel/path.db spell the path after the authority slashes.
    if (path.startsWith("//")) path = path.slice(2);
    if (path === "") throw bad(raw, accepted);
    return { kind: "sqlite", path };
  }
  if (v.startsWith("postgres://") || v.startsWith("postgresql://")) {
    try {
      new URL(v);
    } catch {
      throw bad({ source: raw.source, value: redactUrl(v) }, accepted);
    }
    return { kind: "postgres", url: v };
  }
  throw bad({ source: raw.source, value: redactUrl(v) }, accepted);
}

/** A database URL fit for logs and messages: any password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, "$1:***@");
}

/** The database as a log line may show it (no password). */
export function describeDatabase(db: DatabaseConfig): string {
  return db.kind === "sqlite" ? `sqlite:${db.path}` : redactUrl(db.url);
}

function parsePositiveSeconds(raw: Raw): number {
  const accepted = "a number of seconds greater than 0, fractions allowed (e.g. 0.5)";
  if (!UNSIGNED_DECIMAL.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (!(n > 0) || !Number.isFinite(n)) throw bad(raw, accepted);
  return n;
}

function parseNonNegativeSeconds(raw: Raw): number {
  const accepted = "a number of seconds, 0 or more, fractions allowed";
  if (!UNSIGNED_DECIMAL.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (!Number.isFinite(n)) throw bad(raw, accepted);
  return n;
}

function parseMaxBodyBytes(raw: Raw): number {
  const accepted = "a whole number of bytes greater than 0";
  if (!UNSIGNED_INT.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (n < 1 || !Number.isSafeInteger(n)) throw bad(raw, accepted);
  return n;
}

/** Longest connection timeout accepted, in seconds (a day; Node's timers reach about 24.8 days). */
const MAX_TIMEOUT_SECONDS = 86_400;

function parseTimeoutSeconds(raw: Raw): number {
  const accepted = `a number of seconds greater than 0 and at most ${MAX_TIMEOUT_SECONDS}, fractions allowed (e.g. 0.5)`;
  if (!UNSIGNED_DECIMAL.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (!(n > 0) || n > MAX_TIMEOUT_SECONDS) throw bad(raw, accepted);
  return n;
}

/** Longest --delivery-settle-ms accepted: a minute. */
const MAX_SETTLE_MS = 60_000;

/** --delivery-settle-ms: a whole number of milliseconds from 1 to a minute. */
function parseSettleMs(raw: Raw): number {
  const accepted = `a whole number of milliseconds from 1 to ${MAX_SETTLE_MS}`;
  if (!/^\d+$/.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (n < 1 || n > MAX_SETTLE_MS) throw bad(raw, accepted);
  return n;
}

/** Largest --max-connections accepted (far above any file-descriptor limit in practice). */
const MAX_CONNECTIONS = 10_000_000;

function parseMaxConnections(raw: Raw): number {
  const accepted = `a whole number of connections from 1 to ${MAX_CONNECTIONS}`;
  if (!UNSIGNED_INT.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (n < 1 || n > MAX_CONNECTIONS) throw bad(raw, accepted);
  return n;
}

/** --max-activity-pollers: a whole number from 1 to 1,000,000. */
function parseMaxActivityPollers(raw: Raw): number {
  const accepted = "a whole number of polls from 1 to 1000000";
  if (!UNSIGNED_INT.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (n < 1 || n > 1_000_000) throw bad(raw, accepted);
  return n;
}

/** Largest SETTINGS_MAX_CONCURRENT_STREAMS HTTP/2 can carry (RFC 9113: a 31-bit stream space). */
const MAX_STREAMS = 2 ** 31 - 1;

function parseMaxConcurrentStreams(raw: Raw): number {
  const accepted = `a whole number of streams from 1 to ${MAX_STREAMS}`;
  if (!UNSIGNED_INT.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (n < 1 || n > MAX_STREAMS) throw bad(raw, accepted);
  return n;
}

/** A region as ARNs spell it (us-east-1, eu-central-2, us-gov-west-1, cn-north-1). */
function parseRegion(raw: Raw): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(raw.value)) throw bad(raw, "an AWS region name such as us-east-1 or eu-west-2");
  return raw.value;
}

/** An AWS account id: exactly 12 digits. */
function parseAccountId(raw: Raw): string {
  if (!/^\d{12}$/.test(raw.value)) throw bad(raw, "a 12-digit AWS account id such as 000000000000");
  return raw.value;
}

/**
 * --cors-origins: a comma-separated list of `*` and exact origins as browsers send them in
 * `Origin` (scheme, host and a non-default port; no path, no trailing slash), duplicates removed.
 */
function parseCorsOrigins(raw: Raw): readonly string[] {
  const accepted = "a comma-separated list of origins such as https://app.example.com,http://localhost:5173 (scheme://host[:port], no path), or * for any origin";
  const out: string[] = [];
  for (const part of raw.value.split(",")) {
    const o = part.trim();
    if (o === "") continue;
    if (o !== "*") {
      let origin = "null";
      try {
        origin = new URL(o).origin;
      } catch {
        // not a URL: refused below
      }
      // An origin that does not round-trip through URL (a path, a default port, upper case) would
      // never equal a browser's Origin header; only http and https pages send one that can match.
      if (origin !== o || !/^https?:\/\//.test(o)) {
        const hint = origin !== "null" && /^https?:\/\//.test(origin) ? ` (did you mean ${origin}?)` : "";
        throw new ConfigError(`${raw.source}: invalid origin ${JSON.stringify(o)}${hint}; expected ${accepted}`);
      }
    }
    if (!out.includes(o)) out.push(o);
  }
  if (out.length === 0) throw bad(raw, accepted);
  return out;
}

/** --auth: off or sigv4 (case-insensitive). */
function parseAuth(raw: Raw): AuthMode {
  const v = raw.value.toLowerCase();
  if (v === "off" || v === "sigv4") return v;
  throw bad(raw, "off or sigv4");
}

/** A whole number from 0 (unlimited) to 1,000,000, for the per-caller limits. */
function parseLimit(raw: Raw): number {
  const accepted = "a whole number from 0 (unlimited) to 1000000";
  if (!UNSIGNED_INT.test(raw.value)) throw bad(raw, accepted);
  const n = Number(raw.value);
  if (n > 1_000_000) throw bad(raw, accepted);
  return n;
}

/** --tls-cert / --tls-key: a path (read by the server at start and on SIGHUP). */
function parsePemPath(raw: Raw): string {
  if (raw.value.trim() === "") throw bad(raw, "the path of a PEM file");
  return raw.value;
}

/** --auth-file: a path (not checked here; the server reads it at start). */
function parseAuthFile(raw: Raw): string {
  if (raw.value.trim() === "") throw bad(raw, "the path of a principals file");
  return raw.value;
}

function parseLogLevel(raw: Raw): LogLevel {
  const v = raw.value.toLowerCase();
  const level = LOG_LEVELS.find((l) => l === v);
  if (level === undefined) throw bad(raw, `one of ${LOG_LEVELS.join(", ")}`);
  return level;
}

function parseSqliteSync(raw: Raw): SqliteSync {
  const v = raw.value.toLowerCase();
  if (v === "normal" || v === "full") return v;
  throw bad(raw, "normal or full");
}

/** Splits argv into flag values; throws on unknown flags, missing values and stray arguments. */
function readFlags(argv: readonly string[]): Map<Key, Raw> {
  const out = new Map<Key, Raw>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") throw new HelpRequested();
    if (!arg.startsWith("--")) {
      throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}; every setting is a flag such as --port 8080 (see --help)`);
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const opt = options.find((o) => o.flag === name);
    if (opt === undefined) {
      throw new ConfigError(`unknown flag ${JSON.stringify(name)}; accepted flags: ${options.map((o) => o.flag).join(", ")}, --help`);
    }
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new ConfigError(`${name} needs a value, as "${name} <value>" or "${name}=<value>"`);
      value = next;
      i++;
    }
    out.set(opt.key, { value, source: name });
  }
  return out;
}

/**
 * Reads the configuration from command-line arguments (without the node and script paths) and
 * environment variables. Throws ConfigError for any bad value, HelpRequested for `--help`.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Config {
  const flags = readFlags(argv);
  const raw = (key: Key): Raw | undefined => {
    const flag = flags.get(key);
    if (flag !== undefined) return flag;
    const opt = options.find((o) => o.key === key);
    if (opt === undefined) return undefined;
    const v = env[opt.env];
    return v === undefined || v === "" ? undefined : { value: v, source: opt.env };
  };
  const read = <T>(key: Key, parse: (r: Raw) => T, fallback: T): T => {
    const r = raw(key);
    return r === undefined ? fallback : parse(r);
  };
  const config: Config = {
    host: read("host", parseHost, defaults.host),
    port: read("port", parsePort, defaults.port),
    database: read("database", parseDatabase, defaults.database),
    longPollSeconds: read<number | undefined>("longPollSeconds", parsePositiveSeconds, defaults.longPollSeconds),
    logLevel: read("logLevel", parseLogLevel, defaults.logLevel),
    maxBodyBytes: read("maxBodyBytes", parseMaxBodyBytes, defaults.maxBodyBytes),
    sqliteSync: read("sqliteSync", parseSqliteSync, defaults.sqliteSync),
    shutdownGraceSeconds: read("shutdownGraceSeconds", parseNonNegativeSeconds, defaults.shutdownGraceSeconds),
    nodeTimeoutSeconds: read("nodeTimeoutSeconds", parseNonNegativeSeconds, defaults.nodeTimeoutSeconds),
    maxConnections: read("maxConnections", parseMaxConnections, defaults.maxConnections),
    maxConcurrentStreams: read("maxConcurrentStreams", parseMaxConcurrentStreams, defaults.maxConcurrentStreams),
    idleTimeoutSeconds: read("idleTimeoutSeconds", parseTimeoutSeconds, defaults.idleTimeoutSeconds),
    headersTimeoutSeconds: read("headersTimeoutSeconds", parseTimeoutSeconds, defaults.headersTimeoutSeconds),
    deliverySettleMs: read("deliverySettleMs", parseSettleMs, defaults.deliverySettleMs),
    region: read("region", parseRegion, defaults.region),
    accountId: read("accountId", parseAccountId, defaults.accountId),
    maxActivityPollers: read("maxActivityPollers", parseMaxActivityPollers, defaults.maxActivityPollers),
    auth: read("auth", parseAuth, defaults.auth),
    authFile: read<string | undefined>("authFile", parseAuthFile, defaults.authFile),
    corsOrigins: read("corsOrigins", parseCorsOrigins, defaults.corsOrigins),
    tlsCert: read<string | undefined>("tlsCert", parsePemPath, defaults.tlsCert),
    tlsKey: read<string | undefined>("tlsKey", parsePemPath, defaults.tlsKey),
    maxRequestsPerSecond: read("maxRequestsPerSecond", parseLimit, defaults.maxRequestsPerSecond),
    maxOperationRequestsPerSecond: read("maxOperationRequestsPerSecond", parseLimit, defaults.maxOperationRequestsPerSecond),
    maxPollsPerTaskList: read("maxPollsPerTaskList", parseMaxActivityPollers, defaults.maxPollsPerTaskList),
    maxPollsPerCaller: read("maxPollsPerCaller", parseLimit, defaults.maxPollsPerCaller),
    maxConnectionsPerAddress: read("maxConnectionsPerAddress", parseLimit, defaults.maxConnectionsPerAddress),
  };
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError(`${raw(config.tlsCert === undefined ? "tlsKey" : "tlsCert")?.source ?? "--tls-cert"} needs its pair: give both --tls-cert and --tls-key (TASKGATE_TLS_CERT, TASKGATE_TLS_KEY)`);
  }
  if (config.auth === "sigv4" && config.authFile === undefined) {
    throw new ConfigError(`${raw("auth")?.source ?? "--auth"} sigv4 needs a principals file: give --auth-file <path> or TASKGATE_AUTH_FILE`);
  }
  return config;
}
