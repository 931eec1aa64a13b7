// Finding the domains and executions a request names, with the faults AWS answers when they are
// missing, deprecated or closed.
import { swf } from "../faults.ts";
import type { Sql } from "../store/db.ts";
import { ExecutionTx } from "./history.ts";
import type { Swf } from "./context.ts";
import * as st from "../store/swf.ts";

/** The fault for a task token that holds no started task (any more). */
export function unknownToken() {
  return swf.unknownResource("Unknown or expired task token: the task was completed, timed out or handed to another worker, or its execution closed.");
}

/** A domain that takes new executions and types (REGISTERED), or UnknownResourceFault. */
export async function registeredDomain(sql: Sql, name: string): Promise<st.DomainRow> {
  const d = await st.getDomain(sql, name);
  if (!d) throw swf.unknownResource(`Unknown domain: ${name}`);
  // A deprecated domain takes no new executions or types; AWS reports it as no longer available.
  if (d.status !== "REGISTERED") throw swf.unknownResource(`Domain is deprecated: ${name}`);
  return d;
}

/**
 * Whether a domain exists, for polls and streams: a domain is never deleted (only deprecated,
 * which polls ignore), so a name found once is remembered and later polls skip the lookup.
 */
export async function domainExists(ctx: Swf, name: string): Promise<void> {
  if (ctx.domains.has(name)) return;
  await ctx.db.tx((sql) => knownDomain(sql, name));
  if (ctx.domains.size > 10_000) ctx.domains.clear();
  ctx.domains.add(name);
}

/** A domain in any status, or UnknownResourceFault. */
export async function knownDomain(sql: Sql, name: string): Promise<st.DomainRow> {
  const d = await st.getDomain(sql, name);
  if (!d) throw swf.unknownResource(`Unknown domain: ${name}`);
  return d;
}

/** An execution by (domain, workflowId, runId), or UnknownResourceFault as AWS words it. */
export async function execution(ctx: Swf, sql: Sql, domain: string, workflowId: string, runId: string): Promise<ExecutionTx> {
  await knownDomain(sql, domain);
  const row = await st.getExecution(sql, ctx.db.caps, runId);
  if (!row || row.domain !== domain || row.workflowId !== workflowId)
    throw swf.unknownResource(`Unknown execution: WorkflowExecution=[workflowId=${workflowId}, runId=${runId}]`);
  return new ExecutionTx(row, ctx.clock.now());
}

/** The open execution of a workflowId (runId optional), for signal, cancel and terminate. */
export async function openExecution(ctx: Swf, sql: Sql, domain: string, workflowId: string, runId: string | undefined): Promise<ExecutionTx> {
  await knownDomain(sql, domain);
  const row = runId ? await st.getExecution(sql, ctx.db.caps, runId) : await st.findExecution(sql, ctx.db.caps, domain, workflowId);
  if (!row || row.domain !== domain || row.workflowId !== workflowId || row.status !== "OPEN")
    throw swf.unknownResource(`Unknown execution: WorkflowExecution=[workflowId=${workflowId}, runId=${runId ?? ""}]`);
  return new ExecutionTx(row, ctx.clock.now());
}

/** An open execution opened for change, or undefined when it is missing or closed. */
export async function loadOpen(ctx: Swf, sql: Sql, runId: string): Promise<ExecutionTx | undefined> {
  const row = await st.getExecution(sql, ctx.db.caps, runId);
  if (!row || row.status !== "OPEN") return undefined;
  return new ExecutionTx(row, ctx.clock.now());
}

/** The other open execution a Signal/RequestCancelExternal decision names, in the same domain. */
export async function externalOpen(ctx: Swf, sql: Sql, x: ExecutionTx, workflowId: string, runId: string | undefined): Promise<st.ExecutionRow | undefined> {
  const t = runId ? await st.getExecution(sql, ctx.db.caps, runId) : await st.findExecution(sql, ctx.db.caps, x.row.domain, workflowId);
  if (!t || t.domain !== x.row.domain || t.workflowId !== workflowId || t.status !== "OPEN" || t.runId === x.row.runId) return undefined;
  return t;
}
