// SQL of the Step Functions engine: activities, state machines and their tags, executions, their
// history and spent task tokens.
import type { Capabilities, Row, Sql, SqlValue } from "./db.ts";
import { startedTasksWithOwners, type OwnerTable, type TaskRow } from "./dispatch.ts";

/** An activity. `encryption` is the JSON of its EncryptionConfiguration, null for the default. */
export interface ActivityRow {
  name: string;
  createdMs: number;
  encryption: string | null;
}

function activity(r: Row): ActivityRow {
  return { name: r.name as string, createdMs: Number(r.created_ms), encryption: (r.encryption as string | null) ?? null };
}

/** Inserts an activity; false if the name is taken. */
export async function insertActivity(sql: Sql, a: ActivityRow): Promise<boolean> {
  const r = await sql.run("INSERT INTO sfn_activities (name, created_ms, encryption) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING", [a.name, a.createdMs, a.encryption]);
  return r.changes === 1;
}

/** An activity by name. */
export async function getActivity(sql: Sql, name: string): Promise<ActivityRow | undefined> {
  const r = await sql.get("SELECT name, created_ms, encryption FROM sfn_activities WHERE name = ?", [name]);
  return r ? activity(r) : undefined;
}

/** Deletes an activity and its tags; false if there was none. */
export async function deleteActivity(sql: Sql, name: string): Promise<boolean> {
  const r = await sql.run("DELETE FROM sfn_activities WHERE name = ?", [name]);
  await sql.run("DELETE FROM sfn_tags WHERE kind = 'activity' AND name = ?", [name]);
  return r.changes === 1;
}

/** Number of activities (the account quota). */
export async function countActivities(sql: Sql): Promise<number> {
  return Number((await sql.get("SELECT COUNT(*) AS n FROM sfn_activities"))!.n);
}

/** Activities in name order after `after` (exclusive), up to `limit`. */
export async function listActivities(sql: Sql, after: string | undefined, limit: number): Promise<ActivityRow[]> {
  const rows = after === undefined
    ? await sql.all("SELECT name, created_ms, encryption FROM sfn_activities ORDER BY name LIMIT ?", [limit])
    : await sql.all("SELECT name, created_ms, encryption FROM sfn_activities WHERE name > ? ORDER BY name LIMIT ?", [after, limit]);
  return rows.map(activity);
}

/**
 * A state machine. `logging`, `tracing` and `encryption` are the JSON of their configurations;
 * `status` ACTIVE or DELETING; `updatedMs` null until the first update.
 */
export interface StateMachineRow {
  name: string;
  status: string;
  type: string;
  definition: string;
  roleArn: string;
  logging: string;
  tracing: string;
  encryption: string | null;
  revisionId: string;
  createdMs: number;
  updatedMs: number | null;
}

const machineCols = "name, status, type, definition, role_arn, logging, tracing, encryption, revision_id, created_ms, updated_ms";

function machine(r: Row): StateMachineRow {
  return {
    name: r.name as string,
    status: r.status as string,
    type: r.type as string,
    definition: r.definition as string,
    roleArn: r.role_arn as string,
    logging: r.logging as string,
    tracing: r.tracing as string,
    encryption: (r.encryption as string | null) ?? null,
    revisionId: r.revision_id as string,
    createdMs: Number(r.created_ms),
    updatedMs: r.updated_ms === null ? null : Number(r.updated_ms),
  };
}

/** Inserts a state machine; false if the name is taken. */
export async function insertStateMachine(sql: Sql, m: StateMachineRow): Promise<boolean> {
  const r = await sql.run(
    `INSERT INTO sfn_state_machines (${machineCols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    [m.name, m.status, m.type, m.definition, m.roleArn, m.logging, m.tracing, m.encryption, m.revisionId, m.createdMs, m.updatedMs],
  );
  return r.changes === 1;
}

/** A state machine by name. */
export async function getStateMachine(sql: Sql, name: string): Promise<StateMachineRow | undefined> {
  const r = await sql.get(`SELECT ${machineCols} FROM sfn_state_machines WHERE name = ?`, [name]);
  return r ? machine(r) : undefined;
}

/** Writes the updatable members of a state machine (definition, role, logging, tracing, revision, update time). */
export async function updateStateMachine(sql: Sql, m: StateMachineRow): Promise<void> {
  await sql.run(
    "UPDATE sfn_state_machines SET definition = ?, role_arn = ?, logging = ?, tracing = ?, encryption = ?, revision_id = ?, updated_ms = ? WHERE name = ?",
    [m.definition, m.roleArn, m.logging, m.tracing, m.encryption, m.revisionId, m.updatedMs, m.name],
  );
}

/** Sets a state machine's status (DELETING while executions still run). */
export async function setStateMachineStatus(sql: Sql, name: string, status: string): Promise<void> {
  await sql.run("UPDATE sfn_state_machines SET status = ? WHERE name = ?", [status, name]);
}

/** Deletes a state machine and its tags; false if there was none. */
export async function deleteStateMachine(sql: Sql, name: string): Promise<boolean> {
  const r = await sql.run("DELETE FROM sfn_state_machines WHERE name = ?", [name]);
  await sql.run("DELETE FROM sfn_tags WHERE kind = 'stateMachine' AND name = ?", [name]);
  return r.changes === 1;
}

/** Number of state machines (the account quota counts those being deleted too). */
export async function countStateMachines(sql: Sql): Promise<number> {
  return Number((await sql.get("SELECT COUNT(*) AS n FROM sfn_state_machines"))!.n);
}

/** State machines in name order after `after` (exclusive), up to `limit`. */
export async function listStateMachines(sql: Sql, after: string | undefined, limit: number): Promise<StateMachineRow[]> {
  const rows = after === undefined
    ? await sql.all(`SELECT ${machineCols} FROM sfn_state_machines ORDER BY name LIMIT ?`, [limit])
    : await sql.all(`SELECT ${machineCols} FROM sfn_state_machines WHERE name > ? ORDER BY name LIMIT ?`, [after, limit]);
  return rows.map(machine);
}

/** The kinds of resource that carry tags. */
export type TaggedKind = "activity" | "stateMachine";

/** A resource's tags in key order. */
export async function tagsOf(sql: Sql, kind: TaggedKind, name: string): Promise<{ key: string; value: string }[]> {
  const rows = await sql.all("SELECT key, value FROM sfn_tags WHERE kind = ? AND name = ? ORDER BY key", [kind, name]);
  return rows.map((r) => ({ key: r.key as string, value: r.value as string }));
}

/** Adds or replaces tags of a resource. */
export async function putTags(sql: Sql, kind: TaggedKind, name: string, tags: readonly { key: string; value: string }[]): Promise<void> {
  for (const t of tags)
    await sql.run("INSERT INTO sfn_tags (kind, name, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name, key) DO UPDATE SET value = excluded.value", [kind, name, t.key, t.value]);
}

/** Removes tags of a resource by key (absent keys are ignored). */
export async function removeTags(sql: Sql, kind: TaggedKind, name: string, keys: readonly string[]): Promise<void> {
  for (const k of keys) await sql.run("DELETE FROM sfn_tags WHERE kind = ? AND name = ? AND key = ?", [kind, name, k]);
}

// ---- executions, their history and spent task tokens ----

/**
 * An execution. `id` is `sfn:<machine>:<name>` (the owner of its tasks and timers); `state` the
 * interpreter's JSON state; `definition`, `revisionId` and `roleArn` are the state machine's when
 * the execution started; `stopMs` null while RUNNING.
 */
export interface ExecutionRow {
  id: string;
  machine: string;
  name: string;
  status: string;
  input: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  startMs: number;
  stopMs: number | null;
  definition: string;
  revisionId: string;
  roleArn: string;
  state: string;
}

const execCols = "id, machine, name, status, input, output, error, cause, start_ms, stop_ms, definition, revision_id, role_arn, state";
/** The columns of an execution listing (no definition or state). */
const execListCols = "id, machine, name, status, start_ms, stop_ms";

function execution(r: Row): ExecutionRow {
  return {
    id: r.id as string,
    machine: r.machine as string,
    name: r.name as string,
    status: r.status as string,
    input: (r.input as string | undefined) ?? "",
    output: (r.output as string | null | undefined) ?? null,
    error: (r.error as string | null | undefined) ?? null,
    cause: (r.cause as string | null | undefined) ?? null,
    startMs: Number(r.start_ms),
    stopMs: r.stop_ms === null || r.stop_ms === undefined ? null : Number(r.stop_ms),
    definition: (r.definition as string | undefined) ?? "",
    revisionId: (r.revision_id as string | undefined) ?? "",
    roleArn: (r.role_arn as string | undefined) ?? "",
    state: (r.state as string | undefined) ?? "",
  };
}

/** The id (task and timer owner) of an execution. */
export function executionId(machine: string, name: string): string {
  return `sfn:${machine}:${name}`;
}

/** Inserts an execution; false if the state machine already has one of that name. */
export async function insertExecution(sql: Sql, e: ExecutionRow): Promise<boolean> {
  const r = await sql.run(`INSERT INTO sfn_executions (${execCols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, [
    e.id,
    e.machine,
    e.name,
    e.status,
    e.input,
    e.output,
    e.error,
    e.cause,
    e.startMs,
    e.stopMs,
    e.definition,
    e.revisionId,
    e.roleArn,
    e.state,
  ]);
  return r.changes === 1;
}

/** An execution by id; with `lock`, locked for update (the one writer of its state). */
export async function getExecution(sql: Sql, caps: Capabilities, id: string, lock: boolean): Promise<ExecutionRow | undefined> {
  const r = await sql.get(`SELECT ${execCols} FROM sfn_executions WHERE id = ?${lock ? caps.lockSuffix : ""}`, [id]);
  return r ? execution(r) : undefined;
}

/** Writes an execution's status, result, stop time and interpreter state. */
export async function updateExecution(sql: Sql, e: ExecutionRow): Promise<void> {
  await sql.run("UPDATE sfn_executions SET status = ?, output = ?, error = ?, cause = ?, stop_ms = ?, state = ? WHERE id = ?", [
    e.status,
    e.output,
    e.error,
    e.cause,
    e.stopMs,
    e.state,
    e.id,
  ]);
}

/** Whether a state machine has a RUNNING execution. */
export async function hasRunningExecution(sql: Sql, machine: string): Promise<boolean> {
  return (await sql.get("SELECT 1 AS x FROM sfn_executions WHERE machine = ? AND status = 'RUNNING' LIMIT 1", [machine])) !== undefined;
}

/**
 * Executions of a state machine, newest first (start time, then name, both descending), after
 * the cursor (exclusive), optionally of one status; up to `limit`. Rows carry no input, result,
 * definition or state.
 */
export async function listExecutions(sql: Sql, machine: string, status: string | undefined, after: { startMs: number; name: string } | undefined, limit: number): Promise<ExecutionRow[]> {
  const where = ["machine = ?"];
  const params: SqlValue[] = [machine];
  if (status !== undefined) {
    where.push("status = ?");
    params.push(status);
  }
  if (after) {
    where.push("(start_ms < ? OR (start_ms = ? AND name < ?))");
    params.push(after.startMs, after.startMs, after.name);
  }
  params.push(limit);
  const rows = await sql.all(`SELECT ${execListCols} FROM sfn_executions WHERE ${where.join(" AND ")} ORDER BY start_ms DESC, name DESC LIMIT ?`, params);
  return rows.map(execution);
}

/** One stored history event; `details` the JSON of its *EventDetails member, or null. */
export interface HistoryRow {
  id: number;
  previousId: number;
  tsMs: number;
  type: string;
  details: string | null;
}

/** Appends history events of an execution, one statement per 100 events. */
export async function appendHistory(sql: Sql, executionId: string, events: readonly HistoryRow[]): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    const chunk = events.slice(i, i + 100);
    const params: SqlValue[] = [];
    for (const e of chunk) params.push(executionId, e.id, e.previousId, e.tsMs, e.type, e.details);
    await sql.run(`INSERT INTO sfn_history (execution, id, previous_id, ts_ms, type, details) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`, params);
  }
}

/** History events of an execution past `after` (exclusive; ascending, or descending when `reverse`), up to `limit`. */
export async function history(sql: Sql, executionId: string, after: number | undefined, reverse: boolean, limit: number): Promise<HistoryRow[]> {
  const bound = after === undefined ? "" : reverse ? " AND id < ?" : " AND id > ?";
  const params: SqlValue[] = after === undefined ? [executionId, limit] : [executionId, after, limit];
  const rows = await sql.all(`SELECT id, previous_id, ts_ms, type, details FROM sfn_history WHERE execution = ?${bound} ORDER BY id ${reverse ? "DESC" : "ASC"} LIMIT ?`, params);
  return rows.map((r) => ({ id: Number(r.id), previousId: Number(r.previous_id), tsMs: Number(r.ts_ms), type: r.type as string, details: (r.details as string | null) ?? null }));
}

/**
 * Deletes a closed execution with its history and spent tokens (its retention ended); false when
 * it is gone or still running. Its name is free again.
 */
export async function purgeExecution(sql: Sql, id: string): Promise<boolean> {
  const r = await sql.run("DELETE FROM sfn_executions WHERE id = ? AND status <> 'RUNNING'", [id]);
  if (r.changes === 0) return false;
  await sql.run("DELETE FROM sfn_history WHERE execution = ?", [id]);
  await sql.run("DELETE FROM sfn_spent_tokens WHERE execution = ?", [id]);
  return true;
}

/** Records task tokens that are no longer valid (already recorded ones are ignored). */
export async function spendTokens(sql: Sql, executionId: string, tokens: readonly string[]): Promise<void> {
  for (let i = 0; i < tokens.length; i += 200) {
    const chunk = tokens.slice(i, i + 200);
    const params: SqlValue[] = [];
    for (const t of chunk) params.push(t, executionId);
    await sql.run(`INSERT INTO sfn_spent_tokens (token, execution) VALUES ${chunk.map(() => "(?, ?)").join(", ")} ON CONFLICT (token) DO NOTHING`, params);
  }
}

/** Which of `tokens` were valid once and are spent now. */
export async function spentTokens(sql: Sql, tokens: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < tokens.length; i += 500) {
    const chunk = tokens.slice(i, i + 500);
    for (const r of await sql.all(`SELECT token FROM sfn_spent_tokens WHERE token IN (${chunk.map(() => "?").join(", ")})`, chunk)) out.add(r.token as string);
  }
  return out;
}

/** The started activity tasks held under any of `tokens`, each with its RUNNING execution (`owner`), by token (startedTasksWithOwners). */
export function startedTasksWithExecutions(sql: Sql, caps: Capabilities, tokens: readonly string[]): Promise<Map<string, { task: TaskRow; owner: ExecutionRow }>> {
  return startedTasksWithOwners(sql, caps, tokens, executionTable);
}

/** Executions as the owners of their tasks (running ones only). */
const executionTable: OwnerTable<ExecutionRow> = { table: "sfn_executions", key: "id", columns: execCols, status: "status", live: "RUNNING", row: execution };

/** The started tasks of an execution (their tokens become spent when it closes). */
export async function startedTokensOf(sql: Sql, executionId: string): Promise<string[]> {
  return (await sql.all("SELECT token FROM tasks WHERE owner = ? AND state = 1 AND token IS NOT NULL", [executionId])).map((r) => r.token as string);
}

/**
 * A state machine's status, read under a lock: shared (`exclusive` false: closing executions do
 * not wait for each other) or exclusive (DeleteStateMachine). Either way a close and a delete
 * are ordered, so a DELETING state machine is deleted by whichever sees the last execution closed.
 * The shared lock is the backend's row lock with FOR SHARE in place of FOR UPDATE (none where
 * the backend has a single writer).
 */
export async function lockedMachineStatus(sql: Sql, caps: Capabilities, name: string, exclusive: boolean): Promise<string | undefined> {
  const lock = exclusive ? caps.lockSuffix : caps.lockSuffix.replace("FOR UPDATE", "FOR SHARE");
  const r = await sql.get(`SELECT status FROM sfn_state_machines WHERE name = ?${lock}`, [name]);
  return r ? (r.status as string) : undefined;
}
