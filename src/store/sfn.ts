// SQL of the Step Functions engine: activities, state machines and their tags.
import type { Row, Sql } from "./db.ts";

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
