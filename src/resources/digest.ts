// The effects intrinsic functions need (hashing, UUIDs, randomness), made here with node:crypto
// so engine folders stay free of node:* imports and tests can pass deterministic fakes instead.
import { createHash, randomInt, randomUUID } from "node:crypto";

/** node:crypto's names for the algorithms States.Hash accepts. */
const algorithms: Readonly<Record<string, string>> = {
  MD5: "md5",
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

/**
 * Hashing, UUIDs and randomness for intrinsic functions: `hash` gives the lowercase hex digest of
 * the UTF-8 data (algorithms MD5, SHA-1, SHA-256, SHA-384, SHA-512; throws for any other),
 * `uuid` a random version 4 UUID, `random` a number in [0, 1) from the crypto source.
 */
export const cryptoIntrinsicEnv = {
  hash(algorithm: string, data: string): string {
    const name = algorithms[algorithm];
    if (name === undefined) throw new Error(`unsupported hash algorithm ${algorithm}`);
    return createHash(name).update(data, "utf8").digest("hex");
  },
  uuid(): string {
    return randomUUID();
  },
  random(): number {
    return randomInt(0, 2 ** 48 - 1) / 2 ** 48;
  },
};
