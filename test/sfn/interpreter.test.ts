// The Step Functions interpreter, table-driven: every case is data in
// test/sfn/fixtures/executions/*.json — a definition, an input, a script of events fed by the order
// of the activities scheduled and the timers started, and the expected history, commands and end.
// Between steps the state goes through JSON text, as the engine stores it, and no step may modify
// the state it was given.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDefinition } from "../../src/sfn/asl/parse.ts";
import type { Json, JsonObject } from "../../src/sfn/asl/json.ts";
import { openWork, start, step, type Command, type ExecutionContext, type ExecutionEvent, type ExecutionState, type HistoryEventOut, type InterpreterEnv, type StepResult } from "../../src/sfn/interpreter/index.ts";

const dir = join(import.meta.dirname, "fixtures/executions");

/** One line of a case's script: a worker outcome for the n-th scheduled activity, a timer firing, or StopExecution. */
interface ScriptLine {
  /** Index (0-based) of the scheduleActivity command, in the order issued over the whole execution. */
  task?: number;
  started?: string | true;
  succeed?: Json;
  /** Output as raw JSON text (instead of succeed). */
  succeedText?: string;
  fail?: { error?: string; cause?: string };
  timedOut?: "heartbeat" | "timeout";
  scheduleFailed?: { error: string; cause: string };
  /** Index (0-based) of the startTimer command, in the order issued; the clock moves to its fireAtMs. */
  timer?: number;
  stop?: { error?: string; cause?: string };
  /** The clock, in ms after the start, for this line. */
  atMs?: number;
  /** The event must change nothing (stale ref, closed execution). */
  ignored?: boolean;
}

interface Case {
  name: string;
  definition: JsonObject;
  input?: Json;
  inputText?: string;
  random?: number;
  script?: ScriptLine[];
  expect: {
    status: StepResult["status"];
    output?: Json;
    /** The output matched partially. */
    outputMatch?: JsonObject;
    error?: string;
    /** The result has no error and no cause. */
    noError?: boolean;
    cause?: string;
    causeContains?: string;
    /** Every history event type in order. */
    events?: string[];
    /** Partial details by event id. */
    details?: Record<string, JsonObject>;
    /** Whole details by event id. */
    detailsExact?: Record<string, JsonObject>;
    /** Every command over the execution in order, each matched partially. */
    commands?: JsonObject[];
    /** Only the number of events. */
    eventCount?: number;
  };
}

const START_MS = Date.UTC(2024, 0, 1);

const ctx: ExecutionContext = {
  executionArn: "arn:aws:states:us-east-1:123456789012:execution:M:e1",
  executionName: "e1",
  stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:M",
  stateMachineName: "M",
  roleArn: "arn:aws:iam::123456789012:role/R",
  startTimeMs: START_MS,
};

function cases(): { file: string; c: Case }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .flatMap((file) => (JSON.parse(readFileSync(join(dir, file), "utf8")) as { cases: Case[] }).cases.map((c) => ({ file, c })));
}

function toEvent(line: ScriptLine, tasks: string[], timers: string[]): ExecutionEvent {
  if (line.stop !== undefined) return { type: "stop", ...line.stop };
  if (line.timer !== undefined) return { type: "timerFired", timerRef: timers[line.timer] ?? "missing" };
  const taskRef = tasks[line.task ?? 0] ?? "missing";
  if (line.started !== undefined) return { type: "taskStarted", taskRef, ...(line.started === true ? {} : { workerName: line.started }) };
  if (line.succeed !== undefined) return { type: "taskSucceeded", taskRef, output: JSON.stringify(line.succeed) };
  if (line.succeedText !== undefined) return { type: "taskSucceeded", taskRef, output: line.succeedText };
  if (line.fail !== undefined) return { type: "taskFailed", taskRef, ...line.fail };
  if (line.timedOut !== undefined) return { type: "taskTimedOut", taskRef, heartbeat: line.timedOut === "heartbeat" };
  if (line.scheduleFailed !== undefined) return { type: "taskScheduleFailed", taskRef, ...line.scheduleFailed };
  throw new Error(`A script line names no event: ${JSON.stringify(line)}`);
}

describe("Step Functions interpreter", () => {
  for (const { file, c } of cases()) {
    it(`${file}: ${c.name}`, async () => {
      const parsed = parseDefinition(JSON.stringify(c.definition));
      expect(parsed.diagnostics.filter((d) => d.severity === "ERROR")).toEqual([]);
      const machine = parsed.machine!;
      let uuids = 0;
      let now = START_MS;
      const env = (): InterpreterEnv => ({ nowMs: now, hash: (a, d) => `${a}:${d}`, uuid: () => `uuid-${++uuids}`, random: () => c.random ?? 0.5 });
      const events: HistoryEventOut[] = [];
      const commands: Command[] = [];
      const tasks: string[] = [];
      const timers: string[] = [];
      const record = (r: StepResult): void => {
        events.push(...r.events);
        commands.push(...r.commands);
        for (const cmd of r.commands) {
          if (cmd.type === "scheduleActivity") tasks.push(cmd.taskRef);
          if (cmd.type === "startTimer") timers.push(cmd.timerRef);
        }
      };
      let result = await start(machine, ctx, c.inputText ?? JSON.stringify(c.input ?? {}), env());
      record(result);
      let stored = JSON.stringify(result.state);
      const finished = new Set<string>();
      for (const line of c.script ?? []) {
        if (line.atMs !== undefined) now = START_MS + line.atMs;
        if (line.timer !== undefined) {
          const cmd = commands.find((x): x is Extract<Command, { type: "startTimer" }> => x.type === "startTimer" && x.timerRef === timers[line.timer!]);
          if (cmd !== undefined && line.atMs === undefined) now = Math.max(now, cmd.fireAtMs);
        }
        const state = JSON.parse(stored) as ExecutionState;
        const before = JSON.stringify(state);
        const event = toEvent(line, tasks, timers);
        if (event.type === "timerFired") finished.add(event.timerRef);
        if (event.type !== "stop" && event.type !== "timerFired" && event.type !== "taskStarted") finished.add(event.taskRef);
        const r = await step(machine, ctx, state, event, env());
        expect(JSON.stringify(state), "step must not modify the state it is given").toBe(before);
        if (line.ignored === true) {
          expect(r.events).toEqual([]);
          expect(r.commands).toEqual([]);
          expect(JSON.stringify(r.state)).toBe(before);
        }
        record(r);
        if (line.ignored !== true) result = r;
        stored = JSON.stringify(r.state);
      }
      // Every task and timer opened is finished by an event, cancelled, or still open (and then reported by openWork).
      for (const cmd of commands) if (cmd.type === "cancelActivity" || cmd.type === "cancelTimer") finished.add(cmd.type === "cancelActivity" ? cmd.taskRef : cmd.timerRef);
      const stillOpen = [...tasks, ...timers].filter((ref) => !finished.has(ref)).sort();
      const work = openWork(JSON.parse(stored) as ExecutionState);
      expect([...work.tasks, ...work.timers].sort(), "open tasks and timers").toEqual(stillOpen);
      const x = c.expect;
      const ids = events.map((e) => e.id);
      expect(ids, "event ids are consecutive from 1").toEqual(ids.map((_, i) => i + 1));
      if (x.events !== undefined) expect(events.map((e) => e.type)).toEqual(x.events);
      if (x.eventCount !== undefined) expect(events.length).toBe(x.eventCount);
      for (const [id, details] of Object.entries(x.details ?? {})) {
        const e = events[Number(id) - 1];
        expect(e, `event ${id}`).toBeDefined();
        expect(e.details ?? {}, `details of event ${id} (${e.type})`).toMatchObject(details);
      }
      for (const [id, details] of Object.entries(x.detailsExact ?? {})) {
        expect(events[Number(id) - 1]?.details ?? {}, `details of event ${id}`).toEqual(details);
      }
      if (x.commands !== undefined) {
        expect(commands.length, JSON.stringify(commands)).toBe(x.commands.length);
        commands.forEach((cmd, i) => expect(cmd, `command ${i}`).toMatchObject(x.commands![i]));
      }
      expect(result.status).toBe(x.status);
      expect(result.state.status).toBe(x.status);
      if (x.output !== undefined) expect(JSON.parse(result.output ?? "null")).toEqual(x.output);
      if (x.outputMatch !== undefined) expect(JSON.parse(result.output ?? "null")).toMatchObject(x.outputMatch);
      if (x.error !== undefined) expect(result.error).toBe(x.error);
      if (x.cause !== undefined) expect(result.cause).toBe(x.cause);
      if (x.noError === true) expect([result.error, result.cause]).toEqual([undefined, undefined]);
      if (x.causeContains !== undefined) expect(result.cause).toContain(x.causeContains);
      if (x.status !== "RUNNING") {
        const last = events[events.length - 1];
        expect(last.type).toBe({ SUCCEEDED: "ExecutionSucceeded", FAILED: "ExecutionFailed", ABORTED: "ExecutionAborted", TIMED_OUT: "ExecutionTimedOut" }[x.status]);
      }
    });
  }
});
