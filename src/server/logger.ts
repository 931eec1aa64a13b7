// Logging at the edge: one pino root logger per process, children per component (and per RPC
// where a service wants one). Task tokens, task payloads and credentials never reach the log:
// redaction below replaces them with "[redacted]" wherever a log call passes them at the top
// level of the merged object or up to two levels down (e.g. `{ req: { body: { taskToken } } }`).
import { pino, type DestinationStream, type Logger } from "pino";

/** pino's levels, most to least severe, and `silent`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Members that carry secrets or customers' payloads (SWF/Step Functions/Data Pipeline names). */
const secretMembers = ["taskToken", "input", "output", "result", "details", "credentials", "password", "secretAccessKey", "sessionToken"];

/**
 * Paths pino redacts. A bare name covers the top level of a log call's object, `*.name` and
 * `*.*.name` the two levels below; pino's wildcards reach no deeper, so log request and response
 * bodies only through a summary, never whole.
 */
export const redactPaths: readonly string[] = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-amz-security-token"]',
  "headers.authorization",
  "headers.cookie",
  'headers["x-amz-security-token"]',
  ...secretMembers,
  ...secretMembers.map((m) => `*.${m}`),
  ...secretMembers.map((m) => `*.*.${m}`),
];

/**
 * The process's root logger: JSON lines at `level` to `destination` (stdout by default), with
 * secrets redacted. Create it once in the entry point; everything else takes a child.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "taskgate" },
    redact: { paths: [...redactPaths], censor: "[redacted]" },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** A child logger whose lines carry `component` (e.g. "server", "swf", "store"). */
export function child(logger: Logger, component: string): Logger {
  return logger.child({ component });
}
