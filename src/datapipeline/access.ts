// The caller as Data Pipeline's task routing sees it: a task runner receives only tasks of
// pipelines its own account created and, under --auth sigv4, that its own principal launched or
// that were launched by principals its policy grants through `datapipeline:PipelineCreator`. The
// authentication layer publishes the access check of the request in progress under the
// process-wide symbol `taskgate.access` (the engine does not import that layer). Nothing published
// (--auth off): every caller is the server's own account and no principal.
//
// Read these before an operation's first await: a group-commit drain may run transaction bodies
// in another request's async context.

/** The access check as this engine reads it (a subset of the authentication layer's). */
interface PublishedAccess {
  account?: unknown;
  name?: unknown;
  grants?: unknown;
}

function published(): PublishedAccess | undefined {
  const source: unknown = (globalThis as Record<symbol, unknown>)[Symbol.for("taskgate.access")];
  const access: unknown = typeof source === "function" ? (source as () => unknown)() : undefined;
  return typeof access === "object" && access !== null ? (access as PublishedAccess) : undefined;
}

/** The caller's account when it is not `own` (the server's --account-id); null for the server's own account or with --auth off. */
export function callerAccount(own: string): string | null {
  const account = published()?.account;
  return typeof account === "string" && account !== own ? account : null;
}

/**
 * The authenticated caller: its account (null: the server's own), its principal's name, and
 * whether its policy grants it the pipelines another principal launched (a statement allowing
 * `action` with a condition on `datapipeline:PipelineCreator` that holds for that name, no Deny).
 * Null with --auth off.
 */
export interface Caller {
  readonly account: string | null;
  readonly name: string;
  mayServe(action: string, creator: string, workerGroup: string | undefined): boolean;
}

/** The caller of the request in progress (see Caller); null with --auth off. */
export function caller(own: string): Caller | null {
  const a = published();
  if (!a || typeof a.name !== "string" || typeof a.grants !== "function") return null;
  const grants = a.grants as (action: string, resource: string, context: Record<string, string>, key: string) => boolean;
  const name = a.name;
  return {
    account: callerAccount(own),
    name,
    mayServe: (action, creator, workerGroup) => {
      if (creator === name) return true;
      const context: Record<string, string> = { "datapipeline:PipelineCreator": creator };
      if (workerGroup !== undefined) context["datapipeline:workerGroup"] = workerGroup;
      return grants(action, "*", context, "datapipeline:PipelineCreator");
    },
  };
}
