// What a decision rule is: everything about one decision type in one place, from the checks made
// before anything is written to its effect on the execution.
import type { Decision } from "../../../gen/taskgate/swf/v1/types_pb.ts";
import type { UnitOfWork } from "../../dispatch/index.ts";
import type { Swf } from "../context.ts";
import type { ExecutionTx } from "../history.ts";
import type { EngineAccess } from "../access.ts";

/** Whether a decision recorded an event that needs a new decision task. */
export type Outcome = "needs-decision" | "no-decision";

/** The members of Decision that hold a decision type's attributes. */
export type AttributesKey = { [K in keyof Decision]-?: K extends `${string}DecisionAttributes` ? K : never }[keyof Decision];

/** What a decision is applied with. */
export interface DecisionContext {
  ctx: Swf;
  uow: UnitOfWork;
  /** The execution whose decision task completed. */
  x: ExecutionTx;
  /** The DecisionTaskCompleted event's id, recorded in the events the decision appends. */
  dtc: bigint;
  /** Events arrived while the decision task was started: a closing decision fails with UNHANDLED_DECISION. */
  unhandled: boolean;
  /** The caller's access check (access.ts), read when the call started; undefined: every decision is allowed. */
  access?: EngineAccess;
}

/** One decision type. */
export interface DecisionRule<K extends AttributesKey = AttributesKey> {
  /** The Decision member holding this type's attributes. */
  readonly attributes: K;
  /** AWS's name of the decision type, as messages spell it. */
  readonly name: string;
  /** Whether the attributes must be given (a synchronous ValidationException names them when missing). */
  readonly required: boolean;
  /** Whether the decision closes the execution (it must then be the last of its batch). */
  readonly closes: boolean;
  /** Checks the attributes before anything is written; `path` is their member path in the request. */
  check?(a: NonNullable<Decision[K]>, path: string): void;
  /** Applies the decision to the execution. */
  apply(c: DecisionContext, a: Decision[K]): Promise<Outcome>;
}

/** The attributes of a decision type that requires them (checked present before any decision applies). */
export function required<T>(a: T | undefined): T {
  if (a === undefined) throw new Error("decision attributes missing after the batch was checked");
  return a;
}
