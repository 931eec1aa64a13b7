// The service faults: one type, two encodings.
//
// Engines, services and the store throw `Fault`. The AWS JSON route writes it as AWS's error body
// (`{"__type": "<namespace>#<name>", "message": …}`, HTTP `status`); the Connect/gRPC routes turn
// it into a ConnectError whose code is `code` and whose details carry the name (see
// src/faults-connect.ts). A message says what was wrong and how to fix it; the cause of
// an internal fault is logged, never sent.

/** Connect/gRPC status codes a fault can map to (the names of @connectrpc/connect's `Code`). */
export type FaultCode =
  | "InvalidArgument"
  | "NotFound"
  | "AlreadyExists"
  | "FailedPrecondition"
  | "PermissionDenied"
  | "ResourceExhausted"
  | "Unimplemented"
  | "Internal"
  | "Unavailable";

/** AWS `__type` namespaces. SWF's modeled faults, Coral's shared validation/protocol errors. */
export const Namespace = {
  swf: "com.amazonaws.swf.base.model",
  sfn: "com.amazonaws.swf.service.v2.model",
  datapipeline: "com.amazon.setl.webservice",
  coralValidate: "com.amazon.coral.validate",
  coralService: "com.amazon.coral.service",
  coralAvailability: "com.amazon.coral.availability",
} as const;

/** A failure with an AWS name, an actionable message and both wire encodings' codes. */
export class Fault extends Error {
  /** AWS fault name, e.g. `UnknownResourceFault`. */
  readonly type: string;
  /** AWS `__type` namespace, e.g. `com.amazonaws.swf.base.model`. */
  readonly namespace: string;
  /** Connect/gRPC code on the Connect routes. */
  readonly code: FaultCode;
  /** HTTP status on the AWS JSON route (400 for every client fault). */
  readonly status: number;
  /** Whether a client may retry the same call unchanged (store unavailable, throttling). */
  readonly retryable: boolean;

  constructor(type: string, message: string, opts: { namespace: string; code: FaultCode; status?: number; retryable?: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = type;
    this.type = type;
    this.namespace = opts.namespace;
    this.code = opts.code;
    this.status = opts.status ?? 400;
    this.retryable = opts.retryable ?? false;
  }
}

/** Coral's model-constraint error, shared by all three services. */
export function validationError(message: string): Fault {
  return new Fault("ValidationException", message, { namespace: Namespace.coralValidate, code: "InvalidArgument" });
}

/**
 * One model-constraint violation in Coral's words: `1 validation error detected: Value '<value>'
 * at '<path>' failed to satisfy constraint: <constraint>` (`Value null` for a missing member).
 */
export function coralViolation(value: string | null, path: string, constraint: string): Fault {
  return validationError(coralMessage(value, path, constraint));
}

/** The message of `coralViolation`. */
export function coralMessage(value: string | null, path: string, constraint: string): string {
  return `1 validation error detected: Value ${value === null ? "null" : `'${value}'`} at '${path}' failed to satisfy constraint: ${constraint}`;
}

/** The request body is not JSON or a member has the wrong JSON type. */
export function serializationError(message: string): Fault {
  return new Fault("SerializationException", message, { namespace: Namespace.coralService, code: "InvalidArgument" });
}

/** The X-Amz-Target names no operation this server offers. */
export function unknownOperation(message: string): Fault {
  return new Fault("UnknownOperationException", message, { namespace: Namespace.coralService, code: "Unimplemented" });
}

/** Something failed inside the server; the cause is logged, not sent. */
export function internalFailure(cause: unknown): Fault {
  return new Fault("InternalFailure", "The request processing has failed because of an unknown error, exception or failure.", {
    namespace: Namespace.coralService,
    code: "Internal",
    status: 500,
    cause,
  });
}

/** The store cannot be reached; the call changed nothing and may be retried. */
export function serviceUnavailable(cause: unknown, message = "The service is temporarily unable to reach its database; nothing was changed. Retry the request."): Fault {
  return new Fault("ServiceUnavailable", message, {
    namespace: Namespace.coralAvailability,
    code: "Unavailable",
    status: 503,
    retryable: true,
    cause,
  });
}

/** The store cannot write (disk full, out of resources, read-only): nothing changed, retry later. */
export function storeCannotWrite(cause: unknown): Fault {
  return serviceUnavailable(
    cause,
    "The service's database cannot store changes right now (disk full, out of resources or read-only); nothing was changed. Retry the request.",
  );
}

/**
 * Coral's refusal of a call the caller's policies do not allow (Step Functions, Data Pipeline;
 * SWF answers OperationNotPermittedFault instead). HTTP 400, as Coral JSON services answer it.
 */
export function accessDenied(message: string): Fault {
  return new Fault("AccessDeniedException", message, { namespace: Namespace.coralService, code: "PermissionDenied" });
}

/**
 * Coral's answer to a caller over its request rate: HTTP 400 `ThrottlingException`, which every
 * AWS SDK retries with backoff. Retryable: nothing was changed.
 */
export function throttling(message = "Rate exceeded"): Fault {
  return new Fault("ThrottlingException", message, { namespace: Namespace.coralAvailability, code: "ResourceExhausted", retryable: true });
}

/** SWF's modeled faults (all HTTP 400). */
export const swf = {
  unknownResource: (message: string) => new Fault("UnknownResourceFault", message, { namespace: Namespace.swf, code: "NotFound" }),
  domainAlreadyExists: (message: string) => new Fault("DomainAlreadyExistsFault", message, { namespace: Namespace.swf, code: "AlreadyExists" }),
  typeAlreadyExists: (message: string) => new Fault("TypeAlreadyExistsFault", message, { namespace: Namespace.swf, code: "AlreadyExists" }),
  domainDeprecated: (message: string) => new Fault("DomainDeprecatedFault", message, { namespace: Namespace.swf, code: "FailedPrecondition" }),
  typeNotDeprecated: (message: string) => new Fault("TypeNotDeprecatedFault", message, { namespace: Namespace.swf, code: "FailedPrecondition" }),
  typeDeprecated: (message: string) => new Fault("TypeDeprecatedFault", message, { namespace: Namespace.swf, code: "FailedPrecondition" }),
  workflowExecutionAlreadyStarted: (message: string) =>
    new Fault("WorkflowExecutionAlreadyStartedFault", message, { namespace: Namespace.swf, code: "AlreadyExists" }),
  defaultUndefined: (message: string) => new Fault("DefaultUndefinedFault", message, { namespace: Namespace.swf, code: "InvalidArgument" }),
  operationNotPermitted: (message: string) => new Fault("OperationNotPermittedFault", message, { namespace: Namespace.swf, code: "PermissionDenied" }),
  tooManyTags: (message: string) => new Fault("TooManyTagsFault", message, { namespace: Namespace.swf, code: "InvalidArgument" }),
  limitExceeded: (message: string) => new Fault("LimitExceededFault", message, { namespace: Namespace.swf, code: "ResourceExhausted" }),
} as const;

/** Step Functions' modeled errors (all HTTP 400), by the names of the model's exception shapes. */
export const sfn = {
  activityAlreadyExists: (message: string) => sfnFault("ActivityAlreadyExists", message, "AlreadyExists"),
  activityDoesNotExist: (message: string) => sfnFault("ActivityDoesNotExist", message, "NotFound"),
  activityLimitExceeded: (message: string) => sfnFault("ActivityLimitExceeded", message, "ResourceExhausted"),
  activityWorkerLimitExceeded: (message: string) => sfnFault("ActivityWorkerLimitExceeded", message, "ResourceExhausted"),
  conflict: (message: string) => sfnFault("ConflictException", message, "FailedPrecondition"),
  executionAlreadyExists: (message: string) => sfnFault("ExecutionAlreadyExists", message, "AlreadyExists"),
  executionDoesNotExist: (message: string) => sfnFault("ExecutionDoesNotExist", message, "NotFound"),
  invalidArn: (message: string) => sfnFault("InvalidArn", message, "InvalidArgument"),
  invalidDefinition: (message: string) => sfnFault("InvalidDefinition", message, "InvalidArgument"),
  invalidExecutionInput: (message: string) => sfnFault("InvalidExecutionInput", message, "InvalidArgument"),
  invalidEncryptionConfiguration: (message: string) => sfnFault("InvalidEncryptionConfiguration", message, "InvalidArgument"),
  invalidLoggingConfiguration: (message: string) => sfnFault("InvalidLoggingConfiguration", message, "InvalidArgument"),
  invalidName: (message: string) => sfnFault("InvalidName", message, "InvalidArgument"),
  invalidOutput: (message: string) => sfnFault("InvalidOutput", message, "InvalidArgument"),
  invalidToken: (message: string) => sfnFault("InvalidToken", message, "InvalidArgument"),
  invalidTracingConfiguration: (message: string) => sfnFault("InvalidTracingConfiguration", message, "InvalidArgument"),
  missingRequiredParameter: (message: string) => sfnFault("MissingRequiredParameter", message, "InvalidArgument"),
  resourceNotFound: (message: string) => sfnFault("ResourceNotFound", message, "NotFound"),
  stateMachineAlreadyExists: (message: string) => sfnFault("StateMachineAlreadyExists", message, "AlreadyExists"),
  stateMachineDeleting: (message: string) => sfnFault("StateMachineDeleting", message, "FailedPrecondition"),
  stateMachineDoesNotExist: (message: string) => sfnFault("StateMachineDoesNotExist", message, "NotFound"),
  stateMachineLimitExceeded: (message: string) => sfnFault("StateMachineLimitExceeded", message, "ResourceExhausted"),
  stateMachineTypeNotSupported: (message: string) => sfnFault("StateMachineTypeNotSupported", message, "Unimplemented"),
  taskDoesNotExist: (message: string) => sfnFault("TaskDoesNotExist", message, "NotFound"),
  taskTimedOut: (message: string) => sfnFault("TaskTimedOut", message, "FailedPrecondition"),
  tooManyTags: (message: string) => sfnFault("TooManyTags", message, "InvalidArgument"),
  /** Step Functions' own ValidationException (a rule beyond the model's constraints, e.g. a tag key prefix). */
  validation: (message: string) => sfnFault("ValidationException", message, "InvalidArgument"),
} as const;

function sfnFault(type: string, message: string, code: FaultCode): Fault {
  return new Fault(type, message, { namespace: Namespace.sfn, code });
}

/** Data Pipeline's modeled errors, by the names of the model's exception shapes (InternalServiceError is HTTP 500). */
export const datapipeline = {
  invalidRequest: (message: string) => dpFault("InvalidRequestException", message, "InvalidArgument"),
  pipelineNotFound: (message: string) => dpFault("PipelineNotFoundException", message, "NotFound"),
  pipelineDeleted: (message: string) => dpFault("PipelineDeletedException", message, "NotFound"),
  taskNotFound: (message: string) => dpFault("TaskNotFoundException", message, "NotFound"),
  internalServiceError: (message: string) => new Fault("InternalServiceError", message, { namespace: Namespace.datapipeline, code: "Internal", status: 500 }),
} as const;

function dpFault(type: string, message: string, code: FaultCode): Fault {
  return new Fault(type, message, { namespace: Namespace.datapipeline, code });
}

// ---------------------------------------------------------------------------------------------
// Request values in messages

/** Longest request value quoted in an error message before it is cut with "…". */
export const maxQuoted = 128;

/** A request value as quoted in an error message: at most maxQuoted characters. */
export function quoted(v: unknown): string {
  const s = String(v);
  return s.length > maxQuoted ? `${s.slice(0, maxQuoted)}…` : s;
}

/** "a string", "an array", "null"… for error messages. */
function jsonKind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `a ${typeof v}`;
}

/** A JSON request value of the wrong type: the SerializationException naming its path and what was expected. */
export function wrongJsonType(path: string, expected: string, v: unknown): Fault {
  return serializationError(`Invalid value at '${path}': expected ${expected}, got ${jsonKind(v)}.`);
}

/** A request body that is not a JSON object. */
export function notAJsonObject(v: unknown): Fault {
  return serializationError(`The request body must be a JSON object, got ${jsonKind(v)}.`);
}

// ---------------------------------------------------------------------------------------------
// JSON request bodies

/** Deepest nesting of arrays and objects a JSON request body may have. */
export const maxJsonDepth = 100;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** String.prototype.isWellFormed (ES2024): no lone surrogate. */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Reads a JSON request body (the AWS JSON route and the Connect JSON route): the bytes must be
 * UTF-8 (a leading byte-order mark is dropped), the text JSON, every string and key well-formed
 * UTF-16 (no lone surrogate escapes such as "\ud800"), nesting at most maxJsonDepth deep. Throws
 * a SerializationException fault naming the problem; an invalid byte is never replaced with
 * U+FFFD, so two different byte strings never become the same name. A blank body is `{}`.
 * Linear in the body's length; the walk uses no recursion.
 */
export function parseJsonBody(body: Uint8Array): { text: string; value: unknown } {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw serializationError("The request body is not valid UTF-8.");
  }
  if (text.trim() === "") return { text: "{}", value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw serializationError(`The request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  checkJsonValue(value);
  return { text, value };
}

interface JsonFrame {
  readonly value: object;
  readonly depth: number;
  readonly key: string | number;
  readonly parent: JsonFrame | undefined;
}

function jsonPath(frame: JsonFrame | undefined, key: string | number | undefined): string {
  const parts: string[] = [];
  const push = (k: string | number): void => void parts.push(typeof k === "number" ? `${k + 1}.member` : k);
  if (key !== undefined) push(key);
  for (let f = frame; f?.parent !== undefined; f = f.parent) push(f.key);
  return parts.reverse().join(".");
}

/** A lone surrogate in `s` as `\uXXXX` (s is known not to be well-formed). */
function loneSurrogate(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return `\\u${c.toString(16)}`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `\\u${c.toString(16)}`;
  }
  return "";
}

function illFormed(path: string, s: string, what: string): Fault {
  return serializationError(
    `Invalid ${what} at '${path === "" ? "(body)" : path}': it contains the unpaired surrogate ${loneSurrogate(s)}, which is not a Unicode character; send well-formed UTF-16 escapes or UTF-8.`,
  );
}

/**
 * Checks a parsed JSON value: strings and keys well-formed, nesting at most `maxDepth` deep.
 * Iterative (an explicit stack), linear in the value's size.
 */
export function checkJsonValue(root: unknown, maxDepth = maxJsonDepth): void {
  if (typeof root === "string") {
    if (!isWellFormed(root)) throw illFormed("", root, "value");
    return;
  }
  if (typeof root !== "object" || root === null) return;
  const tooDeep = (): Fault => serializationError(`The request body nests arrays and objects more than ${maxDepth} levels deep.`);
  if (maxDepth < 1) throw tooDeep();
  const stack: JsonFrame[] = [{ value: root, depth: 1, key: "", parent: undefined }];
  const visit = (frame: JsonFrame, key: string | number, child: unknown): void => {
    if (typeof child === "string") {
      if (!isWellFormed(child)) throw illFormed(jsonPath(frame, key), child, "value");
    } else if (typeof child === "object" && child !== null) {
      if (frame.depth >= maxDepth) throw tooDeep();
      stack.push({ value: child, depth: frame.depth + 1, key, parent: frame });
    }
  };
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const v = frame.value;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) visit(frame, i, v[i]);
      continue;
    }
    const obj = v as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!isWellFormed(key)) throw illFormed(jsonPath(frame, key), key, "member name");
      visit(frame, key, obj[key]);
    }
  }
}
