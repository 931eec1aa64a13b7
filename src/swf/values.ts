// Value rules of SWF that the model states only in prose: durations, priorities, identifiers.
import { coralViolation } from "../faults.ts";

/** Longest duration SWF accepts, in seconds (one year). */
export const maxDurationSeconds = 31_536_000;

/**
 * Parses an SWF duration ("NONE" or whole seconds). Returns the seconds, or undefined for NONE.
 * Throws ValidationException naming `path` for anything else.
 */
export function parseDuration(value: string, path: string, allowNone = true): number | undefined {
  if (value === "NONE") {
    if (allowNone) return undefined;
    throw invalid(value, path, "Member must be a whole number of seconds; NONE is not allowed here");
  }
  if (!/^\d+$/.test(value)) throw invalid(value, path, allowNone ? "Member must be a whole number of seconds or NONE" : "Member must be a whole number of seconds");
  const n = Number(value);
  if (n > maxDurationSeconds) throw invalid(value, path, `Member must be at most ${maxDurationSeconds} seconds (one year)`);
  return n;
}

/** Checks a duration when present. */
export function checkDuration(value: string | undefined, path: string, allowNone = true): void {
  if (value !== undefined) parseDuration(value, path, allowNone);
}

/** Parses a task priority: a string holding a 32-bit signed integer. */
export function parsePriority(value: string | undefined, path: string): number {
  if (value === undefined || value === "") return 0;
  if (!/^[+-]?\d+$/.test(value)) throw invalid(value, path, "Member must be an integer from -2147483648 to 2147483647");
  const n = Number(value);
  if (n < -2147483648 || n > 2147483647) throw invalid(value, path, "Member must be an integer from -2147483648 to 2147483647");
  return n;
}

/** Normalizes a valid priority string ("+05" -> "5"). */
export function priorityString(value: string | undefined, path: string): string | undefined {
  return value === undefined ? undefined : String(parsePriority(value, path));
}

/** Checks the workflow execution retention period: "NONE" or 0 to 90 days. */
export function parseRetentionDays(value: string, path: string): number {
  if (value === "NONE") return 0;
  if (!/^\d+$/.test(value) || Number(value) > 90) throw invalid(value, path, "Member must be NONE or a whole number of days from 0 to 90");
  return Number(value);
}

function invalid(value: string, path: string, constraint: string) {
  return coralViolation(value, path, constraint);
}
