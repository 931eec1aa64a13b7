// The semantic rules of a definition that parsed without schema errors: state names unique across
// the whole definition (nested machines included), every transition naming a state of its own
// machine, every state reachable from StartAt, a terminal state in every machine, and no Parallel
// branch or Map iteration assigning a variable of a scope around it. Plus the text of AWS's
// InvalidDefinition message for a list of diagnostics.
//
// Observed AWS behaviour followed here: every dangling transition (Next, a Choice rule's Next,
// Default, a Catch's Next) reads "Missing 'Next' target: <name>" at its own location; an
// unreachable state reads `State "<name>" is not reachable.` at the state; a machine without any
// terminal state gets one MISSING_END_STATE without a location, and then no unreachable-state
// diagnostics for that machine.

import { allStates, nestedMachines, type Diagnostic, type State, type StateMachine } from "./definition.ts";
import { outerScopeAssignProblem } from "./variables.ts";

/** Every semantic diagnostic of a parsed machine, in the order AWS gives them (machine by machine, targets, then reachability, then the terminal state). */
export function analyse(machine: StateMachine): Diagnostic[] {
  return [...duplicateNames(machine), ...graph(machine), ...outerAssigns(machine, new Set())];
}

/**
 * AWS's InvalidDefinition message for the ERROR diagnostics of a definition:
 * `Invalid State Machine Definition: '<CODE>: <message> at <location>, …'` (`at null` when a
 * diagnostic has no location). Empty string when there are no errors.
 */
export function invalidDefinitionMessage(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "ERROR");
  if (errors.length === 0) return "";
  const parts = errors.map((d) =>
    d.code === "INVALID_JSON_DESCRIPTION" ? `${d.code}: ${d.message}` : `${d.code}: ${d.message} at ${d.location ?? "null"}`,
  );
  return `Invalid State Machine Definition: '${parts.join(", ")}'`;
}

/** What ValidateStateMachineDefinition answers: `result`, the diagnostics it returns, and whether some were left out. */
export interface ValidationResult {
  readonly result: "OK" | "FAIL";
  readonly diagnostics: Diagnostic[];
  readonly truncated: boolean;
}

/**
 * ValidateStateMachineDefinition's answer for a definition's diagnostics. `severity` is the
 * least severe level returned (ERROR: errors only, the default; WARNING: both); `maxResults` caps
 * the list (1 to 100; 0 or absent means 100) and `truncated` says when more were found. `result`
 * is FAIL when any diagnostic is an ERROR, whatever is returned.
 */
export function validationResult(diagnostics: readonly Diagnostic[], severity: "ERROR" | "WARNING" = "ERROR", maxResults = 0): ValidationResult {
  const limit = maxResults > 0 ? Math.min(maxResults, 100) : 100;
  const shown = severity === "WARNING" ? [...diagnostics] : diagnostics.filter((d) => d.severity === "ERROR");
  return {
    result: diagnostics.some((d) => d.severity === "ERROR") ? "FAIL" : "OK",
    diagnostics: shown.slice(0, limit),
    truncated: shown.length > limit,
  };
}

function error(code: string, message: string, location?: string): Diagnostic {
  return location === undefined ? { severity: "ERROR", code, message } : { severity: "ERROR", code, message, location };
}

/** A state name used again anywhere in the definition (the first use keeps it). */
function duplicateNames(machine: StateMachine): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const state of allStates(machine)) {
    if (seen.has(state.name)) out.push(error("DUPLICATE_STATE_NAME", `Duplicate State name: ${state.name}`, state.path));
    seen.add(state.name);
  }
  return out;
}

/** Where a state can go next, each with the location of the field that says so. */
function transitions(state: State): { target: string; at: string }[] {
  const out: { target: string; at: string }[] = [];
  if (state.type === "Choice") {
    for (const rule of state.choices) out.push({ target: rule.next, at: `${rule.path}/Next` });
    if (state.default !== undefined) out.push({ target: state.default, at: `${state.path}/Default` });
  } else if (state.type !== "Succeed" && state.type !== "Fail" && state.next !== undefined) {
    out.push({ target: state.next, at: `${state.path}/Next` });
  }
  if (state.type === "Task" || state.type === "Parallel" || state.type === "Map") {
    for (const c of state.catch) out.push({ target: c.next, at: `${c.path}/Next` });
  }
  return out;
}

function isTerminal(state: State): boolean {
  return state.type === "Succeed" || state.type === "Fail" || (state.type !== "Choice" && state.end);
}

/** Targets, reachability and the terminal state of a machine, then of its nested machines. */
function graph(machine: StateMachine): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!machine.index.has(machine.startAt)) {
    out.push(error("MISSING_TRANSITION_TARGET", `Missing 'Next' target: ${machine.startAt}`, `${machine.path}/StartAt`));
  }
  for (const state of machine.states) {
    for (const t of transitions(state)) {
      if (!machine.index.has(t.target)) out.push(error("MISSING_TRANSITION_TARGET", `Missing 'Next' target: ${t.target}`, t.at));
    }
  }
  const terminal = machine.states.some(isTerminal);
  if (terminal) {
    const reached = new Set<string>();
    const queue = machine.index.has(machine.startAt) ? [machine.startAt] : [];
    while (queue.length > 0) {
      const name = queue.pop() as string;
      if (reached.has(name)) continue;
      reached.add(name);
      const state = machine.index.get(name);
      if (state === undefined) continue;
      for (const t of transitions(state)) if (!reached.has(t.target)) queue.push(t.target);
    }
    for (const state of machine.states) {
      if (!reached.has(state.name)) out.push(error("MISSING_TRANSITION_TARGET", `State "${state.name}" is not reachable.`, state.path));
    }
  } else out.push(error("MISSING_END_STATE", "Workflow has no terminal state"));
  for (const state of machine.states) for (const nested of nestedMachines(state)) out.push(...graph(nested));
  return out;
}

function assignedNames(state: State): string[] {
  const names = new Set<string>();
  const add = (assign: object | undefined): void => {
    for (const key of Object.keys(assign ?? {})) names.add(state.queryLanguage === "JSONPath" && key.endsWith(".$") ? key.slice(0, -2) : key);
  };
  add(state.assign);
  if (state.type === "Choice") for (const rule of state.choices) add(rule.assign);
  if (state.type === "Task" || state.type === "Parallel" || state.type === "Map") for (const c of state.catch) add(c.assign);
  return [...names];
}

/**
 * A state inside a Parallel branch or Map item processor may not assign a variable that a scope
 * around it assigns. `outer` holds the names the enclosing scopes assign.
 */
function outerAssigns(machine: StateMachine, outer: ReadonlySet<string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const here = new Set(outer);
  for (const state of machine.states) for (const name of assignedNames(state)) here.add(name);
  for (const state of machine.states) {
    if (outer.size > 0) {
      for (const name of assignedNames(state)) {
        if (outer.has(name)) out.push(error("SCHEMA_VALIDATION_FAILED", outerScopeAssignProblem(name), `${state.path}/Assign`));
      }
    }
    for (const nested of nestedMachines(state)) out.push(...outerAssigns(nested, here));
  }
  return out;
}
