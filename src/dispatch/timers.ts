// Durable timers: every timeout lives as a row in the store and fires through this loop. The loop
// sleeps until the earliest row is due (a timer of the injected clock, re-armed whenever an
// earlier timer is added), then takes due rows one at a time: the handler deletes the row in the same transaction
// as its effects, so a timer fires exactly once, also with several nodes (the delete of a row
// another node took matches nothing) and after a restart (rows that fell due while the server was
// down fire at start).
import type { Database } from "../store/db.ts";
import { dueTimers, nextTimerMs, takeTimer, type TimerRow } from "../store/dispatch.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "pino";
import type { UnitOfWork, Units } from "./unit-of-work.ts";

/** Applies a timer's effects in a unit of work inside the transaction that took it. */
export type TimerHandler = (uow: UnitOfWork, timer: TimerRow) => Promise<void>;

/** Longest sleep between looks at the table: a safety net for timers added by other nodes. */
const maxSleepMs = 5_000;

/** The timer loop of one node. */
export class Timers {
  #db: Database;
  #clock: Clock;
  #log: Logger;
  #units: Units;
  #handlers = new Map<string, TimerHandler>();
  /** Cancels the pending wake-up of the loop, if one is armed. */
  #cancel: (() => void) | undefined;
  #armedFor = Number.POSITIVE_INFINITY;
  #running = false;
  #again = false;
  #stopped = true;

  constructor(db: Database, clock: Clock, log: Logger, units: Units) {
    this.#db = db;
    this.#units = units;
    this.#clock = clock;
    this.#log = log;
  }

  /** Registers the handler of a timer kind; a kind has exactly one handler. */
  on(kind: string, handler: TimerHandler): void {
    if (this.#handlers.has(kind)) throw new Error(`timer kind ${kind} already has a handler`);
    this.#handlers.set(kind, handler);
  }

  /** Starts the loop. */
  start(): void {
    this.#stopped = false;
    this.kick();
  }

  /** Stops the loop; a pass under way finishes its current timer. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** A timer due at `fireMs` was committed: make sure the loop wakes by then. */
  added(fireMs: number): void {
    if (this.#stopped) return;
    if (fireMs < this.#armedFor) this.#arm(fireMs);
  }

  /** Runs a pass now. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    void this.#pass();
  }

  #arm(atMs: number): void {
    this.#cancel?.();
    this.#armedFor = atMs;
    const delay = Math.max(0, Math.min(atMs - this.#clock.now(), maxSleepMs));
    this.#cancel = this.#clock.setTimer(
      () => {
        this.#cancel = undefined;
        this.#armedFor = Number.POSITIVE_INFINITY;
        this.kick();
      },
      delay,
      { unref: true },
    );
  }

  async #pass(): Promise<void> {
    this.#running = true;
    try {
      do {
        this.#again = false;
        for (;;) {
          if (this.#stopped) return;
          const due = await this.#db.tx((sql) => dueTimers(sql, this.#clock.now(), 64));
          if (due.length === 0) break;
          for (const t of due) {
            if (this.#stopped) return;
            await this.#fire(t.id);
          }
        }
      } while (this.#again);
      const next = await this.#db.tx((sql) => nextTimerMs(sql));
      if (!this.#stopped) this.#arm(next ?? this.#clock.now() + maxSleepMs);
    } catch (e) {
      this.#log.error({ err: e }, "timer pass failed; retrying");
      if (!this.#stopped) this.#arm(this.#clock.now() + 1_000);
    } finally {
      this.#running = false;
    }
  }

  async #fire(id: number): Promise<void> {
    const after = await this.#db.tx(async (sql) => {
      const t = await takeTimer(sql, id);
      if (!t) return undefined;
      const h = this.#handlers.get(t.kind);
      if (!h) {
        this.#log.warn({ kind: t.kind }, "timer of unknown kind dropped");
        return undefined;
      }
      return this.#units.within(sql, (uow) => h(uow, t));
    });
    if (after) after();
  }
}
