// The AWS service models (botocore's JSON, shipped under models/): the contract for every shape,
// member, limit, enum and error. Loaded once per process and shared read-only.
import { readFileSync } from "node:fs";

/** A reference from a structure, list or map to another shape. */
export interface ModelMember {
  shape: string;
  documentation?: string;
}

/** One shape of a model (only the keys taskgate reads). */
export interface ModelShape {
  type: "structure" | "list" | "map" | "string" | "integer" | "long" | "boolean" | "timestamp" | "double" | "float" | "blob";
  members?: Record<string, ModelMember>;
  required?: string[];
  member?: ModelMember;
  key?: ModelMember;
  value?: ModelMember;
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  exception?: boolean;
  fault?: boolean;
  error?: { httpStatusCode?: number };
  documentation?: string;
}

/** One operation of a model. */
export interface ModelOperation {
  name: string;
  input?: { shape: string };
  output?: { shape: string };
  errors?: { shape: string }[];
}

/** A botocore service model. */
export interface Model {
  metadata: { targetPrefix: string; jsonVersion: string; serviceId: string; serviceFullName: string; endpointPrefix: string };
  operations: Record<string, ModelOperation>;
  shapes: Record<string, ModelShape>;
}

const files = {
  swf: "swf-2012-01-25.json",
  sfn: "stepfunctions-2016-11-23.json",
  datapipeline: "datapipeline-2012-10-29.json",
} as const;

/** The services taskgate models. */
export type ServiceName = keyof typeof files;

const cache = new Map<ServiceName, Model>();

/** A correction of a published model (models/corrections.json): what AWS really does, as data. */
interface Correction {
  shape: string;
  /** Members AWS always sends (as [] or {} when empty) that the model does not mark required. */
  addRequired?: string[];
  why: string;
}

/** The model of one service, parsed once, with its corrections applied. */
export function loadModel(name: ServiceName): Model {
  let m = cache.get(name);
  if (!m) {
    m = JSON.parse(readFileSync(new URL(`../../models/${files[name]}`, import.meta.url), "utf8")) as Model;
    const corrections = JSON.parse(readFileSync(new URL("../../models/corrections.json", import.meta.url), "utf8")) as Partial<Record<ServiceName, Correction[]>>;
    for (const c of corrections[name] ?? []) {
      const shape = m.shapes[c.shape];
      if (!shape) throw new Error(`models/corrections.json: ${name} has no shape ${c.shape}`);
      for (const member of c.addRequired ?? []) {
        if (!shape.members?.[member]) throw new Error(`models/corrections.json: ${name} ${c.shape} has no member ${member}`);
        shape.required = [...new Set([...(shape.required ?? []), member])];
      }
    }
    cache.set(name, m);
  }
  return m;
}
