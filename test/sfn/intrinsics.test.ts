// Intrinsic functions of the JSONPath query language: AWS's documented examples, results AWS
// recorded for edge inputs, each failure with its error name and cause, and the static checks a
// definition check relies on. Cases are data in fixtures/intrinsics/.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Json } from "../../src/sfn/asl/json.ts";
import { isJsonObject } from "../../src/sfn/asl/json.ts";
import { StatesError } from "../../src/sfn/asl/errors.ts";
import { IntrinsicSyntaxError, evaluateIntrinsic, isIntrinsic, parseIntrinsic, type IntrinsicEnv } from "../../src/sfn/asl/intrinsics.ts";
import { PathSyntaxError } from "../../src/sfn/asl/paths.ts";
import { cryptoIntrinsicEnv } from "../../src/resources/digest.ts";

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/intrinsics", name), "utf8")) as T;
}

/** Expands the fixtures' shorthand '@<n><c>' (the character c repeated n times) anywhere in a value. */
function expand(v: Json): Json {
  if (typeof v === "string") {
    const m = /^@(\d+)(.)$/su.exec(v);
    return m ? m[2].repeat(Number(m[1])) : v;
  }
  if (Array.isArray(v)) return v.map(expand);
  if (isJsonObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x)]));
  return v;
}

/** Real hashing, a fixed UUID and a fixed random number. */
function env(random = 0.5): IntrinsicEnv {
  return { hash: cryptoIntrinsicEnv.hash, uuid: () => "ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8", random: () => random };
}

const evaluate = fixture<{
  cases: { name: string; call: string; input: Json; context?: Json; variables?: Record<string, Json>; random?: number; expect?: Json; error?: { error: string; detail: string } }[];
}>("evaluate.json");

describe("evaluateIntrinsic", () => {
  it.each(evaluate.cases)("$name", (c) => {
    const scope = { input: expand(c.input), context: c.context ?? {}, variables: c.variables ?? {}, field: "f.$" };
    const run = () => evaluateIntrinsic(c.call, scope, env(c.random));
    if (c.error === undefined) {
      expect(run()).toEqual(c.expect);
      return;
    }
    let caught: unknown;
    try {
      run();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StatesError);
    const e = caught as StatesError;
    expect({ error: e.error, detail: e.detail }).toEqual(c.error);
  });
});

describe("cryptoIntrinsicEnv", () => {
  it("gives version 4 UUIDs and numbers in [0, 1)", () => {
    expect(cryptoIntrinsicEnv.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (let i = 0; i < 100; i++) {
      const r = cryptoIntrinsicEnv.random();
      expect(r >= 0 && r < 1).toBe(true);
    }
  });

  it("refuses an algorithm States.Hash does not accept", () => {
    expect(() => cryptoIntrinsicEnv.hash("SHA-3", "x")).toThrow("unsupported hash algorithm SHA-3");
  });
});

const syntax = fixture<{ isIntrinsic: [string, boolean][]; cases: { call: string; args?: number; error?: string }[] }>("syntax.json");

describe("isIntrinsic", () => {
  it.each(syntax.isIntrinsic)("%s is %s", (text, want) => {
    expect(isIntrinsic(text)).toBe(want);
  });
});

describe("parseIntrinsic", () => {
  it.each(syntax.cases)("$call", (c) => {
    if (c.error === undefined) {
      expect(parseIntrinsic(c.call).args).toHaveLength(c.args ?? 0);
      return;
    }
    expect(() => parseIntrinsic(c.call)).toThrow(IntrinsicSyntaxError);
    expect(() => parseIntrinsic(c.call)).toThrow(PathSyntaxError);
    expect(() => parseIntrinsic(c.call)).toThrow(c.error);
  });
});
