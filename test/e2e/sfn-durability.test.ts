// Step Functions durability: a Wait and a scheduled activity task survive a server restart (the
// timer fires and the task is delivered afterwards), and an execution moves between two nodes on
// one PostgreSQL database without running any state twice, also when a node is killed.
import { describe, expect, it } from "vitest";
import { GetActivityTaskCommand, SendTaskSuccessCommand, StartExecutionCommand, type HistoryEvent, type SFNClient } from "@aws-sdk/client-sfn";
import { freshStore, postgresUrl, startTaskgate, stores } from "../helpers/harness.ts";
import { spawnTaskgate } from "../helpers/process.ts";
import { eventually } from "../helpers/eventually.ts";
import { closed, historyOf, machineWith, sfnClient } from "./sfn-client.ts";

/** Polls one task of an activity through `sfn` (fails when none comes). */
async function take(sfn: SFNClient, activityArn: string, workerName: string): Promise<{ token: string; input: string }> {
  const t = await eventually(async () => {
    const r = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName }));
    if (!r.taskToken) throw new Error("no task yet");
    return r;
  }, 10_000);
  return { token: t.taskToken!, input: t.input! };
}

/** History ids are 1..n without a gap or repeat, and each state was entered once per `expected` count. */
function checkOnce(h: readonly HistoryEvent[], entered: Record<string, number>): void {
  expect(h.map((e) => e.id)).toEqual(h.map((_, i) => i + 1));
  const counts: Record<string, number> = {};
  for (const e of h) if (e.type!.endsWith("StateEntered")) counts[e.stateEnteredEventDetails!.name!] = (counts[e.stateEnteredEventDetails!.name!] ?? 0) + 1;
  expect(counts).toEqual(entered);
}

describe.each(stores)("Step Functions across a restart (%s)", (kind) => {
  it("fires a Wait and delivers a scheduled task after the server restarts on the same database", async () => {
    const loc = freshStore(kind);
    let tg = await startTaskgate({ store: loc, longPollSeconds: 0.3 });
    let sfn = sfnClient(tg.url);
    try {
      const { activityArn, stateMachineArn } = await machineWith(sfn, "restart", (a) => ({
        StartAt: "Work",
        States: { Work: { Type: "Task", Resource: a, Next: "Nap" }, Nap: { Type: "Wait", Seconds: 1, Next: "More" }, More: { Type: "Task", Resource: a, End: true } },
      }));
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{"step":1}' }));
      const first = await take(sfn, activityArn, "before");
      await sfn.send(new SendTaskSuccessCommand({ taskToken: first.token, output: '{"step":2}' }));
      // Down while the Wait runs: its timer is a row in the store.
      sfn.destroy();
      await tg.stop();
      tg = await startTaskgate({ store: loc, longPollSeconds: 0.3 });
      sfn = sfnClient(tg.url);
      const second = await take(sfn, activityArn, "after");
      expect(second.input).toBe('{"step":2}');
      await sfn.send(new SendTaskSuccessCommand({ taskToken: second.token, output: '{"step":3}' }));
      expect(await closed(sfn, executionArn!)).toMatchObject({ status: "SUCCEEDED", output: '{"step":3}' });
      const h = await historyOf(sfn, executionArn!);
      checkOnce(h, { Work: 1, Nap: 1, More: 1 });
      const entered = h.find((e) => e.type === "WaitStateEntered")!.timestamp!.getTime();
      const exited = h.find((e) => e.type === "WaitStateExited")!.timestamp!.getTime();
      expect(exited - entered).toBeGreaterThanOrEqual(1000);
    } finally {
      sfn.destroy();
      await tg.destroy();
    }
  });
});

describe("Step Functions on two nodes (postgres)", () => {
  it("moves an execution between nodes: tasks polled and answered on either, the Wait fired once, no state run twice", async () => {
    const loc = freshStore("postgres");
    const a = await startTaskgate({ store: loc, longPollSeconds: 0.5 });
    const b = await startTaskgate({ store: loc, longPollSeconds: 0.5 });
    const sa = sfnClient(a.url);
    const sb = sfnClient(b.url);
    try {
      const { activityArn, stateMachineArn } = await machineWith(sa, "nodes", (act) => ({
        StartAt: "First",
        States: {
          First: { Type: "Task", Resource: act, Next: "Nap" },
          Nap: { Type: "Wait", Seconds: 1, Next: "Both" },
          Both: {
            Type: "Parallel",
            End: true,
            Branches: [
              { StartAt: "Left", States: { Left: { Type: "Task", Resource: act, End: true } } },
              { StartAt: "Right", States: { Right: { Type: "Task", Resource: act, End: true } } },
            ],
          },
        },
      }));
      const { executionArn } = await sa.send(new StartExecutionCommand({ stateMachineArn, input: "1" }));
      // Polled on b (woken across nodes), answered on a.
      const first = await take(sb, activityArn, "node-b");
      await sa.send(new SendTaskSuccessCommand({ taskToken: first.token, output: "2" }));
      // The two branch tasks: one polled on each node, each answered on the other.
      const [onA, onB] = await Promise.all([take(sa, activityArn, "node-a"), take(sb, activityArn, "node-b")]);
      await sb.send(new SendTaskSuccessCommand({ taskToken: onA.token, output: '"left"' }));
      await sa.send(new SendTaskSuccessCommand({ taskToken: onB.token, output: '"right"' }));
      const d = await closed(sb, executionArn!);
      expect(d.status).toBe("SUCCEEDED");
      expect(new Set(JSON.parse(d.output!) as string[])).toEqual(new Set(["left", "right"]));
      const h = await historyOf(sa, executionArn!);
      checkOnce(h, { First: 1, Nap: 1, Both: 1, Left: 1, Right: 1 });
      expect(h.filter((e) => e.type === "ActivityStarted").map((e) => e.activityStartedEventDetails!.workerName).sort()).toEqual(["node-a", "node-b", "node-b"]);
    } finally {
      sa.destroy();
      sb.destroy();
      await a.stop();
      await b.destroy();
    }
  });
});

describe("Step Functions on a node killed with SIGKILL (postgres)", () => {
  it("loses no execution: the survivor fires the dead node's Wait and accepts the answer of a task it handed out", async () => {
    const loc = freshStore("postgres");
    const survivor = await startTaskgate({ store: loc, longPollSeconds: 0.5, config: { nodeTimeoutSeconds: 2 } });
    const victim = await spawnTaskgate(["--database", `${postgresUrl}?schema=${loc.schema}`, "--long-poll-seconds", "0.5", "--node-timeout-seconds", "2"]);
    const ss = sfnClient(survivor.url);
    const vs = sfnClient(victim.url);
    try {
      const { activityArn, stateMachineArn } = await machineWith(ss, "killed", (a) => ({
        StartAt: "Held",
        States: { Held: { Type: "Task", Resource: a, Next: "Nap" }, Nap: { Type: "Wait", Seconds: 1, Next: "After" }, After: { Type: "Task", Resource: a, End: true } },
      }));
      // Two executions through the victim: one's worker holds its first task when the victim dies,
      // the other is in its Wait, whose timer the victim wrote.
      const { executionArn } = await vs.send(new StartExecutionCommand({ stateMachineArn, name: "held", input: "0" }));
      const { executionArn: napping } = await vs.send(new StartExecutionCommand({ stateMachineArn, name: "napping", input: "10" }));
      const tasks = [await take(vs, activityArn, "victim"), await take(vs, activityArn, "victim")];
      const held = tasks.find((t) => t.input === "0")!;
      const other = tasks.find((t) => t.input === "10")!;
      await vs.send(new SendTaskSuccessCommand({ taskToken: other.token, output: "11" }));
      victim.child.kill("SIGKILL");
      await victim.exited;
      vs.destroy();
      // The worker answers through the survivor; both Waits fire there; the last tasks are polled there.
      await ss.send(new SendTaskSuccessCommand({ taskToken: held.token, output: "1" }));
      const last = [await take(ss, activityArn, "survivor"), await take(ss, activityArn, "survivor")];
      expect(last.map((t) => t.input).sort()).toEqual(["1", "11"]);
      for (const t of last) await ss.send(new SendTaskSuccessCommand({ taskToken: t.token, output: String(Number(t.input) + 1) }));
      expect(await closed(ss, executionArn!)).toMatchObject({ status: "SUCCEEDED", output: "2" });
      expect(await closed(ss, napping!)).toMatchObject({ status: "SUCCEEDED", output: "12" });
      checkOnce(await historyOf(ss, napping!), { Held: 1, Nap: 1, After: 1 });
      checkOnce(await historyOf(ss, executionArn!), { Held: 1, Nap: 1, After: 1 });
    } finally {
      victim.child.kill("SIGKILL");
      ss.destroy();
      await survivor.destroy();
    }
  }, 30_000);
});
