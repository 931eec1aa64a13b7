// Closed Step Functions executions are kept 90 days after they stop, as AWS keeps them, then
// deleted with their history, and their names are free again; running executions are never
// deleted. Driven by a fake clock on both stores, through @aws-sdk/client-sfn.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { retentionMs } from "../../src/sfn/execution.ts";
import type { Database } from "../../src/store/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTaskgate, stores, type Taskgate } from "../helpers/harness.ts";
import { closed, failure, machineWith, role, sfnClient } from "./sfn-client.ts";

const pass = { StartAt: "P", States: { P: { Type: "Pass", End: true } } };

describe.each(stores)("Step Functions execution retention (%s)", (kind) => {
  const gates: { tg: Taskgate; sfn: SFNClient }[] = [];
  afterEach(async () => {
    for (const { tg, sfn } of gates.splice(0)) {
      sfn.destroy();
      await tg.destroy();
    }
  });

  async function setup(): Promise<{ sfn: SFNClient; clock: FakeClock; db: Database }> {
    const clock = new FakeClock();
    let db: Database | undefined;
    const tg = await startTaskgate({ kind, clock, wrapDb: (d) => (db = d) });
    const sfn = sfnClient(tg.url);
    gates.push({ tg, sfn });
    return { sfn, clock, db: db! };
  }

  async function gone(sfn: SFNClient, executionArn: string): Promise<void> {
    await eventually(async () => expect((await failure(sfn.send(new DescribeExecutionCommand({ executionArn })))).name).toBe("ExecutionDoesNotExist"));
  }

  /** Still described (with `member` at `value`) 1 ms before its retention ends, gone at its end. */
  async function keptUntilRetentionEnds(sfn: SFNClient, clock: FakeClock, executionArn: string, member: "status" | "input", value: string): Promise<void> {
    clock.advance(retentionMs - 1);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn })))[member]).toBe(value);
    clock.advance(1);
    await gone(sfn, executionArn);
  }

  it("deletes a closed execution and its history 90 days after it stopped; its name is free again", async () => {
    const { sfn, clock } = await setup();
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: "m", definition: JSON.stringify(pass), roleArn: role }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "e1", input: '{"n":1}' }));
    const first = await closed(sfn, executionArn!);
    expect(first.status).toBe("SUCCEEDED");

    clock.advance(retentionMs - 1);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe("SUCCEEDED");
    expect((await sfn.send(new GetExecutionHistoryCommand({ executionArn }))).events!.length).toBeGreaterThan(0);
    // The name is still taken by the closed execution.
    expect((await failure(sfn.send(new StartExecutionCommand({ stateMachineArn, name: "e1", input: '{"n":2}' })))).name).toBe("ExecutionAlreadyExists");

    clock.advance(1);
    await gone(sfn, executionArn!);
    expect((await failure(sfn.send(new GetExecutionHistoryCommand({ executionArn })))).name).toBe("ExecutionDoesNotExist");
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toEqual([]);

    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "e1", input: '{"n":3}' }));
    expect(again.executionArn).toBe(executionArn);
    const second = await closed(sfn, executionArn!);
    expect(second.input).toBe('{"n":3}');
    expect(second.startDate!.getTime()).toBeGreaterThan(first.startDate!.getTime());
    // The new execution gets 90 days of its own.
    await keptUntilRetentionEnds(sfn, clock, executionArn!, "input", '{"n":3}');
  });

  it("never deletes a running execution; a stopped one goes 90 days after its stop", async () => {
    const { sfn, clock } = await setup();
    const { stateMachineArn } = await machineWith(sfn, "waits", (activityArn) => ({ StartAt: "T", States: { T: { Type: "Task", Resource: activityArn, End: true } } }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "r" }));
    clock.advance(2 * retentionMs);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe("RUNNING");

    await sfn.send(new StopExecutionCommand({ executionArn, error: "Stopped", cause: "by the test" }));
    expect((await closed(sfn, executionArn!)).status).toBe("ABORTED");
    await keptUntilRetentionEnds(sfn, clock, executionArn!, "status", "ABORTED");
  });

  it("keeps the executions of a deleted state machine until their own retention ends", async () => {
    const { sfn, clock } = await setup();
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: "d", definition: JSON.stringify(pass), roleArn: role }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "x" }));
    await closed(sfn, executionArn!);
    clock.advance(retentionMs / 2);
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn }));
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe("SUCCEEDED");
    clock.advance(retentionMs / 2);
    await gone(sfn, executionArn!);
  });

  it("arms the purge of executions that closed before retention existed (migration 011)", async () => {
    const { sfn, clock, db } = await setup();
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: "old", definition: JSON.stringify(pass), roleArn: role }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "o" }));
    const stopMs = (await closed(sfn, executionArn!)).stopDate!.getTime();
    // As a database from before: the closed execution without its purge timer.
    await db.tx((sql) => sql.run("DELETE FROM timers WHERE kind = 'sfn.retention'"));
    const migration = readFileSync(new URL(`../../src/store/migrations/${kind}/011_sfn_retention.sql`, import.meta.url), "utf8");
    await db.tx((sql) => sql.run(migration));
    const rows = await db.tx((sql) => sql.all("SELECT fire_ms, owner, ref FROM timers WHERE kind = 'sfn.retention'"));
    expect(rows.map((r) => ({ fire: Number(r.fire_ms), owner: r.owner, ref: r.ref }))).toEqual([{ fire: stopMs + retentionMs, owner: "sfn:old:o", ref: "retention" }]);
    // The timer loop learns of rows written behind its back at its next wake-up.
    clock.advance(retentionMs);
    await gone(sfn, executionArn!);
  });
});
