// Pipeline definitions: AWS's documented examples validate cleanly and give the model the
// scheduler reads; each kind of error and warning has one invalid fixture. Fixtures use the
// definition file form of AWS's guide and CLI (`{"ref": id}` for references, lists for repeated
// fields, `name` defaulting to `id`), turned into the API's PipelineObject shape here.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateDefinition, defaultLimits, fatalDefinitionMessage, type DefinitionLimits } from "../../src/datapipeline/definition/validate.ts";
import {
  exprObject,
  scheduleOf,
  workerGroupOf,
  type Field,
  type ParameterObject,
  type ParameterValue,
  type PipelineModel,
  type PipelineObject,
} from "../../src/datapipeline/definition/objects.ts";
import { evaluateExpression } from "../../src/datapipeline/expressions.ts";

type FileValue = string | { ref: string };
type FileObject = Record<string, FileValue | FileValue[] | Field[]>;

interface Case {
  description: string;
  objects: FileObject[];
  parameters?: Record<string, string | string[]>[];
  values?: Record<string, string | string[]>;
  limits?: Partial<DefinitionLimits>;
  errors?: Record<string, string[]>;
  warnings?: Record<string, string[]>;
  fatal?: boolean;
  model?: { scheduleType?: string; objects?: Record<string, Record<string, (string | { ref: string })[]>> };
}

/** The definition file form to the API's PipelineObject (what the AWS CLI's translator does); a `fields` array is taken as is. */
function toApi(o: FileObject): PipelineObject {
  const id = o.id as string;
  const name = (o.name as string | undefined) ?? id;
  if (Array.isArray(o.fields)) return { id, name, fields: o.fields as Field[] };
  const fields: Field[] = [];
  for (const [key, raw] of Object.entries(o)) {
    if (key === "id" || key === "name") continue;
    for (const v of (Array.isArray(raw) ? raw : [raw]) as FileValue[]) fields.push(typeof v === "string" ? { key, stringValue: v } : { key, refValue: v.ref });
  }
  return { id, name, fields };
}

function toParams(ps: Record<string, string | string[]>[] = []): ParameterObject[] {
  return ps.map((p) => ({
    id: p.id as string,
    attributes: Object.entries(p)
      .filter(([k]) => k !== "id")
      .flatMap(([key, v]) => (Array.isArray(v) ? v : [v]).map((stringValue) => ({ key, stringValue }))),
  }));
}

function toValues(vs: Record<string, string | string[]> = {}): ParameterValue[] {
  return Object.entries(vs).flatMap(([id, v]) => (Array.isArray(v) ? v : [v]).map((stringValue) => ({ id, stringValue })));
}

function load(dir: string): [string, Case][] {
  const d = join(import.meta.dirname, "fixtures/definitions", dir);
  return readdirSync(d)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [f.replace(/\.json$/, ""), JSON.parse(readFileSync(join(d, f), "utf8")) as Case]);
}

function run(c: Case) {
  return validateDefinition(c.objects.map(toApi), toParams(c.parameters), toValues(c.values), { ...defaultLimits, ...c.limits });
}

const asMap = (l: { id: string; errors?: string[]; warnings?: string[] }[]): Record<string, string[]> =>
  Object.fromEntries(l.map((e) => [e.id, e.errors ?? e.warnings ?? []]));

describe("valid definitions", () => {
  it.each(load("valid"))("%s", (_name, c) => {
    const r = run(c);
    expect(asMap(r.errors)).toEqual({});
    expect(asMap(r.warnings)).toEqual(c.warnings ?? {});
    expect(r.fatal).toBe(false);
    expect(r.model).toBeDefined();
    if (c.model?.scheduleType) expect(r.model?.scheduleType).toBe(c.model.scheduleType);
    for (const [id, fields] of Object.entries(c.model?.objects ?? {})) {
      const o = r.model?.objects.get(id);
      expect(o, id).toBeDefined();
      for (const [key, vals] of Object.entries(fields)) {
        const got = (o?.fields.get(key) ?? []).map((v) => (v.kind === "ref" ? { ref: v.value } : v.value));
        expect(got, `${id}.${key}`).toEqual(vals);
      }
    }
  });
});

describe("invalid definitions", () => {
  it.each(load("invalid"))("%s", (_name, c) => {
    const r = run(c);
    expect(asMap(r.errors)).toEqual(c.errors ?? {});
    expect(asMap(r.warnings)).toEqual(c.warnings ?? {});
    expect(r.fatal).toBe(c.fatal ?? false);
    expect(r.model).toBeUndefined();
    if (r.fatal) expect(fatalDefinitionMessage(r.errors)).toMatch(/^Pipeline definition has errors: Could not save the pipeline definition due to FATAL errors: \[.+\] Please call Validate to validate your pipeline$/);
  });
});

describe("the model as the scheduler reads it", () => {
  const model = (name: string): PipelineModel => {
    const c = load("valid").find(([n]) => n === name)?.[1];
    const m = c === undefined ? undefined : run(c).model;
    if (m === undefined) throw new Error(`no model for ${name}`);
    return m;
  };

  it.each([
    ["aws-put-pipeline-definition-example", "SayHello", { period: { count: 1, unit: "hours" }, startMs: Date.UTC(2012, 11, 12), endMs: Date.UTC(2012, 11, 21, 18) }],
    ["schedule-inherited-from-default", "ShellCommandActivity_HelloWorld", { period: { count: 1, unit: "days" }, startMs: "firstActivation", occurrences: 1 }],
    ["schedule-from-parent-reference", "ShellCommandActivity_HelloWorld", { period: { count: 1, unit: "hours" }, startMs: Date.UTC(2014, 3, 25, 22), occurrences: 3 }],
    ["ondemand-default", "Run", undefined],
    ["aws-put-pipeline-definition-example", "Default", undefined],
  ])("scheduleOf %s / %s", (name, id, spec) => {
    expect(scheduleOf(model(name), id)).toEqual(spec);
  });

  it.each([
    ["aws-put-pipeline-definition-example", "SayHello", "workerGroup"],
    ["precondition-and-alarm", "ExampleCondition", "wg"],
    ["warning-runs-on-ec2-with-worker-group", "SayHello", "myWorkerGroup"],
    ["ondemand-default", "Nope", undefined],
  ])("workerGroupOf %s / %s", (name, id, wg) => {
    expect(workerGroupOf(model(name), id)).toBe(wg);
  });

  it("evaluates a field of an instance: parameters substituted at definition time, runtime fields at run time", () => {
    const m = model("parameters-with-defaults-and-values");
    const out = m.objects.get("S3OutputLocation");
    if (!out) throw new Error("missing S3OutputLocation");
    const dir = out.fields.get("directoryPath")?.[0]?.value ?? "";
    expect(evaluateExpression(dir, { object: exprObject(out, { "@scheduledStartTime": Date.UTC(2024, 4, 1, 0, 15) }) })).toBe("s3://myOutputLocation/2024-05-01-00-15-00");
  });

  it("evaluates an SnsAlarm message against the object that failed (node)", () => {
    const m = model("precondition-and-alarm");
    const alarm = m.objects.get("FailureNotify");
    const node = m.objects.get("ExampleDataNode");
    if (!alarm || !node) throw new Error("missing objects");
    const msg = alarm.fields.get("message")?.[0]?.value ?? "";
    const runtime = { "@scheduledStartTime": Date.UTC(2018, 0, 31), "@scheduledEndTime": Date.UTC(2018, 1, 1), "@pipelineId": "df-0123" };
    expect(evaluateExpression(msg, { object: exprObject(alarm), node: exprObject(node, runtime) })).toBe(
      "Error for interval 2018-01-31T00:00:00..2018-02-01T00:00:00.",
    );
    expect(evaluateExpression("#{@pipelineId}/#{@id}", { object: exprObject(node, runtime) })).toBe("df-0123/ExampleDataNode");
  });
});
