// Broken definitions (fixtures kept as data: the definition, or its raw text, with the exact
// diagnostics AWS gives for it) and the InvalidDefinition message built from them. A fixture's
// comment says what is broken and whether AWS's wording was observed.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyse, invalidDefinitionMessage, validationResult } from "../../src/sfn/asl/analyse.ts";
import type { Diagnostic } from "../../src/sfn/asl/definition.ts";
import { parseDefinition } from "../../src/sfn/asl/parse.ts";

interface Fixture {
  comment: string;
  definition?: unknown;
  definitionText?: string;
  /** The state machine type validated for (STANDARD when absent). */
  type?: "STANDARD" | "EXPRESS";
  diagnostics: Diagnostic[];
  invalidDefinition?: string;
}

const dir = join(import.meta.dirname, "fixtures/definitions/invalid");
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => {
    const fixture = JSON.parse(readFileSync(join(dir, f), "utf8")) as Fixture;
    const text = fixture.definitionText ?? JSON.stringify(fixture.definition, null, 2);
    return { name: f.replace(/\.json$/, ""), text, fixture };
  });

describe("broken definitions", () => {
  it("has the cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
  });

  it.each(cases)("$name", ({ text, fixture }) => {
    const { machine, diagnostics } = parseDefinition(text, fixture.type === undefined ? {} : { type: fixture.type });
    expect(diagnostics).toEqual(fixture.diagnostics);
    const errors = fixture.diagnostics.some((d) => d.severity === "ERROR");
    expect(machine === undefined).toBe(errors);
    if (fixture.invalidDefinition !== undefined) expect(invalidDefinitionMessage(diagnostics)).toBe(fixture.invalidDefinition);
  });
});

describe("invalidDefinitionMessage", () => {
  it("joins the errors as AWS does, leaves warnings out, and is empty without errors", () => {
    const diagnostics: Diagnostic[] = [
      { severity: "WARNING", code: "NO_DOLLAR", message: "w", location: "/States/A/Parameters" },
      { severity: "ERROR", code: "SCHEMA_VALIDATION_FAILED", message: "Field 'X' is not supported", location: "/States/A" },
      { severity: "ERROR", code: "MISSING_END_STATE", message: "Workflow has no terminal state" },
    ];
    expect(invalidDefinitionMessage(diagnostics)).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'X' is not supported at /States/A, MISSING_END_STATE: Workflow has no terminal state at null'",
    );
    expect(invalidDefinitionMessage(diagnostics.slice(0, 1))).toBe("");
  });

  it("quotes a JSON syntax error once (its message already says where)", () => {
    const { diagnostics } = parseDefinition("not a definition");
    expect(invalidDefinitionMessage(diagnostics)).toBe(`Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ${diagnostics[0].message}'`);
  });
});

describe("analyse", () => {
  it("finds nothing in a sound machine and reports the graph rules of a parsed one", () => {
    const sound = parseDefinition(JSON.stringify({ StartAt: "A", States: { A: { Type: "Pass", End: true } } }));
    if (sound.machine === undefined) throw new Error("did not parse");
    expect(analyse(sound.machine)).toEqual([]);
    const m = sound.machine;
    const broken = { ...m, startAt: "B" };
    expect(analyse(broken)).toEqual([
      { severity: "ERROR", code: "MISSING_TRANSITION_TARGET", message: "Missing 'Next' target: B", location: "/StartAt" },
      { severity: "ERROR", code: "MISSING_TRANSITION_TARGET", message: 'State "A" is not reachable.', location: "/States/A" },
    ]);
  });
});

describe("validationResult", () => {
  const error = (n: number): Diagnostic => ({ severity: "ERROR", code: "SCHEMA_VALIDATION_FAILED", message: `e${n}`, location: `/States/S${n}` });
  const warning: Diagnostic = { severity: "WARNING", code: "NO_DOLLAR", message: "w", location: "/States/W/Parameters" };

  it.each([
    { name: "errors only by default", diagnostics: [warning, error(1)], severity: undefined, max: undefined, result: "FAIL", shown: [error(1)], truncated: false },
    { name: "warnings too when asked", diagnostics: [warning, error(1)], severity: "WARNING" as const, max: undefined, result: "FAIL", shown: [warning, error(1)], truncated: false },
    { name: "OK with only warnings, none returned by default", diagnostics: [warning], severity: undefined, max: undefined, result: "OK", shown: [], truncated: false },
    { name: "capped by maxResults", diagnostics: [error(1), error(2), error(3)], severity: undefined, max: 2, result: "FAIL", shown: [error(1), error(2)], truncated: true },
    { name: "maxResults 0 means 100", diagnostics: Array.from({ length: 101 }, (_, i) => error(i)), severity: undefined, max: 0, result: "FAIL", shown: Array.from({ length: 100 }, (_, i) => error(i)), truncated: true },
    { name: "OK and empty for a sound definition", diagnostics: [], severity: "WARNING" as const, max: 5, result: "OK", shown: [], truncated: false },
  ])("$name", ({ diagnostics, severity, max, result, shown, truncated }) => {
    expect(validationResult(diagnostics, severity, max)).toEqual({ result, diagnostics: shown, truncated });
  });
});
