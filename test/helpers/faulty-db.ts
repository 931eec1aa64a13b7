// A Database wrapper that fails chosen statements or transactions on purpose, to test what each
// failure between a claim and its answer leaves behind. Faults are armed by a test and fire once.
import type { Database, Sql } from "../../src/store/db.ts";
import { serviceUnavailable, internalFailure } from "../../src/faults.ts";

/** One armed fault. */
export interface FaultPlan {
  /** The statement whose SQL matches this fails (before it runs), or with `afterCommit`, marks its transaction. */
  match: RegExp;
  /**
   * `statement`: the matching statement fails as a lost connection does (the transaction rolls back).
   * `afterCommit`: the transaction holding the matching statement commits, but its caller is told
   * it failed (a COMMIT whose answer was lost).
   */
  mode: "statement" | "afterCommit";
  /** How many matching transactions to fail (default 1). */
  times?: number;
}

/** The wrapper and its controls. */
export interface FaultyDatabase extends Database {
  /** Arms a fault; it fires on the next matching statements. */
  arm(plan: FaultPlan): void;
  /** How many armed faults fired so far. */
  readonly fired: number;
  /** Drops every armed fault that has not fired. */
  disarm(): void;
}

/** Wraps `inner` with armable faults. */
export function faultyDatabase(inner: Database): FaultyDatabase {
  let plans: { plan: FaultPlan; left: number }[] = [];
  let fired = 0;
  const take = (sqlText: string, mode: FaultPlan["mode"]): boolean => {
    const p = plans.find((x) => x.plan.mode === mode && x.left > 0 && x.plan.match.test(sqlText));
    if (!p) return false;
    p.left--;
    fired++;
    if (p.left === 0) plans = plans.filter((x) => x !== p);
    return true;
  };
  const wrap = (sql: Sql, tx: { lost: boolean }): Sql => {
    const check = (q: string): void => {
      if (take(q, "statement")) throw serviceUnavailable(new Error(`injected fault at: ${q.slice(0, 80)}`));
      if (!tx.lost && take(q, "afterCommit")) tx.lost = true;
    };
    return {
      all: async (q, p) => (check(q), sql.all(q, p)),
      get: async (q, p) => (check(q), sql.get(q, p)),
      run: async (q, p) => (check(q), sql.run(q, p)),
    };
  };
  return {
    caps: inner.caps,
    async tx(fn) {
      const state = { lost: false };
      const value = await inner.tx((sql) => fn(wrap(sql, state)));
      if (state.lost) throw internalFailure(new Error("injected fault: the connection was lost during COMMIT"));
      return value;
    },
    publishInTx: (sql, channel, payload) => inner.publishInTx(sql, channel, payload),
    publish: (channel, payload) => inner.publish(channel, payload),
    subscribe: (channel, fn) => inner.subscribe(channel, fn),
    healthy: () => inner.healthy(),
    close: () => inner.close(),
    arm(plan) {
      plans.push({ plan, left: plan.times ?? 1 });
    },
    get fired() {
      return fired;
    },
    disarm() {
      plans = [];
    },
  };
}
