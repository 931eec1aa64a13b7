// Choice rules of the JSONPath query language: a comparison of the value at `Variable` with a
// literal or with the value at another path, Is* type tests, and And/Or/Not over nested rules.
// Which state comes next when nothing matches (Default, States.NoChoiceMatched) is the
// interpreter's concern.
import type { Json, JsonObject } from "./json.ts";
import { isJsonObject } from "./json.ts";
import { StatesError } from "./errors.ts";
import type { PathScope } from "./paths.ts";
import { PathSyntaxError, checkReferencePath, queryPath, runtimeParsed } from "./paths.ts";

/** The kind of operand a comparison operator takes. */
export type ComparisonOperand = "string" | "number" | "boolean" | "timestamp" | "path" | "test";

/**
 * Every Choice comparison operator and the operand it takes: a literal of a type, a reference
 * path (`…Path` forms: compare with the value there), or `test` (Is* operators: a boolean that
 * says whether the test must hold or fail).
 */
export const comparisonOperators: Readonly<Record<string, { operand: ComparisonOperand }>> = {
  BooleanEquals: { operand: "boolean" },
  BooleanEqualsPath: { operand: "path" },
  IsBoolean: { operand: "test" },
  IsNull: { operand: "test" },
  IsNumeric: { operand: "test" },
  IsPresent: { operand: "test" },
  IsString: { operand: "test" },
  IsTimestamp: { operand: "test" },
  NumericEquals: { operand: "number" },
  NumericEqualsPath: { operand: "path" },
  NumericGreaterThan: { operand: "number" },
  NumericGreaterThanPath: { operand: "path" },
  NumericGreaterThanEquals: { operand: "number" },
  NumericGreaterThanEqualsPath: { operand: "path" },
  NumericLessThan: { operand: "number" },
  NumericLessThanPath: { operand: "path" },
  NumericLessThanEquals: { operand: "number" },
  NumericLessThanEqualsPath: { operand: "path" },
  StringEquals: { operand: "string" },
  StringEqualsPath: { operand: "path" },
  StringGreaterThan: { operand: "string" },
  StringGreaterThanPath: { operand: "path" },
  StringGreaterThanEquals: { operand: "string" },
  StringGreaterThanEqualsPath: { operand: "path" },
  StringLessThan: { operand: "string" },
  StringLessThanPath: { operand: "path" },
  StringLessThanEquals: { operand: "string" },
  StringLessThanEqualsPath: { operand: "path" },
  StringMatches: { operand: "string" },
  TimestampEquals: { operand: "timestamp" },
  TimestampEqualsPath: { operand: "path" },
  TimestampGreaterThan: { operand: "timestamp" },
  TimestampGreaterThanPath: { operand: "path" },
  TimestampGreaterThanEquals: { operand: "timestamp" },
  TimestampGreaterThanEqualsPath: { operand: "path" },
  TimestampLessThan: { operand: "timestamp" },
  TimestampLessThanPath: { operand: "path" },
  TimestampLessThanEquals: { operand: "timestamp" },
  TimestampLessThanEqualsPath: { operand: "path" },
};

/** The comparison operator a rule uses: the one key of the rule that names an operator; undefined for And/Or/Not or none. */
export function ruleOperator(rule: JsonObject): string | undefined {
  return Object.keys(rule).find((k) => Object.hasOwn(comparisonOperators, k));
}

/** The value at a rule's path; States.Runtime (AWS's cause) when it selects nothing. */
function valueAt(path: string, scope: PathScope): Json {
  const value = queryPath(runtimeParsed(path), scope);
  if (value === undefined) {
    throw new StatesError("States.Runtime", `Invalid path '${path}': The choice state's condition path references an invalid value.`);
  }
  return value;
}

/** Nanoseconds since the epoch of an RFC 3339 timestamp as AWS reads one (uppercase T and Z; a numeric offset instead of Z); undefined otherwise. */
export function parseTimestamp(text: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== "Z") {
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[8][0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const fraction = BigInt((m[7] ?? "").slice(0, 9).padEnd(9, "0"));
  return (BigInt(date.getTime()) - BigInt(offsetMinutes) * 60_000n) * 1_000_000n + fraction;
}

/** StringMatches: `*` matches any run of characters (none included), `\*` a literal `*`, `\\` a literal backslash; the whole value must match. */
export function stringMatches(value: string, pattern: string): boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\" && (pattern[i + 1] === "*" || pattern[i + 1] === "\\")) {
      source += `\\${pattern[++i]}`;
    } else if (ch === "*") source += ".*";
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s").test(value);
}

/** Compares two values the way an operator family does: undefined when their types do not fit it (the rule is then false). */
function compare(family: string, a: Json, b: Json): number | undefined {
  if (family === "String") {
    if (typeof a !== "string" || typeof b !== "string") return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (family === "Numeric") {
    if (typeof a !== "number" || typeof b !== "number") return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (family === "Boolean") {
    if (typeof a !== "boolean" || typeof b !== "boolean") return undefined;
    return a === b ? 0 : 1;
  }
  if (typeof a !== "string" || typeof b !== "string") return undefined;
  const ta = parseTimestamp(a);
  const tb = parseTimestamp(b);
  if (ta === undefined || tb === undefined) return undefined;
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/** True when a value passes an Is* type test. */
function passesTest(operator: string, value: Json | undefined): boolean {
  switch (operator) {
    case "IsPresent":
      return value !== undefined;
    case "IsNull":
      return value === null;
    case "IsNumeric":
      return typeof value === "number";
    case "IsString":
      return typeof value === "string";
    case "IsBoolean":
      return typeof value === "boolean";
    default:
      return typeof value === "string" && parseTimestamp(value) !== undefined;
  }
}

/**
 * Evaluates a JSONPath Choice rule: And (every), Or (some), Not, or a comparison of the value at
 * `Variable`. A Variable (or …Path operand) that selects nothing raises States.Runtime, except
 * under IsPresent, which is then false; values of the wrong type compare as false.
 */
export function evaluateChoiceRule(rule: JsonObject, scope: PathScope): boolean {
  if (Array.isArray(rule.And)) return rule.And.every((r) => evaluateChoiceRule(asRule(r), scope));
  if (Array.isArray(rule.Or)) return rule.Or.some((r) => evaluateChoiceRule(asRule(r), scope));
  if (rule.Not !== undefined) return !evaluateChoiceRule(asRule(rule.Not), scope);
  const operator = ruleOperator(rule);
  const variable = rule.Variable;
  if (operator === undefined || typeof variable !== "string") {
    throw new StatesError("States.Runtime", `A choice rule needs a Variable and one comparison operator, or And, Or or Not: ${JSON.stringify(rule)}`);
  }
  const operand = rule[operator];
  const kind = comparisonOperators[operator].operand;
  if (kind === "test") {
    const value = operator === "IsPresent" ? queryPath(runtimeParsed(variable), scope) : valueAt(variable, scope);
    return passesTest(operator, value) === (operand === true);
  }
  const value = valueAt(variable, scope);
  if (operator === "StringMatches") return typeof value === "string" && typeof operand === "string" && stringMatches(value, operand);
  const other = kind === "path" ? valueAt(String(operand), scope) : operand;
  const family = /^(String|Numeric|Boolean|Timestamp)/.exec(operator)![1];
  const relation = operator.slice(family.length).replace(/Path$/, "");
  const order = compare(family, value, other);
  if (order === undefined) return false;
  switch (relation) {
    case "Equals":
      return order === 0;
    case "GreaterThan":
      return order > 0;
    case "GreaterThanEquals":
      return order >= 0;
    case "LessThan":
      return order < 0;
    default:
      return order <= 0;
  }
}

function asRule(value: Json): JsonObject {
  if (!isJsonObject(value)) throw new StatesError("States.Runtime", `A choice rule must be an object, got ${JSON.stringify(value)}`);
  return value;
}

/** The `Next` of the first Choice rule that holds, or undefined when none does (the interpreter then takes Default or fails with States.NoChoiceMatched). */
export function chooseNext(choices: readonly JsonObject[], scope: PathScope): string | undefined {
  for (const choice of choices) {
    if (evaluateChoiceRule(choice, scope)) return typeof choice.Next === "string" ? choice.Next : undefined;
  }
  return undefined;
}

/**
 * The problems of a JSONPath Choice rule, for a definition check: a rule that is not an object,
 * And/Or that are not non-empty lists of rules, Not that is not a rule, a comparison without a
 * reference-path Variable or without exactly one operator, an operand of the wrong type (a
 * timestamp operand must be RFC 3339 with uppercase T and Z), a …Path operand that is not a
 * reference path, and `Next` missing from a top-level rule or present in a nested one. Each problem
 * names `where`.
 */
export function checkChoiceRule(rule: Json, where: string, topLevel = true): string[] {
  if (!isJsonObject(rule)) return [`${where}: a choice rule must be an object`];
  const problems: string[] = [];
  if (topLevel && typeof rule.Next !== "string") problems.push(`${where}: a top-level choice rule needs a Next state name`);
  if (!topLevel && rule.Next !== undefined) problems.push(`${where}: only a top-level choice rule may have Next`);
  const logical = ["And", "Or", "Not"].filter((k) => rule[k] !== undefined);
  const operators = Object.keys(rule).filter((k) => Object.hasOwn(comparisonOperators, k));
  if (logical.length + operators.length !== 1) {
    problems.push(`${where}: a choice rule needs exactly one of And, Or, Not or a comparison operator, found ${[...logical, ...operators].join(", ") || "none"}`);
    return problems;
  }
  if (logical.length === 1) {
    const key = logical[0];
    const value = rule[key];
    if (key === "Not") return [...problems, ...checkChoiceRule(value, `${where}/Not`, false)];
    if (!Array.isArray(value) || value.length === 0) return [...problems, `${where}/${key}: must be a non-empty list of choice rules`];
    value.forEach((r, i) => problems.push(...checkChoiceRule(r, `${where}/${key}[${i}]`, false)));
    return problems;
  }
  const variable = rule.Variable;
  if (typeof variable !== "string") problems.push(`${where}: a comparison needs a Variable path`);
  else problems.push(...referencePathProblem(variable, `${where}/Variable`));
  const operator = operators[0];
  const operand = rule[operator];
  const at = `${where}/${operator}`;
  switch (comparisonOperators[operator].operand) {
    case "string":
      if (typeof operand !== "string") problems.push(`${at}: must be a string`);
      break;
    case "number":
      if (typeof operand !== "number") problems.push(`${at}: must be a number`);
      break;
    case "boolean":
    case "test":
      if (typeof operand !== "boolean") problems.push(`${at}: must be a boolean`);
      break;
    case "timestamp":
      if (typeof operand !== "string" || parseTimestamp(operand) === undefined) problems.push(`${at}: must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z`);
      break;
    case "path":
      if (typeof operand !== "string") problems.push(`${at}: must be a reference path`);
      else problems.push(...referencePathProblem(operand, at));
      break;
  }
  return problems;
}

/** A reference path's problem as a list (empty when it is one). */
function referencePathProblem(path: string, where: string): string[] {
  try {
    checkReferencePath(path);
    return [];
  } catch (e) {
    if (e instanceof PathSyntaxError) return [`${where}: ${e.message}`];
    throw e;
  }
}
