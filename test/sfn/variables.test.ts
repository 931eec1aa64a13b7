// Workflow variables, table-driven: every case is data in test/sfn/fixtures/variables/*.json
// (names.json: the name rules; workflows.json: scopes across states; limits.json: size limits).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkVariableName,
  checkVariableScopes,
  evaluateAssignJsonata,
  evaluateAssignJsonPath,
  VariableScope,
} from "../../src/sfn/asl/variables.ts";
import { evaluateJsonata, type JsonataEnv, type StatesVariable } from "../../src/sfn/asl/jsonata.ts";
import { StatesError } from "../../src/sfn/asl/errors.ts";
import { isJsonObject, type Json, type JsonObject } from "../../src/sfn/asl/json.ts";

const dir = join(import.meta.dirname, "fixtures/variables");

function load<T>(file: string): T {
  return JSON.parse(readFileSync(join(dir, file), "utf8")) as T;
}

const env: JsonataEnv = { hash: (a, d) => `${a}:${d}`, uuid: () => "uuid-1", random: () => 0.5 };
const nowMs = Date.UTC(2024, 0, 1);

interface Expected {
  error?: string;
  cause?: string;
  causeContains?: string;
}

/** Runs `action`; checks it fails as `expected` says when it names an error, and returns its value otherwise. */
async function outcome<T>(action: () => T | Promise<T>, expected: Expected): Promise<T | undefined> {
  if (expected.error === undefined) return action();
  const failure = await Promise.resolve()
    .then(action)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(failure).toBeInstanceOf(StatesError);
  const se = failure as StatesError;
  expect(se.error).toBe(expected.error);
  if (expected.cause !== undefined) expect(se.detail).toBe(expected.cause);
  if (expected.causeContains !== undefined) expect(se.detail).toContain(expected.causeContains);
  return undefined;
}

describe("checkVariableName", () => {
  const { cases } = load<{ cases: { name: string; valid: boolean; message?: string; messageContains?: string }[] }>("names.json");
  it.each(cases.map((c) => [JSON.stringify(c.name), c] as const))("%s", (_n, c) => {
    const problem = checkVariableName(c.name);
    if (c.valid) {
      expect(problem).toBeUndefined();
      return;
    }
    expect(problem).toBeDefined();
    if (c.message !== undefined) expect(problem).toBe(c.message);
    if (c.messageContains !== undefined) expect(problem).toContain(c.messageContains);
  });
});

describe("checkVariableScopes", () => {
  const { cases } = load<{ cases: { name: string; definition: Json; problems: string[] }[] }>("scopes.json");
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    expect(checkVariableScopes(c.definition)).toEqual(c.problems);
  });
});

type Step =
  | { open: string; parent?: string }
  | ({ state: string; language?: "JSONata" | "JSONPath"; input: Json; result?: Json; errorOutput?: Json; assign?: JsonObject; output?: Json; expectOutput?: Json; expectAssigned?: Record<string, string> } & Expected)
  | { scope: string; expectVisible?: Record<string, Json>; expectOwn?: Record<string, Json>; expectStored?: Json }
  | { roundTrip: string; parent?: string }
  | ({ assignValues: Record<string, Json>; scope: string; mutateAfter?: boolean } & Expected);

describe("variables across states", () => {
  const { cases } = load<{ cases: { name: string; steps: Step[] }[] }>("workflows.json");
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_n, c) => {
    const scopes = new Map<string, VariableScope>();
    const scope = (name: string): VariableScope => {
      const s = scopes.get(name);
      if (s === undefined) throw new Error(`fixture: no scope '${name}'`);
      return s;
    };
    for (const step of c.steps) {
      if ("open" in step) {
        scopes.set(step.open, new VariableScope(step.parent === undefined ? undefined : scope(step.parent)));
      } else if ("state" in step) {
        // One state: Output and Assign both read the variables from before the state, then Assign applies.
        const s = scope(step.state);
        const before = s.visible();
        const states: StatesVariable = { input: step.input, context: {} };
        if ("result" in step) states.result = step.result;
        if ("errorOutput" in step) states.errorOutput = step.errorOutput;
        const bindings = { states, variables: before, nowMs };
        await outcome(async () => {
          if (step.output !== undefined) {
            const output = await evaluateJsonata(step.output, bindings, env, "Output");
            expect(output).toEqual(step.expectOutput);
          }
          if (step.assign === undefined) return;
          const assign = step.assign;
          const values =
            step.language === "JSONPath"
              ? evaluateAssignJsonPath(assign, { input: step.input, context: {}, variables: before }, env)
              : await evaluateAssignJsonata(assign, bindings, env);
          const assigned = s.assign(values);
          if (step.expectAssigned !== undefined) expect(assigned).toEqual(step.expectAssigned);
        }, step);
      } else if ("roundTrip" in step) {
        const stored = JSON.parse(JSON.stringify(scope(step.roundTrip).toJson())) as Json;
        scopes.set(step.roundTrip, VariableScope.fromJson(stored, step.parent === undefined ? undefined : scope(step.parent)));
      } else if ("assignValues" in step) {
        const values = structuredClone(step.assignValues);
        await outcome(() => scope(step.scope).assign(values), step);
        if (step.mutateAfter) for (const v of Object.values(values)) if (isJsonObject(v)) v.changed = true;
      } else {
        const s = scope(step.scope);
        if (step.expectVisible !== undefined) expect(s.visible()).toEqual(step.expectVisible);
        if (step.expectOwn !== undefined) expect(s.own()).toEqual(step.expectOwn);
        if (step.expectStored !== undefined) expect(s.toJson()).toEqual(step.expectStored);
      }
    }
  });
});

interface LimitCase extends Expected {
  name: string;
  assigns?: Record<string, Json>[];
  assignsRepeat?: { count: number; size: number; sameName?: boolean };
  outer?: { count: number; size: number };
  inBranch?: boolean;
  expectTotal?: number;
}

/** Expands {"$string": N, "char"?: c} into a string of N characters. */
function expand(value: Json): Json {
  if (isJsonObject(value) && typeof value.$string === "number") {
    return (typeof value.char === "string" ? value.char : "a").repeat(value.$string);
  }
  return value;
}

describe("size limits", () => {
  const { cases } = load<{ cases: LimitCase[] }>("limits.json");
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_n, c) => {
    const top = new VariableScope();
    for (let i = 0; i < (c.outer?.count ?? 0); i++) top.assign({ [`outer${i}`]: "a".repeat(c.outer?.size ?? 0) });
    const target = c.inBranch ? new VariableScope(top) : top;
    const assigns: Record<string, Json>[] = (c.assigns ?? []).map((a) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, expand(v)])));
    if (c.assignsRepeat !== undefined) {
      const { count, size, sameName } = c.assignsRepeat;
      for (let i = 0; i < count; i++) assigns.push({ [sameName ? "v" : `v${i}`]: "a".repeat(size) });
    }
    // Apply the Assigns in order; the first that fails must leave the scope as it was before it.
    let applied = target.totalBytes();
    await outcome(() => {
      for (const a of assigns) {
        target.assign(a);
        applied = target.totalBytes();
      }
    }, c);
    expect(target.totalBytes()).toBe(applied);
    if (c.expectTotal !== undefined) expect(target.totalBytes()).toBe(c.expectTotal);
  });
});
