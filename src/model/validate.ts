// Model-driven request validation: the constraints of the AWS model (required members, string
// lengths and patterns, numeric ranges, list sizes) plus SWF's naming rule, reported in Coral's
// ValidationException form:
//
//   2 validation errors detected: Value null at 'taskList' failed to satisfy constraint: Member
//   must not be null; Value 'x…' at 'domain' failed to satisfy constraint: Member must have length
//   less than or equal to 256
//
// Every service calls validateRequest before touching the engine, whichever protocol carried the
// request. The walk over (input shape, message) is compiled once per (model, operation, schema)
// and cached; a call only runs the precomputed checks.
//
// SWF's naming rule is stated only in member documentation ("The specified string must not start
// or end with whitespace. It must not contain a : (colon), / (slash), | (vertical bar), or any
// control characters (\u0000-\u001f | \u007f-\u009f). Also, it must not be the literal string
// arn."). The three sentences are detected separately from each member's documentation, because
// the model states the whitespace sentence for some members only (PollForActivityTask.taskList,
// RegisterDomain.name, StartChildWorkflowExecutionDecisionAttributes.taskList) and being stricter
// than AWS would reject names AWS accepts. In the SWF model 15 members carry the rule: task lists
// (applied to the list's `name`), domain names, type names and versions, workflowId, activityId
// and timerId.
//
// Patterns: the model's Java regexes are compiled as anchored JS RegExps with the `u` flag
// (falling back to no flag). Patterns that compile in neither form are skipped; the models
// shipped today have none (SWF: no patterns; Step Functions: `^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$`,
// `[!-~]+`, `\p{ASCII}*`; Data Pipeline: `[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*`,
// all of which compile). Skipped patterns are listed by skippedPatterns().
import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import { awsEnumTable } from "./enums.ts";
import { maxQuoted, quoted, validationError } from "../faults.ts";
import type { Model, ModelMember, ModelShape } from "./model.ts";

/** Which sentences of SWF's naming rule a member's documentation states. */
interface NamingRule {
  readonly whitespace: boolean;
  readonly characters: boolean;
  readonly arn: boolean;
}

interface StringCheck {
  readonly kind: "string";
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly pattern: { readonly re: RegExp; readonly source: string } | undefined;
  readonly naming: NamingRule | undefined;
}
interface NumberCheck {
  readonly kind: "number";
  readonly min: number | undefined;
  readonly max: number | undefined;
}
interface EnumCheck {
  readonly kind: "enum";
  /** Valid proto numbers (0 = absent is handled as a missing member). */
  readonly numbers: ReadonlySet<number>;
  readonly values: readonly string[];
}
interface StructCheck {
  readonly kind: "struct";
  readonly validator: StructValidator;
}
interface NoCheck {
  readonly kind: "none";
}
type ValueCheck = StringCheck | NumberCheck | EnumCheck | StructCheck | NoCheck;

interface MemberCheck {
  readonly name: string;
  readonly local: string;
  readonly oneof: string | undefined;
  readonly required: boolean;
  readonly collection: "single" | "list" | "map";
  /** List/map size bounds. */
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** Check of the value (single) or of each item (list/map). */
  readonly value: ValueCheck;
  /** Whether 0 / "" / false means absent (implicit presence, enums). */
  readonly zeroIsAbsent: boolean;
}

interface StructValidator {
  members: MemberCheck[];
}

const IMPLICIT_PRESENCE = 2; // google.protobuf.FeatureSet.FieldPresence.IMPLICIT

// ---------------------------------------------------------------------------------------------
// Compilation

const skipped = new Set<string>();
const patternCache = new Map<string, { re: RegExp; source: string } | undefined>();

/** A string shape of a model with a pattern, and the RegExp request strings are matched against. */
export interface ModelPattern {
  readonly shape: string;
  readonly source: string;
  /** undefined when the pattern does not compile in JS (it is then not checked). */
  readonly re: RegExp | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
}

/** Every string shape of `model` that has a pattern, with the RegExp validation uses for it. */
export function modelPatterns(model: Model): ModelPattern[] {
  const out: ModelPattern[] = [];
  for (const [shape, s] of Object.entries(model.shapes)) {
    if (s.type !== "string" || s.pattern === undefined) continue;
    out.push({ shape, source: s.pattern, re: compilePattern(s.pattern)?.re, min: s.min, max: s.max });
  }
  return out;
}

/** Model patterns that do not compile as JS regular expressions and are therefore not checked. */
export function skippedPatterns(): readonly string[] {
  return [...skipped];
}

function compilePattern(p: string): { re: RegExp; source: string } | undefined {
  if (patternCache.has(p)) return patternCache.get(p);
  let out: { re: RegExp; source: string } | undefined;
  for (const flags of ["u", ""]) {
    try {
      out = { re: new RegExp(`^(?:${p})$`, flags), source: p };
      break;
    } catch {
      // try the next flag set
    }
  }
  if (!out) skipped.add(p);
  patternCache.set(p, out);
  return out;
}

function plainDoc(html: string | undefined): string {
  if (!html) return "";
  return html.replace(/<[^>]+>/g, "").replace(/\s+/g, " ");
}

function namingRuleOf(member: ModelMember): NamingRule | undefined {
  const doc = plainDoc(member.documentation);
  if (doc === "") return undefined;
  const rule: NamingRule = {
    whitespace: doc.includes("must not start or end with whitespace"),
    characters: /must not contain a : \(colon\), \/ \(slash\), \| \(vertical bar\), or any control characters/.test(doc),
    arn: doc.includes("must not be the literal string arn"),
  };
  return rule.whitespace || rule.characters || rule.arn ? rule : undefined;
}

function ruleKey(rule: NamingRule | undefined): string {
  return rule ? `${rule.whitespace ? "w" : ""}${rule.characters ? "c" : ""}${rule.arn ? "a" : ""}` : "";
}

const structCache = new WeakMap<Model, Map<string, WeakMap<DescMessage, StructValidator>>>();

/**
 * The validator of structure `shapeName` read as `schema`. `inherited` is a naming rule stated on
 * the member that holds this structure (a task list), applied to the structure's strings.
 */
function structValidator(model: Model, shapeName: string, schema: DescMessage, inherited: NamingRule | undefined): StructValidator {
  let perModel = structCache.get(model);
  if (!perModel) {
    perModel = new Map();
    structCache.set(model, perModel);
  }
  const key = `${shapeName}|${ruleKey(inherited)}`;
  let perShape = perModel.get(key);
  if (!perShape) {
    perShape = new WeakMap();
    perModel.set(key, perShape);
  }
  let v = perShape.get(schema);
  if (v) return v;
  v = { members: [] };
  perShape.set(schema, v); // before compiling members: recursive shapes reuse it
  v.members = compileMembers(model, model.shapes[shapeName], schema, inherited);
  return v;
}

function valueCheck(model: Model, shapeName: string, field: DescField, naming: NamingRule | undefined): ValueCheck {
  const shape: ModelShape | undefined = model.shapes[shapeName];
  if (!shape) return { kind: "none" };
  const enumDesc =
    field.fieldKind === "enum" ? field.enum : field.fieldKind === "list" && field.listKind === "enum" ? field.enum : field.fieldKind === "map" && field.mapKind === "enum" ? field.enum : undefined;
  if (enumDesc) {
    const table = awsEnumTable(model, enumDesc);
    return { kind: "enum", numbers: new Set(table.toAws.keys()), values: table.values };
  }
  const msgDesc =
    field.fieldKind === "message" ? field.message : field.fieldKind === "list" && field.listKind === "message" ? field.message : field.fieldKind === "map" && field.mapKind === "message" ? field.message : undefined;
  switch (shape.type) {
    case "string":
      if (shape.enum) return { kind: "none" };
      return {
        kind: "string",
        min: shape.min,
        max: shape.max,
        pattern: shape.pattern === undefined ? undefined : compilePattern(shape.pattern),
        naming,
      };
    case "integer":
    case "long":
    case "double":
    case "float":
      return shape.min === undefined && shape.max === undefined ? { kind: "none" } : { kind: "number", min: shape.min, max: shape.max };
    case "structure":
      if (!msgDesc || msgDesc.typeName === "google.protobuf.Timestamp") return { kind: "none" };
      return { kind: "struct", validator: structValidator(model, shapeName, msgDesc, naming) };
    default:
      return { kind: "none" };
  }
}

function compileMembers(model: Model, shape: ModelShape | undefined, schema: DescMessage, inherited: NamingRule | undefined): MemberCheck[] {
  if (!shape?.members) return [];
  const required = new Set(shape.required ?? []);
  const byJson = new Map<string, DescField>();
  for (const f of schema.fields) byJson.set(f.jsonName, f);
  const out: MemberCheck[] = [];
  for (const [name, member] of Object.entries(shape.members)) {
    const field = byJson.get(name);
    if (!field) continue;
    const memberShape: ModelShape | undefined = model.shapes[member.shape];
    const naming = namingRuleOf(member) ?? inherited;
    let collection: MemberCheck["collection"] = "single";
    let itemShape = member.shape;
    if (memberShape?.type === "list" && memberShape.member && field.fieldKind === "list") {
      collection = "list";
      itemShape = memberShape.member.shape;
    } else if (memberShape?.type === "map" && memberShape.value && field.fieldKind === "map") {
      collection = "map";
      itemShape = memberShape.value.shape;
    }
    const value = valueCheck(model, itemShape, field, naming);
    const isCollection = collection !== "single";
    out.push({
      name,
      local: field.localName,
      oneof: field.oneof?.localName,
      required: required.has(name),
      collection,
      min: isCollection ? memberShape?.min : undefined,
      max: isCollection ? memberShape?.max : undefined,
      value,
      zeroIsAbsent: field.fieldKind === "enum" || (field.fieldKind === "scalar" && field.presence === IMPLICIT_PRESENCE && field.oneof === undefined),
    });
  }
  return out;
}

const opCache = new WeakMap<Model, Map<string, WeakMap<DescMessage, StructValidator>>>();

function operationValidator(model: Model, operation: string, schema: DescMessage): StructValidator {
  let perModel = opCache.get(model);
  if (!perModel) {
    perModel = new Map();
    opCache.set(model, perModel);
  }
  let perOp = perModel.get(operation);
  if (!perOp) {
    perOp = new WeakMap();
    perModel.set(operation, perOp);
  }
  let v = perOp.get(schema);
  if (!v) {
    const op = model.operations[operation];
    if (!op) throw new Error(`validateRequest: the model has no operation ${operation}`);
    v = op.input ? structValidator(model, op.input.shape, schema, undefined) : { members: [] };
    perOp.set(schema, v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Checking

function shown(v: unknown): string {
  if (typeof v === "string") return `'${quoted(v)}'`;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return `'${String(v)}'`;
  if (Array.isArray(v)) {
    let text = "[";
    for (let i = 0; i < v.length && text.length <= maxQuoted; i++) {
      const x: unknown = v[i];
      text += `${i === 0 ? "" : ", "}${typeof x === "object" && x !== null ? "{…}" : String(x).slice(0, maxQuoted)}`;
    }
    text += "]";
    return `'${quoted(text)}'`;
  }
  return "null";
}

/** The violations found so far: every one counted, the first MAX_REPORTED worded. */
interface Violations {
  readonly list: string[];
  total: number;
}

/** Most violations one message words; the rest are counted (the message stays bounded). */
const MAX_REPORTED = 100;

/**
 * Where a value sits in the request, built into its text (`decisions.3.member.timerId`) only
 * when a violation is worded: a large valid request allocates no path strings.
 */
interface Path {
  readonly parent: Path | undefined;
  /** A member name or map key, or a list index (0-based, written `<i+1>.member`). */
  readonly segment: string | number;
}

function pathText(p: Path): string {
  const parts: string[] = [];
  for (let q: Path | undefined = p; q !== undefined; q = q.parent) parts.push(typeof q.segment === "number" ? `${q.segment + 1}.member` : q.segment);
  return parts.reverse().join(".");
}

function violation(errors: Violations, value: unknown, path: Path, constraint: string): void {
  errors.total++;
  if (errors.list.length < MAX_REPORTED) errors.list.push(`Value ${shown(value)} at '${pathText(path)}' failed to satisfy constraint: Member ${constraint}`);
}

const BAD_CHARS = /[:/|\u0000-\u001f\u007f-\u009f]/;
const EDGE_WHITESPACE = /^\s|\s$/;

function checkString(c: StringCheck, s: string, path: Path, errors: Violations): void {
  if (c.min !== undefined && s.length < c.min) violation(errors, s, path, `must have length greater than or equal to ${c.min}`);
  const tooLong = c.max !== undefined && s.length > c.max;
  if (tooLong) violation(errors, s, path, `must have length less than or equal to ${c.max}`);
  // A string over its maximum length is not matched against the pattern: a pattern only ever
  // sees input of at most the length the model allows (test/model/patterns.test.ts checks that
  // every model pattern runs in linear time at that length).
  else if (c.pattern && !c.pattern.re.test(s)) violation(errors, s, path, `must satisfy regular expression pattern: ${c.pattern.source}`);
  const n = c.naming;
  if (n) {
    if (n.whitespace && EDGE_WHITESPACE.test(s)) violation(errors, s, path, "must not start or end with whitespace");
    if (n.characters && BAD_CHARS.test(s)) violation(errors, s, path, "must not contain ':', '/', '|' or control characters");
    if (n.arn && s === "arn") violation(errors, s, path, "must not be the literal string 'arn'");
  }
}

function checkValue(c: ValueCheck, v: unknown, path: Path, errors: Violations): void {
  switch (c.kind) {
    case "string":
      if (typeof v === "string") checkString(c, v, path, errors);
      return;
    case "number": {
      const n = typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
      if (Number.isNaN(n)) return;
      if (c.min !== undefined && n < c.min) violation(errors, v, path, `must have value greater than or equal to ${c.min}`);
      if (c.max !== undefined && n > c.max) violation(errors, v, path, `must have value less than or equal to ${c.max}`);
      return;
    }
    case "enum":
      // Only reachable for numbers the AWS JSON route cannot produce (a Connect client's open enum).
      if (typeof v === "number" && v !== 0 && !c.numbers.has(v)) {
        violation(errors, v, path, `must satisfy enum value set: [${c.values.join(", ")}]`);
      }
      return;
    case "struct":
      if (typeof v === "object" && v !== null) checkStruct(c.validator, v as Record<string, unknown>, path, errors);
      return;
    case "none":
      return;
  }
}

function memberValue(m: MemberCheck, msg: Record<string, unknown>): unknown {
  if (m.oneof === undefined) return msg[m.local];
  const adt = msg[m.oneof];
  if (typeof adt === "object" && adt !== null && (adt as { case?: unknown }).case === m.local) return (adt as { value?: unknown }).value;
  return undefined;
}

function checkStruct(v: StructValidator, msg: Record<string, unknown>, prefix: Path | undefined, errors: Violations): void {
  for (const m of v.members) {
    const value = memberValue(m, msg);
    if (value === undefined && !m.required) continue;
    const path: Path = { parent: prefix, segment: m.name };
    if (m.collection === "single") {
      if (value === undefined || value === null || (m.zeroIsAbsent && (value === 0 || value === "" || value === false || value === 0n))) {
        if (m.required) violation(errors, null, path, "must not be null");
        continue;
      }
      checkValue(m.value, value, path, errors);
    } else if (m.collection === "list") {
      const list = Array.isArray(value) ? (value as unknown[]) : [];
      if (list.length === 0) {
        // Proto cannot tell an absent list from an empty one: empty counts as absent, so it
        // fails `required` and is not held to the list's minimum size.
        if (m.required) violation(errors, null, path, "must not be null");
        continue;
      }
      if (m.min !== undefined && list.length < m.min) violation(errors, list, path, `must have length greater than or equal to ${m.min}`);
      if (m.max !== undefined && list.length > m.max) violation(errors, list, path, `must have length less than or equal to ${m.max}`);
      if (m.value.kind !== "none") {
        for (let i = 0; i < list.length; i++) checkValue(m.value, list[i], { parent: path, segment: i }, errors);
      }
    } else {
      const map = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
      const keys = Object.keys(map);
      if (keys.length === 0) {
        if (m.required) violation(errors, null, path, "must not be null");
        continue;
      }
      if (m.min !== undefined && keys.length < m.min) violation(errors, `{${keys.length} entries}`, path, `must have length greater than or equal to ${m.min}`);
      if (m.max !== undefined && keys.length > m.max) violation(errors, `{${keys.length} entries}`, path, `must have length less than or equal to ${m.max}`);
      if (m.value.kind !== "none") {
        for (const k of keys) checkValue(m.value, map[k], { parent: path, segment: k }, errors);
      }
    }
  }
}

function collect(model: Model, operation: string, schema: DescMessage, message: Message): Violations {
  const errors: Violations = { list: [], total: 0 };
  checkStruct(operationValidator(model, operation, schema), message as unknown as Record<string, unknown>, undefined, errors);
  return errors;
}

/** The violations of `message` against the input shape of `operation`, in Coral's wording (the first 100). */
export function requestViolations(model: Model, operation: string, schema: DescMessage, message: Message): string[] {
  return collect(model, operation, schema, message).list;
}

/**
 * Checks `message` (of `schema`) against the input shape of `operation` and throws one
 * ValidationException fault listing every violation (the first 100 of them worded, the rest
 * counted). Fields are matched to model members by JSON name, so a taskgate-only request
 * (StreamActivityTasksRequest) can be checked against the operation whose members it shares
 * (PollForActivityTask); fields the model does not know are not checked. Throws a plain Error for
 * an operation the model does not have (a programming error).
 */
export function validateRequest(model: Model, operation: string, schema: DescMessage, message: Message): void {
  const { list, total } = collect(model, operation, schema, message);
  if (total === 0) return;
  const more = total > list.length ? `; and ${total - list.length} more` : "";
  throw validationError(`${total} validation error${total === 1 ? "" : "s"} detected: ${list.join("; ")}${more}`);
}

/** One entry of a taskgate-only batch request, as the batch validator sees it. */
export interface BatchEntry {
  /** The member of the entry that is set (`completed`), or undefined when none is. */
  member: string | undefined;
  /** The operation whose request the set member carries (`RespondActivityTaskCompleted`). */
  operation: string;
  schema: DescMessage;
  message: Message | undefined;
}

/**
 * Checks a taskgate-only batch request whose list member `list` holds `min` to `max` entries,
 * each carrying the request of one model operation (one of `members`). Each entry is checked as
 * its operation, and a violation names the entry in Coral's list notation
 * (`outcomes.3.member.completed.taskToken`, counting from 1). Throws one ValidationException
 * listing every violation, as `validateRequest` does.
 */
export function validateBatch(model: Model, list: string, entries: readonly BatchEntry[], range: { min: number; max: number }, members: readonly string[]): void {
  const errors: Violations = { list: [], total: 0 };
  const root: Path = { parent: undefined, segment: list };
  if (entries.length < range.min) violation(errors, entries.length === 0 ? null : entries, root, `must have length greater than or equal to ${range.min}`);
  else if (entries.length > range.max) violation(errors, `[${entries.length} entries]`, root, `must have length less than or equal to ${range.max}`);
  else {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const at: Path = { parent: root, segment: i };
      if (e.member === undefined || e.message === undefined) {
        violation(errors, null, at, `must set exactly one of ${members.join(", ")}`);
        continue;
      }
      checkStruct(operationValidator(model, e.operation, e.schema), e.message as unknown as Record<string, unknown>, { parent: at, segment: e.member }, errors);
    }
  }
  if (errors.total === 0) return;
  const more = errors.total > errors.list.length ? `; and ${errors.total - errors.list.length} more` : "";
  throw validationError(`${errors.total} validation error${errors.total === 1 ? "" : "s"} detected: ${errors.list.join("; ")}${more}`);
}
