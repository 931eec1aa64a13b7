// What SWF requests are authorized as: action, domain ARN and SWF condition keys, as data.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { swfAccess, swfDomainArnPrefix } from "../../src/auth/swf-access.ts";

interface Case {
  operation: string;
  input: Record<string, unknown>;
  access: unknown;
}
const { cases } = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/swf-access/operations.json"), "utf8")) as { cases: Case[] };

describe("swfAccess", () => {
  it.each(cases.map((c, i) => [`${c.operation} #${i}`, c] as const))("%s", (_name, c) => {
    expect(swfAccess(c.operation, c.input, "us-east-1", "123456789012") ?? null).toEqual(c.access);
  });

  it("spells domain ARNs in the region's partition", () => {
    expect(swfDomainArnPrefix("cn-north-1", "123456789012")).toBe("arn:aws-cn:swf:cn-north-1:123456789012:/domain/");
    expect(swfDomainArnPrefix("us-gov-west-1", "123456789012")).toBe("arn:aws-us-gov:swf:us-gov-west-1:123456789012:/domain/");
  });
});
