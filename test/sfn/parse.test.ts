// Valid definitions (fixtures kept as data, one machine per file) parse with no diagnostics, and
// the tree they give has what the interpreter relies on: resolved query languages and defaults,
// End versus Next, the index by name, and each state's location.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { MapState, ParallelState, State, StateMachine, TaskState } from "../../src/sfn/asl/definition.ts";
import { allStates } from "../../src/sfn/asl/definition.ts";
import { parseDefinition } from "../../src/sfn/asl/parse.ts";

const dir = join(import.meta.dirname, "fixtures/definitions/valid");
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".asl.json"))
  .sort()
  .map((f) => ({ name: f.replace(/\.asl\.json$/, ""), text: readFileSync(join(dir, f), "utf8") }));

function machineOf(name: string): StateMachine {
  const fixture = fixtures.find((f) => f.name === name);
  if (fixture === undefined) throw new Error(`no fixture ${name}`);
  const { machine, diagnostics } = parseDefinition(fixture.text);
  expect(diagnostics).toEqual([]);
  if (machine === undefined) throw new Error(`${name} did not parse`);
  return machine;
}

function state<T extends State["type"]>(m: StateMachine, name: string, type: T): Extract<State, { type: T }> {
  const s = m.index.get(name);
  if (s === undefined || s.type !== type) throw new Error(`${name} is not a ${type}`);
  return s as Extract<State, { type: T }>;
}

describe("valid definitions", () => {
  it("has fixtures for every state type in both query languages", () => {
    const seen = new Set<string>();
    for (const f of fixtures) {
      const { machine } = parseDefinition(f.text);
      for (const s of machine === undefined ? [] : allStates(machine)) seen.add(`${s.type}/${s.queryLanguage}`);
    }
    const expected = ["Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"].flatMap((t) => [`${t}/JSONPath`, `${t}/JSONata`]);
    expect([...seen].sort()).toEqual(expected.sort());
  });

  it.each(fixtures)("$name parses with no diagnostics", ({ text }) => {
    const { machine, diagnostics } = parseDefinition(text);
    expect(diagnostics).toEqual([]);
    expect(machine).toBeDefined();
  });
});

describe("the tree", () => {
  it("resolves JSONPath defaults and keeps given paths, null included", () => {
    const m = machineOf("task-activity");
    const t = state(m, "Work", "Task");
    expect(t.io).toEqual({
      inputPath: "$.input",
      outputPath: "$.taskResult",
      resultPath: "$.taskResult",
      parameters: { "id.$": "$.id", "when.$": "$$.Execution.StartTime", static: "x", "list.$": "States.Array($.a, $.b)" },
      resultSelector: { "out.$": "$.result" },
    });
    expect(t.activity).toEqual({ partition: "aws", region: "us-east-1", account: "123456789012", name: "work" });
    expect([t.next, t.end, t.timeoutSeconds, t.heartbeatSeconds]).toEqual(["Done", false, 300, 60]);
    expect([m.timeoutSeconds, m.version, m.queryLanguage, m.path]).toEqual([3600, "1.0", "JSONPath", ""]);
    const paths = machineOf("task-paths").index.get("T") as TaskState;
    expect(paths.io).toEqual({ inputPath: null, outputPath: "$", resultPath: null });
    expect([paths.timeoutSecondsPath, paths.heartbeatSecondsPath, paths.end, paths.next]).toEqual(["$.timeout", "$.heartbeat", true, undefined]);
  });

  it("resolves Retry defaults and keeps Catch order", () => {
    const t = state(machineOf("task-retry-catch"), "T", "Task");
    expect(t.retry).toEqual([
      { path: "/States/T/Retry[0]", errorEquals: ["States.Timeout", "Custom"], intervalSeconds: 3, maxAttempts: 0, backoffRate: 1.5, maxDelaySeconds: 10, jitterStrategy: "FULL" },
      { path: "/States/T/Retry[1]", errorEquals: ["States.ALL"], intervalSeconds: 1, maxAttempts: 3, backoffRate: 2, jitterStrategy: "NONE" },
    ]);
    expect(t.catch).toEqual([
      { path: "/States/T/Catch[0]", errorEquals: ["Custom"], next: "Recover", resultPath: "$.error" },
      { path: "/States/T/Catch[1]", errorEquals: ["States.ALL"], next: "Failed", resultPath: "$" },
    ]);
  });

  it("builds Choice conditions with their operators and operands", () => {
    const c = state(machineOf("choice-jsonpath"), "Choose", "Choice");
    expect(c.choices[0]).toEqual({
      path: "/States/Choose/Choices[0]",
      rule: { Not: { Variable: "$.type", StringEquals: "Private" }, Next: "Public" },
      next: "Public",
      when: { kind: "not", of: { kind: "compare", variable: "$.type", operator: "StringEquals", operand: "Private" } },
    });
    expect(c.choices[2].when).toEqual({
      kind: "and",
      of: [
        { kind: "compare", variable: "$.value", operator: "NumericGreaterThanEquals", operand: 20 },
        { kind: "compare", variable: "$.value", operator: "NumericLessThan", operand: 30 },
      ],
    });
    expect(c.choices[6].when).toEqual({ kind: "compare", variable: "$.maybe", operator: "IsPresent", operand: false });
    expect(c.default).toBe("Other");
    expect(c.io).toEqual({ inputPath: "$", outputPath: "$" });
  });

  it("keeps JSONata fields and expressions as written, and no JSONPath fields", () => {
    const m = machineOf("jsonata-task");
    const t = state(m, "T", "Task");
    expect(t.queryLanguage).toBe("JSONata");
    expect(t.io).toBeUndefined();
    expect(t.arguments).toEqual({ id: "{% $states.input.id %}", fixed: 1 });
    expect([t.output, t.timeoutSeconds, t.heartbeatSeconds]).toEqual(["{% $states.result %}", "{% $states.input.timeout %}", 10]);
    expect(t.catch[0]).toEqual({ path: "/States/T/Catch[0]", errorEquals: ["States.ALL"], next: "F", output: "{% $states.errorOutput %}", assign: { err: "{% $states.errorOutput.Error %}" } });
    const c = state(machineOf("jsonata-pass-choice"), "C", "Choice");
    expect(c.choices.map((r) => r.condition)).toEqual(["{% $states.input.n > 10 %}", true]);
    expect(c.choices[0].output).toEqual({ size: "big" });
  });

  it("resolves each state's query language: its own, else the machine's", () => {
    const m = machineOf("mixed-state-jsonata");
    expect(m.states.map((s) => [s.name, s.queryLanguage])).toEqual([
      ["A", "JSONPath"],
      ["B", "JSONata"],
      ["C", "JSONPath"],
    ]);
    const nested = machineOf("jsonata-parallel-map");
    expect(allStates(nested).map((s) => s.queryLanguage)).toEqual(["JSONata", "JSONata", "JSONata", "JSONata"]);
  });

  it("nests branches and item processors as machines with their own index and locations", () => {
    const m = machineOf("parallel-jsonpath");
    const p = state(m, "P", "Parallel") as ParallelState;
    expect(p.branches.map((b) => b.path)).toEqual(["/States/P/Branches[0]", "/States/P/Branches[1]"]);
    expect(p.branches[1].index.get("B2")?.path).toBe("/States/P/Branches[1]/States/B2");
    expect(p.branches[1].startAt).toBe("B");
    expect(p.io?.resultSelector).toEqual({ "first.$": "$[0]" });
    const map = state(machineOf("map-item-processor"), "M", "Map") as MapState;
    expect([map.processorMode, map.itemsPath, map.maxConcurrency, map.itemProcessor.path]).toEqual(["INLINE", "$.items", 2, "/States/M/ItemProcessor"]);
    expect(map.itemSelector).toEqual({ "item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index" });
    const legacy = state(machineOf("map-iterator-legacy"), "M", "Map") as MapState;
    expect([legacy.itemProcessor.path, legacy.itemSelector, legacy.maxConcurrencyPath]).toEqual(["/States/M/Iterator", { "v.$": "$$.Map.Item.Value" }, "$.max"]);
    expect((machineOf("nested-parallel-in-map").index.get("M") as MapState).itemsPath).toBe("$");
    expect((machineOf("jsonata-parallel-map").index.get("M") as MapState).itemsPath).toBeUndefined();
    expect(allStates(machineOf("nested-parallel-in-map")).map((s) => s.path)).toEqual([
      "/States/M",
      "/States/M/ItemProcessor/States/P",
      "/States/M/ItemProcessor/States/P/Branches[0]/States/X",
      "/States/M/ItemProcessor/States/P/Branches[1]/States/Y",
    ]);
  });

  it("keeps Wait, Fail and Pass fields", () => {
    const w = machineOf("wait-seconds");
    expect([state(w, "W", "Wait").seconds, state(w, "W2", "Wait").timestamp, state(w, "W3", "Wait").secondsPath, state(w, "W4", "Wait").timestampPath]).toEqual([
      10,
      "2016-03-14T01:59:00Z",
      "$.wait",
      "$.until",
    ]);
    const f = state(machineOf("succeed-fail"), "No", "Fail");
    expect([f.errorPath, f.causePath, f.error]).toEqual(["$.error", "States.Format('cause: {}', $.cause)", undefined]);
    const p = state(machineOf("hello-pass"), "HelloWorld", "Pass");
    expect([p.result, p.end, p.io?.resultPath]).toEqual(["Hello World!", true, "$"]);
    expect(state(machineOf("jsonpath-assign"), "A", "Pass").assign).toEqual({ x: 1, "y.$": "$.y", "z.$": "States.MathAdd($.a, 1)" });
  });
});

describe("the JSON text", () => {
  it("reads escapes, non-ASCII names and numbers as JSON does", () => {
    const m = machineOf("unicode-names-and-escapes");
    const fixture = fixtures.find((f) => f.name === "unicode-names-and-escapes");
    const expected = JSON.parse(fixture?.text ?? "") as { States: Record<string, { Result?: unknown }> };
    expect(m.startAt).toBe('Étape "un"');
    expect(state(m, 'Étape "un"', "Pass").result).toEqual(expected.States['Étape "un"'].Result);
    expect(state(m, "a/b ~ 日本", "Wait").path).toBe("/States/a/b ~ 日本");
  });

  it("parses a long chain of states (every one reachable, one terminal)", () => {
    const states: Record<string, unknown> = {};
    for (let i = 0; i < 3000; i++) states[`S${i}`] = i === 2999 ? { Type: "Succeed" } : { Type: "Pass", Next: `S${i + 1}` };
    const { machine, diagnostics } = parseDefinition(JSON.stringify({ StartAt: "S0", States: states }));
    expect(diagnostics).toEqual([]);
    expect(machine?.states.length).toBe(3000);
    expect(machine?.index.get("S1500")?.path).toBe("/States/S1500");
  });

  it("refuses nesting deeper than 1000 levels with Jackson's message instead of overflowing the stack", () => {
    const text = `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":${"[".repeat(2000)}${"]".repeat(2000)},"End":true}}}`;
    const { machine, diagnostics } = parseDefinition(text);
    expect(machine).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0].code).toBe("INVALID_JSON_DESCRIPTION");
    expect(diagnostics[0].message).toMatch(/^Document nesting depth \(1001\) exceeds the maximum allowed \(1000, from `StreamReadConstraints.getMaxNestingDepth\(\)`\)\n at \[Source: \(String\)"/);
    const ok = `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":${"[".repeat(990)}${"]".repeat(990)},"End":true}}}`;
    expect(parseDefinition(ok).diagnostics).toEqual([]);
  });

  it("quotes at most 500 characters of the source in a JSON error", () => {
    const text = `{"Comment": "${"x".repeat(600)}", oops}`;
    const [d] = parseDefinition(text).diagnostics;
    expect(d.location).toBe(`[Source: (String)"${text.slice(0, 500)}"[truncated ${text.length - 500} chars]; line: 1, column: 618]`);
  });
});

describe("robustness", () => {
  type Mutable = Record<string, unknown> | unknown[];
  const replacements: unknown[] = [null, 1, -1, 1.5, "x", "$.a[", "{% 1 + %}", "{% $states.result %}", true, [], {}, [{}]];

  /** Every location of a JSON value (object keys and array indexes), as paths of keys. */
  function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(value)) return value.flatMap((v, i) => [[...at, i], ...paths(v, [...at, i])]);
    if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([k, v]) => [[...at, k], ...paths(v, [...at, k])]);
    return [];
  }

  function mutate(doc: unknown, path: (string | number)[], replacement: unknown): unknown {
    const copy = JSON.parse(JSON.stringify(doc)) as Mutable;
    let node = copy as Mutable;
    for (const key of path.slice(0, -1)) node = (node as Record<string, unknown>)[key as string] as Mutable;
    const last = path[path.length - 1];
    if (replacement === undefined && !Array.isArray(node)) delete (node as Record<string, unknown>)[last as string];
    else (node as Record<string, unknown>)[last as string] = replacement;
    return copy;
  }

  it.each(fixtures)("$name: every field deleted or replaced by a value of another kind gives diagnostics, never an exception", ({ text }) => {
    const doc = JSON.parse(text) as unknown;
    let parses = 0;
    for (const path of paths(doc)) {
      for (const replacement of [undefined, ...replacements]) {
        const result = parseDefinition(JSON.stringify(mutate(doc, path, replacement)));
        const errors = result.diagnostics.filter((d) => d.severity === "ERROR");
        expect(result.machine === undefined).toBe(errors.length > 0);
        for (const d of result.diagnostics) expect(d.message.length).toBeGreaterThan(0);
        parses++;
      }
    }
    expect(parses).toBeGreaterThan(0);
  });
});
