// The access check of the request being served, for the engines: the authentication layer runs
// each authenticated call inside `runWithAccess`, and publishes under the process-wide symbol
// `taskgate.access` a function returning the check of the call in progress. An engine reads it
// there (src/swf/access.ts) when it learns what the request itself does not say (a task's domain,
// each decision's members). Outside a call, or with --auth off, the function answers undefined.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Decision } from "./policy.ts";

/** The access check of one call (the shape src/swf/access.ts reads). */
export interface CallAccess {
  /** Whether the caller's policies allow `action` on `resource` with these condition keys plus the call's global keys. */
  allows(action: string, resource: string, context: Readonly<Record<string, string>>): boolean;
  /** AWS's refusal message for `action` on `resource`. */
  refusal(action: string, resource: string): string;
  /** The policies' full answer for `action` on `resource` (the call's global keys added). */
  decide(action: string, resource: string, context: Readonly<Record<string, string | readonly string[]>>): Decision;
  /**
   * Whether a statement conditioned on `key` allows `action` on `resource` with these condition
   * keys (no Deny applying): what a policy grants by naming the key, a blanket Allow aside.
   */
  grants(action: string, resource: string, context: Readonly<Record<string, string>>, key: string): boolean;
  /** The principal's name (`aws:username`; Data Pipeline's PipelineCreator of what it creates). */
  readonly name: string;
  /** The caller's ARN as refusals name it (`arn:aws:iam::<account>:user/<name>`). */
  readonly user: string;
  /** The caller's account (the principal's accountId, else --account-id). */
  readonly account: string;
}

const current = new AsyncLocalStorage<CallAccess>();

(globalThis as Record<symbol, unknown>)[Symbol.for("taskgate.access")] = (): CallAccess | undefined => current.getStore();

/** Runs `fn` (and everything it awaits) with `access` as the check of the call in progress. */
export function runWithAccess<T>(access: CallAccess, fn: () => T): T {
  return current.run(access, fn);
}

/** The check of the call in progress, if any. */
export function currentAccess(): CallAccess | undefined {
  return current.getStore();
}
