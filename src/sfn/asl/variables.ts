// Workflow variables (`Assign`), in both query languages: the names a definition may declare, the
// scopes a running execution keeps (top level, each Parallel branch, each Map iteration) and the
// size limits AWS enforces on what is assigned.

/** The longest variable name AWS accepts, in characters. */
export const MAX_VARIABLE_NAME_LENGTH = 80;

/** The name reserved by the States Language for the `$states` object of JSONata states. */
export const RESERVED_VARIABLE_NAME = "states";

const ID_START = /^\p{ID_Start}$/u;
const ID_CONTINUE = /^\p{ID_Continue}$/u;

/**
 * Why `name` cannot be a workflow variable, or undefined when it can. AWS's rules: a Unicode
 * identifier (UAX #31: the first character ID_Start, so neither a digit nor `_`; the rest
 * ID_Continue), at most 80 characters, and not `states`. A sub-path (`x.y`, `x[0]`) is no name.
 */
export function checkVariableName(name: string): string | undefined {
  const chars = [...name];
  if (chars.length === 0) return "The variable name must not be empty";
  if (chars.length > MAX_VARIABLE_NAME_LENGTH) {
    return `The variable name '${name}' is ${chars.length} characters long; the maximum is ${MAX_VARIABLE_NAME_LENGTH}`;
  }
  if (name === RESERVED_VARIABLE_NAME) {
    return `The variable name '${name}' is reserved and cannot be assigned`;
  }
  if (!ID_START.test(chars[0]) || !chars.slice(1).every((c) => ID_CONTINUE.test(c))) {
    return `The variable name '${name}' is not a valid identifier: the first character must be a Unicode ID_Start character and the others ID_Continue characters`;
  }
  return undefined;
}
