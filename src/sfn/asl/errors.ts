// A runtime error of a state machine: what Retry and Catch match on by name (`ErrorEquals`), and
// what an execution that fails reports as its error and cause.

/**
 * An error raised while a state runs: a `States.*` name from the Amazon States Language
 * (States.Runtime, States.IntrinsicFailure, States.QueryEvaluationError, …) or a custom name a
 * worker reported with SendTaskFailure. `detail` is the human-readable cause AWS puts beside it
 * (`cause` on the wire; named otherwise here because Error already has a `cause`).
 */
export class StatesError extends Error {
  /** The error name Retry and Catch match, e.g. "States.Runtime". */
  readonly error: string;
  /** The cause AWS reports with the error. */
  readonly detail: string;

  constructor(error: string, detail: string) {
    super(`${error}: ${detail}`);
    this.name = "StatesError";
    this.error = error;
    this.detail = detail;
  }
}
