// The #{…} expression language: every example of AWS's "Date and Time Functions", "Mathematical
// Functions", "String Functions" and "Expressions" pages, the EvaluateExpression API example, and
// the errors EvaluateExpression answers with. Cases are data in fixtures/expressions/*.json.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  evaluateExpression,
  evaluateFields,
  ExpressionError,
  type ExprFieldValue,
  type ExprObject,
  type ExpressionContext,
} from "../../src/datapipeline/expressions.ts";
import { parseDateTime } from "../../src/datapipeline/schedule.ts";

type JsonField = string | { dateTime: string } | { ref: string } | (string | { ref: string })[];
interface JsonObject {
  id: string;
  name?: string;
  fields?: Record<string, JsonField>;
}
interface JsonContext {
  object?: JsonObject;
  node?: JsonObject;
  objects?: Record<string, JsonObject>;
  parameters?: Record<string, string | string[]>;
}
interface Case {
  name: string;
  expression: string;
  context?: JsonContext;
  result?: string;
  error?: string;
  note?: string;
}
interface Suite {
  description: string;
  context?: JsonContext;
  cases: Case[];
}

function value(v: string | { dateTime: string } | { ref: string }): ExprFieldValue {
  if (typeof v === "string") return { kind: "string", value: v };
  if ("ref" in v) return { kind: "ref", value: v.ref };
  const ms = parseDateTime(v.dateTime);
  if (ms === undefined) throw new Error(`bad fixture DateTime ${v.dateTime}`);
  return { kind: "dateTime", value: ms };
}

function object(o: JsonObject): ExprObject {
  const fields = new Map<string, ExprFieldValue[]>();
  for (const [k, v] of Object.entries(o.fields ?? {})) fields.set(k, Array.isArray(v) ? v.map(value) : [value(v)]);
  return { id: o.id, ...(o.name === undefined ? {} : { name: o.name }), fields };
}

function context(c: JsonContext): ExpressionContext {
  const objects = new Map(Object.entries(c.objects ?? {}).map(([id, o]) => [id, object(o)]));
  return {
    object: object(c.object ?? { id: "Object" }),
    ...(c.node ? { node: object(c.node) } : {}),
    lookup: (id) => objects.get(id),
    parameters: new Map(Object.entries(c.parameters ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
  };
}

const dir = join(import.meta.dirname, "fixtures/expressions");
const suites: [string, Suite][] = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => [f, JSON.parse(readFileSync(join(dir, f), "utf8")) as Suite]);

for (const [file, suite] of suites) {
  describe(`${file}: ${suite.description}`, () => {
    it.each(suite.cases.map((c) => [c.name, c] as const))("%s", (_n, c) => {
      const ctx = context(c.context ?? suite.context ?? {});
      if (c.error !== undefined) {
        let thrown: unknown;
        try {
          evaluateExpression(c.expression, ctx);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(ExpressionError);
        expect((thrown as ExpressionError).message).toBe(c.error);
        const fault = (thrown as ExpressionError).toFault();
        expect([fault.type, fault.namespace, fault.status]).toEqual(["InvalidRequestException", "com.amazon.setl.webservice", 400]);
      } else expect(evaluateExpression(c.expression, ctx)).toBe(c.result);
    });
  });
}

describe("evaluateFields", () => {
  it("evaluates string fields with expressions and keeps references, ids, names, types and plain strings", () => {
    const o = object({
      id: "ShellOut",
      fields: {
        type: "ShellCommandActivity",
        command: "/home/userName/xxx.sh #{@scheduledStartTime} #{@scheduledEndTime}",
        stderr: "/tmp/stderr:#{@scheduledStartTime}",
        schedule: { ref: "HourlyPeriod" },
        name: "#{not evaluated}",
        workerGroup: "wg",
        scriptArgument: ["#{1 + 1}", "plain"],
        "@scheduledStartTime": { dateTime: "2012-12-12T00:00:00" },
        "@scheduledEndTime": { dateTime: "2012-12-12T01:00:00" },
      },
    });
    const out = evaluateFields(o, {});
    expect(Object.fromEntries([...out].map(([k, v]) => [k, v.map((x) => (x.kind === "ref" ? { ref: x.value } : x.value))]))).toEqual({
      type: ["ShellCommandActivity"],
      command: ["/home/userName/xxx.sh 2012-12-12T00:00:00 2012-12-12T01:00:00"],
      stderr: ["/tmp/stderr:2012-12-12T00:00:00"],
      schedule: [{ ref: "HourlyPeriod" }],
      name: ["#{not evaluated}"],
      workerGroup: ["wg"],
      scriptArgument: ["2", "plain"],
      "@scheduledStartTime": [Date.UTC(2012, 11, 12)],
      "@scheduledEndTime": [Date.UTC(2012, 11, 12, 1)],
    });
  });
});
