// The data flow of a JSONPath state: payload templates (Parameters, ResultSelector, ItemSelector,
// Assign) with paths, the context object, variables and intrinsics; their definition check; and
// InputPath -> Parameters -> ResultSelector -> ResultPath -> OutputPath in two calls. AWS's
// documented examples and AWS's causes; cases are data in fixtures/jsonpath/.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Json } from "../../src/sfn/asl/json.ts";
import { StatesError } from "../../src/sfn/asl/errors.ts";
import type { IntrinsicEnv } from "../../src/sfn/asl/intrinsics.ts";
import { checkTemplate, evaluateTemplate } from "../../src/sfn/asl/template.ts";
import {
  failFieldAt,
  integerFieldAt,
  itemsAt,
  percentageFieldAt,
  stateInput,
  stateOutput,
  waitSecondsAt,
  waitTimestampAt,
  type DataFlowFields,
  type DataFlowScope,
} from "../../src/sfn/asl/data-flow.ts";

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/jsonpath", name), "utf8")) as T;
}

interface ErrorCase {
  error: string;
  detail: string;
}

function statesError(call: () => unknown): ErrorCase {
  try {
    call();
  } catch (e) {
    if (e instanceof StatesError) return { error: e.error, detail: e.detail };
    throw e;
  }
  throw new Error("expected a StatesError");
}

const env: IntrinsicEnv = { hash: (algorithm, data) => `${algorithm}:${data}`, uuid: () => "uuid-1", random: () => 0.5 };

const templates = fixture<{
  context: Json;
  variables: Record<string, Json>;
  cases: { name: string; input: Json; template: Json; expect?: Json; error?: ErrorCase }[];
  checks: { template: Json; problems: string[] }[];
}>("templates.json");

describe("evaluateTemplate", () => {
  it.each(templates.cases)("$name", (c) => {
    const scope = { input: c.input, context: templates.context, variables: templates.variables };
    const before = structuredClone(c.template);
    if (c.error !== undefined) expect(statesError(() => evaluateTemplate(c.template, scope, env))).toEqual(c.error);
    else expect(evaluateTemplate(c.template, scope, env)).toEqual(c.expect);
    expect(c.template).toEqual(before);
  });
});

describe("checkTemplate", () => {
  it.each(templates.checks)("$problems", (c) => {
    expect(checkTemplate(c.template, "/States/S/Parameters")).toEqual(c.problems);
  });
});

const flow = fixture<{
  context: Json;
  cases: { name: string; fields: DataFlowFields; input: Json; effectiveInput?: Json; result?: Json; output?: Json; inputError?: ErrorCase; outputError?: ErrorCase }[];
  items: { name: string; itemsPath?: string; input: Json; context?: Json; variables?: Record<string, Json>; expect?: Json; error?: ErrorCase }[];
}>("data-flow.json");

describe("stateInput and stateOutput", () => {
  it.each(flow.cases)("$name", (c) => {
    const scope = { context: flow.context, variables: {} };
    if (c.inputError !== undefined) {
      expect(statesError(() => stateInput(c.fields, c.input, scope, env))).toEqual(c.inputError);
      return;
    }
    expect(stateInput(c.fields, c.input, scope, env)).toEqual(c.effectiveInput);
    const result = c.result ?? null;
    if (c.outputError !== undefined) expect(statesError(() => stateOutput(c.fields, c.input, result, scope, env))).toEqual(c.outputError);
    else expect(stateOutput(c.fields, c.input, result, scope, env)).toEqual(c.output);
  });
});

describe("itemsAt", () => {
  it.each(flow.items)("$name", (c) => {
    const scope = { context: c.context ?? {}, variables: c.variables ?? {} };
    if (c.error !== undefined) expect(statesError(() => itemsAt(c.itemsPath, c.input, scope))).toEqual(c.error);
    else expect(itemsAt(c.itemsPath, c.input, scope)).toEqual(c.expect);
  });
});

const fields = fixture<{
  context: Json;
  cases: { name: string; fn: string; field?: string; path: string; input: Json; expect?: Json; error?: ErrorCase }[];
}>("state-fields.json");

/** Runs the function a state-field case names. */
function runField(c: (typeof fields.cases)[number], scope: DataFlowScope): Json {
  switch (c.fn) {
    case "waitSecondsAt":
      return waitSecondsAt(c.path, c.input, scope);
    case "waitTimestampAt":
      return waitTimestampAt(c.path, c.input, scope);
    case "integerFieldAt":
      return integerFieldAt(c.field ?? "", c.path, c.input, scope);
    case "percentageFieldAt":
      return percentageFieldAt(c.path, c.input, scope);
    case "failFieldAt":
      return failFieldAt(c.field === "CausePath" ? "CausePath" : "ErrorPath", c.path, c.input, scope, env);
  }
  throw new Error(`unknown function ${c.fn}`);
}

describe("state *Path fields", () => {
  it.each(fields.cases)("$name", (c) => {
    const scope = { context: fields.context, variables: {} };
    if (c.error !== undefined) expect(statesError(() => runField(c, scope))).toEqual(c.error);
    else expect(runField(c, scope)).toEqual(c.expect);
  });
});
