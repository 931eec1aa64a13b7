// ScheduleActivityTask and RequestCancelActivityTask.
import { type Decision, EventType, RequestCancelActivityTaskFailedCause, ScheduleActivityTaskFailedCause } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { TaskState } from "../../dispatch/index.ts";
import * as st from "../../store/swf.ts";
import { checkDuration, parseDuration, parsePriority } from "../values.ts";
import type { ActivityTypeConfig } from "../type-config.ts";
import type { ActivityPayload } from "../activity-task.ts";
import { limits, queueName } from "../context.ts";
import { type DecisionContext, type DecisionRule, type Outcome, required } from "./rule.ts";

/** Schedules an activity task: the type's defaults fill what the decision leaves out. */
export const scheduleActivityTask: DecisionRule<"scheduleActivityTaskDecisionAttributes"> = {
  attributes: "scheduleActivityTaskDecisionAttributes",
  name: "ScheduleActivityTask",
  required: true,
  closes: false,
  check(a, path) {
    checkDuration(a.scheduleToCloseTimeout, `${path}.scheduleToCloseTimeout`);
    checkDuration(a.scheduleToStartTimeout, `${path}.scheduleToStartTimeout`);
    checkDuration(a.startToCloseTimeout, `${path}.startToCloseTimeout`);
    checkDuration(a.heartbeatTimeout, `${path}.heartbeatTimeout`);
    parsePriority(a.taskPriority, `${path}.taskPriority`);
  },
  apply: (c, a) => scheduleActivity(c, required(a)),
};

/**
 * Cancels a scheduled activity task at once (ActivityTaskCanceled), or asks the worker of a
 * started one to cancel (its next heartbeat answers cancelRequested).
 */
export const requestCancelActivityTask: DecisionRule<"requestCancelActivityTaskDecisionAttributes"> = {
  attributes: "requestCancelActivityTaskDecisionAttributes",
  name: "RequestCancelActivityTask",
  required: true,
  closes: false,
  async apply({ ctx, uow, x, dtc }, attrs) {
    const a = required(attrs);
    const row = await ctx.tasks.byKey(uow, x.row.runId, `a:${a.activityId}`);
    if (!row) {
      x.append({
        eventType: EventType.REQUEST_CANCEL_ACTIVITY_TASK_FAILED,
        requestCancelActivityTaskFailedEventAttributes: { activityId: a.activityId, cause: RequestCancelActivityTaskFailedCause.ACTIVITY_ID_UNKNOWN, decisionTaskCompletedEventId: dtc },
      });
      return "needs-decision";
    }
    const p = JSON.parse(row.payload) as ActivityPayload;
    const reqId = x.append({
      eventType: EventType.ACTIVITY_TASK_CANCEL_REQUESTED,
      activityTaskCancelRequestedEventAttributes: { activityId: a.activityId, decisionTaskCompletedEventId: dtc },
    });
    if (row.state === TaskState.scheduled) {
      x.append({
        eventType: EventType.ACTIVITY_TASK_CANCELED,
        activityTaskCanceledEventAttributes: { scheduledEventId: BigInt(p.scheduledEventId), startedEventId: 0n, latestCancelRequestedEventId: BigInt(reqId) },
      });
      await ctx.tasks.close(uow, row);
      x.state.openActivityTasks--;
      return "needs-decision";
    }
    p.cancelRequested = true;
    p.latestCancelRequestedEventId = reqId;
    await ctx.tasks.updatePayload(uow, row, p);
    return "no-decision";
  },
};

async function scheduleActivity({ ctx, uow, x, dtc }: DecisionContext, a: NonNullable<Decision["scheduleActivityTaskDecisionAttributes"]>): Promise<Outcome> {
  const fail = (cause: ScheduleActivityTaskFailedCause): Outcome => {
    x.append({
      eventType: EventType.SCHEDULE_ACTIVITY_TASK_FAILED,
      scheduleActivityTaskFailedEventAttributes: { activityType: a.activityType, activityId: a.activityId, cause, decisionTaskCompletedEventId: dtc },
    });
    return "needs-decision";
  };
  const [typeName, typeVersion] = [a.activityType!.name!, a.activityType!.version!];
  const t = await uow.memo(JSON.stringify(["type", x.row.domain, "activity", typeName, typeVersion]), () => st.getType(uow.sql, x.row.domain, "activity", typeName, typeVersion));
  if (!t) return fail(ScheduleActivityTaskFailedCause.ACTIVITY_TYPE_DOES_NOT_EXIST);
  if (t.status !== "REGISTERED") return fail(ScheduleActivityTaskFailedCause.ACTIVITY_TYPE_DEPRECATED);
  if (x.state.openActivityTasks >= limits.openActivities) return fail(ScheduleActivityTaskFailedCause.OPEN_ACTIVITIES_LIMIT_EXCEEDED);
  const c = JSON.parse(t.config) as ActivityTypeConfig;
  const taskList = a.taskList?.name ?? c.defaultTaskList;
  if (taskList === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_TASK_LIST_UNDEFINED);
  const s2c = a.scheduleToCloseTimeout ?? c.defaultTaskScheduleToCloseTimeout;
  if (s2c === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED);
  const s2s = a.scheduleToStartTimeout ?? c.defaultTaskScheduleToStartTimeout;
  if (s2s === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED);
  const stc = a.startToCloseTimeout ?? c.defaultTaskStartToCloseTimeout;
  if (stc === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED);
  const hb = a.heartbeatTimeout ?? c.defaultTaskHeartbeatTimeout;
  if (hb === undefined) return fail(ScheduleActivityTaskFailedCause.DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED);
  const priority = a.taskPriority !== undefined ? String(parsePriority(a.taskPriority, "taskPriority")) : (c.defaultTaskPriority ?? "0");
  const scheduledEventId = x.row.nextEventId; // ActivityTaskScheduled, appended once the task row exists
  const payload: ActivityPayload = {
    activityId: a.activityId!,
    typeName: t.name,
    typeVersion: t.version,
    workflowId: x.row.workflowId,
    domain: x.row.domain,
    input: a.input,
    scheduledEventId,
    scheduleToStartTimeout: s2s,
    scheduleToCloseTimeout: s2c,
    startToCloseTimeout: stc,
    heartbeatTimeout: hb,
  };
  // The open activityId is unique per execution (the tasks (owner, key) index): the insert itself
  // is the check, so scheduling costs no lookup first.
  const id = await ctx.tasks.schedule(uow, ctx.activityTask, x, {
    queue: queueName.activity(x.row.domain, taskList),
    priority: Number(priority),
    ownerId: x.row.runId,
    key: `a:${a.activityId}`,
    payload,
    unique: true,
    nowMs: x.nowMs,
    scheduleToStart: parseDuration(s2s, "scheduleToStartTimeout"),
    scheduleToClose: parseDuration(s2c, "scheduleToCloseTimeout"),
  });
  if (id === undefined) return fail(ScheduleActivityTaskFailedCause.ACTIVITY_ID_ALREADY_IN_USE);
  x.append({
    eventType: EventType.ACTIVITY_TASK_SCHEDULED,
    activityTaskScheduledEventAttributes: {
      activityType: { name: t.name, version: t.version },
      activityId: a.activityId,
      input: a.input,
      control: a.control,
      scheduleToStartTimeout: s2s,
      scheduleToCloseTimeout: s2c,
      startToCloseTimeout: stc,
      heartbeatTimeout: hb,
      taskList: { name: taskList },
      taskPriority: priority,
      decisionTaskCompletedEventId: dtc,
    },
  });
  x.state.openActivityTasks++;
  x.state.latestActivityTaskMs = x.nowMs;
  return "no-decision";
}
