// The caller's account, for Data Pipeline's rule that a task runner receives only tasks of
// pipelines its own account created. The authentication layer publishes the access check of the
// request in progress under the process-wide symbol `taskgate.access` (the engine does not import
// that layer); its `account` is the caller's account. Nothing published (--auth off): every caller
// is the server's own account.

/** The caller's account when it is not `own` (the server's --account-id); null for the server's own account or with --auth off. */
export function callerAccount(own: string): string | null {
  const source: unknown = (globalThis as Record<symbol, unknown>)[Symbol.for("taskgate.access")];
  const access: unknown = typeof source === "function" ? (source as () => unknown)() : undefined;
  const account = typeof access === "object" && access !== null ? (access as { account?: unknown }).account : undefined;
  return typeof account === "string" && account !== own ? account : null;
}
