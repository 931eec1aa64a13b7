// The dispatch core of one node, wired together: clock, matcher, durable timers, liveness and the
// units of work that tie them to the store. The composition root builds one and hands it to
// every engine.
import type { Logger } from "pino";
import type { Database } from "../store/db.ts";
import { metaValue, taskByToken } from "../store/dispatch.ts";
import type { Clock } from "./clock.ts";
import { Liveness } from "./liveness.ts";
import { Matcher } from "./matcher.ts";
import { Timers } from "./timers.ts";
import { Units, type ClaimedTask, type Outbox, type PollCtx } from "./unit-of-work.ts";
import { WorkerTasks } from "./worker-tasks.ts";

/** How the core of one node is built. */
export interface DispatchOptions {
  db: Database;
  clock: Clock;
  log: Logger;
  /** Liveness heartbeat period, in ms. */
  heartbeatMs?: number;
  /** A node silent this long is dead, in ms. */
  deadAfterMs?: number;
}

/** The dispatch core of one node. */
export class Dispatch {
  readonly db: Database;
  readonly clock: Clock;
  readonly matcher: Matcher;
  readonly timers: Timers;
  readonly liveness: Liveness;
  readonly units: Units;
  /** The worker-task lifecycle every engine's task kinds run on. */
  readonly tasks: WorkerTasks;
  readonly #log: Logger;

  constructor(o: DispatchOptions) {
    this.db = o.db;
    this.clock = o.clock;
    this.#log = o.log.child({ component: "dispatch" });
    this.matcher = new Matcher(o.clock);
    // The outbox reaches the timers and liveness built just below; it runs only after commit.
    const out: Outbox = {
      db: o.db,
      log: this.#log,
      waiting: (q) => this.matcher.waiting(q),
      reserve: (q) => this.matcher.reserve<PollCtx, ClaimedTask>(q),
      notify: (q) => this.matcher.notify(q),
      settle: (t) => {
        this.matcher.settle(t);
        this.liveness.closed(t);
      },
      timerAdded: (ms) => this.timers.added(ms),
      claimed: (t) => this.liveness.claimed(t),
      forget: (ts) => this.liveness.forget(ts),
      giveBack: (t) => this.giveBack(t),
    };
    this.units = new Units(out);
    this.timers = new Timers(o.db, o.clock, o.log.child({ component: "timers" }), this.units);
    this.liveness = new Liveness(o.db, o.clock, o.log.child({ component: "nodes" }), this.units, { heartbeatMs: o.heartbeatMs, deadAfterMs: o.deadAfterMs });
    this.tasks = new WorkerTasks(this);
  }

  /** A server-wide value kept in the store, created with `init` the first time it is read. */
  meta(key: string, init: () => string): Promise<string> {
    return this.db.tx((sql) => metaValue(sql, key, init));
  }

  /**
   * Puts a claimed task whose answer never reached its worker back in its place (by token), through
   * the requeue handler of its queue, and returns its stream credit.
   */
  async unclaim(token: string): Promise<void> {
    this.liveness.released(token);
    await this.units.run(async (uow) => {
      const row = await taskByToken(uow.sql, uow.caps, token);
      if (row) await this.liveness.requeue(uow, row);
    });
    this.matcher.settle(token);
  }

  /**
   * Gives a claimed task back without waiting: its answer failed or never left. Should the
   * requeue fail (the database is down), the claim is an orphan that liveness requeues later.
   */
  giveBack(token: string): void {
    this.unclaim(token).catch((e: unknown) => this.#log.warn({ err: e }, "a claimed task could not be returned to its queue yet; it will be on recovery"));
  }
}
