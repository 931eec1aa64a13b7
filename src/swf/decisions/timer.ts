// StartTimer and CancelTimer: user timers are durable timer rows `timer:<timerId>` of the run.
import { CancelTimerFailedCause, EventType, StartTimerFailedCause } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import { parseDuration } from "../values.ts";
import { T } from "../timers.ts";
import { limits } from "../context.ts";
import { type DecisionRule, type Outcome, required } from "./rule.ts";

/** StartTimer: a user timer that fires once (TimerFired), at most 1,000 open per execution. */
export const startTimer: DecisionRule<"startTimerDecisionAttributes"> = {
  attributes: "startTimerDecisionAttributes",
  name: "StartTimer",
  required: true,
  closes: false,
  check(a, path) {
    parseDuration(a.startToFireTimeout ?? "", `${path}.startToFireTimeout`, false);
  },
  async apply({ uow, x, dtc }, attrs) {
    const a = required(attrs);
    const fail = (cause: StartTimerFailedCause): Outcome => {
      x.append({ eventType: EventType.START_TIMER_FAILED, startTimerFailedEventAttributes: { timerId: a.timerId, cause, decisionTaskCompletedEventId: dtc } });
      return "needs-decision";
    };
    if (x.state.timers[a.timerId!]) return fail(StartTimerFailedCause.TIMER_ID_ALREADY_IN_USE);
    if (x.state.openTimers >= limits.openTimers) return fail(StartTimerFailedCause.OPEN_TIMERS_LIMIT_EXCEEDED);
    const id = x.append({
      eventType: EventType.TIMER_STARTED,
      timerStartedEventAttributes: { timerId: a.timerId, control: a.control, startToFireTimeout: a.startToFireTimeout, decisionTaskCompletedEventId: dtc },
    });
    x.state.timers[a.timerId!] = { startedEventId: id, control: a.control };
    x.state.openTimers++;
    const secs = parseDuration(a.startToFireTimeout!, "startToFireTimeout", false)!;
    await uow.addTimer(T.timer, x.row.runId, `timer:${a.timerId}`, x.nowMs + secs * 1000);
    return "no-decision";
  },
};

/** CancelTimer: cancels an open user timer. */
export const cancelTimer: DecisionRule<"cancelTimerDecisionAttributes"> = {
  attributes: "cancelTimerDecisionAttributes",
  name: "CancelTimer",
  required: true,
  closes: false,
  async apply({ uow, x, dtc }, attrs) {
    const a = required(attrs);
    const t = x.state.timers[a.timerId!];
    if (!t) {
      x.append({
        eventType: EventType.CANCEL_TIMER_FAILED,
        cancelTimerFailedEventAttributes: { timerId: a.timerId, cause: CancelTimerFailedCause.TIMER_ID_UNKNOWN, decisionTaskCompletedEventId: dtc },
      });
      return "needs-decision";
    }
    delete x.state.timers[a.timerId!];
    x.state.openTimers--;
    await uow.deleteTimers(x.row.runId, `timer:${a.timerId}`);
    x.append({
      eventType: EventType.TIMER_CANCELED,
      timerCanceledEventAttributes: { timerId: a.timerId, startedEventId: BigInt(t.startedEventId), decisionTaskCompletedEventId: dtc },
    });
    return "no-decision";
  },
};
