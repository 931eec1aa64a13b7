// The JSONata query language of Step Functions, table-driven: every case is data in
// test/sfn/fixtures/jsonata/*.json (evaluate-*.json: evaluations; check.json: static checks).
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkJsonata,
  checkJsonataTemplate,
  checkStatesReferences,
  evaluateJsonata,
  evaluateJsonataAs,
  isJsonataExpression,
  type JsonataEnv,
  type JsonTypeName,
  type StatesMember,
  type StatesVariable,
} from "../../src/sfn/asl/jsonata.ts";
import { StatesError } from "../../src/sfn/asl/errors.ts";
import type { Json } from "../../src/sfn/asl/json.ts";

const dir = join(import.meta.dirname, "fixtures/jsonata");

interface EvaluateCase {
  name: string;
  template: Json;
  field?: string;
  expectType?: JsonTypeName;
  states?: Partial<StatesVariable>;
  variables?: Record<string, Json>;
  expect?: Json;
  error?: string;
  cause?: string;
  causeContains?: string;
}

/** The injected effects: a readable fake digest, a fixed UUID and random number. */
const env: JsonataEnv = {
  hash: (algorithm, data) => `${algorithm}:${data}`,
  uuid: () => "uuid-1",
  random: () => 0.25,
};

/** The time $now() and $millis() report in every case: 2024-03-14T01:59:26.535Z. */
const nowMs = Date.UTC(2024, 2, 14, 1, 59, 26, 535);

function load<T>(file: string): T {
  return JSON.parse(readFileSync(join(dir, file), "utf8")) as T;
}

const evaluateFiles = readdirSync(dir).filter((f) => f.startsWith("evaluate-") && f.endsWith(".json")).sort();

describe("evaluateJsonata", () => {
  it("has its fixture files", () => {
    expect(evaluateFiles.length).toBeGreaterThanOrEqual(4);
  });

  for (const file of evaluateFiles) {
    const { cases } = load<{ cases: EvaluateCase[] }>(file);
    describe(file, () => {
      it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
        const states: StatesVariable = { input: {}, context: {}, ...c.states };
        const bindings = { states, variables: c.variables ?? {}, nowMs };
        const field = c.field ?? "Output";
        const run = () => (c.expectType === undefined ? evaluateJsonata(c.template, bindings, env, field) : evaluateJsonataAs(c.template, bindings, env, field, c.expectType));
        if (c.error === undefined) {
          expect(await run()).toEqual(c.expect);
          return;
        }
        const failure = await run().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(failure).toBeInstanceOf(StatesError);
        const se = failure as StatesError;
        expect(se.error).toBe(c.error);
        if (c.cause !== undefined) expect(se.detail).toBe(c.cause);
        if (c.causeContains !== undefined) expect(se.detail).toContain(c.causeContains);
      });
    });
  }

  it("compiles each expression text once and evaluates it again with new bindings", async () => {
    const template = "{% $states.input.n * $k %}";
    const first = await evaluateJsonata(template, { states: { input: { n: 2 }, context: {} }, variables: { k: 3 }, nowMs }, env);
    const second = await evaluateJsonata(template, { states: { input: { n: 5 }, context: {} }, variables: { k: 7 }, nowMs }, env);
    expect([first, second]).toEqual([6, 35]);
  });

  it("evaluations running at once do not see each other's bindings or time", async () => {
    const template = ["{% $v %}", "{% $millis() %}", "{% $uuid() %}"];
    const runs = [1, 2, 3, 4].map((i) =>
      evaluateJsonata(template, { states: { input: {}, context: {} }, variables: { v: i }, nowMs: i }, { ...env, uuid: () => `u${i}` }),
    );
    expect(await Promise.all(runs)).toEqual([1, 2, 3, 4].map((i) => [i, i, `u${i}`]));
  });

  it("does not change the state input it reads", async () => {
    const input = { items: [3, 1, 2], o: { a: 1 } };
    const copy = structuredClone(input);
    await evaluateJsonata("{% [$sort($states.input.items), $merge([$states.input.o, {'b': 2}])] %}", { states: { input, context: {} }, nowMs }, env);
    expect(input).toEqual(copy);
  });
});

interface CheckFixture {
  isExpression: { value: string; expect: boolean }[];
  compile: { value: string; valid: boolean; message?: string; messageContains?: string }[];
  templates: { template: Json; where: string; problems?: string[]; problemsCount?: number }[];
  statesReferences: { template: Json; available: StatesMember[]; where: string; problems: string[] }[];
}

describe("static checks", () => {
  const fixture = load<CheckFixture>("check.json");

  it.each(fixture.isExpression.map((c) => [JSON.stringify(c.value), c] as const))("isJsonataExpression(%s)", (_n, c) => {
    expect(isJsonataExpression(c.value)).toBe(c.expect);
  });

  it.each(fixture.compile.map((c) => [c.value, c] as const))("checkJsonata(%s)", (_n, c) => {
    const problem = checkJsonata(c.value);
    if (c.valid) {
      expect(problem).toBeUndefined();
      return;
    }
    expect(problem).toBeDefined();
    if (c.message !== undefined) expect(problem).toBe(c.message);
    if (c.messageContains !== undefined) expect(problem).toContain(c.messageContains);
  });

  it.each(fixture.templates.map((c) => [c.where, c] as const))("checkJsonataTemplate at %s", (_n, c) => {
    const problems = checkJsonataTemplate(c.template, c.where);
    if (c.problems !== undefined) expect(problems).toEqual(c.problems);
    if (c.problemsCount !== undefined) expect(problems).toHaveLength(c.problemsCount);
  });

  it.each(fixture.statesReferences.map((c) => [c.where, c] as const))("checkStatesReferences at %s", (_n, c) => {
    expect(checkStatesReferences(c.template, c.available, c.where)).toEqual(c.problems);
  });
});
