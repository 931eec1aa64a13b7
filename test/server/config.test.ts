import { describe, expect, it } from "vitest";
import { ConfigError, HelpRequested, defaults, describeDatabase, parseConfig, redactUrl, usage } from "../../src/server/config.ts";

function errorOf(argv: string[], env: Record<string, string | undefined> = {}): string {
  try {
    parseConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("gives the documented defaults with no flags and no variables", () => {
    const c = parseConfig([], {});
    expect(c).toEqual(defaults);
    expect(c).toEqual({
      host: "127.0.0.1",
      port: 8080,
      database: { kind: "sqlite", path: "./data/taskgate.db" },
      longPollSeconds: undefined,
      logLevel: "info",
      maxBodyBytes: 1114112,
      sqliteSync: "normal",
      shutdownGraceSeconds: 10,
      nodeTimeoutSeconds: 10,
      maxConnections: 10000,
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
    });
  });

  it("reads every environment variable", () => {
    const c = parseConfig([], {
      TASKGATE_HOST: "0.0.0.0",
      TASKGATE_PORT: "9000",
      TASKGATE_DATABASE: "postgres://u:p@db:5432/taskgate",
      TASKGATE_LONG_POLL_SECONDS: "0.5",
      TASKGATE_LOG_LEVEL: "debug",
      TASKGATE_MAX_BODY_BYTES: "2048",
      TASKGATE_SQLITE_SYNC: "full",
      TASKGATE_SHUTDOWN_GRACE_SECONDS: "2.5",
      TASKGATE_NODE_TIMEOUT_SECONDS: "3",
      TASKGATE_MAX_CONNECTIONS: "500",
      TASKGATE_MAX_CONCURRENT_STREAMS: "64",
      TASKGATE_IDLE_TIMEOUT_SECONDS: "30",
      TASKGATE_HEADERS_TIMEOUT_SECONDS: "0.5",
      TASKGATE_DELIVERY_SETTLE_MS: "100",
      TASKGATE_REGION: "eu-west-1",
      TASKGATE_ACCOUNT_ID: "123456789012",
      TASKGATE_CORS_ORIGINS: "https://app.example.com, http://localhost:5173",
      TASKGATE_AUTH: "sigv4",
      TASKGATE_AUTH_FILE: "/etc/taskgate/principals.json",
      TASKGATE_TLS_CERT: "/etc/taskgate/cert.pem",
      TASKGATE_TLS_KEY: "/etc/taskgate/key.pem",
      TASKGATE_MAX_REQUESTS_PER_SECOND: "100",
      TASKGATE_MAX_OPERATION_REQUESTS_PER_SECOND: "20",
      TASKGATE_MAX_POLLS_PER_TASK_LIST: "10",
      TASKGATE_MAX_POLLS_PER_CALLER: "5",
      TASKGATE_MAX_CONNECTIONS_PER_ADDRESS: "50",
    });
    expect(c).toEqual({
      host: "0.0.0.0",
      port: 9000,
      database: { kind: "postgres", url: "postgres://u:p@db:5432/taskgate" },
      longPollSeconds: 0.5,
      logLevel: "debug",
      maxBodyBytes: 2048,
      sqliteSync: "full",
      shutdownGraceSeconds: 2.5,
      nodeTimeoutSeconds: 3,
      maxConnections: 500,
      maxConcurrentStreams: 64,
      idleTimeoutSeconds: 30,
      headersTimeoutSeconds: 0.5,
      deliverySettleMs: 100,
      region: "eu-west-1",
      accountId: "123456789012",
      maxActivityPollers: 1000,
      auth: "sigv4",
      authFile: "/etc/taskgate/principals.json",
      corsOrigins: ["https://app.example.com", "http://localhost:5173"],
      tlsCert: "/etc/taskgate/cert.pem",
      tlsKey: "/etc/taskgate/key.pem",
      maxRequestsPerSecond: 100,
      maxOperationRequestsPerSecond: 20,
      maxPollsPerTaskList: 10,
      maxPollsPerCaller: 5,
      maxConnectionsPerAddress: 50,
    });
  });

  it("reads every flag, as --flag value and --flag=value", () => {
    const c = parseConfig(
      [
        "--host",
        "::",
        "--port=0",
        "--database",
        "sqlite::memory:",
        "--long-poll-seconds=2",
        "--log-level",
        "TRACE",
        "--max-body-bytes=100",
        "--sqlite-sync",
        "FULL",
        "--shutdown-grace-seconds",
        "0",
        "--node-timeout-seconds=1.5",
        "--max-connections",
        "20",
        "--max-concurrent-streams=2",
        "--idle-timeout-seconds",
        "0.25",
        "--headers-timeout-seconds=86400",
        "--delivery-settle-ms=250",
        "--region",
        "cn-north-1",
        "--account-id=210987654321",
        "--cors-origins=*",
        "--auth",
        "SIGV4",
        "--auth-file=principals.json",
        "--tls-cert=c.pem",
        "--tls-key",
        "k.pem",
        "--max-requests-per-second=7",
        "--max-operation-requests-per-second",
        "3",
        "--max-polls-per-task-list=2",
        "--max-polls-per-caller=1",
        "--max-connections-per-address=4",
      ],
      {},
    );
    expect(c).toEqual({
      host: "::",
      port: 0,
      database: { kind: "sqlite", path: ":memory:" },
      longPollSeconds: 2,
      logLevel: "trace",
      maxBodyBytes: 100,
      sqliteSync: "full",
      shutdownGraceSeconds: 0,
      nodeTimeoutSeconds: 1.5,
      maxConnections: 20,
      maxConcurrentStreams: 2,
      idleTimeoutSeconds: 0.25,
      headersTimeoutSeconds: 86400,
      deliverySettleMs: 250,
      region: "cn-north-1",
      accountId: "210987654321",
      maxActivityPollers: 1000,
      auth: "sigv4",
      authFile: "principals.json",
      corsOrigins: ["*"],
      tlsCert: "c.pem",
      tlsKey: "k.pem",
      maxRequestsPerSecond: 7,
      maxOperationRequestsPerSecond: 3,
      maxPollsPerTaskList: 2,
      maxPollsPerCaller: 1,
      maxConnectionsPerAddress: 4,
    });
  });

  it("lets a flag win over its variable, and a variable over the default", () => {
    const env = { TASKGATE_PORT: "9000", TASKGATE_LOG_LEVEL: "warn", TASKGATE_HOST: "10.0.0.1" };
    const c = parseConfig(["--port", "9001", "--log-level=error"], env);
    expect(c.port).toBe(9001);
    expect(c.logLevel).toBe("error");
    expect(c.host).toBe("10.0.0.1");
  });

  it("treats an empty variable as unset", () => {
    expect(parseConfig([], { TASKGATE_PORT: "", TASKGATE_LONG_POLL_SECONDS: "" })).toEqual(defaults);
  });

  it("takes the last of a repeated flag", () => {
    expect(parseConfig(["--port", "1", "--port", "2"], {}).port).toBe(2);
  });

  it("accepts the database spellings", () => {
    expect(parseConfig(["--database", "sqlite:/var/lib/taskgate.db"], {}).database).toEqual({ kind: "sqlite", path: "/var/lib/taskgate.db" });
    expect(parseConfig(["--database", "sqlite:///var/lib/taskgate.db"], {}).database).toEqual({ kind: "sqlite", path: "/var/lib/taskgate.db" });
    expect(parseConfig(["--database", "sqlite:rel.db"], {}).database).toEqual({ kind: "sqlite", path: "rel.db" });
    expect(parseConfig(["--database", "postgresql://h/db"], {}).database).toEqual({ kind: "postgres", url: "postgresql://h/db" });
  });

  it("rejects bad ports, naming the source, the value and the range", () => {
    expect(errorOf(["--port", "http"])).toBe('--port: invalid value "http"; expected an integer port from 0 to 65535 (0 = any free port)');
    expect(errorOf([], { TASKGATE_PORT: "65536" })).toBe('TASKGATE_PORT: invalid value "65536"; expected an integer port from 0 to 65535 (0 = any free port)');
    expect(errorOf(["--port=-1"])).toContain('--port: invalid value "-1"');
    expect(errorOf(["--port=80.5"])).toContain('--port: invalid value "80.5"');
    expect(errorOf(["--port="])).toContain('--port: invalid value ""');
    expect(errorOf(["--port", "8080x"])).toContain("0 to 65535");
  });

  it("rejects unknown flags, listing the accepted ones", () => {
    const m = errorOf(["--prot", "1"]);
    expect(m).toContain('unknown flag "--prot"');
    expect(m).toContain("--port");
    expect(m).toContain("--help");
    expect(errorOf(["--port=1", "--verbose=yes"])).toContain('unknown flag "--verbose"');
  });

  it("rejects stray arguments and flags without a value", () => {
    expect(errorOf(["serve"])).toContain('unexpected argument "serve"');
    expect(errorOf(["-p", "1"])).toContain('unexpected argument "-p"');
    expect(errorOf(["--port"])).toBe('--port needs a value, as "--port <value>" or "--port=<value>"');
    expect(errorOf(["--host", "--port", "1"])).toContain("--host needs a value");
  });

  it("rejects unknown database schemes without echoing a password", () => {
    const m = errorOf([], { TASKGATE_DATABASE: "mysql://root:hunter2@db/x" });
    expect(m).toBe('TASKGATE_DATABASE: invalid value "mysql://root:***@db/x"; expected sqlite:<path>, sqlite::memory: or postgres://user:password@host:port/database');
    expect(errorOf(["--database", "./data/x.db"])).toContain('--database: invalid value "./data/x.db"');
    expect(errorOf(["--database", "sqlite:"])).toContain('invalid value "sqlite:"');
    expect(errorOf(["--database", "postgres://a:b@[bad"])).not.toContain(":b@");
  });

  it("rejects bad log levels, listing pino's", () => {
    expect(errorOf(["--log-level", "verbose"])).toBe('--log-level: invalid value "verbose"; expected one of fatal, error, warn, info, debug, trace, silent');
  });

  it("rejects bad hold times: negative, zero, not a number", () => {
    const accepted = "expected a number of seconds greater than 0, fractions allowed (e.g. 0.5)";
    expect(errorOf(["--long-poll-seconds", "-1"])).toBe(`--long-poll-seconds: invalid value "-1"; ${accepted}`);
    expect(errorOf([], { TASKGATE_LONG_POLL_SECONDS: "0" })).toBe(`TASKGATE_LONG_POLL_SECONDS: invalid value "0"; ${accepted}`);
    expect(errorOf(["--long-poll-seconds=soon"])).toContain(accepted);
    expect(errorOf(["--long-poll-seconds=1e3"])).toContain(accepted);
    expect(parseConfig(["--long-poll-seconds=.25"], {}).longPollSeconds).toBe(0.25);
  });

  it("rejects bad body limits, sync modes and grace periods", () => {
    expect(errorOf(["--max-body-bytes", "0"])).toBe('--max-body-bytes: invalid value "0"; expected a whole number of bytes greater than 0');
    expect(errorOf([], { TASKGATE_MAX_BODY_BYTES: "1MB" })).toContain('TASKGATE_MAX_BODY_BYTES: invalid value "1MB"');
    expect(errorOf(["--sqlite-sync", "off"])).toBe('--sqlite-sync: invalid value "off"; expected normal or full');
    expect(errorOf([], { TASKGATE_SHUTDOWN_GRACE_SECONDS: "-5" })).toBe(
      'TASKGATE_SHUTDOWN_GRACE_SECONDS: invalid value "-5"; expected a number of seconds, 0 or more, fractions allowed',
    );
    expect(errorOf(["--host", " "])).toContain("--host: invalid value");
  });

  it("rejects bad connection caps, stream limits and timeouts", () => {
    expect(errorOf(["--max-connections", "0"])).toBe('--max-connections: invalid value "0"; expected a whole number of connections from 1 to 10000000');
    expect(errorOf([], { TASKGATE_MAX_CONNECTIONS: "10k" })).toContain('TASKGATE_MAX_CONNECTIONS: invalid value "10k"');
    expect(errorOf(["--max-connections=10000001"])).toContain("from 1 to 10000000");
    expect(errorOf(["--max-concurrent-streams", "0"])).toBe('--max-concurrent-streams: invalid value "0"; expected a whole number of streams from 1 to 2147483647');
    expect(errorOf([], { TASKGATE_MAX_CONCURRENT_STREAMS: "2147483648" })).toContain("TASKGATE_MAX_CONCURRENT_STREAMS");
    expect(errorOf(["--max-concurrent-streams=1.5"])).toContain('invalid value "1.5"');
    const seconds = "expected a number of seconds greater than 0 and at most 86400, fractions allowed (e.g. 0.5)";
    expect(errorOf(["--idle-timeout-seconds", "0"])).toBe(`--idle-timeout-seconds: invalid value "0"; ${seconds}`);
    expect(errorOf([], { TASKGATE_IDLE_TIMEOUT_SECONDS: "86400.5" })).toBe(`TASKGATE_IDLE_TIMEOUT_SECONDS: invalid value "86400.5"; ${seconds}`);
    expect(errorOf(["--headers-timeout-seconds=-1"])).toBe(`--headers-timeout-seconds: invalid value "-1"; ${seconds}`);
    expect(errorOf([], { TASKGATE_HEADERS_TIMEOUT_SECONDS: "1m" })).toContain("TASKGATE_HEADERS_TIMEOUT_SECONDS");
    expect(parseConfig(["--headers-timeout-seconds=.1"], {}).headersTimeoutSeconds).toBe(0.1);
    for (const v of ["0", "60001", "1.5", "-5", "x"]) expect(errorOf([`--delivery-settle-ms=${v}`])).toBe(`--delivery-settle-ms: invalid value "${v}"; expected a whole number of milliseconds from 1 to 60000`);
    expect(parseConfig([], { TASKGATE_DELIVERY_SETTLE_MS: "60000" }).deliverySettleMs).toBe(60_000);
    expect(parseConfig([], {}).deliverySettleMs).toBe(20);
  });

  it("signals --help and -h", () => {
    expect(() => parseConfig(["--port", "1", "--help"], {})).toThrow(HelpRequested);
    expect(() => parseConfig(["-h"], {})).toThrow(HelpRequested);
  });

  it("documents every variable and flag in usage", () => {
    for (const name of [
      "TASKGATE_HOST",
      "TASKGATE_PORT",
      "TASKGATE_DATABASE",
      "TASKGATE_LONG_POLL_SECONDS",
      "TASKGATE_LOG_LEVEL",
      "TASKGATE_MAX_BODY_BYTES",
      "TASKGATE_SQLITE_SYNC",
      "TASKGATE_SHUTDOWN_GRACE_SECONDS",
      "TASKGATE_NODE_TIMEOUT_SECONDS",
      "TASKGATE_MAX_CONNECTIONS",
      "TASKGATE_MAX_CONCURRENT_STREAMS",
      "TASKGATE_IDLE_TIMEOUT_SECONDS",
      "TASKGATE_HEADERS_TIMEOUT_SECONDS",
      "--host",
      "--port",
      "--database",
      "--long-poll-seconds",
      "--log-level",
      "--max-body-bytes",
      "--sqlite-sync",
      "--shutdown-grace-seconds",
      "--node-timeout-seconds",
      "--max-connections",
      "--max-concurrent-streams",
      "--idle-timeout-seconds",
      "--headers-timeout-seconds",
      "--delivery-settle-ms",
      "--help",
    ]) {
      expect(usage).toContain(name);
    }
  });

  it("never shows a database password", () => {
    expect(redactUrl("postgres://u:secret@h:5432/db")).toBe("postgres://u:***@h:5432/db");
    expect(redactUrl("postgres://h/db")).toBe("postgres://h/db");
    expect(describeDatabase({ kind: "postgres", url: "postgresql://u:secret@h/db" })).toBe("postgresql://u:***@h/db");
    expect(describeDatabase({ kind: "sqlite", path: ":memory:" })).toBe("sqlite::memory:");
  });
});

describe("--auth and --auth-file", () => {
  it("refuses sigv4 without a principals file, and modes other than off and sigv4", () => {
    expect(errorOf(["--auth", "sigv4"])).toBe("--auth sigv4 needs a principals file: give --auth-file <path> or TASKGATE_AUTH_FILE");
    expect(errorOf([], { TASKGATE_AUTH: "sigv4" })).toBe("TASKGATE_AUTH sigv4 needs a principals file: give --auth-file <path> or TASKGATE_AUTH_FILE");
    expect(errorOf(["--auth", "basic"])).toBe('--auth: invalid value "basic"; expected off or sigv4');
    expect(parseConfig(["--auth", "off"], {}).auth).toBe("off");
    expect(parseConfig(["--auth-file", "p.json"], { TASKGATE_AUTH: "sigv4" })).toMatchObject({ auth: "sigv4", authFile: "p.json" });
  });

  it("refuses a TLS certificate without its key and the reverse, and bad limits", () => {
    expect(errorOf(["--tls-cert", "c.pem"])).toBe("--tls-cert needs its pair: give both --tls-cert and --tls-key (TASKGATE_TLS_CERT, TASKGATE_TLS_KEY)");
    expect(errorOf([], { TASKGATE_TLS_KEY: "k.pem" })).toBe("TASKGATE_TLS_KEY needs its pair: give both --tls-cert and --tls-key (TASKGATE_TLS_CERT, TASKGATE_TLS_KEY)");
    expect(errorOf(["--max-requests-per-second", "-1"])).toBe('--max-requests-per-second: invalid value "-1"; expected a whole number from 0 (unlimited) to 1000000');
    expect(errorOf(["--max-polls-per-task-list", "0"])).toBe('--max-polls-per-task-list: invalid value "0"; expected a whole number of polls from 1 to 1000000');
    expect(errorOf([], { TASKGATE_MAX_CONNECTIONS_PER_ADDRESS: "1.5" })).toBe('TASKGATE_MAX_CONNECTIONS_PER_ADDRESS: invalid value "1.5"; expected a whole number from 0 (unlimited) to 1000000');
  });
});
