// Which Retrier or Catcher an error goes to, and how long a retry waits: AWS's rules.
//
// - An ErrorEquals list matches an error it names exactly, "States.ALL" matches any error, and
//   "States.TaskFailed" any error but States.Timeout;
// - neither wildcard matches States.DataLimitExceeded (a terminal error, caught only by name) or
//   States.Runtime (never retried nor caught, even by name);
// - the first Retrier whose list matches decides: when its MaxAttempts are used up (0: never
//   retry) the error goes to Catch; back-off n (from 0) waits
//   min(IntervalSeconds × BackoffRate^n, MaxDelaySeconds), times a random factor in [0, 1) with
//   JitterStrategy FULL;
// - a heartbeat timeout is reported as States.Timeout (AWS's histories) and is also matched by
//   "States.HeartbeatTimeout", a name AWS offers only in Retry and Catch (`aliases`).

import type { Catcher, Retrier } from "../asl/definition.ts";

/** The errors the wildcards leave out. */
const TERMINAL = new Set(["States.DataLimitExceeded", "States.Runtime"]);

/** True when `errorEquals` matches `error` or one of its `aliases` (see the rules above). */
export function errorMatches(errorEquals: readonly string[], error: string, aliases: readonly string[] = []): boolean {
  if (error === "States.Runtime") return false;
  for (const name of errorEquals) {
    if (name === error || aliases.includes(name)) return true;
    if (TERMINAL.has(error)) continue;
    if (name === "States.ALL") return true;
    if (name === "States.TaskFailed" && error !== "States.Timeout") return true;
  }
  return false;
}

/** The index of the first Retrier matching `error`, or -1. */
export function retrierFor(retriers: readonly Retrier[], error: string, aliases: readonly string[] = []): number {
  return retriers.findIndex((r) => errorMatches(r.errorEquals, error, aliases));
}

/** The first Catcher matching `error`, or undefined. */
export function catcherFor(catchers: readonly Catcher[], error: string, aliases: readonly string[] = []): Catcher | undefined {
  return catchers.find((c) => errorMatches(c.errorEquals, error, aliases));
}

/** Milliseconds before retry number `attempt` (0 for the first retry) of `retrier`; `random` gives [0, 1). Rounded to whole ms. */
export function backoffMs(retrier: Retrier, attempt: number, random: () => number): number {
  let seconds = retrier.intervalSeconds * retrier.backoffRate ** attempt;
  if (retrier.maxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.maxDelaySeconds);
  if (retrier.jitterStrategy === "FULL") seconds *= random();
  return Math.round(seconds * 1000);
}
