// Task and page tokens bound to the caller's account (with --auth sigv4). Every token the server
// hands out on either route family (SWF and Step Functions `taskToken`, every `nextPageToken`,
// Data Pipeline's `taskId`) is sealed for the account of the principal it is handed to:
//
//   tg1.<base64url(iv[12] | AES-256-GCM(token) | tag[16])>, the account as associated data
//
// so a token presented by a principal of another account does not open and is refused (the
// service's own error for an unknown token), and the token inside is never shown. A token that is
// not sealed is passed on unchanged: under auth every token reaches callers sealed, and the ones
// inside stay unguessable (144 random bits, or HMAC-signed page tokens). The key is derived from
// the principals file's secrets, so every node with the same file opens every other's tokens; the
// key before the last reload is still accepted, so tokens held across one reload keep working.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { Fault, datapipeline, sfn, swf, validationError } from "../faults.ts";

const PREFIX = "tg1.";

/** Members holding a token, by SigV4 service. */
const TOKEN_MEMBERS: Readonly<Record<string, ReadonlySet<string>>> = {
  swf: new Set(["taskToken", "nextPageToken"]),
  states: new Set(["taskToken", "nextPageToken"]),
  datapipeline: new Set(["taskId", "marker"]),
};

/** Deepest nesting walked looking for tokens (requests are checked to 100 levels by the JSON reader). */
const MAX_DEPTH = 64;

/** The AES-256 key of a set of principal secrets (order does not matter). */
export function tokenKey(secrets: readonly string[]): Buffer {
  const h = createHash("sha256").update("taskgate token binding v1\n");
  for (const s of [...secrets].sort()) h.update(`${s}\n`);
  return h.digest();
}

/** Seals `token` for `account` with `key`. */
export function seal(token: string, account: string, key: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(account));
  const body = Buffer.concat([c.update(token, "utf8"), c.final()]);
  return PREFIX + Buffer.concat([iv, body, c.getAuthTag()]).toString("base64url");
}

/**
 * The token inside a sealed one when it opens for `account` with one of `keys`; the token
 * unchanged when it is not sealed; undefined when it is sealed but does not open.
 */
export function open(token: string, account: string, keys: readonly Buffer[]): string | undefined {
  if (!token.startsWith(PREFIX)) return token;
  const raw = Buffer.from(token.slice(PREFIX.length), "base64url");
  if (raw.length < 12 + 16) return undefined;
  for (const key of keys) {
    try {
      const d = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
      d.setAAD(Buffer.from(account));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString("utf8");
    } catch {
      // another key, or not this account's
    }
  }
  return undefined;
}

/** The refusal of a token that does not open, as the service answers an unknown token. */
function refusal(service: string, member: string): Fault {
  const why = "it was issued to another account";
  if (service === "swf") return member === "nextPageToken" ? validationError(`Invalid nextPageToken: ${why}.`) : swf.unknownResource(`Unknown task token: ${why}.`);
  if (service === "states") return sfn.invalidToken(`Invalid Token: the ${member} was issued to another account.`);
  return member === "marker" ? datapipeline.invalidRequest(`Invalid marker: ${why}.`) : datapipeline.taskNotFound(`The task was not found: its taskId was issued to another account.`);
}

/**
 * Replaces, in place, every token member of `value` (a request or response as JSON, or a
 * protobuf-es message: plain objects whose members have the JSON names) by `map(token, member)`.
 */
export function mapTokens(service: string, value: unknown, map: (token: string, member: string) => string): void {
  const members = TOKEN_MEMBERS[service];
  if (members === undefined) return;
  const walk = (v: unknown, depth: number): void => {
    if (depth > MAX_DEPTH || typeof v !== "object" || v === null || ArrayBuffer.isView(v)) return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (members.has(k) && typeof x === "string" && x !== "") o[k] = map(x, k);
      else if (typeof x === "object") walk(x, depth + 1);
    }
  };
  walk(value, 0);
}

/** Seals the tokens of a response for `account` (in place). */
export function sealTokens(service: string, value: unknown, account: string, key: Buffer): void {
  mapTokens(service, value, (t) => seal(t, account, key));
}

/** Opens the tokens of a request presented by `account` (in place); throws the service's refusal for one that does not open. */
export function openTokens(service: string, value: unknown, account: string, keys: readonly Buffer[]): void {
  mapTokens(service, value, (t, member) => {
    const opened = open(t, account, keys);
    if (opened === undefined) throw refusal(service, member);
    return opened;
  });
}
