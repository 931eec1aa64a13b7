// Identifiers the engines hand out, made here so engine folders need no node:* import.
import { randomBytes, randomInt, randomUUID } from "node:crypto";

/** A run id: the 32 hex digits of a random UUID followed by 12 random hex digits. */
export function newRunId(): string {
  return randomUUID().replaceAll("-", "") + randomBytes(6).toString("hex");
}

const alphanumerics = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The part after `df-` of a Data Pipeline pipeline id: 19 upper-case letters and digits, uniformly random, as AWS spells them. */
export function newPipelineIdSuffix(): string {
  let id = "";
  for (let i = 0; i < 19; i++) id += alphanumerics[randomInt(alphanumerics.length)];
  return id;
}
