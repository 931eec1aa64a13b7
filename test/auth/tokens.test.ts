// Tokens sealed for an account (tokens.ts): they open for that account only, with the current or
// the previous key; unsealed tokens pass; each service's refusal; members found at any depth.
import { describe, expect, it } from "vitest";
import { open, openTokens, seal, sealTokens, tokenKey } from "../../src/auth/tokens.ts";
import { Fault } from "../../src/faults.ts";

const key = tokenKey(["secret-one-0123456789", "secret-two-0123456789"]);
const other = tokenKey(["another-secret-0123456789"]);

describe("seal and open", () => {
  it("a sealed token opens for its account only and does not show the token inside", () => {
    const t = seal("AbCdEf0123456789xyzXYZ__", "111111111111", key);
    expect(t.startsWith("tg1.")).toBe(true);
    expect(t).not.toContain("AbCdEf0123456789xyzXYZ__");
    expect(open(t, "111111111111", [key])).toBe("AbCdEf0123456789xyzXYZ__");
    expect(open(t, "222222222222", [key])).toBeUndefined();
    expect(open(t, "111111111111", [other])).toBeUndefined();
    expect(open(t, "111111111111", [other, key])).toBe("AbCdEf0123456789xyzXYZ__"); // the previous key still opens it
    expect(seal("same", "1", key)).not.toBe(seal("same", "1", key)); // a fresh IV each time
  });

  it("the key does not depend on the order of the secrets", () => {
    expect(tokenKey(["b-secret-0123456789", "a-secret-0123456789"]).equals(tokenKey(["a-secret-0123456789", "b-secret-0123456789"]))).toBe(true);
  });

  it.each(["tg1.", "tg1.AAAA", "tg1.!!!!", `tg1.${"A".repeat(60)}`])("a damaged sealed token %s does not open", (t) => {
    expect(open(t, "111111111111", [key])).toBeUndefined();
  });

  it("an unsealed token passes unchanged", () => {
    expect(open("eyJrIjoiTGlzdERvbWFpbnMifQ.mac", "111111111111", [key])).toBe("eyJrIjoiTGlzdERvbWFpbnMifQ.mac");
  });
});

const refusals: { service: string; member: string; fault: string }[] = [
  { service: "swf", member: "taskToken", fault: "UnknownResourceFault" },
  { service: "swf", member: "nextPageToken", fault: "ValidationException" },
  { service: "states", member: "taskToken", fault: "InvalidToken" },
  { service: "states", member: "nextPageToken", fault: "InvalidToken" },
  { service: "datapipeline", member: "taskId", fault: "TaskNotFoundException" },
  { service: "datapipeline", member: "marker", fault: "InvalidRequestException" },
];

describe("sealTokens and openTokens", () => {
  it("seal every token member at any depth and open them back, leaving other members alone", () => {
    const res = { taskToken: "t1", nextPageToken: "p1", activityId: "a", nested: [{ taskToken: "t2" }], empty: { taskToken: "" } };
    sealTokens("swf", res, "111111111111", key);
    expect(res.taskToken.startsWith("tg1.")).toBe(true);
    expect(res.nested[0].taskToken.startsWith("tg1.")).toBe(true);
    expect(res.activityId).toBe("a");
    expect(res.empty.taskToken).toBe("");
    openTokens("swf", res, "111111111111", [key]);
    expect(res).toEqual({ taskToken: "t1", nextPageToken: "p1", activityId: "a", nested: [{ taskToken: "t2" }], empty: { taskToken: "" } });
  });

  it.each(refusals.map((r) => [`${r.service} ${r.member}`, r] as const))("%s of another account is refused with the service's error", (_name, r) => {
    const req: Record<string, unknown> = { [r.member]: "inner" };
    sealTokens(r.service, req, "111111111111", key);
    let err: unknown;
    try {
      openTokens(r.service, req, "222222222222", [key]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Fault);
    expect((err as Fault).type).toBe(r.fault);
  });
});
