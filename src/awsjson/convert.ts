// Descriptor-driven conversion between AWS JSON (awsJson 1.0/1.1 bodies) and protobuf-es messages.
//
// One converter for every generated message: fields are matched by their JSON name, which
// scripts/protogen.ts sets to the AWS member name. The AWS model supplies what the descriptor
// cannot: the AWS spelling of enum values (protoEnumValueName maps `EventType`/`TimerFired` to
// `EVENT_TYPE_TIMER_FIRED`) and which members a structure requires (for empty lists on output).
//
// Wire rules (what botocore and the AWS SDK for JavaScript v3 send and accept):
//   - requests: unknown members are ignored, JSON null is "absent"; timestamps arrive as epoch
//     seconds (integer from botocore, millisecond fractions from JS v3, numeric strings tolerated);
//     longs as JSON numbers (numeric strings tolerated). A value of the wrong JSON type is a
//     SerializationException naming the member path; an enum string the model does not list is
//     Coral's ValidationException.
//   - responses: absent members are omitted, explicitly present 0 / "" / false are emitted,
//     timestamps are epoch seconds with a millisecond fraction, longs are JSON numbers.
//
// Everything that depends only on (model, descriptor) is compiled once, lazily, and cached in
// WeakMaps keyed by the model object and the descriptor.
import { create, ScalarType } from "@bufbuild/protobuf";
import type { DescField, DescMessage, Message, MessageShape } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { coralMessage, notAJsonObject, quoted, serializationError, validationError, wrongJsonType } from "../faults.ts";
import type { Model, ModelShape } from "../model/model.ts";
import { awsEnumTable, type AwsEnumTable } from "../model/enums.ts";
export { awsEnumTable, type AwsEnumTable };

// ---------------------------------------------------------------------------------------------
// Compiled plans

type ValuePlan =
  | { readonly kind: "scalar"; readonly scalar: ScalarType; readonly longAsString: boolean }
  | { readonly kind: "enum"; readonly table: AwsEnumTable }
  | { readonly kind: "timestamp" }
  | { readonly kind: "message"; readonly schema: DescMessage };

interface FieldPlan {
  readonly field: DescField;
  /** AWS member name (the field's JSON name). */
  readonly json: string;
  /** Property name on the protobuf-es message. */
  readonly local: string;
  /** Property name of the enclosing (real, non-synthetic) oneof, if any. */
  readonly oneof: string | undefined;
  /** Implicit presence (proto3 without `optional`): the zero value means absent. */
  readonly implicit: boolean;
  readonly shape: "single" | "list" | "map";
  readonly value: ValuePlan;
  /** The AWS structure lists this member in `required`. */
  readonly awsRequired: boolean;
}

interface MessagePlan {
  readonly schema: DescMessage;
  readonly fields: readonly FieldPlan[];
  readonly byJson: ReadonlyMap<string, FieldPlan>;
  /** Required AWS members that are not lists/maps (see emptyCollection in messageToAwsJson). */
  readonly requiredSingles: readonly FieldPlan[];
}

const plans = new WeakMap<Model, WeakMap<DescMessage, MessagePlan>>();

const IMPLICIT_PRESENCE = 2; // google.protobuf.FeatureSet.FieldPresence.IMPLICIT
const TIMESTAMP = "google.protobuf.Timestamp";

function planOf(model: Model, schema: DescMessage): MessagePlan {
  let perModel = plans.get(model);
  if (!perModel) {
    perModel = new WeakMap();
    plans.set(model, perModel);
  }
  let plan = perModel.get(schema);
  if (!plan) {
    plan = compilePlan(model, schema);
    perModel.set(schema, plan);
  }
  return plan;
}

/**
 * The AWS structure shape a message mirrors: `<Op>Request` / `<Op>Response` are the operation's
 * input / output shapes, every other message has the name of its shape.
 */
export function awsShapeOf(model: Model, schema: DescMessage): ModelShape | undefined {
  const name = schema.name;
  for (const [suffix, key] of [["Request", "input"], ["Response", "output"]] as const) {
    if (name.endsWith(suffix)) {
      const op = model.operations[name.slice(0, -suffix.length)];
      if (op) {
        const ref = op[key];
        return ref ? model.shapes[ref.shape] : undefined;
      }
    }
  }
  const shape = model.shapes[name];
  return shape?.type === "structure" ? shape : undefined;
}

function valuePlan(model: Model, field: DescField): ValuePlan {
  if (field.fieldKind === "map") {
    switch (field.mapKind) {
      case "scalar":
        return { kind: "scalar", scalar: field.scalar, longAsString: false };
      case "enum":
        return { kind: "enum", table: awsEnumTable(model, field.enum) };
      case "message":
        return field.message.typeName === TIMESTAMP ? { kind: "timestamp" } : { kind: "message", schema: field.message };
    }
  }
  if (field.fieldKind === "list") {
    switch (field.listKind) {
      case "scalar":
        return { kind: "scalar", scalar: field.scalar, longAsString: field.longAsString };
      case "enum":
        return { kind: "enum", table: awsEnumTable(model, field.enum) };
      case "message":
        return field.message.typeName === TIMESTAMP ? { kind: "timestamp" } : { kind: "message", schema: field.message };
    }
  }
  switch (field.fieldKind) {
    case "scalar":
      return { kind: "scalar", scalar: field.scalar, longAsString: field.longAsString };
    case "enum":
      return { kind: "enum", table: awsEnumTable(model, field.enum) };
    case "message":
      return field.message.typeName === TIMESTAMP ? { kind: "timestamp" } : { kind: "message", schema: field.message };
  }
}

function compilePlan(model: Model, schema: DescMessage): MessagePlan {
  const shape = awsShapeOf(model, schema);
  const required = new Set(shape?.required ?? []);
  const fields: FieldPlan[] = [];
  const byJson = new Map<string, FieldPlan>();
  for (const field of schema.fields) {
    const plan: FieldPlan = {
      field,
      json: field.jsonName,
      local: field.localName,
      oneof: field.oneof?.localName,
      implicit: field.presence === IMPLICIT_PRESENCE && field.fieldKind !== "message" && field.oneof === undefined,
      shape: field.fieldKind === "list" ? "list" : field.fieldKind === "map" ? "map" : "single",
      value: valuePlan(model, field),
      awsRequired: required.has(field.jsonName),
    };
    fields.push(plan);
    byJson.set(plan.json, plan);
  }
  return { schema, fields, byJson, requiredSingles: fields.filter((f) => f.awsRequired && f.shape === "single") };
}

// ---------------------------------------------------------------------------------------------
// AWS JSON -> message

function wrongType(path: string, expected: string, v: unknown): never {
  throw wrongJsonType(path, expected, v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
// Date's range, which is within google.protobuf.Timestamp's 0001..9999 only partly; both bound it.
const TIMESTAMP_MS_MIN = -62135596800000; // 0001-01-01T00:00:00Z
const TIMESTAMP_MS_MAX = 253402300799999; // 9999-12-31T23:59:59.999Z
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Index of the first non-digit at or after i. */
function skipDigits(s: string, i: number): number {
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  return i;
}

/**
 * The value of a decimal integer string (`-?[0-9]+`, no whitespace), or undefined. One pass over
 * the string; a value with more than 20 significant digits is returned as a sentinel beyond the
 * 64-bit range without converting it (BigInt parsing is superlinear in the digit count).
 */
export function parseIntegerString(s: string): bigint | undefined {
  let i = s.charCodeAt(0) === 0x2d ? 1 : 0; // '-'
  const negative = i === 1;
  const start = i;
  const end = skipDigits(s, i);
  if (end === start || end !== s.length) return undefined;
  while (i < end - 1 && s.charCodeAt(i) === 0x30) i++; // leading zeros
  if (end - i > 20) return negative ? -(2n ** 64n) : 2n ** 64n;
  const n = BigInt(s.slice(i, end));
  return negative ? -n : n;
}

/**
 * The value of a decimal number string, or undefined: optional surrounding whitespace, an
 * optional `-`, digits with an optional fraction (or a fraction alone), an optional exponent.
 * A hand-written scanner, linear in the string's length (a regular expression for this grammar
 * backtracks quadratically on a long digit run followed by a non-digit).
 */
export function parseDecimalString(v: string): number | undefined {
  const s = v.trim();
  let i = s.charCodeAt(0) === 0x2d ? 1 : 0;
  const intEnd = skipDigits(s, i);
  let digits = intEnd - i;
  i = intEnd;
  if (s.charCodeAt(i) === 0x2e) {
    // '.'
    const fracEnd = skipDigits(s, i + 1);
    digits += fracEnd - (i + 1);
    i = fracEnd;
  }
  if (digits === 0) return undefined;
  const e = s.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    // 'e' | 'E'
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) i++;
    const expEnd = skipDigits(s, i);
    if (expEnd === i) return undefined;
    i = expEnd;
  }
  return i === s.length ? Number(s) : undefined;
}

function readInt64(v: unknown, path: string, unsigned: boolean, asString: boolean): bigint | string {
  let n: bigint | undefined;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) wrongType(path, "an integer", v);
    n = BigInt(v);
  } else if (typeof v === "string") {
    n = parseIntegerString(v);
    if (n === undefined) wrongType(path, "an integer", v);
  } else {
    wrongType(path, "an integer", v);
  }
  if (unsigned ? n < 0n || n > UINT64_MAX : n < INT64_MIN || n > INT64_MAX) {
    throw serializationError(`Invalid value at '${path}': ${quoted(typeof v === "string" ? v : n)} is out of range for a ${unsigned ? "unsigned " : ""}64-bit integer.`);
  }
  return asString ? n.toString() : n;
}

function readInt32(v: unknown, path: string, unsigned: boolean): number {
  if (typeof v !== "number" || !Number.isInteger(v)) wrongType(path, "an integer", v);
  if (unsigned ? v < 0 || v > 0xffffffff : v < -0x80000000 || v > 0x7fffffff) {
    throw serializationError(`Invalid value at '${path}': ${v} is out of range for a ${unsigned ? "unsigned " : ""}32-bit integer.`);
  }
  return v;
}

function readFloat(v: unknown, path: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    if (v === "NaN") return NaN;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    const n = parseDecimalString(v);
    if (n !== undefined) return n;
  }
  return wrongType(path, "a number", v);
}

function readScalar(plan: { scalar: ScalarType; longAsString: boolean }, v: unknown, path: string): unknown {
  switch (plan.scalar) {
    case ScalarType.STRING:
      if (typeof v !== "string") wrongType(path, "a string", v);
      return v;
    case ScalarType.BOOL:
      if (typeof v !== "boolean") wrongType(path, "a boolean (true or false)", v);
      return v;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return readInt64(v, path, false, plan.longAsString);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return readInt64(v, path, true, plan.longAsString);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return readInt32(v, path, false);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return readInt32(v, path, true);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return readFloat(v, path);
    case ScalarType.BYTES:
      if (typeof v !== "string") wrongType(path, "a base64 string", v);
      return new Uint8Array(Buffer.from(v, "base64"));
  }
}

function readTimestamp(v: unknown, path: string): Timestamp {
  const seconds = typeof v === "number" ? v : typeof v === "string" ? parseDecimalString(v) : undefined;
  if (seconds === undefined) return wrongType(path, "a timestamp in epoch seconds", v);
  const ms = Math.round(seconds * 1000);
  if (!Number.isFinite(ms) || ms < TIMESTAMP_MS_MIN || ms > TIMESTAMP_MS_MAX) {
    throw serializationError(`Invalid value at '${path}': ${quoted(v)} is not a valid timestamp in epoch seconds.`);
  }
  return timestampFromMs(ms);
}

function enumMessage(table: AwsEnumTable, v: string, path: string): string {
  return coralMessage(quoted(v), path, `Member must satisfy enum value set: [${table.values.join(", ")}]`);
}

function readValue(model: Model, plan: ValuePlan, v: unknown, path: string): unknown {
  switch (plan.kind) {
    case "scalar":
      return readScalar(plan, v, path);
    case "enum": {
      if (typeof v !== "string") wrongType(path, "a string", v);
      const n = plan.table.toNumber.get(v);
      if (n === undefined) throw validationError(enumMessage(plan.table, v, path));
      return n;
    }
    case "timestamp":
      return readTimestamp(v, path);
    case "message":
      if (!isPlainObject(v)) wrongType(path, "an object", v);
      return readMessage(model, planOf(model, plan.schema), v, path);
  }
}

function readMessage(model: Model, plan: MessagePlan, obj: Record<string, unknown>, prefix: string): Message {
  const msg = create(plan.schema) as unknown as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const f = plan.byJson.get(key);
    if (f === undefined) continue; // unknown member: ignored
    const v = obj[key];
    if (v === null || v === undefined) continue;
    const path = prefix === "" ? key : `${prefix}.${key}`;
    let out: unknown;
    if (f.shape === "single") {
      out = readValue(model, f.value, v, path);
    } else if (f.shape === "list") {
      if (!Array.isArray(v)) wrongType(path, "an array", v);
      const list: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item === null || item === undefined) continue;
        list.push(readValue(model, f.value, item, `${path}.${i + 1}.member`));
      }
      out = list;
    } else {
      if (!isPlainObject(v)) wrongType(path, "an object", v);
      const map: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const item = v[k];
        if (item === null || item === undefined) continue;
        Object.defineProperty(map, k, { value: readValue(model, f.value, item, `${path}.${k}`), enumerable: true, writable: true, configurable: true });
      }
      out = map;
    }
    if (f.oneof !== undefined) msg[f.oneof] = { case: f.local, value: out };
    else msg[f.local] = out;
  }
  return msg as unknown as Message;
}

/**
 * Converts an AWS JSON request body (already parsed) into a message of `schema`. Unknown members
 * are ignored and null means absent. Throws a SerializationException fault for a value of the
 * wrong JSON type and a ValidationException fault (AWS's enum message) for an unknown enum value.
 */
export function awsJsonToMessage<Desc extends DescMessage>(schema: Desc, json: unknown, model: Model): MessageShape<Desc> {
  if (!isPlainObject(json)) {
    throw notAJsonObject(json);
  }
  return readMessage(model, planOf(model, schema), json, "") as MessageShape<Desc>;
}

// ---------------------------------------------------------------------------------------------
// message -> AWS JSON

function writeScalar(scalar: ScalarType, v: unknown): unknown {
  switch (scalar) {
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return typeof v === "bigint" || typeof v === "string" ? Number(v) : v;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
      return v;
    case ScalarType.BYTES:
      return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : v;
    default:
      return v;
  }
}

function isZeroScalar(v: unknown): boolean {
  return v === "" || v === 0 || v === 0n || v === false || (v instanceof Uint8Array && v.length === 0);
}

/** Returns undefined when the value is absent (enum 0 or a number the model does not know). */
function writeValue(model: Model, plan: ValuePlan, v: unknown): unknown {
  switch (plan.kind) {
    case "scalar":
      return writeScalar(plan.scalar, v);
    case "enum":
      return typeof v === "number" ? plan.table.toAws.get(v) : undefined;
    case "timestamp":
      return timestampMs(v as Timestamp) / 1000;
    case "message":
      return writeMessage(model, planOf(model, plan.schema), v as Record<string, unknown>);
  }
}

function isPresent(f: FieldPlan, msg: Record<string, unknown>): boolean {
  const v = fieldValue(f, msg);
  if (v === undefined || v === null) return false;
  if (f.value.kind === "enum") return v !== 0;
  if (f.implicit) return !isZeroScalar(v);
  return true;
}

function fieldValue(f: FieldPlan, msg: Record<string, unknown>): unknown {
  if (f.oneof === undefined) return msg[f.local];
  const adt = msg[f.oneof];
  if (isPlainObject(adt) && adt.case === f.local) return adt.value;
  return undefined;
}

/**
 * An empty list or map is emitted as `[]`/`{}` only when the AWS structure requires the member
 * and every other required member is present: `ListDomains` with no domains gives
 * `{"domainInfos":[]}` (boto3 code indexes it), while an empty long poll, whose taskToken and
 * execution are absent, gives `{"startedEventId":0,"previousStartedEventId":0}` without `events`,
 * as AWS does (AWS omits a null list and writes an empty one as []; proto cannot tell them apart,
 * so the other required members decide).
 */
function emitEmptyCollection(plan: MessagePlan, f: FieldPlan, msg: Record<string, unknown>): boolean {
  if (!f.awsRequired) return false;
  for (const r of plan.requiredSingles) if (!isPresent(r, msg)) return false;
  return true;
}

function writeMessage(model: Model, plan: MessagePlan, msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of plan.fields) {
    const v = fieldValue(f, msg);
    if (v === undefined || v === null) {
      if (f.shape === "list" && emitEmptyCollection(plan, f, msg)) out[f.json] = [];
      else if (f.shape === "map" && emitEmptyCollection(plan, f, msg)) out[f.json] = {};
      continue;
    }
    if (f.shape === "single") {
      if (f.implicit && isZeroScalar(v)) continue;
      const w = writeValue(model, f.value, v);
      if (w !== undefined) out[f.json] = w;
    } else if (f.shape === "list") {
      const list = v as readonly unknown[];
      if (list.length === 0) {
        if (emitEmptyCollection(plan, f, msg)) out[f.json] = [];
        continue;
      }
      const arr: unknown[] = [];
      for (const item of list) {
        const w = writeValue(model, f.value, item);
        if (w !== undefined) arr.push(w);
      }
      out[f.json] = arr;
    } else {
      const map = v as Record<string, unknown>;
      const keys = Object.keys(map);
      if (keys.length === 0) {
        if (emitEmptyCollection(plan, f, msg)) out[f.json] = {};
        continue;
      }
      const obj: Record<string, unknown> = {};
      for (const k of keys) {
        const w = writeValue(model, f.value, map[k]);
        if (w !== undefined) Object.defineProperty(obj, k, { value: w, enumerable: true, writable: true, configurable: true });
      }
      out[f.json] = obj;
    }
  }
  return out;
}

/**
 * Converts a message of `schema` to the AWS JSON object of its members: unset members are
 * omitted, explicitly present zero values are kept, enums use the AWS spelling, timestamps are
 * epoch seconds with a millisecond fraction. `message` must be a full message (use `create` on an
 * init object first).
 */
export function messageToAwsJson(schema: DescMessage, message: Message, model: Model): Record<string, unknown> {
  return writeMessage(model, planOf(model, schema), message as unknown as Record<string, unknown>);
}
