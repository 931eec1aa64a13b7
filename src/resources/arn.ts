// Amazon Resource Names of the resources taskgate serves, in the region and account it is
// configured with (`--region`, `--account-id`):
//
//   arn:<partition>:states:<region>:<account>:activity:<name>
//   arn:<partition>:states:<region>:<account>:stateMachine:<name>
//   arn:<partition>:states:<region>:<account>:execution:<stateMachine>:<name>
//   arn:<partition>:swf:<region>:<account>:/domain/<name>
//
// The partition follows from the region as AWS assigns it (`cn-*` → aws-cn, `us-gov-*` →
// aws-us-gov, otherwise aws). Parsers accept any partition, region and account so that a
// well-formed ARN of another region or account is told apart from a malformed one: the caller
// decides that the former names nothing here (…DoesNotExist), the latter is InvalidArn.
import { sfn } from "../faults.ts";

/** Where resources live: partition, region and 12-digit account, as every ARN states them. */
export interface ArnScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** The partition of a region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else `aws`. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** The scope of a region and account (the partition derived from the region). */
export function arnScope(region: string, account: string): ArnScope {
  return { partition: partitionOf(region), region, account };
}

/** The scope taskgate uses unless configured otherwise: us-east-1, account 000000000000. */
export const defaultScope: ArnScope = arnScope("us-east-1", "000000000000");

/** A region as ARNs spell it: lower-case letters and digits in dash-separated groups (us-east-1). */
export const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** An AWS account id: exactly 12 digits. */
export const accountPattern = /^\d{12}$/;

const prefix = (s: ArnScope, service: string) => `arn:${s.partition}:${service}:${s.region}:${s.account}`;

/** The ARN of an activity. */
export function activityArn(s: ArnScope, name: string): string {
  return `${prefix(s, "states")}:activity:${name}`;
}

/** The ARN of a state machine. */
export function stateMachineArn(s: ArnScope, name: string): string {
  return `${prefix(s, "states")}:stateMachine:${name}`;
}

/** The ARN of an execution of a state machine. */
export function executionArn(s: ArnScope, stateMachine: string, name: string): string {
  return `${prefix(s, "states")}:execution:${stateMachine}:${name}`;
}

/** The ARN of an SWF domain (as DescribeDomain returns it). */
export function swfDomainArn(s: ArnScope, name: string): string {
  return `${prefix(s, "swf")}:/domain/${name}`;
}

/** A parsed Step Functions ARN: its scope and the resource it names. */
export type StatesArn = ArnScope &
  (
    | { readonly kind: "activity"; readonly name: string }
    | { readonly kind: "stateMachine"; readonly name: string }
    | { readonly kind: "execution"; readonly stateMachine: string; readonly name: string }
  );

/** The resource types a Step Functions ARN can name here. */
export type StatesArnKind = StatesArn["kind"];

const expected: Record<StatesArnKind, string> = {
  activity: "arn:aws:states:<region>:<account>:activity:<name>",
  stateMachine: "arn:aws:states:<region>:<account>:stateMachine:<name>",
  execution: "arn:aws:states:<region>:<account>:execution:<stateMachine>:<name>",
};

/** `arn:<partition>:<service>:<region>:<account>:<resource>`; partition `aws` or `aws-<suffix>`. */
const arnShape = /^arn:(aws(?:-[a-z]+)*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/;

/** A name segment of a Step Functions ARN: 1 to 80 characters, no colon. */
const segment = /^[^:]{1,80}$/;

/**
 * Parses a Step Functions ARN naming one of `kinds`, or throws InvalidArn whose message quotes
 * the ARN and states the expected form. Version and alias ARNs (`stateMachine:<name>:<qualifier>`)
 * are InvalidArn here: taskgate serves no versions or aliases yet.
 */
export function parseStatesArn<K extends StatesArnKind>(arn: string, ...kinds: K[]): Extract<StatesArn, { kind: K }> {
  const want = () => kinds.map((k) => expected[k]).join(" or ");
  const invalid = (why: string) => sfn.invalidArn(`Invalid Arn: '${arn}': ${why}; expected ${want()}`);
  const m = arnShape.exec(arn);
  if (!m) throw invalid("not an ARN of the form arn:<partition>:states:<region>:<12-digit account>:<resource>");
  const [, partition, service, region, account, resource] = m;
  if (service !== "states") throw invalid(`the service is '${service}', not 'states'`);
  if (!regionPattern.test(region)) throw invalid(`'${region}' is not a region`);
  const parts = resource.split(":");
  const type = parts[0];
  const kind = (Object.keys(expected) as StatesArnKind[]).find((k) => k === type);
  if (!kind || !(kinds as StatesArnKind[]).includes(kind)) throw invalid(`resource type '${type}' is not valid in this context`);
  const names = parts.slice(1);
  const arity = kind === "execution" ? 2 : 1;
  if (names.length !== arity || !names.every((n) => segment.test(n))) {
    if (kind === "stateMachine" && names.length === 2) throw invalid("state machine versions and aliases are not supported yet");
    throw invalid(`the ${kind === "execution" ? "state machine and execution names" : "name"} after '${type}:' must be 1 to 80 characters without ':'`);
  }
  const scope = { partition, region, account };
  const parsed: StatesArn = kind === "execution" ? { ...scope, kind, stateMachine: names[0], name: names[1] } : { ...scope, kind, name: names[0] };
  return parsed as Extract<StatesArn, { kind: K }>;
}

/** Whether a parsed ARN lies in `scope` (same partition, region and account). */
export function inScope(arn: ArnScope, scope: ArnScope): boolean {
  return arn.partition === scope.partition && arn.region === scope.region && arn.account === scope.account;
}

/**
 * The domain name an SWF domain ARN names when it lies in `scope`
 * (`arn:<partition>:swf:<region>:<account>:/domain/<name>`); undefined for anything else.
 */
export function parseSwfDomainArn(arn: string, scope: ArnScope): string | undefined {
  const p = `${prefix(scope, "swf")}:/domain/`;
  if (!arn.startsWith(p) || arn.length === p.length) return undefined;
  return arn.slice(p.length);
}
