// Intrinsic functions of the JSONPath query language (`States.Format('{}', $.x)` …): parsed once,
// checked for name and argument count as AWS checks a definition, evaluated with hashing, UUIDs
// and randomness injected so evaluation stays pure.
import type { JsonPath } from "./paths.ts";
import { PathSyntaxError, parsePath } from "./paths.ts";

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

  call(): Intrinsic {
    this.skipSpaces();
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

  /** A single-quoted string; `\` escapes the next character (`\'`, `\{`, `\}`, `\\`). */
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
