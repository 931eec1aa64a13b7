// The interpreter's durable timers (Wait states, retry back-off, the execution timeout): a timer
// row per startTimer command, fired once across nodes by the core's timer loop, which steps the
// execution with timerFired in the transaction that takes the row. The retention purge of a
// closed execution is a timer too. Activity task timeouts are armed and checked by the core's
// worker tasks (activity-task.ts names their kinds).
import * as st from "../store/sfn.ts";
import { feed, flush, openRunning, retentionKind, timerKind } from "./execution.ts";
import type { Sfn } from "./engine.ts";

/** Registers the handlers of the interpreter's timer kind and of the retention purge. */
export function registerTimers(ctx: Sfn): void {
  ctx.core.timers.on(retentionKind, async (uow, t) => {
    await st.purgeExecution(uow.sql, t.owner);
  });
  ctx.core.timers.on(timerKind, async (uow, t) => {
    const x = await openRunning(ctx, uow, t.owner);
    if (!x) return;
    await feed(ctx, uow, x, { type: "timerFired", timerRef: t.ref.slice(2) });
    await flush(ctx, uow, x);
  });
}
