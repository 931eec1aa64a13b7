// SQL of the Data Pipeline engine: pipelines (metadata, definitions, the JSON of what is per
// pipeline in their run), their instances and attempts (one row each), and
// the task runners that report heartbeats.
import type { Capabilities, Row, Sql } from "./db.ts";
import { taskColumns, taskFromRow, type TaskRow } from "./dispatch.ts";

/** A pipeline row. `tags`, `latest`, `active` and `state` are the engine's JSON. */
export interface PipelineRow {
  id: string;
  name: string;
  uniqueId: string;
  description: string | null;
  createdMs: number;
  deleted: boolean;
  tags: string;
  latest: string | null;
  active: string | null;
  state: string;
  /** The account that created the pipeline when it is not the server's own (migration 008); written once. */
  creatorAccount?: string | null;
  /** The principal that created the pipeline (its PipelineCreator; migration 009), null with --auth off; written once. */
  creatorPrincipal?: string | null;
}

const cols = "id, name, unique_id, description, created_ms, deleted, tags, latest, active, state, creator_account, creator_principal";

function pipeline(r: Row): PipelineRow {
  return {
    id: r.id as string,
    name: r.name as string,
    uniqueId: r.unique_id as string,
    description: (r.description as string | null) ?? null,
    createdMs: Number(r.created_ms),
    deleted: Number(r.deleted) === 1,
    tags: r.tags as string,
    latest: (r.latest as string | null) ?? null,
    active: (r.active as string | null) ?? null,
    state: r.state as string,
    creatorAccount: (r.creator_account as string | null) ?? null,
    creatorPrincipal: (r.creator_principal as string | null) ?? null,
  };
}

/** Inserts a pipeline. */
export async function insertPipeline(sql: Sql, p: PipelineRow): Promise<void> {
  await sql.run(`INSERT INTO dp_pipelines (${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    p.id,
    p.name,
    p.uniqueId,
    p.description,
    p.createdMs,
    p.deleted ? 1 : 0,
    p.tags,
    p.latest,
    p.active,
    p.state,
    p.creatorAccount ?? null,
    p.creatorPrincipal ?? null,
  ]);
}

/** The live pipeline created with a uniqueId and name (CreatePipeline's idempotency key), if any. */
export async function pipelineByUniqueId(sql: Sql, uniqueId: string, name: string): Promise<PipelineRow | undefined> {
  const r = await sql.get(`SELECT ${cols} FROM dp_pipelines WHERE unique_id = ? AND name = ? AND deleted = 0 ORDER BY created_ms LIMIT 1`, [uniqueId, name]);
  return r ? pipeline(r) : undefined;
}

/** A pipeline by id (deleted ones too), locked for update when `lock`. */
export async function getPipeline(sql: Sql, caps: Capabilities, id: string, lock = false): Promise<PipelineRow | undefined> {
  const r = await sql.get(`SELECT ${cols} FROM dp_pipelines WHERE id = ?${lock ? caps.lockSuffix : ""}`, [id]);
  return r ? pipeline(r) : undefined;
}

/** Writes a pipeline's changeable columns back. */
export async function updatePipeline(sql: Sql, p: PipelineRow): Promise<void> {
  await sql.run("UPDATE dp_pipelines SET deleted = ?, tags = ?, latest = ?, active = ?, state = ? WHERE id = ?", [p.deleted ? 1 : 0, p.tags, p.latest, p.active, p.state, p.id]);
}

/** Writes a pipeline's run only (the common change: a claim, a status, a timer). */
export async function updatePipelineState(sql: Sql, id: string, state: string): Promise<void> {
  await sql.run("UPDATE dp_pipelines SET state = ? WHERE id = ?", [state, id]);
}

/** Live pipelines in id order after `after` (exclusive), up to `limit`: ids and names only. */
export async function listPipelines(sql: Sql, after: string | undefined, limit: number): Promise<{ id: string; name: string }[]> {
  const rows =
    after === undefined
      ? await sql.all("SELECT id, name FROM dp_pipelines WHERE deleted = 0 ORDER BY id LIMIT ?", [limit])
      : await sql.all("SELECT id, name FROM dp_pipelines WHERE deleted = 0 AND id > ? ORDER BY id LIMIT ?", [after, limit]);
  return rows.map((r) => ({ id: r.id as string, name: r.name as string }));
}

/**
 * The principals that created live pipelines of an account (null: the server's own), in name
 * order: the creators whose queues a task runner of that account may be granted.
 */
export async function creatorsOf(sql: Sql, account: string | null): Promise<string[]> {
  const rows =
    account === null
      ? await sql.all("SELECT DISTINCT creator_principal AS p FROM dp_pipelines WHERE deleted = 0 AND creator_account IS NULL AND creator_principal IS NOT NULL ORDER BY p")
      : await sql.all("SELECT DISTINCT creator_principal AS p FROM dp_pipelines WHERE deleted = 0 AND creator_account = ? AND creator_principal IS NOT NULL ORDER BY p", [account]);
  return rows.map((r) => r.p as string);
}

/** Number of live pipelines (the account quota). */
export async function countPipelines(sql: Sql): Promise<number> {
  return Number((await sql.get("SELECT COUNT(*) AS n FROM dp_pipelines WHERE deleted = 0"))!.n);
}

/** Records a task runner's heartbeat. */
export async function heartbeatRunner(sql: Sql, r: { id: string; workerGroup: string | null; hostname: string | null; nowMs: number }): Promise<void> {
  await sql.run(
    "INSERT INTO dp_task_runners (id, worker_group, hostname, heartbeat_ms) VALUES (?, ?, ?, ?) " +
      "ON CONFLICT (id) DO UPDATE SET worker_group = excluded.worker_group, hostname = excluded.hostname, heartbeat_ms = excluded.heartbeat_ms",
    [r.id, r.workerGroup, r.hostname, r.nowMs],
  );
}

/** The task runners that reported a heartbeat, newest first, at most `limit`; only those of `workerGroup` when given. */
export async function listRunners(sql: Sql, workerGroup: string | undefined, limit: number): Promise<{ id: string; workerGroup: string | null; hostname: string | null; heartbeatMs: number }[]> {
  const rows =
    workerGroup === undefined
      ? await sql.all("SELECT id, worker_group, hostname, heartbeat_ms FROM dp_task_runners ORDER BY heartbeat_ms DESC, id LIMIT ?", [limit])
      : await sql.all("SELECT id, worker_group, hostname, heartbeat_ms FROM dp_task_runners WHERE worker_group = ? ORDER BY heartbeat_ms DESC, id LIMIT ?", [workerGroup, limit]);
  return rows.map((r) => ({ id: r.id as string, workerGroup: (r.worker_group as string | null) ?? null, hostname: (r.hostname as string | null) ?? null, heartbeatMs: Number(r.heartbeat_ms) }));
}

/** A task runner's last heartbeat, if it reported one. */
export async function getRunner(sql: Sql, id: string): Promise<{ id: string; workerGroup: string | null; hostname: string | null; heartbeatMs: number } | undefined> {
  const r = await sql.get("SELECT id, worker_group, hostname, heartbeat_ms FROM dp_task_runners WHERE id = ?", [id]);
  return r ? { id: r.id as string, workerGroup: (r.worker_group as string | null) ?? null, hostname: (r.hostname as string | null) ?? null, heartbeatMs: Number(r.heartbeat_ms) } : undefined;
}

/**
 * The started Data Pipeline tasks holding these tokens (task ids), with their pipelines, locked for
 * update (the pipeline rows are locked in id order so that batches never deadlock).
 */
export async function startedTasks(sql: Sql, caps: Capabilities, tokens: readonly string[]): Promise<Map<string, { task: TaskRow; pipeline: PipelineRow }>> {
  const out = new Map<string, { task: TaskRow; pipeline: PipelineRow }>();
  if (tokens.length === 0) return out;
  const tasks: TaskRow[] = [];
  for (let i = 0; i < tokens.length; i += 500) {
    const chunk = tokens.slice(i, i + 500);
    const rows = await sql.all(`SELECT ${taskColumns} FROM tasks t WHERE t.state = 1 AND t.queue LIKE 'dp/%' AND t.token IN (${chunk.map(() => "?").join(", ")})${caps.lockSuffix}`, chunk);
    for (const r of rows) tasks.push(taskFromRow(r));
  }
  const pipelines = new Map<string, PipelineRow>();
  for (const id of [...new Set(tasks.map((t) => t.owner))].sort()) {
    const p = await getPipeline(sql, caps, id, true);
    if (p) pipelines.set(id, p);
  }
  for (const t of tasks) {
    const p = pipelines.get(t.owner);
    if (p && t.token) out.set(t.token, { task: t, pipeline: p });
  }
  return out;
}

/** An instance row: `body` is the engine's JSON of the instance. */
export interface InstanceRow {
  id: string;
  component: string;
  startMs: number;
  status: string;
  final: boolean;
  body: string;
}

/** An attempt row: `body` is the engine's JSON of the attempt. */
export interface AttemptRow {
  id: string;
  instanceId: string;
  startMs: number;
  n: number;
  final: boolean;
  body: string;
}

/** Instances of a pipeline in start order: only those not ended when `liveOnly`. */
export async function instances(sql: Sql, pipelineId: string, liveOnly: boolean): Promise<string[]> {
  const rows = await sql.all(`SELECT body FROM dp_instances WHERE pipeline_id = ?${liveOnly ? " AND final = 0" : ""} ORDER BY start_ms, id`, [pipelineId]);
  return rows.map((r) => r.body as string);
}

/** Instances of a pipeline waiting on dependencies (or a retry), in start order. */
export async function waitingInstances(sql: Sql, pipelineId: string): Promise<string[]> {
  const rows = await sql.all("SELECT body FROM dp_instances WHERE pipeline_id = ? AND final = 0 AND status = 'WAITING_ON_DEPENDENCIES' ORDER BY start_ms, id", [pipelineId]);
  return rows.map((r) => r.body as string);
}

/** Attempts of a pipeline in the order of their instances' start: only those not ended when `liveOnly`. */
export async function attempts(sql: Sql, pipelineId: string, liveOnly: boolean): Promise<string[]> {
  const rows = await sql.all(`SELECT body FROM dp_attempts WHERE pipeline_id = ?${liveOnly ? " AND final = 0" : ""} ORDER BY start_ms, instance_id, n`, [pipelineId]);
  return rows.map((r) => r.body as string);
}

/** Instances of a pipeline by id (ids it does not have are skipped). */
export async function instancesById(sql: Sql, pipelineId: string, ids: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await sql.all(`SELECT body FROM dp_instances WHERE pipeline_id = ? AND id IN (${chunk.map(() => "?").join(", ")})`, [pipelineId, ...chunk]);
    for (const r of rows) out.push(r.body as string);
  }
  return out;
}

/** Attempts of a pipeline by id (ids it does not have are skipped). */
export async function attemptsById(sql: Sql, pipelineId: string, ids: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await sql.all(`SELECT body FROM dp_attempts WHERE pipeline_id = ? AND id IN (${chunk.map(() => "?").join(", ")})`, [pipelineId, ...chunk]);
    for (const r of rows) out.push(r.body as string);
  }
  return out;
}

/** The latest instance of `component` that starts at or before `startMs`, if any. */
export async function latestInstanceBefore(sql: Sql, pipelineId: string, component: string, startMs: number): Promise<string | undefined> {
  const r = await sql.get("SELECT body FROM dp_instances WHERE pipeline_id = ? AND component = ? AND start_ms <= ? ORDER BY start_ms DESC LIMIT 1", [pipelineId, component, startMs]);
  return r ? (r.body as string) : undefined;
}

/** The latest `@scheduledStartTime` of any instance of a pipeline, if it has one. */
export async function latestInstanceStart(sql: Sql, pipelineId: string): Promise<number | undefined> {
  const r = await sql.get("SELECT MAX(start_ms) AS m FROM dp_instances WHERE pipeline_id = ?", [pipelineId]);
  return r?.m === null || r?.m === undefined ? undefined : Number(r.m);
}

/** Whether any instance of a pipeline has one of `statuses` (`@healthStatus`). */
export async function anyInstanceWith(sql: Sql, pipelineId: string, statuses: readonly string[]): Promise<boolean> {
  const r = await sql.get(`SELECT 1 AS x FROM dp_instances WHERE pipeline_id = ? AND status IN (${statuses.map(() => "?").join(", ")}) LIMIT 1`, [pipelineId, ...statuses]);
  return r !== undefined;
}

/** Inserts or replaces instances. */
export async function putInstances(sql: Sql, pipelineId: string, rows: readonly InstanceRow[]): Promise<void> {
  for (const i of rows)
    await sql.run(
      "INSERT INTO dp_instances (pipeline_id, id, component, start_ms, status, final, body) VALUES (?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (pipeline_id, id) DO UPDATE SET status = excluded.status, final = excluded.final, body = excluded.body",
      [pipelineId, i.id, i.component, i.startMs, i.status, i.final ? 1 : 0, i.body],
    );
}

/** Inserts or replaces attempts. */
export async function putAttempts(sql: Sql, pipelineId: string, rows: readonly AttemptRow[]): Promise<void> {
  for (const a of rows)
    await sql.run(
      "INSERT INTO dp_attempts (pipeline_id, id, instance_id, start_ms, n, final, body) VALUES (?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (pipeline_id, id) DO UPDATE SET final = excluded.final, body = excluded.body",
      [pipelineId, a.id, a.instanceId, a.startMs, a.n, a.final ? 1 : 0, a.body],
    );
}

/** Deletes attempts by id. */
export async function deleteAttempts(sql: Sql, pipelineId: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) await sql.run("DELETE FROM dp_attempts WHERE pipeline_id = ? AND id = ?", [pipelineId, id]);
}

/** Deletes every instance and attempt of a pipeline (DeletePipeline). */
export async function deleteRun(sql: Sql, pipelineId: string): Promise<void> {
  await sql.run("DELETE FROM dp_attempts WHERE pipeline_id = ?", [pipelineId]);
  await sql.run("DELETE FROM dp_instances WHERE pipeline_id = ?", [pipelineId]);
}
