// Step Functions activities, state machines and tags through @aws-sdk/client-sfn (and the Connect
// client), against a real server configured with its own region and account, on both stores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DeleteActivityCommand,
  DeleteStateMachineCommand,
  DescribeActivityCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetActivityTaskCommand,
  ListActivitiesCommand,
  ListStateMachinesCommand,
  ListStateMachineVersionsCommand,
  ListTagsForResourceCommand,
  SFNClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
  type Tag,
} from "@aws-sdk/client-sfn";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { StepFunctionsService } from "../../gen/taskgate/sfn/v1/service_pb.ts";
import { StateMachineType, ValidateStateMachineDefinitionResultCode } from "../../gen/taskgate/sfn/v1/types_pb.ts";
import { faultFromConnectError } from "../../src/faults-connect.ts";
import { loadModel } from "../../src/model/model.ts";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";

const region = "eu-central-1";
const account = "111122223333";
const prefix = `arn:aws:states:${region}:${account}`;
const role = `arn:aws:iam::${account}:role/taskgate-test`;
const definition = JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Succeed" } } });
const definition2 = JSON.stringify({ StartAt: "Wait", States: { Wait: { Type: "Pass", End: true } } });

/** The errors the Step Functions model lists for an operation. */
function modeled(operation: string): string[] {
  return (loadModel("sfn").operations[operation].errors ?? []).map((e) => e.shape);
}

/** The error a call fails with: its name and message (the AWS SDK's modeled or generic exception). */
async function failure(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error;
    return { name: err.name, message: err.message };
  }
  throw new Error("expected the call to fail");
}

describe.each(stores)("Step Functions resources through @aws-sdk/client-sfn (%s)", (kind) => {
  let tg: Taskgate;
  let sfn: SFNClient;
  let n = 0;
  /** A fresh resource name for one test. */
  const fresh = (base: string) => `${base}-${++n}`;

  beforeAll(async () => {
    tg = await startTaskgate({ kind, config: { region, accountId: account } });
    sfn = new SFNClient({
      endpoint: tg.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ requestTimeout: 10_000 }),
    });
  });
  afterAll(async () => {
    sfn?.destroy();
    await tg?.destroy();
  });

  describe("activities", () => {
    it("creates an activity in the configured region and account, idempotently on the name (tags of a repeat are ignored)", async () => {
      const name = fresh("worker");
      const a = await sfn.send(new CreateActivityCommand({ name, tags: [{ key: "team", value: "ledger" }] }));
      expect(a.activityArn).toBe(`${prefix}:activity:${name}`);
      expect(a.creationDate).toBeInstanceOf(Date);
      const again = await sfn.send(new CreateActivityCommand({ name, tags: [{ key: "team", value: "other" }] }));
      expect(again).toMatchObject({ activityArn: a.activityArn, creationDate: a.creationDate });
      const d = await sfn.send(new DescribeActivityCommand({ activityArn: a.activityArn }));
      expect(d).toMatchObject({ activityArn: a.activityArn, name, creationDate: a.creationDate });
      const tags = await sfn.send(new ListTagsForResourceCommand({ resourceArn: a.activityArn }));
      expect(tags.tags).toEqual([{ key: "team", value: "ledger" }]);
    });

    it("answers concurrent creations of one name with one activity", async () => {
      const name = fresh("race");
      const all = await Promise.all(Array.from({ length: 8 }, () => sfn.send(new CreateActivityCommand({ name }))));
      expect(new Set(all.map((a) => `${a.activityArn} ${a.creationDate?.getTime()}`)).size).toBe(1);
      const machines = await Promise.all(Array.from({ length: 8 }, () => sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: role }))));
      expect(new Set(machines.map((m) => `${m.stateMachineArn} ${m.creationDate?.getTime()}`)).size).toBe(1);
    });

    it("deletes an activity and its tags; deleting again succeeds", async () => {
      const name = fresh("gone");
      const { activityArn } = await sfn.send(new CreateActivityCommand({ name, tags: [{ key: "k", value: "v" }] }));
      await sfn.send(new DeleteActivityCommand({ activityArn }));
      await sfn.send(new DeleteActivityCommand({ activityArn }));
      expect(await failure(sfn.send(new DescribeActivityCommand({ activityArn })))).toEqual({ name: "ActivityDoesNotExist", message: `Activity Does Not Exist: '${activityArn}'` });
      // Created again, it starts without the old tags.
      await sfn.send(new CreateActivityCommand({ name }));
      expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: activityArn }))).tags ?? []).toEqual([]);
    });

    const lookups: { name: string; arn: string; error: string; says: RegExp }[] = [
      { name: "unknown activity", arn: `${prefix}:activity:nobody`, error: "ActivityDoesNotExist", says: /Activity Does Not Exist/ },
      { name: "another account's activity", arn: `arn:aws:states:${region}:999999999999:activity:x`, error: "ActivityDoesNotExist", says: /Activity Does Not Exist/ },
      { name: "malformed ARN", arn: "activity-1", error: "InvalidArn", says: /expected arn:aws:states:<region>:<account>:activity:<name>/ },
      { name: "state machine ARN", arn: `${prefix}:stateMachine:m`, error: "InvalidArn", says: /resource type 'stateMachine' is not valid in this context/ },
    ];
    it.each(lookups)("DescribeActivity of a $name: $error", async ({ arn, error, says }) => {
      const f = await failure(sfn.send(new DescribeActivityCommand({ activityArn: arn })));
      expect(f.name).toBe(error);
      expect(f.message).toMatch(says);
    });

    const names: { name: string; error?: string }[] = [
      { name: "plain-name_1.2" },
      { name: "名前-ü" },
      { name: "a".repeat(80) },
      { name: "with space", error: "InvalidName" },
      { name: "tab\tname", error: "InvalidName" },
      { name: "angle<", error: "InvalidName" },
      { name: "brace{", error: "InvalidName" },
      { name: "bracket]", error: "InvalidName" },
      { name: "wild*", error: "InvalidName" },
      { name: "what?", error: "InvalidName" },
      { name: "colon:x", error: "InvalidName" },
      { name: "slash/x", error: "InvalidName" },
      { name: "hash#", error: "InvalidName" },
      { name: "dollar$", error: "InvalidName" },
      { name: "ctrl\u0001", error: "InvalidName" },
      { name: "c1\u0085", error: "InvalidName" },
      { name: "a".repeat(81), error: "ValidationException" },
      { name: "", error: "ValidationException" },
    ];
    it.each(names)("name rule: $name", async ({ name, error }) => {
      const p = sfn.send(new CreateActivityCommand({ name }));
      if (!error) return expect((await p).activityArn).toBe(`${prefix}:activity:${name}`);
      const f = await failure(p);
      expect(f.name).toBe(error);
      if (error === "InvalidName") expect(f.message).toContain("Invalid Name:");
      // A state machine name follows the same rule.
      if (error === "InvalidName") expect((await failure(sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: role })))).name).toBe("InvalidName");
    });

    it("lists activities in pages (maxResults 1 to 1000, default 100) with signed tokens", async () => {
      const all: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const r = await sfn.send(new ListActivitiesCommand({ maxResults: 2, nextToken: token }));
        expect(r.activities!.length).toBeLessThanOrEqual(2);
        for (const a of r.activities!) {
          expect(a.activityArn).toBe(`${prefix}:activity:${a.name}`);
          expect(a.creationDate).toBeInstanceOf(Date);
        }
        all.push(...r.activities!.map((a) => a.name!));
        token = r.nextToken;
        pages++;
      } while (token);
      const one = await sfn.send(new ListActivitiesCommand({}));
      expect(one.nextToken).toBeUndefined();
      expect(all).toEqual(one.activities!.map((a) => a.name));
      expect(pages).toBe(Math.ceil(all.length / 2));
      expect(all.length).toBeGreaterThan(3);
      expect((await failure(sfn.send(new ListActivitiesCommand({ nextToken: "forged.token" })))).name).toBe("InvalidToken");
      const sm = await sfn.send(new ListActivitiesCommand({ maxResults: 1 }));
      // A token of ListActivities is not one of ListStateMachines.
      expect((await failure(sfn.send(new ListStateMachinesCommand({ nextToken: sm.nextToken })))).name).toBe("InvalidToken");
      expect((await failure(sfn.send(new ListActivitiesCommand({ maxResults: 1001 })))).name).toBe("ValidationException");
    });

    it("refuses a customer-managed KMS key with InvalidEncryptionConfiguration", async () => {
      const f = await failure(sfn.send(new CreateActivityCommand({ name: fresh("kms"), encryptionConfiguration: { type: "CUSTOMER_MANAGED_KMS_KEY", kmsKeyId: "k" } })));
      expect(f.name).toBe("InvalidEncryptionConfiguration");
    });
  });

  describe("state machines", () => {
    it("creates a STANDARD state machine and describes it as AWS does", async () => {
      const name = fresh("orders");
      const c = await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: role }));
      expect(c.stateMachineArn).toBe(`${prefix}:stateMachine:${name}`);
      const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: c.stateMachineArn }));
      expect(d).toMatchObject({
        stateMachineArn: c.stateMachineArn,
        name,
        status: "ACTIVE",
        definition,
        roleArn: role,
        type: "STANDARD",
        creationDate: c.creationDate,
        loggingConfiguration: { level: "OFF", includeExecutionData: false },
        tracingConfiguration: { enabled: false },
      });
      expect(d.revisionId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("is idempotent on name, definition, type, logging and tracing; a different role or tags are ignored; any other difference conflicts", async () => {
      const name = fresh("idem");
      const logging = { level: "ERROR" as const, includeExecutionData: true, destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: `arn:aws:logs:${region}:${account}:log-group:sfn:*` } }] };
      const c = await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: role, loggingConfiguration: logging, tags: [{ key: "a", value: "1" }] }));
      const same = await sfn.send(
        new CreateStateMachineCommand({ name, definition, roleArn: `arn:aws:iam::${account}:role/other`, type: "STANDARD", loggingConfiguration: logging, tags: [{ key: "b", value: "2" }] }),
      );
      expect(same).toMatchObject({ stateMachineArn: c.stateMachineArn, creationDate: c.creationDate });
      const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: c.stateMachineArn }));
      expect(d.roleArn).toBe(role);
      expect(d.loggingConfiguration).toEqual(logging);
      expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: c.stateMachineArn }))).tags).toEqual([{ key: "a", value: "1" }]);
      const conflicts = [
        { definition: definition2, loggingConfiguration: logging },
        { definition },
        { definition, loggingConfiguration: logging, tracingConfiguration: { enabled: true } },
      ];
      for (const over of conflicts) {
        const f = await failure(sfn.send(new CreateStateMachineCommand({ name, roleArn: role, ...over })));
        expect(f.name).toBe("StateMachineAlreadyExists");
        expect(f.message).toContain(c.stateMachineArn!);
      }
    });

    const refusals: { name: string; input: Partial<ConstructorParameters<typeof CreateStateMachineCommand>[0]>; error: string; says: RegExp }[] = [
      { name: "EXPRESS", input: { type: "EXPRESS" }, error: "StateMachineTypeNotSupported", says: /EXPRESS state machines are not supported by taskgate yet/ },
      { name: "a role that is no IAM role ARN", input: { roleArn: "my-role" }, error: "InvalidArn", says: /roleArn must be an IAM role ARN/ },
      { name: "a definition that is not JSON", input: { definition: "{" }, error: "InvalidDefinition", says: /Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION/ },
      { name: "a definition without StartAt", input: { definition: '{"States":{"A":{"Type":"Succeed"}}}' }, error: "InvalidDefinition", says: /SCHEMA_VALIDATION_FAILED: These fields are required: \[StartAt\] at \// },
      { name: "StartAt naming no state", input: { definition: '{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}' }, error: "InvalidDefinition", says: /MISSING_TRANSITION_TARGET/ },
      { name: "logging without a destination", input: { loggingConfiguration: { level: "ALL" } }, error: "InvalidLoggingConfiguration", says: /needs a CloudWatch Logs log group/ },
      { name: "publish", input: { publish: true }, error: "ValidationException", says: /not supported by taskgate yet/ },
      { name: "51 tags", input: { tags: Array.from({ length: 51 }, (_, i): Tag => ({ key: `k${i}`, value: "v" })) }, error: "TooManyTags", says: /at most 50 tags/ },
    ];
    it.each(refusals)("refuses $name with $error", async ({ input, error, says }) => {
      const name = fresh("refused");
      const f = await failure(sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: role, ...input })));
      expect(f.name).toBe(error);
      expect(modeled("CreateStateMachine")).toContain(error);
      expect(f.message).toMatch(says);
      expect((await failure(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${prefix}:stateMachine:${name}` })))).name).toBe("StateMachineDoesNotExist");
    });

    it("updates the definition and role: new updateDate and revisionId; MissingRequiredParameter when neither is given", async () => {
      const name = fresh("upd");
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: role }));
      const before = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
      const u = await sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition: definition2 }));
      expect(u.updateDate).toBeInstanceOf(Date);
      expect(u.revisionId).toBeTruthy();
      expect(u.revisionId).not.toBe(before.revisionId);
      const after = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
      expect(after).toMatchObject({ definition: definition2, roleArn: role, revisionId: u.revisionId, creationDate: before.creationDate });
      const role2 = `arn:aws:iam::${account}:role/second`;
      await sfn.send(new UpdateStateMachineCommand({ stateMachineArn, roleArn: role2, tracingConfiguration: { enabled: true } }));
      expect(await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }))).toMatchObject({ definition: definition2, roleArn: role2, tracingConfiguration: { enabled: true } });
      expect((await failure(sfn.send(new UpdateStateMachineCommand({ stateMachineArn })))).name).toBe("MissingRequiredParameter");
      expect((await failure(sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition: "[]" })))).name).toBe("InvalidDefinition");
      expect((await failure(sfn.send(new UpdateStateMachineCommand({ stateMachineArn: `${prefix}:stateMachine:none`, definition })))).name).toBe("StateMachineDoesNotExist");
      expect((await failure(sfn.send(new UpdateStateMachineCommand({ stateMachineArn: `${prefix}:activity:none`, definition })))).name).toBe("InvalidArn");
    });

    it("deletes a state machine and its tags; deleting again or an unknown one succeeds", async () => {
      const name = fresh("del");
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: role, tags: [{ key: "x", value: "y" }] }));
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn }));
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn }));
      expect(await failure(sfn.send(new DescribeStateMachineCommand({ stateMachineArn })))).toEqual({ name: "StateMachineDoesNotExist", message: `State Machine Does Not Exist: '${stateMachineArn}'` });
      expect((await failure(sfn.send(new ListTagsForResourceCommand({ resourceArn: stateMachineArn })))).name).toBe("ResourceNotFound");
      expect((await failure(sfn.send(new DeleteStateMachineCommand({ stateMachineArn: "nonsense" })))).name).toBe("InvalidArn");
    });

    it("lists state machines in pages", async () => {
      for (let i = 0; i < 3; i++) await sfn.send(new CreateStateMachineCommand({ name: fresh("list"), definition, roleArn: role }));
      const whole = await sfn.send(new ListStateMachinesCommand({ maxResults: 1000 }));
      expect(whole.nextToken).toBeUndefined();
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const r = await sfn.send(new ListStateMachinesCommand({ maxResults: 2, nextToken: token }));
        for (const m of r.stateMachines!) expect(m).toMatchObject({ stateMachineArn: `${prefix}:stateMachine:${m.name}`, type: "STANDARD", creationDate: expect.any(Date) });
        seen.push(...r.stateMachines!.map((m) => m.name!));
        token = r.nextToken;
      } while (token);
      expect(seen).toEqual(whole.stateMachines!.map((m) => m.name));
      expect(seen.length).toBeGreaterThanOrEqual(3);
    });
  });

  describe("ValidateStateMachineDefinition", () => {
    const withWarning = '{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a":"$.x"},"End":true}}}';
    const activityTask = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${prefix}:activity:a","End":true}}}`;
    const twoErrors = '{"StartAt":1,"States":{}}';
    const cases: {
      name: string;
      definition: string;
      type?: "STANDARD" | "EXPRESS";
      severity?: "ERROR" | "WARNING";
      maxResults?: number;
      result: string;
      found: string[];
      truncated: boolean;
    }[] = [
      { name: "a valid definition", definition, result: "OK", found: [], truncated: false },
      { name: "invalid JSON", definition: "{", result: "FAIL", found: ["ERROR INVALID_JSON_DESCRIPTION"], truncated: false },
      { name: "missing fields", definition: "{}", result: "FAIL", found: ["ERROR SCHEMA_VALIDATION_FAILED"], truncated: false },
      { name: "two errors", definition: twoErrors, result: "FAIL", found: ["ERROR SCHEMA_VALIDATION_FAILED", "ERROR SCHEMA_VALIDATION_FAILED"], truncated: false },
      { name: "two errors, maxResults 1", definition: twoErrors, maxResults: 1, result: "FAIL", found: ["ERROR SCHEMA_VALIDATION_FAILED"], truncated: true },
      { name: "a warning only, default severity ERROR", definition: withWarning, result: "OK", found: [], truncated: false },
      { name: "a warning only, severity WARNING", definition: withWarning, severity: "WARNING", result: "OK", found: ["WARNING NO_DOLLAR"], truncated: false },
      { name: "severity WARNING includes errors", definition: "{", severity: "WARNING", result: "FAIL", found: ["ERROR INVALID_JSON_DESCRIPTION"], truncated: false },
      { name: "an activity Task in a STANDARD machine", definition: activityTask, result: "OK", found: [], truncated: false },
      { name: "an activity Task in an EXPRESS machine", definition: activityTask, type: "EXPRESS", result: "FAIL", found: ["ERROR SCHEMA_VALIDATION_FAILED"], truncated: false },
    ];
    it.each(cases)("$name", async ({ definition: text, type, severity, maxResults, result, found, truncated }) => {
      const r = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: text, type, severity, maxResults }));
      expect(r.result).toBe(result);
      expect(r.diagnostics!.map((d) => `${d.severity} ${d.code}`)).toEqual(found);
      for (const d of r.diagnostics!) expect(d.message).toEqual(expect.any(String));
      expect(r.truncated ?? false).toBe(truncated);
    });

    it("creates a state machine whose definition has only warnings", async () => {
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: fresh("warned"), definition: withWarning, roleArn: role }));
      expect((await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }))).definition).toBe(withWarning);
    });

    it("words InvalidDefinition as AWS does, every error with its location", async () => {
      const f = await failure(sfn.send(new CreateStateMachineCommand({ name: fresh("invalid"), definition: '{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}', roleArn: role })));
      expect(f).toEqual({
        name: "InvalidDefinition",
        message: `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /StartAt, MISSING_TRANSITION_TARGET: State "A" is not reachable. at /States/A'`,
      });
    });
  });

  describe("tags", () => {
    it("tags activities and state machines: add, replace, remove, list; at most 50", async () => {
      const { activityArn } = await sfn.send(new CreateActivityCommand({ name: fresh("tagged") }));
      const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: fresh("tagged"), definition, roleArn: role }));
      for (const arn of [activityArn!, stateMachineArn!]) {
        await sfn.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "b", value: "2" }, { key: "a", value: "1" }] }));
        await sfn.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "a", value: "one" }] }));
        expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: "a", value: "one" }, { key: "b", value: "2" }]);
        await sfn.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["b", "never-set"] }));
        expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: "a", value: "one" }]);
        const many = Array.from({ length: 50 }, (_, i): Tag => ({ key: `k${i}`, value: "v" }));
        const f = await failure(sfn.send(new TagResourceCommand({ resourceArn: arn, tags: many })));
        expect(f.name).toBe("TooManyTags");
        expect(f.message).toContain("would have 51");
        expect((await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toHaveLength(1);
      }
    });

    const arns: { name: string; arn: string; error: string }[] = [
      { name: "unknown activity", arn: `${prefix}:activity:missing`, error: "ResourceNotFound" },
      { name: "unknown state machine", arn: `${prefix}:stateMachine:missing`, error: "ResourceNotFound" },
      { name: "another region", arn: `arn:aws:states:us-west-2:${account}:activity:missing`, error: "ResourceNotFound" },
      { name: "an execution", arn: `${prefix}:execution:m:e`, error: "InvalidArn" },
      { name: "a malformed ARN", arn: "arn:aws:states", error: "InvalidArn" },
    ];
    it.each(arns)("TagResource, UntagResource and ListTagsForResource of $name: $error", async ({ arn, error }) => {
      expect((await failure(sfn.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "k", value: "v" }] })))).name).toBe(error);
      expect((await failure(sfn.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["k"] })))).name).toBe(error);
      expect((await failure(sfn.send(new ListTagsForResourceCommand({ resourceArn: arn })))).name).toBe(error);
    });

    it("checks tag characters", async () => {
      const { activityArn } = await sfn.send(new CreateActivityCommand({ name: fresh("chars") }));
      expect((await failure(sfn.send(new TagResourceCommand({ resourceArn: activityArn, tags: [{ key: "bad!", value: "v" }] })))).name).toBe("ValidationException");
    });
  });

  describe("operations of later phases", () => {
    it("checks the ARN of an execution-phase call first (InvalidArn)", async () => {
      expect((await failure(sfn.send(new DescribeExecutionCommand({ executionArn: `${prefix}:stateMachine:m` })))).name).toBe("InvalidArn");
      expect((await failure(sfn.send(new GetActivityTaskCommand({ activityArn: "x" })))).name).toBe("InvalidArn");
    });

    const unserved = ["StartSyncExecution", "ListStateMachineVersions", "PublishStateMachineVersion", "CreateStateMachineAlias", "DescribeMapRun", "RedriveExecution", "TestState"];
    it.each(unserved)("%s answers UnknownOperationException naming it as not supported yet", async (op) => {
      const r = await fetch(tg.url, { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `AWSStepFunctions.${op}` }, body: "{}" });
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({ __type: "com.amazon.coral.service#UnknownOperationException", message: `Operation '${op}' of AWS Step Functions is not supported by taskgate yet.` });
    });

    it("answers an operation the model lacks as unknown", async () => {
      const r = await fetch(tg.url, { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.NoSuchThing" }, body: "{}" });
      expect(((await r.json()) as { message: string }).message).toBe("Unknown operation 'NoSuchThing' for AWSStepFunctions.");
    });

    it("the SDK sees UnknownOperationException for a version call", async () => {
      const f = await failure(sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: `${prefix}:stateMachine:m` })));
      expect(f.name).toBe("UnknownOperationException");
      expect(f.message).toContain("not supported by taskgate yet");
    });
  });

  describe("over Connect", () => {
    it("creates and describes an activity; faults carry Step Functions' names", async () => {
      const client = createClient(StepFunctionsService, createConnectTransport({ baseUrl: tg.url, httpVersion: "1.1" }));
      const name = fresh("connect");
      const c = await client.createActivity({ name });
      expect(c.activityArn).toBe(`${prefix}:activity:${name}`);
      const d = await client.describeActivity({ activityArn: c.activityArn });
      expect(d.name).toBe(name);
      const err = await client.describeActivity({ activityArn: `${prefix}:activity:nope` }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.NotFound);
      expect(faultFromConnectError(err as ConnectError)?.name).toBe("ActivityDoesNotExist");
      const bad = await client.createStateMachine({ name: fresh("c"), definition, roleArn: role, type: StateMachineType.EXPRESS }).catch((e: unknown) => e);
      expect(faultFromConnectError(bad as ConnectError)?.name).toBe("StateMachineTypeNotSupported");
    });

    it("lists state machines and validates a definition over gRPC", async () => {
      const client = createClient(StepFunctionsService, createGrpcTransport({ baseUrl: tg.url }));
      const name = fresh("grpc");
      const { stateMachineArn } = await client.createStateMachine({ name, definition, roleArn: role });
      const listed = await client.listStateMachines({ maxResults: 1000 });
      expect(listed.stateMachines.map((m) => m.stateMachineArn)).toContain(stateMachineArn);
      const v = await client.validateStateMachineDefinition({ definition: "{}" });
      expect(v.result).toBe(ValidateStateMachineDefinitionResultCode.FAIL);
      expect(v.diagnostics.map((d) => d.code)).toEqual(["SCHEMA_VALIDATION_FAILED"]);
      const err = await client.updateStateMachine({ stateMachineArn }).catch((e: unknown) => e);
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      expect(faultFromConnectError(err as ConnectError)?.name).toBe("MissingRequiredParameter");
    });
  });
});
