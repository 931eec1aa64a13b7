// Intrinsic functions of the JSONPath query language (`States.Format('{}', $.x)` …): parsed once,
// checked for name and argument count as AWS checks a definition, evaluated with hashing, UUIDs
// and randomness injected so evaluation stays pure.
import type { Json, JsonObject } from "./json.ts";
import { isJsonObject } from "./json.ts";
import { StatesError } from "./errors.ts";
import type { JsonPath, PathScope } from "./paths.ts";
import { PathSyntaxError, jsonEquals, parsePath, queryPath } from "./paths.ts";

/** An intrinsic call that does not parse or breaks a static rule; the message names the function and the problem. */
export class IntrinsicSyntaxError extends PathSyntaxError {
  constructor(message: string) {
    super(message);
    this.name = "IntrinsicSyntaxError";
  }
}

/**
 * One argument of an intrinsic call: a literal, a path (`$.x`, `$$.x`, `$var`) or a nested call.
 * A string literal's `pieces` are its text split at its unescaped `{}` (what States.Format fills).
 */
export type IntrinsicArgument =
  | { kind: "literal"; value: string | number | boolean | null; pieces?: string[] }
  | { kind: "path"; path: JsonPath }
  | { kind: "call"; call: Intrinsic };

/** A parsed intrinsic call. */
export interface Intrinsic {
  /** The function name, e.g. "States.Format". */
  readonly name: string;
  readonly args: readonly IntrinsicArgument[];
  /** The text it was parsed from. */
  readonly text: string;
}

/** Every intrinsic function with the argument counts AWS accepts (max undefined: any number). */
export const intrinsicFunctions: Readonly<Record<string, { min: number; max?: number }>> = {
  "States.Format": { min: 1 },
  "States.StringToJson": { min: 1, max: 1 },
  "States.JsonToString": { min: 1, max: 1 },
  "States.Array": { min: 0 },
  "States.ArrayPartition": { min: 2, max: 2 },
  "States.ArrayContains": { min: 2, max: 2 },
  "States.ArrayRange": { min: 3, max: 3 },
  "States.ArrayGetItem": { min: 2, max: 2 },
  "States.ArrayLength": { min: 1, max: 1 },
  "States.ArrayUnique": { min: 1, max: 1 },
  "States.Base64Encode": { min: 1, max: 1 },
  "States.Base64Decode": { min: 1, max: 1 },
  "States.Hash": { min: 2, max: 2 },
  "States.JsonMerge": { min: 3, max: 3 },
  "States.MathRandom": { min: 2, max: 3 },
  "States.MathAdd": { min: 2, max: 2 },
  "States.StringSplit": { min: 2, max: 2 },
  "States.UUID": { min: 0, max: 0 },
};

/** How deep intrinsic calls may nest within one field (AWS: 10). */
const maxNesting = 10;

/** True when the text is written as an intrinsic call (`States.Name(` … `)`), whether or not it is valid. */
export function isIntrinsic(text: string): boolean {
  return /^\s*States\.[A-Za-z0-9]+\s*\(/.test(text) && text.trimEnd().endsWith(")");
}

/** A parser over one intrinsic call's text. */
class IntrinsicParser {
  readonly text: string;
  pos = 0;

  constructor(text: string) {
    this.text = text;
  }

  fail(problem: string, fn?: string): never {
    throw new IntrinsicSyntaxError(`Invalid intrinsic function ${fn === undefined ? "call" : fn} in '${this.text}': ${problem} at position ${this.pos}`);
  }

  peek(): string {
    return this.text.charAt(this.pos);
  }

  skipSpaces(): void {
    while (this.pos < this.text.length && /\s/.test(this.peek())) this.pos++;
  }

  depth = 0;

  call(): Intrinsic {
    this.skipSpaces();
    this.depth++;
    if (this.depth > maxNesting) this.fail(`intrinsic functions nest at most ${maxNesting} deep`);
    const start = this.pos;
    const m = /^States\.[A-Za-z0-9]+/.exec(this.text.slice(this.pos));
    if (!m) this.fail("expected a function name 'States.<Name>'");
    const name = m[0];
    if (!Object.hasOwn(intrinsicFunctions, name)) this.fail(`unknown function '${name}'`);
    this.pos += name.length;
    this.skipSpaces();
    if (this.peek() !== "(") this.fail("expected '('", name);
    this.pos++;
    const args: IntrinsicArgument[] = [];
    this.skipSpaces();
    if (this.peek() === ")") this.pos++;
    else {
      for (;;) {
        args.push(this.argument(name));
        this.skipSpaces();
        const c = this.peek();
        this.pos++;
        if (c === ")") break;
        if (c !== ",") {
          this.pos--;
          this.fail(c === "" ? "missing ')'" : `expected ',' or ')' but found '${c}'`, name);
        }
      }
    }
    const rule = intrinsicFunctions[name];
    if (args.length < rule.min || (rule.max !== undefined && args.length > rule.max)) {
      const want = rule.max === undefined ? `at least ${rule.min}` : rule.min === rule.max ? `${rule.min}` : `${rule.min} to ${rule.max}`;
      throw new IntrinsicSyntaxError(`Invalid intrinsic function ${name} in '${this.text}': it takes ${want} argument${want === "1" ? "" : "s"}, ${args.length} given`);
    }
    if (name === "States.Format" && args[0].kind === "literal" && typeof args[0].value !== "string") {
      throw new IntrinsicSyntaxError(`Invalid intrinsic function States.Format in '${this.text}': the first argument must be a string`);
    }
    this.depth--;
    return { name, args, text: this.text.slice(start, this.pos) };
  }

  argument(fn: string): IntrinsicArgument {
    this.skipSpaces();
    const c = this.peek();
    if (c === "'") {
      const { value, pieces } = this.string(fn);
      return { kind: "literal", value, pieces };
    }
    if (c === "$") return { kind: "path", path: this.path(fn) };
    if (this.text.startsWith("States.", this.pos)) return { kind: "call", call: this.call() };
    const num = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(this.text.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return { kind: "literal", value: Number(num[0]) };
    }
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.pos) && !/[A-Za-z0-9_]/.test(this.text.charAt(this.pos + word.length))) {
        this.pos += word.length;
        return { kind: "literal", value };
      }
    }
    return this.fail(c === "" ? "missing ')'" : `unexpected '${c}' where an argument belongs`, fn);
  }

  /** A single-quoted string; `\` escapes `'`, `{`, `}` and `\` and nothing else (AWS refuses an open escape). */
  string(fn: string): { value: string; pieces: string[] } {
    this.pos++;
    let value = "";
    const pieces = [""];
    for (;;) {
      if (this.pos >= this.text.length) this.fail("unterminated string literal", fn);
      const ch = this.peek();
      this.pos++;
      if (ch === "'") return { value, pieces };
      if (ch === "\\") {
        if (this.pos >= this.text.length) this.fail("unterminated string literal", fn);
        const next = this.peek();
        if (!"'{}\\".includes(next)) this.fail(`'\\${next}' is not an escape; only \\', \\{, \\} and \\\\ are`, fn);
        this.pos++;
        value += next;
        pieces[pieces.length - 1] += next;
      } else if (ch === "{" && this.peek() === "}") {
        this.pos++;
        value += "{}";
        pieces.push("");
      } else {
        value += ch;
        pieces[pieces.length - 1] += ch;
      }
    }
  }

  /** A path argument: runs to the `,` or `)` that ends it, outside brackets, parentheses and quotes. */
  path(fn: string): JsonPath {
    const start = this.pos;
    let depth = 0;
    let quote = "";
    while (this.pos < this.text.length) {
      const ch = this.peek();
      if (quote !== "") {
        if (ch === "\\") this.pos++;
        else if (ch === quote) quote = "";
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "[" || ch === "(") depth++;
      else if (ch === "]" || ch === ")") {
        if (depth === 0) break;
        depth--;
      } else if ((ch === "," || /\s/.test(ch)) && depth === 0) break;
      this.pos++;
    }
    const text = this.text.slice(start, this.pos);
    try {
      return parsePath(text);
    } catch (e) {
      if (e instanceof PathSyntaxError) this.fail(`invalid path argument: ${e.message}`, fn);
      throw e;
    }
  }
}

/** Parses an intrinsic call, checking function names and argument counts; throws IntrinsicSyntaxError naming the function and problem. */
export function parseIntrinsic(text: string): Intrinsic {
  const p = new IntrinsicParser(text);
  const call = p.call();
  p.skipSpaces();
  if (p.pos < text.length) p.fail(`unexpected text after the call: '${text.slice(p.pos)}'`, call.name);
  return call;
}

/** The effects an intrinsic may need, injected: a hex digest of UTF-8 data, a random UUID, a random number in [0, 1). */
export interface IntrinsicEnv {
  hash(algorithm: string, data: string): string;
  uuid(): string;
  random(): number;
}

/** Parsed calls by text, bounded to 10,000 entries; definitions reuse a handful of calls many times. */
const parsedCalls = new Map<string, Intrinsic>();

function parsedCall(call: string | Intrinsic): Intrinsic {
  if (typeof call !== "string") return call;
  let c = parsedCalls.get(call);
  if (c === undefined) {
    c = parseIntrinsic(call);
    if (parsedCalls.size >= 10_000) parsedCalls.clear();
    parsedCalls.set(call, c);
  }
  return c;
}

/** The hash algorithms States.Hash accepts. */
export const hashAlgorithms: readonly string[] = ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

/** Longest string States.Base64Encode, States.Base64Decode and States.Hash accept, and longest Base64Decode result (AWS: 10,000 characters). */
const maxStringLength = 10_000;

/** Most items States.ArrayRange may produce (AWS: 1,000). */
const maxRangeItems = 1000;

function failure(fn: string, reason: string): StatesError {
  return new StatesError("States.IntrinsicFailure", `Invalid arguments in ${fn}: ${reason}`);
}

/** The JSON type name AWS uses in messages. */
function typeName(v: Json): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v;
}

/** A short JSON rendering of a value for messages, cut at 200 characters. */
function shown(v: Json): string {
  const s = JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** Java's Math.round: halves go up (toward positive infinity), as AWS rounds non-integer arguments. */
function javaRound(n: number): number {
  return Math.floor(n + 0.5);
}

/** A numeric argument rounded to an integer as AWS does; IntrinsicFailure when it is not a number. */
function integerArg(fn: string, v: Json, what: string): number {
  if (typeof v !== "number") throw failure(fn, `${what} must be a number, got ${typeName(v)} ${shown(v)}`);
  return javaRound(v);
}

function stringArg(fn: string, v: Json, what: string): string {
  if (typeof v !== "string") throw failure(fn, `${what} must be a string, got ${typeName(v)} ${shown(v)}`);
  return v;
}

function arrayArg(fn: string, v: Json, what: string): Json[] {
  if (!Array.isArray(v)) throw failure(fn, `${what} must be an array, got ${typeName(v)} ${shown(v)}`);
  return v;
}

function objectArg(fn: string, v: Json, what: string): JsonObject {
  if (!isJsonObject(v)) throw failure(fn, `${what} must be a JSON object, got ${typeName(v)} ${shown(v)}`);
  return v;
}

/** How States.Format writes a value: strings as they are, objects as `{k=v, …}`, arrays as `[a, b]`, the rest as JSON (Java's rendering, which AWS shows). */
function formatValue(v: Json): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(formatValue).join(", ")}]`;
  if (isJsonObject(v)) return `{${Object.entries(v).map(([k, x]) => `${k}=${formatValue(x)}`).join(", ")}}`;
  return JSON.stringify(v);
}

/** Base64 of UTF-8 text. */
function base64Encode(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** UTF-8 text of base64; undefined when the input is not base64 or not UTF-8. */
function base64Decode(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) return undefined;
  try {
    const binary = atob(text);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Java's java.util.Random seeded with `seed`, drawing one int in [0, bound): what a seeded
 * States.MathRandom needs to give the same number for the same seed.
 */
function seededInt(seed: number, bound: number): number {
  const mask = (1n << 48n) - 1n;
  let state = (BigInt.asIntN(64, BigInt(Math.trunc(seed))) ^ 0x5deece66dn) & mask;
  const next = (bits: bigint): number => {
    state = (state * 0x5deece66dn + 0xbn) & mask;
    return Number(BigInt.asIntN(32, state >> (48n - bits)));
  };
  if ((bound & -bound) === bound) return Number((BigInt(bound) * BigInt(next(31n))) >> 31n);
  for (;;) {
    const bits = next(31n);
    const val = bits % bound;
    if (bits - val + (bound - 1) < 2 ** 31) return val;
  }
}

/** What an intrinsic reads and the field it fills (named in messages). */
export interface IntrinsicScope extends PathScope {
  /** The `.$` field being filled, e.g. "greeting.$"; named in path-failure messages. */
  field?: string;
}

/**
 * Evaluates an intrinsic call. A path argument that selects nothing raises States.Runtime (as a
 * `.$` path does), as does call text that does not parse; a bad argument raises
 * States.IntrinsicFailure naming the function and the problem.
 */
export function evaluateIntrinsic(call: string | Intrinsic, scope: IntrinsicScope, env: IntrinsicEnv): Json {
  let c: Intrinsic;
  try {
    c = parsedCall(call);
  } catch (e) {
    if (e instanceof PathSyntaxError) throw new StatesError("States.Runtime", e.message);
    throw e;
  }
  const args = c.args.map((a) => argumentValue(a, scope, env));
  return apply(c, args, env);
}

function argumentValue(a: IntrinsicArgument, scope: IntrinsicScope, env: IntrinsicEnv): Json {
  if (a.kind === "literal") return a.value;
  if (a.kind === "call") return evaluateIntrinsic(a.call, scope, env);
  const value = queryPath(a.path, scope);
  if (value === undefined) {
    const input = a.path.root.kind === "context" ? scope.context : a.path.root.kind === "variable" ? null : scope.input;
    throw new StatesError(
      "States.Runtime",
      a.path.root.kind === "variable" && !Object.hasOwn(scope.variables, a.path.root.name)
        ? `The variable '$${a.path.root.name}' referenced by the JSONPath '${a.path.text}' specified for the field '${scope.field ?? ""}' is not defined`
        : `The JSONPath '${a.path.text}' specified for the field '${scope.field ?? ""}' could not be found in the input '${JSON.stringify(input)}'`,
    );
  }
  return value;
}

function apply(c: Intrinsic, args: Json[], env: IntrinsicEnv): Json {
  const fn = c.name;
  switch (fn) {
    case "States.Format": {
      const first = c.args[0];
      const template = stringArg(fn, args[0], "the format string");
      const pieces = first.kind === "literal" && first.pieces !== undefined ? first.pieces : template.split("{}");
      const values = args.slice(1);
      if (pieces.length - 1 !== values.length) {
        throw failure(fn, `the format string has ${pieces.length - 1} placeholders '{}' but ${values.length} values are given`);
      }
      return pieces.map((p, i) => (i === 0 ? p : formatValue(values[i - 1]) + p)).join("");
    }
    case "States.StringToJson": {
      const text = stringArg(fn, args[0], "the argument");
      if (text.trim() === "") return null;
      try {
        const value = JSON.parse(text) as Json;
        return Object.is(value, -0) ? 0 : value;
      } catch {
        throw failure(fn, `the argument is not JSON text: ${shown(text)}`);
      }
    }
    case "States.JsonToString":
      return JSON.stringify(args[0]);
    case "States.Array":
      return args;
    case "States.ArrayPartition": {
      const array = arrayArg(fn, args[0], "the first argument");
      const size = integerArg(fn, args[1], "the chunk size");
      if (size <= 0) throw failure(fn, `the chunk size must be a positive integer, got ${shown(args[1])}`);
      const out: Json[] = [];
      for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
      return out;
    }
    case "States.ArrayContains": {
      const array = arrayArg(fn, args[0], "the first argument");
      return array.some((v) => jsonEquals(v, args[1]));
    }
    case "States.ArrayRange": {
      const first = integerArg(fn, args[0], "the start");
      const last = integerArg(fn, args[1], "the end");
      const step = integerArg(fn, args[2], "the step");
      if (step === 0) throw failure(fn, "the step must not be 0");
      const count = Math.floor((last - first) / step) + 1;
      if (count > maxRangeItems) throw failure(fn, `the range would have ${count} items; at most ${maxRangeItems} are allowed`);
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(first + i * step);
      return out;
    }
    case "States.ArrayGetItem": {
      const array = arrayArg(fn, args[0], "the first argument");
      const index = args[1];
      if (typeof index !== "number" || !Number.isInteger(index)) throw failure(fn, `the index must be an integer, got ${shown(index)}`);
      if (index < 0 || index >= array.length) throw failure(fn, `the index ${index} is out of bounds for an array of ${array.length} items`);
      return array[index];
    }
    case "States.ArrayLength":
      return arrayArg(fn, args[0], "the argument").length;
    case "States.ArrayUnique": {
      const out: Json[] = [];
      for (const v of arrayArg(fn, args[0], "the argument")) if (!out.some((u) => jsonEquals(u, v))) out.push(v);
      return out;
    }
    case "States.Base64Encode": {
      const text = stringArg(fn, args[0], "the argument");
      if (text.length > maxStringLength) throw failure(fn, `the input has ${text.length} characters; at most ${maxStringLength} are allowed`);
      return base64Encode(text);
    }
    case "States.Base64Decode": {
      const text = stringArg(fn, args[0], "the argument");
      if (text.length > maxStringLength) throw failure(fn, `the input has ${text.length} characters; at most ${maxStringLength} are allowed`);
      const decoded = base64Decode(text);
      if (decoded === undefined) throw failure(fn, "the argument is not base64 of UTF-8 text");
      if (decoded.length > maxStringLength) throw failure(fn, `the decoded text has ${decoded.length} characters; at most ${maxStringLength} are allowed`);
      return decoded;
    }
    case "States.Hash": {
      const data = stringArg(fn, args[0], "the data");
      const algorithm = stringArg(fn, args[1], "the algorithm");
      if (!hashAlgorithms.includes(algorithm)) throw failure(fn, `unknown algorithm ${shown(algorithm)}; use one of ${hashAlgorithms.join(", ")}`);
      if (data.length > maxStringLength) throw failure(fn, `the data has ${data.length} characters; at most ${maxStringLength} are allowed`);
      return env.hash(algorithm, data);
    }
    case "States.JsonMerge": {
      const a = objectArg(fn, args[0], "the first argument");
      const b = objectArg(fn, args[1], "the second argument");
      if (typeof args[2] !== "boolean") throw failure(fn, `the deep-merge flag must be a boolean, got ${shown(args[2])}`);
      if (args[2]) throw failure(fn, "only shallow merging is supported; the deep-merge flag must be false");
      return { ...a, ...b };
    }
    case "States.MathRandom": {
      const start = integerArg(fn, args[0], "the start");
      const end = integerArg(fn, args[1], "the end");
      if (end <= start) throw failure(fn, `the end (${end}) must be greater than the start (${start})`);
      if (args.length === 3) {
        const seed = integerArg(fn, args[2], "the seed");
        return start + seededInt(seed, end - start);
      }
      return start + Math.floor(env.random() * (end - start));
    }
    case "States.MathAdd":
      return integerArg(fn, args[0], "the first argument") + integerArg(fn, args[1], "the second argument");
    case "States.StringSplit": {
      const text = stringArg(fn, args[0], "the string");
      const delimiters = stringArg(fn, args[1], "the delimiters");
      if (delimiters === "") return text === "" ? [] : [text];
      const parts: string[] = [];
      let current = "";
      for (const ch of text) {
        if (delimiters.includes(ch)) {
          if (current !== "") parts.push(current);
          current = "";
        } else current += ch;
      }
      if (current !== "") parts.push(current);
      return parts;
    }
    case "States.UUID":
      return env.uuid();
  }
  throw failure(fn, "unknown function");
}
