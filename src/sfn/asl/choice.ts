// Choice rules of the JSONPath query language: a comparison of the value at `Variable` with a
// literal or with the value at another path, Is* type tests, and And/Or/Not over nested rules.
// Which state comes next when nothing matches (Default, States.NoChoiceMatched) is the
// interpreter's concern.

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
