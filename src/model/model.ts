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

/** The model of one service, parsed once. */
export function loadModel(name: ServiceName): Model {
  let m = cache.get(name);
  if (!m) {
    m = JSON.parse(readFileSync(new URL(`../../models/${files[name]}`, import.meta.url), "utf8")) as Model;
    cache.set(name, m);
  }
  return m;
}
