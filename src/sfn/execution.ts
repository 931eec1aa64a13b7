// One execution in one unit of work: load its row (locked), run the interpreter on one event,
// append the events, save state, status and result, and carry out the commands with the dispatch
// core in the same transaction. The interpreter's contract is interpreter/types.ts.
//
// Invariants:
// - An execution is changed only by the transaction that holds its row lock (PostgreSQL: FOR
//   UPDATE; SQLite: one writer), so no state runs twice and history ids stay consecutive.
// - A step's commands are carried out in the step's transaction: an activity task, a timer or a
//   cancellation commits with the state that asked for it, or not at all.
// - An activity that cannot be scheduled (it does not exist) is fed back as taskScheduleFailed in
//   the same transaction.
// - A closed execution holds no task, no timer but its retention purge, and no valid token: the
//   tokens of its started tasks are spent (SendTask* answers TaskTimedOut for them). 90 days after
//   it stopped, the purge deletes it with its history and spent tokens, as AWS does.
import type { UnitOfWork } from "../dispatch/index.ts";
import { Fault } from "../faults.ts";
import { executionArn, inScope, parseStatesArn, stateMachineArn } from "../resources/arn.ts";
import * as st from "../store/sfn.ts";
import type { StateMachine } from "./asl/definition.ts";
import { parseDefinition } from "./asl/parse.ts";
import { start, step, type Command, type ExecutionContext, type ExecutionEvent, type ExecutionState, type StepResult } from "./interpreter/index.ts";
import type { Sfn } from "./engine.ts";

/** Timer kind of the interpreter's timers (Wait states, retry back-off, the execution timeout); stored in timer rows: never rename. */
export const timerKind = "sfn.timer";

/** Timer kind of the retention purge of a closed execution; stored in timer rows (and migration 011): never rename. */
export const retentionKind = "sfn.retention";

/** How long a closed execution is kept, as AWS keeps them: 90 days after it stopped. */
export const retentionMs = 90 * 86_400_000;

/** Timer ref of an interpreter timer (`w:` keeps it apart from task timeout refs `<taskId>:…`). */
export function timerRef(ref: string): string {
  return `w:${ref}`;
}

/** Task key of an activity task within its execution. */
export function taskKey(taskRef: string): string {
  return `a:${taskRef}`;
}

/** Queue-name prefix of activity tasks: a queue is `sfn/a/<activity name>`. */
export const queuePrefix = "sfn/a/";

/** The queue of an activity's tasks. */
export function activityQueue(activityName: string): string {
  return `${queuePrefix}${activityName}`;
}

/** An execution opened for change in one unit of work. */
export interface OpenExecution {
  readonly row: st.ExecutionRow;
  state: ExecutionState;
  readonly machine: StateMachine;
  readonly context: ExecutionContext;
  /** Events to feed before the row is written (task starts recorded by the core's hooks). */
  readonly pending: ExecutionEvent[];
  /** Whether the row changed since it was read. */
  dirty: boolean;
  /** Whether the close (spent tokens, dropped tasks, a DELETING state machine) was carried out. */
  closedDone: boolean;
}

/** Parsed definitions by state machine revision; at most this many are kept. */
const cacheSize = 1000;

/** A bounded cache of parsed definitions, keyed by revision id (a revision's text never changes). */
export class MachineCache {
  readonly #trees = new Map<string, StateMachine>();

  /** The tree of a definition, parsed once per revision. */
  get(revisionId: string, definition: string): StateMachine {
    let m = this.#trees.get(revisionId);
    if (m) return m;
    const parsed = parseDefinition(definition);
    if (!parsed.machine) throw new Error(`stored definition of revision ${revisionId} does not parse`);
    m = parsed.machine;
    if (this.#trees.size >= cacheSize) this.#trees.delete(this.#trees.keys().next().value!);
    this.#trees.set(revisionId, m);
    return m;
  }
}

/** The interpreter's context of an execution row. */
export function contextOf(ctx: Sfn, row: st.ExecutionRow): ExecutionContext {
  return {
    executionArn: executionArn(ctx.scope, row.machine, row.name),
    executionName: row.name,
    stateMachineArn: stateMachineArn(ctx.scope, row.machine),
    stateMachineName: row.machine,
    roleArn: row.roleArn,
    startTimeMs: row.startMs,
  };
}

/** An execution row read (and locked) in this transaction, opened for change. */
export function openRow(ctx: Sfn, row: st.ExecutionRow): OpenExecution {
  return {
    row,
    state: JSON.parse(row.state) as ExecutionState,
    machine: ctx.machines.get(row.revisionId, row.definition),
    context: contextOf(ctx, row),
    pending: [],
    dirty: false,
    closedDone: row.status !== "RUNNING",
  };
}

/** A RUNNING execution by id, locked and opened for change; undefined when it is gone or closed. */
export async function openRunning(ctx: Sfn, uow: UnitOfWork, id: string): Promise<OpenExecution | undefined> {
  const row = await uow.memo(`sfn-exec:${id}`, () => st.getExecution(uow.sql, uow.caps, id, true));
  if (!row || row.status !== "RUNNING") return undefined;
  return uow.memo(`sfn-open:${id}`, async () => openRow(ctx, row));
}

function env(ctx: Sfn) {
  return { ...ctx.intrinsics, nowMs: ctx.clock.now() };
}

/** Starts a new execution (its row already inserted, in `x`): ExecutionStarted and the first states. */
export async function startExecution(ctx: Sfn, uow: UnitOfWork, x: OpenExecution): Promise<void> {
  const r = await start(x.machine, x.context, x.row.input, env(ctx));
  const follow: ExecutionEvent[] = [];
  await apply(ctx, uow, x, r, follow);
  await drain(ctx, uow, x, follow);
}

/** Feeds one event to an open execution (and what it causes in turn), then writes it. */
export async function feed(ctx: Sfn, uow: UnitOfWork, x: OpenExecution, event: ExecutionEvent): Promise<void> {
  await drain(ctx, uow, x, [event]);
}

async function drain(ctx: Sfn, uow: UnitOfWork, x: OpenExecution, events: ExecutionEvent[]): Promise<void> {
  while (events.length > 0) {
    const ev = events.shift()!;
    if (x.state.status !== "RUNNING") continue;
    const r = await step(x.machine, x.context, x.state, ev, env(ctx));
    await apply(ctx, uow, x, r, events);
  }
}

/**
 * Writes the pending starts and the row of an open execution, and carries out its close once.
 * Called by every operation after feeding, and by the core after it started tasks; idempotent.
 */
export async function flush(ctx: Sfn, uow: UnitOfWork, x: OpenExecution): Promise<void> {
  if (x.pending.length > 0) await drain(ctx, uow, x, x.pending.splice(0));
  if (x.dirty) {
    x.dirty = false;
    await st.updateExecution(uow.sql, x.row);
  }
  if (x.row.status !== "RUNNING" && !x.closedDone) {
    x.closedDone = true;
    await st.spendTokens(uow.sql, x.row.id, await st.startedTokensOf(uow.sql, x.row.id));
    await ctx.tasks.dropOwner(uow, x.row.id);
    await uow.addTimer(retentionKind, x.row.id, "retention", (x.row.stopMs ?? ctx.clock.now()) + retentionMs);
    const status = await st.lockedMachineStatus(uow.sql, uow.caps, x.row.machine, false);
    if (status === "DELETING" && !(await st.hasRunningExecution(uow.sql, x.row.machine))) await st.deleteStateMachine(uow.sql, x.row.machine);
  }
}

/** Stores a step's result in the open execution and carries out its commands; events they cause go to `follow`. */
async function apply(ctx: Sfn, uow: UnitOfWork, x: OpenExecution, r: StepResult, follow: ExecutionEvent[]): Promise<void> {
  if (r.events.length === 0 && r.commands.length === 0 && r.state === x.state) return;
  x.state = r.state;
  const row = x.row;
  row.state = JSON.stringify(r.state);
  row.status = r.status;
  if (r.status !== "RUNNING") {
    row.output = r.output ?? null;
    row.error = r.error ?? null;
    row.cause = r.cause ?? null;
    row.stopMs = r.events.length > 0 ? r.events[r.events.length - 1].timestampMs : ctx.clock.now();
  }
  x.dirty = true;
  if (r.events.length > 0)
    await st.appendHistory(
      uow.sql,
      row.id,
      r.events.map((e) => ({ id: e.id, previousId: e.previousEventId, tsMs: e.timestampMs, type: e.type, details: e.details === undefined ? null : JSON.stringify(e.details) })),
    );
  for (const c of r.commands) await carryOut(ctx, uow, x, c, follow);
}

/** The name of the activity an ARN names in this server's scope, or undefined. */
function activityName(ctx: Sfn, arn: string): string | undefined {
  try {
    const a = parseStatesArn(arn, "activity");
    return inScope(a, ctx.scope) ? a.name : undefined;
  } catch (e) {
    if (e instanceof Fault) return undefined;
    throw e;
  }
}

async function carryOut(ctx: Sfn, uow: UnitOfWork, x: OpenExecution, c: Command, follow: ExecutionEvent[]): Promise<void> {
  const id = x.row.id;
  switch (c.type) {
    case "scheduleActivity": {
      const name = activityName(ctx, c.activityArn);
      const exists = name !== undefined && (await uow.memo(`sfn-activity:${name}`, () => st.getActivity(uow.sql, name))) !== undefined;
      if (!exists) {
        follow.push({ type: "taskScheduleFailed", taskRef: c.taskRef, error: "States.Runtime", cause: `Activity does not exist: '${c.activityArn}'` });
        return;
      }
      await ctx.tasks.schedule(uow, ctx.activityTask, x, {
        queue: activityQueue(name),
        priority: 0,
        ownerId: id,
        key: taskKey(c.taskRef),
        payload: { taskRef: c.taskRef, input: c.input, ...(c.heartbeatSeconds === undefined ? {} : { heartbeatSeconds: c.heartbeatSeconds }) },
        nowMs: ctx.clock.now(),
        scheduleToClose: c.timeoutSeconds,
      });
      return;
    }
    case "cancelActivity": {
      const row = await ctx.tasks.byKey(uow, id, taskKey(c.taskRef));
      if (!row) return;
      if (row.token) await st.spendTokens(uow.sql, id, [row.token]);
      await ctx.tasks.close(uow, row);
      return;
    }
    case "startTimer":
      await uow.addTimer(timerKind, id, timerRef(c.timerRef), c.fireAtMs);
      return;
    case "cancelTimer":
      await uow.deleteTimers(id, timerRef(c.timerRef));
      return;
  }
}

