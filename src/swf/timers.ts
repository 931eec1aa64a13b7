// SWF timer kinds and the handlers of the execution-level ones (execution timeout, user timer,
// retention purge). Task timeouts (activity and decision tasks) are armed and checked by the
// dispatch core's worker tasks; their kinds are named here because timer rows store them.
import { EventType, WorkflowExecutionTimeoutType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import type { TimerRow, UnitOfWork } from "../dispatch/index.ts";
import type { Sql } from "../store/db.ts";
import { childPolicyValue } from "./present.ts";
import { loadOpen } from "./lookup.ts";
import { applyChildPolicy, close } from "./execution.ts";
import { scheduleDecision } from "./decision-task.ts";
import type { Swf } from "./context.ts";
import * as st from "../store/swf.ts";

/** Timer kinds. */
export const T = {
  activityScheduleToStart: "swf.activity.schedule-to-start",
  activityScheduleToClose: "swf.activity.schedule-to-close",
  activityStartToClose: "swf.activity.start-to-close",
  activityHeartbeat: "swf.activity.heartbeat",
  decisionStartToClose: "swf.decision.start-to-close",
  decisionScheduleToStart: "swf.decision.schedule-to-start",
  execution: "swf.execution.start-to-close",
  timer: "swf.timer",
  purge: "swf.retention",
} as const;

/** The execution start-to-close timeout: closes the execution as TIMED_OUT and applies its child policy. */
async function executionTimeout(ctx: Swf, uow: UnitOfWork, t: TimerRow): Promise<void> {
  const x = await loadOpen(ctx, uow.sql, t.owner);
  if (!x) return;
  x.append({
    eventType: EventType.WORKFLOW_EXECUTION_TIMED_OUT,
    workflowExecutionTimedOutEventAttributes: { timeoutType: WorkflowExecutionTimeoutType.START_TO_CLOSE, childPolicy: childPolicyValue(x.state.childPolicy) },
  });
  await close(ctx, uow, x, "TIMED_OUT");
  await x.flush(uow.sql, ctx.db.caps);
  await applyChildPolicy(ctx, uow, x.row.runId, x.state.childPolicy, x.nowMs);
}

/** A user timer fired: TimerFired, and a decision task unless one is open. */
async function timerFired(ctx: Swf, uow: UnitOfWork, t: TimerRow): Promise<void> {
  const x = await loadOpen(ctx, uow.sql, t.owner);
  const timerId = t.ref.slice("timer:".length);
  const open = x?.state.timers[timerId];
  if (!x || !open) return;
  delete x.state.timers[timerId];
  x.state.openTimers = Math.max(0, x.state.openTimers - 1);
  x.append({ eventType: EventType.TIMER_FIRED, timerFiredEventAttributes: { timerId, startedEventId: BigInt(open.startedEventId) } });
  await scheduleDecision(ctx, uow, x);
  await x.flush(uow.sql, ctx.db.caps);
}

/** The retention purge: a closed execution's history and row are deleted once its domain's retention period has passed. */
async function purge(ctx: Swf, sql: Sql, t: TimerRow): Promise<void> {
  const row = await st.getExecution(sql, ctx.db.caps, t.owner);
  if (!row || row.status !== "CLOSED") return;
  await st.purgeExecution(sql, t.owner);
}

/** Registers the handlers of the execution-level timer kinds. */
export function registerTimers(ctx: Swf): void {
  ctx.core.timers.on(T.execution, (uow, t) => executionTimeout(ctx, uow, t));
  ctx.core.timers.on(T.timer, (uow, t) => timerFired(ctx, uow, t));
  ctx.core.timers.on(T.purge, (uow, t) => purge(ctx, uow.sql, t));
}
