// The values a state machine reads and writes: JSON as the parser gives it, nothing else (no
// undefined, no functions, no Dates). Every state's input, result, output and variable is one.

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** True when the value is a JSON object (not an array, not null). */
export function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
