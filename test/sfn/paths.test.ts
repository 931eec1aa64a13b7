// JSONPath paths of the Amazon States Language: evaluation against the state input, the context
// object and variables (AWS's documented examples, Jayway's, and AWS's causes for paths that
// select nothing), which paths parse and which are reference paths, and ResultPath merges. Cases
// are data in fixtures/jsonpath/.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Json } from "../../src/sfn/asl/json.ts";
import { StatesError } from "../../src/sfn/asl/errors.ts";
import { PathSyntaxError, applyResultPath, checkReferencePath, evaluatePath, parsePath, queryPath } from "../../src/sfn/asl/paths.ts";

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/jsonpath", name), "utf8")) as T;
}

interface ErrorCase {
  error: string;
  detail: string;
}

/** The StatesError a call raises (fails the test when it raises nothing or something else). */
function statesError(call: () => unknown): ErrorCase {
  try {
    call();
  } catch (e) {
    if (e instanceof StatesError) return { error: e.error, detail: e.detail };
    throw e;
  }
  throw new Error("expected a StatesError");
}

const paths = fixture<{
  documents: Record<string, Json>;
  context: Json;
  variables: Record<string, Json>;
  cases: { name: string; doc: string; path: string; expect?: Json; error?: ErrorCase; unparsable?: boolean }[];
}>("paths.json");

describe("evaluatePath", () => {
  it.each(paths.cases)("$name: $path", (c) => {
    const input = paths.documents[c.doc];
    if (c.error !== undefined) {
      expect(statesError(() => evaluatePath(c.path, input, paths.context, paths.variables))).toEqual(c.error);
      const query = () => queryPath(c.path, { input, context: paths.context, variables: paths.variables });
      if (c.unparsable === true) expect(query).toThrow(PathSyntaxError);
      else expect(query()).toBeUndefined();
    } else {
      expect(evaluatePath(c.path, input, paths.context, paths.variables)).toEqual(c.expect);
    }
  });

  it("does not modify the input", () => {
    const input = structuredClone(paths.documents.store);
    evaluatePath("$..price", input, {}, {});
    expect(input).toEqual(paths.documents.store);
  });

  it("raises the error name the caller gives", () => {
    expect(statesError(() => evaluatePath("$.x", {}, {}, {}, "States.ItemReaderFailed")).error).toBe("States.ItemReaderFailed");
  });
});

const syntax = fixture<{ cases: { path: string; definite?: boolean; reference?: boolean; error?: string }[] }>("syntax.json");

describe("parsePath and checkReferencePath", () => {
  it.each(syntax.cases)("$path", (c) => {
    if (c.error !== undefined) {
      expect(() => parsePath(c.path)).toThrow(PathSyntaxError);
      expect(() => parsePath(c.path)).toThrow(c.error);
      expect(() => checkReferencePath(c.path)).toThrow(PathSyntaxError);
      return;
    }
    expect(parsePath(c.path).definite).toBe(c.definite);
    if (c.reference === true) expect(() => checkReferencePath(c.path)).not.toThrow();
    else expect(() => checkReferencePath(c.path)).toThrow(/a reference path names one node|are not allowed in a reference path/);
  });

  it("refuses roots a field does not allow", () => {
    expect(() => checkReferencePath("$$.Execution", { context: false })).toThrow("the context object ($$) cannot be used here");
    expect(() => checkReferencePath("$v.a", { variables: false })).toThrow("a variable cannot be used here");
    expect(() => checkReferencePath("$.a", { context: false, variables: false })).not.toThrow();
  });
});

const resultPath = fixture<{ cases: { name: string; input: Json; result: Json; resultPath: string | null; expect?: Json; error?: ErrorCase }[] }>("result-path.json");

describe("applyResultPath", () => {
  it.each(resultPath.cases)("$name", (c) => {
    const before = structuredClone(c.input);
    if (c.error !== undefined) expect(statesError(() => applyResultPath(c.input, c.result, c.resultPath))).toEqual(c.error);
    else expect(applyResultPath(c.input, c.result, c.resultPath)).toEqual(c.expect);
    expect(c.input).toEqual(before);
  });
});
