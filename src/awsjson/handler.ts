// The AWS JSON route: awsJson 1.0/1.1 (`POST /`, `X-Amz-Target: <targetPrefix>.<Operation>`) for
// every registered service, mapped by name onto the unary methods of its protobuf service, as
// botocore and the AWS SDK for JavaScript v3 call it.
//
// Responses: 200 with the output members (src/awsjson/convert.ts), `Content-Type:
// application/x-amz-json-<model jsonVersion>`, `x-amzn-RequestId`. Errors: `{"__type":
// "<namespace>#<name>", "message": …}` with the fault's status and `x-amzn-ErrorType: <name>`
// (JS v3 reads it as a fallback; botocore reads only `__type`).
//
// Protocol errors this route produces itself (none of them reach an AWS SDK in normal use):
//   method other than POST         405  com.amazon.coral.service#UnknownOperationException (Allow: POST)
//   path other than `/`            404  com.amazon.coral.service#UnknownOperationException
//   missing/unknown X-Amz-Target   400  com.amazon.coral.service#UnknownOperationException (a model
//                                       operation taskgate does not serve says "not supported yet")
//   streaming method as target     400  com.amazon.coral.service#UnknownOperationException
//   unsupported Content-Type       400  com.amazon.coral.service#SerializationException (a body the
//                                       server cannot deserialize; names the accepted types).
//                                       A request without Content-Type is read as JSON.
//   body over maxBodyBytes         413  com.amazon.coral.service#RequestEntityTooLargeException
//   malformed / non-object JSON    400  com.amazon.coral.service#SerializationException (also a
//                                       body that is not UTF-8, a lone surrogate escape in a string
//                                       or member name, nesting deeper than 100; src/faults.ts)
//   wrong member type              400  com.amazon.coral.service#SerializationException (convert.ts)
//   unknown enum value             400  com.amazon.coral.validate#ValidationException (convert.ts)
// A ConnectError thrown by an implementation: its taskgate.common.v1.Fault detail when present,
// otherwise InvalidArgument -> 400 ValidationException, Unavailable -> 503 ServiceUnavailable,
// anything else -> 500 InternalFailure. Any other error -> 500 InternalFailure; the cause is
// logged at error level and never sent.
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { create } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { ContextValues, HandlerContext } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { Delivery, deliveryKey } from "../request/delivery.ts";
import { Fault, Namespace, internalFailure, parseJsonBody, serializationError, unknownOperation, validationError } from "../faults.ts";
import type { FaultCode } from "../faults.ts";
import type { Model } from "../model/model.ts";
import type { RegisteredService } from "../services/registry.ts";
import { faultFromConnectError } from "../faults-connect.ts";
import { awsJsonToMessage, messageToAwsJson } from "./convert.ts";

export type AwsJsonRequest = IncomingMessage | Http2ServerRequest;
export type AwsJsonResponse = ServerResponse | Http2ServerResponse;

export interface AwsJsonHandlerOptions {
  /** The services to serve, each under its model's targetPrefix. */
  services: RegisteredService[];
  logger: Logger;
  /** Largest request body accepted; larger bodies get 413. */
  maxBodyBytes: number;
  /**
   * Whether the edge in front reports each response's close by calling the handler's `closed`
   * (the server does, from the listener it has anyway); otherwise the handler listens itself.
   */
  edgeReportsClose?: boolean;
  /** Per-request context values (e.g. the authenticated principal); a Delivery is added unless they carry one. */
  contextValues?: (req: AwsJsonRequest) => ContextValues;
  /**
   * Authenticates a request once its body is read, before the body is parsed, for the SigV4
   * service of its target (the model's endpointPrefix: swf, states, datapipeline). Throws a Fault
   * to refuse the request (answered as any fault); may record the principal in `values`.
   */
  authenticate?: (req: AwsJsonRequest, body: Buffer, service: string, values: ContextValues) => void;
  /**
   * Authorizes a request once its body is read and converted (a body the model refuses is
   * answered first), with the operation's name and the request's JSON. Throws a Fault to refuse it.
   */
  authorize?: (req: AwsJsonRequest, service: string, operation: string, input: unknown, values: ContextValues) => void;
  /**
   * Admits the service call (after authorize) under the caller's limits: throws a Fault to refuse
   * it before it runs, or returns the function that gives back what the call holds, called once
   * the call settled.
   */
  admit?: (req: AwsJsonRequest, service: string, operation: string, values: ContextValues) => () => void;
  /** Runs the admitted call in the caller's authorization scope. */
  inScope?: (values: ContextValues, call: () => unknown) => unknown;
  /** Opens, in place, the account-bound tokens of an authenticated request's JSON before it is converted (throws a Fault to refuse it). */
  openTokens?: (service: string, input: unknown, values: ContextValues) => void;
  /** Seals, in place, the tokens of a response's JSON for the caller's account before it is sent. */
  sealTokens?: (service: string, output: Record<string, unknown>, values: ContextValues) => void;
}

interface Route {
  readonly service: RegisteredService;
  readonly model: Model;
  readonly contentType: string;
  readonly methods: ReadonlyMap<string, DescMethod>;
}

/** Target prefixes accepted besides each model's own. */
const PREFIX_ALIASES: Readonly<Record<string, string>> = { AmazonStatesService: "AWSStepFunctions" };

const ACCEPTED_CONTENT_TYPES = ["application/x-amz-json-1.0", "application/x-amz-json-1.1", "application/json"];

/** The AWS JSON error body of a fault. */
export function awsFaultBody(f: Fault): { __type: string; message: string } {
  return { __type: `${f.namespace}#${f.type}`, message: f.message };
}

function protocolFault(type: string, message: string, status: number): Fault {
  return new Fault(type, message, { namespace: Namespace.coralService, code: status >= 500 ? "Internal" : "InvalidArgument", status });
}

const FAULT_CODES: ReadonlySet<string> = new Set<FaultCode>([
  "InvalidArgument",
  "NotFound",
  "AlreadyExists",
  "FailedPrecondition",
  "PermissionDenied",
  "ResourceExhausted",
  "Unimplemented",
  "Internal",
  "Unavailable",
]);

/** The Fault an error of an implementation is sent as. */
function faultOf(e: unknown): Fault {
  if (e instanceof Fault) return e;
  if (e instanceof ConnectError) {
    const detail = faultFromConnectError(e);
    if (detail) {
      const name = Code[e.code];
      const code: FaultCode = FAULT_CODES.has(name) ? (name as FaultCode) : "Internal";
      const status = e.code === Code.Unavailable ? 503 : e.code === Code.Internal || e.code === Code.Unknown || e.code === Code.DataLoss ? 500 : 400;
      return new Fault(detail.name, detail.message, { namespace: detail.namespace, code, status, cause: e });
    }
    if (e.code === Code.InvalidArgument) return validationError(e.rawMessage);
    if (e.code === Code.Unavailable) {
      return new Fault("ServiceUnavailable", e.rawMessage, { namespace: Namespace.coralAvailability, code: "Unavailable", status: 503, retryable: true, cause: e });
    }
  }
  return internalFailure(e);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function toHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || k.startsWith(":")) continue;
    try {
      if (Array.isArray(v)) for (const x of v) out.append(k, x);
      else out.append(k, v);
    } catch {
      // a header value fetch's Headers rejects: not needed by handlers
    }
  }
  return out;
}

/**
 * The HandlerContext of a call on this route: what the service implementations read (values,
 * signal, timeoutMs, which is undefined: AWS clients send no deadline) and the rest of the
 * interface, its Headers made only when read. One object and no timers or linked signals per
 * call, so a held long poll keeps little more than its request (connect-es's createHandlerContext
 * made three Headers and two linked AbortControllers per call).
 */
class AwsJsonContext implements HandlerContext {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly signal: AbortSignal;
  readonly values: ContextValues;
  readonly protocolName = "aws-json";
  readonly requestMethod = "POST";
  readonly #req: AwsJsonRequest;
  #requestHeader: Headers | undefined;
  #responseHeader: Headers | undefined;
  #responseTrailer: Headers | undefined;

  constructor(service: DescService, method: DescMethod, req: AwsJsonRequest, signal: AbortSignal, values: ContextValues) {
    this.service = service;
    this.method = method;
    this.#req = req;
    this.signal = signal;
    this.values = values;
  }

  get url(): string {
    const req = this.#req;
    const host = headerValue(req.headers.host) ?? headerValue(req.headers[":authority"]) ?? "localhost";
    return `http://${host}${req.url ?? "/"}`;
  }

  get requestHeader(): Headers {
    return (this.#requestHeader ??= toHeaders(this.#req.headers));
  }

  /** Not sent on this route (the AWS JSON answer has its own headers). */
  get responseHeader(): Headers {
    return (this.#responseHeader ??= new Headers());
  }

  /** Not sent on this route. */
  get responseTrailer(): Headers {
    return (this.#responseTrailer ??= new Headers());
  }

  timeoutMs(): number | undefined {
    return undefined;
  }
}

class BodyTooLarge extends Error {}
class ClientGone extends Error {}

/** Reads the body, up to `limit` bytes. Rejects with BodyTooLarge or ClientGone. */
function readBody(req: AwsJsonRequest, limit: number): Promise<Buffer> {
  const declared = Number(headerValue(req.headers["content-length"]));
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // discard what arrives; the connection closes after the 413
    return Promise.reject(new BodyTooLarge());
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      if (err) {
        req.resume();
        reject(err);
      } else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > limit) done(new BodyTooLarge());
      else chunks.push(b);
    };
    const onEnd = (): void => done(undefined);
    const onError = (): void => done(new ClientGone());
    const onClose = (): void => done(req.readableEnded ? undefined : new ClientGone());
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** The request handler of the AWS JSON route, and what the edge calls when a response closes (with edgeReportsClose). */
export interface AwsJsonHandler {
  (req: AwsJsonRequest, res: AwsJsonResponse): void;
  /** A response of this handler closed (written completely, or the client went away first). */
  closed(res: AwsJsonResponse): void;
}

/** Creates the request handler of the AWS JSON route. It never throws and ends every response once. */
export function createAwsJsonHandler(opts: AwsJsonHandlerOptions): AwsJsonHandler {
  const { logger, maxBodyBytes } = opts;
  const routes = new Map<string, Route>();
  for (const service of opts.services) {
    const methods = new Map<string, DescMethod>();
    // Only the model's operations: taskgate's own RPCs (streams, batches) are Connect/gRPC only.
    for (const m of service.desc.methods) if (m.methodKind === "unary" && service.model.operations[m.name]) methods.set(m.name, m);
    const model = service.model;
    routes.set(model.metadata.targetPrefix, {
      service,
      model,
      contentType: `application/x-amz-json-${model.metadata.jsonVersion}`,
      methods,
    });
  }
  for (const [alias, prefix] of Object.entries(PREFIX_ALIASES)) {
    const r = routes.get(prefix);
    if (r && !routes.has(alias)) routes.set(alias, r);
  }

  const env: CallEnv = { logger, sealTokens: opts.sealTokens };

  const handler = (req: AwsJsonRequest, res: AwsJsonResponse): void => {
    handle(req, res).catch((e: unknown) => {
      // handle() catches everything itself; this is the last line of defence.
      logger.error({ err: e }, "aws-json: unexpected failure in the request handler");
      try {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else if (!res.writableEnded) res.end();
      } catch {
        // nothing more can be done for this response
      }
    });
  };
  const edgeReportsClose = opts.edgeReportsClose === true;

  async function handle(req: AwsJsonRequest, res: AwsJsonResponse): Promise<void> {
    const target = headerValue(req.headers["x-amz-target"]) ?? "";
    const requestType = headerValue(req.headers["content-type"]);
    // The edge in front (the server) already ties a Delivery to this response; only a handler
    // used on its own tracks delivery itself.
    const values = opts.contextValues ? opts.contextValues(req) : createContextValues();
    const own = values.get(deliveryKey) === undefined ? new Delivery() : undefined;
    if (own) values.set(deliveryKey, own);
    const call = new AwsCall(res, target, requestType !== undefined && requestType.toLowerCase().startsWith("application/x-amz-json-1.1") ? "application/x-amz-json-1.1" : "application/x-amz-json-1.0", values, own, env);
    calls.set(res, call);
    if (!edgeReportsClose) res.on("close", onResponseClose);

    try {
      if (req.method !== "POST") {
        call.sendFault(protocolFault("UnknownOperationException", `The AWS JSON protocol accepts only POST, not ${req.method ?? "?"}.`, 405), { Allow: "POST" });
        return;
      }
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      if (path !== "/") {
        call.sendFault(protocolFault("UnknownOperationException", `No AWS JSON operation is served at ${path}; POST to / with an X-Amz-Target header.`, 404));
        return;
      }
      if (target === "") {
        call.sendFault(unknownOperation("Missing X-Amz-Target header: expected <service>.<Operation>, for example SimpleWorkflowService.PollForActivityTask."));
        return;
      }
      const dot = target.lastIndexOf(".");
      const route = dot > 0 ? routes.get(target.slice(0, dot)) : undefined;
      if (!route) {
        call.sendFault(unknownOperation(`Unknown X-Amz-Target '${target}': this server serves ${[...routes.keys()].map((p) => `${p}.<Operation>`).join(", ")}.`));
        return;
      }
      call.contentType = route.contentType;
      const method = route.methods.get(target.slice(dot + 1));
      if (!method) {
        const name = target.slice(dot + 1);
        // An operation of the model that taskgate does not serve (yet) is named as such.
        const known = Object.hasOwn(route.model.operations, name);
        call.sendFault(
          unknownOperation(
            known
              ? `Operation '${name}' of ${route.model.metadata.serviceFullName} is not supported by taskgate yet.`
              : `Unknown operation '${name}' for ${target.slice(0, dot)}.`,
          ),
        );
        return;
      }
      if (requestType !== undefined) {
        const mediaType = requestType.split(";")[0].trim().toLowerCase();
        if (!ACCEPTED_CONTENT_TYPES.includes(mediaType)) {
          call.sendFault(serializationError(`Unsupported Content-Type '${requestType}': send ${ACCEPTED_CONTENT_TYPES.join(", ")}.`));
          return;
        }
      }

      let body: Buffer;
      try {
        body = await readBody(req, maxBodyBytes);
      } catch (e) {
        if (e instanceof BodyTooLarge) {
          const http1 = req.httpVersionMajor < 2;
          call.sendFault(protocolFault("RequestEntityTooLargeException", `The request body is larger than the limit of ${maxBodyBytes} bytes.`, 413), http1 ? { Connection: "close" } : {});
        } else {
          call.clientGone = true;
          call.responded = true;
          logger.debug({ target, requestId: call.requestId }, "aws-json: the client went away while sending the request");
        }
        return;
      }

      opts.authenticate?.(req, body, route.model.metadata.endpointPrefix, values);
      const input = parseJsonBody(body).value;
      opts.openTokens?.(route.model.metadata.endpointPrefix, input, values);
      const request = awsJsonToMessage(method.input, input, route.model);
      opts.authorize?.(req, route.model.metadata.endpointPrefix, method.name, input, values);

      const ctx = new AwsJsonContext(route.service.desc, method, req, call.abort.signal, values);
      const impl = (route.service.impl as unknown as Record<string, unknown>)[method.localName];
      if (typeof impl !== "function") {
        call.sendFault(unknownOperation(`Operation '${method.name}' is not implemented by this server.`));
        return;
      }
      const run = (): unknown => (impl as (r: unknown, c: HandlerContext) => unknown).call(route.service.impl, request, ctx);
      const release = opts.admit?.(req, route.model.metadata.endpointPrefix, method.name, values) ?? noop;
      let pending: unknown;
      try {
        pending = opts.inScope === undefined ? run() : opts.inScope(values, run);
      } catch (e) {
        release();
        throw e;
      }
      // The call may be a long poll held for a minute: the call object waits for it with one
      // reaction on its promise, which also releases what the call holds, so that this frame
      // (the body, the parsed input) is not kept alive meanwhile.
      call.answer(pending, route, method, release);
    } catch (e) {
      call.failed(e);
    }
  }

  return Object.assign(handler, { closed: responseClosed });
}

function noop(): void {}

/** What the calls of one handler share. */
interface CallEnv {
  readonly logger: Logger;
  readonly sealTokens: AwsJsonHandlerOptions["sealTokens"];
}

/** The call on each response while it is open, for onResponseClose. */
const calls = new WeakMap<AwsJsonResponse, AwsCall>();

/** A response closed: written completely, or the client went away first. */
function responseClosed(res: AwsJsonResponse): void {
  const call = calls.get(res);
  calls.delete(res);
  call?.closed();
}

/** The listener form of responseClosed (`this` is the response): one function for every response. */
function onResponseClose(this: AwsJsonResponse): void {
  responseClosed(this);
}

/**
 * One request on this route, from its headers to its answer: what a held long poll keeps is this
 * object, its context values, its AbortController and its call's promise (no closures or frame
 * of its own). The request id is made when something needs it (the answer, a log line).
 */
class AwsCall {
  readonly res: AwsJsonResponse;
  readonly target: string;
  contentType: string;
  readonly values: ContextValues;
  /** The Delivery this call settles itself (a handler used without the server in front), if any. */
  readonly own: Delivery | undefined;
  readonly abort = new AbortController();
  /** What every call of the handler shares. */
  readonly env: CallEnv;
  responded = false;
  clientGone = false;
  succeeded = false;
  #requestId: string | undefined;

  constructor(res: AwsJsonResponse, target: string, contentType: string, values: ContextValues, own: Delivery | undefined, env: CallEnv) {
    this.res = res;
    this.target = target;
    this.contentType = contentType;
    this.values = values;
    this.own = own;
    this.env = env;
  }

  get logger(): Logger {
    return this.env.logger;
  }

  get requestId(): string {
    return (this.#requestId ??= randomUUID());
  }

  /** The response closed: written completely, or the client went away first. */
  closed(): void {
    if (this.res.writableFinished) {
      if (this.succeeded) this.own?.delivered();
      else this.own?.undelivered();
      return;
    }
    this.clientGone = true;
    this.abort.abort(new ConnectError("the client closed the connection", Code.Canceled));
    this.own?.undelivered();
  }

  send(status: number, body: Record<string, unknown>, headers: Record<string, string>): void {
    if (this.responded) return;
    this.responded = true;
    const res = this.res;
    if (this.clientGone || res.destroyed) return;
    const text = JSON.stringify(body);
    try {
      res.statusCode = status;
      res.setHeader("Content-Type", this.contentType);
      res.setHeader("Content-Length", String(Buffer.byteLength(text)));
      res.setHeader("x-amzn-RequestId", this.requestId);
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      res.end(text);
    } catch (e) {
      this.logger.debug({ err: e, target: this.target, requestId: this.requestId }, "aws-json: could not write the response");
    }
    // The one line per request is the server's (method, path, target, status, ms).
  }

  sendFault(f: Fault, extra: Record<string, string> = {}): void {
    if (f.status >= 500) this.logger.error({ err: f.cause ?? f, target: this.target, requestId: this.requestId, type: f.type }, "aws-json request failed");
    this.send(f.status, awsFaultBody(f), { "x-amzn-ErrorType": f.type, ...extra });
  }

  /** Once `pending` settles: calls `release`, then sends the result of the call or its failure. */
  answer(pending: unknown, route: Route, method: DescMethod, release: () => void): void {
    Promise.resolve(pending).then(
      (result: unknown) => {
        release();
        this.answered(result, route, method);
      },
      (e: unknown) => {
        release();
        this.failed(e);
      },
    );
  }

  answered(result: unknown, route: Route, method: DescMethod): void {
    try {
      if (this.clientGone) {
        this.logger.debug({ target: this.target, requestId: this.requestId }, "aws-json: the client went away before the response");
        return;
      }
      const output = create(method.output, result as MessageInitShape<DescMessage>);
      const out = messageToAwsJson(method.output, output, route.model);
      this.env.sealTokens?.(route.model.metadata.endpointPrefix, out, this.values);
      this.succeeded = true;
      this.send(200, out, {});
    } catch (e) {
      this.failed(e);
    }
  }

  /** Answers a failure of the request or of its call. */
  failed(e: unknown): void {
    if (this.clientGone) {
      this.logger.debug({ target: this.target, requestId: this.requestId, err: e }, "aws-json: the client went away before the response");
      return;
    }
    // An error answer carries no task: anything claimed for this request goes back to its queue.
    this.values.get(deliveryKey)?.undelivered();
    this.sendFault(faultOf(e));
  }
}
