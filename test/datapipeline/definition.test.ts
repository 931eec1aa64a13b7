// Pipeline definitions: AWS's documented examples validate cleanly and give the model the
// scheduler reads; each kind of error and warning has one invalid fixture. Fixtures use the
// definition file form of AWS's guide and CLI (`{"ref": id}` for references, lists for repeated
// fields, `name` defaulting to `id`), turned into the API's PipelineObject shape here.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateDefinition, defaultLimits, type DefinitionLimits } from "../../src/datapipeline/definition/validate.ts";
import type { Field, ParameterObject, ParameterValue, PipelineObject } from "../../src/datapipeline/definition/objects.ts";

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
  });
});
