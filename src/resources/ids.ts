// Identifiers the engines hand out, made here so engine folders need no node:* import.
import { randomBytes, randomUUID } from "node:crypto";

/** A run id: the 32 hex digits of a random UUID followed by 12 random hex digits. */
export function newRunId(): string {
  return randomUUID().replaceAll("-", "") + randomBytes(6).toString("hex");
}
