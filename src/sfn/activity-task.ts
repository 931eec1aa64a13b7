// The Step Functions activity task as a worker-task kind of the dispatch core: what its start,
// requeue and timeouts feed the execution's interpreter.
import type { TaskKind, TaskTimeout } from "../dispatch/index.ts";
import * as st from "../store/sfn.ts";
import { flush, openRunning, queuePrefix, type OpenExecution } from "./execution.ts";
import type { Sfn } from "./engine.ts";

/** What an activity task row carries (tasks.payload). `heartbeatSeconds` absent: no heartbeat timeout. */
export interface ActivityPayload {
  taskRef: string;
  input: string;
  heartbeatSeconds?: number;
}

/** A started activity task, as GetActivityTask answers it. */
export interface ClaimedActivity {
  token: string;
  input: string;
}

/** Timer kinds of activity task timeouts (stored in timer rows: never rename one). */
export const activityTimerKinds: Partial<Record<TaskTimeout, string>> = {
  scheduleToClose: "sfn.activity.schedule-to-close",
  heartbeat: "sfn.activity.heartbeat",
};

/**
 * The activity task as a worker-task kind: the schedule-to-close timeout (the state's
 * TimeoutSeconds) runs from scheduling, the heartbeat timeout from the start; a start feeds
 * taskStarted with the worker's name, a timeout taskTimedOut. Tokens that stop being valid
 * (timed out, requeued) are recorded as spent.
 */
export function activityTaskKind(ctx: Sfn): TaskKind<OpenExecution, ActivityPayload, ClaimedActivity> {
  return {
    prefix: queuePrefix,
    timerKinds: activityTimerKinds,
    open: (uow, id) => openRunning(ctx, uow, id),
    live: (x) => x.row.status === "RUNNING",
    flush: (uow, x) => flush(ctx, uow, x),
    starting: () => undefined,
    started: (_uow, x, t, identity) => {
      x.pending.push({ type: "taskStarted", taskRef: t.payload.taskRef, ...(identity === undefined ? {} : { workerName: identity }) });
      return { claimed: { token: t.token, input: t.payload.input }, heartbeat: t.payload.heartbeatSeconds, clearsScheduleToStart: false };
    },
    requeued: async (uow, x, row) => {
      // The start stays in the history (AWS records one ActivityStarted); the next worker gets a new token.
      if (row.token) await st.spendTokens(uow.sql, x.row.id, [row.token]);
      return {};
    },
    timedOut: async (uow, x, row, p, which) => {
      if (row.token) await st.spendTokens(uow.sql, x.row.id, [row.token]);
      x.pending.push({ type: "taskTimedOut", taskRef: p.taskRef, heartbeat: which === "heartbeat" });
    },
  };
}
