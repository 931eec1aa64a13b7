// The authorization seam of the SWF engine: what only the engine knows (the domain of a task a
// token names, the members of each decision) is authorized here, against the policies of the
// principal whose request is being served.
//
// The authentication layer publishes, under the process-wide symbol `taskgate.access`, a function
// answering the access check of the request in progress (undefined with --auth off or outside a
// request). The engine never imports the authentication layer, so the lookup goes through that
// symbol; with nothing published every call is allowed, as before authorization existed.
import { swf } from "../faults.ts";
import { swfDomainArn, type ArnScope } from "../resources/arn.ts";

/** The access check of one request: the caller's policies with the request's global condition keys. */
export interface EngineAccess {
  /** Whether the caller's policies allow `action` on `resource` with these condition keys (anything but Allow is false). */
  allows(action: string, resource: string, context: Readonly<Record<string, string>>): boolean;
  /** AWS's refusal message for `action` on `resource` (names the caller's ARN). */
  refusal(action: string, resource: string): string;
}

/** The process-wide symbol the authentication layer publishes its `() => EngineAccess | undefined` under. */
export const ACCESS_SYMBOL: unique symbol = Symbol.for("taskgate.access") as never;

/**
 * The access check of the request being served; undefined when authorization is off. Read it
 * when an operation starts, before its first await: work queued behind a transaction may run in
 * another request's context.
 */
export function callerAccess(): EngineAccess | undefined {
  const source: unknown = (globalThis as Record<symbol, unknown>)[ACCESS_SYMBOL];
  return typeof source === "function" ? (source as () => EngineAccess | undefined)() : undefined;
}

/**
 * Authorizes an operation that names a task only by its token (RespondActivityTask*,
 * RecordActivityTaskHeartbeat, RespondDecisionTaskCompleted) on the task's domain, once the task
 * is loaded: throws OperationNotPermittedFault when the caller's policies do not allow it.
 * `access` is callerAccess() as read when the operation started.
 */
export function authorizeTaskOperation(access: EngineAccess | undefined, operation: string, scope: ArnScope, domain: string): void {
  if (access === undefined) return;
  const resource = swfDomainArn(scope, domain);
  const action = `swf:${operation}`;
  if (!access.allows(action, resource, {})) throw swf.operationNotPermitted(access.refusal(action, resource));
}
