// The dispatch core's public surface: what an engine (and the composition root) may use. Engines
// import from here only, never from the files behind it, so the core can change its insides
// without touching an engine. Internal to taskgate: not a stable API for anything outside src/.
export { systemClock, type Clock } from "./clock.ts";
export { Matcher, PollLimitExceeded, type PollOptions, type Reservation } from "./matcher.ts";
export { Timers, type TimerHandler } from "./timers.ts";
export { Liveness, type RequeueHandler } from "./liveness.ts";
export { Dispatch, type DispatchOptions } from "./core.ts";
export { UnitOfWork, type ClaimedTask, type PollCtx } from "./unit-of-work.ts";
export { WorkerTasks, timeoutRef, type NewTask, type Started, type TaskKind, type TaskTimeout } from "./worker-tasks.ts";
export { TaskState, type TaskRow, type TimerRow } from "../store/dispatch.ts";
