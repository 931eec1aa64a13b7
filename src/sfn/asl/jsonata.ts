// The JSONata query language of Step Functions (`QueryLanguage: "JSONata"`): which strings are
// expressions, whether they compile, and (at run time) what they evaluate to.

import jsonata from "jsonata";
import { isJsonObject, type Json } from "./json.ts";

const OPEN = "{%";
const CLOSE = "%}";

/**
 * True when a field value is a JSONata expression: the string starts with `{%` and ends with
 * `%}` exactly, as AWS recognizes it (no whitespace before `{%` or after `%}`; whitespace inside
 * is part of the expression). Any other string is a literal.
 */
export function isJsonataExpression(value: string): boolean {
  return value.length >= OPEN.length + CLOSE.length && value.startsWith(OPEN) && value.endsWith(CLOSE);
}

/** The expression text between the `{%` and `%}` of a JSONata field value. */
export function jsonataBody(value: string): string {
  return value.slice(OPEN.length, value.length - CLOSE.length);
}

interface JsonataFailure {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

function isFailure(e: unknown): e is JsonataFailure {
  return typeof e === "object" && e !== null && ("code" in e || "message" in e);
}

/**
 * Why a JSONata field value does not compile, or undefined when it does. `value` is the whole
 * `{% … %}` string (a bare expression is accepted too). Compile only: nothing is evaluated. An
 * empty expression and a call of `$eval` (not available in Step Functions) are problems too.
 */
export function checkJsonata(value: string): string | undefined {
  const body = isJsonataExpression(value) ? jsonataBody(value) : value;
  if (body.trim() === "") return "The JSONata expression is empty";
  try {
    const ast = jsonata(body).ast();
    if (callsEval(ast)) return "The JSONata function $eval is not supported; use $parse instead";
  } catch (e) {
    if (isFailure(e)) {
      const at = typeof e.position === "number" ? ` at position ${e.position}` : "";
      return `The JSONata expression '${body}' is not valid${at}: ${e.message ?? e.code}`;
    }
    return `The JSONata expression '${body}' is not valid`;
  }
  return undefined;
}

/** True when an expression tree refers to `$eval` (called or passed on as a function). */
function callsEval(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(callsEval);
  if (typeof node !== "object" || node === null) return false;
  const n = node as Record<string, unknown>;
  if (n.type === "variable" && n.value === "eval") return true;
  return Object.values(n).some(callsEval);
}

/**
 * Every problem of the JSONata expressions in a template: the string itself when it is one, or
 * each string leaf of an object/array at any depth. Each problem starts with its location:
 * `where`, then `.key` or `[index]` per level.
 */
export function checkJsonataTemplate(template: Json, where: string): string[] {
  if (typeof template === "string") {
    if (!isJsonataExpression(template)) return [];
    const problem = checkJsonata(template);
    return problem === undefined ? [] : [`${where}: ${problem}`];
  }
  if (Array.isArray(template)) return template.flatMap((v, i) => checkJsonataTemplate(v, `${where}[${i}]`));
  if (isJsonObject(template)) {
    return Object.entries(template).flatMap(([k, v]) => checkJsonataTemplate(v, `${where}.${k}`));
  }
  return [];
}
