// Page tokens of list and history calls: base64url(JSON body) + "." + HMAC-SHA256 (truncated to
// 22 characters, 132 bits), valid 24 hours as AWS's are. The secret is made once per database
// and kept in the store, so every node accepts the tokens of every other, also across restarts.
// A token is tied to the operation that issued it by the `k` member of its body.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../dispatch/index.ts";
import { validationError } from "../faults.ts";

/** How long page tokens stay valid (AWS: 24 hours). */
const lifetimeMs = 24 * 3600 * 1000;

/** Issues and reads signed page tokens. */
export class PageTokens {
  readonly #clock: Clock;
  #secret: Buffer | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Loads the secret through `meta` (a server-wide value, created with the given init when absent). */
  async init(meta: (key: string, init: () => string) => Promise<string>): Promise<void> {
    this.#secret = Buffer.from(await meta("page-token-secret", () => randomBytes(32).toString("hex")), "hex");
  }

  /** A token carrying `body` (whose `k` names the issuing operation). */
  issue<B extends { k: string }>(body: B): string {
    const json = Buffer.from(JSON.stringify({ ...body, x: this.#clock.now() + lifetimeMs })).toString("base64url");
    return `${json}.${this.#mac(json)}`;
  }

  /** The body of a token issued by operation `kind`, or ValidationException. */
  read<B extends { k: string }>(token: string, kind: string): B {
    const [json, mac] = token.split(".");
    if (!json || !mac) throw validationError("Invalid nextPageToken.");
    const expect = Buffer.from(this.#mac(json));
    const got = Buffer.from(mac);
    if (expect.length !== got.length || !timingSafeEqual(expect, got)) throw validationError("Invalid nextPageToken.");
    const body = JSON.parse(Buffer.from(json, "base64url").toString()) as B & { x: number };
    if (body.k !== kind) throw validationError("The nextPageToken was issued by another operation.");
    if (body.x < this.#clock.now()) throw validationError("Specified token has exceeded its maximum lifetime");
    return body;
  }

  #mac(s: string): string {
    if (!this.#secret) throw new Error("page tokens used before init()");
    return createHmac("sha256", this.#secret).update(s).digest("base64url").slice(0, 22);
  }
}
