// ARNs of Step Functions resources and SWF domains: built in the configured scope, parsed back,
// and malformed ones refused with InvalidArn stating the expected form.
import { describe, expect, it } from "vitest";
import {
  activityArn,
  arnScope,
  defaultScope,
  executionArn,
  inScope,
  parseStatesArn,
  parseSwfDomainArn,
  partitionOf,
  stateMachineArn,
  swfDomainArn,
  type StatesArnKind,
} from "../../src/resources/arn.ts";
import { Fault } from "../../src/faults.ts";
import { ConfigError, parseConfig, usage } from "../../src/server/config.ts";

const eu = arnScope("eu-west-1", "123456789012");

describe("building ARNs", () => {
  const cases: { name: string; got: string; want: string }[] = [
    { name: "activity, default scope", got: activityArn(defaultScope, "a1"), want: "arn:aws:states:us-east-1:000000000000:activity:a1" },
    { name: "state machine, configured scope", got: stateMachineArn(eu, "m"), want: "arn:aws:states:eu-west-1:123456789012:stateMachine:m" },
    { name: "execution", got: executionArn(eu, "m", "run-1"), want: "arn:aws:states:eu-west-1:123456789012:execution:m:run-1" },
    { name: "SWF domain", got: swfDomainArn(eu, "d"), want: "arn:aws:swf:eu-west-1:123456789012:/domain/d" },
    { name: "China partition", got: activityArn(arnScope("cn-north-1", "111111111111"), "x"), want: "arn:aws-cn:states:cn-north-1:111111111111:activity:x" },
    { name: "GovCloud partition", got: stateMachineArn(arnScope("us-gov-west-1", "111111111111"), "x"), want: "arn:aws-us-gov:states:us-gov-west-1:111111111111:stateMachine:x" },
  ];
  it.each(cases)("$name", ({ got, want }) => expect(got).toBe(want));

  it("derives the partition from the region", () => {
    expect([partitionOf("us-east-1"), partitionOf("cn-northwest-1"), partitionOf("us-gov-east-1")]).toEqual(["aws", "aws-cn", "aws-us-gov"]);
  });
});

describe("parsing Step Functions ARNs", () => {
  const good: { arn: string; kinds: StatesArnKind[]; want: Record<string, string> }[] = [
    { arn: activityArn(eu, "worker-1"), kinds: ["activity"], want: { kind: "activity", name: "worker-1", region: "eu-west-1", account: "123456789012", partition: "aws" } },
    { arn: stateMachineArn(defaultScope, "m_1"), kinds: ["stateMachine"], want: { kind: "stateMachine", name: "m_1" } },
    { arn: executionArn(defaultScope, "m", "e"), kinds: ["execution"], want: { kind: "execution", stateMachine: "m", name: "e" } },
    { arn: stateMachineArn(defaultScope, "m"), kinds: ["activity", "stateMachine"], want: { kind: "stateMachine", name: "m" } },
    { arn: "arn:aws-cn:states:cn-north-1:111111111111:activity:x", kinds: ["activity"], want: { partition: "aws-cn", region: "cn-north-1" } },
  ];
  it.each(good)("reads $arn", ({ arn, kinds, want }) => expect(parseStatesArn(arn, ...kinds)).toMatchObject(want));

  const bad: { arn: string; kinds: StatesArnKind[]; says: RegExp }[] = [
    { arn: "not-an-arn", kinds: ["activity"], says: /not an ARN of the form/ },
    { arn: "arn:aws:states:us-east-1:1234:activity:a", kinds: ["activity"], says: /not an ARN of the form/ },
    { arn: "arn:aws:sqs:us-east-1:000000000000:activity:a", kinds: ["activity"], says: /service is 'sqs'/ },
    { arn: "arn:aws:states:moon:000000000000:activity:a", kinds: ["activity"], says: /'moon' is not a region/ },
    { arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m", kinds: ["activity"], says: /resource type 'stateMachine' is not valid in this context; expected arn:aws:states:<region>:<account>:activity:<name>/ },
    { arn: "arn:aws:states:us-east-1:000000000000:widget:m", kinds: ["activity", "stateMachine"], says: /resource type 'widget'.*activity:<name> or .*stateMachine:<name>/ },
    { arn: "arn:aws:states:us-east-1:000000000000:activity:", kinds: ["activity"], says: /not an ARN|name after 'activity:'/ },
    { arn: "arn:aws:states:us-east-1:000000000000:activity:a:b", kinds: ["activity"], says: /name after 'activity:' must be 1 to 80 characters/ },
    { arn: `arn:aws:states:us-east-1:000000000000:activity:${"a".repeat(81)}`, kinds: ["activity"], says: /1 to 80 characters/ },
    { arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m:1", kinds: ["stateMachine"], says: /versions and aliases are not supported yet/ },
    { arn: "arn:aws:states:us-east-1:000000000000:execution:m", kinds: ["execution"], says: /state machine and execution names/ },
  ];
  it.each(bad)("refuses $arn", ({ arn, kinds, says }) => {
    let caught: unknown;
    try {
      parseStatesArn(arn, ...kinds);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Fault);
    expect((caught as Fault).type).toBe("InvalidArn");
    expect((caught as Fault).namespace).toBe("com.amazonaws.swf.service.v2.model");
    expect((caught as Fault).message).toMatch(says);
    expect((caught as Fault).message).toContain(arn);
  });

  it("tells whether an ARN lies in a scope", () => {
    expect(inScope(parseStatesArn(activityArn(eu, "a"), "activity"), eu)).toBe(true);
    expect(inScope(parseStatesArn(activityArn(eu, "a"), "activity"), defaultScope)).toBe(false);
    expect(inScope(parseStatesArn(activityArn(arnScope("eu-west-1", "999999999999"), "a"), "activity"), eu)).toBe(false);
  });
});

describe("parsing SWF domain ARNs", () => {
  const cases: { arn: string; want: string | undefined }[] = [
    { arn: swfDomainArn(eu, "orders"), want: "orders" },
    { arn: swfDomainArn(eu, "a/b"), want: "a/b" },
    { arn: swfDomainArn(defaultScope, "orders"), want: undefined },
    { arn: "arn:aws:swf:eu-west-1:123456789012:/domain/", want: undefined },
    { arn: "arn:aws:states:eu-west-1:123456789012:activity:x", want: undefined },
  ];
  it.each(cases)("$arn", ({ arn, want }) => expect(parseSwfDomainArn(arn, eu)).toBe(want));
});

describe("the region and account of ARNs come from the configuration", () => {
  it("defaults to us-east-1 and 000000000000, the default scope", () => {
    const c = parseConfig([], {});
    expect(arnScope(c.region, c.accountId)).toEqual(defaultScope);
  });

  const good: { argv: string[]; env: Record<string, string>; region: string; account: string }[] = [
    { argv: ["--region", "eu-west-1"], env: {}, region: "eu-west-1", account: "000000000000" },
    { argv: ["--account-id=123456789012"], env: {}, region: "us-east-1", account: "123456789012" },
    { argv: [], env: { TASKGATE_REGION: "us-gov-west-1", TASKGATE_ACCOUNT_ID: "111122223333" }, region: "us-gov-west-1", account: "111122223333" },
    { argv: ["--region=cn-north-1"], env: { TASKGATE_REGION: "eu-west-1", TASKGATE_ACCOUNT_ID: "" }, region: "cn-north-1", account: "000000000000" },
  ];
  it.each(good)("reads $argv $env", ({ argv, env, region, account }) => {
    const c = parseConfig(argv, env);
    expect([c.region, c.accountId]).toEqual([region, account]);
  });

  const bad: { argv: string[]; says: RegExp }[] = [
    { argv: ["--region", "US-EAST-1"], says: /--region: invalid value "US-EAST-1"; expected an AWS region name/ },
    { argv: ["--region", "useast1"], says: /expected an AWS region name/ },
    { argv: ["--account-id", "12345"], says: /--account-id: invalid value "12345"; expected a 12-digit AWS account id/ },
    { argv: ["--account-id", "12345678901a"], says: /12-digit/ },
  ];
  it.each(bad)("refuses $argv", ({ argv, says }) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(says);
  });

  it("documents both settings in the usage text", () => {
    for (const s of ["--region", "TASKGATE_REGION", "--account-id", "TASKGATE_ACCOUNT_ID"]) expect(usage).toContain(s);
  });
});
