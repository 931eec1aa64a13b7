// SQL of the dispatch core: the task queue and the durable timers, shared by every engine.
import { write, type Capabilities, type Row, type Sql } from "./db.ts";

/** A task row. `payload` is the engine's JSON. */
export interface TaskRow {
  id: number;
  queue: string;
  priority: number;
  state: number;
  token: string | null;
  owner: string;
  key: string;
  payload: string;
  scheduledMs: number;
  startedMs: number | null;
}

/** Task states. */
export const TaskState = { scheduled: 0, started: 1 } as const;

function task(r: Row): TaskRow {
  return {
    id: Number(r.id),
    queue: r.queue as string,
    priority: Number(r.priority),
    state: Number(r.state),
    token: (r.token as string | null) ?? null,
    owner: r.owner as string,
    key: r.key as string,
    payload: r.payload as string,
    scheduledMs: Number(r.scheduled_ms),
    startedMs: r.started_ms === null ? null : Number(r.started_ms),
  };
}

const cols = "id, queue, priority, state, token, owner, key, payload, scheduled_ms, started_ms";

/** Inserts a scheduled task; returns its id. */
export async function insertTask(sql: Sql, t: { queue: string; priority: number; owner: string; key: string; payload: string; nowMs: number }): Promise<number> {
  const r = await sql.get("INSERT INTO tasks (queue, priority, state, owner, key, payload, scheduled_ms) VALUES (?, ?, 0, ?, ?, ?, ?) RETURNING id", [
    t.queue,
    t.priority,
    t.owner,
    t.key,
    t.payload,
    t.nowMs,
  ]);
  return Number(r!.id);
}

/** Inserts a scheduled task unless its owner already has one under the key; its id, or undefined. */
export async function insertTaskIfAbsent(sql: Sql, t: { queue: string; priority: number; owner: string; key: string; payload: string; nowMs: number }): Promise<number | undefined> {
  const r = await sql.get(
    "INSERT INTO tasks (queue, priority, state, owner, key, payload, scheduled_ms) VALUES (?, ?, 0, ?, ?, ?, ?) ON CONFLICT (owner, key) DO NOTHING RETURNING id",
    [t.queue, t.priority, t.owner, t.key, t.payload, t.nowMs],
  );
  return r ? Number(r.id) : undefined;
}

/**
 * The next scheduled tasks of a queue in claim order (highest priority, then oldest), locked for
 * this transaction where the backend locks (rows another node is claiming are skipped).
 */
export async function nextScheduled(sql: Sql, caps: Capabilities, queue: string, limit: number): Promise<TaskRow[]> {
  if (caps.ownerLock !== undefined) {
    // Owners another claim is starting tasks of are passed over as well as its rows: the claim
    // opens and locks each owner of its tasks, so two claims sharing one owner ran one after the
    // other, and a claim holding one owner while waiting for the next queued every claim and
    // completion of the first behind it. When that leaves nothing, the plain claim runs, in the
    // same statement (`rest` scans only when `free` is empty), so a claim of an empty queue (a
    // poll starting or woken) stays one round trip.
    const order = "ORDER BY priority DESC, id";
    const rows = await sql.all(
      `WITH free AS (SELECT ${cols} FROM tasks WHERE queue = ? AND state = 0 AND ${caps.ownerLock("owner")} ${order} LIMIT ?${caps.claimSuffix}), ` +
        `rest AS (SELECT ${cols} FROM tasks WHERE queue = ? AND state = 0 AND NOT EXISTS (SELECT 1 FROM free) ${order} LIMIT ?${caps.claimSuffix}) ` +
        `SELECT ${cols} FROM free UNION ALL SELECT ${cols} FROM rest ${order}`,
      [queue, limit, queue, limit],
    );
    return rows.map(task);
  }
  const rows = await sql.all(`SELECT ${cols} FROM tasks WHERE queue = ? AND state = 0 ORDER BY priority DESC, id LIMIT ?${caps.claimSuffix}`, [queue, limit]);
  return rows.map(task);
}

/**
 * Marks a scheduled task started with a fresh token, claimed by `node` and not yet delivered;
 * false if it was no longer scheduled.
 */
export async function markStarted(sql: Sql, id: number, token: string, payload: string, nowMs: number, node: string): Promise<boolean> {
  const r = await sql.run("UPDATE tasks SET state = 1, token = ?, payload = ?, started_ms = ?, node = ?, delivered = 0 WHERE id = ? AND state = 0", [
    token,
    payload,
    nowMs,
    node,
    id,
  ]);
  return r.changes === 1;
}

/**
 * Marks scheduled tasks started, each with its own token and payload, in one statement per 100
 * tasks (a claim of many tasks pays one statement, not one per task). The caller read the rows in
 * this transaction, locked where the backend locks, so each is still scheduled: nothing is read
 * back, and the backend may send the statement with the transaction's next one or its COMMIT
 * (on PostgreSQL a claim is then one round trip shorter). The VALUES columns are cast so that
 * PostgreSQL, which cannot infer parameter types there, and SQLite read them alike.
 */
export async function markStartedMany(sql: Sql, tasks: readonly { id: number; token: string; payload: string }[], nowMs: number, node: string): Promise<void> {
  for (let i = 0; i < tasks.length; i += 100) {
    const chunk = tasks.slice(i, i + 100);
    const params: (string | number)[] = [nowMs, node];
    for (const t of chunk) params.push(t.id, t.token, t.payload);
    await write(
      sql,
      "UPDATE tasks SET state = 1, token = v.column2, payload = v.column3, started_ms = ?, node = ?, delivered = 0 " +
        `FROM (VALUES ${chunk.map(() => "(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT))").join(", ")}) AS v WHERE tasks.id = v.column1 AND tasks.state = 0`,
      params,
    );
  }
}

/**
 * Records that the answers carrying these tokens reached their workers; returns the tokens it
 * could not mark now, to be marked by a later call. Where the backend locks rows, a row another
 * transaction holds (a batch completion about to delete it, a heartbeat) is passed over rather
 * than waited for: waiting, a confirmation holding some rows of a batch completion and waiting
 * for the others held up that completion, and every claim and completion queued behind its
 * execution, for the whole wait. A token returned is still held by a started task that was not
 * marked; a token whose task is gone (completed meanwhile) or already marked is not returned.
 */
export async function markDelivered(sql: Sql, caps: Capabilities, tokens: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (let i = 0; i < tokens.length; i += 500) {
    const chunk = tokens.slice(i, i + 500);
    const list = chunk.map(() => "?").join(", ");
    if (caps.claimSuffix === "") {
      await sql.run(`UPDATE tasks SET delivered = 1 WHERE delivered = 0 AND token IN (${list})`, chunk);
      continue;
    }
    // One statement: the rows free now are marked; those that another transaction holds are read
    // as they were before it (the statement's snapshot) and returned unless already marked.
    const rows = await sql.all(
      `WITH l AS (SELECT id FROM tasks WHERE delivered = 0 AND token IN (${list})${caps.claimSuffix}), ` +
        "m AS (UPDATE tasks SET delivered = 1 FROM l WHERE tasks.id = l.id RETURNING tasks.id) " +
        `SELECT token FROM tasks WHERE delivered = 0 AND token IN (${list}) AND id NOT IN (SELECT id FROM m)`,
      [...chunk, ...chunk],
    );
    for (const r of rows) left.push(r.token as string);
  }
  return left;
}

/** Started tasks a node claimed but never confirmed delivered, locked for update. */
export async function undeliveredOf(sql: Sql, caps: Capabilities, node: string): Promise<TaskRow[]> {
  return (await sql.all(`SELECT ${cols} FROM tasks WHERE node = ? AND delivered = 0 AND state = 1${caps.lockSuffix}`, [node])).map(task);
}

/** Ids and tokens of the started tasks a node claimed but never confirmed delivered (no lock). */
export async function undeliveredTokensOf(sql: Sql, node: string): Promise<{ id: number; token: string }[]> {
  return (await sql.all("SELECT id, token FROM tasks WHERE node = ? AND delivered = 0 AND state = 1", [node])).map((r) => ({ id: Number(r.id), token: r.token as string }));
}

/** The task of `id` if it is still started under `token`, claimed by `node` and undelivered, locked for update. */
export async function undeliveredTask(sql: Sql, caps: Capabilities, node: string, id: number, token: string): Promise<TaskRow | undefined> {
  const r = await sql.get(`SELECT ${cols} FROM tasks WHERE id = ? AND token = ? AND node = ? AND delivered = 0 AND state = 1${caps.lockSuffix}`, [id, token, node]);
  return r ? task(r) : undefined;
}

/** Records this node's heartbeat (inserting its row when missing). */
export async function heartbeatNode(sql: Sql, node: string, nowMs: number): Promise<void> {
  await sql.run("INSERT INTO nodes (id, heartbeat_ms) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms", [node, nowMs]);
}

/** Nodes whose last heartbeat is older than `beforeMs` (other than `self`). */
export async function staleNodes(sql: Sql, self: string, beforeMs: number): Promise<string[]> {
  return (await sql.all("SELECT id FROM nodes WHERE id <> ? AND heartbeat_ms < ?", [self, beforeMs])).map((r) => r.id as string);
}

/** Takes a dead node's row; false if another node already did (so its tasks are requeued once). */
export async function takeNode(sql: Sql, node: string, beforeMs: number): Promise<boolean> {
  return (await sql.run("DELETE FROM nodes WHERE id = ? AND heartbeat_ms < ?", [node, beforeMs])).changes === 1;
}

/** Removes this node's row at a clean shutdown. */
export async function removeNode(sql: Sql, node: string): Promise<void> {
  await sql.run("DELETE FROM nodes WHERE id = ?", [node]);
}

/** Puts a started task back in its place in the queue (same priority and id), dropping its token. */
export async function markScheduled(sql: Sql, id: number, payload: string): Promise<void> {
  await sql.run("UPDATE tasks SET state = 0, token = NULL, payload = ?, started_ms = NULL, node = NULL, delivered = 1 WHERE id = ?", [payload, id]);
}

/** The started task holding a token, locked for update. */
export async function taskByToken(sql: Sql, caps: Capabilities, token: string): Promise<TaskRow | undefined> {
  const r = await sql.get(`SELECT ${cols} FROM tasks WHERE token = ?${caps.lockSuffix}`, [token]);
  return r ? task(r) : undefined;
}

/** The columns of a task row, for joins with other tables. */
export const taskColumns = cols.split(", ").map((c) => `t.${c}`).join(", ");

/** Maps a row holding the task columns (and possibly others) to a task. */
export function taskFromRow(r: Row): TaskRow {
  return task(r);
}

/** The table a task's owner lives in, for reading started tasks together with their owners. */
export interface OwnerTable<O> {
  /** Table name. */
  readonly table: string;
  /** Its key column, which task rows' `owner` holds. */
  readonly key: string;
  /** The columns to read, comma-separated. */
  readonly columns: string;
  /** The column holding an owner's status, and the status of a live owner (one whose tasks may close). */
  readonly status: string;
  readonly live: string;
  /** A row of those columns as the owner. */
  readonly row: (r: Row) => O;
}

/**
 * The started tasks held under any of `tokens` whose owner is live, each with its owner, by
 * token (a token none holds is absent). Where a statement is a round trip (PostgreSQL), one
 * statement for the whole batch, the rows locked in (owner, task) order so that two batches over
 * the same owners cannot deadlock on each other. Elsewhere (SQLite, one transaction at a time)
 * two: the tasks, then their owners once each; a join repeated each owner's row (an execution's
 * state, its definition) on every task of it, about a tenth of the batch path's CPU.
 */
export async function startedTasksWithOwners<O>(sql: Sql, caps: Capabilities, tokens: readonly string[], owners: OwnerTable<O>): Promise<Map<string, { task: TaskRow; owner: O }>> {
  const out = new Map<string, { task: TaskRow; owner: O }>();
  if (tokens.length === 0) return out;
  const list = tokens.map(() => "?").join(", ");
  const ownerCols = owners.columns.split(", ");
  if (caps.roundTripPerStatement) {
    const rows = await sql.all(
      `SELECT ${taskColumns}, ${ownerCols.map((c) => `o.${c} AS o_${c}`).join(", ")} FROM tasks t JOIN ${owners.table} o ON o.${owners.key} = t.owner ` +
        `WHERE t.token IN (${list}) AND t.state = 1 AND o.${owners.status} = ? ORDER BY o.${owners.key}, t.id${caps.lockSuffix}`,
      [...tokens, owners.live],
    );
    for (const r of rows) {
      const o: Row = {};
      for (const c of ownerCols) o[c] = r[`o_${c}`];
      out.set(r.token as string, { task: task(r), owner: owners.row(o) });
    }
    return out;
  }
  const tasks = (await sql.all(`SELECT ${taskColumns} FROM tasks t WHERE t.token IN (${list}) AND t.state = 1${caps.lockSuffix}`, [...tokens])).map(task);
  const keys = [...new Set(tasks.map((t) => t.owner))];
  if (keys.length === 0) return out;
  const found = new Map<string, O>();
  const rows = await sql.all(`SELECT ${owners.columns} FROM ${owners.table} WHERE ${owners.key} IN (${keys.map(() => "?").join(", ")}) AND ${owners.status} = ?${caps.lockSuffix}`, [...keys, owners.live]);
  for (const r of rows) found.set(r[owners.key] as string, owners.row(r));
  for (const t of tasks) {
    const o = found.get(t.owner);
    if (o !== undefined && t.token !== null) out.set(t.token, { task: t, owner: o });
  }
  return out;
}

/** The task of an owner under a key (an SWF activityId, or 'decision'). */
export async function taskByKey(sql: Sql, caps: Capabilities, owner: string, key: string): Promise<TaskRow | undefined> {
  const r = await sql.get(`SELECT ${cols} FROM tasks WHERE owner = ? AND key = ?${caps.lockSuffix}`, [owner, key]);
  return r ? task(r) : undefined;
}

/** A task by id, locked for update. */
export async function taskById(sql: Sql, caps: Capabilities, id: number): Promise<TaskRow | undefined> {
  const r = await sql.get(`SELECT ${cols} FROM tasks WHERE id = ?${caps.lockSuffix}`, [id]);
  return r ? task(r) : undefined;
}

/** Every task of an owner. */
export async function tasksOfOwner(sql: Sql, owner: string): Promise<TaskRow[]> {
  return (await sql.all(`SELECT ${cols} FROM tasks WHERE owner = ? ORDER BY id`, [owner])).map(task);
}

/** Rewrites a task's payload. */
export async function updatePayload(sql: Sql, id: number, payload: string): Promise<void> {
  await sql.run("UPDATE tasks SET payload = ? WHERE id = ?", [payload, id]);
}

/** Deletes a task and its timers (`timers` false: the caller knows it armed none). */
export async function deleteTask(sql: Sql, t: TaskRow, timers = true): Promise<void> {
  await write(sql, "DELETE FROM tasks WHERE id = ?", [t.id]);
  if (timers) await deleteTaskTimers(sql, t);
}

/** Deletes the timers of a task. */
export async function deleteTaskTimers(sql: Sql, t: Pick<TaskRow, "id" | "owner">): Promise<void> {
  // The task's timers have refs "<id>:<what>": the range [<id>:, <id>;) walks the (owner, ref) index.
  await write(sql, "DELETE FROM timers WHERE owner = ? AND ref >= ? AND ref < ?", [t.owner, `${t.id}:`, `${t.id};`]);
}

/** Deletes tasks by id, one statement per 500 (their timers are the caller's). */
export async function deleteTasks(sql: Sql, ids: readonly number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    await write(sql, `DELETE FROM tasks WHERE id IN (${chunk.map(() => "?").join(", ")})`, chunk);
  }
}

/** Deletes every task and timer of an owner (an execution that closed). */
export async function deleteOwner(sql: Sql, owner: string): Promise<TaskRow[]> {
  const rows = (await sql.all(`DELETE FROM tasks WHERE owner = ? RETURNING ${cols}`, [owner])).map(task);
  await sql.run("DELETE FROM timers WHERE owner = ?", [owner]);
  return rows;
}

/** Counts the scheduled tasks of a queue. */
export async function countScheduled(sql: Sql, queue: string): Promise<number> {
  const r = await sql.get("SELECT COUNT(*) AS n FROM tasks WHERE queue = ? AND state = 0", [queue]);
  return Number(r!.n);
}

/** A durable timer row. `ref` is `<taskId>:<what>` for task timeouts, or engine-defined. */
export interface TimerRow {
  id: number;
  fireMs: number;
  kind: string;
  owner: string;
  ref: string;
}

function timer(r: Row): TimerRow {
  return { id: Number(r.id), fireMs: Number(r.fire_ms), kind: r.kind as string, owner: r.owner as string, ref: r.ref as string };
}

/** Adds a timer. */
export async function insertTimer(sql: Sql, t: { fireMs: number; kind: string; owner: string; ref: string }): Promise<void> {
  await write(sql, "INSERT INTO timers (fire_ms, kind, owner, ref) VALUES (?, ?, ?, ?)", [t.fireMs, t.kind, t.owner, t.ref]);
}

/** Moves the timers of (owner, ref, kind) to a new time (a heartbeat pushing its deadline). */
export async function rescheduleTimer(sql: Sql, t: { fireMs: number; kind: string; owner: string; ref: string }): Promise<void> {
  await write(sql, "UPDATE timers SET fire_ms = ? WHERE owner = ? AND ref = ? AND kind = ?", [t.fireMs, t.owner, t.ref, t.kind]);
}

/** Deletes the timers of (owner, ref), optionally of one kind only. */
export async function deleteTimers(sql: Sql, owner: string, ref: string, kind?: string): Promise<void> {
  if (kind) await write(sql, "DELETE FROM timers WHERE owner = ? AND ref = ? AND kind = ?", [owner, ref, kind]);
  else await write(sql, "DELETE FROM timers WHERE owner = ? AND ref = ?", [owner, ref]);
}

/** Ids and times of timers due at `nowMs`, oldest first. */
export async function dueTimers(sql: Sql, nowMs: number, limit: number): Promise<TimerRow[]> {
  return (await sql.all("SELECT id, fire_ms, kind, owner, ref FROM timers WHERE fire_ms <= ? ORDER BY fire_ms, id LIMIT ?", [nowMs, limit])).map(timer);
}

/**
 * Takes one due timer: deletes it and returns it, or undefined if another transaction (another
 * node) already took it. The caller applies the timer's effects in the same transaction, so a
 * timer fires exactly once.
 */
export async function takeTimer(sql: Sql, id: number): Promise<TimerRow | undefined> {
  const r = await sql.get("DELETE FROM timers WHERE id = ? RETURNING id, fire_ms, kind, owner, ref", [id]);
  return r ? timer(r) : undefined;
}

/** When the next timer is due, or undefined when there is none. */
export async function nextTimerMs(sql: Sql): Promise<number | undefined> {
  const r = await sql.get("SELECT MIN(fire_ms) AS t FROM timers");
  return r && r.t !== null ? Number(r.t) : undefined;
}

/** Reads a server-wide value, creating it with `init` when absent. */
export async function metaValue(sql: Sql, key: string, init: () => string): Promise<string> {
  await sql.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", [key, init()]);
  const r = await sql.get("SELECT value FROM meta WHERE key = ?", [key]);
  return r!.value as string;
}
