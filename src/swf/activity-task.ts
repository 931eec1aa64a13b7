// The activity task as a worker-task kind of the dispatch core: what its start, requeue and
// timeouts record in the execution.
import { ActivityTaskTimeoutType, EventType } from "../../gen/taskgate/swf/v1/types_pb.ts";
import type { TaskKind, TaskTimeout } from "../dispatch/index.ts";
import { ExecutionTx } from "./history.ts";
import { parseDuration } from "./values.ts";
import { loadOpen } from "./lookup.ts";
import { withdrawStarted } from "./execution.ts";
import { scheduleDecision } from "./decision-task.ts";
import { T } from "./timers.ts";
import { queuePrefix, type Swf } from "./context.ts";

/** What an activity task row carries (tasks.payload). */
export interface ActivityPayload {
  activityId: string;
  typeName: string;
  typeVersion: string;
  workflowId: string;
  domain: string;
  input?: string;
  scheduledEventId: number;
  startedEventId?: number;
  scheduleToStartTimeout: string;
  scheduleToCloseTimeout: string;
  startToCloseTimeout: string;
  heartbeatTimeout: string;
  details?: string;
  cancelRequested?: boolean;
  latestCancelRequestedEventId?: number;
}

/** A started activity task. */
export interface ClaimedActivity {
  token: string;
  runId: string;
  payload: ActivityPayload;
}

/** Whether an activity armed any timer (all four timeouts NONE arm none). */
export function hasTimeouts(p: ActivityPayload): boolean {
  return p.scheduleToStartTimeout !== "NONE" || p.scheduleToCloseTimeout !== "NONE" || p.startToCloseTimeout !== "NONE" || p.heartbeatTimeout !== "NONE";
}

/**
 * The activity task as a worker-task kind: its start appends ActivityTaskStarted and arms the
 * start-to-close and heartbeat timeouts of its payload; a timeout appends ActivityTaskTimedOut
 * and needs a decision.
 */
export function activityTaskKind(ctx: Swf): TaskKind<ExecutionTx, ActivityPayload, ClaimedActivity> {
  const timeoutType: Record<TaskTimeout, ActivityTaskTimeoutType> = {
    scheduleToStart: ActivityTaskTimeoutType.SCHEDULE_TO_START,
    scheduleToClose: ActivityTaskTimeoutType.SCHEDULE_TO_CLOSE,
    startToClose: ActivityTaskTimeoutType.START_TO_CLOSE,
    heartbeat: ActivityTaskTimeoutType.HEARTBEAT,
  };
  return {
    prefix: queuePrefix.activity,
    timerKinds: { scheduleToStart: T.activityScheduleToStart, scheduleToClose: T.activityScheduleToClose, startToClose: T.activityStartToClose, heartbeat: T.activityHeartbeat },
    open: (uow, runId) => loadOpen(ctx, uow.sql, runId),
    live: (x) => x.open,
    flush: (uow, x) => x.flush(uow.sql, uow.caps),
    // The Started event will be the execution's next: recorded in the payload the mark writes.
    starting: (x, p) => void (p.startedEventId = x.row.nextEventId),
    started: (_uow, x, t, identity) => {
      const p = t.payload;
      x.append({ eventType: EventType.ACTIVITY_TASK_STARTED, activityTaskStartedEventAttributes: { identity, scheduledEventId: BigInt(p.scheduledEventId) } });
      return {
        claimed: { token: t.token, runId: x.row.runId, payload: p },
        startToClose: parseDuration(p.startToCloseTimeout, "startToCloseTimeout"),
        heartbeat: parseDuration(p.heartbeatTimeout, "heartbeatTimeout"),
        clearsScheduleToStart: p.scheduleToStartTimeout !== "NONE",
      };
    },
    requeued: async (uow, x, row, p) => {
      await withdrawStarted(uow, x, p);
      // Schedule-to-start counts from the first scheduling, not from the return to the queue.
      const s2s = p.scheduleToStartTimeout !== undefined ? parseDuration(p.scheduleToStartTimeout, "scheduleToStartTimeout") : undefined;
      return { scheduleToStartAt: s2s !== undefined ? Math.max(row.scheduledMs + s2s * 1000, x.nowMs) : undefined };
    },
    timedOut: async (uow, x, _row, p, which) => {
      x.append({
        eventType: EventType.ACTIVITY_TASK_TIMED_OUT,
        activityTaskTimedOutEventAttributes: {
          timeoutType: timeoutType[which],
          scheduledEventId: BigInt(p.scheduledEventId),
          startedEventId: BigInt(p.startedEventId ?? 0),
          details: p.details,
        },
      });
      x.state.openActivityTasks = Math.max(0, x.state.openActivityTasks - 1);
      await scheduleDecision(ctx, uow, x);
    },
  };
}
