// What every service's long polls and streams share: the hold time from the method's
// long_poll_seconds option, shortened to the client's deadline when it sent one, the poll options
// handed to the engine (abort signal, delivery tracking), and the stream credit.
import { getOption, type DescMethod } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { long_poll_seconds } from "../../gen/taskgate/common/v1/options_pb.ts";
import type { PollOptions } from "../dispatch/index.ts";
import { coralViolation } from "../faults.ts";
import { deliveryKey } from "../request/delivery.ts";

/** How the services hold long polls. */
export interface PollConfig {
  /** Overrides every long-poll hold time, in seconds (tests use fractions). */
  longPollSeconds?: number;
}

/**
 * The hold time of a long-poll method, in ms: its option (or the override), ended a little early
 * (92–97 %) with jitter so a client whose socket timeout equals the documented hold still receives
 * the empty answer, and so that many idle pollers do not all come back at the same instant.
 */
export function holdMs(method: DescMethod, cfg: PollConfig): number {
  const seconds = cfg.longPollSeconds ?? optionSeconds(method);
  return Math.max(1, Math.round(seconds * 1000 * (0.92 + Math.random() * 0.05)));
}

const holdOption = new WeakMap<DescMethod, number>();
/** A method's long_poll_seconds option (0 when absent), decoded once (getOption decodes the option bytes on every call). */
export function optionSeconds(method: DescMethod): number {
  let v = holdOption.get(method);
  if (v === undefined) holdOption.set(method, (v = getOption(method, long_poll_seconds)));
  return v;
}

/**
 * The least time kept between the empty answer of a long poll and the client's deadline, in ms:
 * room for the request's and the answer's way over the network (the client's timer started
 * before the request left, and a browser's first call also waits for its CORS preflight) and
 * for a busy event loop. At 100 ms, a browser's first long poll on a cold server once missed a
 * 1 s deadline.
 */
export const DEADLINE_MARGIN_MS = 200;

/**
 * The hold time of a long poll whose client sent a deadline (`grpc-timeout`,
 * `connect-timeout-ms`; `remainingMs` is what is left of it): the configured hold, or, when the
 * deadline comes first, the deadline less max(200 ms, 5 % of it), so the empty answer reaches the
 * client before its own timer fires. At least 0 (claim once, answer at once); without a deadline
 * (the AWS route) the configured hold unchanged.
 */
export function deadlineHoldMs(configuredMs: number, remainingMs: number | undefined): number {
  if (remainingMs === undefined) return configuredMs;
  const margin = Math.max(DEADLINE_MARGIN_MS, remainingMs * 0.05);
  return Math.max(0, Math.min(configuredMs, Math.floor(remainingMs - margin)));
}

/** Poll options from a handler context: hold time (within the client's deadline), abort signal, delivery tracking. */
export function pollOptions(method: DescMethod, ctx: HandlerContext, cfg: PollConfig): PollOptions {
  const delivery = ctx.values.get(deliveryKey);
  return {
    holdMs: deadlineHoldMs(holdMs(method, cfg), ctx.timeoutMs()),
    signal: ctx.signal,
    onClaimed: delivery
      ? ({ undo, delivered }) => {
          delivery.onUndelivered(undo);
          delivery.onDelivered(delivered);
        }
      : undefined,
  };
}

/** A stream's credit: 1 to 10,000, default 1. */
export function maxInFlight(n: number | undefined): number {
  if (n === undefined) return 1;
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw coralViolation(String(n), "maxInFlight", "Member must have value between 1 and 10000");
  return n;
}
