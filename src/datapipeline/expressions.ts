// The Data Pipeline expression language: `#{…}` inside string fields, as AWS's Developer Guide
// describes it ("Expressions", "Pipeline Expressions and Functions", "Date and Time Functions",
// "Mathematical Functions", "String Functions"). Pure: DateTime values are UTC instants in epoch
// milliseconds (optionally viewed in a time zone after inTimeZone), runtime fields are passed in,
// nothing reads a clock.

import { Fault, Namespace } from "../faults.ts";
import { addMonths, formatDateTime, parseDateTime } from "./schedule.ts";

/** One value of a field as an expression sees it: a string, a reference to another object, or a DateTime instant. */
export type ExprFieldValue =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "ref"; readonly value: string }
  | { readonly kind: "dateTime"; readonly value: number };

/** An object as expressions see it: its id and its effective fields (runtime fields such as `@scheduledStartTime` included, keyed with their `@`). */
export interface ExprObject {
  readonly id: string;
  readonly name?: string;
  readonly fields: ReadonlyMap<string, readonly ExprFieldValue[]>;
}

/** What an expression is evaluated against. */
export interface ExpressionContext {
  /** The object the expression belongs to; bare names and `parent.` resolve against it. */
  readonly object: ExprObject;
  /** The object that references this one (`node.` in SnsAlarm and preconditions); absent elsewhere. */
  readonly node?: ExprObject;
  /** Finds another object of the pipeline by id (for references followed through fields). */
  readonly lookup?: (id: string) => ExprObject | undefined;
  /** Parameter values by parameter id (`#{myParam}`); an array parameter has several. */
  readonly parameters?: ReadonlyMap<string, readonly string[]>;
}

/**
 * An expression that cannot be evaluated. `message` is what EvaluateExpression reports in its
 * InvalidRequestException; `toFault` gives that fault.
 */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExpressionError";
  }

  /** The InvalidRequestException EvaluateExpression answers with. */
  toFault(): Fault {
    return new Fault("InvalidRequestException", this.message, { namespace: Namespace.datapipeline, code: "InvalidArgument" });
  }
}

// ---------------------------------------------------------------------------------------------
// Values

interface DateTimeValue {
  readonly t: "date";
  readonly ms: number;
  /** IANA zone the value is viewed in (after inTimeZone); UTC when absent. */
  readonly zone?: string;
}
interface NumberValue {
  readonly t: "num";
  readonly v: number;
  readonly int: boolean;
}
interface StringValue {
  readonly t: "str";
  readonly v: string;
}
interface ListValue {
  readonly t: "list";
  readonly items: readonly Value[];
}
type Value = DateTimeValue | NumberValue | StringValue | ListValue;

const str = (v: string): StringValue => ({ t: "str", v });
const int = (v: number): NumberValue => ({ t: "num", v, int: true });

/** A double as Java prints it: always with a fraction ("4.0", "0.5"). */
function javaDouble(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return `${v}.0`;
  return String(v);
}

function render(v: Value): string {
  switch (v.t) {
    case "str":
      return v.v;
    case "num":
      return v.int ? String(v.v) : javaDouble(v.v);
    case "date":
      return formatDateTime(v.ms + offsetMs(v.ms, v.zone));
    case "list":
      return v.items.map(render).join(",");
  }
}

// ---------------------------------------------------------------------------------------------
// Time zones (Intl, no clock read)

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let f = zoneFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    zoneFormatters.set(zone, f);
  }
  return f;
}

/** The zone's offset from UTC at instant `ms`, in milliseconds (0 for UTC). */
function offsetMs(ms: number, zone: string | undefined): number {
  if (zone === undefined || zone === "UTC") return 0;
  const parts = Object.fromEntries(zoneFormatter(zone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return local - (ms - (((ms % 1000) + 1000) % 1000));
}

function validZone(zone: string): boolean {
  try {
    zoneFormatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock fields of a DateTime in its zone, as a UTC Date (read with getUTC…). */
function wall(d: DateTimeValue): Date {
  return new Date(d.ms + offsetMs(d.ms, d.zone));
}

/** The instant whose wall clock in `zone` is `wallMs` (read as UTC). */
function fromWall(wallMs: number, zone: string | undefined): number {
  const guess = wallMs - offsetMs(wallMs, zone);
  return wallMs - offsetMs(guess, zone);
}

// ---------------------------------------------------------------------------------------------
// Joda-Time patterns (format)

const monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const pad = (n: number, width: number): string => (n < 0 ? `-${String(-n).padStart(width, "0")}` : String(n).padStart(width, "0"));

function dayOfYear(w: Date): number {
  return Math.floor((Date.UTC(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate()) - Date.UTC(w.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

/**
 * Formats a DateTime with a Joda-Time DateTimeFormat pattern (AWS: "The date/time format for AWS
 * Data Pipeline is Joda Time"). Supported letters: G C Y y x w e E D M d a K h H k m s S z Z and
 * quoted literals ('T', '' for a quote). Any other letter is an error, as in Joda.
 */
export function formatJoda(ms: number, pattern: string, zone?: string): string {
  const d: DateTimeValue = { t: "date", ms, ...(zone === undefined ? {} : { zone }) };
  const w = wall(d);
  let out = "";
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) throw new ExpressionError(`Invalid format pattern '${pattern}': unterminated quote.`);
      out += pattern.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      out += c;
      i++;
      continue;
    }
    let n = 1;
    while (pattern[i + n] === c) n++;
    i += n;
    const y = w.getUTCFullYear();
    switch (c) {
      case "G":
        out += y > 0 ? "AD" : "BC";
        break;
      case "C":
        out += pad(Math.floor(y / 100), n);
        break;
      case "Y":
      case "y":
      case "x":
        out += n === 2 ? pad(((y % 100) + 100) % 100, 2) : pad(c === "x" ? isoWeek(w).year : y, n);
        break;
      case "w":
        out += pad(isoWeek(w).week, n);
        break;
      case "e":
        out += pad(w.getUTCDay() === 0 ? 7 : w.getUTCDay(), n);
        break;
      case "E":
        out += n >= 4 ? dayNames[w.getUTCDay()] : dayNames[w.getUTCDay()].slice(0, 3);
        break;
      case "D":
        out += pad(dayOfYear(w), n);
        break;
      case "M":
        out += n >= 4 ? monthNames[w.getUTCMonth()] : n === 3 ? monthNames[w.getUTCMonth()].slice(0, 3) : pad(w.getUTCMonth() + 1, n);
        break;
      case "d":
        out += pad(w.getUTCDate(), n);
        break;
      case "a":
        out += w.getUTCHours() < 12 ? "AM" : "PM";
        break;
      case "K":
        out += pad(w.getUTCHours() % 12, n);
        break;
      case "h":
        out += pad(w.getUTCHours() % 12 === 0 ? 12 : w.getUTCHours() % 12, n);
        break;
      case "H":
        out += pad(w.getUTCHours(), n);
        break;
      case "k":
        out += pad(w.getUTCHours() === 0 ? 24 : w.getUTCHours(), n);
        break;
      case "m":
        out += pad(w.getUTCMinutes(), n);
        break;
      case "s":
        out += pad(w.getUTCSeconds(), n);
        break;
      case "S":
        out += pad(w.getUTCMilliseconds(), 3).slice(0, n).padEnd(n, "0");
        break;
      case "z":
        out += zone === undefined || zone === "UTC" ? (n >= 4 ? "Coordinated Universal Time" : "UTC") : zoneName(ms, zone, n >= 4);
        break;
      case "Z": {
        if (n >= 3) {
          out += zone ?? "UTC";
          break;
        }
        const off = offsetMs(ms, zone) / 60_000;
        const sign = off < 0 ? "-" : "+";
        const hh = pad(Math.floor(Math.abs(off) / 60), 2);
        const mm = pad(Math.abs(off) % 60, 2);
        out += n === 2 ? `${sign}${hh}:${mm}` : `${sign}${hh}${mm}`;
        break;
      }
      default:
        throw new ExpressionError(`Invalid format pattern '${pattern}': illegal pattern component: ${c.repeat(n)}`);
    }
  }
  return out;
}

function zoneName(ms: number, zone: string, long: boolean): string {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: long ? "long" : "short" }).formatToParts(new Date(ms));
  return parts.find((p) => p.type === "timeZoneName")?.value ?? zone;
}

function isoWeek(w: Date): { year: number; week: number } {
  const d = new Date(Date.UTC(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate()));
  const day = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, week };
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Node =
  | { readonly k: "lit"; readonly v: Value }
  | { readonly k: "ref"; readonly path: readonly string[] }
  | { readonly k: "call"; readonly fn: string; readonly args: readonly Node[] }
  | { readonly k: "neg"; readonly e: Node }
  | { readonly k: "bin"; readonly op: string; readonly l: Node; readonly r: Node };

class Parser {
  pos = 0;
  readonly src: string;

  constructor(src: string) {
    this.src = src;
  }

  fail(what: string): never {
    throw new ExpressionError(`Unable to parse expression '${this.src}': ${what} at position ${this.pos}.`);
  }

  ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  peek(): string {
    this.ws();
    return this.src[this.pos] ?? "";
  }

  expr(): Node {
    let l = this.term();
    for (let c = this.peek(); c === "+" || c === "-"; c = this.peek()) {
      this.pos++;
      l = { k: "bin", op: c, l, r: this.term() };
    }
    return l;
  }

  term(): Node {
    let l = this.power();
    for (let c = this.peek(); c === "*" || c === "/"; c = this.peek()) {
      this.pos++;
      l = { k: "bin", op: c, l, r: this.power() };
    }
    return l;
  }

  power(): Node {
    const l = this.unary();
    if (this.peek() === "^") {
      this.pos++;
      return { k: "bin", op: "^", l, r: this.power() };
    }
    return l;
  }

  unary(): Node {
    if (this.peek() === "-") {
      this.pos++;
      return { k: "neg", e: this.unary() };
    }
    return this.primary();
  }

  primary(): Node {
    const c = this.peek();
    if (c === "(") {
      this.pos++;
      const e = this.expr();
      if (this.peek() !== ")") this.fail("expected ')'");
      this.pos++;
      return e;
    }
    if (c === "'" || c === '"') return { k: "lit", v: str(this.quoted(c)) };
    const num = /^(\d+\.\d*|\.\d+|\d+)/.exec(this.src.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      const isInt = !num[0].includes(".");
      return { k: "lit", v: { t: "num", v: Number(num[0]), int: isInt } };
    }
    const path: string[] = [this.ident()];
    if (this.peek() === "(") {
      this.pos++;
      const args: Node[] = [];
      if (this.peek() !== ")") {
        for (;;) {
          args.push(this.expr());
          if (this.peek() === ",") {
            this.pos++;
            continue;
          }
          break;
        }
      }
      if (this.peek() !== ")") this.fail("expected ')'");
      this.pos++;
      return { k: "call", fn: path[0], args };
    }
    while (this.src[this.pos] === ".") {
      this.pos++;
      path.push(this.ident());
    }
    return { k: "ref", path };
  }

  ident(): string {
    this.ws();
    const m = /^[@*]?[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail(this.pos >= this.src.length ? "unexpected end of expression" : `unexpected '${this.src[this.pos]}'`);
    this.pos += m[0].length;
    return m[0];
  }

  quoted(q: string): string {
    let out = "";
    this.pos++;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos++];
      if (c === "\\" && this.pos < this.src.length) out += this.src[this.pos++];
      else if (c === q) return out;
      else out += c;
    }
    return this.fail("unterminated string");
  }
}

/** A piece of a field value: literal text or an expression (its source between `#{` and `}`). */
export type TemplatePart = { readonly text: string } | { readonly expr: string };

/**
 * Splits a string field into literal text and `#{…}` expressions. A `}` inside a quoted string
 * does not close the expression; an unclosed `#{` is an error.
 */
export function splitTemplate(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  let text = "";
  while (i < s.length) {
    if (s[i] === "#" && s[i + 1] === "{") {
      let j = i + 2;
      let quote = "";
      let depth = 0;
      for (; j < s.length; j++) {
        const c = s[j];
        if (quote) {
          if (c === "\\") j++;
          else if (c === quote) quote = "";
        } else if (c === "'" || c === '"') quote = c;
        else if (c === "{") depth++;
        else if (c === "}") {
          if (depth === 0) break;
          depth--;
        }
      }
      if (j >= s.length) throw new ExpressionError(`Unable to parse expression '${s.slice(i)}': missing '}'.`);
      if (text) parts.push({ text });
      text = "";
      parts.push({ expr: s.slice(i + 2, j) });
      i = j + 1;
    } else text += s[i++];
  }
  if (text) parts.push({ text });
  return parts;
}

/** Whether a string holds at least one `#{…}` expression. */
export function hasExpression(s: string): boolean {
  return s.includes("#{");
}

/** The first name of every reference in an expression's source (`myParam`, `node`, `@scheduledStartTime`), for validation. */
export function referencedNames(exprSource: string): string[] {
  const names: string[] = [];
  const walk = (n: Node): void => {
    if (n.k === "ref") names.push(n.path[0]);
    else if (n.k === "call") n.args.forEach(walk);
    else if (n.k === "neg") walk(n.e);
    else if (n.k === "bin") {
      walk(n.l);
      walk(n.r);
    }
  };
  walk(parse(exprSource));
  return names;
}

function parse(src: string): Node {
  const p = new Parser(src);
  const e = p.expr();
  if (p.peek() !== "") p.fail(`unexpected '${p.src[p.pos]}'`);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function fieldValue(v: ExprFieldValue): Value {
  return v.kind === "dateTime" ? { t: "date", ms: v.value } : str(v.value);
}

function resolveRef(path: readonly string[], ctx: ExpressionContext, src: string): Value {
  let obj: ExprObject = ctx.object;
  let i = 0;
  if (path[0] === "node") {
    if (!ctx.node) throw new ExpressionError(`Unable to resolve '${path.join(".")}' in expression '${src}': 'node' is only available in actions and preconditions referenced by another object.`);
    obj = ctx.node;
    i = 1;
  } else if (path[0] === "parent" && path.length > 1) {
    i = 1;
  } else if (path.length === 1 && ctx.parameters?.has(path[0]) && !obj.fields.has(path[0])) {
    const vals = ctx.parameters.get(path[0]) ?? [];
    return vals.length === 1 ? str(vals[0]) : { t: "list", items: vals.map(str) };
  }
  for (; i < path.length; i++) {
    const key = path[i];
    let vals: readonly ExprFieldValue[] | undefined = obj.fields.get(key);
    if (vals === undefined && (key === "@id" || key === "id")) vals = [{ kind: "string", value: obj.id }];
    if (vals === undefined && key === "name") vals = [{ kind: "string", value: obj.name ?? obj.id }];
    if (vals === undefined || vals.length === 0) {
      throw new ExpressionError(`Unable to resolve '${path.join(".")}' in expression '${src}': object '${obj.id}' has no field '${key}'.`);
    }
    if (i < path.length - 1) {
      const ref = vals[0];
      if (ref.kind !== "ref") throw new ExpressionError(`Unable to resolve '${path.join(".")}' in expression '${src}': field '${key}' of object '${obj.id}' is not a reference.`);
      const next = ctx.lookup?.(ref.value);
      if (!next) throw new ExpressionError(`Unable to resolve '${path.join(".")}' in expression '${src}': object '${ref.value}' does not exist.`);
      obj = next;
      continue;
    }
    return vals.length === 1 ? fieldValue(vals[0]) : { t: "list", items: vals.map(fieldValue) };
  }
  throw new ExpressionError(`Unable to resolve '${path.join(".")}' in expression '${src}'.`);
}

function asDate(v: Value, fn: string, src: string): DateTimeValue {
  if (v.t === "date") return v;
  if (v.t === "str") {
    const ms = parseDateTime(v.v.replace(/[zZ]$/, ""));
    if (ms !== undefined) return { t: "date", ms };
  }
  throw new ExpressionError(`Invalid argument to ${fn} in expression '${src}': '${render(v)}' is not a DateTime.`);
}

function asInt(v: Value, fn: string, src: string): number {
  if (v.t === "num" && v.int) return v.v;
  if (v.t === "str" && /^-?\d+$/.test(v.v.trim())) return Number(v.v);
  throw new ExpressionError(`Invalid argument to ${fn} in expression '${src}': '${render(v)}' is not an integer.`);
}

function asNum(v: Value, src: string): NumberValue {
  if (v.t === "num") return v;
  if (v.t === "str" && /^-?(\d+\.?\d*|\.\d+)$/.test(v.v.trim())) return { t: "num", v: Number(v.v), int: /^-?\d+$/.test(v.v.trim()) };
  throw new ExpressionError(`Invalid operand in expression '${src}': '${render(v)}' is not a number.`);
}

const msUnits: Record<string, number> = { Minutes: 60_000, Hours: 3_600_000, Days: 86_400_000, Weeks: 604_800_000 };

function shift(d: DateTimeValue, unit: string, n: number): DateTimeValue {
  const zone = d.zone;
  const w = d.ms + offsetMs(d.ms, zone);
  let nw: number;
  if (unit === "Months" || unit === "Years") nw = addMonths(w, unit === "Years" ? n * 12 : n);
  else if (unit === "Minutes" || unit === "Hours") return { ...d, ms: d.ms + n * msUnits[unit] };
  else nw = w + n * msUnits[unit];
  return { ...d, ms: fromWall(nw, zone) };
}

function atWall(d: DateTimeValue, build: (w: Date) => number): DateTimeValue {
  return { ...d, ms: fromWall(build(wall(d)), d.zone) };
}

/** The documented functions, by name: each takes evaluated arguments. */
function call(fn: string, args: Value[], src: string): Value {
  const arity = (n: number): void => {
    if (args.length !== n) throw new ExpressionError(`Invalid call in expression '${src}': ${fn} takes ${n} argument${n === 1 ? "" : "s"}, got ${args.length}.`);
  };
  const m = /^(plus|minus)(Minutes|Hours|Days|Weeks|Months|Years)$/.exec(fn);
  if (m) {
    arity(2);
    const n = asInt(args[1], fn, src);
    return shift(asDate(args[0], fn, src), m[2], m[1] === "plus" ? n : -n);
  }
  switch (fn) {
    case "day":
    case "dayOfYear":
    case "hour":
    case "minute":
    case "month":
    case "year": {
      arity(1);
      const w = wall(asDate(args[0], fn, src));
      const v = {
        day: w.getUTCDate(),
        dayOfYear: dayOfYear(w),
        hour: w.getUTCHours(),
        minute: w.getUTCMinutes(),
        month: w.getUTCMonth() + 1,
        year: w.getUTCFullYear(),
      }[fn];
      return int(v);
    }
    case "firstOfMonth":
      arity(1);
      return atWall(asDate(args[0], fn, src), (w) => Date.UTC(w.getUTCFullYear(), w.getUTCMonth(), 1, w.getUTCHours(), w.getUTCMinutes(), w.getUTCSeconds()));
    case "midnight":
      arity(1);
      return atWall(asDate(args[0], fn, src), (w) => Date.UTC(w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate()));
    case "sunday":
      arity(1);
      return atWall(asDate(args[0], fn, src), (w) => w.getTime() - w.getUTCDay() * 86_400_000);
    case "yesterday":
      arity(1);
      return shift(asDate(args[0], fn, src), "Days", -1);
    case "makeDate":
    case "makeDateTime": {
      arity(fn === "makeDate" ? 3 : 5);
      const [y, mo, d, h = 0, mi = 0] = args.map((a) => asInt(a, fn, src));
      const t = Date.UTC(y, mo - 1, d, h, mi);
      const back = new Date(t);
      if (mo < 1 || mo > 12 || back.getUTCDate() !== d || h > 23 || mi > 59 || h < 0 || mi < 0)
        throw new ExpressionError(`Invalid argument to ${fn} in expression '${src}': ${args.map(render).join(",")} is not a valid date.`);
      return { t: "date", ms: t };
    }
    case "format": {
      arity(2);
      const d = asDate(args[0], fn, src);
      if (args[1].t !== "str") throw new ExpressionError(`Invalid argument to format in expression '${src}': the pattern must be a string.`);
      return str(formatJoda(d.ms, args[1].v, d.zone));
    }
    case "inTimeZone": {
      arity(2);
      const d = asDate(args[0], fn, src);
      const zone = render(args[1]);
      if (!validZone(zone)) throw new ExpressionError(`Invalid argument to inTimeZone in expression '${src}': '${zone}' is not a time zone id.`);
      return { ...d, zone };
    }
    default:
      throw new ExpressionError(`Unable to evaluate expression '${src}': unknown function '${fn}'.`);
  }
}

function binary(op: string, l: Value, r: Value, src: string): Value {
  if (l.t === "list") return { t: "list", items: l.items.map((x) => binary(op, x, r, src)) };
  if (r.t === "list") return { t: "list", items: r.items.map((x) => binary(op, l, x, src)) };
  if (op === "+" && (l.t !== "num" || r.t !== "num")) return str(render(l) + render(r));
  const a = asNum(l, src);
  const b = asNum(r, src);
  const both = a.int && b.int;
  switch (op) {
    case "+":
      return { t: "num", v: a.v + b.v, int: both };
    case "-":
      return { t: "num", v: a.v - b.v, int: both };
    case "*":
      return { t: "num", v: a.v * b.v, int: both };
    case "/":
      if (b.v === 0 && both) throw new ExpressionError(`Unable to evaluate expression '${src}': division by zero.`);
      return both ? { t: "num", v: Math.trunc(a.v / b.v), int: true } : { t: "num", v: a.v / b.v, int: false };
    default:
      return { t: "num", v: a.v ** b.v, int: false };
  }
}

function evalNode(n: Node, ctx: ExpressionContext, src: string): Value {
  switch (n.k) {
    case "lit":
      return n.v;
    case "ref":
      return resolveRef(n.path, ctx, src);
    case "neg": {
      const v = asNum(evalNode(n.e, ctx, src), src);
      return { ...v, v: -v.v };
    }
    case "bin":
      return binary(n.op, evalNode(n.l, ctx, src), evalNode(n.r, ctx, src), src);
    case "call":
      return call(n.fn, n.args.map((a) => evalNode(a, ctx, src)), src);
  }
}

/**
 * Evaluates a string with `#{…}` expressions in it against an object (EvaluateExpression): literal
 * text is kept, each expression is replaced by its value. DateTime values print as AWS writes them
 * ("2012-12-12T00:00:00", in UTC unless inTimeZone chose a zone), integers as integers, doubles
 * Java-style ("4.0"). Throws ExpressionError on a syntax error, an unknown name or function, or
 * an argument of the wrong kind.
 */
export function evaluateExpression(expr: string, ctx: ExpressionContext): string {
  return splitTemplate(expr)
    .map((p) => ("text" in p ? p.text : render(evalNode(parse(p.expr), ctx, `#{${p.expr}}`))))
    .join("");
}

/** Fields whose values are used verbatim, never evaluated (AWS: "ID, NAME, TYPE, SPHERE"). */
export const verbatimFields: readonly string[] = ["id", "name", "type", "@sphere"];

/**
 * Evaluates every string field of `object` that holds `#{…}`; references, DateTime values and the
 * verbatim fields are returned unchanged. The result has the same keys and value counts.
 */
export function evaluateFields(object: ExprObject, ctx: Omit<ExpressionContext, "object">): Map<string, ExprFieldValue[]> {
  const out = new Map<string, ExprFieldValue[]>();
  for (const [key, vals] of object.fields) {
    out.set(
      key,
      vals.map((v) =>
        v.kind === "string" && !verbatimFields.includes(key) && hasExpression(v.value)
          ? { kind: "string", value: evaluateExpression(v.value, { ...ctx, object }) }
          : v,
      ),
    );
  }
  return out;
}
