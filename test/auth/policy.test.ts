// The policy engine, table-driven: every case in fixtures/policy/*.json is data (policies by
// name, the request, the expected decision and deciding statement), including SWF's
// access-control examples (swf-access-control.json); invalid.json lists documents the engine must refuse, with the path it names.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PolicyError, compilePolicy, evaluate } from "../../src/auth/policy.ts";

interface DecisionCase {
  name: string;
  use: string[];
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  /** Set: only a statement conditioned on this key may allow (a grant, not a blanket Allow). */
  grantKey?: string;
  decision: "Allow" | "Deny" | "ImplicitDeny";
  statement?: string;
}
interface DecisionFile {
  policies: Record<string, unknown>;
  cases: DecisionCase[];
}
interface InvalidCase {
  name: string;
  policy: unknown;
  error: string;
}

const dir = join(import.meta.dirname, "fixtures/policy");
const files = readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "invalid.json");

describe.each(files)("%s", (file) => {
  const data = JSON.parse(readFileSync(join(dir, file), "utf8")) as DecisionFile;
  it.each(data.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const policies = c.use.map((name) => {
      const p = data.policies[name];
      if (p === undefined) throw new Error(`${file}: case "${c.name}" uses unknown policy "${name}"`);
      return p;
    });
    const got = evaluate(policies, { action: c.action, resource: c.resource, context: c.context, grantKey: c.grantKey });
    expect(got).toEqual(c.statement === undefined ? { decision: c.decision } : { decision: c.decision, statement: c.statement });
    // The compiled form decides the same.
    expect(evaluate(policies.map((p, i) => compilePolicy(p, `policies[${i}]`)), { action: c.action, resource: c.resource, context: c.context, grantKey: c.grantKey })).toEqual(got);
  });
});

describe("invalid documents", () => {
  const data = JSON.parse(readFileSync(join(dir, "invalid.json"), "utf8")) as { cases: InvalidCase[] };
  it.each(data.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    let error: unknown;
    try {
      evaluate([c.policy], { action: "swf:X", resource: "*" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).message.startsWith(c.error)).toBe(true);
  });
});

it("has at least 80 decision cases", () => {
  const n = files.reduce((sum, f) => sum + (JSON.parse(readFileSync(join(dir, f), "utf8")) as DecisionFile).cases.length, 0);
  expect(n).toBeGreaterThanOrEqual(80);
});
