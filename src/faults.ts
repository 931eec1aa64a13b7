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
