// Bad input through the AWS route: every fault is the service's own, with a message to act on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetWorkflowExecutionHistoryCommand,
  ListDomainsCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RegisterDomainCommand,
  StartWorkflowExecutionCommand,
  RegisterActivityTypeCommand,
} from "@aws-sdk/client-swf";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";
import { setupDomain } from "../helpers/swf.ts";

describe("SWF input validation", () => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ kind: "sqlite", longPollSeconds: 0.2 });
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  const poll = (name: string) => tg.swf.send(new PollForActivityTaskCommand({ domain: "d", taskList: { name } }));

  it.each([
    [" leading", "must not start or end with whitespace"],
    ["trailing ", "must not start or end with whitespace"],
    ["a:b", "must not contain"],
    ["a/b", "must not contain"],
    ["a|b", "must not contain"],
    ["a\u0000b", "must not contain"],
    ["a\u001fb", "must not contain"],
    ["a\u007fb", "must not contain"],
    ["a\u0085b", "must not contain"],
    ["a\u009fb", "must not contain"],
    ["arn", "literal string 'arn'"],
    ["", "length greater than or equal to 1"],
    ["x".repeat(257), "length less than or equal to 256"],
  ])("rejects the task list name %j", async (name, why) => {
    const err = (await poll(name).then(
      () => new Error("accepted"),
      (e: unknown) => e,
    )) as Error & { $metadata: { httpStatusCode: number } };
    expect(err).toMatchObject({ name: "ValidationException" });
    expect(err.message).toContain(why);
    expect(err.message).toContain("taskList.name");
    expect(err.$metadata.httpStatusCode).toBe(400);
  });

  it("accepts names the rules allow", async () => {
    const f = await setupDomain(tg.swf);
    for (const name of ["arnie", "a.b-c_d", "ünïcode", "x".repeat(256)]) {
      const r = await tg.swf.send(new PollForActivityTaskCommand({ domain: f.domain, taskList: { name } }));
      expect(r.startedEventId).toBe(0);
    }
  });

  it("checks page sizes 0..1000", async () => {
    const f = await setupDomain(tg.swf);
    await expect(tg.swf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED", maximumPageSize: 1001 }))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("Member must have value less than or equal to 1000"),
    });
    await expect(tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: "t" }, maximumPageSize: -1 }))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("Member must have value greater than or equal to 0"),
    });
    const ok = await tg.swf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED", maximumPageSize: 0 }));
    expect(ok.domainInfos!.length).toBeGreaterThan(0);
  });

  it("names every missing required member", async () => {
    const err = (await tg.swf.send(new StartWorkflowExecutionCommand({} as never)).then(
      () => new Error("accepted"),
      (e: unknown) => e,
    )) as Error;
    expect(err.name).toBe("ValidationException");
    expect(err.message).toMatch(/^3 validation errors detected: /);
    for (const m of ["domain", "workflowId", "workflowType"]) expect(err.message).toContain(`Value null at '${m}' failed to satisfy constraint: Member must not be null`);
    await expect(tg.swf.send(new GetWorkflowExecutionHistoryCommand({ domain: "d", execution: { workflowId: "w" } as never }))).rejects.toMatchObject({
      message: expect.stringContaining("'execution.runId'"),
    });
  });

  it("checks durations, priorities and retention periods", async () => {
    const f = await setupDomain(tg.swf);
    await expect(tg.swf.send(new RegisterActivityTypeCommand({ domain: f.domain, name: "x", version: "1", defaultTaskStartToCloseTimeout: "soon" }))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("defaultTaskStartToCloseTimeout"),
    });
    await expect(
      tg.swf.send(new StartWorkflowExecutionCommand({ domain: f.domain, workflowId: "p", workflowType: f.workflowType, taskPriority: "high" })),
    ).rejects.toMatchObject({ name: "ValidationException", message: expect.stringContaining("taskPriority") });
    await expect(tg.swf.send(new RegisterDomainCommand({ name: "r-bad", workflowExecutionRetentionPeriodInDays: "91" }))).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(tg.swf.send(new PollForActivityTaskCommand({ domain: "never-registered", taskList: { name: "t" } }))).rejects.toMatchObject({
      name: "UnknownResourceFault",
      message: "Unknown domain: never-registered",
    });
  });

  it("answers malformed JSON, unknown targets, wrong content types and big bodies with a clear 4xx", async () => {
    const send = (headers: Record<string, string>, body: string) => fetch(`${tg.url}/`, { method: "POST", headers, body });
    const json = { "content-type": "application/x-amz-json-1.0" };
    let r = await send({ ...json, "x-amz-target": "SimpleWorkflowService.ListDomains" }, "{not json");
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ __type: expect.stringContaining("SerializationException") });
    r = await send({ ...json, "x-amz-target": "SimpleWorkflowService.NoSuchOperation" }, "{}");
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ __type: expect.stringContaining("UnknownOperationException") });
    r = await send({ "content-type": "text/plain", "x-amz-target": "SimpleWorkflowService.ListDomains" }, "{}");
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    r = await send({ ...json, "x-amz-target": "SimpleWorkflowService.RegisterDomain" }, JSON.stringify({ name: "big", description: "x".repeat(3 * 1024 * 1024) }));
    expect(r.status).toBe(413);
    r = await send({ ...json, "x-amz-target": "SimpleWorkflowService.RegisterDomain" }, JSON.stringify({ name: 5, workflowExecutionRetentionPeriodInDays: "1" }));
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ __type: expect.stringContaining("SerializationException") });
    // The server is still fine.
    expect((await fetch(`${tg.url}/healthz`)).status).toBe(200);
  });
});
