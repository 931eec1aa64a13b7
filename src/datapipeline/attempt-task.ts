// The attempt as a worker-task kind of the dispatch core: a task of a worker group's queue whose
// start marks the attempt RUNNING for a task runner, whose requeue makes it wait again, and whose
// timeouts (attemptTimeout as start-to-close, reportProgressTimeout as heartbeat) time it out.
import type { TaskKind, TaskTimeout } from "../dispatch/index.ts";
import type { Dp } from "./engine.ts";
import { attemptObject, instanceObject, componentObject, wireObject, type WireObject } from "./present.ts";
import { attemptFailed, componentOfInstance, isFinal, periodSeconds, T, type AttemptPayload, type PipelineTx } from "./scheduler.ts";
import { refFields } from "./definition/objects.ts";

/** A started attempt as PollForTask answers it (the TaskObject, a PipelineTask). */
export interface ClaimedAttempt {
  /** The task id: the token the core issued for this start. */
  token: string;
  pipelineId: string;
  attemptId: string;
  objects: Record<string, WireObject>;
}

/**
 * The objects a task runner receives with an attempt: the attempt, its instance and every
 * component they reference (followed through reference fields), expressions evaluated.
 */
export function taskObjects(x: PipelineTx, attemptId: string): Record<string, WireObject> {
  const out: Record<string, WireObject> = {};
  const a = x.state.attempts[attemptId];
  const inst = a ? x.state.instances[a.instance] : undefined;
  if (!a || !inst) return out;
  const model = x.model;
  const version = x.state.activeVersion ?? x.state.version;
  out[a.id] = wireObject(attemptObject(x, a), model, true);
  out[inst.id] = wireObject(instanceObject(x, inst), model, true);
  const queue = [inst.component];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const o = model?.objects.get(id);
    if (!o) continue;
    out[id] = wireObject(componentObject(x, o, version), model, true);
    for (const [key, vals] of o.fields) if (key !== "parent") for (const v of vals) if (v.kind === "ref") queue.push(v.value);
    for (const p of refFields(o.fields, "parent")) queue.push(p);
  }
  return out;
}

/** The attempt task kind of the Data Pipeline engine. */
export function attemptTaskKind(ctx: Dp): TaskKind<PipelineTx, AttemptPayload, ClaimedAttempt> {
  return {
    prefix: "dp/",
    timerKinds: { startToClose: T.attemptTimeout, heartbeat: T.progressTimeout },
    // A claim opens the pipeline without its run and without locking its row: the start reads
    // and writes only its attempt and instance. A change that cancels the attempt meanwhile waits
    // for the task row the claim holds. Requeues and timeouts open the pipeline again, locked.
    open: (uow, id) => ctx.open(uow, id, false, false),
    live: (x) => !x.row.deleted && x.state.pipelineState === "SCHEDULED",
    flush: (uow, x) => x.flush(uow),
    starting: () => undefined,
    started: (_uow, x, t, identity) => {
      const claimed: ClaimedAttempt = { token: t.token, pipelineId: x.row.id, attemptId: t.payload.attempt, objects: {} };
      x.defer([t.payload.instance], [t.payload.attempt], () => {
        const a = x.state.attempts[t.payload.attempt];
        const inst = x.state.instances[t.payload.instance];
        if (a && inst && !isFinal(a.status)) {
          a.status = "RUNNING";
          a.actualStart = x.nowMs;
          a.taskId = t.token;
          if (identity !== undefined) a.hostname = identity;
          inst.status = "RUNNING";
          inst.actualStart ??= x.nowMs;
        }
        claimed.objects = taskObjects(x, t.payload.attempt);
      });
      const o = x.model?.objects.get(componentOfInstance(t.payload.instance));
      return {
        claimed,
        startToClose: periodSeconds(o, "attemptTimeout"),
        heartbeat: periodSeconds(o, "reportProgressTimeout"),
        clearsScheduleToStart: false,
      };
    },
    requeued: async (uow, claimX, _row, p) => {
      const x = await ctx.open(uow, claimX.row.id, false);
      if (!x) return {};
      await x.loadInstances(uow.sql, [p.instance]);
      await x.loadAttempts(uow.sql, [p.attempt]);
      const a = x.state.attempts[p.attempt];
      const inst = x.state.instances[p.instance];
      if (a && a.status === "RUNNING") {
        a.status = "WAITING_FOR_RUNNER";
        a.actualStart = undefined;
        a.taskId = undefined;
        a.hostname = undefined;
      }
      if (inst && inst.status === "RUNNING") inst.status = "WAITING_FOR_RUNNER";
      await x.flush(uow);
      return {};
    },
    timedOut: async (uow, claimX, _row, p, which: TaskTimeout) => {
      const x = await ctx.open(uow, claimX.row.id);
      if (!x) return;
      const a = x.state.attempts[p.attempt];
      const inst = x.state.instances[p.instance];
      if (!a || !inst || a.canceled || a.status !== "RUNNING") return;
      a.status = "TIMEDOUT";
      a.actualEnd = x.nowMs;
      a.errorMessage = which === "heartbeat" ? "The task runner did not report progress within reportProgressTimeout." : "The attempt did not finish within attemptTimeout.";
      await attemptFailed(ctx, uow, x, inst, "TIMEDOUT");
      await x.flush(uow);
    },
  };
}
