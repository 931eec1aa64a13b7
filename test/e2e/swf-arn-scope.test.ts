// SWF domain ARNs carry the configured partition, region and account (--region, --account-id):
// DescribeDomain and ListDomains hand them out, and the tag operations take them back; an ARN of
// another region or account names no domain here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescribeDomainCommand, ListDomainsCommand, ListTagsForResourceCommand, RegisterDomainCommand, TagResourceCommand } from "@aws-sdk/client-swf";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";

describe.each(stores)("SWF domain ARNs in the configured scope (%s)", (kind) => {
  let tg: Taskgate;
  beforeAll(async () => {
    tg = await startTaskgate({ kind, config: { region: "cn-north-1", accountId: "123456789012" } });
  });
  afterAll(() => tg?.stop());

  it("hands out and takes back arn:aws-cn:swf:cn-north-1:123456789012:/domain/<name>", async () => {
    const name = `scope-${kind}-${Date.now()}`;
    await tg.swf.send(new RegisterDomainCommand({ name, workflowExecutionRetentionPeriodInDays: "1" }));
    const arn = `arn:aws-cn:swf:cn-north-1:123456789012:/domain/${name}`;
    expect((await tg.swf.send(new DescribeDomainCommand({ name }))).domainInfo?.arn).toBe(arn);
    const listed = await tg.swf.send(new ListDomainsCommand({ registrationStatus: "REGISTERED", maximumPageSize: 1000 }));
    expect(listed.domainInfos?.find((d) => d.name === name)?.arn).toBe(arn);
    await tg.swf.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "team", value: "a" }] }));
    expect((await tg.swf.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: "team", value: "a" }]);
    const elsewhere = `arn:aws:swf:us-east-1:000000000000:/domain/${name}`;
    await expect(tg.swf.send(new ListTagsForResourceCommand({ resourceArn: elsewhere }))).rejects.toMatchObject({ name: "UnknownResourceFault" });
  });
});
