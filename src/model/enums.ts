// The table between each AWS enum of a model and its generated proto enum, built once per model
// from the names alone (src/model/names.ts), so adapters and validation agree on every value.
import type { DescEnum } from "@bufbuild/protobuf";
import type { Model } from "./model.ts";
import { protoEnumValueName, screaming } from "./names.ts";

/** The AWS spellings of one proto enum, from the model's enum shape of the same name. */
export interface AwsEnumTable {
  /** The enum's AWS shape name (`EventType`). */
  readonly shape: string;
  /** AWS values in model order (the order used in "Member must satisfy enum value set"). */
  readonly values: readonly string[];
  /** AWS value -> proto enum number. */
  readonly toNumber: ReadonlyMap<string, number>;
  /** Proto enum number -> AWS value (0 / UNSPECIFIED is absent and not listed). */
  readonly toAws: ReadonlyMap<number, string>;
}

const enumTables = new WeakMap<Model, Map<string, AwsEnumTable>>();

/**
 * The AWS <-> proto table of `desc`, built once per model. The proto enum's simple name is the
 * AWS shape name (`taskgate.swf.v1.EventType` <- shape `EventType`). Throws if the generated enum
 * and the model disagree (the generated code is out of date), which is a build error, not a
 * request error.
 */
export function awsEnumTable(model: Model, desc: DescEnum): AwsEnumTable {
  let perModel = enumTables.get(model);
  if (!perModel) {
    perModel = new Map();
    enumTables.set(model, perModel);
  }
  let table = perModel.get(desc.typeName);
  if (!table) {
    table = buildEnumTable(model, desc);
    perModel.set(desc.typeName, table);
  }
  return table;
}

function buildEnumTable(model: Model, desc: DescEnum): AwsEnumTable {
  const shapeName = desc.name;
  const shape = model.shapes[shapeName];
  const toNumber = new Map<string, number>();
  const toAws = new Map<number, string>();
  const values: string[] = [];
  if (shape?.enum) {
    const byName = new Map<string, number>();
    for (const v of desc.values) byName.set(v.name, v.number);
    for (const awsValue of shape.enum) {
      const n = byName.get(protoEnumValueName(shapeName, awsValue));
      if (n === undefined) {
        throw new Error(`enum ${desc.typeName} has no value for AWS ${shapeName} '${awsValue}': regenerate the protos`);
      }
      toNumber.set(awsValue, n);
      toAws.set(n, awsValue);
      values.push(awsValue);
    }
  } else {
    // An enum that is not an AWS shape (taskgate's own): the AWS spelling is the proto value
    // name without the enum's prefix.
    const prefix = `${screaming(shapeName)}_`;
    for (const v of desc.values) {
      if (v.number === 0) continue;
      const awsValue = v.name.startsWith(prefix) ? v.name.slice(prefix.length) : v.name;
      toNumber.set(awsValue, v.number);
      toAws.set(v.number, awsValue);
      values.push(awsValue);
    }
  }
  return { shape: shapeName, values, toNumber, toAws };
}

