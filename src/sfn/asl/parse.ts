// From definition text to the typed tree (definition.ts), with AWS's diagnostics for everything
// wrong in it: INVALID_JSON_DESCRIPTION for text that is not JSON, SCHEMA_VALIDATION_FAILED for
// fields, types, values and paths, INVALID_RESOURCE for a Task resource taskgate does not run,
// INVALID_JSONATA_EXPRESSION and UNSUPPORTED_JSONATA_EXPRESSION for JSONata (codes AWS gives though
// its API reference does not list them), INVALID_STATE_NAME and DUPLICATE_STATE_NAME for names;
// WARNINGs NO_DOLLAR, NO_PATH and PASS_RESULT_IS_STATIC. The graph rules (transition targets,
// reachability, a terminal state) are analyse.ts's, run here once the schema has no errors.
//
// Wording: AWS's own where it was observed (see test/sfn/fixtures/definitions/invalid); the other
// messages follow the same patterns ("Field 'X' is not supported", "These fields are required:
// [...]", "The field 'X' is required but was missing", "The value for the field 'X' must be …").

import { analyse } from "./analyse.ts";
import { comparisonOperators, parseTimestamp } from "./choice.ts";
import type {
  Catcher,
  ChoiceCondition,
  ChoiceRule,
  Diagnostic,
  JsonPathIo,
  QueryLanguage,
  Retrier,
  State,
  StateMachine,
  StateType,
} from "./definition.ts";
import { isIntrinsic, parseIntrinsic } from "./intrinsics.ts";
import jsonata from "jsonata";
import { checkJsonata, checkStatesReferences, isJsonataExpression, jsonataBody, type StatesMember } from "./jsonata.ts";
import { isJsonObject, type Json, type JsonObject } from "./json.ts";
import { checkReferencePath, parsePath, PathSyntaxError, type ReferencePathRoots } from "./paths.ts";
import { checkVariableName } from "./variables.ts";

/** The longest state name AWS accepts, in characters. */
export const MAX_STATE_NAME_LENGTH = 80;

/** The state types in the order AWS lists them in its message for an unknown Type. */
export const STATE_TYPES: readonly StateType[] = ["Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map"];

/** What parseDefinition gives: the tree when the definition has no ERROR diagnostic, and every diagnostic found. */
export interface ParsedDefinition {
  readonly machine?: StateMachine;
  readonly diagnostics: Diagnostic[];
}

/** The state machine type the definition is for (ValidateStateMachineDefinition's `type`; default STANDARD). */
export interface ParseOptions {
  readonly type?: "STANDARD" | "EXPRESS";
}

/**
 * Parses a definition and reports every problem AWS reports for it. `machine` is set only when no
 * diagnostic is an ERROR (WARNINGs do not prevent creating a state machine). The graph rules
 * (analyse.ts) run only on a definition without schema errors: they need a sound tree. An EXPRESS
 * machine cannot run activities, so every Task of one is refused, as AWS refuses Activity ARNs there.
 */
export function parseDefinition(text: string, options: ParseOptions = {}): ParsedDefinition {
  if (text.trim() === "") return { diagnostics: [schemaError("Definition must be a valid JSON object")] };
  const json = parseJson(text);
  if ("error" in json) return { diagnostics: [json.error] };
  if (!isJsonObject(json.value)) return { diagnostics: [schemaError("Definition must be a valid JSON object")] };
  const ctx: Ctx = { diagnostics: [], duplicates: json.duplicates, topQl: "JSONPath", express: options.type === "EXPRESS" };
  const machine = parseTopLevel(json.value, ctx);
  const errors = ctx.diagnostics.some((d) => d.severity === "ERROR");
  if (machine === undefined || errors) return { diagnostics: ctx.diagnostics };
  const diagnostics = [...ctx.diagnostics, ...analyse(machine)];
  return diagnostics.some((d) => d.severity === "ERROR") ? { diagnostics } : { machine, diagnostics };
}

// ---------------------------------------------------------------------------------------------
// JSON text, with Jackson's messages (what AWS parses definitions with) and duplicate keys kept

interface JsonOk {
  value: Json;
  /** Every key that appears more than once in one object: the object's location and the key. */
  duplicates: { at: string; key: string }[];
}

function parseJson(text: string): JsonOk | { error: Diagnostic } {
  const p = new JsonReader(text);
  try {
    p.ws();
    const value = p.value("");
    p.ws();
    if (p.pos < text.length) p.unexpected("expected end-of-input");
    return { value, duplicates: p.duplicates };
  } catch (e) {
    if (!(e instanceof JsonTextError)) throw e;
    const location = `[Source: (String)${sourceExcerpt(text)}; line: ${e.line}, column: ${e.column}]`;
    return { error: { severity: "ERROR", code: "INVALID_JSON_DESCRIPTION", message: `${e.message}\n at ${location}`, location } };
  }
}

/** The source as Jackson quotes it in its messages: as is, in double quotes, at most 500 characters. */
function sourceExcerpt(text: string): string {
  return text.length <= 500 ? `"${text}"` : `"${text.slice(0, 500)}"[truncated ${text.length - 500} chars]`;
}

/** The deepest nesting of objects and arrays a definition may have (Jackson's default limit). */
const MAX_JSON_DEPTH = 1000;
const WORD = /[A-Za-z0-9_$]+/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class JsonTextError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number) {
    super(message);
    this.line = line;
    this.column = column;
  }
}

class JsonReader {
  readonly text: string;
  pos = 0;
  depth = 0;
  readonly duplicates: { at: string; key: string }[] = [];

  constructor(text: string) {
    this.text = text;
  }

  /** Fails with the line and column Jackson reports: just after what was read. */
  fail(message: string, end = this.pos): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < end; i++) {
      if (this.text[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
    }
    throw new JsonTextError(message, line, end - lineStart + 1);
  }

  unexpected(expecting: string): never {
    if (this.pos >= this.text.length) this.fail(`Unexpected end-of-input: ${expecting}`);
    const c = this.text[this.pos];
    this.fail(`Unexpected character (${charName(c)}): ${expecting}`, this.pos + 1);
  }

  ws(): void {
    while (this.pos < this.text.length && " \t\r\n".includes(this.text[this.pos])) this.pos++;
  }

  value(at: string): Json {
    const c = this.text[this.pos];
    if (c === "{") return this.object(at);
    if (c === "[") return this.array(at);
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    if (c !== undefined && /[A-Za-z_]/.test(c)) {
      const word = this.match(WORD) ?? c;
      this.pos += word.length;
      if (word === "true") return true;
      if (word === "false") return false;
      if (word === "null") return null;
      this.fail(`Unrecognized token '${word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`);
    }
    return this.unexpected("expected a value");
  }

  object(at: string): JsonObject {
    this.enter();
    this.pos++;
    const out: JsonObject = {};
    this.ws();
    if (this.text[this.pos] === "}") {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.unexpected("was expecting double-quote to start field name");
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ":") this.unexpected("was expecting a colon to separate field name and value");
      this.pos++;
      this.ws();
      const value = this.value(`${at}/${key}`);
      if (Object.hasOwn(out, key)) this.duplicates.push({ at, key });
      out[key] = value;
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === "}") {
        this.depth--;
        return out;
      }
      if (c !== ",") {
        this.pos--;
        this.unexpected(`was expecting comma to separate Object entries`);
      }
    }
  }

  array(at: string): Json[] {
    this.enter();
    this.pos++;
    const out: Json[] = [];
    this.ws();
    if (this.text[this.pos] === "]") {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(`${at}[${out.length}]`));
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === "]") {
        this.depth--;
        return out;
      }
      if (c !== ",") {
        this.pos--;
        this.unexpected(`was expecting comma to separate Array entries`);
      }
    }
  }

  string(): string {
    const m = this.match(STRING);
    if (m === undefined) {
      const close = this.text.indexOf('"', this.pos + 1);
      if (close < 0) {
        this.pos = this.text.length;
        this.fail("Unexpected end-of-input: was expecting closing quote for a string value");
      }
      this.fail("Illegal character or escape in a string value", close);
    }
    this.pos += m.length;
    return JSON.parse(m) as string;
  }

  number(): number {
    const m = this.match(NUMBER);
    if (m === undefined) return this.unexpected("expected digit (0-9) to follow minus sign, for valid numeric value");
    this.pos += m.length;
    return Number(m);
  }

  /** The text a sticky pattern matches at the current position (not consumed). */
  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    return pattern.exec(this.text)?.[0];
  }

  /** Jackson's nesting limit (StreamReadConstraints): deeper documents are refused, not parsed. */
  enter(): void {
    this.depth++;
    if (this.depth > MAX_JSON_DEPTH) {
      this.fail(`Document nesting depth (${this.depth}) exceeds the maximum allowed (${MAX_JSON_DEPTH}, from \`StreamReadConstraints.getMaxNestingDepth()\`)`, this.pos + 1);
    }
  }
}

function charName(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return code < 32 ? `CTRL-CHAR, code ${code}` : `'${c}' (code ${code})`;
}

// ---------------------------------------------------------------------------------------------
// Schema

interface Ctx {
  diagnostics: Diagnostic[];
  duplicates: { at: string; key: string }[];
  topQl: QueryLanguage;
  express: boolean;
}

function schemaError(message: string, location?: string): Diagnostic {
  return location === undefined
    ? { severity: "ERROR", code: "SCHEMA_VALIDATION_FAILED", message }
    : { severity: "ERROR", code: "SCHEMA_VALIDATION_FAILED", message, location };
}

function report(ctx: Ctx, message: string, location: string, code = "SCHEMA_VALIDATION_FAILED"): void {
  ctx.diagnostics.push({ severity: "ERROR", code, message, location });
}

function warn(ctx: Ctx, code: string, message: string, location: string): void {
  ctx.diagnostics.push({ severity: "WARNING", code, message, location });
}

const topFields = ["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"];
const branchFields = ["Comment", "StartAt", "States"];
const processorFields = ["Comment", "StartAt", "States", "ProcessorConfig"];

function parseTopLevel(def: JsonObject, ctx: Ctx): StateMachine | undefined {
  const ql = def.QueryLanguage;
  if (ql !== undefined) {
    // As on AWS, any value but exactly "JSONPath" makes the machine JSONata, a wrong one reported besides.
    if (ql !== "JSONPath") ctx.topQl = "JSONata";
    if (ql !== "JSONPath" && ql !== "JSONata") report(ctx, "The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]", "/QueryLanguage");
  }
  let timeoutSeconds: number | undefined;
  if (def.TimeoutSeconds !== undefined) {
    if (isPositiveInteger(def.TimeoutSeconds)) timeoutSeconds = def.TimeoutSeconds;
    else report(ctx, "The value for the field 'TimeoutSeconds' must be a positive integer", "/TimeoutSeconds");
  }
  let version: string | undefined;
  if (def.Version !== undefined) {
    if (typeof def.Version === "string") version = def.Version;
    else report(ctx, "The value for the field 'Version' must be a string", "/Version");
  }
  const machine = parseMachine(def, "", topFields, ctx);
  if (machine === undefined) return undefined;
  return { ...machine, ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }), ...(version === undefined ? {} : { version }) };
}

/** A machine object: top level (path ""), a branch or an item processor. `at` is the object's location. */
function parseMachine(def: JsonObject, at: string, allowed: readonly string[], ctx: Ctx): StateMachine | undefined {
  const loc = at === "" ? "/" : at;
  for (const key of Object.keys(def)) {
    if (!allowed.includes(key)) report(ctx, `Field '${key}' is not supported`, loc);
  }
  const missing = ["States", "StartAt"].filter((k) => def[k] === undefined);
  if (missing.length > 0) {
    report(ctx, `These fields are required: [${missing.join(", ")}]`, loc);
  }
  let comment: string | undefined;
  if (def.Comment !== undefined) {
    if (typeof def.Comment === "string") comment = def.Comment;
    else report(ctx, "The value for the field 'Comment' must be a string", `${at}/Comment`);
  }
  const startAt = def.StartAt;
  if (startAt !== undefined && typeof startAt !== "string") report(ctx, "The value for the field 'StartAt' must be a string", `${at}/StartAt`);
  const statesDef = def.States;
  if (statesDef === undefined) return undefined;
  if (!isJsonObject(statesDef)) {
    report(ctx, "The value for the field 'States' must be an object", `${at}/States`);
    return undefined;
  }
  if (Object.keys(statesDef).length === 0) report(ctx, "Value cannot be empty", `${at}/States`);
  for (const d of ctx.duplicates) {
    if (d.at === `${at}/States`) report(ctx, `Duplicate State name: ${d.key}`, `${at}/States/${d.key}`, "DUPLICATE_STATE_NAME");
  }
  const states: State[] = [];
  for (const [name, stateDef] of Object.entries(statesDef)) {
    const state = parseState(name, stateDef, `${at}/States/${name}`, ctx);
    if (state !== undefined) states.push(state);
  }
  if (typeof startAt !== "string") return undefined;
  return {
    path: at,
    ...(comment === undefined ? {} : { comment }),
    startAt,
    queryLanguage: ctx.topQl,
    states,
    index: new Map(states.map((s) => [s.name, s])),
  };
}

// Which fields each state type takes in each query language (Type, Comment and QueryLanguage are
// everyone's). A field in neither list is "not supported"; a field of the other language only is
// reported as such.
const common = ["Type", "Comment", "QueryLanguage"];
const transition = ["Next", "End"];
const distributedOnly = [
  "ItemReader",
  "ItemBatcher",
  "ResultWriter",
  "Label",
  "ToleratedFailurePercentage",
  "ToleratedFailurePercentagePath",
  "ToleratedFailureCount",
  "ToleratedFailureCountPath",
];
const jsonPathFields: Record<StateType, readonly string[]> = {
  Task: [...transition, "Assign", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Credentials"],
  Pass: [...transition, "Assign", "InputPath", "OutputPath", "Parameters", "Result", "ResultPath"],
  Choice: ["Assign", "InputPath", "OutputPath", "Choices", "Default"],
  Wait: [...transition, "Assign", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"],
  Succeed: ["InputPath", "OutputPath"],
  Fail: ["Error", "Cause", "ErrorPath", "CausePath"],
  Parallel: [...transition, "Assign", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Branches", "Retry", "Catch"],
  Map: [...transition, "Assign", "InputPath", "OutputPath", "ItemsPath", "ItemSelector", "Parameters", "ResultSelector", "ResultPath", "ItemProcessor", "Iterator", "MaxConcurrency", "MaxConcurrencyPath", "Retry", "Catch", ...distributedOnly],
};
const jsonataFields: Record<StateType, readonly string[]> = {
  Task: [...transition, "Assign", "Arguments", "Output", "Resource", "TimeoutSeconds", "HeartbeatSeconds", "Retry", "Catch", "Credentials"],
  Pass: [...transition, "Assign", "Output"],
  Choice: ["Assign", "Output", "Choices", "Default"],
  Wait: [...transition, "Assign", "Output", "Seconds", "Timestamp"],
  Succeed: ["Output"],
  Fail: ["Error", "Cause"],
  Parallel: [...transition, "Assign", "Arguments", "Output", "Branches", "Retry", "Catch"],
  Map: [...transition, "Assign", "Output", "Items", "ItemSelector", "ItemProcessor", "Iterator", "MaxConcurrency", "Retry", "Catch", ...distributedOnly],
};

/** What `$states` offers in most fields; `result` only in the Output and Assign of Task, Parallel and Map, `errorOutput` only in a Catcher's. */
const INPUT_CONTEXT: readonly StatesMember[] = ["input", "context"];
const WITH_RESULT: readonly StatesMember[] = ["input", "context", "result"];
const WITH_ERROR_OUTPUT: readonly StatesMember[] = ["input", "context", "errorOutput"];

function otherQl(ql: QueryLanguage): QueryLanguage {
  return ql === "JSONPath" ? "JSONata" : "JSONPath";
}

function qlMismatch(ql: QueryLanguage, field: string): string {
  return `The QueryLanguage is set to '${ql}', but field '${field}' is only supported for the '${otherQl(ql)}' QueryLanguage`;
}

/** One state. Reports its problems; returns undefined when its type is unknown or a field it needs is unusable. */
function parseState(name: string, def: Json, at: string, ctx: Ctx): State | undefined {
  if ([...name].length > MAX_STATE_NAME_LENGTH) {
    report(ctx, `State name '${name}' is longer than ${MAX_STATE_NAME_LENGTH} characters`, at, "INVALID_STATE_NAME");
  }
  if (!isJsonObject(def)) {
    report(ctx, "The value for the state must be an object", at);
    return undefined;
  }
  if (def.Type === undefined) {
    report(ctx, "These fields are required: [Type]", at);
    return undefined;
  }
  const type = def.Type;
  if (typeof type !== "string" || !(STATE_TYPES as readonly string[]).includes(type)) {
    report(ctx, `The field 'Type' should have one of these values: [${STATE_TYPES.join(", ")}]`, `${at}/Type`);
    return undefined;
  }
  const t = type as StateType;
  let ql = ctx.topQl;
  if (def.QueryLanguage !== undefined) {
    if (def.QueryLanguage !== "JSONPath" && def.QueryLanguage !== "JSONata") {
      report(ctx, "The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]", `${at}/QueryLanguage`);
      ql = "JSONata";
    } else if (ctx.topQl === "JSONata" && def.QueryLanguage === "JSONPath") {
      report(ctx, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", at);
    } else ql = def.QueryLanguage;
  }
  const own = ql === "JSONPath" ? jsonPathFields[t] : jsonataFields[t];
  const other = ql === "JSONPath" ? jsonataFields[t] : jsonPathFields[t];
  for (const key of Object.keys(def)) {
    if (common.includes(key) || own.includes(key)) continue;
    report(ctx, other.includes(key) ? qlMismatch(ql, key) : `Field '${key}' is not supported`, at);
  }
  const f = new Fields(def, at, ql, ctx);
  const base = {
    name,
    path: at,
    queryLanguage: ql,
    ...opt("comment", f.string("Comment")),
    ...opt("assign", t === "Succeed" || t === "Fail" ? undefined : f.assign("Assign", producesResult(t) ? WITH_RESULT : INPUT_CONTEXT)),
  };
  switch (t) {
    case "Task":
      return parseTask(base, f);
    case "Pass": {
      const io = ql === "JSONPath" ? { ...f.io(), ...opt("parameters", f.template("Parameters")), resultPath: f.resultPath() } : undefined;
      if (ql === "JSONPath" && def.Result !== undefined) passResultWarnings(def.Result, `${at}/Result`, ctx);
      return { type: "Pass", ...base, ...f.transition(), ...opt("result", ql === "JSONPath" ? def.Result : undefined), ...opt("io", io), ...opt("output", f.output()) };
    }
    case "Choice":
      return parseChoice(base, f);
    case "Wait":
      return parseWait(base, f);
    case "Succeed":
      return { type: "Succeed", ...base, ...opt("io", ql === "JSONPath" ? f.io() : undefined), ...opt("output", f.output()) };
    case "Fail":
      return parseFail(base, f);
    case "Parallel":
      return parseParallel(base, f);
    case "Map":
      return parseMap(base, f);
  }
}

function producesResult(t: StateType): boolean {
  return t === "Task" || t === "Parallel" || t === "Map";
}

type Base = Pick<State, "name" | "path" | "queryLanguage" | "comment" | "assign">;

/** `{ [key]: value }` when value is defined, `{}` otherwise (keeps optional fields absent, not undefined). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Reads and checks the fields of one state (or of a Retry/Catch/Choice rule object). */
class Fields {
  readonly def: JsonObject;
  readonly at: string;
  readonly ql: QueryLanguage;
  readonly ctx: Ctx;

  constructor(def: JsonObject, at: string, ql: QueryLanguage, ctx: Ctx) {
    this.def = def;
    this.at = at;
    this.ql = ql;
    this.ctx = ctx;
  }

  loc(key: string): string {
    return `${this.at}/${key}`;
  }

  bad(key: string, what: string): undefined {
    report(this.ctx, `The value for the field '${key}' must be ${what}`, this.loc(key));
    return undefined;
  }

  has(key: string): boolean {
    return this.def[key] !== undefined;
  }

  string(key: string): string | undefined {
    const v = this.def[key];
    if (v === undefined) return undefined;
    return typeof v === "string" ? v : this.bad(key, "a string");
  }

  /**
   * A JSONata expression string, checked: it compiles, and reads only the `$states` members the
   * field offers (`available`). Reports and returns undefined otherwise.
   */
  expression(key: string, v: string, available: readonly StatesMember[] = INPUT_CONTEXT, location = this.loc(key)): string | undefined {
    const problems = jsonataProblems(v, available);
    for (const p of problems) report(this.ctx, p.message, location, p.code);
    return problems.length === 0 ? v : undefined;
  }

  /** Every `{% %}` string in a JSONata template, checked as by expression(); located at the field, then `/key` or `[index]` per level. */
  jsonataTemplate(key: string, available: readonly StatesMember[] = INPUT_CONTEXT): Json | undefined {
    const v = this.def[key];
    if (v === undefined) return undefined;
    const visit = (node: Json, at: string): void => {
      if (typeof node === "string") {
        if (isJsonataExpression(node)) this.expression(key, node, available, at);
      } else if (Array.isArray(node)) node.forEach((n, i) => visit(n, `${at}[${i}]`));
      else if (isJsonObject(node)) for (const [k, n] of Object.entries(node)) visit(n, `${at}/${k}`);
    };
    visit(v, this.loc(key));
    return v;
  }

  /** An integer field with a lower bound; in JSONata states a `{% %}` string is accepted too. */
  integer(key: string, min: number, what: string, max = Number.MAX_SAFE_INTEGER): number | string | undefined {
    const v = this.def[key];
    if (v === undefined) return undefined;
    if (this.ql === "JSONata" && typeof v === "string" && isJsonataExpression(v)) return this.expression(key, v);
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
    return this.bad(key, what);
  }

  number(key: string, min: number, what: string): number | undefined {
    const v = this.def[key];
    if (v === undefined) return undefined;
    if (typeof v === "number" && v >= min) return v;
    return this.bad(key, what);
  }

  /** A JSONPath (InputPath, OutputPath): any valid path, or null. */
  path(key: string): string | null | undefined {
    const v = this.def[key];
    if (v === undefined || v === null) return v;
    if (typeof v !== "string") return this.bad(key, "a valid JSONPath");
    try {
      parsePath(v);
      return v;
    } catch (e) {
      if (!(e instanceof PathSyntaxError)) throw e;
      return this.bad(key, "a valid JSONPath");
    }
  }

  /** A reference path (ResultPath, ItemsPath, the *Path fields); `roots` limits where it may start. */
  referencePath(key: string, nullable: boolean, roots: ReferencePathRoots = {}): string | null | undefined {
    const v = this.def[key];
    if (v === undefined) return undefined;
    if (v === null && nullable) return null;
    if (typeof v !== "string" || !isReferencePath(v, roots)) return this.bad(key, "a valid Reference Path");
    return v;
  }

  /** A reference path, or an intrinsic function call (ErrorPath, CausePath). */
  pathOrIntrinsic(key: string): string | undefined {
    const v = this.def[key];
    if (v === undefined) return undefined;
    if (typeof v === "string" && (isReferencePath(v) || isValidIntrinsic(v))) return v;
    return this.bad(key, "a valid JSONPath or a valid intrinsic function call");
  }

  io(): JsonPathIo {
    const inputPath = this.path("InputPath");
    const outputPath = this.path("OutputPath");
    return { inputPath: inputPath === undefined ? "$" : inputPath, outputPath: outputPath === undefined ? "$" : outputPath };
  }

  /** ResultPath writes into the state's input: it cannot start at the context object or a variable. */
  resultPath(): string | null {
    const v = this.referencePath("ResultPath", true, { context: false, variables: false });
    return v === undefined ? "$" : v;
  }

  /** A JSONPath payload template (Parameters, ResultSelector, ItemSelector): an object whose `.$` fields hold paths or intrinsics. */
  template(key: string): JsonObject | undefined {
    const v = this.def[key];
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) return this.bad(key, "an object");
    checkPayloadTemplate(v, this.loc(key), this.ctx);
    return v;
  }

  output(available: readonly StatesMember[] = INPUT_CONTEXT): Json | undefined {
    return this.ql === "JSONata" ? this.jsonataTemplate("Output", available) : undefined;
  }

  assign(key: string, available: readonly StatesMember[] = INPUT_CONTEXT): JsonObject | undefined {
    const v = this.def[key];
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) return this.bad(key, "an object");
    for (const name of Object.keys(v)) {
      const variable = this.ql === "JSONPath" && name.endsWith(".$") ? name.slice(0, -2) : name;
      const problem = checkVariableName(variable);
      if (problem !== undefined) report(this.ctx, problem, this.loc(key));
    }
    if (this.ql === "JSONPath") checkPayloadTemplate(v, this.loc(key), this.ctx);
    else this.jsonataTemplate(key, available);
    return v;
  }

  /** Next/End of a state that continues; exactly one of them, End only true. */
  transition(): { next?: string; end: boolean } {
    const next = this.string("Next");
    const end = this.def.End;
    if (end !== undefined && end !== true && end !== false) this.bad("End", "a boolean");
    const ends = end === true;
    if (next !== undefined && ends) report(this.ctx, "Only one of these fields is allowed: [Next, End]", this.at);
    else if (next === undefined && !ends && !this.has("Next")) report(this.ctx, "Exactly one of these fields is required: [Next, End]", this.at);
    return ends ? { end: true } : { next: next ?? "", end: false };
  }

  /** At most one of the fields may be present. */
  exclusive(...keys: string[]): void {
    const present = keys.filter((k) => this.has(k));
    if (present.length > 1) report(this.ctx, `Only one of these fields is allowed: [${present.join(", ")}]`, this.at);
  }

  retriers(): Retrier[] {
    return this.list("Retry", (def, at, i, n) => parseRetrier(def, at, i === n - 1, this));
  }

  catchers(): Catcher[] {
    return this.list("Catch", (def, at, i, n) => parseCatcher(def, at, i === n - 1, this));
  }

  list<T>(key: string, item: (def: JsonObject, at: string, i: number, n: number) => T | undefined): T[] {
    const v = this.def[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.bad(key, "an array");
      return [];
    }
    const out: T[] = [];
    v.forEach((d, i) => {
      const at = `${this.loc(key)}[${i}]`;
      if (!isJsonObject(d)) {
        report(this.ctx, `The value for the field '${key}' must be an array of objects`, at);
        return;
      }
      const parsed = item(d, at, i, v.length);
      if (parsed !== undefined) out.push(parsed);
    });
    return out;
  }
}

/**
 * The problems of one `{% %}` string, in AWS's codes: INVALID_JSONATA_EXPRESSION when it does not
 * compile (the JSONata parser's message, without its code), UNSUPPORTED_JSONATA_EXPRESSION for each
 * field name read at the top level (there is no context item: the input is `$states.input`), and a
 * `$states` member the field does not offer.
 */
function jsonataProblems(value: string, available: readonly StatesMember[]): { code: string; message: string }[] {
  const body = jsonataBody(value);
  if (body.trim() === "") return [{ code: "INVALID_JSONATA_EXPRESSION", message: checkJsonata(value) ?? "The JSONata expression is empty" }];
  let ast: unknown;
  try {
    ast = jsonata(body).ast();
  } catch (e) {
    const message = typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : String(e);
    return [{ code: "INVALID_JSONATA_EXPRESSION", message }];
  }
  const problems = [...new Set(topLevelNames(ast))].map((name) => ({
    code: "UNSUPPORTED_JSONATA_EXPRESSION",
    message: `Reference to '${name}' at the top level is not supported.`,
  }));
  for (const p of checkStatesReferences(value, available, "")) problems.push({ code: "SCHEMA_VALIDATION_FAILED", message: p.replace(/^: /, "") });
  return problems;
}

/**
 * The field names a JSONata expression reads from the context item at its top level: a path that
 * starts with a name, through operators, conditions, blocks and array/object constructors. Names
 * inside predicates, function arguments and lambdas are relative to something else and allowed.
 */
function topLevelNames(node: unknown): string[] {
  if (typeof node !== "object" || node === null) return [];
  const n = node as { type?: unknown; value?: unknown; steps?: unknown[]; lhs?: unknown; rhs?: unknown; expressions?: unknown[]; expression?: unknown; condition?: unknown; then?: unknown; else?: unknown };
  switch (n.type) {
    case "name":
      return typeof n.value === "string" ? [n.value] : [];
    case "path":
      return Array.isArray(n.steps) && n.steps.length > 0 ? topLevelNames(n.steps[0]) : [];
    case "binary":
      return [...topLevelNames(n.lhs), ...topLevelNames(n.rhs)];
    case "bind":
      return topLevelNames(n.rhs);
    case "condition":
      return [...topLevelNames(n.condition), ...topLevelNames(n.then), ...topLevelNames(n.else)];
    case "block":
      return (n.expressions ?? []).flatMap(topLevelNames);
    case "unary":
      if (n.value === "-") return topLevelNames(n.expression);
      if (n.value === "[") return (n.expressions ?? []).flatMap(topLevelNames);
      if (n.value === "{" && Array.isArray(n.lhs)) return (n.lhs as unknown[][]).flatMap((pair) => (Array.isArray(pair) ? pair.flatMap(topLevelNames) : []));
      return [];
    default:
      return [];
  }
}

function isReferencePath(v: string, roots: ReferencePathRoots = {}): boolean {
  try {
    checkReferencePath(v, roots);
    return true;
  } catch (e) {
    if (!(e instanceof PathSyntaxError)) throw e;
    return false;
  }
}

function isValidIntrinsic(v: string): boolean {
  if (!isIntrinsic(v)) return false;
  try {
    parseIntrinsic(v);
    return true;
  } catch (e) {
    if (!(e instanceof PathSyntaxError)) throw e;
    return false;
  }
}

function isPositiveInteger(v: Json): v is number {
  return typeof v === "number" && Number.isInteger(v) && v > 0;
}

/** A `.$` field holds a JSONPath or an intrinsic call; a plain field whose value looks like one gets a NO_DOLLAR warning. */
function checkPayloadTemplate(template: Json, at: string, ctx: Ctx): void {
  if (Array.isArray(template)) {
    template.forEach((v) => checkPayloadTemplate(v, at, ctx));
    return;
  }
  if (!isJsonObject(template)) return;
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith(".$") && key.length > 2) {
      if (typeof value !== "string" || !(isValidIntrinsic(value) || isValidPath(value))) {
        report(ctx, `The value for the field '${key}' must be a valid JSONPath or a valid intrinsic function call`, at);
      }
    } else if (typeof value === "string" && looksLikePath(value)) {
      warn(ctx, "NO_DOLLAR", `The value for the field '${key}' looks like a JSONPath or an intrinsic function call, but the field name does not end with '.$'`, at);
    } else checkPayloadTemplate(value, at, ctx);
  }
}

function isValidPath(v: string): boolean {
  if (!v.startsWith("$")) return false;
  try {
    parsePath(v);
    return true;
  } catch (e) {
    if (!(e instanceof PathSyntaxError)) throw e;
    return false;
  }
}

function looksLikePath(v: string): boolean {
  return /^\$\$?\.[A-Za-z_]/.test(v) || (isIntrinsic(v) && isValidIntrinsic(v));
}

/** A Pass Result is static: a `.$` field in it is not evaluated (PASS_RESULT_IS_STATIC warning). */
function passResultWarnings(result: Json, at: string, ctx: Ctx): void {
  const visit = (node: Json): boolean => {
    if (Array.isArray(node)) return node.some(visit);
    if (!isJsonObject(node)) return false;
    return Object.entries(node).some(([k, v]) => k.endsWith(".$") || visit(v));
  };
  if (visit(result)) warn(ctx, "PASS_RESULT_IS_STATIC", "The Result of a Pass state is static: fields ending in '.$' in it are not evaluated", at);
}

// ---------------------------------------------------------------------------------------------
// Retry and Catch

const retrierFields = ["ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"];
const catcherFieldsJsonPath = ["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"];
const catcherFieldsJsonata = ["ErrorEquals", "Next", "Output", "Assign", "Comment"];

/** The longest interval AWS accepts for IntervalSeconds and MaxAttempts (99999999) and for MaxDelaySeconds (one year and a day). */
const MAX_RETRY_VALUE = 99_999_999;
const MAX_DELAY_SECONDS = 31_622_400;

function unsupportedFields(def: JsonObject, at: string, own: readonly string[], other: readonly string[], ql: QueryLanguage, ctx: Ctx): void {
  for (const key of Object.keys(def)) {
    if (own.includes(key)) continue;
    report(ctx, other.includes(key) ? qlMismatch(ql, key) : `Field '${key}' is not supported`, at);
  }
}

function errorEquals(def: JsonObject, at: string, last: boolean, ctx: Ctx): string[] | undefined {
  const v = def.ErrorEquals;
  if (v === undefined) {
    report(ctx, "The field 'ErrorEquals' is required but was missing", at);
    return undefined;
  }
  if (!Array.isArray(v) || !v.every((e) => typeof e === "string")) {
    report(ctx, "The value for the field 'ErrorEquals' must be an array of strings", `${at}/ErrorEquals`);
    return undefined;
  }
  if (v.length === 0) report(ctx, "Value cannot be empty", `${at}/ErrorEquals`);
  const names = v as string[];
  names.forEach((name, i) => {
    if (name === "States.ALL" && (names.length > 1 || !last)) {
      report(ctx, "States.ALL must appear alone and at end of list", `${at}/ErrorEquals[${i}]`);
    }
  });
  return names;
}

function parseRetrier(def: JsonObject, at: string, last: boolean, state: Fields): Retrier | undefined {
  const ctx = state.ctx;
  unsupportedFields(def, at, retrierFields, [], state.ql, ctx);
  const names = errorEquals(def, at, last, ctx);
  const f = new Fields(def, at, "JSONPath", ctx);
  const interval = f.integer("IntervalSeconds", 1, `an integer from 1 to ${MAX_RETRY_VALUE}`, MAX_RETRY_VALUE);
  const attempts = f.integer("MaxAttempts", 0, `an integer from 0 to ${MAX_RETRY_VALUE}`, MAX_RETRY_VALUE);
  const backoff = f.number("BackoffRate", 1, "a number greater than or equal to 1.0");
  const maxDelay = f.integer("MaxDelaySeconds", 1, `an integer from 1 to ${MAX_DELAY_SECONDS}`, MAX_DELAY_SECONDS);
  const jitter = def.JitterStrategy;
  if (jitter !== undefined && jitter !== "FULL" && jitter !== "NONE") {
    report(ctx, "The field 'JitterStrategy' should have one of these values: [FULL, NONE]", `${at}/JitterStrategy`);
  }
  if (names === undefined) return undefined;
  return {
    path: at,
    errorEquals: names,
    intervalSeconds: typeof interval === "number" ? interval : 1,
    maxAttempts: typeof attempts === "number" ? attempts : 3,
    backoffRate: backoff ?? 2,
    ...opt("maxDelaySeconds", typeof maxDelay === "number" ? maxDelay : undefined),
    jitterStrategy: jitter === "FULL" ? "FULL" : "NONE",
  };
}

function parseCatcher(def: JsonObject, at: string, last: boolean, state: Fields): Catcher | undefined {
  const ctx = state.ctx;
  const [own, other] = state.ql === "JSONPath" ? [catcherFieldsJsonPath, catcherFieldsJsonata] : [catcherFieldsJsonata, catcherFieldsJsonPath];
  unsupportedFields(def, at, own, other, state.ql, ctx);
  const names = errorEquals(def, at, last, ctx);
  const f = new Fields(def, at, state.ql, ctx);
  if (def.Next === undefined) report(ctx, "The field 'Next' is required but was missing", at);
  const next = f.string("Next");
  const resultPath = state.ql === "JSONPath" ? f.resultPath() : undefined;
  const assign = f.assign("Assign", WITH_ERROR_OUTPUT);
  const output = f.output(WITH_ERROR_OUTPUT);
  if (names === undefined || next === undefined) return undefined;
  return {
    path: at,
    errorEquals: names,
    next,
    ...opt("resultPath", resultPath),
    ...opt("output", output),
    ...opt("assign", assign),
  };
}

// ---------------------------------------------------------------------------------------------
// State types

/** An activity ARN: arn:<partition>:states:<region>:<account>:activity:<name>. */
const ACTIVITY_ARN = /^arn:(aws[a-zA-Z-]*|<partition>):states:([a-z0-9-]+):(\d{12}):activity:([^:]+)$/;
const ANY_ARN = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$/;

function parseTask(base: Base, f: Fields): State | undefined {
  const ctx = f.ctx;
  if (!f.has("Resource")) report(ctx, "These fields are required: [Resource]", f.at);
  const resource = f.string("Resource");
  let activity: { partition: string; region: string; account: string; name: string } | undefined;
  if (resource !== undefined) {
    const m = ACTIVITY_ARN.exec(resource);
    if (m !== null) {
      activity = { partition: m[1], region: m[2], account: m[3], name: m[4] };
      if (ctx.express) report(ctx, "Express state machine does not support Activity ARN", f.loc("Resource"));
    }
    else if (ANY_ARN.test(resource)) {
      report(ctx, `The resource provided ${resource} is not supported: only activity tasks (arn:<partition>:states:<region>:<account>:activity:<name>) are supported`, f.loc("Resource"), "INVALID_RESOURCE");
    } else {
      report(ctx, `The resource provided ${resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.`, f.loc("Resource"));
    }
  }
  if (f.has("Credentials")) report(ctx, "Field 'Credentials' is not supported: activity tasks run with the worker's own credentials", f.at);
  f.exclusive("TimeoutSeconds", "TimeoutSecondsPath");
  f.exclusive("HeartbeatSeconds", "HeartbeatSecondsPath");
  const timeoutSeconds = f.integer("TimeoutSeconds", 1, "a positive integer");
  const heartbeatSeconds = f.integer("HeartbeatSeconds", 1, "a positive integer");
  if (typeof timeoutSeconds === "number" && typeof heartbeatSeconds === "number" && heartbeatSeconds >= timeoutSeconds) {
    report(ctx, "The value for the field 'HeartbeatSeconds' must be smaller than the value for the field 'TimeoutSeconds'", f.loc("HeartbeatSeconds"));
  }
  const timeoutSecondsPath = f.ql === "JSONPath" ? f.referencePath("TimeoutSecondsPath", false) : undefined;
  const heartbeatSecondsPath = f.ql === "JSONPath" ? f.referencePath("HeartbeatSecondsPath", false) : undefined;
  const jsonPath = f.ql === "JSONPath";
  const io = jsonPath
    ? { ...f.io(), ...opt("parameters", f.template("Parameters")), ...opt("resultSelector", f.template("ResultSelector")), resultPath: f.resultPath() }
    : undefined;
  const state = {
    type: "Task" as const,
    ...base,
    ...f.transition(),
    resource: resource ?? "",
    activity: activity ?? { partition: "", region: "", account: "", name: "" },
    ...opt("timeoutSeconds", timeoutSeconds),
    ...opt("timeoutSecondsPath", timeoutSecondsPath ?? undefined),
    ...opt("heartbeatSeconds", heartbeatSeconds),
    ...opt("heartbeatSecondsPath", heartbeatSecondsPath ?? undefined),
    retry: f.retriers(),
    catch: f.catchers(),
    ...opt("io", io),
    ...opt("arguments", jsonPath ? undefined : f.jsonataTemplate("Arguments")),
    ...opt("output", f.output(WITH_RESULT)),
  };
  return activity === undefined ? undefined : state;
}

function parseChoice(base: Base, f: Fields): State | undefined {
  const ctx = f.ctx;
  if (!f.has("Choices")) report(ctx, "These fields are required: [Choices]", f.at);
  const raw = f.def.Choices;
  if (Array.isArray(raw) && raw.length === 0) report(ctx, "Value cannot be empty", f.loc("Choices"));
  const choices = f.list("Choices", (def, at) => parseChoiceRule(def, at, f));
  const def = f.string("Default");
  return {
    type: "Choice",
    ...base,
    choices,
    ...opt("default", def),
    ...opt("io", f.ql === "JSONPath" ? f.io() : undefined),
    ...opt("output", f.output()),
  };
}

const combinators = ["And", "Or", "Not"];

function parseChoiceRule(def: JsonObject, at: string, state: Fields): ChoiceRule | undefined {
  const ctx = state.ctx;
  const f = new Fields(def, at, state.ql, ctx);
  if (def.Next === undefined) report(ctx, "The field 'Next' is required but was missing", at);
  const next = f.string("Next");
  const assign = f.assign("Assign");
  if (state.ql === "JSONata") {
    for (const key of Object.keys(def)) {
      if (["Next", "Condition", "Assign", "Output", "Comment"].includes(key)) continue;
      report(ctx, key === "Variable" || key in comparisonOperators || combinators.includes(key) ? qlMismatch("JSONata", key) : `Field '${key}' is not supported`, at);
    }
    let condition: string | boolean | undefined;
    const c = def.Condition;
    if (c === undefined) report(ctx, "The field 'Condition' is required but was missing", at);
    else if (typeof c === "boolean") condition = c;
    else if (typeof c === "string" && isJsonataExpression(c)) condition = f.expression("Condition", c);
    else f.bad("Condition", "a boolean or a JSONata expression");
    const output = f.output();
    if (next === undefined || condition === undefined) return undefined;
    return { path: at, rule: def, next, condition, ...opt("assign", assign), ...opt("output", output) };
  }
  for (const key of ["Condition", "Output"]) if (def[key] !== undefined) report(ctx, qlMismatch("JSONPath", key), at);
  const when = parseCondition(def, at, true, ctx);
  if (next === undefined || when === undefined) return undefined;
  return { path: at, rule: def, next, when, ...opt("assign", assign) };
}

/** A JSONPath Choice condition: one comparison (Variable + one operator) or one of And/Or/Not. */
function parseCondition(def: JsonObject, at: string, top: boolean, ctx: Ctx): ChoiceCondition | undefined {
  const allowed = top ? ["Next", "Assign", "Comment", "Variable"] : ["Comment", "Variable"];
  const operators: string[] = [];
  for (const key of Object.keys(def)) {
    if (key in comparisonOperators || combinators.includes(key)) operators.push(key);
    else if (!allowed.includes(key) && !(top && ["Condition", "Output"].includes(key))) report(ctx, `Field '${key}' is not supported`, at);
  }
  if (operators.length === 0) {
    report(ctx, "A Choice rule must have one comparison operator, or one of And, Or, Not", at);
    return undefined;
  }
  if (operators.length > 1) {
    report(ctx, `A Choice rule must have only one comparison operator, or one of And, Or, Not; found: [${operators.join(", ")}]`, at);
    return undefined;
  }
  const op = operators[0];
  const value = def[op];
  const opAt = `${at}/${op}`;
  if (combinators.includes(op)) {
    if (def.Variable !== undefined) report(ctx, "Field 'Variable' is not supported", at);
    if (op === "Not") {
      if (!isJsonObject(value)) {
        report(ctx, "The value for the field 'Not' must be an object", opAt);
        return undefined;
      }
      const inner = parseCondition(value, opAt, false, ctx);
      return inner === undefined ? undefined : { kind: "not", of: inner };
    }
    if (!Array.isArray(value)) {
      report(ctx, `The value for the field '${op}' must be an array of objects`, opAt);
      return undefined;
    }
    if (value.length === 0) report(ctx, "Value cannot be empty", opAt);
    const of: ChoiceCondition[] = [];
    value.forEach((v, i) => {
      if (!isJsonObject(v)) {
        report(ctx, `The value for the field '${op}' must be an array of objects`, `${opAt}[${i}]`);
        return;
      }
      const c = parseCondition(v, `${opAt}[${i}]`, false, ctx);
      if (c !== undefined) of.push(c);
    });
    return of.length === value.length ? { kind: op === "And" ? "and" : "or", of } : undefined;
  }
  const variable = def.Variable;
  if (variable === undefined) {
    report(ctx, "The field 'Variable' is required but was missing", at);
    return undefined;
  }
  if (typeof variable !== "string" || !isReferencePath(variable)) {
    report(ctx, "The value for the field 'Variable' must be a valid Reference Path", `${at}/Variable`);
    return undefined;
  }
  const kind = comparisonOperators[op].operand;
  const ok =
    kind === "string"
      ? typeof value === "string"
      : kind === "number"
        ? typeof value === "number"
        : kind === "boolean" || kind === "test"
          ? typeof value === "boolean"
          : typeof value === "string";
  if (!ok) {
    const what = kind === "number" ? "a number" : kind === "boolean" || kind === "test" ? "a boolean" : kind === "path" ? "a valid Reference Path" : "a string";
    report(ctx, `The value for the field '${op}' must be ${what}`, opAt);
    return undefined;
  }
  if (kind === "timestamp" && !isRfc3339(value as string)) {
    report(ctx, "String does not match RFC3339 timestamp", opAt);
    return undefined;
  }
  if (kind === "path" && !isReferencePath(value as string)) {
    report(ctx, `The value for the field '${op}' must be a valid Reference Path`, opAt);
    return undefined;
  }
  return { kind: "compare", variable, operator: op, operand: value as string | number | boolean };
}

/** A timestamp as AWS reads one in Wait and Choice rules (choice.ts). */
function isRfc3339(v: string): boolean {
  return parseTimestamp(v) !== undefined;
}

function parseWait(base: Base, f: Fields): State {
  const ctx = f.ctx;
  const keys = f.ql === "JSONPath" ? ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"] : ["Seconds", "Timestamp"];
  const present = keys.filter((k) => f.has(k));
  if (present.length !== 1) report(ctx, `Exactly one of these fields is required: [${keys.join(", ")}]`, f.at);
  const seconds = f.integer("Seconds", 0, "a non-negative integer");
  let timestamp = f.string("Timestamp");
  if (timestamp !== undefined) {
    if (f.ql === "JSONata" && isJsonataExpression(timestamp)) timestamp = f.expression("Timestamp", timestamp);
    else if (!isRfc3339(timestamp)) {
      report(ctx, "String does not match RFC3339 timestamp", f.loc("Timestamp"));
      timestamp = undefined;
    }
  }
  const jsonPath = f.ql === "JSONPath";
  return {
    type: "Wait",
    ...base,
    ...f.transition(),
    ...opt("seconds", seconds),
    ...opt("timestamp", timestamp),
    ...opt("secondsPath", jsonPath ? (f.referencePath("SecondsPath", false) ?? undefined) : undefined),
    ...opt("timestampPath", jsonPath ? (f.referencePath("TimestampPath", false) ?? undefined) : undefined),
    ...opt("io", jsonPath ? f.io() : undefined),
    ...opt("output", f.output()),
  };
}

function parseFail(base: Base, f: Fields): State {
  const ctx = f.ctx;
  f.exclusive("Error", "ErrorPath");
  f.exclusive("Cause", "CausePath");
  const text = (key: string): string | undefined => {
    const v = f.string(key);
    if (v === undefined) return undefined;
    if (f.ql === "JSONata" && isJsonataExpression(v)) return f.expression(key, v);
    if (f.ql === "JSONPath" && looksLikePath(v)) {
      warn(ctx, "NO_PATH", `The value for the field '${key}' looks like a path, but the field name does not end with 'Path'`, f.loc(key));
    }
    return v;
  };
  const jsonPath = f.ql === "JSONPath";
  return {
    type: "Fail",
    ...base,
    ...opt("error", text("Error")),
    ...opt("cause", text("Cause")),
    ...opt("errorPath", jsonPath ? f.pathOrIntrinsic("ErrorPath") : undefined),
    ...opt("causePath", jsonPath ? f.pathOrIntrinsic("CausePath") : undefined),
  };
}

function parseParallel(base: Base, f: Fields): State | undefined {
  const ctx = f.ctx;
  if (!f.has("Branches")) report(ctx, "These fields are required: [Branches]", f.at);
  const raw = f.def.Branches;
  if (Array.isArray(raw) && raw.length === 0) report(ctx, "Value cannot be empty", f.loc("Branches"));
  const branches = f.list("Branches", (def, at) => parseMachine(def, at, branchFields, ctx));
  const jsonPath = f.ql === "JSONPath";
  const io = jsonPath
    ? { ...f.io(), ...opt("parameters", f.template("Parameters")), ...opt("resultSelector", f.template("ResultSelector")), resultPath: f.resultPath() }
    : undefined;
  const state = {
    type: "Parallel" as const,
    ...base,
    ...f.transition(),
    branches,
    retry: f.retriers(),
    catch: f.catchers(),
    ...opt("io", io),
    ...opt("arguments", jsonPath ? undefined : f.jsonataTemplate("Arguments")),
    ...opt("output", f.output(WITH_RESULT)),
  };
  return Array.isArray(raw) && branches.length === raw.length ? state : undefined;
}

function parseMap(base: Base, f: Fields): State | undefined {
  const ctx = f.ctx;
  for (const key of distributedOnly) {
    if (f.has(key)) report(ctx, `Field '${key}' is not supported: taskgate runs Map states in INLINE mode only`, f.at);
  }
  f.exclusive("ItemProcessor", "Iterator");
  f.exclusive("ItemSelector", "Parameters");
  f.exclusive("MaxConcurrency", "MaxConcurrencyPath");
  const key = f.has("ItemProcessor") ? "ItemProcessor" : "Iterator";
  const procDef = f.def[key];
  let itemProcessor: StateMachine | undefined;
  if (procDef === undefined) report(ctx, "These fields are required: [ItemProcessor]", f.at);
  else if (!isJsonObject(procDef)) f.bad(key, "an object");
  else {
    const at = f.loc(key);
    const config = procDef.ProcessorConfig;
    if (config !== undefined) {
      if (!isJsonObject(config)) report(ctx, "The value for the field 'ProcessorConfig' must be an object", `${at}/ProcessorConfig`);
      else {
        for (const k of Object.keys(config)) if (k !== "Mode" && k !== "ExecutionType") report(ctx, `Field '${k}' is not supported`, `${at}/ProcessorConfig`);
        if (config.Mode === "DISTRIBUTED") {
          report(ctx, "Mode 'DISTRIBUTED' is not supported: taskgate runs Map states in INLINE mode only", `${at}/ProcessorConfig/Mode`);
        } else if (config.Mode !== undefined && config.Mode !== "INLINE") {
          report(ctx, "The field 'Mode' should have one of these values: [INLINE, DISTRIBUTED]", `${at}/ProcessorConfig/Mode`);
        }
        if (config.ExecutionType !== undefined && config.ExecutionType !== "STANDARD" && config.ExecutionType !== "EXPRESS") {
          report(ctx, "The field 'ExecutionType' should have one of these values: [STANDARD, EXPRESS]", `${at}/ProcessorConfig/ExecutionType`);
        }
      }
    }
    itemProcessor = parseMachine(procDef, at, key === "ItemProcessor" ? processorFields : branchFields, ctx);
  }
  const jsonPath = f.ql === "JSONPath";
  const maxConcurrency = f.integer("MaxConcurrency", 0, "a non-negative integer");
  let itemSelector: Json | undefined;
  if (jsonPath) itemSelector = f.template(f.has("ItemSelector") ? "ItemSelector" : "Parameters");
  else {
    itemSelector = f.jsonataTemplate("ItemSelector");
    if (itemSelector !== undefined && !isJsonObject(itemSelector) && !(typeof itemSelector === "string" && isJsonataExpression(itemSelector))) {
      itemSelector = f.bad("ItemSelector", "an object or a JSONata expression");
    }
  }
  let items: Json | undefined;
  if (!jsonPath) {
    items = f.jsonataTemplate("Items");
    if (items !== undefined && !Array.isArray(items) && !(typeof items === "string" && isJsonataExpression(items))) {
      items = f.bad("Items", "an array or a JSONata expression");
    }
  }
  const io = jsonPath ? { ...f.io(), ...opt("resultSelector", f.template("ResultSelector")), resultPath: f.resultPath() } : undefined;
  const state = {
    type: "Map" as const,
    ...base,
    ...f.transition(),
    processorMode: "INLINE" as const,
    ...opt("itemsPath", jsonPath ? (f.referencePath("ItemsPath", false) ?? "$") : undefined),
    ...opt("items", items),
    ...opt("itemSelector", itemSelector),
    ...opt("maxConcurrency", maxConcurrency),
    ...opt("maxConcurrencyPath", jsonPath ? (f.referencePath("MaxConcurrencyPath", false) ?? undefined) : undefined),
    retry: f.retriers(),
    catch: f.catchers(),
    ...opt("io", io),
    ...opt("output", f.output(WITH_RESULT)),
  };
  return itemProcessor === undefined ? undefined : { ...state, itemProcessor };
}
