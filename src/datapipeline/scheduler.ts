// The run of a pipeline: instances of its components per schedule period (or once per activation
// of an on-demand pipeline), attempts of those instances handed to task runners, dependsOn and
// preconditions, retries after retryDelay, cascading failures, and the durable timers that
// create the instances of the next period and start retries. Pure rules over a `PipelineTx` (the
// pipeline row opened for change in one unit of work); docs/datapipeline.md draws the model.
//
// Invariants:
// - Every change is made inside the unit of work that opened the pipeline, and written back by
//   its flush: instances, attempts, task rows and timers commit together or not at all.
// - An instance has at most one attempt that is not final (its head attempt); that attempt holds
//   at most one task row, keyed by the attempt id, so a task is never handed out twice.
// - Timers carry the activation generation they were armed for; one armed for an earlier
//   activation (the pipeline was deactivated, re-activated or deleted since) does nothing.
// - New attempts start only while the pipeline is SCHEDULED and the component is not paused.
import { TaskState, type TimerRow, type UnitOfWork } from "../dispatch/index.ts";
import * as st from "../store/datapipeline.ts";
import type { Sql } from "../store/db.ts";
import { refFields, stringField, scheduleOf, workerGroupOf, type ModelObject, type PipelineModel } from "./definition/objects.ts";
import { objectTypes } from "./definition/types.ts";
import { addPeriods, formatDateTime, isPeriodError, nextInstanceAfter, parsePeriod, scheduledInstances } from "./schedule.ts";
import type { Dp } from "./engine.ts";

/** Statuses of instances and attempts, in AWS's words. */
export type ObjectStatus =
  | "WAITING_ON_DEPENDENCIES"
  | "WAITING_FOR_RUNNER"
  | "RUNNING"
  | "FINISHED"
  | "FAILED"
  | "CASCADE_FAILED"
  | "CANCELED"
  | "TIMEDOUT"
  | "SKIPPED"
  | "PAUSED";

/** Statuses after which an instance or attempt changes no more (until a RERUN). */
export const finalStatuses: readonly ObjectStatus[] = ["FINISHED", "FAILED", "CASCADE_FAILED", "CANCELED", "TIMEDOUT", "SKIPPED"];

/** Whether a status is final. */
export function isFinal(s: ObjectStatus): boolean {
  return finalStatuses.includes(s);
}

/** An instance of a component for one schedule period (or one on-demand run). */
export interface Instance {
  id: string;
  component: string;
  /** `@scheduledStartTime` and `@scheduledEndTime`, epoch ms. */
  start: number;
  end: number;
  status: ObjectStatus;
  /** `task`: handed to task runners as attempts; `passive`: a data node, finished once its dependencies are. */
  kind: "task" | "passive";
  /** Attempts made so far (`@attemptCount`). */
  attempts: number;
  /** `attempts` when the instance was last rerun: retries count from there. */
  rerunAt?: number;
  /** The latest attempt's id (`@headAttempt`). */
  head?: string;
  actualStart?: number;
  actualEnd?: number;
  /** Instances of the preconditions this instance waits on. */
  preconditions: string[];
  /** When a retry is due (the attempt failed and retries are left). */
  retryAt?: number;
  /** Why it failed, for CASCADE_FAILED instances. */
  errorMessage?: string;
  /** Why it was canceled by an action (`cancellationReason`). */
  cancellationReason?: string;
  /** When it became late (lateAfterTimeout passed before it ended), epoch ms. */
  lateAt?: number;
  /** SnsAlarm actions it triggered, as shown in `@snsAlarm` (taskgate sends no SNS message). */
  alarms?: string[];
}

/** One attempt of an instance. */
export interface Attempt {
  id: string;
  instance: string;
  n: number;
  status: ObjectStatus;
  hostname?: string;
  actualStart?: number;
  actualEnd?: number;
  errorId?: string;
  errorMessage?: string;
  errorStackTrace?: string;
  /** The task id (token) it runs under while RUNNING. */
  taskId?: string;
  /** Set when the attempt was canceled while a task runner held it: ReportTaskProgress answers canceled. */
  canceled?: boolean;
}

/** States of a pipeline (`@pipelineState`). */
export type PipelineState = "PENDING" | "SCHEDULED" | "FINISHED" | "INACTIVE";

/** The JSON of a pipeline's run (dp_pipelines.state). */
export interface RunState {
  pipelineState: PipelineState;
  /** Incremented by every activation and deactivation; timers of another generation do nothing. */
  gen: number;
  /** Versions of the saved definition (`@version`). */
  version: number;
  /** The version that was activated. */
  activeVersion?: number;
  firstActivationMs?: number;
  lastActivationMs?: number;
  lastDeactivatedMs?: number;
  /** Instances of periods starting before this instant are not created (ActivatePipeline's startTimestamp). */
  startFromMs?: number;
  /** Per scheduled component, the index of its next schedule instance. */
  nextIndex: Record<string, number>;
  /** When the next schedule instance is due, if any. */
  nextRunMs?: number;
  latestRunMs?: number;
  /** Components paused with SetStatus PAUSE. */
  paused: string[];
  /** The instances loaded in this unit of work (not part of the stored JSON: dp_instances rows). */
  instances: Record<string, Instance>;
  /** The attempts loaded in this unit of work (not part of the stored JSON: dp_attempts rows). */
  attempts: Record<string, Attempt>;
}

/** A saved definition as stored (dp_pipelines.latest and .active). */
export interface StoredDefinition {
  objects: { id: string; name: string; fields: { key: string; stringValue?: string; refValue?: string }[] }[];
  parameterObjects: { id: string; attributes: { key: string; stringValue: string }[] }[];
  parameterValues: { id: string; stringValue: string }[];
  version: number;
}

/** A fresh run state. */
export function newRunState(): RunState {
  return { pipelineState: "PENDING", gen: 0, version: 0, nextIndex: {}, paused: [], instances: {}, attempts: {} };
}

/** The JSON of a run as dp_pipelines.state holds it: everything but its instances and attempts, which have rows of their own. */
export function stateText(s: RunState): string {
  return JSON.stringify({ ...s, instances: undefined, attempts: undefined });
}

/**
 * A pipeline opened in one unit of work: its row, what is per pipeline in its run, and the
 * instances and attempts loaded so far. `load` reads those that have not ended (every change
 * needs them; ended ones are read only by id or as a dependency), `load(…, true)` all of them
 * (reads of the whole run). `flush` writes back only what changed: the pipeline row when its
 * columns or run state did, and each instance or attempt row whose JSON did.
 * A run stored before instances had rows of their own (its state JSON holds them) is moved to
 * rows by its first flush.
 */
export class PipelineTx {
  readonly row: st.PipelineRow;
  readonly state: RunState;
  readonly nowMs: number;
  /** The model of the active definition (undefined before the first activation). */
  model: PipelineModel | undefined;
  /** Set when a column other than the run changed (tags, definitions): the flush writes them all. */
  rowChanged = false;
  /** The JSON each loaded row had, by `i:<id>` or `a:<id>`: unchanged rows are not written. */
  readonly #loaded = new Map<string, string>();
  readonly #deleted = new Set<string>();
  /** Dependency lookups already made (`<component>@<start>`). */
  readonly #probed = new Set<string>();
  /** Changes waiting for the rows they need, applied by the flush (a claim's start). */
  readonly #deferred: { instances: string[]; attempts: string[]; apply: () => void }[] = [];
  /** Whether the instances that have not ended are loaded. */
  #live = false;
  #waiting = false;
  #stateText: string;

  constructor(row: st.PipelineRow, nowMs: number, model: PipelineModel | undefined, state?: RunState) {
    this.row = row;
    const s = state ?? (JSON.parse(row.state) as RunState);
    this.state = { ...s, instances: s.instances ?? {}, attempts: s.attempts ?? {} };
    this.#stateText = row.state;
    this.nowMs = nowMs;
    this.model = model;
  }

  /** Reads the instances and attempts that have not ended, or all of them with `all`. */
  async load(sql: Sql, all = false): Promise<this> {
    this.#add(await st.instances(sql, this.row.id, !all), await st.attempts(sql, this.row.id, !all));
    this.#live = true;
    return this;
  }

  /** Loads the instances that have not ended unless they are (a pipeline opened for one task's change). */
  async ensureLive(sql: Sql): Promise<void> {
    if (!this.#live) await this.load(sql);
  }

  /** Whether the instances that have not ended are all loaded. */
  get live(): boolean {
    return this.#live;
  }

  /**
   * Reads the instances waiting on dependencies or a retry: what a status can move on. The rest
   * of the run is read only when a rule needs it (maxActiveInstances, the end of a schedule).
   */
  async loadWaiting(sql: Sql): Promise<void> {
    if (this.#live || this.#waiting) return;
    this.#waiting = true;
    this.#add(await st.waitingInstances(sql, this.row.id), []);
  }

  /**
   * Defers a change to the flush, which first reads the instances and attempts it names: a claim
   * records its start without reading the rest of the run.
   */
  defer(instances: string[], attempts: string[], apply: () => void): void {
    this.#deferred.push({ instances, attempts, apply });
  }

  /** Reads instances by id (ended ones included) and their head attempts. */
  async loadInstances(sql: Sql, ids: readonly string[]): Promise<void> {
    const want = ids.filter((id) => !this.state.instances[id]);
    if (want.length === 0) return;
    const insts = await st.instancesById(sql, this.row.id, want);
    this.#add(insts, []);
    const heads = want.map((id) => this.state.instances[id]?.head).filter((h): h is string => h !== undefined && !this.state.attempts[h]);
    this.#add([], heads.length > 0 ? await st.attemptsById(sql, this.row.id, heads) : []);
  }

  /** Reads attempts by id (ended ones included). */
  async loadAttempts(sql: Sql, ids: readonly string[]): Promise<void> {
    const want = ids.filter((id) => !this.state.attempts[id]);
    if (want.length > 0) this.#add([], await st.attemptsById(sql, this.row.id, want));
  }

  /** Reads the instance of `component` an instance of period `start` depends on, unless loaded or looked up before. */
  async loadDependency(sql: Sql, component: string, start: number): Promise<void> {
    const key = `${component}@${start}`;
    if (this.#probed.has(key) || this.state.instances[instanceId(component, start)]) return;
    this.#probed.add(key);
    const body = await st.latestInstanceBefore(sql, this.row.id, component, start);
    if (body !== undefined) this.#add([body], []);
  }

  /** Forgets an attempt: its row is deleted by the flush. */
  deleteAttempt(id: string): void {
    delete this.state.attempts[id];
    this.#deleted.add(id);
  }

  #add(instances: string[], attempts: string[]): void {
    for (const body of instances) {
      const i = JSON.parse(body) as Instance;
      if (this.state.instances[i.id]) continue;
      this.state.instances[i.id] = i;
      this.#loaded.set(`i:${i.id}`, body);
    }
    for (const body of attempts) {
      const a = JSON.parse(body) as Attempt;
      if (this.state.attempts[a.id]) continue;
      this.state.attempts[a.id] = a;
      this.#loaded.set(`a:${a.id}`, body);
    }
  }

  /** Writes back what changed: the pipeline row, instances and attempts. */
  async flush(uow: UnitOfWork): Promise<void> {
    if (this.#deferred.length > 0) {
      const todo = this.#deferred.splice(0);
      await this.loadAttempts(uow.sql, todo.flatMap((d) => d.attempts));
      await this.loadInstances(uow.sql, todo.flatMap((d) => d.instances));
      for (const d of todo) d.apply();
    }
    const text = stateText(this.state);
    this.row.state = text;
    if (this.rowChanged) await st.updatePipeline(uow.sql, this.row);
    else if (text !== this.#stateText) await st.updatePipelineState(uow.sql, this.row.id, text);
    this.#stateText = text;
    const insts: st.InstanceRow[] = [];
    for (const i of Object.values(this.state.instances)) {
      const body = JSON.stringify(i);
      if (this.#loaded.get(`i:${i.id}`) === body) continue;
      this.#loaded.set(`i:${i.id}`, body);
      insts.push({ id: i.id, component: i.component, startMs: i.start, status: i.status, final: isFinal(i.status), body });
    }
    const atts: st.AttemptRow[] = [];
    for (const a of Object.values(this.state.attempts)) {
      const body = JSON.stringify(a);
      if (this.#loaded.get(`a:${a.id}`) === body) continue;
      this.#loaded.set(`a:${a.id}`, body);
      atts.push({ id: a.id, instanceId: a.instance, startMs: this.state.instances[a.instance]?.start ?? 0, n: a.n, final: isFinal(a.status), body });
    }
    if (this.#deleted.size > 0) await st.deleteAttempts(uow.sql, this.row.id, [...this.#deleted]);
    this.#deleted.clear();
    await st.putInstances(uow.sql, this.row.id, insts);
    await st.putAttempts(uow.sql, this.row.id, atts);
  }
}

/** Timer kinds of the Data Pipeline engine (stored in timer rows: never rename one). */
export const T = {
  attemptTimeout: "dp.attempt.timeout",
  progressTimeout: "dp.attempt.progress",
  schedule: "dp.schedule",
  retry: "dp.retry",
  late: "dp.late",
} as const;

/** AWS's documented defaults: 2 retries, 10 minutes apart (`maximumRetries`, `retryDelay`). */
export const defaults = { maximumRetries: 2, retryDelaySeconds: 600 } as const;

/** A Period field in seconds, or undefined when absent or not a period. */
export function periodSeconds(o: ModelObject | undefined, key: string): number | undefined {
  const s = o === undefined ? undefined : stringField(o.fields, key);
  if (s === undefined) return undefined;
  const p = parsePeriod(s, 0);
  return isPeriodError(p) ? undefined : Math.round(addPeriods(0, p, 1) / 1000);
}

/** The component an instance belongs to. */
function componentOf(x: PipelineTx, inst: Instance): ModelObject | undefined {
  return x.model?.objects.get(inst.component);
}

/** Whether a component gets instances: activities and data nodes. */
function instanceKind(o: ModelObject): Instance["kind"] | undefined {
  const cat = o.type === undefined ? undefined : objectTypes[o.type]?.category;
  if (cat === "activity") return "task";
  if (cat === "dataNode") return "passive";
  return undefined;
}

/**
 * The queue of a worker group of an account (null: the server's own account) and of the principal
 * that launched the pipeline (null: none recorded, --auth off or a pipeline older than that
 * record). Worker groups are exact and case-sensitive; a runner polls its account's queues of its
 * own principal, of the principals its policy grants, and of no principal (access.ts).
 */
export function queueOf(workerGroup: string, account: string | null = null, principal: string | null = null): string {
  // Another account's queues are apart: U+001F cannot occur in a worker group (the model's pattern),
  // so the last U+001F ends the principal; a principal's queues start with U+001E instead.
  if (principal !== null) return `dp/\u001e${account ?? ""}\u001f${principal}\u001f${workerGroup}`;
  return account === null ? `dp/${workerGroup}` : `dp/\u001f${account}\u001f${workerGroup}`;
}

/** Instance ids: `@<component>_<scheduledStartTime>`; attempt ids append `_Attempt=<n>`. */
export function instanceId(component: string, start: number): string {
  return `@${component}_${formatDateTime(start)}`;
}

/** The component of an instance id (the inverse of `instanceId`). */
export function componentOfInstance(id: string): string {
  return id.slice(1, id.length - "_2000-01-01T00:00:00".length);
}

/** Creates an instance (and the instances of its preconditions) unless it exists. */
function addInstance(x: PipelineTx, o: ModelObject, kind: Instance["kind"], start: number, end: number, created: Instance[]): void {
  const id = instanceId(o.id, start);
  if (x.state.instances[id]) return;
  const preconditions: string[] = [];
  for (const pre of refFields(o.fields, "precondition")) {
    const pid = instanceId(pre, start);
    if (!x.state.instances[pid]) x.state.instances[pid] = { id: pid, component: pre, start, end, status: "WAITING_ON_DEPENDENCIES", kind: "task", attempts: 0, preconditions: [] };
    preconditions.push(pid);
  }
  x.state.instances[id] = { id, component: o.id, start, end, status: "WAITING_ON_DEPENDENCIES", kind, attempts: 0, preconditions };
  created.push(x.state.instances[id]);
  x.state.latestRunMs = Math.max(x.state.latestRunMs ?? 0, start);
}

/**
 * Creates the instances due by now: for an on-demand pipeline one per component at activation;
 * for a scheduled one every period due since the last (the backfill of periods in the past
 * included, at most `maxBackfill` per component per call), then arms the timer of the next.
 */
export async function createDueInstances(ctx: Dp, uow: UnitOfWork, x: PipelineTx, onDemandRun: boolean): Promise<void> {
  const model = x.model;
  if (!model) return;
  const s = x.state;
  const created: Instance[] = [];
  if (model.scheduleType === "ondemand") {
    if (!onDemandRun) return;
    // Ids have whole seconds: a run activated in the same second as the last one (or before it,
    // should the clock step back) starts a second after it.
    const last = await st.latestInstanceStart(uow.sql, x.row.id);
    const at = Math.max(Math.floor(x.nowMs / 1000) * 1000, last === undefined ? 0 : last + 1000);
    for (const o of model.objects.values()) {
      const kind = instanceKind(o);
      if (kind) addInstance(x, o, kind, at, at, created);
    }
    s.nextRunMs = undefined;
    return;
  }
  const activation = s.firstActivationMs ?? x.nowMs;
  let next: number | undefined;
  for (const o of model.objects.values()) {
    const kind = instanceKind(o);
    const spec = kind ? scheduleOf(model, o.id) : undefined;
    if (!kind || !spec) continue;
    const from = s.nextIndex[o.id] ?? 0;
    const due = scheduledInstances(spec, model.scheduleType, activation, x.nowMs, from + ctx.maxBackfill);
    for (const inst of due.slice(from)) {
      if (s.startFromMs === undefined || inst.scheduledStartTime >= s.startFromMs) addInstance(x, o, kind, inst.scheduledStartTime, inst.scheduledEndTime, created);
      s.nextIndex[o.id] = inst.index + 1;
    }
    const n = nextInstanceAfter(spec, model.scheduleType, activation, due.length > 0 ? due[due.length - 1].runAt : x.nowMs);
    if (n && n.index >= (s.nextIndex[o.id] ?? 0)) next = next === undefined ? n.runAt : Math.min(next, n.runAt);
  }
  s.nextRunMs = next;
  if (next !== undefined) await uow.addTimer(T.schedule, x.row.id, `s:${s.gen}`, Math.max(next, x.nowMs));
  // lateAfterTimeout counts from the scheduled start; AWS applies it to scheduled pipelines only.
  for (const inst of created) {
    const late = periodSeconds(componentOf(x, inst), "lateAfterTimeout");
    if (late !== undefined) await uow.addTimer(T.late, x.row.id, `l:${s.gen}:${inst.id}`, Math.max(inst.start + late * 1000, x.nowMs));
  }
}

/** The instance of `component` that an instance of period `start` depends on: the same period, else the latest one before it. */
function dependencyInstance(x: PipelineTx, component: string, start: number): Instance | undefined {
  const same = x.state.instances[instanceId(component, start)];
  if (same) return same;
  let best: Instance | undefined;
  for (const i of Object.values(x.state.instances)) if (i.component === component && i.start <= start && (!best || i.start > best.start)) best = i;
  return best;
}

/** Whether a component fails its dependents along with it (`failureAndRerunMode` CASCADE). */
function cascades(o: ModelObject | undefined): boolean {
  return (o === undefined ? undefined : stringField(o.fields, "failureAndRerunMode"))?.toLowerCase() === "cascade";
}

/**
 * Moves every waiting instance on as far as its dependencies allow: a dependency that failed
 * fails a CASCADE dependent; preconditions that failed fail the instance; an instance whose
 * dependencies and preconditions finished finishes (a data node) or gets its first attempt (an
 * activity). Repeats until nothing changes, then marks the pipeline FINISHED when its run is over.
 */
export async function advance(ctx: Dp, uow: UnitOfWork, x: PipelineTx): Promise<void> {
  const model = x.model;
  if (!model || x.state.pipelineState !== "SCHEDULED") return;
  // Counting active instances needs every instance that has not ended.
  if (!x.live && Object.values(x.state.instances).some((i) => i.status === "WAITING_ON_DEPENDENCIES" && componentOf(x, i) && stringField(componentOf(x, i)!.fields, "maxActiveInstances") !== undefined))
    await x.ensureLive(uow.sql);
  // Dependencies that ended are not loaded with the run: read the ones waiting instances need.
  for (const inst of Object.values(x.state.instances)) {
    if (inst.status !== "WAITING_ON_DEPENDENCIES") continue;
    const o = componentOf(x, inst);
    if (o) for (const dep of [...refFields(o.fields, "dependsOn"), ...refFields(o.fields, "input")]) await x.loadDependency(uow.sql, dep, inst.start);
    await x.loadInstances(uow.sql, inst.preconditions);
  }
  const needed = new Set<string>();
  for (const i of Object.values(x.state.instances)) for (const p of i.preconditions) needed.add(p);
  for (let changed = true; changed; ) {
    changed = false;
    for (const inst of Object.values(x.state.instances)) {
      if (inst.status !== "WAITING_ON_DEPENDENCIES" || inst.retryAt !== undefined) continue;
      if (x.state.paused.includes(inst.component)) continue;
      const o = componentOf(x, inst);
      if (!o) continue;
      // A precondition instance is checked at once: its attempt goes to the worker group.
      if (needed.has(inst.id) && instanceKind(o) === undefined) {
        await startAttempt(ctx, uow, x, inst);
        changed = true;
        continue;
      }
      let ready = true;
      let failed: string | undefined;
      for (const dep of [...refFields(o.fields, "dependsOn"), ...refFields(o.fields, "input")]) {
        const d = dependencyInstance(x, dep, inst.start);
        if (!d) {
          if (model.objects.get(dep) && instanceKind(model.objects.get(dep)!) !== undefined) ready = false;
          continue;
        }
        if (d.status === "FINISHED" || d.status === "SKIPPED") continue;
        ready = false;
        if (isFinal(d.status) && cascades(o)) failed = `Dependency ${d.id} is ${d.status}.`;
      }
      for (const pid of inst.preconditions) {
        const p = x.state.instances[pid];
        if (!p || p.status === "FINISHED") continue;
        ready = false;
        if (isFinal(p.status)) failed = `Precondition ${p.id} is ${p.status}.`;
      }
      if (failed !== undefined) {
        inst.status = "CASCADE_FAILED";
        inst.errorMessage = failed;
        inst.actualEnd = x.nowMs;
        await runActions(ctx, x, inst, "onFail");
        changed = true;
      } else if (ready) {
        if (inst.kind === "passive") {
          inst.status = "FINISHED";
          inst.actualStart = inst.actualEnd = x.nowMs;
          await runActions(ctx, x, inst, "onSuccess");
        } else if (atActiveLimit(x, o, inst)) continue;
        else await startAttempt(ctx, uow, x, inst);
        changed = true;
      }
    }
  }
  await finishIfDone(uow, x);
}

/**
 * Whether a first run of an instance must wait because `maxActiveInstances` instances of its
 * component are active (started and not ended). Reruns neither wait nor count, as AWS documents;
 * without the field there is no limit.
 */
function atActiveLimit(x: PipelineTx, o: ModelObject, inst: Instance): boolean {
  const max = Number(stringField(o.fields, "maxActiveInstances"));
  // An instance that has made attempts is active already (its retry waits for nothing).
  if (!Number.isInteger(max) || max < 1 || inst.rerunAt !== undefined || inst.attempts > 0) return false;
  let active = 0;
  for (const i of Object.values(x.state.instances)) if (i.component === inst.component && i.attempts > 0 && i.rerunAt === undefined && !isFinal(i.status)) active++;
  return active >= max;
}

/** The events of an object that name actions (`onSuccess`, `onFail`, `onLateAction`). */
export type ActionEvent = "onSuccess" | "onFail" | "onLateAction";

/**
 * Runs the actions an event of an instance names. `SnsAlarm`: taskgate sends no SNS message; the
 * alarm is recorded on the instance (`@snsAlarm`) and logged. `Terminate` (onLateAction only: an
 * instance that already ended has nothing to terminate) cancels the instance as TRY_CANCEL does,
 * with its `cancellationReason`. Actions of other types are ignored.
 */
export async function runActions(ctx: Dp, x: PipelineTx, inst: Instance, event: ActionEvent, terminate?: (inst: Instance) => Promise<void>): Promise<void> {
  const o = componentOf(x, inst);
  if (!o || !x.model) return;
  for (const id of refFields(o.fields, event)) {
    const action = x.model.objects.get(id);
    if (action?.type === "SnsAlarm") {
      const topicArn = stringField(action.fields, "topicArn") ?? "";
      const subject = stringField(action.fields, "subject") ?? "";
      const message = stringField(action.fields, "message") ?? "";
      inst.alarms = [...(inst.alarms ?? []), `${event} ${id} at ${formatDateTime(x.nowMs)} to ${topicArn}: ${subject}: ${message}`];
      ctx.log.info({ pipelineId: x.row.id, objectId: inst.id, action: id, event, topicArn, subject }, "Data Pipeline SnsAlarm recorded on the object (taskgate sends no SNS message)");
    } else if (action?.type === "Terminate" && event === "onLateAction" && terminate && !isFinal(inst.status)) {
      await terminate(inst);
      inst.cancellationReason = `Terminated by ${id}: not finished within lateAfterTimeout of its scheduled start.`;
    }
  }
}

/**
 * Marks a scheduled pipeline FINISHED once no instance can change any more and no period is to
 * come. An on-demand pipeline stays SCHEDULED: its next activation runs it again.
 */
async function finishIfDone(uow: UnitOfWork, x: PipelineTx): Promise<void> {
  if (x.state.nextRunMs !== undefined || x.model?.scheduleType === "ondemand") return;
  await x.ensureLive(uow.sql);
  for (const i of Object.values(x.state.instances)) if (!isFinal(i.status)) return;
  x.state.pipelineState = "FINISHED";
}

/** What an attempt's task row carries (tasks.payload). */
export interface AttemptPayload {
  attempt: string;
  instance: string;
}

/** Starts a new attempt of an instance: WAITING_FOR_RUNNER, its task in its worker group's queue. */
export async function startAttempt(ctx: Dp, uow: UnitOfWork, x: PipelineTx, inst: Instance): Promise<void> {
  const n = inst.attempts + 1;
  const a: Attempt = { id: `${inst.id}_Attempt=${n}`, instance: inst.id, n, status: "WAITING_FOR_RUNNER" };
  inst.attempts = n;
  inst.head = a.id;
  inst.status = "WAITING_FOR_RUNNER";
  inst.retryAt = undefined;
  x.state.attempts[a.id] = a;
  const wg = x.model ? workerGroupOf(x.model, inst.component) : undefined;
  // Without a worker group (a resource only AWS provisions) no task runner can take it: it waits.
  if (wg === undefined) return;
  await ctx.tasks.schedule(uow, ctx.attemptTask, x, {
    queue: queueOf(wg, x.row.creatorAccount ?? null, x.row.creatorPrincipal ?? null),
    priority: 0,
    ownerId: x.row.id,
    key: a.id,
    payload: { attempt: a.id, instance: inst.id } satisfies AttemptPayload,
    unique: true,
    nowMs: x.nowMs,
  });
}

/**
 * An attempt ended without success (`FAILED` or `TIMEDOUT`): another attempt after retryDelay
 * while maximumRetries allows (at once when the delay is 0; at the next activation when the
 * pipeline is not SCHEDULED), else the instance ends with that status and its CASCADE dependents
 * fail with it.
 */
export async function attemptFailed(ctx: Dp, uow: UnitOfWork, x: PipelineTx, inst: Instance, status: "FAILED" | "TIMEDOUT"): Promise<void> {
  const o = componentOf(x, inst);
  const maxRetries = Number(o === undefined ? undefined : (stringField(o.fields, "maximumRetries") ?? defaults.maximumRetries)) || 0;
  if (inst.attempts - (inst.rerunAt ?? 0) <= maxRetries) {
    const delay = periodSeconds(o, "retryDelay") ?? defaults.retryDelaySeconds;
    // A pipeline deactivated meanwhile retries when it is activated again.
    if (x.state.pipelineState !== "SCHEDULED") inst.status = "WAITING_ON_DEPENDENCIES";
    else if (delay <= 0) await startAttempt(ctx, uow, x, inst);
    else {
      inst.status = "WAITING_ON_DEPENDENCIES";
      inst.retryAt = x.nowMs + delay * 1000;
      await uow.addTimer(T.retry, x.row.id, `r:${x.state.gen}:${inst.id}`, inst.retryAt);
    }
  } else {
    inst.status = status;
    inst.actualEnd = x.nowMs;
    await runActions(ctx, x, inst, "onFail");
  }
  await advance(ctx, uow, x);
}

/** The schedule timer: creates the instances now due, arms the next period, moves instances on. */
export async function scheduleFired(ctx: Dp, uow: UnitOfWork, t: TimerRow): Promise<void> {
  const x = await ctx.open(uow, t.owner);
  if (!x || t.ref !== `s:${x.state.gen}` || x.state.pipelineState !== "SCHEDULED") return;
  await createDueInstances(ctx, uow, x, false);
  await advance(ctx, uow, x);
  await x.flush(uow);
}

/** The retry timer: the instance's next attempt, unless the pipeline moved on since. */
export async function retryFired(ctx: Dp, uow: UnitOfWork, t: TimerRow): Promise<void> {
  const x = await ctx.open(uow, t.owner);
  if (!x) return;
  const [, gen, ...rest] = t.ref.split(":");
  const inst = x.state.instances[rest.join(":")];
  if (Number(gen) !== x.state.gen || !inst || inst.retryAt === undefined || inst.status !== "WAITING_ON_DEPENDENCIES") return;
  inst.retryAt = undefined;
  if (x.state.pipelineState === "SCHEDULED" && !x.state.paused.includes(inst.component)) await startAttempt(ctx, uow, x, inst);
  await advance(ctx, uow, x);
  await x.flush(uow);
}

/**
 * The late timer (lateAfterTimeout after an instance's scheduled start): an instance that has not
 * ended is late (`@lateTime`, a field of taskgate's own) and its onLateAction actions run.
 */
export async function lateFired(ctx: Dp, uow: UnitOfWork, t: TimerRow): Promise<void> {
  const x = await ctx.open(uow, t.owner);
  if (!x) return;
  const [, gen, ...rest] = t.ref.split(":");
  const id = rest.join(":");
  if (Number(gen) !== x.state.gen) return;
  await x.loadInstances(uow.sql, [id]);
  const inst = x.state.instances[id];
  if (!inst || isFinal(inst.status)) return;
  inst.lateAt = x.nowMs;
  ctx.log.info({ pipelineId: x.row.id, objectId: inst.id }, "Data Pipeline instance is late (lateAfterTimeout passed)");
  await runActions(ctx, x, inst, "onLateAction", (i) => cancelInstance(ctx, uow, x, i));
  await advance(ctx, uow, x);
  await x.flush(uow);
}

/**
 * Cancels an instance that has not ended: its waiting task is withdrawn, a running attempt is
 * marked canceled (its task runner learns it from ReportTaskProgress), the instance CANCELED.
 */
export async function cancelInstance(ctx: Dp, uow: UnitOfWork, x: PipelineTx, inst: Instance): Promise<void> {
  if (isFinal(inst.status)) return;
  const a = inst.head ? x.state.attempts[inst.head] : undefined;
  if (a && !isFinal(a.status)) {
    // The task row decides, not the attempt as loaded: a claim (which does not lock the pipeline)
    // may have started it since; reading the row waits for that claim to commit.
    const row = await ctx.tasks.byKey(uow, x.row.id, a.id);
    if (row && row.state === TaskState.started) a.canceled = true;
    else if (row) await ctx.tasks.close(uow, row);
    a.status = "CANCELED";
    a.actualEnd = x.nowMs;
  }
  inst.status = "CANCELED";
  inst.retryAt = undefined;
  inst.actualEnd = x.nowMs;
}

/**
 * Withdraws an instance's waiting attempt (deactivation without cancelActive): the task leaves its
 * queue and the instance waits again, to get a new attempt when the pipeline is activated again.
 */
export async function withdrawWaiting(ctx: Dp, uow: UnitOfWork, x: PipelineTx, inst: Instance): Promise<void> {
  const a = inst.head ? x.state.attempts[inst.head] : undefined;
  if (inst.status !== "WAITING_FOR_RUNNER" || !a || a.status !== "WAITING_FOR_RUNNER") return;
  const row = await ctx.tasks.byKey(uow, x.row.id, a.id);
  // A runner claimed it meanwhile (claims do not lock the pipeline): it runs to its end.
  if (row && row.state === TaskState.started) return;
  if (row) await ctx.tasks.close(uow, row);
  x.deleteAttempt(a.id);
  inst.attempts -= 1;
  inst.head = inst.attempts > 0 ? `${inst.id}_Attempt=${inst.attempts}` : undefined;
  inst.status = "WAITING_ON_DEPENDENCIES";
}
