// SQL of the SWF engine: domains, types, executions and their history.
import { write, type Capabilities, type Row, type Sql } from "./db.ts";
import { startedTasksWithOwners, taskColumns, taskFromRow, type OwnerTable, type TaskRow } from "./dispatch.ts";

/** A registered domain. */
export interface DomainRow {
  name: string;
  status: string;
  description: string | null;
  retentionDays: string;
  createdMs: number;
}

function domain(r: Row): DomainRow {
  return {
    name: r.name as string,
    status: r.status as string,
    description: (r.description as string | null) ?? null,
    retentionDays: r.retention_days as string,
    createdMs: Number(r.created_ms),
  };
}

/** Inserts a domain; false if the name is taken. */
export async function insertDomain(sql: Sql, d: DomainRow): Promise<boolean> {
  const r = await sql.run(
    "INSERT INTO swf_domains (name, status, description, retention_days, created_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
    [d.name, d.status, d.description, d.retentionDays, d.createdMs],
  );
  return r.changes === 1;
}

/** A domain by name. */
export async function getDomain(sql: Sql, name: string): Promise<DomainRow | undefined> {
  const r = await sql.get("SELECT name, status, description, retention_days, created_ms FROM swf_domains WHERE name = ?", [name]);
  return r ? domain(r) : undefined;
}

/** Number of domains (the quota counts deprecated ones too). */
export async function countDomains(sql: Sql): Promise<number> {
  return Number((await sql.get("SELECT COUNT(*) AS n FROM swf_domains"))!.n);
}

/** Domains of a status in name order, after `after` (exclusive), up to `limit`. */
export async function listDomains(sql: Sql, status: string, after: string | undefined, reverse: boolean, limit: number): Promise<DomainRow[]> {
  const cmp = reverse ? "<" : ">";
  const order = reverse ? "DESC" : "ASC";
  const rows = after === undefined
    ? await sql.all(`SELECT name, status, description, retention_days, created_ms FROM swf_domains WHERE status = ? ORDER BY name ${order} LIMIT ?`, [status, limit])
    : await sql.all(`SELECT name, status, description, retention_days, created_ms FROM swf_domains WHERE status = ? AND name ${cmp} ? ORDER BY name ${order} LIMIT ?`, [status, after, limit]);
  return rows.map(domain);
}

/** A registered workflow or activity type. `config` is the JSON of its defaults. */
export interface TypeRow {
  domain: string;
  kind: "workflow" | "activity";
  name: string;
  version: string;
  status: string;
  description: string | null;
  createdMs: number;
  deprecatedMs: number | null;
  config: string;
}

const typeCols = "domain, kind, name, version, status, description, created_ms, deprecated_ms, config";

function type(r: Row): TypeRow {
  return {
    domain: r.domain as string,
    kind: r.kind as "workflow" | "activity",
    name: r.name as string,
    version: r.version as string,
    status: r.status as string,
    description: (r.description as string | null) ?? null,
    createdMs: Number(r.created_ms),
    deprecatedMs: r.deprecated_ms === null ? null : Number(r.deprecated_ms),
    config: r.config as string,
  };
}

/** Inserts a type; false if (domain, kind, name, version) exists. */
export async function insertType(sql: Sql, t: TypeRow): Promise<boolean> {
  const r = await sql.run(
    `INSERT INTO swf_types (${typeCols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain, kind, name, version) DO NOTHING`,
    [t.domain, t.kind, t.name, t.version, t.status, t.description, t.createdMs, t.deprecatedMs, t.config],
  );
  return r.changes === 1;
}

/** A type by its key. */
export async function getType(sql: Sql, domainName: string, kind: TypeRow["kind"], name: string, version: string): Promise<TypeRow | undefined> {
  const r = await sql.get(`SELECT ${typeCols} FROM swf_types WHERE domain = ? AND kind = ? AND name = ? AND version = ?`, [domainName, kind, name, version]);
  return r ? type(r) : undefined;
}

/** Number of types of a kind in a domain. */
export async function countTypes(sql: Sql, domainName: string, kind: TypeRow["kind"]): Promise<number> {
  return Number((await sql.get("SELECT COUNT(*) AS n FROM swf_types WHERE domain = ? AND kind = ?", [domainName, kind]))!.n);
}

/** Types of a kind and status, optionally of one name, ordered by (name, version), after a cursor. */
export async function listTypes(
  sql: Sql,
  q: { domain: string; kind: TypeRow["kind"]; status: string; name?: string; after?: [string, string]; reverse: boolean; limit: number },
): Promise<TypeRow[]> {
  const where = ["domain = ?", "kind = ?", "status = ?"];
  const params: (string | number)[] = [q.domain, q.kind, q.status];
  if (q.name !== undefined) {
    where.push("name = ?");
    params.push(q.name);
  }
  if (q.after) {
    const cmp = q.reverse ? "<" : ">";
    where.push(`(name ${cmp} ? OR (name = ? AND version ${cmp} ?))`);
    params.push(q.after[0], q.after[0], q.after[1]);
  }
  const order = q.reverse ? "DESC" : "ASC";
  params.push(q.limit);
  return (await sql.all(`SELECT ${typeCols} FROM swf_types WHERE ${where.join(" AND ")} ORDER BY name ${order}, version ${order} LIMIT ?`, params)).map(type);
}

/** A workflow execution. `state` is the engine's JSON. */
export interface ExecutionRow {
  runId: string;
  domain: string;
  workflowId: string;
  typeName: string;
  typeVersion: string;
  status: "OPEN" | "CLOSED";
  closeStatus: string | null;
  startMs: number;
  closeMs: number | null;
  nextEventId: number;
  state: string;
}

const execCols = "run_id, domain, workflow_id, type_name, type_version, status, close_status, start_ms, close_ms, next_event_id, state";
/** A task joined with its execution: the execution's columns, selected as e_<column>. */
const joinedExecCols = execCols.split(", ").map((c) => ({ column: c, alias: `e_${c}` }));
const joinedExecSelect = joinedExecCols.map((c) => `e.${c.column} AS ${c.alias}`).join(", ");

/** The execution of a task-and-execution row (joinedExecSelect). */
function joinedExecution(r: Row): ExecutionRow {
  const e: Row = {};
  for (const c of joinedExecCols) e[c.column] = r[c.alias];
  return execution(e);
}

function execution(r: Row): ExecutionRow {
  return {
    runId: r.run_id as string,
    domain: r.domain as string,
    workflowId: r.workflow_id as string,
    typeName: r.type_name as string,
    typeVersion: r.type_version as string,
    status: r.status as "OPEN" | "CLOSED",
    closeStatus: (r.close_status as string | null) ?? null,
    startMs: Number(r.start_ms),
    closeMs: r.close_ms === null ? null : Number(r.close_ms),
    nextEventId: Number(r.next_event_id),
    state: r.state as string,
  };
}

/** Inserts an open execution; false if the workflowId already has an open execution in the domain. */
export async function insertExecution(sql: Sql, e: ExecutionRow, parentRunId?: string): Promise<boolean> {
  const r = await sql.run(
    `INSERT INTO swf_executions (${execCols}, parent_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain, workflow_id) WHERE status = 'OPEN' DO NOTHING`,
    [e.runId, e.domain, e.workflowId, e.typeName, e.typeVersion, e.status, e.closeStatus, e.startMs, e.closeMs, e.nextEventId, e.state, parentRunId ?? null],
  );
  return r.changes === 1;
}

/** Run ids of the open child executions of a run. */
export async function openChildren(sql: Sql, parentRunId: string): Promise<string[]> {
  return (await sql.all("SELECT run_id FROM swf_executions WHERE parent_run_id = ? AND status = 'OPEN' ORDER BY start_ms", [parentRunId])).map((r) => r.run_id as string);
}

/** An execution by run id, locked for update. */
export async function getExecution(sql: Sql, caps: Capabilities, runId: string): Promise<ExecutionRow | undefined> {
  const r = await sql.get(`SELECT ${execCols} FROM swf_executions WHERE run_id = ?${caps.lockSuffix}`, [runId]);
  return r ? execution(r) : undefined;
}

/** The open execution of a workflowId, or else its most recently started one. */
export async function findExecution(sql: Sql, caps: Capabilities, domainName: string, workflowId: string): Promise<ExecutionRow | undefined> {
  const r = await sql.get(
    `SELECT ${execCols} FROM swf_executions WHERE domain = ? AND workflow_id = ? ORDER BY CASE WHEN status = 'OPEN' THEN 0 ELSE 1 END, start_ms DESC LIMIT 1${caps.lockSuffix}`,
    [domainName, workflowId],
  );
  return r ? execution(r) : undefined;
}

/**
 * Appends events and writes back the execution row: one statement where the backend allows a
 * writable WITH clause (a round trip saved on every state change), else two.
 */
export async function saveExecution(sql: Sql, caps: Capabilities, e: ExecutionRow, events: { id: number; data: Uint8Array }[]): Promise<void> {
  if (!caps.writableCte || events.length === 0 || events.length > 100) {
    if (events.length > 0) await insertEvents(sql, e.runId, events);
    await updateExecution(sql, e);
    return;
  }
  const params: (string | number | null | Uint8Array)[] = [];
  for (const ev of events) params.push(e.runId, ev.id, ev.data);
  params.push(e.status, e.closeStatus, e.closeMs, e.nextEventId, e.state, e.runId);
  // Nothing to read back: the backend may send it with the transaction's next statement or COMMIT.
  await write(
    sql,
    `WITH appended AS (INSERT INTO swf_events (run_id, event_id, data) VALUES ${events.map(() => "(?, ?, ?)").join(", ")}) ` +
      "UPDATE swf_executions SET status = ?, close_status = ?, close_ms = ?, next_event_id = ?, state = ? WHERE run_id = ?",
    params,
  );
}

/** Writes back an execution's mutable columns. */
export async function updateExecution(sql: Sql, e: ExecutionRow): Promise<void> {
  await sql.run("UPDATE swf_executions SET status = ?, close_status = ?, close_ms = ?, next_event_id = ?, state = ? WHERE run_id = ?", [
    e.status,
    e.closeStatus,
    e.closeMs,
    e.nextEventId,
    e.state,
    e.runId,
  ]);
}

/** Appends history events (already numbered). */
export async function insertEvents(sql: Sql, runId: string, events: { id: number; data: Uint8Array }[]): Promise<void> {
  // One statement per 100 events: a decision batch appends many at once, and on PostgreSQL every
  // statement is a round trip.
  for (let i = 0; i < events.length; i += 100) {
    const chunk = events.slice(i, i + 100);
    const params: (string | number | Uint8Array)[] = [];
    for (const ev of chunk) params.push(runId, ev.id, ev.data);
    await sql.run(`INSERT INTO swf_events (run_id, event_id, data) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}`, params);
  }
}

/** Events of a run with from <= id <= to, ascending or descending, up to `limit`. */
export async function readEvents(sql: Sql, runId: string, from: number, to: number, reverse: boolean, limit: number): Promise<Uint8Array[]> {
  const rows = await sql.all(
    `SELECT data FROM swf_events WHERE run_id = ? AND event_id >= ? AND event_id <= ? ORDER BY event_id ${reverse ? "DESC" : "ASC"} LIMIT ?`,
    [runId, from, to, limit],
  );
  return rows.map((r) => r.data as Uint8Array);
}

/**
 * Deletes one event of a run (a Started event withdrawn while it is still the newest: the caller
 * steps the execution's next_event_id back by one in the same transaction).
 */
export async function deleteEvent(sql: Sql, runId: string, eventId: number): Promise<void> {
  await sql.run("DELETE FROM swf_events WHERE run_id = ? AND event_id = ?", [runId, eventId]);
}

/** Deletes a closed run's history and row (its retention period ended). */
export async function purgeExecution(sql: Sql, runId: string): Promise<void> {
  await sql.run("DELETE FROM swf_events WHERE run_id = ?", [runId]);
  await sql.run("DELETE FROM swf_executions WHERE run_id = ?", [runId]);
}

/** Sets a domain's registration status; false if the domain does not exist. */
export async function setDomainStatus(sql: Sql, name: string, status: string): Promise<boolean> {
  return (await sql.run("UPDATE swf_domains SET status = ? WHERE name = ?", [status, name])).changes === 1;
}

/** Sets a type's registration status and deprecation time. */
export async function setTypeStatus(sql: Sql, t: Pick<TypeRow, "domain" | "kind" | "name" | "version">, status: string, deprecatedMs: number | null): Promise<void> {
  await sql.run("UPDATE swf_types SET status = ?, deprecated_ms = ? WHERE domain = ? AND kind = ? AND name = ? AND version = ?", [
    status,
    deprecatedMs,
    t.domain,
    t.kind,
    t.name,
    t.version,
  ]);
}

/** Deletes a type. */
export async function deleteType(sql: Sql, t: Pick<TypeRow, "domain" | "kind" | "name" | "version">): Promise<void> {
  await sql.run("DELETE FROM swf_types WHERE domain = ? AND kind = ? AND name = ? AND version = ?", [t.domain, t.kind, t.name, t.version]);
}

/** Records the tags of an execution (for tagFilter). */
export async function insertTags(sql: Sql, runId: string, tags: readonly string[]): Promise<void> {
  for (const tag of new Set(tags)) await sql.run("INSERT INTO swf_execution_tags (run_id, tag) VALUES (?, ?)", [runId, tag]);
}

/** A visibility query: executions of a domain, open or closed, with at most one of the filters. */
export interface ExecutionQuery {
  domain: string;
  open: boolean;
  /** Which time the range and the order use. */
  by: "start" | "close";
  fromMs: number;
  toMs?: number;
  workflowId?: string;
  typeName?: string;
  typeVersion?: string;
  tag?: string;
  closeStatus?: string;
  /** Newest first unless reverse. */
  reverse: boolean;
  /** Resume after this (time, runId), exclusive. */
  after?: [number, string];
  limit: number;
}

function executionWhere(q: ExecutionQuery): { where: string; params: (string | number)[]; col: string } {
  const col = q.by === "start" ? "start_ms" : "close_ms";
  const where = ["domain = ?", "status = ?", `${col} >= ?`];
  const params: (string | number)[] = [q.domain, q.open ? "OPEN" : "CLOSED", q.fromMs];
  if (q.toMs !== undefined) {
    where.push(`${col} <= ?`);
    params.push(q.toMs);
  }
  if (q.workflowId !== undefined) {
    where.push("workflow_id = ?");
    params.push(q.workflowId);
  }
  if (q.typeName !== undefined) {
    where.push("type_name = ?");
    params.push(q.typeName);
  }
  if (q.typeVersion !== undefined) {
    where.push("type_version = ?");
    params.push(q.typeVersion);
  }
  if (q.closeStatus !== undefined) {
    where.push("close_status = ?");
    params.push(q.closeStatus);
  }
  if (q.tag !== undefined) {
    where.push("run_id IN (SELECT run_id FROM swf_execution_tags WHERE tag = ?)");
    params.push(q.tag);
  }
  return { where: where.join(" AND "), params, col };
}

/** One page of executions matching a visibility query, newest first (oldest first if reverse). */
export async function listExecutions(sql: Sql, q: ExecutionQuery): Promise<ExecutionRow[]> {
  const { where, params, col } = executionWhere(q);
  let clause = where;
  if (q.after) {
    const cmp = q.reverse ? ">" : "<";
    clause += ` AND (${col} ${cmp} ? OR (${col} = ? AND run_id ${cmp} ?))`;
    params.push(q.after[0], q.after[0], q.after[1]);
  }
  const order = q.reverse ? "ASC" : "DESC";
  params.push(q.limit);
  return (await sql.all(`SELECT ${execCols} FROM swf_executions WHERE ${clause} ORDER BY ${col} ${order}, run_id ${order} LIMIT ?`, params)).map(execution);
}

/** How many executions match a visibility query (up to `cap`, so counting stays cheap). */
export async function countExecutions(sql: Sql, q: Omit<ExecutionQuery, "reverse" | "after" | "limit">, cap: number): Promise<number> {
  const { where, params } = executionWhere({ ...q, reverse: false, limit: cap });
  params.push(cap);
  return Number((await sql.get(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM swf_executions WHERE ${where} LIMIT ?) AS m`, params))!.n);
}

/**
 * The started task holding a token together with its open execution, both locked for update, in
 * one statement (every Respond/heartbeat call starts here).
 */
export async function startedTaskWithExecution(sql: Sql, caps: Capabilities, token: string): Promise<{ task: TaskRow; execution: ExecutionRow } | undefined> {
  const r = await sql.get(
    `SELECT ${taskColumns}, ${joinedExecSelect} FROM tasks t JOIN swf_executions e ON e.run_id = t.owner ` +
      `WHERE t.token = ? AND t.state = 1 AND e.status = 'OPEN'${caps.lockSuffix}`,
    [token],
  );
  if (!r) return undefined;
  return { task: taskFromRow(r), execution: joinedExecution(r) };
}

/** The started tasks of open executions held under any of `tokens`, each with its execution (`owner`), by token (startedTasksWithOwners). */
export function startedTasksWithExecutions(sql: Sql, caps: Capabilities, tokens: readonly string[]): Promise<Map<string, { task: TaskRow; owner: ExecutionRow }>> {
  return startedTasksWithOwners(sql, caps, tokens, executionTable);
}

/** Executions as the owners of their tasks (open ones only). */
const executionTable: OwnerTable<ExecutionRow> = { table: "swf_executions", key: "run_id", columns: execCols, status: "status", live: "OPEN", row: execution };

/** The tags of a domain, by key. */
export async function domainTags(sql: Sql, domain: string): Promise<{ key: string; value: string }[]> {
  return (await sql.all("SELECT key, value FROM swf_domain_tags WHERE domain = ? ORDER BY key", [domain])).map((r) => ({ key: r.key as string, value: r.value as string }));
}

/** Adds or replaces tags of a domain. */
export async function putDomainTags(sql: Sql, domain: string, tags: readonly { key: string; value: string }[]): Promise<void> {
  for (const t of tags)
    await sql.run("INSERT INTO swf_domain_tags (domain, key, value) VALUES (?, ?, ?) ON CONFLICT (domain, key) DO UPDATE SET value = excluded.value", [domain, t.key, t.value]);
}

/** Removes tags of a domain by key. */
export async function removeDomainTags(sql: Sql, domain: string, keys: readonly string[]): Promise<void> {
  for (const k of keys) await sql.run("DELETE FROM swf_domain_tags WHERE domain = ? AND key = ?", [domain, k]);
}
