// Choice rules of the JSONPath query language: every comparison operator as AWS recorded it for
// values of every JSON type (Path forms included), timestamps, StringMatches, Is* tests,
// And/Or/Not, and the States.Runtime a missing Variable raises. Cases are data in fixtures/choice/.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Json, JsonObject } from "../../src/sfn/asl/json.ts";
import { StatesError } from "../../src/sfn/asl/errors.ts";
import { checkChoiceRule, chooseNext, comparisonOperators, evaluateChoiceRule } from "../../src/sfn/asl/choice.ts";

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/choice", name), "utf8")) as T;
}

const recorded = fixture<{ tables: { operator: string; cases: [Json, Json, boolean][] }[] }>("aws-recorded.json");
const rows = recorded.tables.flatMap((t) => t.cases.map(([variable, operand, holds]) => ({ operator: t.operator, variable, operand, holds })));

describe("comparisons as AWS recorded them", () => {
  it.each(rows)("$operator: $variable against $operand is $holds", ({ operator, variable, operand, holds }) => {
    const isPath = operator.endsWith("Path");
    const rule: JsonObject = { Variable: "$.Variable", [operator]: isPath ? "$.Value" : operand };
    expect(evaluateChoiceRule(rule, { input: { Variable: variable, Value: operand }, context: {}, variables: {} })).toBe(holds);
  });
});

const rules = fixture<{
  context: Json;
  variables: Record<string, Json>;
  cases: { name: string; input: Json; rule: JsonObject; expect?: boolean; error?: { error: string; detail: string } }[];
  checks: { name: string; rule: Json; problems: string[] }[];
  choose: { name: string; input: Json; choices: JsonObject[]; next: string | null }[];
}>("rules.json");

describe("evaluateChoiceRule", () => {
  it.each(rules.cases)("$name", (c) => {
    const scope = { input: c.input, context: rules.context, variables: rules.variables };
    if (c.error === undefined) {
      expect(evaluateChoiceRule(c.rule, scope)).toBe(c.expect);
      return;
    }
    let caught: unknown;
    try {
      evaluateChoiceRule(c.rule, scope);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StatesError);
    expect({ error: (caught as StatesError).error, detail: (caught as StatesError).detail }).toEqual(c.error);
  });

  it("every operator is exercised by the fixtures", () => {
    const used = new Set([...recorded.tables.map((t) => t.operator), ...rules.cases.flatMap((c) => JSON.stringify(c.rule).match(/"[A-Za-z]+"(?=:)/g) ?? []).map((k) => k.slice(1, -1))]);
    expect(Object.keys(comparisonOperators).filter((op) => !used.has(op))).toEqual([]);
  });
});

describe("chooseNext", () => {
  it.each(rules.choose)("$name", (c) => {
    expect(chooseNext(c.choices, { input: c.input, context: {}, variables: {} }) ?? null).toBe(c.next);
  });
});

describe("checkChoiceRule", () => {
  it.each(rules.checks)("$name", (c) => {
    expect(checkChoiceRule(c.rule, "/Choices[0]")).toEqual(c.problems);
  });
});
