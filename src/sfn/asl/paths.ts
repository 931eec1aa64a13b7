// JSONPath as the Amazon States Language's JSONPath query language reads it (the Jayway dialect AWS
// runs): `$` is the state's input, `$$` the context object, `$name` a workflow variable. Paths are
// parsed once into a JsonPath and evaluated against JSON values; nothing here reads a clock or
// touches I/O.
import type { Json, JsonObject } from "./json.ts";
import { isJsonObject } from "./json.ts";
import { StatesError } from "./errors.ts";

/** A path that cannot be parsed, or that is not allowed where it is used; the message names the problem and its offset. */
export class PathSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PathSyntaxError";
  }
}

/** Where a path starts: the state input (`$`), the context object (`$$`) or a workflow variable (`$name`). */
export type PathRoot = { kind: "input" } | { kind: "context" } | { kind: "variable"; name: string };

/** One step of a path. Only `child` with one name and `index` with one index keep a path definite. */
export type PathSegment =
  | { kind: "child"; names: string[] }
  | { kind: "index"; indexes: number[] }
  | { kind: "wildcard" }
  | { kind: "slice"; start: number | undefined; end: number | undefined; step: number | undefined }
  | { kind: "filter"; expression: FilterExpression }
  | { kind: "descendant"; then: PathSegment }
  | { kind: "function"; name: PathFunction };

/** The functions a path may end with (Jayway's): they apply to the value the path selected. */
export type PathFunction = "length" | "size" | "min" | "max" | "avg" | "sum" | "keys" | "first" | "last";

/** A filter `[?(…)]` expression: comparisons of `@`-relative or `$`-absolute paths and literals, joined by `&&`, `||`, `!`. */
export type FilterExpression =
  | { kind: "or" | "and"; left: FilterExpression; right: FilterExpression }
  | { kind: "not"; operand: FilterExpression }
  | { kind: "exists"; operand: FilterOperand }
  | { kind: "compare"; operator: FilterOperator; left: FilterOperand; right: FilterOperand };

/** The comparison operators a filter accepts. `=~` matches a `/regex/flags` literal. */
export type FilterOperator = "==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "in" | "nin";

/** One side of a filter comparison. */
export type FilterOperand =
  | { kind: "current"; segments: PathSegment[] }
  | { kind: "root"; segments: PathSegment[] }
  | { kind: "literal"; value: Json }
  | { kind: "regex"; regex: RegExp };

/** A parsed path: its root, its steps, and whether it can only ever select one node. */
export interface JsonPath {
  /** The text it was parsed from. */
  readonly text: string;
  readonly root: PathRoot;
  readonly segments: readonly PathSegment[];
  /** True when the path names at most one node (dot/bracket names and single indexes only). */
  readonly definite: boolean;
}

const pathFunctions: readonly string[] = ["length", "size", "min", "max", "avg", "sum", "keys", "first", "last"];

/** Characters that end a dot-notation name. In a filter, operator characters end it too. */
const nameStop = new Set([".", "[", "]", "(", ")", "'", '"', ",", " ", "\t", "\n", "\r"]);
const filterNameStop = new Set([...nameStop, "<", ">", "=", "!", "&", "|", "~"]);

/** A parser over one path text; `inFilter` parses `@`-relative operands inside `[?(…)]`. */
class Parser {
  readonly text: string;
  pos = 0;

  constructor(text: string) {
    this.text = text;
  }

  fail(problem: string): never {
    throw new PathSyntaxError(`Invalid path '${this.text}': ${problem} at position ${this.pos}`);
  }

  peek(offset = 0): string {
    return this.text.charAt(this.pos + offset);
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpaces(): void {
    while (/\s/.test(this.peek()) && !this.atEnd()) this.pos++;
  }

  expect(char: string): void {
    if (this.peek() !== char) this.fail(this.atEnd() ? `expected '${char}' but the path ended` : `expected '${char}' but found '${this.peek()}'`);
    this.pos++;
  }

  /** Steps until the end of the text, or (in a filter) until a character that cannot continue a path. */
  segments(inFilter: boolean): PathSegment[] {
    const out: PathSegment[] = [];
    while (!this.atEnd()) {
      const c = this.peek();
      if (c === "." && this.peek(1) === ".") {
        this.pos += 2;
        if (this.peek() === "[") out.push({ kind: "descendant", then: this.bracket() });
        else out.push({ kind: "descendant", then: this.dotted(inFilter) });
      } else if (c === ".") {
        this.pos++;
        const seg = this.dotted(inFilter);
        out.push(seg);
        if (seg.kind === "function") {
          if (!inFilter && !this.atEnd()) this.fail(`a function (${seg.name}()) must end the path`);
          if (inFilter) break;
        }
      } else if (c === "[") {
        out.push(this.bracket());
      } else if (inFilter) {
        break;
      } else {
        this.fail(`unexpected character '${c}'`);
      }
    }
    return out;
  }

  /** After `.` or `..`: a name, `*`, or a function call `name()`. */
  dotted(inFilter: boolean): PathSegment {
    if (this.peek() === "*") {
      this.pos++;
      return { kind: "wildcard" };
    }
    const stops = inFilter ? filterNameStop : nameStop;
    const start = this.pos;
    while (!this.atEnd() && !stops.has(this.peek())) this.pos++;
    const name = this.text.slice(start, this.pos);
    if (name === "") this.fail("expected a field name");
    if (this.peek() === "(") {
      if (this.peek(1) !== ")") this.fail(`function ${name}() takes no arguments`);
      if (!pathFunctions.includes(name)) this.fail(`unknown function ${name}()`);
      this.pos += 2;
      return { kind: "function", name: name as PathFunction };
    }
    return { kind: "child", names: [name] };
  }

  /** A bracket step: `['a','b']`, `[0,1]`, `[*]`, `[1:3]`, `[?(…)]`. */
  bracket(): PathSegment {
    this.expect("[");
    this.skipSpaces();
    const c = this.peek();
    let seg: PathSegment;
    if (c === "'" || c === '"') {
      const names = [this.quoted()];
      this.skipSpaces();
      while (this.peek() === ",") {
        this.pos++;
        this.skipSpaces();
        names.push(this.quoted());
        this.skipSpaces();
      }
      seg = { kind: "child", names };
    } else if (c === "*") {
      this.pos++;
      seg = { kind: "wildcard" };
    } else if (c === "?") {
      this.pos++;
      this.skipSpaces();
      this.expect("(");
      const expression = this.orExpr();
      this.skipSpaces();
      this.expect(")");
      seg = { kind: "filter", expression };
    } else if (c === "(") {
      this.fail("script expressions are not supported");
    } else {
      seg = this.indexes();
    }
    this.skipSpaces();
    this.expect("]");
    return seg;
  }

  /** A quoted name in brackets: `'…'` or `"…"`, `\` escaping the next character. */
  quoted(): string {
    const quote = this.peek();
    if (quote !== "'" && quote !== '"') this.fail("expected a quoted field name");
    this.pos++;
    let out = "";
    for (;;) {
      if (this.atEnd()) this.fail("unterminated quoted field name");
      const ch = this.peek();
      this.pos++;
      if (ch === quote) return out;
      if (ch === "\\") {
        if (this.atEnd()) this.fail("unterminated quoted field name");
        out += this.peek();
        this.pos++;
      } else out += ch;
    }
  }

  integer(): number | undefined {
    const m = /^-?\d+/.exec(this.text.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return Number(m[0]);
  }

  /** `[0]`, `[0,2]`, `[1:3]`, `[-2:]`, `[:2]`, `[::2]`. */
  indexes(): PathSegment {
    this.skipSpaces();
    const first = this.integer();
    this.skipSpaces();
    if (this.peek() === ":") {
      this.pos++;
      this.skipSpaces();
      const end = this.integer();
      this.skipSpaces();
      let step: number | undefined;
      if (this.peek() === ":") {
        this.pos++;
        this.skipSpaces();
        step = this.integer();
        if (step === 0) this.fail("a slice step cannot be 0");
      }
      return { kind: "slice", start: first, end, step };
    }
    if (first === undefined) this.fail("expected an index, a quoted name, '*', a slice or a filter");
    const indexes = [first];
    while (this.peek() === ",") {
      this.pos++;
      this.skipSpaces();
      const next = this.integer();
      if (next === undefined) this.fail("expected an index");
      indexes.push(next);
      this.skipSpaces();
    }
    return { kind: "index", indexes };
  }

  orExpr(): FilterExpression {
    let left = this.andExpr();
    for (;;) {
      this.skipSpaces();
      if (this.text.startsWith("||", this.pos)) {
        this.pos += 2;
        left = { kind: "or", left, right: this.andExpr() };
      } else return left;
    }
  }

  andExpr(): FilterExpression {
    let left = this.unaryExpr();
    for (;;) {
      this.skipSpaces();
      if (this.text.startsWith("&&", this.pos)) {
        this.pos += 2;
        left = { kind: "and", left, right: this.unaryExpr() };
      } else return left;
    }
  }

  unaryExpr(): FilterExpression {
    this.skipSpaces();
    if (this.peek() === "!" && this.peek(1) !== "=") {
      this.pos++;
      return { kind: "not", operand: this.unaryExpr() };
    }
    if (this.peek() === "(") {
      this.pos++;
      const inner = this.orExpr();
      this.skipSpaces();
      this.expect(")");
      return inner;
    }
    const left = this.operand();
    this.skipSpaces();
    const m = /^(==|!=|<=|>=|=~|<|>|in\b|nin\b)/.exec(this.text.slice(this.pos));
    if (!m) {
      if (left.kind === "literal" || left.kind === "regex") this.fail("a literal alone is not a filter condition");
      return { kind: "exists", operand: left };
    }
    this.pos += m[0].length;
    const right = this.operand();
    return { kind: "compare", operator: m[0] as FilterOperator, left, right };
  }

  operand(): FilterOperand {
    this.skipSpaces();
    const c = this.peek();
    if (c === "@") {
      this.pos++;
      return { kind: "current", segments: this.segments(true) };
    }
    if (c === "$") {
      this.pos++;
      return { kind: "root", segments: this.segments(true) };
    }
    if (c === "'" || c === '"') return { kind: "literal", value: this.quoted() };
    if (c === "/") return { kind: "regex", regex: this.regex() };
    if (c === "[") return { kind: "literal", value: this.literalList() };
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.text.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return { kind: "literal", value: Number(num[0]) };
    }
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { kind: "literal", value };
      }
    }
    return this.fail(this.atEnd() ? "the filter ended early" : `unexpected '${c}' in a filter`);
  }

  literalList(): Json[] {
    this.expect("[");
    const out: Json[] = [];
    this.skipSpaces();
    if (this.peek() === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      const item = this.operand();
      if (item.kind !== "literal") this.fail("a list in a filter holds literals only");
      out.push(item.value);
      this.skipSpaces();
      if (this.peek() === "]") {
        this.pos++;
        return out;
      }
      this.expect(",");
    }
  }

  regex(): RegExp {
    this.expect("/");
    let source = "";
    for (;;) {
      if (this.atEnd()) this.fail("unterminated regular expression");
      const ch = this.peek();
      this.pos++;
      if (ch === "/") break;
      if (ch === "\\" && !this.atEnd()) {
        source += ch + this.peek();
        this.pos++;
      } else source += ch;
    }
    const flags = /^[imsu]*/.exec(this.text.slice(this.pos))![0];
    this.pos += flags.length;
    try {
      return new RegExp(source, flags);
    } catch {
      return this.fail(`invalid regular expression /${source}/`);
    }
  }
}

/** A workflow variable name: a letter or `_`, then letters, digits or `_`. */
const variableName = /^[\p{L}_][\p{L}\p{N}_]*/u;

/** True when no step can select more than one node. */
function isDefinite(segments: readonly PathSegment[]): boolean {
  return segments.every(
    (s) => (s.kind === "child" && s.names.length === 1) || (s.kind === "index" && s.indexes.length === 1) || s.kind === "function",
  );
}

/** Parses a JSONPath (`$…`, `$$…` or `$name…`); throws PathSyntaxError naming the problem and its position. */
export function parsePath(path: string): JsonPath {
  const p = new Parser(path);
  if (p.peek() !== "$") p.fail("a path starts with '$'");
  p.pos = 1;
  let root: PathRoot;
  if (p.peek() === "$") {
    p.pos = 2;
    root = { kind: "context" };
  } else {
    const m = variableName.exec(path.slice(1));
    if (m) {
      p.pos = 1 + m[0].length;
      root = { kind: "variable", name: m[0] };
    } else root = { kind: "input" };
  }
  const segments = p.segments(false);
  return { text: path, root, segments, definite: isDefinite(segments) };
}

/** Which roots a reference path may start from; all are allowed unless said otherwise. */
export interface ReferencePathRoots {
  context?: boolean;
  variables?: boolean;
}

/**
 * Checks a Reference Path (ResultPath, a Choice rule's Variable, the *Path fields): only `.name`,
 * `['name']` and `[index]` steps, so it names one node; no `@ , : ? *`, filters or functions.
 * Throws PathSyntaxError otherwise, or when its root is not allowed.
 */
export function checkReferencePath(path: string, roots: ReferencePathRoots = {}): void {
  const parsed = parsePath(path);
  if (parsed.root.kind === "context" && roots.context === false) {
    throw new PathSyntaxError(`Invalid reference path '${path}': the context object ($$) cannot be used here`);
  }
  if (parsed.root.kind === "variable" && roots.variables === false) {
    throw new PathSyntaxError(`Invalid reference path '${path}': a variable cannot be used here`);
  }
  for (const s of parsed.segments) {
    if (s.kind === "child" && s.names.length === 1) continue;
    if (s.kind === "index" && s.indexes.length === 1) continue;
    if (s.kind === "function") {
      throw new PathSyntaxError(`Invalid reference path '${path}': functions such as ${s.name}() are not allowed in a reference path`);
    }
    const what = s.kind === "filter" ? "a filter" : s.kind === "descendant" ? "'..'" : s.kind === "slice" ? "a slice" : s.kind === "wildcard" ? "'*'" : "a list of names or indexes";
    throw new PathSyntaxError(`Invalid reference path '${path}': ${what} can select more than one node; a reference path names one node`);
  }
}

/** What a path can read: the state input (`$`), the context object (`$$`) and the workflow variables (`$name`). */
export interface PathScope {
  input: Json;
  context: Json;
  variables: Record<string, Json>;
}

/** Parses path text once and keeps it; definitions reuse a handful of paths many times. */
const parsedCache = new Map<string, JsonPath>();

/** The parsed form of a path, from a cache bounded to 10,000 paths. */
function parsed(path: string | JsonPath): JsonPath {
  if (typeof path !== "string") return path;
  let p = parsedCache.get(path);
  if (p === undefined) {
    p = parsePath(path);
    if (parsedCache.size >= 10_000) parsedCache.clear();
    parsedCache.set(path, p);
  }
  return p;
}

/** The parsed form of a path met while a state runs: text that does not parse fails the state with States.Runtime. */
export function runtimeParsed(path: string | JsonPath): JsonPath {
  try {
    return parsed(path);
  } catch (e) {
    if (e instanceof PathSyntaxError) throw new StatesError("States.Runtime", e.message);
    throw e;
  }
}

function hasOwn(o: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/** The nodes one step selects from one node (missing names and out-of-range indexes select nothing). */
function step(node: Json, seg: PathSegment, root: Json): Json[] {
  switch (seg.kind) {
    case "child":
      if (!isJsonObject(node)) return [];
      return seg.names.filter((n) => hasOwn(node, n)).map((n) => node[n]);
    case "index": {
      if (!Array.isArray(node)) return [];
      const out: Json[] = [];
      for (const i of seg.indexes) {
        const at = i < 0 ? node.length + i : i;
        if (at >= 0 && at < node.length) out.push(node[at]);
      }
      return out;
    }
    case "wildcard":
      return Array.isArray(node) ? [...node] : isJsonObject(node) ? Object.values(node) : [];
    case "slice": {
      if (!Array.isArray(node)) return [];
      const len = node.length;
      const stepBy = seg.step ?? 1;
      const norm = (v: number | undefined, dflt: number): number => (v === undefined ? dflt : v < 0 ? Math.max(len + v, stepBy > 0 ? 0 : -1) : Math.min(v, len));
      const out: Json[] = [];
      if (stepBy > 0) {
        for (let i = norm(seg.start, 0); i < norm(seg.end, len); i += stepBy) out.push(node[i]);
      } else {
        for (let i = seg.start === undefined ? len - 1 : Math.min(norm(seg.start, len - 1), len - 1); i > (seg.end === undefined ? -1 : norm(seg.end, -1)); i += stepBy) out.push(node[i]);
      }
      return out;
    }
    case "filter": {
      // Jayway filters an array's items, and an object as a whole.
      const items = Array.isArray(node) ? node : isJsonObject(node) ? [node] : [];
      return items.filter((item) => filterMatches(seg.expression, item, root));
    }
    case "descendant": {
      const out: Json[] = [];
      const visit = (n: Json): void => {
        out.push(...step(n, seg.then, root));
        if (Array.isArray(n)) n.forEach(visit);
        else if (isJsonObject(n)) Object.values(n).forEach(visit);
      };
      visit(node);
      return out;
    }
    case "function": {
      const v = applyFunction(seg.name, node);
      return v === undefined ? [] : [v];
    }
  }
}

/** Jayway's path functions; undefined when the function does not apply to the value. */
function applyFunction(name: PathFunction, value: Json): Json | undefined {
  const numbers = Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
  switch (name) {
    case "length":
    case "size":
      return Array.isArray(value) ? value.length : typeof value === "string" ? value.length : isJsonObject(value) ? Object.keys(value).length : undefined;
    case "keys":
      return isJsonObject(value) ? Object.keys(value) : undefined;
    case "first":
      return Array.isArray(value) && value.length > 0 ? value[0] : undefined;
    case "last":
      return Array.isArray(value) && value.length > 0 ? value[value.length - 1] : undefined;
    case "sum":
      return Array.isArray(value) ? numbers.reduce((a, b) => a + b, 0) : undefined;
    case "min":
      return numbers.length > 0 ? Math.min(...numbers) : undefined;
    case "max":
      return numbers.length > 0 ? Math.max(...numbers) : undefined;
    case "avg":
      return numbers.length > 0 ? numbers.reduce((a, b) => a + b, 0) / numbers.length : undefined;
  }
}

/** Every node the steps select from a start node, in document order. */
function select(start: Json, segments: readonly PathSegment[], root: Json): Json[] {
  let nodes: Json[] = [start];
  for (const seg of segments) {
    nodes = nodes.flatMap((n) => step(n, seg, root));
    if (nodes.length === 0) break;
  }
  return nodes;
}

/** Deep equality of JSON values (object key order does not matter). */
export function jsonEquals(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEquals(v, b[i]));
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => hasOwn(b, k) && jsonEquals(a[k], b[k]));
  }
  return false;
}

/** The value of a filter operand: undefined when its path selects nothing; a list when it selects several. */
function operandValue(op: FilterOperand, current: Json, root: Json): Json | undefined {
  if (op.kind === "literal") return op.value;
  if (op.kind === "regex") return undefined;
  const segs = op.segments;
  const nodes = select(op.kind === "current" ? current : root, segs, root);
  if (isDefinite(segs)) return nodes.length === 0 ? undefined : nodes[0];
  return nodes;
}

function filterMatches(expr: FilterExpression, current: Json, root: Json): boolean {
  switch (expr.kind) {
    case "or":
      return filterMatches(expr.left, current, root) || filterMatches(expr.right, current, root);
    case "and":
      return filterMatches(expr.left, current, root) && filterMatches(expr.right, current, root);
    case "not":
      return !filterMatches(expr.operand, current, root);
    case "exists": {
      const op = expr.operand;
      const v = operandValue(op, current, root);
      if (v === undefined) return false;
      return op.kind === "literal" || op.kind === "regex" || isDefinite(op.segments) || (Array.isArray(v) && v.length > 0);
    }
    case "compare": {
      const left = operandValue(expr.left, current, root);
      if (expr.operator === "=~") {
        if (expr.right.kind !== "regex" || typeof left !== "string") return false;
        expr.right.regex.lastIndex = 0;
        return expr.right.regex.test(left);
      }
      const right = operandValue(expr.right, current, root);
      if (left === undefined || right === undefined) return expr.operator === "!=" && (left !== undefined || right !== undefined);
      switch (expr.operator) {
        case "==":
          return jsonEquals(left, right);
        case "!=":
          return !jsonEquals(left, right);
        case "in":
          return Array.isArray(right) && right.some((r) => jsonEquals(left, r));
        case "nin":
          return Array.isArray(right) && !right.some((r) => jsonEquals(left, r));
        default: {
          if (!((typeof left === "number" && typeof right === "number") || (typeof left === "string" && typeof right === "string"))) return false;
          if (expr.operator === "<") return left < right;
          if (expr.operator === "<=") return left <= right;
          if (expr.operator === ">") return left > right;
          return left >= right;
        }
      }
    }
  }
}

/** The node a path's root names in a scope; undefined for a variable that is not set. */
function rootValue(path: JsonPath, scope: PathScope): Json | undefined {
  switch (path.root.kind) {
    case "input":
      return scope.input;
    case "context":
      return scope.context;
    case "variable":
      return hasOwn(scope.variables, path.root.name) ? scope.variables[path.root.name] : undefined;
  }
}

/**
 * Evaluates a path in a scope: the selected node for a definite path, undefined when it selects
 * nothing; for a path that is not definite, the list of selected nodes (possibly empty), as AWS does.
 * Throws PathSyntaxError for path text that does not parse.
 */
export function queryPath(path: string | JsonPath, scope: PathScope): Json | undefined {
  const p = parsed(path);
  const start = rootValue(p, scope);
  if (start === undefined) return p.definite ? undefined : [];
  const nodes = select(start, p.segments, start);
  if (p.definite) return nodes.length === 0 ? undefined : nodes[0];
  return nodes;
}

/** The name a path's root is written with. */
function rootText(p: JsonPath): string {
  return p.root.kind === "context" ? "$$" : p.root.kind === "variable" ? `$${p.root.name}` : "$";
}

/** Jayway's bracket form of one step (`['a']`, `[0]`, `[*]`), which AWS quotes in its messages. */
function segmentText(s: PathSegment): string {
  if (s.kind === "child") return `[${s.names.map((n) => `'${n}'`).join(",")}]`;
  if (s.kind === "index") return `[${s.indexes.join(",")}]`;
  if (s.kind === "wildcard") return "[*]";
  if (s.kind === "slice") return `[${s.start ?? ""}:${s.end ?? ""}${s.step === undefined ? "" : `:${s.step}`}]`;
  if (s.kind === "function") return `.${s.name}()`;
  if (s.kind === "descendant") return `..${segmentText(s.then)}`;
  return "[?]";
}

/** Jayway's bracket form of a path (`$['a'][0]`), which AWS quotes in its messages. */
export function normalizedPath(path: string | JsonPath): string {
  const p = parsed(path);
  return rootText(p) + p.segments.map(segmentText).join("");
}

/** Why a definite path selects nothing, worded as AWS (Jayway) words it. */
function missingReason(p: JsonPath, start: Json): string {
  let node = start;
  let prefix = rootText(p);
  const last = p.segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const seg = p.segments[i];
    let next: Json | undefined;
    if (seg.kind === "child") {
      const name = seg.names[0];
      if (!isJsonObject(node)) {
        const found = node === null ? "null" : Array.isArray(node) ? "array" : typeof node;
        return `Expected to find an object with property ['${name}'] in path ${prefix} but found '${found}'`;
      }
      next = hasOwn(node, name) ? node[name] : undefined;
    } else if (seg.kind === "index") {
      if (!Array.isArray(node)) return `Filter: [${seg.indexes[0]}] can only be applied to arrays. Current context is: ${JSON.stringify(node)}`;
      const at = seg.indexes[0] < 0 ? node.length + seg.indexes[0] : seg.indexes[0];
      next = at >= 0 && at < node.length ? node[at] : undefined;
    } else {
      next = step(node, seg, start)[0];
    }
    prefix += segmentText(seg);
    if (next === undefined) return i === last ? `No results for path: ${normalizedPath(p)}` : `Missing property in path ${prefix}`;
    node = next;
  }
  return `No results for path: ${normalizedPath(p)}`;
}

/**
 * Evaluates a path as InputPath, OutputPath, ItemsPath and the *Path fields do: the value, or
 * StatesError `error` (States.Runtime unless the caller names another) with AWS's cause
 * `Invalid path '<path>' : <why>` when a definite path selects nothing; States.Runtime for path
 * text that does not parse.
 */
export function evaluatePath(path: string | JsonPath, input: Json, context: Json, variables: Record<string, Json> = {}, error = "States.Runtime"): Json {
  const p = runtimeParsed(path);
  const scope = { input, context, variables };
  const value = queryPath(p, scope);
  if (value === undefined) {
    const start = rootValue(p, scope);
    if (start === undefined) throw new StatesError(error, `Invalid path '${p.text}' : The variable '$${p.root.kind === "variable" ? p.root.name : ""}' is not defined`);
    throw new StatesError(error, `Invalid path '${p.text}' : ${missingReason(p, start)}`);
  }
  return value;
}

/**
 * Puts a state's result into its input at ResultPath: `$` replaces the input, `null` keeps the
 * input and discards the result, a deeper path sets that field, creating objects on the way.
 * Raises States.ResultPathMatchFailure when the path runs through a value that is not an object
 * (or an index beyond an array). The input is not modified; a changed copy is returned.
 */
export function applyResultPath(input: Json, result: Json, resultPath: string | null): Json {
  if (resultPath === null) return input;
  const p = runtimeParsed(resultPath);
  if (p.root.kind !== "input") {
    throw new StatesError("States.ResultPathMatchFailure", `Unable to apply ResultPath '${p.text}': a ResultPath names a place in the state input ('$…')`);
  }
  if (!p.definite || p.segments.some((s) => s.kind === "function")) {
    throw new StatesError("States.ResultPathMatchFailure", `Unable to apply ResultPath '${p.text}': it is not a reference path`);
  }
  const fail = (): never => {
    throw new StatesError(
      "States.ResultPathMatchFailure",
      `Unable to apply ReferencePath ${p.text} to input ${JSON.stringify(input)}`,
    );
  };
  const put = (node: Json | undefined, i: number): Json => {
    if (i === p.segments.length) return result;
    const seg = p.segments[i];
    if (seg.kind === "child") {
      const name = seg.names[0];
      if (node === undefined || node === null) return { [name]: put(undefined, i + 1) };
      if (!isJsonObject(node)) return fail();
      return { ...node, [name]: put(hasOwn(node, name) ? node[name] : undefined, i + 1) };
    }
    if (seg.kind === "index" && Array.isArray(node)) {
      const raw = seg.indexes[0];
      const at = raw < 0 ? node.length + raw : raw;
      if (at < 0 || at >= node.length) return fail();
      const copy = [...node];
      copy[at] = put(node[at], i + 1);
      return copy;
    }
    return fail();
  };
  return put(input, 0);
}
