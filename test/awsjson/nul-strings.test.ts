// U+0000 in string members. PostgreSQL's text type cannot hold it; the store encodes it, so the
// same request gets the same answer on SQLite and PostgreSQL: control characters are refused
// where the model forbids them (SWF's naming rule), a lookup by a key holding U+0000 answers the
// operation's normal "not found", and free text (descriptions, tags, inputs, identities…) is
// stored and returned as sent. Every string member of every SWF operation is tried on both stores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/model/model.ts";
import { decodeText, encodeText } from "../../src/store/postgres.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";
import { baseline, members, withMember, type Fixture } from "./model-requests.ts";

const model = loadModel("swf");

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(tg: Taskgate, op: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${tg.url}/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `SimpleWorkflowService.${op}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

async function ok(tg: Taskgate, op: string, body: unknown): Promise<Record<string, unknown>> {
  const a = await call(tg, op, body);
  expect(a.status, `${op}: ${JSON.stringify(a.body)}`).toBe(200);
  return a.body;
}

/** An answer without what differs between two servers by chance: run ids, tokens, times. */
function normalized(a: Answer): unknown {
  return JSON.parse(
    JSON.stringify(a, (key, v: unknown) => {
      if (/^runId$|Token$|Date$|Timestamp$/.test(key)) return "…";
      return typeof v === "string" ? v.replace(/[0-9a-f]{44}/g, "<run>") : v;
    }),
  ) as unknown;
}

async function fixture(tg: Taskgate, domain: string): Promise<Fixture> {
  await ok(tg, "RegisterDomain", { name: domain, workflowExecutionRetentionPeriodInDays: "1" });
  const common = { domain, version: "1", defaultTaskList: { name: "tl" } };
  await ok(tg, "RegisterWorkflowType", { ...common, name: "wf", defaultExecutionStartToCloseTimeout: "600", defaultTaskStartToCloseTimeout: "60", defaultChildPolicy: "TERMINATE" });
  await ok(tg, "RegisterActivityType", { ...common, name: "act", defaultTaskScheduleToCloseTimeout: "NONE", defaultTaskScheduleToStartTimeout: "NONE", defaultTaskStartToCloseTimeout: "NONE", defaultTaskHeartbeatTimeout: "NONE" });
  const { runId } = (await ok(tg, "StartWorkflowExecution", { domain, workflowId: "wid", workflowType: { name: "wf", version: "1" } })) as { runId: string };
  return { domain, workflowType: { name: "wf", version: "1" }, activityType: { name: "act", version: "1" }, taskList: "tl", workflowId: "wid", runId };
}

/** Operations that close or retire the fixture's entities go last, so the others see them alive. */
const destructive = /^(Terminate|RequestCancel|Deprecate|Undeprecate|Delete)/;

describe("U+0000 in every string member answers the same on SQLite and PostgreSQL", () => {
  let sqlite: Taskgate;
  let postgres: Taskgate;

  beforeAll(async () => {
    [sqlite, postgres] = await Promise.all([startTaskgate({ kind: "sqlite", longPollSeconds: 0.05 }), startTaskgate({ kind: "postgres", longPollSeconds: 0.05 })]);
  });
  afterAll(async () => {
    await Promise.all([sqlite?.destroy(), postgres?.destroy()]);
  });

  it("every string member of every operation", async () => {
    const [fs, fp] = await Promise.all([fixture(sqlite, "nul"), fixture(postgres, "nul")]);
    const ops = Object.keys(model.operations).sort((a, b) => Number(destructive.test(a)) - Number(destructive.test(b)) || a.localeCompare(b));
    let tried = 0;
    const differences: string[] = [];
    for (const op of ops) {
      for (const m of members(model, op)) {
        if (m.kind !== "string") continue;
        for (const value of ["\u0000", "nul\u0000x", "\ufdd0\ufdd1"]) {
          const [a, b] = await Promise.all([call(sqlite, op, withMember(baseline(model, op, fs), m.path, value)), call(postgres, op, withMember(baseline(model, op, fp), m.path, value))]);
          tried++;
          const where = `${op} ${m.path.join(".")} = ${JSON.stringify(value)}`;
          expect(a.status, `${where} on SQLite: ${JSON.stringify(a.body)}`).toBeLessThan(500);
          expect(b.status, `${where} on PostgreSQL: ${JSON.stringify(b.body)}`).toBeLessThan(500);
          if (JSON.stringify(normalized(a)) !== JSON.stringify(normalized(b))) differences.push(`${where}\n  SQLite:     ${JSON.stringify(a)}\n  PostgreSQL: ${JSON.stringify(b)}`);
        }
      }
    }
    expect(differences).toEqual([]);
    expect(tried).toBeGreaterThan(500);
  }, 120_000);

  it("stores free text with U+0000 as sent and finds it again", async () => {
    const answers: unknown[][] = [];
    for (const tg of [sqlite, postgres]) {
      const got: unknown[] = [];
      const domain = "nul-text";
      await ok(tg, "RegisterDomain", { name: domain, workflowExecutionRetentionPeriodInDays: "1", description: "d\u0000escription\ufdd0" });
      got.push(((await ok(tg, "DescribeDomain", { name: domain })) as { domainInfo: unknown }).domainInfo);
      await ok(tg, "RegisterWorkflowType", { domain, name: "wf", version: "1", description: "w\u0000", defaultTaskList: { name: "tl" }, defaultExecutionStartToCloseTimeout: "600", defaultTaskStartToCloseTimeout: "60", defaultChildPolicy: "TERMINATE" });
      got.push(((await ok(tg, "DescribeWorkflowType", { domain, workflowType: { name: "wf", version: "1" } })) as { typeInfo: unknown }).typeInfo);
      await ok(tg, "StartWorkflowExecution", { domain, workflowId: "w", workflowType: { name: "wf", version: "1" }, tagList: ["t\u0000g", "plain"], input: "i\u0000n" });
      const listed = (await ok(tg, "ListOpenWorkflowExecutions", { domain, startTimeFilter: { oldestDate: 0 }, tagFilter: { tag: "t\u0000g" } })) as { executionInfos: { tagList: string[] }[] };
      expect(listed.executionInfos.map((e) => e.tagList)).toEqual([["t\u0000g", "plain"]]);
      got.push(await ok(tg, "CountOpenWorkflowExecutions", { domain, startTimeFilter: { oldestDate: 0 }, tagFilter: { tag: "t\u0000" } }));
      const decision = (await ok(tg, "PollForDecisionTask", { domain, taskList: { name: "tl" }, identity: "decider\u0000" })) as { events: Record<string, Record<string, unknown>>[] };
      got.push(decision.events.map((e) => e.workflowExecutionStartedEventAttributes?.input ?? e.decisionTaskStartedEventAttributes?.identity ?? null));
      await ok(tg, "SignalWorkflowExecution", { domain, workflowId: "w", signalName: "s\u0000", input: "x\u0000" });
      const history = (await ok(tg, "GetWorkflowExecutionHistory", { domain, execution: { workflowId: "w", runId: (listed.executionInfos[0] as unknown as { execution: { runId: string } }).execution.runId } })) as { events: Record<string, unknown>[] };
      got.push(history.events.map((e) => e.workflowExecutionSignaledEventAttributes ?? null).filter((x) => x !== null));
      answers.push(got);
    }
    expect(answers[0]).toEqual([
      { name: "nul-text", status: "REGISTERED", description: "d\u0000escription\ufdd0", arn: "arn:aws:swf:us-east-1:000000000000:/domain/nul-text" },
      expect.objectContaining({ workflowType: { name: "wf", version: "1" }, description: "w\u0000", status: "REGISTERED" }),
      { count: 0, truncated: false },
      ["i\u0000n", null, "decider\u0000"],
      [{ signalName: "s\u0000", input: "x\u0000" }],
    ]);
    expect(normalized({ status: 200, body: { a: answers[1] } })).toEqual(normalized({ status: 200, body: { a: answers[0] } }));
  });
});

describe("PostgreSQL's text encoding", () => {
  it("round-trips every string and leaves strings without U+0000 or U+FDD0 as they are", () => {
    for (const s of ["", "\u0000", "a\u0000b\u0000", "\ufdd0", "\ufdd0\ufdd1", "\ufdd0\u0000\ufdd0\ufdd0", "\u0000\ufdd1", "x\ufdd1", "\u{1F600}\u0000"]) {
      expect(encodeText(s)).not.toContain("\u0000");
      expect(decodeText(encodeText(s))).toBe(s);
    }
    for (const s of ["plain", "é\u{1F600}", "\ufdd1", "\ufdd0x" /* a lone U+FDD0 written before the encoding */]) {
      expect(decodeText(s)).toBe(s);
      if (!s.includes("\ufdd0")) expect(encodeText(s)).toBe(s);
    }
  });
});
