// Authentication at the edge: --auth off (anyone who reaches the port may do anything) or
// --auth sigv4 (every request but /healthz must come from a principal of the --auth-file).
//
// AWS JSON route: SigV4 (sigv4.ts), the credential scope's service being the one the target
// names (`swf`, `states`, `datapipeline`) and its region taskgate's --region; the body is hashed
// here. Connect, gRPC and gRPC-Web routes accept either
//   - `authorization: Bearer <accessKeyId>:<secretAccessKey>` (plus `x-amz-security-token: <token>`
//     for a principal with a session token), meant for TLS or a trusted network, as it sends the
//     secret itself; or
//   - SigV4 over HTTP, signed for the service of the RPC's package (taskgate.swf.v1 -> swf,
//     taskgate.sfn.v1 -> states, taskgate.datapipeline.v1 -> datapipeline), with
//     `x-amz-content-sha256` signed and taken as given (the server does not hash streamed bodies).
// A failure is UNAUTHENTICATED there, with the AWS fault name (MissingAuthenticationTokenException,
// IncompleteSignatureException, InvalidSignatureException, UnrecognizedClientException) in the
// taskgate.common.v1.Fault detail; on the AWS JSON route it is that fault's `__type` with HTTP 400.
//
// Open without credentials, like GET /healthz: the gRPC health service (grpc.health.v1.Health),
// which load balancers and Kubernetes probes call without credentials. Server reflection is not.
//
// The principal of an authenticated request is in the handler context under principalKey.
//
// Authorization: every authenticated call is evaluated against the principal's policies with the
// request's condition keys and aws:CurrentTime, aws:EpochTime, aws:SourceIp, aws:SecureTransport
// and aws:username, on both route families:
//   - SWF: `swf:<Operation>` on the domain's ARN (swf-access.ts); the operations that name only a
//     task token, and each decision of RespondDecisionTaskCompleted, are authorized by the engine
//     once it has loaded the task (src/swf/access.ts, through scope.ts). Refused:
//     OperationNotPermittedFault (a refused decision: its *Failed event, OPERATION_NOT_PERMITTED).
//   - Step Functions and Data Pipeline: `states:<Operation>` / `datapipeline:<Operation>` on the
//     ARNs access.ts derives; refused: AccessDeniedException.
//   - RPC routes: the same, the request message read as its JSON; task streams as their poll
//     operation, batches entry by entry; refused: PERMISSION_DENIED with the AWS fault in the
//     taskgate.common.v1.Fault detail.
import { toJson, type DescMessage, type DescMethod, type Message } from "@bufbuild/protobuf";
import { Code, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { ContextValues } from "@connectrpc/connect";
import { AuthFailure, incompleteSignature, missingAuthenticationToken, unrecognizedClient } from "./errors.ts";
import { PrincipalStore, type Principal, type ReloadResult } from "./credentials.ts";
import { SigningKeyCache, verifySigV4, type SignedRequest } from "./sigv4.ts";
import { evaluate, type Decision } from "./policy.ts";
import { accessesOf } from "./access.ts";
import { runWithAccess, type CallAccess } from "./scope.ts";
import { openTokens, sealTokens, tokenKey } from "./tokens.ts";
import { accessDenied, Fault, swf } from "../faults.ts";

export { AuthFailure } from "./errors.ts";
export { CallLimits, ThrottlingFault, isPoll, type LimitSettings } from "./limits.ts";
export { CredentialsFileError, PrincipalStore, loadPrincipals, parsePrincipals, type Principal, type ReloadResult } from "./credentials.ts";
export { evaluate, compilePolicy, PolicyError, type AuthorizationRequest, type Decision } from "./policy.ts";

/** How requests are authenticated: not at all, or by SigV4 / bearer tokens against the principals file. */
export type AuthMode = "off" | "sigv4";

/** The principal that made the request; undefined with --auth off. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "taskgate: the authenticated principal" });

/** Where a request came from (set by the server for each request): the client address and whether it arrived over TLS. */
export interface RequestSource {
  readonly ip: string | undefined;
  readonly secure: boolean;
}

/** The source of the request, in the handler context (aws:SourceIp, aws:SecureTransport). */
export const sourceKey = createContextKey<RequestSource>({ ip: undefined, secure: false }, { description: "taskgate: the client address" });

/** The access check of an authorized call, in the handler context; undefined with --auth off. */
export const accessKey = createContextKey<CallAccess | undefined>(undefined, { description: "taskgate: the caller's access check" });

/** What createAuthenticator needs. */
export interface AuthOptions {
  readonly mode: AuthMode;
  /** The principals file; required when mode is "sigv4" (read at once, CredentialsFileError when bad). */
  readonly file?: string;
  /** The region requests must be signed for (and the region of the ARNs policies are matched against). */
  readonly region: string;
  /** The account of the ARNs policies are matched against (--account-id). */
  readonly accountId: string;
  /** RPC service full name (`taskgate.swf.v1.SimpleWorkflowService`) -> SigV4 service name (`swf`). */
  readonly rpcServices: ReadonlyMap<string, string>;
  /** The clock, epoch ms (default Date.now). */
  readonly now?: () => number;
}

/** The request parts authentication reads. */
export type AuthRequest = Omit<SignedRequest, "body">;

/** Authentication of both route families, and the principals file's reload. */
export interface Authenticator {
  readonly mode: AuthMode;
  /**
   * AWS JSON route: verifies the SigV4 signature of a request whose body has been read, for the
   * target's service; records the principal in `values`. Throws the AWS Fault of a failure.
   */
  authenticateAwsJson(req: AuthRequest, body: Uint8Array, service: string, values: ContextValues): void;
  /**
   * AWS JSON route, after authentication and the request's conversion: authorizes the call of
   * `operation` with the request's JSON `input` by the principal's policies (the file comment
   * says which calls). Throws the service's Fault when the policies do not allow it.
   */
  authorizeAwsJson(service: string, operation: string, input: unknown, values: ContextValues): void;
  /** Runs `fn` (the engine call) with the access check of the call in `values`, for what the engine authorizes itself. */
  inScope<T>(values: ContextValues, fn: () => T): T;
  /** The principal of an RPC request, or the failure; undefined with --auth off. */
  authenticateRpc(req: AuthRequest): Principal | AuthFailure | undefined;
  /** Connect interceptor for the RPC routes: refuses unauthenticated calls, records the principal. */
  readonly interceptor: Interceptor;
  /**
   * Seals, in place, the task and page tokens of a response for the caller's account (tokens.ts);
   * nothing with --auth off. `value` is the response as JSON or a protobuf-es message.
   */
  sealTokens(service: string, value: unknown, values: ContextValues): void;
  /** Opens, in place, the tokens of a request; throws the service's unknown-token fault for one sealed for another account. */
  openTokens(service: string, value: unknown, values: ContextValues): void;
  /** Re-reads the principals file (SIGHUP); with --auth off there is nothing to reload. */
  reload(): ReloadResult;
  /** How many principals are in force (0 with --auth off). */
  readonly principals: number;
}

/** RPC services served without authentication (probes cannot send credentials). */
export const OPEN_RPC_SERVICES: ReadonlySet<string> = new Set(["grpc.health.v1.Health"]);

/** The SigV4 service of an RPC path `/<package>.<Service>/<Method>`. */
function rpcService(url: string, services: ReadonlyMap<string, string>): string | undefined {
  const path = url.split("?", 1)[0];
  const slash = path.indexOf("/", 1);
  return slash < 0 ? undefined : services.get(path.slice(1, slash));
}

function firstHeader(v: string | readonly string[] | undefined): string | undefined {
  return typeof v === "string" ? v : v?.[0];
}

/** Creates the authenticator; reads the principals file at once when mode is "sigv4". */
export function createAuthenticator(opts: AuthOptions): Authenticator {
  const now = opts.now ?? Date.now;
  if (opts.mode === "off") {
    return {
      mode: "off",
      authenticateAwsJson: () => undefined,
      authorizeAwsJson: () => undefined,
      inScope: (_values, fn) => fn(),
      sealTokens: () => undefined,
      openTokens: () => undefined,
      authenticateRpc: () => undefined,
      interceptor: (next) => next,
      reload: () => ({ ok: true, principals: 0 }),
      principals: 0,
    };
  }
  if (opts.file === undefined) throw new Error("--auth sigv4 needs --auth-file");
  const store = new PrincipalStore(opts.file);
  const keys = new SigningKeyCache();
  /** Token keys: the current principals' and, after a reload, the previous ones' (tokens.ts). */
  let tokenKeys: Buffer[] = [tokenKey(store.all().map((p) => p.secretAccessKey))];
  const accountOf = (values: ContextValues): string | undefined => {
    const p = values.get(principalKey);
    return p === undefined ? undefined : (p.accountId ?? opts.accountId);
  };
  const lookup = (id: string): Principal | undefined => store.lookup(id);

  const authenticateRpc = (req: AuthRequest): Principal | AuthFailure => {
    try {
      const authorization = firstHeader(req.headers.authorization)?.trim() ?? "";
      if (authorization.startsWith("Bearer ") || authorization.startsWith("bearer ")) {
        const token = authorization.slice("Bearer ".length).trim();
        const colon = token.indexOf(":");
        if (colon <= 0) throw incompleteSignature("A bearer token must be <accessKeyId>:<secretAccessKey>.");
        const principal = store.lookup(token.slice(0, colon));
        if (principal === undefined || !sameText(token.slice(colon + 1), principal.secretAccessKey)) throw unrecognizedClient();
        const session = firstHeader(req.headers["x-amz-security-token"]);
        if (principal.sessionToken === undefined ? session !== undefined : session === undefined || !sameText(session, principal.sessionToken)) throw unrecognizedClient();
        return principal;
      }
      const service = rpcService(req.url, opts.rpcServices);
      if (authorization === "") throw missingAuthenticationToken();
      if (service === undefined) throw incompleteSignature("This path names no service a signature can be scoped to.");
      return verifySigV4({ ...req, body: undefined }, { region: opts.region, service, nowMs: now(), lookup, keys });
    } catch (e) {
      if (e instanceof AuthFailure) return e;
      throw e;
    }
  };

  /** The access check of one call by `principal` from `source`; the clock is read once per call. */
  const callAccess = (principal: Principal, source: RequestSource | undefined): CallAccess => {
    const nowMs = now();
    const global: Record<string, string> = {
      "aws:CurrentTime": new Date(nowMs).toISOString(),
      "aws:EpochTime": String(Math.floor(nowMs / 1000)),
      "aws:SecureTransport": source?.secure === true ? "true" : "false",
      "aws:username": principal.name,
      ...(source?.ip === undefined ? {} : { "aws:SourceIp": source.ip }),
    };
    const user = `arn:aws:iam::${principal.accountId ?? opts.accountId}:user/${principal.name}`;
    const decide = (action: string, resource: string, context: Readonly<Record<string, string | readonly string[]>>): Decision =>
      evaluate(principal.policies, { action, resource, context: { ...context, ...global } });
    return {
      allows: (action, resource, context) => decide(action, resource, context).decision === "Allow",
      refusal: (action, resource) => refusal(user, action, resource, decide(action, resource, {})),
      decide,
      grants: (action, resource, context, key) => evaluate(principal.policies, { action, resource, context: { ...context, ...global }, grantKey: key }).decision === "Allow",
      name: principal.name,
      user,
      account: principal.accountId ?? opts.accountId,
    };
  };

  /** Throws the service's refusal unless every access of the call is allowed. */
  const authorize = (access: CallAccess, service: string, operation: string, input: Record<string, unknown>): void => {
    for (const a of accessesOf(service, operation, input, opts.region, opts.accountId)) {
      const d = access.decide(a.action, a.resource, a.context);
      if (d.decision === "Allow") continue;
      const message = refusal(access.user, a.action, a.resource, d);
      throw service === "swf" ? swf.operationNotPermitted(message) : accessDenied(message);
    }
  };

  return {
    mode: "sigv4",
    authenticateAwsJson(req, body, service, values) {
      try {
        values.set(principalKey, verifySigV4({ ...req, body }, { region: opts.region, service, nowMs: now(), lookup, keys }));
      } catch (e) {
        throw e instanceof AuthFailure ? e.fault : e;
      }
    },
    authorizeAwsJson(service, operation, input, values) {
      const principal = values.get(principalKey);
      if (principal === undefined) return;
      const access = callAccess(principal, values.get(sourceKey));
      values.set(accessKey, access);
      if (typeof input !== "object" || input === null || Array.isArray(input)) return;
      authorize(access, service, operation, input as Record<string, unknown>);
    },
    inScope(values, fn) {
      const access = values.get(accessKey);
      return access === undefined ? fn() : runWithAccess(access, fn);
    },
    authenticateRpc,
    interceptor: (next) => async (req) => {
      if (OPEN_RPC_SERVICES.has(req.service.typeName)) return next(req);
      const url = new URL(req.url);
      const headers: Record<string, string> = {};
      req.header.forEach((v, k) => (headers[k] = v));
      headers.host ??= url.host;
      const result = authenticateRpc({ method: req.requestMethod, url: `${url.pathname}${url.search}`, headers });
      if (result instanceof AuthFailure) throw result.toConnectError();
      req.contextValues.set(principalKey, result);
      const access = callAccess(result, req.contextValues.get(sourceKey));
      req.contextValues.set(accessKey, access);
      const service = opts.rpcServices.get(req.service.typeName);
      if (service === undefined) return runWithAccess(access, () => next(req));
      const account = result.accountId ?? opts.accountId;
      const check = (message: Message): void => {
        try {
          for (const [operation, input] of rpcOperations(service, req.method, message)) authorize(access, service, operation, input);
        } catch (e) {
          throw e instanceof Fault ? new AuthFailure(e, Code.PermissionDenied).toConnectError() : e;
        }
        // Tokens sealed for the caller's account are opened in place (tokens.ts).
        openTokens(service, message, account, tokenKeys);
      };
      // A stream's handler runs as its messages are read, outside this call's context: each read
      // is made in the caller's access scope, so the engine sees the caller there too.
      const sealed = async function* (messages: AsyncIterable<Message>): AsyncGenerator<Message> {
        const it = messages[Symbol.asyncIterator]();
        try {
          for (;;) {
            const r = await runWithAccess(access, () => it.next());
            if (r.done === true) return;
            sealTokens(service, r.value, account, tokenKeys[0]);
            yield r.value;
          }
        } finally {
          await it.return?.();
        }
      };
      const answer = async (res: Awaited<ReturnType<typeof next>>): Promise<Awaited<ReturnType<typeof next>>> => {
        if (res.stream) return { ...res, message: sealed(res.message) };
        sealTokens(service, res.message, account, tokenKeys[0]);
        return res;
      };
      if (!req.stream) {
        check(req.message);
        return runWithAccess(access, async () => answer(await next(req)));
      }
      const messages = req.message;
      const checked = async function* (): AsyncGenerator<Message> {
        for await (const m of messages) {
          check(m);
          yield m;
        }
      };
      return runWithAccess(access, async () => answer(await next({ ...req, message: checked() })));
    },
    sealTokens(service, value, values) {
      const account = accountOf(values);
      if (account !== undefined) sealTokens(service, value, account, tokenKeys[0]);
    },
    openTokens(service, value, values) {
      const account = accountOf(values);
      if (account !== undefined) openTokens(service, value, account, tokenKeys);
    },
    reload: () => {
      const r = store.reload();
      if (r.ok) {
        const next = tokenKey(store.all().map((p) => p.secretAccessKey));
        if (!next.equals(tokenKeys[0])) tokenKeys = [next, tokenKeys[0]];
      }
      return r;
    },
    get principals() {
      return store.size;
    },
  };
}

/** AWS's message for a refused call: who, what, on which resource, and why. */
function refusal(user: string, action: string, resource: string, d: Decision): string {
  const why = d.decision === "Deny" ? "with an explicit deny in an identity-based policy" : `because no identity-based policy allows the ${action} action`;
  return `User: ${user} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
}

/** RPC methods that are not model operations, by SigV4 service: task streams, authorized as their poll operation. */
const STREAM_OPERATIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  swf: { StreamActivityTasks: "PollForActivityTask", StreamActivityTaskBatches: "PollForActivityTask", StreamDecisionTasks: "PollForDecisionTask" },
  states: { StreamActivityTasks: "GetActivityTask", StreamActivityTaskBatches: "GetActivityTask" },
  datapipeline: { StreamTasks: "PollForTask", StreamTaskBatches: "PollForTask" },
};

/**
 * The model operations an RPC call amounts to, each with its request as AWS JSON member names: the
 * method itself, a task stream as its poll operation, a batch `Respond<Kind>Tasks` as one
 * operation per entry (the entry's request message named `<Operation>Request`).
 */
function rpcOperations(service: string, method: DescMethod, message: Message): [string, Record<string, unknown>][] {
  const json = (desc: DescMessage, m: Message): Record<string, unknown> => toJson(desc, m) as Record<string, unknown>;
  const stream = STREAM_OPERATIONS[service]?.[method.name];
  if (stream !== undefined) return [[stream, json(method.input, message)]];
  if (/^Respond\w+Tasks$/.test(method.name)) {
    const list = method.input.fields.find((f) => f.fieldKind === "list" && f.listKind === "message");
    if (list === undefined || list.fieldKind !== "list" || list.listKind !== "message") return [];
    const oneof = list.message.oneofs[0];
    const items = (message as unknown as Record<string, unknown>)[list.localName];
    if (oneof === undefined || !Array.isArray(items)) return [];
    return items.flatMap((item: Record<string, { case?: string; value?: Message }>) => {
      const o = item[oneof.localName];
      const f = oneof.fields.find((x) => x.localName === o?.case);
      if (f === undefined || f.fieldKind !== "message" || o?.value === undefined) return [];
      return [[f.message.name.replace(/Request$/, ""), json(f.message, o.value)] as [string, Record<string, unknown>]];
    });
  }
  return [[method.name, json(method.input, message)]];
}

/** Constant-time comparison of two strings of any lengths. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
