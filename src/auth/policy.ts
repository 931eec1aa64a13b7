// IAM policy documents and their evaluation: a pure function of the policies, the action, the
// resource and the request context (no clock, no I/O; aws:CurrentTime is a context key the
// caller fills in).
//
// Evaluation, as IAM evaluates the identity policies of one principal:
//   1. a statement applies when its Action (or NotAction), its Resource (or NotResource) and every
//      one of its conditions match;
//   2. any applicable Deny statement: "Deny" (explicit deny wins over any Allow);
//   3. otherwise any applicable Allow statement: "Allow";
//   4. otherwise "ImplicitDeny".
//
// Matching rules:
//   - Action: `service:Name`, case-insensitive, with `*` and `?` wildcards (`*` alone matches all).
//   - Resource: case-sensitive, `*` and `?` wildcards (an ARN's `*` may span colons, as in IAM).
//   - Condition: `{ "<Operator>": { "<key>": value | [values] } }`. Several operators, and several
//     keys under one operator, must all hold (AND); several values of one key are alternatives
//     (OR). For a negated operator (StringNotEquals, StringNotLike, ArnNotEquals, ArnNotLike,
//     NotIpAddress, NumericNotEquals, DateNotEquals, StringNotEqualsIgnoreCase) the condition
//     holds when the request's value matches none of the values. Key names are case-insensitive.
//   - A key absent from the context: the condition is false for a positive operator and true for
//     a negated one; `…IfExists` makes it true for every operator; `Null: {"k": "true"}` holds
//     exactly when the key is absent (`"false"`: present).
//   - Set operators for multivalued keys: `ForAnyValue:` holds when at least one value of the
//     request satisfies the operator (false for an absent or empty key); `ForAllValues:` holds
//     when every value does (true for an absent or empty key). A multivalued key under an
//     operator without a set prefix is read as ForAnyValue.
//   - Numeric values are decimal numbers; dates are ISO 8601 or epoch seconds; IpAddress takes
//     IPv4 and IPv6 addresses and CIDR blocks (an IPv4-mapped IPv6 request address matches IPv4
//     blocks); Bool compares "true"/"false" case-insensitively.
//
// Not supported (refused when a document is read, so no policy silently means something else):
// Principal / NotPrincipal (these are identity policies), policy variables such as
// `${aws:username}` in Resource, NotResource or condition values, and condition operators other
// than those listed in OPERATORS.

/** The answer of `evaluate`; `statement` names the deciding statement (its Sid, or `Statement[i]` / `Statement`). */
export interface Decision {
  readonly decision: "Allow" | "Deny" | "ImplicitDeny";
  readonly statement?: string;
}

/** What is being authorized: an action (`swf:PollForActivityTask`), a resource ARN and the condition keys of the request. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys (case-insensitive names) and their values; a list is a multivalued key. */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * When set (a condition key), an Allow counts only from a statement with a condition on that
   * key: a grant the key names, not a blanket Allow. Deny statements count as always.
   */
  readonly grantKey?: string;
}

/** A policy document that cannot be read; `message` names the path of the offending element. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

/** Policy language versions IAM accepts. */
const VERSIONS: ReadonlySet<string> = new Set(["2012-10-17", "2008-10-17"]);

type Comparison = "string" | "stringIgnoreCase" | "stringLike" | "arn" | "numeric" | "date" | "ip" | "bool" | "binary";
type Relation = "eq" | "lt" | "le" | "gt" | "ge";

interface OperatorSpec {
  readonly comparison: Comparison;
  readonly relation: Relation;
  readonly negated: boolean;
}

/** Every condition operator the engine reads (without the set prefix and the IfExists suffix). */
export const OPERATORS: Readonly<Record<string, OperatorSpec>> = {
  StringEquals: { comparison: "string", relation: "eq", negated: false },
  StringNotEquals: { comparison: "string", relation: "eq", negated: true },
  StringEqualsIgnoreCase: { comparison: "stringIgnoreCase", relation: "eq", negated: false },
  StringNotEqualsIgnoreCase: { comparison: "stringIgnoreCase", relation: "eq", negated: true },
  StringLike: { comparison: "stringLike", relation: "eq", negated: false },
  StringNotLike: { comparison: "stringLike", relation: "eq", negated: true },
  ArnEquals: { comparison: "arn", relation: "eq", negated: false },
  ArnLike: { comparison: "arn", relation: "eq", negated: false },
  ArnNotEquals: { comparison: "arn", relation: "eq", negated: true },
  ArnNotLike: { comparison: "arn", relation: "eq", negated: true },
  NumericEquals: { comparison: "numeric", relation: "eq", negated: false },
  NumericNotEquals: { comparison: "numeric", relation: "eq", negated: true },
  NumericLessThan: { comparison: "numeric", relation: "lt", negated: false },
  NumericLessThanEquals: { comparison: "numeric", relation: "le", negated: false },
  NumericGreaterThan: { comparison: "numeric", relation: "gt", negated: false },
  NumericGreaterThanEquals: { comparison: "numeric", relation: "ge", negated: false },
  DateEquals: { comparison: "date", relation: "eq", negated: false },
  DateNotEquals: { comparison: "date", relation: "eq", negated: true },
  DateLessThan: { comparison: "date", relation: "lt", negated: false },
  DateLessThanEquals: { comparison: "date", relation: "le", negated: false },
  DateGreaterThan: { comparison: "date", relation: "gt", negated: false },
  DateGreaterThanEquals: { comparison: "date", relation: "ge", negated: false },
  IpAddress: { comparison: "ip", relation: "eq", negated: false },
  NotIpAddress: { comparison: "ip", relation: "eq", negated: true },
  Bool: { comparison: "bool", relation: "eq", negated: false },
  BinaryEquals: { comparison: "binary", relation: "eq", negated: false },
};

interface Condition {
  readonly spec: OperatorSpec | "null";
  readonly set: "any" | "all" | undefined;
  readonly ifExists: boolean;
  /** Lower-case key name. */
  readonly key: string;
  readonly values: readonly string[];
}

interface Statement {
  readonly label: string;
  readonly allow: boolean;
  readonly actions: readonly RegExp[];
  readonly notActions: boolean;
  readonly resources: readonly RegExp[];
  readonly notResources: boolean;
  readonly conditions: readonly Condition[];
}

/** A policy document read and checked once. */
export interface CompiledPolicy {
  readonly statements: readonly Statement[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A pattern with `*` (any run) and `?` (one character) as an anchored RegExp. */
function wildcard(pattern: string, ignoreCase: boolean): RegExp {
  let src = "";
  for (const ch of pattern) {
    if (ch === "*") src += "[\\s\\S]*";
    else if (ch === "?") src += "[\\s\\S]";
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${src}$`, ignoreCase ? "iu" : "u");
}

function stringList(v: unknown, path: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new PolicyError(`${path}: must not be an empty list`);
  return list.map((x, i) => {
    if (typeof x !== "string") throw new PolicyError(`${Array.isArray(v) ? `${path}[${i}]` : path}: expected a string, got ${JSON.stringify(x)}`);
    return x;
  });
}

function conditionValues(v: unknown, path: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new PolicyError(`${path}: must not be an empty list`);
  return list.map((x, i) => {
    if (typeof x === "string") return x;
    if (typeof x === "number" || typeof x === "boolean") return String(x);
    throw new PolicyError(`${Array.isArray(v) ? `${path}[${i}]` : path}: expected a string, number or boolean, got ${JSON.stringify(x)}`);
  });
}

function parseOperator(name: string, path: string): { spec: OperatorSpec | "null"; set: "any" | "all" | undefined; ifExists: boolean } {
  let rest = name;
  let set: "any" | "all" | undefined;
  if (rest.startsWith("ForAnyValue:")) {
    set = "any";
    rest = rest.slice("ForAnyValue:".length);
  } else if (rest.startsWith("ForAllValues:")) {
    set = "all";
    rest = rest.slice("ForAllValues:".length);
  }
  if (rest === "Null") {
    if (set !== undefined) throw new PolicyError(`${path}: the Null operator takes no set prefix`);
    return { spec: "null", set, ifExists: false };
  }
  const ifExists = rest.endsWith("IfExists");
  if (ifExists) rest = rest.slice(0, -"IfExists".length);
  const spec = Object.hasOwn(OPERATORS, rest) ? OPERATORS[rest] : undefined;
  if (spec === undefined) throw new PolicyError(`${path}: unknown condition operator ${JSON.stringify(name)}; known operators: ${[...Object.keys(OPERATORS), "Null"].join(", ")} (with an optional IfExists suffix and ForAnyValue:/ForAllValues: prefix)`);
  return { spec, set, ifExists };
}

function checkValue(spec: OperatorSpec | "null", value: string, path: string): void {
  if (spec === "null") {
    if (value !== "true" && value !== "false") throw new PolicyError(`${path}: Null takes "true" or "false", got ${JSON.stringify(value)}`);
    return;
  }
  switch (spec.comparison) {
    case "numeric":
      if (parseNumber(value) === undefined) throw new PolicyError(`${path}: ${JSON.stringify(value)} is not a number`);
      return;
    case "date":
      if (parseDate(value) === undefined) throw new PolicyError(`${path}: ${JSON.stringify(value)} is not a date (ISO 8601 or epoch seconds)`);
      return;
    case "ip":
      if (parseCidr(value) === undefined) throw new PolicyError(`${path}: ${JSON.stringify(value)} is not an IP address or CIDR block`);
      return;
    case "bool":
      if (value.toLowerCase() !== "true" && value.toLowerCase() !== "false") throw new PolicyError(`${path}: Bool takes "true" or "false", got ${JSON.stringify(value)}`);
      return;
    default:
      return;
  }
}

/** Policy variables would be matched literally here; refuse them rather than mean something else. */
function noVariables(value: string, path: string): void {
  if (value.includes("${")) throw new PolicyError(`${path}: policy variables such as \${aws:username} are not supported (${JSON.stringify(value)})`);
}

function parseStatement(s: unknown, label: string, path: string): Statement {
  if (!isObject(s)) throw new PolicyError(`${path}: a statement must be an object`);
  for (const key of Object.keys(s)) {
    if (key === "Principal" || key === "NotPrincipal") throw new PolicyError(`${path}.${key}: not allowed in an identity policy (a policy attached to a principal names no principal)`);
    if (!["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"].includes(key)) throw new PolicyError(`${path}: unknown element ${JSON.stringify(key)}`);
  }
  if (s.Sid !== undefined && typeof s.Sid !== "string") throw new PolicyError(`${path}.Sid: expected a string`);
  if (s.Effect !== "Allow" && s.Effect !== "Deny") throw new PolicyError(`${path}.Effect: must be "Allow" or "Deny", got ${JSON.stringify(s.Effect)}`);
  if ((s.Action === undefined) === (s.NotAction === undefined)) throw new PolicyError(`${path}: needs exactly one of Action and NotAction`);
  if ((s.Resource === undefined) === (s.NotResource === undefined)) throw new PolicyError(`${path}: needs exactly one of Resource and NotResource`);
  const notActions = s.Action === undefined;
  const actionPath = `${path}.${notActions ? "NotAction" : "Action"}`;
  const actions = stringList(notActions ? s.NotAction : s.Action, actionPath).map((a, i) => {
    if (a !== "*" && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(a)) throw new PolicyError(`${actionPath}: ${JSON.stringify(a)} is not an action such as "swf:PollForActivityTask", "states:*" or "*" (entry ${i})`);
    return wildcard(a, true);
  });
  const notResources = s.Resource === undefined;
  const resourcePath = `${path}.${notResources ? "NotResource" : "Resource"}`;
  const resources = stringList(notResources ? s.NotResource : s.Resource, resourcePath).map((r) => {
    noVariables(r, resourcePath);
    return wildcard(r, false);
  });
  const conditions: Condition[] = [];
  if (s.Condition !== undefined) {
    if (!isObject(s.Condition)) throw new PolicyError(`${path}.Condition: expected an object of operators`);
    for (const [op, block] of Object.entries(s.Condition)) {
      const opPath = `${path}.Condition.${op}`;
      const { spec, set, ifExists } = parseOperator(op, opPath);
      if (!isObject(block)) throw new PolicyError(`${opPath}: expected an object of condition keys`);
      for (const [key, raw] of Object.entries(block)) {
        const values = conditionValues(raw, `${opPath}.${key}`);
        for (const v of values) {
          noVariables(v, `${opPath}.${key}`);
          checkValue(spec, v, `${opPath}.${key}`);
        }
        conditions.push({ spec, set, ifExists, key: key.toLowerCase(), values });
      }
    }
  }
  return { label: typeof s.Sid === "string" && s.Sid !== "" ? s.Sid : label, allow: s.Effect === "Allow", actions, notActions, resources, notResources, conditions };
}

/** Reads and checks one policy document; throws PolicyError naming `where` and the element at fault. */
export function compilePolicy(doc: unknown, where = "policy"): CompiledPolicy {
  if (!isObject(doc)) throw new PolicyError(`${where}: a policy document must be a JSON object`);
  for (const key of Object.keys(doc)) {
    if (!["Version", "Id", "Statement"].includes(key)) throw new PolicyError(`${where}: unknown element ${JSON.stringify(key)} (a policy has Version, Id and Statement)`);
  }
  if (doc.Version !== undefined && (typeof doc.Version !== "string" || !VERSIONS.has(doc.Version))) {
    throw new PolicyError(`${where}.Version: must be "2012-10-17" or "2008-10-17", got ${JSON.stringify(doc.Version)}`);
  }
  if (doc.Statement === undefined) throw new PolicyError(`${where}.Statement: missing`);
  if (Array.isArray(doc.Statement)) {
    return { statements: doc.Statement.map((s, i) => parseStatement(s, `Statement[${i}]`, `${where}.Statement[${i}]`)) };
  }
  return { statements: [parseStatement(doc.Statement, "Statement", `${where}.Statement`)] };
}

const compiled = new WeakMap<object, CompiledPolicy>();

function compiledOf(doc: unknown, i: number): CompiledPolicy {
  if (typeof doc === "object" && doc !== null) {
    const hit = compiled.get(doc);
    if (hit !== undefined) return hit;
    const c = compilePolicy(doc, `policies[${i}]`);
    compiled.set(doc, c);
    return c;
  }
  return compilePolicy(doc, `policies[${i}]`);
}

// ---- value comparisons

function parseNumber(s: string): number | undefined {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s.trim())) return undefined;
  return Number(s);
}

function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

interface Cidr {
  readonly v6: boolean;
  readonly bits: bigint;
  readonly prefix: number;
}

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseIpv6(s: string): bigint | undefined {
  let text = s;
  let tail: bigint | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const rest = halves.length === 2 ? (halves[1] === "" ? [] : halves[1].split(":")) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? head.length !== 8 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail !== undefined) n = (n & ~0xffffffffn) | tail;
  return n;
}

/** An address or CIDR block; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is read as IPv4. */
function parseCidr(s: string): Cidr | undefined {
  const [addr, len, extra] = s.trim().split("/");
  if (extra !== undefined || addr === undefined) return undefined;
  const v4 = parseIpv4(addr);
  const v6 = v4 === undefined ? parseIpv6(addr) : undefined;
  if (v4 === undefined && v6 === undefined) return undefined;
  if (v6 !== undefined && v6 >> 32n === 0xffffn && len === undefined) return { v6: false, bits: v6 & 0xffffffffn, prefix: 32 };
  const width = v4 !== undefined ? 32 : 128;
  const prefix = len === undefined ? width : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= width)) return undefined;
  return { v6: v4 === undefined, bits: v4 ?? v6 ?? 0n, prefix };
}

function inCidr(block: Cidr, ip: Cidr): boolean {
  if (block.v6 !== ip.v6) return false;
  const width = block.v6 ? 128n : 32n;
  const shift = width - BigInt(block.prefix);
  return block.bits >> shift === ip.bits >> shift;
}

function relate(a: number, b: number, r: Relation): boolean {
  switch (r) {
    case "eq":
      return a === b;
    case "lt":
      return a < b;
    case "le":
      return a <= b;
    case "gt":
      return a > b;
    case "ge":
      return a >= b;
  }
}

/** ARN components: arn:partition:service:region:account:resource (the resource keeps its colons). */
function arnParts(s: string): string[] | undefined {
  const parts = s.split(":");
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

const likeCache = new Map<string, RegExp>();
function like(pattern: string): RegExp {
  let re = likeCache.get(pattern);
  if (re === undefined) {
    re = wildcard(pattern, false);
    if (likeCache.size > 10_000) likeCache.clear();
    likeCache.set(pattern, re);
  }
  return re;
}

/** Whether one request value matches one policy value under the operator (before negation). */
function matches(spec: OperatorSpec, actual: string, expected: string): boolean {
  switch (spec.comparison) {
    case "string":
      return actual === expected;
    case "stringIgnoreCase":
      return actual.toLowerCase() === expected.toLowerCase();
    case "stringLike":
      return like(expected).test(actual);
    case "arn": {
      const a = arnParts(actual);
      const e = arnParts(expected);
      if (a === undefined || e === undefined) return false;
      return e.every((p, i) => like(p).test(a[i]));
    }
    case "numeric": {
      const a = parseNumber(actual);
      const e = parseNumber(expected);
      return a !== undefined && e !== undefined && relate(a, e, spec.relation);
    }
    case "date": {
      const a = parseDate(actual);
      const e = parseDate(expected);
      return a !== undefined && e !== undefined && relate(a, e, spec.relation);
    }
    case "ip": {
      const a = parseCidr(actual);
      const e = parseCidr(expected);
      return a !== undefined && e !== undefined && inCidr(e, a);
    }
    case "bool":
      return actual.toLowerCase() === expected.toLowerCase();
    case "binary":
      return actual === expected;
  }
}

/** Whether one request value satisfies the operator against the policy values (negation applied). */
function satisfies(spec: OperatorSpec, actual: string, values: readonly string[]): boolean {
  const any = values.some((v) => matches(spec, actual, v));
  return spec.negated ? !any : any;
}

function conditionHolds(c: Condition, context: ReadonlyMap<string, readonly string[]>): boolean {
  const actual = context.get(c.key);
  if (c.spec === "null") {
    const absent = actual === undefined || actual.length === 0;
    return c.values.some((v) => (v === "true") === absent);
  }
  const spec = c.spec;
  if (actual === undefined) {
    if (c.ifExists) return true;
    if (c.set === "all") return true;
    if (c.set === "any") return false;
    return spec.negated;
  }
  if (c.set === "all") return actual.every((a) => satisfies(spec, a, c.values));
  if (c.set === "any") return actual.some((a) => satisfies(spec, a, c.values));
  // No set operator: a single value, or a multivalued key read as ForAnyValue (negated: no value matches).
  if (actual.length === 0) return c.ifExists || spec.negated;
  if (spec.negated) return actual.every((a) => satisfies(spec, a, c.values));
  return actual.some((a) => satisfies(spec, a, c.values));
}

function statementApplies(s: Statement, action: string, resource: string, context: ReadonlyMap<string, readonly string[]>): boolean {
  const actionHit = s.actions.some((re) => re.test(action));
  if (actionHit === s.notActions) return false;
  const resourceHit = s.resources.some((re) => re.test(resource));
  if (resourceHit === s.notResources) return false;
  return s.conditions.every((c) => conditionHolds(c, context));
}

/**
 * Evaluates identity policies for one request (rules in the file comment). Each policy is a
 * document (checked and compiled on first use, then cached by object identity) or the result of
 * compilePolicy. Throws PolicyError for a document that cannot be read.
 */
export function evaluate(policies: readonly unknown[], request: AuthorizationRequest): Decision {
  const context = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(request.context ?? {})) context.set(k.toLowerCase(), typeof v === "string" ? [v] : v);
  let allow: string | undefined;
  const grantKey = request.grantKey?.toLowerCase();
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    const policy = isCompiled(p) ? p : compiledOf(p, i);
    for (const s of policy.statements) {
      if (!statementApplies(s, request.action, request.resource, context)) continue;
      if (!s.allow) return { decision: "Deny", statement: s.label };
      if (grantKey !== undefined && !s.conditions.some((c) => c.key === grantKey)) continue;
      allow ??= s.label;
    }
  }
  return allow === undefined ? { decision: "ImplicitDeny" } : { decision: "Allow", statement: allow };
}

function isCompiled(p: unknown): p is CompiledPolicy {
  return isObject(p) && Array.isArray(p.statements) && !("Statement" in p);
}
