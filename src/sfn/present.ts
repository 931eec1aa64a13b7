// Step Functions rows as wire shapes, and the rules of wire values the model does not state as
// constraints: resource names, tags, logging, tracing and encryption configurations, page sizes.
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type * as pb from "../../gen/taskgate/sfn/v1/service_pb.ts";
import { EncryptionType, LogLevel, StateMachineStatus, StateMachineType } from "../../gen/taskgate/sfn/v1/types_pb.ts";
import { sfn } from "../faults.ts";
import { activityArn, stateMachineArn, type ArnScope } from "../resources/arn.ts";
import { checkTags } from "../resources/tags.ts";
import type { ActivityRow, StateMachineRow } from "../store/sfn.ts";

/** The init shape of a response message, as operations return it. */
export type Res<S extends DescMessage> = MessageInitShape<S>;

/**
 * Characters a Step Functions name must not contain (the model's documented rule for activity,
 * state machine and execution names): whitespace, brackets `< > { } [ ]`, wildcards `? *`, the
 * special characters `" # % \ ^ | ~ ` $ & , ; : /`, control characters (U+0000–001F,
 * U+007F–009F), U+FFFE–FFFF and lone surrogates (a u-flag class matches only unpaired ones). Length (1 to 80) is the model's constraint.
 */
const forbiddenInName = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]/u;

/** Checks a resource name against the naming rule; InvalidName quoting the name otherwise. */
export function checkName(name: string, what: string): void {
  const bad = forbiddenInName.exec(name);
  if (bad)
    throw sfn.invalidName(
      `Invalid Name: '${name}': ${what} names must not contain whitespace, brackets (< > { } [ ]), wildcards (? *), the characters " # % \\ ^ | ~ \` $ & , ; : / or control characters; found ${JSON.stringify(bad[0])}.`,
    );
}

/** Tags a Step Functions resource may carry (AWS: 50). */
export const maxTags = 50;

/** Checks tags given on a request (characters, at most maxTags); TooManyTags naming the resource otherwise. */
export function checkResourceTags(tags: { key?: string; value?: string }[], resource: string): { key: string; value: string }[] {
  return checkTags(tags, "tags", maxTags, (n) => sfn.tooManyTags(`A resource can have at most ${maxTags} tags; ${n} were given for ${resource}.`));
}

/** Default and largest page size of ListActivities and ListStateMachines. */
export const page = { default: 100, max: 1000 };

/** A list call's page size: its maxResults, or the default (100) when 0 or absent. */
export function pageSize(n: number | undefined): number {
  return n === undefined || n === 0 ? page.default : n;
}

/** An activity as CreateActivity, DescribeActivity and ListActivities return it. */
export function activityItem(scope: ArnScope, a: ActivityRow) {
  return { activityArn: activityArn(scope, a.name), name: a.name, creationDate: timestampFromMs(a.createdMs) };
}

/** The logging configuration as stored and returned (AWS's default: level OFF, no execution data). */
export interface StoredLogging {
  level: string;
  includeExecutionData: boolean;
  destinations: { cloudWatchLogsLogGroup?: { logGroupArn?: string } }[];
}

const logLevels: [LogLevel, string][] = [
  [LogLevel.ALL, "ALL"],
  [LogLevel.ERROR, "ERROR"],
  [LogLevel.FATAL, "FATAL"],
  [LogLevel.OFF, "OFF"],
];

/** A CloudWatch Logs log group ARN, as AWS checks a logging destination. */
const logGroupArn = /^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[^:]+(:\*)?$/;

/**
 * The logging configuration of a request, with AWS's defaults applied (absent: level OFF,
 * includeExecutionData false, no destinations). InvalidLoggingConfiguration when a level other
 * than OFF has no destination, when there is more than one destination, or a destination is not
 * a CloudWatch Logs log group ARN. taskgate keeps the configuration and sends no logs.
 */
export function loggingOf(c: pb.CreateStateMachineRequest["loggingConfiguration"]): StoredLogging {
  const level = logLevels.find(([v]) => v === c?.level)?.[1] ?? "OFF";
  const destinations = (c?.destinations ?? []).map((d) => ({ cloudWatchLogsLogGroup: d.cloudWatchLogsLogGroup ? { logGroupArn: d.cloudWatchLogsLogGroup.logGroupArn } : undefined }));
  if (destinations.length > 1) throw sfn.invalidLoggingConfiguration(`Invalid Logging Configuration: at most one destination may be given, not ${destinations.length}.`);
  if (level !== "OFF" && destinations.length === 0) throw sfn.invalidLoggingConfiguration(`Invalid Logging Configuration: level ${level} needs a CloudWatch Logs log group in destinations.`);
  for (const d of destinations) {
    const arn = d.cloudWatchLogsLogGroup?.logGroupArn ?? "";
    if (!logGroupArn.test(arn))
      throw sfn.invalidLoggingConfiguration(`Invalid Logging Configuration: '${arn}' is not a CloudWatch Logs log group ARN (arn:aws:logs:<region>:<account>:log-group:<name>:*).`);
  }
  return { level, includeExecutionData: c?.includeExecutionData ?? false, destinations };
}

/** The stored logging configuration as the wire's LoggingConfiguration. */
export function loggingShape(json: string) {
  const l = JSON.parse(json) as StoredLogging;
  return {
    level: logLevels.find(([, n]) => n === l.level)?.[0] ?? LogLevel.OFF,
    includeExecutionData: l.includeExecutionData,
    destinations: l.destinations,
  };
}

/** The tracing configuration of a request (AWS's default: disabled). taskgate keeps it and traces nothing. */
export function tracingOf(c: pb.CreateStateMachineRequest["tracingConfiguration"]): { enabled: boolean } {
  return { enabled: c?.enabled ?? false };
}

/**
 * Checks an encryption configuration: taskgate keeps data with its own storage and uses no KMS
 * key, so only AWS_OWNED_KEY (or none) is accepted; InvalidEncryptionConfiguration otherwise.
 */
export function checkEncryption(c: pb.CreateStateMachineRequest["encryptionConfiguration"]): void {
  if (c && c.type !== EncryptionType.AWS_OWNED_KEY)
    throw sfn.invalidEncryptionConfiguration("Invalid Encryption Configuration: taskgate uses no AWS KMS keys; omit encryptionConfiguration or set its type to AWS_OWNED_KEY.");
}

/** A stored state machine type as StateMachineType. */
export function machineType(t: string): StateMachineType {
  return t === "EXPRESS" ? StateMachineType.EXPRESS : StateMachineType.STANDARD;
}

/** A state machine as DescribeStateMachine returns it. */
export function describeMachine(scope: ArnScope, m: StateMachineRow) {
  return {
    stateMachineArn: stateMachineArn(scope, m.name),
    name: m.name,
    status: m.status === "DELETING" ? StateMachineStatus.DELETING : StateMachineStatus.ACTIVE,
    definition: m.definition,
    roleArn: m.roleArn,
    type: machineType(m.type),
    creationDate: timestampFromMs(m.createdMs),
    loggingConfiguration: loggingShape(m.logging),
    tracingConfiguration: JSON.parse(m.tracing) as { enabled: boolean },
    revisionId: m.revisionId,
  };
}

/** A state machine as ListStateMachines returns it. */
export function machineItem(scope: ArnScope, m: StateMachineRow) {
  return { stateMachineArn: stateMachineArn(scope, m.name), name: m.name, type: machineType(m.type), creationDate: timestampFromMs(m.createdMs) };
}
