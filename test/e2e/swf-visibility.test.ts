// Registration lifecycle (deprecate, undeprecate, delete) and visibility (list and count
// executions with their filters), through the AWS SDK on both stores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CountClosedWorkflowExecutionsCommand,
  CountOpenWorkflowExecutionsCommand,
  DeleteActivityTypeCommand,
  DeprecateActivityTypeCommand,
  DeprecateDomainCommand,
  DeprecateWorkflowTypeCommand,
  DescribeDomainCommand,
  ListActivityTypesCommand,
  ListClosedWorkflowExecutionsCommand,
  ListDomainsCommand,
  ListOpenWorkflowExecutionsCommand,
  PollForDecisionTaskCommand,
  RegisterActivityTypeCommand,
  StartWorkflowExecutionCommand,
  TerminateWorkflowExecutionCommand,
  UndeprecateActivityTypeCommand,
  UndeprecateDomainCommand,
  RegisterDomainCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ListTagsForResourceCommand,
} from "@aws-sdk/client-swf";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { setupDomain, start } from "../helpers/swf.ts";

describe.each(stores)("SWF registration lifecycle and visibility (%s)", (kind) => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ kind, longPollSeconds: 0.3 });
  });
  afterAll(async () => {
    await tg?.destroy();
  });

  it("deprecates, undeprecates and deletes types and domains with AWS's faults", async () => {
    const f = await setupDomain(tg.swf);
    const t = { domain: f.domain, activityType: { name: "old", version: "1" } };
    await tg.swf.send(new RegisterActivityTypeCommand({ ...t.activityType, domain: f.domain }));
    await expect(tg.swf.send(new DeleteActivityTypeCommand(t))).rejects.toMatchObject({ name: "TypeNotDeprecatedFault" });
    await tg.swf.send(new DeprecateActivityTypeCommand(t));
    await expect(tg.swf.send(new DeprecateActivityTypeCommand(t))).rejects.toMatchObject({ name: "TypeDeprecatedFault" });
    const deprecated = await tg.swf.send(new ListActivityTypesCommand({ domain: f.domain, registrationStatus: "DEPRECATED" }));
    expect(deprecated.typeInfos!.map((i) => i.activityType)).toEqual([t.activityType]);
    expect(deprecated.typeInfos![0].deprecationDate).toBeInstanceOf(Date);
    await tg.swf.send(new UndeprecateActivityTypeCommand(t));
    await expect(tg.swf.send(new UndeprecateActivityTypeCommand(t))).rejects.toMatchObject({ name: "TypeAlreadyExistsFault" });
    await tg.swf.send(new DeprecateActivityTypeCommand(t));
    await tg.swf.send(new DeleteActivityTypeCommand(t));
    await expect(tg.swf.send(new DeleteActivityTypeCommand(t))).rejects.toMatchObject({ name: "UnknownResourceFault" });

    // A deprecated workflow type starts nothing.
    await tg.swf.send(new DeprecateWorkflowTypeCommand({ domain: f.domain, workflowType: f.workflowType }));
    await expect(start(tg.swf, f, "nope")).rejects.toMatchObject({ name: "TypeDeprecatedFault" });

    // A deprecated domain is listed as such and takes no new executions.
    await tg.swf.send(new DeprecateDomainCommand({ name: f.domain }));
    await expect(tg.swf.send(new DeprecateDomainCommand({ name: f.domain }))).rejects.toMatchObject({ name: "DomainDeprecatedFault" });
    expect((await tg.swf.send(new DescribeDomainCommand({ name: f.domain }))).domainInfo?.status).toBe("DEPRECATED");
    const domains = await tg.swf.send(new ListDomainsCommand({ registrationStatus: "DEPRECATED" }));
    expect(domains.domainInfos!.map((d) => d.name)).toContain(f.domain);
    await expect(tg.swf.send(new StartWorkflowExecutionCommand({ domain: f.domain, workflowId: "x", workflowType: f.workflowType }))).rejects.toMatchObject({
      name: "UnknownResourceFault",
    });
    await tg.swf.send(new UndeprecateDomainCommand({ name: f.domain }));
    await expect(tg.swf.send(new UndeprecateDomainCommand({ name: f.domain }))).rejects.toMatchObject({ name: "DomainAlreadyExistsFault" });
  });

  it("tags domains: at registration, TagResource, UntagResource, ListTagsForResource", async () => {
    const name = `tagged-${Math.random().toString(36).slice(2, 8)}`;
    await tg.swf.send(new RegisterDomainCommand({ name, workflowExecutionRetentionPeriodInDays: "1", tags: [{ key: "team", value: "payments" }] }));
    const arn = (await tg.swf.send(new DescribeDomainCommand({ name }))).domainInfo!.arn!;
    expect((await tg.swf.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: "team", value: "payments" }]);
    await tg.swf.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "env", value: "ci" }, { key: "team", value: "ledger" }] }));
    expect((await tg.swf.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([
      { key: "env", value: "ci" },
      { key: "team", value: "ledger" },
    ]);
    await tg.swf.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["env"] }));
    expect((await tg.swf.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: "team", value: "ledger" }]);
    const many = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    await expect(tg.swf.send(new TagResourceCommand({ resourceArn: arn, tags: many }))).rejects.toMatchObject({ name: "TooManyTagsFault" });
    await expect(tg.swf.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "bad!", value: "x" }] }))).rejects.toMatchObject({ name: "ValidationException" });
    await expect(tg.swf.send(new ListTagsForResourceCommand({ resourceArn: arn.replace(name, "nope") }))).rejects.toMatchObject({ name: "UnknownResourceFault" });
    await expect(tg.swf.send(new ListTagsForResourceCommand({ resourceArn: "arn:aws:states:us-east-1:1:activity:x" }))).rejects.toMatchObject({ name: "UnknownResourceFault" });
  });

  it("lists and counts open and closed executions with time, id, type, tag and status filters, paging both ways", async () => {
    const f = await setupDomain(tg.swf);
    const since = new Date(Date.now() - 60_000);
    for (let i = 0; i < 7; i++) {
      await tg.swf.send(
        new StartWorkflowExecutionCommand({ domain: f.domain, workflowId: `v${i}`, workflowType: f.workflowType, tagList: i % 2 === 0 ? ["even", "all"] : ["all"] }),
      );
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const id of ["v0", "v1", "v2"]) await tg.swf.send(new TerminateWorkflowExecutionCommand({ domain: f.domain, workflowId: id }));

    const open = await tg.swf.send(new ListOpenWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: since } }));
    expect(open.executionInfos!.map((e) => e.execution!.workflowId)).toEqual(["v6", "v5", "v4", "v3"]); // newest first
    expect(open.executionInfos![0]).toMatchObject({ executionStatus: "OPEN", workflowType: f.workflowType, tagList: ["even", "all"] });

    const pages: string[] = [];
    let token: string | undefined;
    do {
      const p = await tg.swf.send(
        new ListOpenWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: since }, maximumPageSize: 3, reverseOrder: true, nextPageToken: token }),
      );
      pages.push(...p.executionInfos!.map((e) => e.execution!.workflowId!));
      token = p.nextPageToken;
    } while (token);
    expect(pages).toEqual(["v3", "v4", "v5", "v6"]);

    const even = await tg.swf.send(new ListOpenWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: since }, tagFilter: { tag: "even" } }));
    expect(even.executionInfos!.map((e) => e.execution!.workflowId)).toEqual(["v6", "v4"]);
    const byId = await tg.swf.send(new ListOpenWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: since }, executionFilter: { workflowId: "v5" } }));
    expect(byId.executionInfos).toHaveLength(1);
    const byType = await tg.swf.send(new CountOpenWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: since }, typeFilter: { name: f.workflowType.name } }));
    expect(byType).toMatchObject({ count: 4, truncated: false });
    const none = await tg.swf.send(new CountOpenWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: new Date(Date.now() + 60_000) } }));
    expect(none.count).toBe(0);

    const closed = await tg.swf.send(new ListClosedWorkflowExecutionsCommand({ domain: f.domain, closeTimeFilter: { oldestDate: since }, closeStatusFilter: { status: "TERMINATED" } }));
    expect(closed.executionInfos!.map((e) => e.execution!.workflowId)).toEqual(["v2", "v1", "v0"]);
    expect(closed.executionInfos![0]).toMatchObject({ executionStatus: "CLOSED", closeStatus: "TERMINATED" });
    expect(closed.executionInfos![0].closeTimestamp).toBeInstanceOf(Date);
    const closedCount = await tg.swf.send(new CountClosedWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: since }, closeStatusFilter: { status: "COMPLETED" } }));
    expect(closedCount.count).toBe(0);

    await expect(
      tg.swf.send(new ListClosedWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: since }, closeTimeFilter: { oldestDate: since } })),
    ).rejects.toMatchObject({ name: "ValidationException", message: expect.stringContaining("mutually exclusive") });
    await expect(
      tg.swf.send(new ListOpenWorkflowExecutionsCommand({ domain: f.domain, startTimeFilter: { oldestDate: since }, tagFilter: { tag: "all" }, executionFilter: { workflowId: "v3" } })),
    ).rejects.toMatchObject({ name: "ValidationException" });
    await expect(tg.swf.send(new ListOpenWorkflowExecutionsCommand({ domain: f.domain } as never))).rejects.toMatchObject({ name: "ValidationException" });
    // Drain the decision tasks the open executions hold.
    await tg.swf.send(new PollForDecisionTaskCommand({ domain: f.domain, taskList: { name: f.decisionList } }));
  });
});
